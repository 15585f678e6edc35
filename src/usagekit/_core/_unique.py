"""The repeat check of a stream of record tables: each record emitted once (see
:class:`UniqueRecords`)."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import itemgetter

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
    up to ``held`` records' worth (by default 2**19, about 8 MB, each bucket counted with its
    overhead: several pages of every endpoint, where a repeated bucket comes from), are kept
    record by record (64-bit hashes of each id and of its value); an older bucket is kept as
    one 64-bit digest of all of them (about 100 bytes a bucket: 10 MB for a year of hourly
    buckets of all 11 endpoints). An old bucket that comes again exactly as the stream had it
    is dropped whole; any other old bucket is refused (even one more record, or only part of
    what the stream had of it), since what changed can no longer be told record by record.

    Args:
        provider: The provider, for errors.
        held: The most records kept record by record (a bucket's overhead counts as
            :data:`_BUCKET_COST` records).
    """

    def __init__(self, provider: str, *, held: int = 1 << 19) -> None:
        self.provider = provider
        self._held = held
        self._count = 0
        self._buckets: dict[_Bucket, tuple[array[int], array[int]]] = {}
        self._digests: dict[int, int] = {}  # hash of an old bucket's key -> its digest

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
        by_bucket: dict[_Bucket, tuple[list[int], list[int], list[int]]] = {}
        for position, record in enumerate(records):
            key = (record.source, record.start, record.end)
            rows, names, figures = by_bucket.setdefault(key, ([], [], []))
            record_id = record.id
            rows.append(position)
            names.append(hash(record_id[:32]) ^ hash(record_id[32:]))
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
        names, figures = _names(table), _figures(table)

        def conflict(key: _Bucket, row: int) -> ResponseValidationError:
            where = field
            if buckets:
                where = f"data.{bisect_right(buckets, group_index[row]) - 1}"
            metric = table.measures()[table.measure_index()[row]][0]
            return self._conflict(key, metric, endpoint, where)

        dropped: list[int] = []
        for key, spans in _bucket_runs(groups, buckets).items():
            rows = [
                range(bisect_left(group_index, first), bisect_left(group_index, end))
                for first, end in spans
            ]
            if len(rows) == 1:  # the usual case: the bucket once in the page
                (run,) = rows
                bucket_names = names[run.start : run.stop]
                new = key not in self._buckets and hash(key) not in self._digests
                if new and len(set(bucket_names)) == len(bucket_names):
                    self._keep(key, bucket_names, figures[run.start : run.stop])
                    continue
            every = [row for run in rows for row in run]
            bucket_names = [names[row] for row in every]
            bucket_figures = [figures[row] for row in every]
            dropped += self._check(key, every, bucket_names, bucket_figures, conflict)
        if not dropped:
            return table
        gone = set(dropped)
        return table.subset(r for r in range(len(table)) if r not in gone)

    def _check(
        self,
        key: _Bucket,
        rows: list[int],
        names: list[int],
        figures: list[int],
        conflict: Callable[[_Bucket, int], ResponseValidationError],
    ) -> list[int]:
        """Check one bucket's records against what the stream kept of it; the rows to drop."""
        digest = self._digests.get(hash(key))
        packed = self._buckets.get(key)
        hashes: dict[int, int] = {} if packed is None else dict(zip(*packed, strict=True))
        dropped: list[int] = []
        for row, name, value in zip(rows, names, figures, strict=True):
            previous = hashes.get(name)
            if previous is None:
                hashes[name] = value
            elif previous == value:
                dropped.append(row)
            else:
                raise conflict(key, row)
        if digest is not None:  # an old bucket again: exactly as it was, or refused
            if _digest(hashes.keys(), hashes.values()) != digest:
                raise self._stale(key, conflict(key, rows[0]))
            return rows
        self._keep(key, hashes.keys(), hashes.values())
        return dropped

    def _keep(self, key: _Bucket, names: Iterable[int], figures: Iterable[int]) -> None:
        """Keep a bucket's records (its newest state); older buckets become digests."""
        old = self._buckets.pop(key, None)
        if old is not None:
            self._count -= len(old[0]) + _BUCKET_COST
        packed = self._buckets[key] = (array("q", names), array("q", figures))
        self._count += len(packed[0]) + _BUCKET_COST
        while self._count > self._held and len(self._buckets) > 1:
            oldest = next(iter(self._buckets))
            old_names, old_figures = self._buckets.pop(oldest)
            self._count -= len(old_names) + _BUCKET_COST
            self._digests[hash(oldest)] = _digest(old_names, old_figures)

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


def _names(table: RecordTable) -> list[int]:
    """Each record's 64-bit name: its id's hash (``hash(prefix) ^ hash(suffix)``, as
    :meth:`UniqueRecords.unique` hashes an id), worked out in C over the whole table.

    Args:
        table: The records.

    Returns:
        One name a record, in row order.
    """
    prefixes = list(map(hash, map(itemgetter(G_PREFIX), table.groups())))
    suffixes = [hash(measure[3]) for measure in table.measures()]
    return list(
        map(
            int.__xor__,
            map(prefixes.__getitem__, table.group_index()),
            map(suffixes.__getitem__, table.measure_index()),
        )
    )


def _figures(table: RecordTable) -> list[int]:
    """Each record's :func:`_figure`, in C over the whole table when its quantities are all
    ints and no record has attributes of its own.

    Args:
        table: The records.

    Returns:
        One figure a record, in row order.
    """
    ints, decimals, own = table.int_quantities(), table.decimal_quantities(), table.row_attributes()
    numbers = list(map(itemgetter(G_ATTRIBUTES), table.groups()))  # the table shares them
    sets = table.attribute_sets()
    extras = {number: _measure_attributes(sets[number]) for number in set(numbers)}
    if decimals or own:
        group_index = table.group_index()
        return [
            _figure(
                decimals.get(row, ints[row]),
                _measure_attributes(own[row]) if row in own else extras[numbers[group]],
            )
            for row, group in enumerate(group_index)
        ]
    tails = {key: hash(extra) for key, extra in extras.items()}
    if len(set(tails.values())) == 1:  # one tail for all (usage pages: none of these keys)
        return list(map(next(iter(tails.values())).__xor__, map(hash, ints)))
    group_tails = list(map(tails.__getitem__, numbers))
    return list(
        map(int.__xor__, map(group_tails.__getitem__, table.group_index()), map(hash, ints))
    )


_BUCKET_COST = 28
"""What one held bucket costs beside its records, in records (16 bytes each): its key (a tuple
of a name and two datetimes), two arrays and their dict slot, about 450 bytes."""


def _digest(names: Iterable[int], figures: Iterable[int]) -> int:
    """One 64-bit digest of a bucket's records, whatever their order."""
    return sum(map(hash, zip(names, figures, strict=True))) & 0xFFFFFFFFFFFFFFFF


def _figure(quantity: Decimal | int, extra: tuple[tuple[str, str], ...]) -> int:
    """A 64-bit hash of what may differ between two records of one id: the figure itself.

    ``hash(Decimal(5)) == hash(5)``: a count and the equal ``Decimal`` are the same figure.
    """
    return hash(quantity) ^ hash(extra)  # both in the signed 64-bit range, so is their XOR


def _measure_attributes(attributes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """What of a record's attributes is part of its figure rather than of its id."""
    if not attributes:
        return ()
    return tuple(sorted((k, v) for k, v in attributes.items() if k in MEASURE_ATTRIBUTES))
