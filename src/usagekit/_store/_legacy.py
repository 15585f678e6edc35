"""Schema version 1 (and 0): what older usagekits wrote, as this one reads it.

In that layout a row holds every field of its record as a column, the id as hex text. A store
opened read-only keeps that layout and is read through this module; opened for writing it is
migrated to the current schema (see :mod:`._migrate`), which reads its rows through this module
too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from .._core.records import DIMENSIONS, Measure, UsageRecord
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

_DIMENSIONS = len(DIMENSIONS)


def decode_legacy(rows: Iterable[Row]) -> Iterator[UsageRecord]:
    """Turn version-1 rows (:data:`LEGACY_COLUMNS`) into their records, each id as stored.

    The rows of one result (consecutive, as a sync wrote them: the same id prefix, interval,
    dimensions and attributes) are built together by :meth:`UsageRecord.trusted_many`; a
    record whose computed id is not the stored one keeps the stored one.

    Raises:
        KeyError, ValueError, TypeError, ArithmeticError: A malformed row (a damaged file).
    """
    measures: list[tuple[str, Measure]] = []
    current: tuple[Any, ...] = ()
    for row in rows:
        record_id, provider, source, start_us, end_us, metric, quantity, unit, kind = row[:9]
        group = (record_id[:32], start_us, end_us, provider, source, *row[9:])
        if group != current:
            if measures:
                yield from _result(current, measures)
                measures = []
            current = group
        measures.append((record_id, (metric, Decimal(quantity), unit, kind)))
    if measures:
        yield from _result(current, measures)


def _result(group: tuple[Any, ...], measures: list[tuple[str, Measure]]) -> list[UsageRecord]:
    """The records of one result's version-1 rows."""
    _, start_us, end_us, provider, source, *rest = group
    dimensions = dict(zip(DIMENSIONS, rest[:_DIMENSIONS], strict=True))
    text = rest[_DIMENSIONS]
    attributes = json.loads(text) if text != "{}" else {}
    if not isinstance(attributes, dict):
        raise TypeError("attributes that are not an object")
    shared: dict[str, Any] = {
        "provider": provider,
        "source": source,
        "start": from_micros(start_us),
        "end": from_micros(end_us),
        **dimensions,
    }
    built = UsageRecord.trusted_many(
        [measure for _, measure in measures], attributes=attributes, **shared
    )
    for index, (record, (record_id, (metric, quantity, unit, kind))) in enumerate(
        zip(built, measures, strict=True)
    ):
        if record.id != record_id:
            built[index] = UsageRecord.model_construct(
                id=record_id,
                metric=metric,
                quantity=quantity,
                unit=unit,
                kind=kind,
                attributes=dict(attributes),
                **shared,
            )
    return built
