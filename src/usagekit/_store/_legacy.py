"""Schema version 1 (and 0): what older usagekits wrote, as this one reads it.

In that layout a row holds every field of its record as a column, the id as hex text. A store
opened read-only keeps that layout and is read through this module; opened for writing it is
migrated to the current schema (see :mod:`._migrate`), which reads its rows through this module
too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from .._core.records import DIMENSIONS, UsageRecord
from ._rows import Row, from_micros

__all__ = ["LEGACY_COLUMNS", "LEGACY_COLUMN_LIST", "LEGACY_TABLE_COLUMNS", "decode_legacy"]

LEGACY_COLUMNS: tuple[str, ...] = (
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
"""The record columns of a version-1 row, in the order :func:`decode_legacy` takes them."""
LEGACY_COLUMN_LIST = ", ".join(LEGACY_COLUMNS)
"""The record columns, for a ``SELECT``."""

LEGACY_TABLE_COLUMNS: Mapping[str, frozenset[str]] = {
    "records": frozenset({*LEGACY_COLUMNS, "run_id"}),
    "snapshots": frozenset({"snapshot_id", "provider", "fetched_at_us", "complete"}),
    "snapshot_records": frozenset({"snapshot_id", *LEGACY_COLUMNS}),
    "sync_runs": frozenset(
        {"run_id", "provider", "fetch_start_us", "started_at_us", "finished", "error"}
    ),
}
"""The columns each table of a version-1 store has."""

_FIELDS = tuple(name.removesuffix("_us") for name in LEGACY_COLUMNS)


def decode_legacy(row: Row) -> UsageRecord:
    """Turn a version-1 row (:data:`LEGACY_COLUMNS`) into its record, the id as stored.

    Raises:
        KeyError, ValueError, TypeError, ArithmeticError: A malformed row (a damaged file).
    """
    fields = dict(zip(_FIELDS, row, strict=True))
    fields["start"] = from_micros(fields["start"])
    fields["end"] = from_micros(fields["end"])
    fields["quantity"] = Decimal(fields["quantity"])
    attributes = fields["attributes"]
    fields["attributes"] = json.loads(attributes) if attributes != "{}" else {}
    return UsageRecord.model_construct(**fields)
