"""How records are rows: the one conversion each way, batch sizes.

A row of ``records`` is ``(start_us, id, end_us, series_id, quantity, attributes, run_id)``:
times as integer microseconds since the epoch, UTC; the id as its 24 bytes (the record's id is
48 lower-case hex characters); the series (see :mod:`._series`) for everything the rows of one
result share with the same metric; the quantity as TEXT (exact to the ``Decimal``); the
attributes a record's id leaves out (the measure and derived ones) as compact JSON, NULL when
it has none; and the sync run that wrote it. The statements that write them are in
:mod:`._batch`.

:class:`RowEncoder` is the only place records become rows: what one result's records share
(times, series lookup, checks) is computed once per result, not per record.
:func:`decode_rows` is the only place rows become records.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import islice
from typing import Any

from .._core.errors import ConfigError
from .._core.records import UsageRecord
from ._batch import Batch, Row
from ._series import NON_IDENTITY, GroupKey, MetricKey, SeriesCache, SeriesInfo, dumps

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Row",
    "RowEncoder",
    "check_batch_size",
    "decode_rows",
    "from_micros",
    "identity_of",
    "row_extra",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)

DEFAULT_BATCH_SIZE = 20_000
"""Records written per transaction: large enough that a commit's fixed cost vanishes, small
enough that a batch's rows (about 200 bytes each in memory) stay a few MB."""


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


def identity_of(attributes: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The attributes that are part of a record's id, as sorted pairs (a group key's last
    item).

    Args:
        attributes: A record's attributes.

    Returns:
        The pairs whose keys are not left out of the id, sorted by key.
    """
    if not attributes:
        return ()
    return tuple(sorted((k, v) for k, v in attributes.items() if k not in NON_IDENTITY))


def row_extra(attributes: Mapping[str, str]) -> str | None:
    """The attributes an id leaves out, as stored on the row (None when there are none).

    Args:
        attributes: A record's attributes.

    Returns:
        Those in :data:`~._series.NON_IDENTITY`, as compact key-sorted JSON, or None.
    """
    kept = {k: v for k, v in attributes.items() if k in NON_IDENTITY}
    return dumps(kept) if kept else None


class RowEncoder:
    """Turns records into ``records`` rows, computing what a result's records share once.

    The records of one result (consecutive, as a page gives them) share the first 32
    characters of their ids, the hash of what they share: when those change, the group's
    values (interval, series group, the id's first 16 bytes) are computed once, and its first
    record's id is checked against its fields; within the group each metric is then looked up
    by the rest of its id. A record whose id its fields do not determine (one built by
    bypassing validation, or kept as stored by an older usagekit) is encoded on its own, from
    its own fields, its id as given.

    Rows of series not stored yet carry provisional (negative) series ids, which the write
    transaction replaces (see :meth:`SeriesPlan.resolve`).

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
        self._known: dict[GroupKey, dict[str, tuple[int, bytes]]] = {}
        self._generation = series.generation
        self._last: tuple[Any, ...] = ({}, (), None, 0, None, 0)
        self._lengths: dict[GroupKey, int] = {}
        self.first_start: dict[str, int] = {}

    @property
    def run_id(self) -> int | None:
        """The sync run written on every row (None: not a sync)."""
        return self._run_id

    def take_lengths(self) -> dict[GroupKey, int]:
        """Per group of the rows encoded since the last call, their longest interval
        (microseconds): what :meth:`SeriesCache.plan` needs with those rows."""
        lengths, self._lengths = self._lengths, {}
        return lengths

    def carry(self, key: GroupKey, length: int) -> None:
        """Count a group going on from the last batch (its interval ``length``) in the next."""
        if length > self._lengths.get(key, 0):
            self._lengths[key] = length

    def refresh(self) -> bool:
        """Forget the series ids met so far when provisional ones got their real ids (or were
        dropped with a rolled-back batch) since the last look; call it before each batch.

        Returns:
            Whether they were forgotten: ids looked up before then must be looked up again.
        """
        if self._series.generation == self._generation:
            return False
        self._generation = self._series.generation
        self._known.clear()
        return True

    def batches(self, records: Iterable[object], size: int) -> Iterator[Batch]:
        """Encode a stream of records lazily into batches of ``size`` rows (the last shorter).

        Plan each batch's series (:meth:`SeriesCache.plan`) before taking the next: a batch
        may name series that only its write transaction stores.

        Raises:
            ConfigError: An item is not a :class:`~usagekit.UsageRecord`, is of another
                provider than the encoder's, or has an id that is not 48 lower-case hex
                characters.
        """
        run_id = self._run_id
        prefix = "\x00"  # no id starts so: the first record opens a group
        key: GroupKey = ()
        start_us = end_us = 0
        head = bytearray()
        known: dict[str, tuple[int, bytes]] = {}
        last_attributes: Mapping[str, str] = {}
        extra: str | None = None
        plain = 0
        stream = iter(records)
        record_type, text = UsageRecord, str
        while True:
            rows: list[Row] = []
            append = rows.append
            if key:  # a result going on from the last batch
                self.carry(key, end_us - start_us)
            if self.refresh():  # provisional series got their ids: look them up again
                prefix = "\x00"
            for record in islice(stream, size):
                if type(record) is not record_type and not isinstance(record, record_type):
                    raise ConfigError(
                        f"records must be UsageRecord objects, got {type(record).__name__}"
                    )
                record_id = record.id
                if record_id[:32] != prefix:
                    opened = self._open(record)
                    if opened is None:  # not the id its fields give: a row of its own
                        prefix = "\x00"
                        append(self._lone(record))
                        continue
                    prefix, key, start_us, end_us, head, known = opened
                    plain = len(key[-1])
                found = known.get(record_id[32:])
                if found is None:
                    found = self._meet(record, key, known)
                    if found is None:
                        append(self._lone(record))
                        continue
                attributes = record.attributes
                if len(attributes) == plain:  # its group's identity attributes, no others
                    own = None
                else:
                    if attributes is not last_attributes and attributes != last_attributes:
                        extra = row_extra(attributes)
                        last_attributes = attributes
                    own = extra
                series_id, tail = found
                append(
                    (start_us, head + tail, end_us, series_id, text(record.quantity), own, run_id)
                )
            if rows:
                yield Batch.of_rows(rows, run_id)
            if len(rows) < size:
                return

    # The steps a result's rows take, on values (a columnar page can take them without
    # building records): the group once, then each metric not met yet.

    def group(
        self,
        provider: str,
        source: str,
        start: datetime,
        end: datetime,
        dimensions: tuple[str | None, ...],
        attributes: Mapping[str, str],
    ) -> tuple[GroupKey, int, int]:
        """What a result's rows share: their series group and interval (microseconds).

        Raises:
            ConfigError: The result is of another provider than the encoder's.
        """
        last = self._last  # the previous result's: usually the same attributes and times
        if attributes is not last[0] and attributes != last[0]:
            last = self._last = (attributes, identity_of(attributes), *last[2:])
        return self.group_of(provider, source, start, end, dimensions, last[1])

    def group_of(
        self,
        provider: str,
        source: str,
        start: datetime,
        end: datetime,
        dimensions: tuple[str | None, ...],
        identity: tuple[tuple[str, str], ...],
    ) -> tuple[GroupKey, int, int]:
        """:meth:`group`, the identity attributes given (:func:`identity_of` its attributes).

        Raises:
            ConfigError: The result is of another provider than the encoder's.
        """
        if provider != self._provider and self._provider is not None:
            raise ConfigError(f"records of {self._provider!r} expected, got one of {provider!r}")
        last = self._last
        if start is not last[2] or end is not last[4]:
            last = self._last = (*last[:2], start, to_micros(start), end, to_micros(end))
        start_us, end_us = last[3], last[5]
        first = self.first_start.get(source)
        if first is None or start_us < first:
            self.first_start[source] = start_us
        key = (provider, source, *dimensions, identity)
        length = end_us - start_us
        if length > self._lengths.get(key, 0):
            self._lengths[key] = length
        return key, start_us, end_us

    def known(self, key: GroupKey) -> dict[str, tuple[int, bytes]]:
        """A group's metrics met so far, by the last 16 characters of their ids: each one's
        series id and those characters' 8 bytes (see :meth:`meet`)."""
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = {}
        return known

    def meet(
        self, key: GroupKey, known: dict[str, tuple[int, bytes]], tail: str, metric: MetricKey
    ) -> tuple[int, bytes]:
        """A metric not met yet in its group, ``tail`` the last 16 characters of ids its
        fields give (checked by the caller): its series id (provisional when not stored yet)
        and the tail's bytes, remembered in ``known``."""
        found = known[tail] = (self._series_id(key, metric), bytes.fromhex(tail))
        return found

    def _series_id(self, key: GroupKey, metric: MetricKey) -> int:
        group = self._series.group(key)
        series_id = group.get(metric)
        if series_id is None:
            series_id = self._series.provisional(key, group, metric)
        return series_id

    def _shared(self, record: UsageRecord) -> tuple[GroupKey, int, int]:
        return self.group(
            record.provider,
            record.source,
            record.start,
            record.end,
            record.dimensions(),
            record.attributes,
        )

    def _open(
        self, record: UsageRecord
    ) -> tuple[str, GroupKey, int, int, bytearray, dict[str, tuple[int, bytes]]] | None:
        """A new result: the id prefix its records are known by, their group, interval, the
        id's first 16 bytes and their known metrics; None when the record's id is not the
        one its fields give."""
        key, start_us, end_us = self._shared(record)
        record_id = record.id
        if record.compute_id() != record_id:
            return None
        head = bytearray.fromhex(record_id[:32])  # bound as it is (see ._batch)
        return record_id[:32], key, start_us, end_us, head, self.known(key)

    def _meet(
        self, record: UsageRecord, key: GroupKey, known: dict[str, tuple[int, bytes]]
    ) -> tuple[int, bytes] | None:
        """:meth:`meet` for a record; None when its id is not the one its fields give."""
        record_id = record.id
        if record.compute_id() != record_id:
            return None
        return self.meet(key, known, record_id[32:], (record.metric, record.unit, record.kind))

    def _lone(self, record: UsageRecord) -> Row:
        """The row of a record whose id its fields do not give, from its own fields, its id
        as given.

        Raises:
            ConfigError: The id is not 48 lower-case hex characters.
        """
        key, start_us, end_us = self._shared(record)
        record_id = record.id
        try:
            blob = bytes.fromhex(record_id)
        except ValueError:
            blob = b""
        if len(blob) != 24 or blob.hex() != record_id:
            raise ConfigError(
                f"a record's id must be 48 lower-case hex characters, got {record_id!r}"
            )
        series_id = self._series_id(key, (record.metric, record.unit, record.kind))
        extra = row_extra(record.attributes)
        quantity = str(record.quantity)
        return (start_us, bytearray(blob), end_us, series_id, quantity, extra, self._run_id)


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
    infos: dict[int, SeriesInfo] = {}
    items: list[_Item] = []
    start_us = end_us = group = -1
    head = b""
    times: tuple[datetime, datetime] = (_EPOCH, _EPOCH)
    for row_start, blob, row_end, series_id, quantity, extra in rows:
        info = infos.get(series_id)
        if info is None:
            info = infos[series_id] = series_of(series_id)
        if (
            row_start != start_us
            or row_end != end_us
            or info.group != group
            or not blob.startswith(head)
        ):
            if items:
                yield from _build(times, items)
                items = []
            if row_start != start_us or row_end != end_us:
                times = (from_micros(row_start), from_micros(row_end))
            start_us, end_us, group, head = row_start, row_end, info.group, blob[:16]
        items.append((blob.hex(), info, Decimal(quantity), extra))
    if items:
        yield from _build(times, items)


def _build(times: tuple[datetime, datetime], items: list[_Item]) -> list[UsageRecord]:
    """The records of one result's rows."""
    start, end = times
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
    for index, (record, (record_id, info, quantity, extra)) in enumerate(
        zip(built, items, strict=True)
    ):
        if record.id != record_id:
            built[index] = UsageRecord.model_construct(
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
    return built
