"""Records in columns: the bulk form that pages, streams and reports hold.

A :class:`RecordTable` is a read-only sequence of :class:`~usagekit.UsageRecord`. Underneath it
keeps what the records of one result share once (a *group*: provider, source, interval,
dimensions, attributes and the shared half of the id) and, per record, only three small
numbers: the group, the measure (metric, unit, kind) and the quantity. A year of hourly usage
(2.6 million records) takes about 60 bytes a record this way, against about a kilobyte as
objects. ``UsageRecord`` objects are built only when a caller iterates or indexes the table;
they are exactly those :meth:`UsageRecord.trusted_many` builds: the same ids, the same
``Decimal`` quantities, a fresh ``attributes`` dict each.

Exports, totals, the store and the pandas frame read the columns directly (:meth:`rows` gives
plain tuples, :meth:`group_index`/:meth:`groups` the groups). Quantities that are whole
numbers in the int64 range with exponent 0 (every count) are kept in an ``array`` of int64;
any other ``Decimal`` (money, ``Decimal("5.0")``, ``-0``) is kept as it is.

Nothing here does I/O.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final, overload

from ._table_read import all_records, one_row
from .records import Measure, MetricKind, UsageRecord, _id_prefix, _id_suffix

__all__ = [
    "G_ATTRIBUTES",
    "G_DIMENSIONS",
    "G_END",
    "G_PREFIX",
    "G_PROVIDER",
    "G_SOURCE",
    "G_START",
    "Group",
    "RecordTable",
    "Row",
]

Group = tuple[
    str,  # the shared half of the id (32 hex characters)
    str,  # provider
    str,  # source
    datetime,  # start
    datetime,  # end
    str | None,  # organization_id
    str | None,  # project_id
    str | None,  # user_id
    str | None,  # user_email
    str | None,  # api_key_id
    str | None,  # model
    str | None,  # line_item
    int,  # attributes: their number in the table's attribute_sets() (0: none)
]
"""What the records of one result share, in this order (see the ``G_*`` positions).

A group holds its attributes by number, not the dict itself: a tuple of strings, datetimes,
None and ints is one the garbage collector stops tracking, so a report of millions of records
(a group a result) costs its full collections nothing (with the dict, each one walked every
group: CPU per record grew with the report)."""

G_PREFIX: Final = 0
G_PROVIDER: Final = 1
G_SOURCE: Final = 2
G_START: Final = 3
G_END: Final = 4
G_DIMENSIONS: Final = 5
"""The first of the seven dimensions (they end before ``G_ATTRIBUTES``)."""
G_ATTRIBUTES: Final = 12

Row = tuple[
    str,
    str,
    str,
    datetime,
    datetime,
    str,
    Decimal,
    str,
    MetricKind,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    dict[str, str],
]
"""One record as a plain tuple, in :class:`UsageRecord` field order: ``id, provider, source,
start, end, metric, quantity, unit, kind``, the seven dimensions, ``attributes`` (shared with
the table: never mutate it)."""

_INT64 = (-(2**63), 2**63 - 1)
_EMPTY: dict[str, str] = {}


def _as_int(quantity: Decimal) -> int | None:
    """The int whose ``Decimal`` is exactly ``quantity`` (same exponent, sign), or None."""
    sign, digits, exponent = quantity.as_tuple()
    if exponent != 0 or (sign and digits == (0,)):
        return None
    value = int(quantity)
    return value if _INT64[0] <= value <= _INT64[1] else None


class RecordTable(Sequence[UsageRecord]):
    """Records held as columns; a sequence of :class:`UsageRecord` built on access.

    Build one with :meth:`from_records`, or group by group with :meth:`add` (as the providers'
    normalizers do) and :meth:`extend` (as reports do). Once handed out a table is not changed.
    """

    __slots__ = (
        "_attr_ids",
        "_attr_sets",
        "_attrs",
        "_decimals",
        "_extra",
        "_first",
        "_groups",
        "_index",
        "_ints",
        "_measure_codes",
        "_measures",
        "_open",
        "_row_attrs",
        "_row_group",
        "_row_measure",
        "_strings",
        "_unique",
    )

    def __init__(self, *, unique: bool = False) -> None:
        """An empty table.

        Args:
            unique: The caller guarantees each id is added once (a normalized page after its
                stream's repeats were dropped); :meth:`extend` then skips looking for repeats.
        """
        self._unique = unique
        self._open = -1  # the group whose first run of rows is still the table's end
        self._groups: list[Group] = []
        self._first: array[int] = array("Q")  # the first row of each group
        self._row_group: array[int] = array("I")
        self._row_measure: array[int] = array("H")
        self._ints: array[int] = array("q")
        self._decimals: dict[int, Decimal] = {}  # rows whose quantity is not a plain int
        self._row_attrs: dict[int, dict[str, str]] = {}  # rows whose attributes differ
        self._extra: dict[int, list[int]] = {}  # rows added to a group after its first run
        self._measures: list[tuple[str, str, MetricKind, str]] = []
        self._measure_codes: dict[tuple[str, str, str], int] = {}
        self._index: dict[str, int] | None = None  # prefix -> group, built for extend()
        self._strings: dict[str, str] = {}  # one copy of each dimension value
        self._attrs: dict[tuple[tuple[str, str], ...], int] = {}  # items -> number
        self._attr_sets: list[dict[str, str]] = [_EMPTY]  # number -> the shared dict
        self._attr_ids: dict[int, int] = {id(_EMPTY): 0}  # id of a shared dict -> number

    # -- building ---------------------------------------------------------------------------

    def measure_code(self, metric: str, unit: str, kind: MetricKind) -> int:
        """The table's code for a measure, added on first use.

        Args:
            metric: The metric name.
            unit: Its unit.
            kind: ``"flow"`` or ``"level"``.

        Returns:
            The code to pass to :meth:`add_codes`.
        """
        key = (metric, unit, kind)
        code = self._measure_codes.get(key)
        if code is None:
            code = len(self._measures)
            self._measures.append((metric, unit, kind, _id_suffix(metric, unit, kind)))
            self._measure_codes[key] = code
        return code

    def intern(self, value: str | None) -> str | None:
        """One shared copy of a dimension value (pages repeat the same few thousand)."""
        if value is None:
            return None
        return self._strings.setdefault(value, value)

    def shared_attributes(self, attributes: dict[str, str]) -> dict[str, str]:
        """One shared dict per distinct set of attributes (never mutated afterwards)."""
        return self._attr_sets[self.attribute_number(attributes)]

    def attribute_number(self, attributes: dict[str, str]) -> int:
        """The number of a set of attributes in :meth:`attribute_sets` (added on first use).

        Args:
            attributes: A dict (kept as the shared one when its set is new: never mutate it).

        Returns:
            Its number (0 for none).
        """
        number = self._attr_ids.get(id(attributes))  # a shared dict (kept alive by the list)
        if number is not None:
            return number
        if not attributes:
            return 0
        key = tuple(attributes.items())
        number = self._attrs.get(key)
        if number is None:
            number = self._attrs[key] = len(self._attr_sets)
            self._attr_sets.append(attributes)
            self._attr_ids[id(attributes)] = number
        return number

    def attribute_sets(self) -> list[dict[str, str]]:
        """The distinct attributes of the table's groups, by number (``group[G_ATTRIBUTES]``);
        shared: never mutate."""
        return self._attr_sets

    def add_group(
        self,
        provider: str,
        source: str,
        start: datetime,
        end: datetime,
        dimensions: tuple[str | None, ...],
        attributes: dict[str, str],
    ) -> int:
        """Add the shared part of one result's records (call :meth:`add_row` for each after).

        The caller guarantees what :class:`UsageRecord` validation would check (aware UTC
        datetimes with ``end > start``, non-empty names, an upper-case currency for cost).

        Args:
            provider: The provider.
            source: The endpoint.
            start: Interval start, aware UTC.
            end: Interval end, aware UTC.
            dimensions: The seven values of :data:`usagekit.DIMENSIONS`, in order.
            attributes: Provider-specific dimensions (kept shared; never mutated).

        Returns:
            The group's number.
        """
        return self.add_hashed_group(
            _id_prefix(provider, source, start, end, dimensions, attributes),
            provider,
            source,
            start,
            end,
            dimensions,
            attributes,
        )

    def add_hashed_group(
        self,
        prefix: str,
        provider: str,
        source: str,
        start: datetime,
        end: datetime,
        dimensions: tuple[str | None, ...],
        attributes: dict[str, str],
    ) -> int:
        """:meth:`add_group` with the group's id prefix computed by the caller.

        Args:
            prefix: ``_id_prefix(provider, source, start, end, dimensions, attributes)``.
            provider: The provider.
            source: The endpoint.
            start: Interval start, aware UTC.
            end: Interval end, aware UTC.
            dimensions: The seven values of :data:`usagekit.DIMENSIONS`, in order (interned
                with :meth:`intern`).
            attributes: Provider-specific dimensions (from :meth:`shared_attributes`).

        Returns:
            The group's number.
        """
        number = len(self._groups)
        self._groups.append(
            (prefix, provider, source, start, end, *dimensions, self.attribute_number(attributes))  # type: ignore[arg-type]
        )
        self._first.append(len(self._row_group))
        self._open = -1  # a row of an earlier group from now on is outside its first run
        return number

    def add_row(self, group: int, code: int, quantity: Decimal | int) -> None:
        """Add one record of the last group added.

        Args:
            group: The number :meth:`add_group` returned.
            code: The measure's :meth:`measure_code`.
            quantity: The amount: an ``int`` (kept as such) or a finite ``Decimal``.
        """
        row = len(self._row_group)
        if group != self._open:
            if row == self._first[group]:
                self._open = group
            else:  # a row of a group whose first run is over (a repeat merged by extend)
                self._extra.setdefault(group, []).append(row)
                self._open = -1
        self._row_group.append(group)
        self._row_measure.append(code)
        if type(quantity) is int and _INT64[0] <= quantity <= _INT64[1]:
            self._ints.append(quantity)
            return
        if type(quantity) is not int:
            value = _as_int(quantity)  # type: ignore[arg-type]
            if value is not None:
                self._ints.append(value)
                return
        self._ints.append(0)
        self._decimals[row] = Decimal(quantity)

    def add_counts(self, group: int, codes: Sequence[int], counts: Sequence[int]) -> None:
        """Add the records of the group just added whose quantities are all plain ints.

        The bulk form of :meth:`add_row` for a result's counts (the hot path of usage pages).

        Args:
            group: The number :meth:`add_group` just returned.
            codes: Each record's :meth:`measure_code`.
            counts: Each record's quantity, an ``int``.
        """
        if self._first[group] != len(self._row_group) or group != len(self._groups) - 1:
            for code, count in zip(codes, counts, strict=True):
                self.add_row(group, code, count)
            return
        try:
            ints = array("q", counts)
        except OverflowError:  # beyond int64: kept as Decimals, one by one
            for code, count in zip(codes, counts, strict=True):
                self.add_row(group, code, count)
            return
        self._open = group
        self._row_group.extend(array("I", [group]) * len(counts))
        self._row_measure.extend(array("H", codes))
        self._ints.extend(ints)

    def add(
        self,
        measures: Iterable[Measure],
        *,
        provider: str,
        source: str,
        start: datetime,
        end: datetime,
        organization_id: str | None = None,
        project_id: str | None = None,
        user_id: str | None = None,
        user_email: str | None = None,
        api_key_id: str | None = None,
        model: str | None = None,
        line_item: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        """Add the records of one result, with the arguments of :meth:`UsageRecord.trusted_many`.

        Args:
            measures: ``(metric, quantity, unit, kind)`` for each record.
            provider: The provider name.
            source: The endpoint name.
            start: Interval start, aware UTC.
            end: Interval end, aware UTC.
            organization_id: Organization dimension.
            project_id: Project dimension.
            user_id: User dimension.
            user_email: User e-mail dimension.
            api_key_id: API key dimension.
            model: Model dimension.
            line_item: Line item dimension.
            attributes: Provider-specific dimensions.
        """
        measures = list(measures)
        if not measures:
            return
        intern = self.intern
        dimensions = (
            intern(organization_id),
            intern(project_id),
            intern(user_id),
            intern(user_email),
            intern(api_key_id),
            intern(model),
            intern(line_item),
        )
        group = self.add_group(
            provider, source, start, end, dimensions, self.shared_attributes(attributes or {})
        )
        for metric, quantity, unit, kind in measures:
            self.add_row(group, self.measure_code(metric, unit, kind), quantity)

    @classmethod
    def from_records(cls, records: Iterable[UsageRecord], *, unique: bool = False) -> RecordTable:
        """A table of the given records, in order.

        Args:
            records: Any records.
            unique: Keep one record per id: at the position of its first occurrence, with the
                value (quantity and attributes) of its last, as a dict keyed by id would.

        Returns:
            The table.
        """
        return _merge.from_records(cls, records, unique=unique)

    def extend(self, other: RecordTable) -> None:
        """Append another table's records, keeping one record per id (see :meth:`from_records`).

        Args:
            other: The records to add (left unchanged).
        """
        _merge.extend(self, other)

    def subset(self, rows: Iterable[int]) -> RecordTable:
        """A table of some of this table's records (by row number, in the order given).

        Args:
            rows: Row numbers, each at most once.

        Returns:
            The new table (it shares groups' values, never mutated).
        """
        return _merge.replace(self, rows, {})

    def replace(
        self, rows: Iterable[int], replacements: Mapping[int, Sequence[UsageRecord]]
    ) -> RecordTable:
        """A table of this table's rows in the order given, some replaced by other records.

        Args:
            rows: Row numbers, each at most once.
            replacements: Row number to the records that take its place (the pieces an
                allocated cost is split into).

        Returns:
            The new table; it holds one record per id when this one does and the
            replacements are new ids.
        """
        return _merge.replace(self, rows, replacements)

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._row_group)

    @overload
    def __getitem__(self, index: int) -> UsageRecord: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[UsageRecord, ...]: ...

    def __getitem__(self, index: int | slice) -> UsageRecord | tuple[UsageRecord, ...]:
        if isinstance(index, slice):
            return tuple(self._record(row) for row in range(len(self))[index])
        size = len(self)
        if not -size <= index < size:
            raise IndexError("record index out of range")
        return self._record(index % size if index < 0 else index)

    def __iter__(self) -> Iterator[UsageRecord]:
        return all_records(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordTable):
            return len(self) == len(other) and all(
                a == b for a, b in zip(self.rows(), other.rows(), strict=True)
            )
        if isinstance(other, (tuple, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(row[0] for row in self.rows()))

    def __repr__(self) -> str:
        return f"<RecordTable: {len(self):,} records in {len(self._groups):,} groups>"

    def _record(self, row: int) -> UsageRecord:
        return next(all_records(self, row, row + 1))

    def row(self, row: int) -> Row:
        """One record as a plain tuple (see :data:`Row`), without building the record.

        Args:
            row: The record's number.

        Returns:
            Its fields in :class:`UsageRecord` order; ``attributes`` is shared: never mutate it.
        """
        return one_row(self, row)

    def rows(self) -> Iterator[Row]:
        """Every record as a plain tuple (see :meth:`row`), without building records.

        Yields:
            One tuple per record, in order; ``attributes`` is shared: never mutate it.
        """
        row = self.row
        for number in range(len(self._row_group)):
            yield row(number)

    def where(self, keep: Callable[[UsageRecord], bool]) -> RecordTable:
        """The records for which ``keep`` is true, deciding once per group and measure.

        Args:
            keep: A test of a record's fields other than its quantity (a dimension, the
                metric): it sees one record of each group and measure, whose answer stands
                for all of them.

        Returns:
            A table of the records kept, in order.
        """
        overrides = self._row_attrs
        decided: dict[tuple[int, int, int], bool] = {}
        kept: list[int] = []
        for row, (group, code) in enumerate(zip(self._row_group, self._row_measure, strict=True)):
            key = (group, code, row if overrides and row in overrides else -1)
            answer = decided.get(key)
            if answer is None:
                answer = decided[key] = keep(self._record(row))
            if answer:
                kept.append(row)
        return self.subset(kept)

    def of_metric(self, metric: str) -> Iterator[UsageRecord]:
        """The records of one metric (``"cost"``), built as objects; the others are skipped.

        Args:
            metric: The metric name.

        Yields:
            The records of that metric, in order.
        """
        codes = {code for code, measure in enumerate(self._measures) if measure[0] == metric}
        if not codes:
            return
        record = self._record
        for row, code in enumerate(self._row_measure):
            if code in codes:
                yield record(row)

    def groups(self) -> list[Group]:
        """The groups, by number (shared: never mutate)."""
        return self._groups

    def group_spans(self) -> Iterator[tuple[int, int]]:
        """Each group's rows as ``(first, end)``, when every group's rows are in one run.

        Yields:
            One span per group, by number (``first == end`` for a group without rows).

        Raises:
            ValueError: Some group has rows outside its first run (a table built by
                :meth:`extend` with repeats); read :meth:`group_index` instead.
        """
        if self._extra:
            raise ValueError("this table's groups are not in runs")
        firsts, total = self._first, len(self._row_group)
        for number in range(len(firsts)):
            yield firsts[number], firsts[number + 1] if number + 1 < len(firsts) else total

    def group_starts(self) -> array[int]:
        """Each group's first row, when every group's rows are in one run.

        Returns:
            The first rows (``array("Q")``, by group number; shared: never mutate).

        Raises:
            ValueError: Some group has rows outside its first run (see :meth:`group_spans`).
        """
        if self._extra:
            raise ValueError("this table's groups are not in runs")
        return self._first

    def group_index(self) -> array[int]:
        """Each record's group number (``array("I")``)."""
        return self._row_group

    def measure_index(self) -> array[int]:
        """Each record's measure code (``array("H")``), an index into :meth:`measures`."""
        return self._row_measure

    def measures(self) -> list[tuple[str, str, MetricKind, str]]:
        """``(metric, unit, kind, id suffix)`` by code."""
        return self._measures

    def int_quantities(self) -> array[int]:
        """Each record's quantity as int64 (``array("q")``); see :meth:`decimal_quantities`."""
        return self._ints

    def decimal_quantities(self) -> dict[int, Decimal]:
        """The rows whose quantity is not a plain int, and their ``Decimal`` (0 in the ints)."""
        return self._decimals

    def row_attributes(self) -> dict[int, dict[str, str]]:
        """The rows whose attributes differ from their group's, and theirs."""
        return self._row_attrs

    def quantity(self, row: int) -> Decimal:
        """The quantity of one record, exact."""
        value = self._decimals.get(row)
        return Decimal(self._ints[row]) if value is None else value


from . import _table_merge as _merge  # noqa: E402  (it builds on RecordTable)
