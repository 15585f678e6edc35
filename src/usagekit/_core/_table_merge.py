"""How :class:`~usagekit._core.table.RecordTable` objects are built from records and merged.

Kept apart from the table's reading side: :meth:`RecordTable.from_records`,
:meth:`RecordTable.extend`, :meth:`RecordTable.subset` and :meth:`RecordTable.replace` call
these. Merging keeps one record per id, at the place of its first occurrence with the value of
its last, as a dict keyed by id would.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import repeat
from operator import add
from typing import Any

from .records import DERIVED_ATTRIBUTES, MEASURE_ATTRIBUTES, UsageRecord
from .table import G_ATTRIBUTES, G_DIMENSIONS, G_PREFIX, RecordTable, _as_int

__all__ = [
    "add_count_groups",
    "append",
    "extend",
    "find",
    "from_records",
    "replace",
    "set_quantity",
]


def from_records(
    cls: type[RecordTable], records: Iterable[UsageRecord], *, unique: bool = False
) -> RecordTable:
    """A table of the given records, in order."""
    if isinstance(records, RecordTable):
        if not unique or records._unique:  # tables are not changed once handed out
            return records
        table = cls(unique=True)
        table.extend(records)
        return table
    plain = cls()
    last: tuple[Any, ...] | None = None
    group = -1
    for record in records:
        fields = record.__dict__
        key = (
            fields["provider"],
            fields["source"],
            fields["start"],
            fields["end"],
            *(fields[name] for name in _DIMENSION_FIELDS),
            _identity(fields["attributes"]),
        )
        attributes = fields["attributes"]
        if key != last:
            last = key
            group = plain.add_group(
                fields["provider"],
                fields["source"],
                fields["start"],
                fields["end"],
                tuple(plain.intern(fields[name]) for name in _DIMENSION_FIELDS),
                plain.shared_attributes(dict(attributes)),
            )
        row = len(plain._row_group)
        plain.add_row(
            group,
            plain.measure_code(fields["metric"], fields["unit"], fields["kind"]),
            fields["quantity"],
        )
        if attributes != plain._attr_sets[plain._groups[group][G_ATTRIBUTES]]:
            plain._row_attrs[row] = dict(attributes)
    if not unique:
        return plain
    table = cls(unique=True)
    table.extend(plain)
    return table


def extend(into: RecordTable, other: RecordTable) -> None:
    """Append another table's records, keeping one record per id (see :meth:`from_records`)."""
    if not into._groups:
        into._unique = True  # built by extend alone: one record per id
    if into._index is None:
        into._index = {}
        for number, group in enumerate(into._groups):
            into._index.setdefault(group[G_PREFIX], number)
    index = into._index
    if other._unique and not any(group[G_PREFIX] in index for group in other._groups):
        append(into, other)
        return
    codes = [into.measure_code(metric, unit, kind) for metric, unit, kind, _ in other._measures]
    intern = into.intern
    mapped: dict[int, tuple[int, bool]] = {}  # other's group -> ours, and whether new
    row_group, row_measure, ints = other._row_group, other._row_measure, other._ints
    decimals, row_attrs, their_groups = other._decimals, other._row_attrs, other._groups
    numbers = [into.attribute_number(attributes) for attributes in other._attr_sets]
    our_sets = into._attr_sets
    trusted = other._unique
    for row in range(len(row_group)):
        theirs = row_group[row]
        known = mapped.get(theirs)
        if known is None:
            group = their_groups[theirs]
            ours = index.get(group[G_PREFIX])
            fresh = ours is None
            if ours is None:
                ours = len(into._groups)
                into._groups.append(
                    (
                        *group[:5],
                        *(intern(value) for value in group[G_DIMENSIONS:G_ATTRIBUTES]),
                        numbers[group[G_ATTRIBUTES]],
                    )  # type: ignore[arg-type]
                )
                into._first.append(len(into._row_group))
                index[group[G_PREFIX]] = ours
            mapped[theirs] = (ours, fresh)
        else:
            ours, fresh = known
        code = codes[row_measure[row]]
        value = decimals.get(row) if decimals else None
        quantity: Decimal | int = ints[row] if value is None else value
        attributes = row_attrs.get(row) if row_attrs else None
        target = None if fresh and trusted else find(into, ours, code)
        if target is None:
            target = len(into._row_group)
            into.add_row(ours, code, quantity)
        else:
            set_quantity(into, target, quantity)
            into._row_attrs.pop(target, None)
        ours_number = into._groups[ours][G_ATTRIBUTES]
        if attributes is None:
            theirs_number = numbers[their_groups[theirs][G_ATTRIBUTES]]
            if theirs_number == ours_number or fresh:
                continue
            attributes = our_sets[theirs_number]
        if attributes != our_sets[ours_number]:
            into._row_attrs[target] = dict(attributes)


def append(into: RecordTable, other: RecordTable) -> None:
    """Append a table none of whose ids this one holds, column by column."""
    assert into._index is not None
    index, intern = into._index, into.intern
    numbers = [into.attribute_number(attributes) for attributes in other._attr_sets]
    groups, rows = len(into._groups), len(into._row_group)
    interned: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # a page repeats a few dimensions
    add_group = into._groups.append
    for number, group in enumerate(other._groups, groups):
        dimensions = group[G_DIMENSIONS:G_ATTRIBUTES]
        ours = interned.get(dimensions)
        if ours is None:
            ours = interned[dimensions] = tuple(map(intern, dimensions))
        add_group((*group[:5], *ours, numbers[group[G_ATTRIBUTES]]))
        index.setdefault(group[G_PREFIX], number)
    into._first.extend(array("Q", map(add, other._first, repeat(rows))))
    into._row_group.extend(array("I", map(add, other._row_group, repeat(groups))))
    codes = [into.measure_code(metric, unit, kind) for metric, unit, kind, _ in other._measures]
    if codes == list(range(len(codes))):
        into._row_measure.extend(other._row_measure)
    else:
        into._row_measure.extend(array("H", [codes[code] for code in other._row_measure]))
    into._ints.extend(other._ints)
    for row, value in other._decimals.items():
        into._decimals[row + rows] = value
    for row, attributes in other._row_attrs.items():
        into._row_attrs[row + rows] = attributes
    for number, extra in other._extra.items():
        into._extra[number + groups] = [row + rows for row in extra]
    if len(other._row_group):
        last = other._row_group[-1]
        into._open = last + groups if last not in other._extra else -1


def replace(
    source: RecordTable, rows: Iterable[int], replacements: Mapping[int, Sequence[UsageRecord]]
) -> RecordTable:
    """A table of this table's rows in the order given, some replaced by other records."""
    # new records may repeat an id the table holds: only a plain subset stays unique
    table = type(source)(unique=source._unique and not replacements)
    # the same attribute numbers as the source's, so that its groups are taken as they are
    table._attr_sets = list(source._attr_sets)
    table._attrs = dict(source._attrs)
    table._attr_ids = dict(source._attr_ids)
    mapped: dict[int, int] = {}
    groups, row_group, codes = source._groups, source._row_group, source._row_measure
    for row in rows:
        pieces = replacements.get(row)
        if pieces is not None:
            for piece in pieces:
                fields = piece.__dict__
                table.add(
                    ((fields["metric"], fields["quantity"], fields["unit"], fields["kind"]),),
                    provider=fields["provider"],
                    source=fields["source"],
                    start=fields["start"],
                    end=fields["end"],
                    organization_id=fields["organization_id"],
                    project_id=fields["project_id"],
                    user_id=fields["user_id"],
                    user_email=fields["user_email"],
                    api_key_id=fields["api_key_id"],
                    model=fields["model"],
                    line_item=fields["line_item"],
                    attributes=dict(fields["attributes"]),
                )
            continue
        theirs = row_group[row]
        ours = mapped.get(theirs)
        if ours is None:
            ours = len(table._groups)
            table._groups.append(groups[theirs])
            table._first.append(len(table._row_group))
            mapped[theirs] = ours
        metric, unit, kind, _ = source._measures[codes[row]]
        target = len(table._row_group)
        table.add_row(ours, table.measure_code(metric, unit, kind), source.quantity(row))
        attributes = source._row_attrs.get(row)
        if attributes is not None:
            table._row_attrs[target] = attributes
    return table


def find(into: RecordTable, group: int, code: int) -> int | None:
    """The row of ``group`` with measure ``code``, or None."""
    first, rows, measures = into._first[group], into._row_group, into._row_measure
    row = first
    while row < len(rows) and rows[row] == group:
        if measures[row] == code:
            return row
        row += 1
    for row in into._extra.get(group, ()):
        if measures[row] == code:
            return row
    return None


def set_quantity(into: RecordTable, row: int, quantity: Decimal | int) -> None:
    """Replace the quantity of one row."""
    into._decimals.pop(row, None)
    if type(quantity) is int:
        into._ints[row] = quantity
        return
    value = _as_int(quantity)  # type: ignore[arg-type]
    if value is None:
        into._ints[row] = 0
        into._decimals[row] = quantity  # type: ignore[assignment]
    else:
        into._ints[row] = value


_DIMENSION_FIELDS = (
    "organization_id",
    "project_id",
    "user_id",
    "user_email",
    "api_key_id",
    "model",
    "line_item",
)


def _identity(attributes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The attributes that take part in the id (what groups records of one result)."""
    if not attributes:
        return ()
    return tuple(
        sorted(
            (key, value)
            for key, value in attributes.items()
            if key not in MEASURE_ATTRIBUTES and key not in DERIVED_ATTRIBUTES
        )
    )


def add_count_groups(
    into: RecordTable, groups: Sequence[tuple[Any, ...]], codes: Sequence[int], counts: list[int]
) -> None:
    """Add groups whose records all have the same measures and plain int quantities, at once.

    The bulk form of ``add_hashed_group`` then ``add_counts`` for each group (a usage bucket
    whose results all sent every count): the groups' rows come in runs, group after group.

    Args:
        into: The table (the groups come after every row it has).
        groups: The groups, as the table keeps them (prefix, provider, source, start, end, the
            seven dimensions interned, the attributes' number).
        codes: Each group's records' measure codes, in order (the same for every group).
        counts: The quantities, group after group (``len(groups) * len(codes)`` of them).
    """
    width, number = len(codes), len(groups)
    try:
        ints = array("q", counts)
    except OverflowError:  # beyond int64: each group the one-by-one way (kept as Decimals)
        for position, group in enumerate(groups):
            added = into.add_hashed_group(
                group[G_PREFIX],
                group[1],
                group[2],
                group[3],
                group[4],
                group[G_DIMENSIONS:G_ATTRIBUTES],
                into.attribute_sets()[group[G_ATTRIBUTES]],
            )
            into.add_counts(added, codes, counts[position * width : (position + 1) * width])
        return
    first_group, first_row = len(into._groups), len(into._row_group)
    into._groups.extend(groups)
    into._first.extend(range(first_row, first_row + number * width, width))
    numbers = array("I", range(first_group, first_group + number))
    if width == 1:
        into._row_group.extend(numbers)
    else:
        runs = array("I", bytes(4 * number * width))
        for position in range(width):
            runs[position::width] = numbers
        into._row_group.extend(runs)
    into._row_measure.extend(array("H", codes) * number)
    into._ints.extend(ints)
    into._open = first_group + number - 1
