"""The flat form of a record, shared by every record export (:func:`record_to_row`).

* the columns are :data:`RECORD_COLUMNS`, the record's fields in declaration order;
* ``start`` and ``end`` are ISO 8601 in UTC with a ``Z`` suffix, ``quantity`` the exact decimal
  in plain notation, ``attributes`` compact JSON with sorted keys (see
  :mod:`usagekit._io._values`);
* a missing dimension is ``None``.

:func:`build_record` is the way back for every reader: it validates typed or textual values
(its id included) into a :class:`~usagekit.UsageRecord`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import pydantic

from .._core.errors import ConfigError, ExportError
from .._core.records import UsageRecord
from ._values import (
    attributes_json,
    format_decimal,
    format_time,
    parse_attributes,
    parse_decimal,
    parse_time,
)

__all__ = [
    "NULLABLE_COLUMNS",
    "RECORD_COLUMNS",
    "TIME_COLUMNS",
    "build_record",
    "check_columns",
    "record_to_row",
    "record_values",
    "require_record",
    "row_to_record",
]

UTC = timezone.utc

RECORD_COLUMNS: tuple[str, ...] = (
    "id",
    "provider",
    "source",
    "start",
    "end",
    "metric",
    "quantity",
    "unit",
    "kind",
    "organization_id",
    "project_id",
    "user_id",
    "user_email",
    "api_key_id",
    "model",
    "line_item",
    "attributes",
)
"""The columns of every record export, in this order (the fields of :class:`UsageRecord`)."""

NULLABLE_COLUMNS = frozenset(
    {
        "organization_id",
        "project_id",
        "user_id",
        "user_email",
        "api_key_id",
        "model",
        "line_item",
    }
)
TIME_COLUMNS = frozenset({"start", "end"})


def require_record(record: object) -> None:
    if not isinstance(record, UsageRecord):
        raise ConfigError(f"expected UsageRecord items to export, got {type(record).__name__}")


def record_values(record: UsageRecord) -> list[str | None]:
    """The flat values of a record, in :data:`RECORD_COLUMNS` order."""
    require_record(record)
    return [
        record.id,
        record.provider,
        record.source,
        format_time(record.start),
        format_time(record.end),
        record.metric,
        format_decimal(record.quantity),
        record.unit,
        record.kind,
        record.organization_id,
        record.project_id,
        record.user_id,
        record.user_email,
        record.api_key_id,
        record.model,
        record.line_item,
        attributes_json(record.attributes),
    ]


def record_to_row(record: UsageRecord) -> dict[str, str | None]:
    """Flatten a record into strings, keyed by :data:`RECORD_COLUMNS` in order.

    Args:
        record: The record.

    Returns:
        The row: times ISO 8601 UTC with ``Z``, the quantity as an exact plain decimal string,
        attributes as compact sorted JSON, missing dimensions as ``None``.

    Raises:
        ExportError: A time is naive (only possible for a record built without validation).
    """
    return dict(zip(RECORD_COLUMNS, record_values(record), strict=True))


def check_columns(names: Iterable[str]) -> None:
    present = set(names)
    missing = [name for name in RECORD_COLUMNS if name not in present]
    if missing:
        raise ExportError(f"missing column(s): {', '.join(missing)}")
    unknown = sorted(present.difference(RECORD_COLUMNS))
    if unknown:
        raise ExportError(
            f"unknown column(s): {', '.join(unknown)}; expected {', '.join(RECORD_COLUMNS)}"
        )


def build_record(fields: Mapping[str, Any]) -> UsageRecord:
    """Validate typed or textual field values (exactly :data:`RECORD_COLUMNS`) into a record."""
    check_columns(fields)
    values: dict[str, Any] = {}
    for name in RECORD_COLUMNS:
        value = fields[name]
        if name == "id":
            if value is not None and not isinstance(value, str):
                raise ExportError(f"id must be a string, got {value!r}", column=name)
            values[name] = value or ""
        elif name in TIME_COLUMNS:
            if isinstance(value, str):
                values[name] = parse_time(value, column=name)
            elif isinstance(value, datetime) and value.utcoffset() is not None:
                values[name] = value.astimezone(UTC)
            else:
                raise ExportError(f"expected an aware time, got {value!r}", column=name)
        elif name == "quantity":
            values[name] = parse_decimal(value, column=name)
        elif name == "attributes":
            values[name] = parse_attributes(value)
        elif value is None and name in NULLABLE_COLUMNS:
            values[name] = None
        elif isinstance(value, str):
            values[name] = value
        else:
            raise ExportError(f"expected a string, got {value!r}", column=name)
    try:
        return UsageRecord.model_validate(values)
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        column = ".".join(str(part) for part in error["loc"]) or None
        message = str(error["msg"]).removeprefix("Value error, ")
        if "id does not match" in message:
            message = (
                f"id {values['id']!r} does not match the record's fields "
                "(the row was edited or corrupted)"
            )
        raise ExportError(message, column=column) from None


def row_to_record(row: Mapping[str, str | None]) -> UsageRecord:
    """Rebuild a record from a row made by :func:`record_to_row` (the inverse).

    Args:
        row: Exactly the :data:`RECORD_COLUMNS` (in any order). ``id`` may be empty, in which
            case it is computed; otherwise it must match the other fields.

    Returns:
        The validated record.

    Raises:
        ExportError: A column is missing or unknown, a value does not parse (time without
            offset, non-decimal quantity, attributes not a JSON object of strings), the record
            is invalid, or its id does not match its fields.
    """
    return build_record(row)
