"""How a record is a row: the columns, the codec, the write statements and batching.

Quantities are stored as TEXT (exact to the ``Decimal``), times as integer microseconds since the
epoch, UTC, attributes as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from .._core.errors import ConfigError
from .._core.records import DIMENSIONS, UsageRecord

__all__ = [
    "COLUMN_LIST",
    "DEFAULT_BATCH_SIZE",
    "RECORD_COLUMNS",
    "SNAPSHOT_INSERT",
    "UPSERT",
    "Row",
    "batches",
    "check_batch_size",
    "decode",
    "encode",
    "from_micros",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)

DEFAULT_BATCH_SIZE = 2000
"""Records written per transaction."""

RECORD_COLUMNS: tuple[str, ...] = (
    "id",
    "provider",
    "source",
    "start_us",
    "end_us",
    "metric",
    "quantity",
    "unit",
    "kind",
    *DIMENSIONS,
    "attributes",
)
"""The columns of a record, in the order :func:`encode` gives them."""
COLUMN_LIST = ", ".join(RECORD_COLUMNS)
"""The record columns, for a ``SELECT`` or an ``INSERT``."""
_PLACEHOLDERS = ", ".join("?" for _ in RECORD_COLUMNS)
_FIELDS = tuple(name.removesuffix("_us") for name in RECORD_COLUMNS)
"""The :class:`UsageRecord` field of each column, in column order."""

# The newest fetch wins: a row written by a sync run is not overwritten by a run that started
# before it (two syncs at once), so its run id always names the newest run that wrote it.
UPSERT = (
    f"INSERT INTO records ({COLUMN_LIST}, run_id) VALUES ({_PLACEHOLDERS}, ?) "
    "ON CONFLICT (id) DO UPDATE SET quantity = excluded.quantity, "
    "attributes = excluded.attributes, run_id = excluded.run_id "
    "WHERE excluded.run_id IS NULL OR run_id IS NULL OR excluded.run_id >= run_id"
)
"""Write a record row and the run that wrote it (None: not a sync), keyed by record id."""
SNAPSHOT_INSERT = (
    f"INSERT OR REPLACE INTO snapshot_records (snapshot_id, {COLUMN_LIST}) "
    f"VALUES (?, {_PLACEHOLDERS})"
)
"""Keep a record row in a snapshot."""

Row = tuple[Any, ...]
"""One row of record columns."""


def to_micros(moment: datetime) -> int:
    """Return integer microseconds since the epoch for an aware datetime."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """Return the aware UTC datetime of integer microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=value)


def encode(record: UsageRecord) -> Row:
    """Return the row of a record, in :data:`RECORD_COLUMNS` order."""
    return (
        record.id,
        record.provider,
        record.source,
        to_micros(record.start),
        to_micros(record.end),
        record.metric,
        str(record.quantity),
        record.unit,
        record.kind,
        *record.dimensions(),
        json.dumps(record.attributes, sort_keys=True, separators=(",", ":"))
        if record.attributes
        else "{}",
    )


def decode(row: Row) -> UsageRecord:
    """Return the record of a row (raises what a malformed row makes the codec raise)."""
    # The id was computed by UsageRecord when the row was written; it is taken as stored
    # rather than hashed again (reading is the hot path of every report on the store).
    fields = dict(zip(_FIELDS, row, strict=True))
    fields["start"] = from_micros(fields["start"])
    fields["end"] = from_micros(fields["end"])
    fields["quantity"] = Decimal(fields["quantity"])
    attributes = fields["attributes"]
    fields["attributes"] = json.loads(attributes) if attributes != "{}" else {}
    return UsageRecord.model_construct(**fields)


def batches(records: Iterable[object], size: int) -> Iterator[list[UsageRecord]]:
    """Group a stream of records into lists of ``size`` (the last one shorter).

    Args:
        records: Any iterable, consumed lazily.
        size: Records per batch.

    Yields:
        Each batch.

    Raises:
        ConfigError: An item is not a :class:`~usagekit.UsageRecord`.
    """
    batch: list[UsageRecord] = []
    for record in records:
        if not isinstance(record, UsageRecord):
            raise ConfigError(f"records must be UsageRecord objects, got {type(record).__name__}")
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_batch_size(value: object) -> int:
    """Return ``value`` checked as a batch size.

    Raises:
        ConfigError: It is not a positive integer.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {value!r}")
    return value
