"""JSON Lines: records written and read back exactly, streaming, one object per line.

Each line has the :data:`~usagekit.RECORD_COLUMNS` as keys, ``null`` for ``None``, the quantity
as a JSON *string* holding the exact decimal, and ``attributes`` as a nested object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal

from .._core.errors import ExportError
from .._core.records import UsageRecord
from ._columns import RECORD_COLUMNS, build_record, record_values
from ._table import LineFormat, as_table, attribute_texts, table_lines
from ._targets import TextTarget, describe, text_sink, text_source
from ._values import format_time, json_string

__all__ = ["read_jsonl", "write_jsonl"]

_JSON_KEYS = tuple(("{" if i == 0 else ",") + f'"{name}":' for i, name in enumerate(RECORD_COLUMNS))


def _jsonl_line(record: UsageRecord) -> str:
    encode = json_string
    values = record_values(record)
    parts = [
        key + ("null" if value is None else encode(value))
        for key, value in zip(_JSON_KEYS[:-1], values[:-1], strict=True)
    ]
    parts.append(_JSON_KEYS[-1] + str(values[-1]) + "}\n")
    return "".join(parts)


def _jsonl_format() -> LineFormat:
    """JSON Lines as :func:`_jsonl_line` writes them, in the parts :func:`table_lines` joins."""
    encode = json_string
    keys = dict(zip(RECORD_COLUMNS, _JSON_KEYS, strict=True))
    attributes_text = attribute_texts()
    names = RECORD_COLUMNS[9:16]

    def interval(provider: str, source: str, start: datetime, end: datetime) -> str:
        # closes the id's string
        return (
            f'"{keys["provider"]}{encode(provider)}{keys["source"]}{encode(source)}'
            f"{keys['start']}{encode(format_time(start))}"
            f"{keys['end']}{encode(format_time(end))}{keys['metric']}"
        )

    def measure(metric: str, unit: str, kind: str, suffix: str) -> tuple[str, str, str]:
        # the quantity is a JSON string
        return (
            suffix,
            f'{encode(metric)}{keys["quantity"]}"',
            f'"{keys["unit"]}{encode(unit)}{keys["kind"]}{encode(kind)}',
        )

    def tail(dimensions: tuple[str | None, ...], attributes: Mapping[str, str]) -> str:
        values = "".join(
            [
                keys[name] + ("null" if value is None else encode(value))
                for name, value in zip(names, dimensions, strict=True)
            ]
        )
        return f"{values}{keys['attributes']}{attributes_text(attributes)}}}\n"

    return LineFormat(keys["id"] + '"', interval, measure, tail)


def write_jsonl(records: Iterable[UsageRecord], target: TextTarget) -> int:
    """Write records as JSON Lines, streaming: one compact object per line.

    Each object has the :data:`RECORD_COLUMNS` as keys, in order; ``quantity`` is a JSON
    *string* holding the exact decimal (``"0.1000000000000000055511151231257827"``), so no
    JSON parser can round it through a float; ``attributes`` is a nested object; missing
    dimensions are ``null``. A report's records are written from their columns (same file).

    Args:
        records: Any iterable of records, walked once.
        target: A path (written as UTF-8, atomically) or an open text stream (left open).

    Returns:
        The number of records written.

    Raises:
        ExportError: A record's time is naive (only for records built without validation), or
            the target path is not a regular file (nothing is written then).
        OSError: The file cannot be written.
    """
    count = 0
    table = as_table(records)
    with text_sink(target) as out:
        write = out.write
        if table is not None:
            for chunk in table_lines(table, _jsonl_format()):
                write(chunk)
            return len(table)
        for record in records:
            write(_jsonl_line(record))
            count += 1
    return count


def read_jsonl(source: TextTarget) -> Iterator[UsageRecord]:
    """Read records from a JSON Lines file written by :func:`write_jsonl`, one at a time.

    Blank lines are skipped. ``quantity`` may be a string or a JSON number; numbers are read
    as exact decimals, never through a float.

    Args:
        source: A path (read as UTF-8) or an open text stream.

    Yields:
        Each record, validated (its id checked against its fields).

    Raises:
        ExportError: A line is not a JSON object or not a valid record; the message names the
            file, line and column.
        OSError: The file cannot be read.
    """
    where = describe(source)
    with text_source(source, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                try:
                    value = json.loads(line, parse_float=Decimal)
                except ValueError as exc:
                    raise ExportError(f"not valid JSON ({exc})") from None
                if not isinstance(value, dict):
                    raise ExportError(f"expected a JSON object, got {type(value).__name__}")
                yield build_record(value)
            except ExportError as exc:
                raise exc.located(where, number) from None
