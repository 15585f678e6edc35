"""The repeat check of a stream of record tables: each record emitted once (see
:class:`UniqueRecords`)."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import itemgetter

from ._held import (
    _digest,
    _Held,
    _held_digest,
    _held_items,
    _held_of,
    _held_size,
    _Name,
    _Run,
    _run,
)
from .errors import ResponseValidationError
from .records import MEASURE_ATTRIBUTES, UsageRecord
from .table import G_ATTRIBUTES, G_END, G_PREFIX, G_SOURCE, G_START, Group, RecordTable

__all__ = ["UniqueRecords"]

_Bucket = tuple[str, datetime, datetime]


class UniqueRecords:
    """The record ids of one stream, so that each is emitted once.

    A server may repeat a bucket, in one page or on a later one. A record whose id was
    already emitted with the same quantity (and the same measure attributes) is an exact
    duplicate: it is dropped. The same id with another value is a
    :class:`~usagekit.ResponseValidationError`: one of the two figures is wrong and neither
    summing them nor keeping either would be safe.

    Memory grows with the stream's buckets, never with its records: the most recent buckets,
    up to ``held`` records' worth (by default 2**19, each bucket counted with its overhead:
    several pages of every endpoint, where a repeated bucket comes from), are kept record by
    record (8 bytes a record for usage pages whose results all have the same fields, 20-24
    otherwise); an older bucket is kept as one 64-bit digest of all of them
    (about 100 bytes a bucket: 10 MB for a year of hourly buckets of all 11 endpoints). An
    old bucket that comes again exactly as the stream had it is dropped whole; any other old
    bucket is refused (even one more record, or only part of what the stream had of it),
    since what changed can no longer be told record by record.

    A page's new buckets cost next to nothing a record: their quantities are kept as a slice
    of the table's int64 column and their groups by one hash each (each record's hashes are
    copied a group at a time when the page's results differ in fields); record names are
    looked at only when a bucket comes again.

    Args:
        provider: The provider, for errors.
        held: The most records kept record by record (a bucket's overhead counts as
            :data:`_BUCKET_COST` records).
    """

    def __init__(self, provider: str, *, held: int = 1 << 19) -> None:
        self.provider = provider
        self._held = held
        self._count = 0
        # oldest first; an OrderedDict, so that taking the oldest out costs the same however
        # many were taken before it (``next(iter(dict))`` walks past every slot deleted since
        # the dict last grew: thousands of them a bucket once the window is full)
        self._buckets: OrderedDict[_Bucket, _Held] = OrderedDict()
        self._digests: dict[int, int] = {}  # hash of an old bucket's key -> its digest
        self._runs: dict[tuple[int, ...], _Run] = {}  # one of each, shared by the pages

    def unique(
        self, records: Sequence[UsageRecord], *, endpoint: str, field: str | None = None
    ) -> list[UsageRecord]:
        """Return the records this stream has not emitted yet, and remember them.

        Args:
            records: Records of one response, in order.
            endpoint: The endpoint they came from, for errors.
            field: Where in the body they are (``"data.3"``), for errors.

        Returns:
            The records not seen before, in order.

        Raises:
            ResponseValidationError: A group seen before with different figures.
        """
        by_bucket: dict[_Bucket, tuple[list[int], list[_Name], list[int]]] = {}
        for position, record in enumerate(records):
            key = (record.source, record.start, record.end)
            rows, names, figures = by_bucket.setdefault(key, ([], [], []))
            record_id = record.id
            rows.append(position)
            names.append((hash(record_id[:32]), hash(record_id[32:])))
            figures.append(_figure(record.quantity, _measure_attributes(record.attributes)))

        def conflict(key: _Bucket, row: int) -> ResponseValidationError:
            return self._conflict(key, records[row].metric, endpoint, field)

        dropped: set[int] = set()
        for key, (rows, names, figures) in by_bucket.items():
            dropped.update(self._check(key, rows, names, figures, conflict))
        return [record for position, record in enumerate(records) if position not in dropped]

    def unique_table(
        self,
        table: RecordTable,
        *,
        endpoint: str,
        buckets: Sequence[int] = (),
        field: str | None = None,
    ) -> RecordTable:
        """Return the table without the records this stream has emitted, and remember them.

        Args:
            table: The records of one response (each group's rows in one run, the groups of a
                bucket side by side).
            endpoint: The endpoint they came from, for errors.
            buckets: The first group of each bucket of the page, in order (where each bucket's
                groups start; also names a bucket in errors, ``"data.3"``); empty to find the
                buckets from the groups and use ``field``.
            field: Where in the body the records are, when ``buckets`` is empty.

        Returns:
            ``table`` itself when nothing was seen before, else a table of the rest.

        Raises:
            ResponseValidationError: A group seen before with different figures.
            ValueError: The table's groups are not in runs (see ``RecordTable.group_spans``).
        """
        groups = table.groups()
        next(table.group_spans(), None)  # each group's rows in one run, in group order
        group_index = table.group_index()
        plain = _plain(table)
        grid = None if plain is None else _grid(table, plain, self._runs)
        columns: tuple[list[_Name], list[int]] | None = None

        def conflict(key: _Bucket, row: int) -> ResponseValidationError:
            where = field
            if buckets:
                where = f"data.{bisect_right(buckets, group_index[row]) - 1}"
            metric = table.measures()[table.measure_index()[row]][0]
            return self._conflict(key, metric, endpoint, where)

        dropped: list[int] = []
        for key, spans in _bucket_runs(groups, buckets).items():
            new = key not in self._buckets and hash(key) not in self._digests
            if plain is not None and new and len(spans) == 1:  # the usual case
                ((first, end),) = spans
                fresh = _new_bucket(table, plain, grid, first, end)
                if fresh is not None:  # every id is new: kept without a look at its names
                    self._keep(key, fresh)
                    continue
            if columns is None:
                columns = (
                    _names(table, _id_hashes(table) if plain is None else plain[:2]),
                    _figures(table),
                )
            every = [
                row
                for first, end in spans
                for row in range(bisect_left(group_index, first), bisect_left(group_index, end))
            ]
            names, figures_of = columns
            bucket_names = [names[row] for row in every]
            bucket_figures = [figures_of[row] for row in every]
            dropped += self._check(key, every, bucket_names, bucket_figures, conflict)
        if not dropped:
            return table
        gone = set(dropped)
        return table.subset(r for r in range(len(table)) if r not in gone)

    def _check(
        self,
        key: _Bucket,
        rows: list[int],
        names: list[_Name],
        figures: list[int],
        conflict: Callable[[_Bucket, int], ResponseValidationError],
    ) -> list[int]:
        """Check one bucket's records against what the stream kept of it, and keep its new state.

        Args:
            key: The bucket.
            rows: Its records' rows in the response, in order.
            names: Each record's name.
            figures: Each record's figure (:func:`_figure`).
            conflict: The error for a row whose figure differs from what the stream had.

        Returns:
            The rows to drop: exact repeats (all of them for an old bucket that came again
            exactly as it was).

        Raises:
            ResponseValidationError: A figure differs from the stream's, or an old bucket
                came again not exactly as the stream had it.
        """
        digest = self._digests.get(hash(key))
        held = self._buckets.get(key)
        kept: dict[_Name, int] = {} if held is None else dict(_held_items(held))
        dropped: list[int] = []
        for row, name, value in zip(rows, names, figures, strict=True):
            previous = kept.get(name)
            if previous is None:
                kept[name] = value
            elif previous == value:
                dropped.append(row)
            else:
                raise conflict(key, row)
        if digest is not None:  # an old bucket again: exactly as it was, or refused
            if _digest(kept) != digest:
                raise self._stale(key, conflict(key, rows[0]))
            return rows
        self._keep(key, _held_of(kept))
        return dropped

    def _keep(self, key: _Bucket, held: _Held) -> None:
        """Keep a bucket's records (its newest state); the oldest buckets become digests while
        the held records (each bucket counted with :data:`_BUCKET_COST`) exceed ``held``.

        Args:
            key: The bucket.
            held: Its records.
        """
        old = self._buckets.pop(key, None)
        if old is not None:
            self._count -= _held_size(old) + _BUCKET_COST
        self._buckets[key] = held
        self._count += _held_size(held) + _BUCKET_COST
        while self._count > self._held and len(self._buckets) > 1:
            oldest, gone = self._buckets.popitem(last=False)
            self._count -= _held_size(gone) + _BUCKET_COST
            self._digests[hash(oldest)] = _held_digest(gone)

    def _stale(self, key: _Bucket, error: ResponseValidationError) -> ResponseValidationError:
        return ResponseValidationError(
            f"the bucket {key[1].isoformat()} to {key[2].isoformat()} came again, long after, "
            "not exactly as the stream had it; refusing to sum or to pick one",
            provider=self.provider,
            endpoint=error.endpoint,
            field=error.field,
        )

    def _conflict(
        self, key: _Bucket, metric: str, endpoint: str, field: str | None
    ) -> ResponseValidationError:
        return ResponseValidationError(
            f"the bucket {key[1].isoformat()} to {key[2].isoformat()} came twice with different "
            f"values of {metric} for one group; refusing to sum or to pick one",
            provider=self.provider,
            endpoint=endpoint,
            field=field,
        )


_Plain = tuple["array[int]", list[int], list[bytes]]
"""A plain table's prefix hash of each group, and suffix hash of each measure (as an int and as
the 8 bytes of an int64)."""


def _plain(table: RecordTable) -> _Plain | None:
    """The prefix hash of each group and suffix hash of each measure of a plain table: one
    whose quantities are all plain ints, with no record or group with measure attributes (a
    usage page; its figures are its int64 column as it is). None for any other.

    Args:
        table: The records (their groups in runs).

    Returns:
        The hashes, or None when the table is not plain.
    """
    groups = table.groups()
    if table.decimal_quantities() or table.row_attributes() or not len(table) or not groups:
        return None
    sets = table.attribute_sets()
    if any(_measure_attributes(sets[n]) for n in set(map(itemgetter(G_ATTRIBUTES), groups))):
        return None
    prefixes, suffixes = _id_hashes(table)
    return prefixes, suffixes, [array("q", [suffix]).tobytes() for suffix in suffixes]


def _id_hashes(table: RecordTable) -> tuple[array[int], list[int]]:
    """The hash of each group's id prefix and of each measure's id suffix: a record's name is
    its group's and its measure's (as :meth:`UniqueRecords.unique` names one from its id).

    Args:
        table: The records.

    Returns:
        The prefix hash of each group (by number) and the suffix hash of each measure (by code).
    """
    prefixes = array("q", map(hash, map(itemgetter(G_PREFIX), table.groups())))
    return prefixes, [hash(measure[3]) for measure in table.measures()]


def _grid(table: RecordTable, plain: _Plain, runs: dict[tuple[int, ...], _Run]) -> _Run | None:
    """The one run of measures of a regular plain table, or None.

    A plain table is regular (a usage page whose results all have the same fields) when every
    group's rows are one run, in group order, with the same measures in the same order (their
    suffixes distinct). Worked out in C over the whole table.

    Args:
        table: The records (a plain table: see :func:`_plain`).
        plain: Its hashes.
        runs: The runs already made, by suffixes (shared by the pages: a held bucket holds one).

    Returns:
        The run every group has, or None when the table is not regular.
    """
    groups, count = table.groups(), len(table)
    width, rest = divmod(count, len(groups))
    codes = table.measure_index()
    if rest or codes != codes[:width] * len(groups):
        return None
    if table.group_starts() != array("Q", range(0, count, width)):
        return None
    suffixes = tuple(plain[1][code] for code in codes[:width])
    if len(set(suffixes)) != width:
        return None
    run = runs.get(suffixes)
    if run is None:
        if len(runs) >= 64:  # an endpoint has one; never let odd tables grow this unbounded
            runs.clear()
        run = runs[suffixes] = _run(suffixes)
    return run


def _new_bucket(
    table: RecordTable, plain: _Plain, run: _Run | None, first: int, end: int
) -> _Held | None:
    """A new bucket of a plain table (groups ``first`` to ``end``, one run) as it is kept,
    when no id can be in it twice (no group prefix twice, no measure twice in a group).

    Args:
        table: The records (a plain table: see :func:`_plain`).
        plain: Its hashes.
        run: Its run of measures when it is regular (:func:`_grid`), else None.
        first: The bucket's first group.
        end: The group after its last.

    Returns:
        The bucket's records in the regular or the plain form of :data:`_Held`, or None
        when an id may repeat (the caller then checks it record by record).
    """
    prefixes, _, suffixes = plain
    group_prefixes = prefixes[first:end]
    if len(set(group_prefixes)) != len(group_prefixes):
        return None
    ints = table.int_quantities()
    if run is not None:
        width = len(run[0])
        regular = ints[first * width : end * width].tobytes()
        return group_prefixes.tobytes(), regular, run, None, None
    starts, count = table.group_starts(), len(table)
    low = starts[first]
    high = starts[end] if end < len(starts) else count
    codes = table.measure_index()
    rows: list[bytes] = []  # each record's prefix hash, a group at a time
    names: list[bytes] = []  # and its suffix hash
    start = low
    for number, stop in zip(range(first, end), [*starts[first + 1 : end], high], strict=True):
        measures = codes[start:stop]
        if len(set(measures)) != stop - start:  # a measure twice in a group
            return None
        rows.append(prefixes[number : number + 1].tobytes() * (stop - start))
        names.append(b"".join(map(suffixes.__getitem__, measures)))
        start = stop
    figures = ints[low:high].tobytes()
    return b"".join(rows), figures, None, None, b"".join(names)


def _bucket_runs(groups: Sequence[Group], buckets: Sequence[int]) -> dict[_Bucket, list[_Span]]:
    """Each bucket's runs of groups ``(first, end)``, in order (one run unless it repeats).

    Args:
        groups: The table's groups (a bucket's groups side by side).
        buckets: Where each bucket of the page starts (its first group), or empty: the
            buckets are then told apart by their groups' keys.

    Returns:
        The runs, by bucket key, in the order the buckets first come.
    """
    runs: dict[_Bucket, list[_Span]] = {}
    if buckets:  # where each bucket's groups start: one key a bucket
        ends = [*buckets[1:], len(groups)]
        for first, end in zip(buckets, ends, strict=True):
            if first < end:
                runs.setdefault(_key(groups[first]), []).append((first, end))
        return runs
    first = 0
    for number in range(1, len(groups) + 1):
        if number == len(groups) or _key(groups[number]) != _key(groups[first]):
            runs.setdefault(_key(groups[first]), []).append((first, number))
            first = number
    return runs


_key: Callable[[Group], _Bucket] = itemgetter(G_SOURCE, G_START, G_END)
_Span = tuple[int, int]


def _names(table: RecordTable, hashes: tuple[array[int], list[int]]) -> list[_Name]:
    """Each record's name (as :meth:`UniqueRecords.unique` names a record from its id).

    Args:
        table: The records.
        hashes: Its :func:`_id_hashes`.

    Returns:
        One name a record, in row order.
    """
    prefixes, suffixes = hashes
    return list(
        zip(
            map(prefixes.__getitem__, table.group_index()),
            map(suffixes.__getitem__, table.measure_index()),
            strict=True,
        )
    )


def _figures(table: RecordTable) -> list[int]:
    """Each record's :func:`_figure`, in row order.

    Args:
        table: The records.

    Returns:
        One figure a record, in row order.
    """
    ints, decimals, own = table.int_quantities(), table.decimal_quantities(), table.row_attributes()
    numbers = list(map(itemgetter(G_ATTRIBUTES), table.groups()))  # the table shares them
    sets = table.attribute_sets()
    extras = {number: _measure_attributes(sets[number]) for number in set(numbers)}
    group_index = table.group_index()
    figures = ints.tolist()  # an int64 count is its own figure (see _figure)
    for row, value in decimals.items():
        figures[row] = _figure(value, ())
    tails = {key: hash(extra) for key, extra in extras.items() if extra}
    if not tails and not own:
        return figures
    for row, group in enumerate(group_index):
        if row in own:
            figures[row] = _figure(decimals.get(row, ints[row]), _measure_attributes(own[row]))
        elif numbers[group] in tails:
            figures[row] ^= tails[numbers[group]]
    return figures


_BUCKET_COST = 36
"""What one held bucket costs beside its records, in records of ~16 bytes (a record costs 8
in a regular page's bucket, 20-24 otherwise): its key (a tuple of a name and two datetimes), its
holder (a tuple), two to four bytes columns and their dict slot, 450-550 bytes."""

_I64 = 1 << 63


def _figure(quantity: Decimal | int, extra: tuple[tuple[str, str], ...]) -> int:
    """A 64-bit number for what may differ between two records of one id: the figure itself.

    A whole quantity in the int64 range is its own figure (a table's int64 column is its
    figures as they are); any other is the hash of a 1-tuple of it (not its own hash, which is
    the value modulo 2**61 - 1 and so would equal a small count's figure), so a count and the
    equal ``Decimal`` are the same figure. Measure attributes, when there are any, are mixed in
    by their hash.

    Args:
        quantity: The record's quantity.
        extra: Its measure attributes (:func:`_measure_attributes`).

    Returns:
        The figure, in the signed 64-bit range.
    """
    if not isinstance(quantity, int):
        if not quantity.is_finite() or quantity.adjusted() >= 19:
            return _with(hash((quantity,)), extra)
        if quantity != quantity.to_integral_value():
            return _with(hash((quantity,)), extra)
        quantity = int(quantity)
    return _with(quantity if -_I64 <= quantity < _I64 else hash((quantity,)), extra)


def _with(figure: int, extra: tuple[tuple[str, str], ...]) -> int:
    """``figure`` with the measure attributes ``extra`` mixed in (both signed 64-bit)."""
    return figure ^ hash(extra) if extra else figure


def _measure_attributes(attributes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """What of a record's attributes is part of its figure rather than of its id."""
    if not attributes:
        return ()
    return tuple(sorted((k, v) for k, v in attributes.items() if k in MEASURE_ATTRIBUTES))
