"""How records are rows: the one conversion each way, the write statements, batch sizes.

A row of ``records`` is ``(start_us, id, end_us, series_id, quantity, attributes, run_id)``:
times as integer microseconds since the epoch, UTC; the id as its 24 bytes (the record's id is
48 lower-case hex characters); the series (see :mod:`._series`) for everything the rows of one
result share with the same metric; the quantity as TEXT (exact to the ``Decimal``); the
attributes a record's id leaves out (the measure and derived ones) as compact JSON, NULL when
it has none; and the sync run that wrote it.

:class:`RowEncoder` is the only place records become rows: what one result's records share
(times, series lookup, checks) is computed once per result, not per record.
:func:`decode_rows` is the only place rows become records.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from .._core.errors import ConfigError
from .._core.records import UsageRecord
from ._series import NON_IDENTITY, GroupKey, MetricKey, SeriesCache, SeriesInfo, dumps

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ROW_COLUMNS",
    "SNAPSHOT_INSERT",
    "UPSERT",
    "Row",
    "RowEncoder",
    "check_batch_size",
    "decode_rows",
    "from_micros",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)

DEFAULT_BATCH_SIZE = 20_000
"""Records written per transaction: large enough that a commit's fixed cost vanishes, small
enough that a batch's rows (about 200 bytes each in memory) stay a few MB."""

ROW_COLUMNS = "start_us, id, end_us, series_id, quantity, attributes"
"""The columns of a record row, as :func:`decode_rows` reads them."""

# The newest fetch wins: a row written by a sync run is not overwritten by a run that started
# before it (two syncs at once), so its run id always names the newest run that wrote it.
UPSERT = (
    f"INSERT INTO records ({ROW_COLUMNS}, run_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (start_us, id) DO UPDATE SET quantity = excluded.quantity, "
    "attributes = excluded.attributes, run_id = excluded.run_id "
    "WHERE excluded.run_id IS NULL OR run_id IS NULL OR excluded.run_id >= run_id"
)
"""Write a row (a :class:`RowEncoder` row) keyed by its start and id: a record's id determines
its start, so the pair is as unique as the id, and keeps rows in time order on disk."""
SNAPSHOT_INSERT = (
    f"INSERT OR REPLACE INTO snapshot_records (snapshot_id, {ROW_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
"""Keep a row in a snapshot: ``(snapshot_id, *row[:6])``."""

Row = tuple[Any, ...]
"""One row of a table."""


def to_micros(moment: datetime) -> int:
    """Return integer microseconds since the epoch for an aware datetime."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """Return the aware UTC datetime of integer microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=value)


def check_batch_size(value: object) -> int:
    """Return ``value`` checked as a batch size.

    Raises:
        ConfigError: It is not a positive integer.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {value!r}")
    return value


def _extra(attributes: Mapping[str, str]) -> str | None:
    """The attributes an id leaves out, as stored on the row (None when there are none)."""
    kept = {k: v for k, v in attributes.items() if k in NON_IDENTITY}
    return dumps(kept) if kept else None


class RowEncoder:
    """Turns records into ``records`` rows, computing what a result's records share once.

    Rows of series not stored yet carry provisional (negative) series ids, which the write
    transaction replaces (see :meth:`SeriesCache.resolve`).

    Args:
        series: The store's series cache (loaded).
        provider: Refuse records of any other provider (a sync); None: any.
        run_id: The sync run written on every row (None: not a sync).

    Attributes:
        first_start: Per source, the earliest start (microseconds) of the rows encoded.
    """

    def __init__(
        self, series: SeriesCache, *, provider: str | None = None, run_id: int | None = None
    ) -> None:
        self._series = series
        self._provider = provider
        self._run_id = run_id
        self.first_start: dict[str, int] = {}

    def batches(self, records: Iterable[object], size: int) -> Iterator[list[Row]]:
        """Encode a stream of records lazily into lists of ``size`` rows (the last shorter).

        Consecutive records of one result (the records of a page come so) share their id's
        first 32 characters, the hash of what they share: the shared values are computed when
        it changes. Write each list before taking the next: a list may name series that only
        its write transaction stores.

        Raises:
            ConfigError: An item is not a :class:`~usagekit.UsageRecord`, is of another
                provider than the encoder's, or has an id that is not 48 lower-case hex
                characters.
        """
        rows: list[Row] = []
        append = rows.append
        fromhex = bytes.fromhex
        run_id = self._run_id
        prefix = "\x00"  # no id starts so: the first record opens a group
        start_us = end_us = 0
        series: dict[MetricKey, int] = {}
        key: GroupKey = ()
        last_attributes: Mapping[str, str] = {}
        extra: str | None = None
        for record in records:
            if not isinstance(record, UsageRecord):
                raise ConfigError(
                    f"records must be UsageRecord objects, got {type(record).__name__}"
                )
            record_id = record.id
            if not record_id.startswith(prefix):
                key, start_us, end_us = self._group(record)
                series = self._series.group(key)
                prefix = record_id[:32]
            metric = (record.metric, record.unit, record.kind)
            series_id = series.get(metric)
            if series_id is None:
                series_id = self._series.provisional(key, series, metric)
            attributes = record.attributes
            if attributes is not last_attributes and attributes != last_attributes:
                extra = _extra(attributes)
                last_attributes = attributes
            try:
                blob = fromhex(record_id)
            except ValueError:
                blob = b""
            if len(blob) != 24 or blob.hex() != record_id:
                raise ConfigError(
                    f"a record's id must be 48 lower-case hex characters, got {record_id!r}"
                )
            append((start_us, blob, end_us, series_id, str(record.quantity), extra, run_id))
            if len(rows) >= size:
                yield rows
                rows = []
                append = rows.append
        if rows:
            yield rows

    def _group(self, record: UsageRecord) -> tuple[GroupKey, int, int]:
        """What a result's records share: its series group and its interval."""
        provider = record.provider
        if self._provider is not None and provider != self._provider:
            raise ConfigError(f"records of {self._provider!r} expected, got one of {provider!r}")
        attributes = record.attributes
        identity = (
            tuple(sorted((k, v) for k, v in attributes.items() if k not in NON_IDENTITY))
            if attributes
            else ()
        )
        key = (provider, record.source, *record.dimensions(), identity)
        start_us = to_micros(record.start)
        first = self.first_start.get(record.source)
        if first is None or start_us < first:
            self.first_start[record.source] = start_us
        return key, start_us, to_micros(record.end)


def _attributes(identity: Mapping[str, str], extra: str | None) -> dict[str, str]:
    """A row's attributes: its series' identity ones and its own, in key order."""
    if extra is None:
        return dict(identity)
    merged = {**identity, **json.loads(extra)}
    return {k: merged[k] for k in sorted(merged)}


_Item = tuple[str, SeriesInfo, Decimal, str | None]
"""A decoded row awaiting its record: hex id, series, quantity, own attributes."""


def decode_rows(
    rows: Iterable[Row], series_of: Callable[[int], SeriesInfo]
) -> Iterator[UsageRecord]:
    """Turn ``records`` rows (:data:`ROW_COLUMNS`, in start-then-id order) into records.

    The rows of one result (the same interval, id prefix and series group: consecutive in
    that order) are built together by :meth:`UsageRecord.trusted_many`, which hashes what they
    share once. Every id is taken as stored: a record whose computed id differs (a row
    another program wrote) is built with the stored one.

    Args:
        rows: The rows.
        series_of: The series of an id.

    Yields:
        The records, in the rows' order.

    Raises:
        KeyError, ValueError, TypeError, ArithmeticError: A malformed row (a damaged file).
    """
    items: list[_Item] = []
    current: tuple[Any, ...] = ()
    for start_us, blob, end_us, series_id, quantity, extra in rows:
        info = series_of(series_id)
        group = (start_us, end_us, blob[:16], info.group)
        if group != current:
            if items:
                yield from _build(current[0], current[1], items)
                items = []
            current = group
        items.append((blob.hex(), info, Decimal(quantity), extra))
    if items:
        yield from _build(current[0], current[1], items)


def _build(start_us: int, end_us: int, items: list[_Item]) -> Iterator[UsageRecord]:
    """The records of one result's rows."""
    start, end = from_micros(start_us), from_micros(end_us)
    first = items[0][1]
    if all(extra is None for *_, extra in items):
        measures = [(i.metric, q, i.unit, i.kind) for _, i, q, _ in items]
        built = UsageRecord.trusted_many(
            measures, start=start, end=end, attributes=first.attributes, **first.shared
        )
    else:
        built = [
            UsageRecord.trusted_many(
                [(i.metric, q, i.unit, i.kind)],
                start=start,
                end=end,
                attributes=_attributes(i.attributes, extra),
                **i.shared,
            )[0]
            for _, i, q, extra in items
        ]
    for record, (record_id, info, quantity, extra) in zip(built, items, strict=True):
        if record.id == record_id:
            yield record
        else:
            yield UsageRecord.model_construct(
                id=record_id,
                start=start,
                end=end,
                metric=info.metric,
                quantity=quantity,
                unit=info.unit,
                kind=info.kind,
                attributes=_attributes(info.attributes, extra),
                **info.shared,
            )
