"""CSV: records written and read back exactly, streaming; the CSV line format FOCUS shares.

In CSV, ``None`` is an empty unquoted field and the empty string a quoted empty field
(``""``), so the two stay distinct; other values are quoted only when they hold a comma, a quote
or a line break (RFC 4180). Any CSV reader parses the file, and :func:`read_csv` gives ``None``
and ``""`` back exactly. The columns and values are the flat form of a record (see
:mod:`usagekit._io._columns`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO

from .._core.errors import ExportError
from .._core.records import UsageRecord
from .._core.table import RecordTable
from ._columns import RECORD_COLUMNS, build_record, check_columns, record_values
from ._table import LineFormat, as_table, attribute_texts, table_lines
from ._targets import TextTarget, describe, text_sink, text_source
from ._values import format_time

__all__ = ["csv_header", "csv_line", "csv_row_writer", "read_csv", "write_csv"]

_SPECIAL = re.compile(r'["\r\n]')


def _csv_field(value: str | None) -> str:
    if value is None:
        return ""
    if not value:
        return '""'
    if "," in value or _SPECIAL.search(value) is not None:
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_line(values: Iterable[str | None]) -> str:
    """Return one CSV record in which ``None`` and ``""`` stay distinct.

    ``None`` is an empty unquoted field, the empty string a quoted empty field (``""``); other
    values are quoted only when they hold a comma, a quote or a line break (quotes doubled).

    Args:
        values: The fields.

    Returns:
        The line, ending in ``\r\n`` (RFC 4180).
    """
    return ",".join([_csv_field(value) for value in values]) + "\r\n"


def csv_row_writer(out: IO[str]) -> Callable[[Sequence[str | None]], None]:
    """Return a function that writes rows to ``out`` exactly as :func:`csv_line` formats them.

    Rows without an empty string go through the C ``csv`` writer (minimal quoting, ``None`` as
    an empty field), which is what :func:`csv_line` produces for them; the rare rows holding an
    empty string are formatted by :func:`csv_line`, which quotes it.

    Args:
        out: The text stream.

    Returns:
        The row writer.
    """
    fast = csv.writer(out, lineterminator="\r\n").writerow
    write = out.write

    def write_row(values: Sequence[str | None]) -> None:
        if "" in values:
            write(csv_line(values))
        else:
            fast(values)

    return write_row


def csv_header(columns: Iterable[str]) -> str:
    """Return a CSV header line (plain column names, unquoted)."""
    return ",".join(columns) + "\r\n"


def _split_csv(text: str, line: int) -> list[str | None]:
    fields: list[str | None] = []
    position = 0
    size = len(text)
    while True:
        if position < size and text[position] == '"':
            end = position + 1
            while True:
                end = text.find('"', end)
                if end < 0:
                    raise ExportError("unterminated quoted field", line=line)
                if text.startswith('""', end):
                    end += 2
                    continue
                break
            fields.append(text[position + 1 : end].replace('""', '"'))
            position = end + 1
            if position == size:
                return fields
            if text[position] != ",":
                raise ExportError("unexpected text after a quoted field", line=line)
            position += 1
        else:
            comma = text.find(",", position)
            stop = size if comma < 0 else comma
            value = text[position:stop]
            if '"' in value:
                raise ExportError("stray quote in an unquoted field", line=line)
            fields.append(value or None)
            if comma < 0:
                return fields
            position = comma + 1


def _csv_records(stream: IO[str]) -> Iterator[tuple[int, list[str | None]]]:
    """Yield (first line number, fields) per CSV record, quoted newlines included."""
    pending: list[str] = []
    quotes = 0
    start = 0
    number = 0
    for line in stream:
        number += 1
        if not pending:
            start = number
        pending.append(line)
        quotes += line.count('"')
        if quotes % 2:
            continue
        text = pending[0] if len(pending) == 1 else "".join(pending)
        pending.clear()
        quotes = 0
        if text.endswith("\n"):
            text = text[:-2] if text.endswith("\r\n") else text[:-1]
        elif text.endswith("\r"):
            text = text[:-1]
        if text:
            yield start, _split_csv(text, start)
    if pending:
        raise ExportError("unterminated quoted field at the end of the file", line=start)


def _csv_format() -> LineFormat:
    """CSV lines as :func:`csv_line` writes them, in the parts :func:`table_lines` joins."""
    texts: dict[str | None, str] = {}

    def field(value: str | None) -> str:
        text = texts.get(value)
        if text is None:
            text = texts[value] = _csv_field(value)
        return text

    attributes_text = attribute_texts()

    def interval(provider: str, source: str, start: datetime, end: datetime) -> str:
        return f",{field(provider)},{field(source)},{format_time(start)},{format_time(end)},"

    def measure(metric: str, unit: str, kind: str, suffix: str) -> tuple[str, str, str]:
        return suffix, field(metric) + ",", f",{field(unit)},{field(kind)}"

    def tail(dimensions: tuple[str | None, ...], attributes: Mapping[str, str]) -> str:
        values = ",".join([field(value) for value in dimensions])
        return f",{values},{_csv_field(attributes_text(attributes))}\r\n"

    return LineFormat("", interval, measure, tail)


def _write_table(table: RecordTable, out: IO[str]) -> int:
    write = out.write
    for chunk in table_lines(table, _csv_format()):
        write(chunk)
    return len(table)


def write_csv(records: Iterable[UsageRecord], target: TextTarget) -> int:
    """Write records as CSV, streaming: one line per record, nothing held in memory.

    A report's records (a :class:`~usagekit._core.table.RecordTable`) are written from their
    columns, without building a record each; the file is the same.

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
        out.write(csv_header(RECORD_COLUMNS))
        if table is not None:
            return _write_table(table, out)
        write_row = csv_row_writer(out)
        for record in records:
            write_row(record_values(record))
            count += 1
    return count


def read_csv(source: TextTarget) -> Iterator[UsageRecord]:
    """Read records from a CSV file written by :func:`write_csv`, one at a time.

    The header must name exactly :data:`RECORD_COLUMNS` (any order). An empty unquoted field
    is ``None``; a quoted empty field is the empty string.

    Args:
        source: A path (read as UTF-8, a byte-order mark tolerated) or an open text stream.

    Yields:
        Each record, validated (its id checked against its fields).

    Raises:
        ExportError: The file is empty or malformed, or a row is not a valid record; the
            message names the file, line and column.
        OSError: The file cannot be read.
    """
    where = describe(source)
    line: int | None = None
    with text_source(source, encoding="utf-8-sig") as stream:
        rows = _csv_records(stream)
        try:
            first = next(rows, None)
            if first is None:
                raise ExportError("empty file: no CSV header")
            line, header = first
            names = [name or "" for name in header]
            check_columns(names)
            if len(set(names)) != len(names):
                raise ExportError("duplicate column in the CSV header")
            for line, fields in rows:
                if len(fields) != len(names):
                    raise ExportError(
                        f"expected {len(names)} fields, found {len(fields)}", line=line
                    )
                yield build_record(dict(zip(names, fields, strict=True)))
        except ExportError as exc:
            raise exc.located(where, line) from None
