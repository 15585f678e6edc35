"""Exports of :class:`~usagekit.UsageRecord` streams: CSV, JSON Lines, Parquet and pandas.

Every writer takes any iterable of records, walks it exactly once and writes as it goes (Parquet
in row groups of ``batch_size``), so a million records stream through in bounded memory. Every
reader yields records one at a time and validates each one (its id included) as it is read.

The flat form of a record (:func:`record_to_row`) is shared by the text formats:

* the columns are :data:`RECORD_COLUMNS`, the record's fields in declaration order;
* ``start`` and ``end`` are ISO 8601 in UTC with a ``Z`` suffix
  (``2026-11-01T00:00:00Z``; fractional seconds only when the time has them);
* ``quantity`` is the exact decimal in plain notation (``0.1000000000000000055511151231257827``,
  ``100``; never an exponent, never a float), so ``Decimal(text)`` gives back the same value;
* ``attributes`` is compact JSON with sorted keys (``{"batch":"false"}``);
* a missing dimension is ``None``.

In CSV, ``None`` is an empty unquoted field and the empty string a quoted empty field
(``""``), so the two stay distinct; other values are quoted only when they hold a comma, a quote
or a line break (RFC 4180). Any CSV reader parses the file, and :func:`read_csv` gives ``None``
and ``""`` back exactly. JSON Lines writes one object
per line with ``null`` for ``None``, the quantity as a JSON *string* holding the exact decimal,
and ``attributes`` as a nested object.

Written to a path, a file appears only complete: the writer fills a hidden temporary file next
to it, flushes it to disk and renames it into place at the end, and removes it if anything fails
on the way (a full disk, a file size limit, Ctrl-C), so the previous file stays as it was. The
target must be a regular file or a new path: a symlink is written through (the file it points
to is replaced, the link stays), the existing file's permission bits (and, where allowed, its
owner) are kept, and a directory, device or FIFO is refused with :class:`ExportError` before
anything is written (see :func:`export_target`).

Parquet (``pip install 'usagekit[parquet]'``) stores ``quantity`` as ``decimal128(38, 18)``
(a value needing more than 18 decimal places or 20 integer digits is refused, never rounded),
``start``/``end`` as ``timestamp[us, tz=UTC]`` and ``attributes`` as a JSON string column.
"""

from __future__ import annotations

import csv
import errno
import functools
import importlib
import json
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation, localcontext
from types import ModuleType
from typing import IO, Any, TypeAlias

import pydantic

from .._core.errors import ConfigError, UsagekitError
from .._core.records import UsageRecord

__all__ = [
    "RECORD_COLUMNS",
    "ExportError",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "record_to_row",
    "row_to_record",
    "to_pandas",
    "write_csv",
    "write_jsonl",
    "write_parquet",
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

_NULLABLE = frozenset(
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
_TIME_COLUMNS = frozenset({"start", "end"})

DEFAULT_BATCH_SIZE = 10_000
"""Rows per Parquet row group, and so the most rows a Parquet writer holds at once."""

PathLike: TypeAlias = str | os.PathLike[str]
"""A file system path."""
TextTarget: TypeAlias = str | os.PathLike[str] | IO[str]
"""A path, or an open text stream."""


class ExportError(UsagekitError, ValueError):
    """An export cannot be written or read back exactly.

    Raised for a malformed file or row (a missing column, an unparseable time or decimal, a
    record whose id does not match its fields), for a value the format cannot hold exactly
    (a quantity that does not fit Parquet's ``decimal128(38, 18)``), and for a target that is
    not a regular file (a directory, a device, a FIFO), before anything is written.

    Attributes:
        source: The file (or stream) being read or written, when known.
        line: The 1-based line (CSV, JSON Lines) or row (Parquet) of the offending data.
        column: The offending column, when one is to blame.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        where = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}")
        if column:
            where.append(f"column {column!r}")
        self.detail = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    def located(self, source: str | None, line: int | None) -> ExportError:
        """Return a copy of this error that names the file and line it came from."""
        return ExportError(
            self.detail,
            source=self.source or source,
            line=self.line if self.line is not None else line,
            column=self.column,
        )


# -- values ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def format_time(moment: datetime) -> str:
    """Return an aware datetime as ISO 8601 UTC with a ``Z`` suffix (cached: buckets repeat).

    Args:
        moment: An aware datetime.

    Returns:
        ``YYYY-MM-DDTHH:MM:SSZ``, with ``.ffffff`` before the ``Z`` when it has microseconds.

    Raises:
        ExportError: The datetime is naive.
    """
    text = moment.isoformat()
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    if moment.utcoffset() is None:
        raise ExportError(f"naive datetime {text!r} cannot be exported; times must be aware")
    return moment.astimezone(UTC).isoformat()[:-6] + "Z"


def parse_time(text: str, *, column: str | None = None) -> datetime:
    """Parse an ISO 8601 time with a UTC offset (``Z`` or ``+HH:MM``) into an aware UTC datetime.

    Args:
        text: The text.
        column: The column being parsed, for the error message.

    Returns:
        The aware datetime, in UTC.

    Raises:
        ExportError: The text is not ISO 8601 or has no offset.
    """
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise ExportError(f"not an ISO 8601 time: {text!r}", column=column) from None
    if parsed.utcoffset() is None:
        raise ExportError(f"time {text!r} has no UTC offset", column=column)
    return parsed.astimezone(UTC)


def format_decimal(value: Decimal) -> str:
    """Return a decimal in plain notation (no exponent), exactly.

    Args:
        value: A finite decimal.

    Returns:
        The text; ``Decimal(text) == value``.
    """
    return format(value, "f")


def _parse_decimal(value: Any, *, column: str) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ExportError(f"not a decimal number: {value!r}", column=column) from None
    else:
        raise ExportError(
            f"expected a decimal string, got {type(value).__name__}: {value!r}", column=column
        )
    if not result.is_finite():
        raise ExportError(f"not a finite number: {value!r}", column=column)
    return result


def trim_decimal(value: Decimal) -> Decimal:
    """Drop the trailing fractional zeros a fixed-scale store adds (``1.500`` -> ``1.5``).

    Exact whatever the number of digits (no decimal context is involved).

    Args:
        value: A finite decimal.

    Returns:
        An equal decimal without trailing fractional zeros (``2.000`` -> ``2``).
    """
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return value
    keep = len(digits)
    while exponent < 0 and keep > 1 and digits[keep - 1] == 0:
        keep -= 1
        exponent += 1
    if keep == 1 and digits[0] == 0:
        exponent = 0
    return Decimal((sign, digits[:keep], exponent))


_json_string: Callable[[str], str] = json.encoder.encode_basestring
"""JSON-encode one string without escaping non-ASCII (the C encoder when available)."""


def json_object(items: Iterable[tuple[str, str]]) -> str:
    """Return string pairs as a compact JSON object, in the given order.

    Same text as ``json.dumps(dict(items), ensure_ascii=False, separators=(",", ":"))``,
    without building the dict.

    Args:
        items: Key, value pairs.

    Returns:
        The JSON text.
    """
    encode = _json_string
    return "{" + ",".join([encode(key) + ":" + encode(value) for key, value in items]) + "}"


def attributes_json(attributes: Mapping[str, str]) -> str:
    """Return attributes as compact JSON with sorted keys.

    Args:
        attributes: String to string.

    Returns:
        The JSON text (``{}`` when empty).
    """
    if not attributes:
        return "{}"
    return json_object(sorted(attributes.items()))


def _parse_attributes(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ExportError(
                f"attributes is not valid JSON: {value!r}", column="attributes"
            ) from None
    if not isinstance(value, dict):
        raise ExportError(
            f"attributes must be a JSON object, got {type(value).__name__}", column="attributes"
        )
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ExportError(
                f"attributes must map strings to strings, got {key!r}: {item!r}",
                column="attributes",
            )
    return value


def _require_record(record: object) -> None:
    if not isinstance(record, UsageRecord):
        raise ConfigError(f"expected UsageRecord items to export, got {type(record).__name__}")


def _record_values(record: UsageRecord) -> list[str | None]:
    """The flat values of a record, in :data:`RECORD_COLUMNS` order."""
    _require_record(record)
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
    return dict(zip(RECORD_COLUMNS, _record_values(record), strict=True))


def _check_columns(names: Iterable[str]) -> None:
    present = set(names)
    missing = [name for name in RECORD_COLUMNS if name not in present]
    if missing:
        raise ExportError(f"missing column(s): {', '.join(missing)}")
    unknown = sorted(present.difference(RECORD_COLUMNS))
    if unknown:
        raise ExportError(
            f"unknown column(s): {', '.join(unknown)}; expected {', '.join(RECORD_COLUMNS)}"
        )


def _build_record(fields: Mapping[str, Any]) -> UsageRecord:
    """Validate typed or textual field values (exactly :data:`RECORD_COLUMNS`) into a record."""
    _check_columns(fields)
    values: dict[str, Any] = {}
    for name in RECORD_COLUMNS:
        value = fields[name]
        if name == "id":
            if value is not None and not isinstance(value, str):
                raise ExportError(f"id must be a string, got {value!r}", column=name)
            values[name] = value or ""
        elif name in _TIME_COLUMNS:
            if isinstance(value, str):
                values[name] = parse_time(value, column=name)
            elif isinstance(value, datetime) and value.utcoffset() is not None:
                values[name] = value.astimezone(UTC)
            else:
                raise ExportError(f"expected an aware time, got {value!r}", column=name)
        elif name == "quantity":
            values[name] = _parse_decimal(value, column=name)
        elif name == "attributes":
            values[name] = _parse_attributes(value)
        elif value is None and name in _NULLABLE:
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
    return _build_record(row)


# -- targets -----------------------------------------------------------------------------------


def _describe(target: object) -> str | None:
    if isinstance(target, (str, os.PathLike)):
        return os.fspath(target)
    name = getattr(target, "name", None)
    return name if isinstance(name, str) else None


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


@dataclass(frozen=True)
class ExportTarget:
    """Where an export to a path lands, checked before anything is written.

    Attributes:
        path: The file that is replaced: the path given, or the file a symlink points to.
        mode: The permission bits of the file there, or None when there is none yet.
        uid: Its owner, or None when there is no file yet.
        gid: Its group, or None when there is no file yet.
    """

    path: str
    mode: int | None
    uid: int | None
    gid: int | None


def export_target(path: PathLike) -> ExportTarget:
    """Check the path an export is about to replace, without writing anything.

    An export replaces a regular file, or creates a new one. A symlink is followed: the file it
    points to is replaced (created when the link dangles) and the link stays. Anything else
    (a directory, a device such as ``/dev/null``, a FIFO, a socket) is refused, because
    replacing it with a regular file would destroy it.

    Args:
        path: The target.

    Returns:
        The file to replace, with the permission bits and owner to keep.

    Raises:
        ExportError: The path is empty, or names (or links to) something that is not a
            regular file.
        OSError: The path cannot be examined (a symlink loop, no permission to search a
            folder), or the file there is read-only to this process (``PermissionError``;
            an export never replaces a file that opening for writing would refuse).
    """
    given = os.fspath(path)
    if not given:
        raise ExportError("the target path is empty")
    final = os.path.realpath(given) if os.path.islink(given) else given
    try:
        info = os.stat(final)
    except FileNotFoundError:
        return ExportTarget(final, None, None, None)
    if not stat.S_ISREG(info.st_mode):
        through = f" (the symlink points to {final})" if final != given else ""
        raise ExportError(
            f"is {_kind(info.st_mode)}{through}, not a regular file; an export only replaces "
            "a regular file or creates a new one, so nothing was written",
            source=given,
        )
    if not os.access(final, os.W_OK):  # what opening it for writing would refuse
        raise PermissionError(errno.EACCES, "the file is read-only", given)
    return ExportTarget(final, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)


def _keep_owner_and_mode(temporary: str, target: ExportTarget) -> None:
    """Give the new file the existing file's owner (where allowed) and permission bits."""
    if target.mode is None:
        return
    chown = getattr(os, "chown", None)
    owner = (target.uid, target.gid)
    if chown is not None and owner != (os.geteuid(), os.getegid()):
        try:
            chown(temporary, target.uid, target.gid)
        except OSError:  # not root: keep at least the group, when a member of it
            with suppress(OSError):
                chown(temporary, -1, target.gid)
    os.chmod(temporary, target.mode)  # after chown, which may clear set-id bits


def _sync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        descriptor = os.open(folder or ".", flags)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def replacing(path: PathLike) -> Iterator[str]:
    """Yield a temporary file next to ``path``, renamed onto it only if the block succeeds.

    The target is checked first (:func:`export_target`): a symlink is written through, and
    anything but a regular file is refused before anything is written. The temporary file is
    created in the target's folder (so the rename is atomic) with the existing file's
    permission bits and, where allowed, its owner (a new file gets the usual ``0666`` less the
    umask); it never holds data with wider permissions than the file it replaces. At the end it
    is flushed to disk (``fsync``), renamed over the target, and the rename made durable. If
    the block raises (a full disk, a file size limit, Ctrl-C), the temporary file is removed and
    the previous file is untouched.

    Args:
        path: The final file.

    Yields:
        The temporary path to write: an empty file, created; open it for writing (truncating
        is fine).

    Raises:
        ExportError: The target is not a regular file (see :func:`export_target`).
        OSError: The temporary file cannot be created, written or renamed.
    """
    target = export_target(path)
    directory, name = os.path.split(target.path)
    temporary = os.path.join(directory, f".{name[:200]}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(temporary, flags, 0o666 if target.mode is None else 0o600)
    except OSError as exc:  # name the target, not the hidden temporary file
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from exc
    try:
        try:
            _keep_owner_and_mode(temporary, target)
            yield temporary
            os.fsync(descriptor)  # the data is on disk before the rename makes it visible
        finally:
            os.close(descriptor)
        export_target(path)  # still a regular file (or nothing) after the time spent writing
        os.replace(temporary, target.path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(directory)


@contextmanager
def text_sink(target: TextTarget) -> Iterator[IO[str]]:
    """Yield a text stream for ``target``: an open stream as is, or a path written atomically.

    Args:
        target: A path (written as UTF-8 through :func:`replacing`) or an open text stream
            (left open).

    Yields:
        The stream to write.

    Raises:
        ExportError: The path is not a regular file (see :func:`export_target`).
        OSError: The file cannot be written.
    """
    if isinstance(target, (str, os.PathLike)):
        with (
            replacing(target) as temporary,
            open(temporary, "w", encoding="utf-8", newline="") as handle,
        ):
            yield handle
    else:
        yield target


@contextmanager
def _text_source(source: TextTarget, *, encoding: str) -> Iterator[IO[str]]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding=encoding, newline="") as handle:
            yield handle
    else:
        yield source


# -- CSV ---------------------------------------------------------------------------------------


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


def write_csv(records: Iterable[UsageRecord], target: TextTarget) -> int:
    """Write records as CSV, streaming: one line per record, nothing held in memory.

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
    with text_sink(target) as out:
        out.write(csv_header(RECORD_COLUMNS))
        write_row = csv_row_writer(out)
        for record in records:
            write_row(_record_values(record))
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
    where = _describe(source)
    line: int | None = None
    with _text_source(source, encoding="utf-8-sig") as stream:
        rows = _csv_records(stream)
        try:
            first = next(rows, None)
            if first is None:
                raise ExportError("empty file: no CSV header")
            line, header = first
            names = [name or "" for name in header]
            _check_columns(names)
            if len(set(names)) != len(names):
                raise ExportError("duplicate column in the CSV header")
            for line, fields in rows:
                if len(fields) != len(names):
                    raise ExportError(
                        f"expected {len(names)} fields, found {len(fields)}", line=line
                    )
                yield _build_record(dict(zip(names, fields, strict=True)))
        except ExportError as exc:
            raise exc.located(where, line) from None


# -- JSON Lines --------------------------------------------------------------------------------


_JSON_KEYS = tuple(("{" if i == 0 else ",") + f'"{name}":' for i, name in enumerate(RECORD_COLUMNS))


def _jsonl_line(record: UsageRecord) -> str:
    encode = _json_string
    values = _record_values(record)
    parts = [
        key + ("null" if value is None else encode(value))
        for key, value in zip(_JSON_KEYS[:-1], values[:-1], strict=True)
    ]
    parts.append(_JSON_KEYS[-1] + str(values[-1]) + "}\n")
    return "".join(parts)


def write_jsonl(records: Iterable[UsageRecord], target: TextTarget) -> int:
    """Write records as JSON Lines, streaming: one compact object per line.

    Each object has the :data:`RECORD_COLUMNS` as keys, in order; ``quantity`` is a JSON
    *string* holding the exact decimal (``"0.1000000000000000055511151231257827"``), so no
    JSON parser can round it through a float; ``attributes`` is a nested object; missing
    dimensions are ``null``.

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
    with text_sink(target) as out:
        write = out.write
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
    where = _describe(source)
    with _text_source(source, encoding="utf-8") as stream:
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
                yield _build_record(value)
            except ExportError as exc:
                raise exc.located(where, number) from None


# -- optional dependencies ---------------------------------------------------------------------


def import_optional(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or explain which extra installs it.

    Args:
        module: The module to import (``"pyarrow.parquet"``).
        extra: The usagekit extra that provides it (``"parquet"``).

    Returns:
        The module.

    Raises:
        ConfigError: The module is not installed; the message says
            ``pip install 'usagekit[<extra>]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"{module.split('.')[0]} is required for this export but is not installed "
            f"({exc}); install it with: pip install 'usagekit[{extra}]'"
        ) from exc


# -- Parquet -----------------------------------------------------------------------------------

_DECIMAL_PRECISION = 38
_DECIMAL_SCALE = 18


def decimal_fits(value: Decimal) -> bool:
    """Return whether a decimal is stored exactly by ``decimal128(38, 18)``.

    Args:
        value: A finite decimal.

    Returns:
        True when it has at most 18 significant fractional digits and 20 integer digits.
    """
    with localcontext() as context:
        context.prec = len(value.as_tuple().digits) + _DECIMAL_PRECISION
        scaled = value.scaleb(_DECIMAL_SCALE)
        return scaled == scaled.to_integral_value() and abs(scaled) < 10**_DECIMAL_PRECISION


def decimal_type(pa: ModuleType) -> Any:
    """The Arrow type of every exact decimal usagekit writes: ``decimal128(38, 18)``."""
    return pa.decimal128(_DECIMAL_PRECISION, _DECIMAL_SCALE)


def timestamp_type(pa: ModuleType) -> Any:
    """The Arrow type of every time usagekit writes: ``timestamp[us, tz=UTC]``."""
    return pa.timestamp("us", tz="UTC")


def _record_schema(pa: ModuleType) -> Any:
    fields = []
    for name in RECORD_COLUMNS:
        if name in _TIME_COLUMNS:
            arrow_type = timestamp_type(pa)
        elif name == "quantity":
            arrow_type = decimal_type(pa)
        else:
            arrow_type = pa.string()
        fields.append(pa.field(name, arrow_type, nullable=name in _NULLABLE))
    return pa.schema(fields, metadata={"usagekit.format": "UsageRecord/1"})


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")


def write_parquet_rows(
    rows: Iterable[Sequence[Any]],
    path: PathLike,
    *,
    pa: ModuleType,
    pq: ModuleType,
    schema: Any,
    batch_size: int,
    describe: Callable[[Sequence[Any]], str],
) -> int:
    """Stream row tuples into a Parquet file, one row group per ``batch_size`` rows.

    Args:
        rows: Tuples in schema column order, walked once.
        path: The file, written atomically.
        pa: The ``pyarrow`` module.
        pq: The ``pyarrow.parquet`` module.
        schema: The Arrow schema.
        batch_size: Rows per row group (the most rows held at once).
        describe: Names a row in error messages (``"record <id>"``).

    Returns:
        The number of rows written.

    Raises:
        ExportError: A decimal does not fit ``decimal128(38, 18)`` exactly, or the path is
            not a regular file.
        OSError: The file cannot be written.
    """
    _check_batch_size(batch_size)
    where = os.fspath(path)
    names = list(schema.names)
    types = [schema.field(name).type for name in names]
    decimal_columns = {i for i, arrow_type in enumerate(types) if pa.types.is_decimal(arrow_type)}
    count = 0

    def flush(batch: list[Sequence[Any]]) -> None:
        columns = list(zip(*batch, strict=True))
        arrays = []
        for index, (column, arrow_type) in enumerate(zip(columns, types, strict=True)):
            try:
                arrays.append(pa.array(column, type=arrow_type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                if index in decimal_columns:
                    for offset, value in enumerate(column):
                        if value is not None and not decimal_fits(value):
                            raise ExportError(
                                f"{describe(batch[offset])}: {names[index]} {value} does not "
                                "fit decimal128(38, 18) exactly (at most 18 decimal places and "
                                "20 integer digits); refusing to round it",
                                source=where,
                                line=count - len(batch) + offset + 1,
                                column=names[index],
                            ) from None
                raise ExportError(
                    f"cannot convert column to Arrow: {exc}", source=where, column=names[index]
                ) from exc
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=batch_size)

    with replacing(path) as temporary:
        writer = pq.ParquetWriter(temporary, schema)
        try:
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                count += 1
                if len(batch) >= batch_size:
                    flush(batch)
                    batch = []
            if batch:
                flush(batch)
        finally:
            writer.close()
    return count


def _record_tuple(record: UsageRecord) -> tuple[Any, ...]:
    _require_record(record)
    return (
        record.id,
        record.provider,
        record.source,
        record.start,
        record.end,
        record.metric,
        record.quantity,
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
    )


def write_parquet(
    records: Iterable[UsageRecord],
    path: PathLike,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Write records to a Parquet file, streaming, in row groups of ``batch_size``.

    Needs ``pyarrow`` (``pip install 'usagekit[parquet]'``). Columns: strings, ``quantity``
    as ``decimal128(38, 18)``, ``start``/``end`` as ``timestamp[us, tz=UTC]``, ``attributes``
    as a JSON string (compact, sorted keys). Only one batch is held in memory at a time.

    Args:
        records: Any iterable of records, walked once.
        path: The file, written atomically (a failure leaves no partial file).
        batch_size: Records per row group.

    Returns:
        The number of records written.

    Raises:
        ConfigError: pyarrow is not installed, or ``batch_size`` is not a positive integer.
        ExportError: A quantity does not fit ``decimal128(38, 18)`` exactly (more than 18
            decimal places or 20 integer digits; it is refused rather than rounded), or the
            path is not a regular file (nothing is written then).
        OSError: The file cannot be written.
    """
    pa = import_optional("pyarrow", "parquet")
    pq = import_optional("pyarrow.parquet", "parquet")
    _check_batch_size(batch_size)
    return write_parquet_rows(
        (_record_tuple(record) for record in records),
        path,
        pa=pa,
        pq=pq,
        schema=_record_schema(pa),
        batch_size=batch_size,
        describe=lambda row: f"record {row[0]}",
    )


def _read_parquet(pq: ModuleType, path: PathLike, batch_size: int) -> Iterator[UsageRecord]:
    where = os.fspath(path)
    try:
        parquet = pq.ParquetFile(where)
    except OSError:
        raise
    except Exception as exc:
        raise ExportError(f"not a readable Parquet file: {exc}", source=where) from None
    try:
        try:
            _check_columns(parquet.schema_arrow.names)
        except ExportError as exc:
            raise exc.located(where, None) from None
        number = 0
        for batch in parquet.iter_batches(batch_size=batch_size, columns=list(RECORD_COLUMNS)):
            for row in batch.to_pylist():
                number += 1
                quantity = row["quantity"]
                if isinstance(quantity, Decimal) and quantity.is_finite():
                    row["quantity"] = trim_decimal(quantity)
                try:
                    yield _build_record(row)
                except ExportError as exc:
                    raise exc.located(where, number) from None
    finally:
        parquet.close()


def read_parquet(path: PathLike, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[UsageRecord]:
    """Read records from a Parquet file written by :func:`write_parquet`, batch by batch.

    Quantities come back as exact decimals without the trailing zeros of the fixed scale
    (stored ``0.100000000000000000`` reads as ``Decimal("0.1")``).

    Args:
        path: The file.
        batch_size: Rows decoded at a time.

    Returns:
        An iterator of validated records (ids checked against their fields).

    Raises:
        ConfigError: pyarrow is not installed (raised by this call, before iterating), or
            ``batch_size`` is not a positive integer.
        ExportError: While iterating: the file is not Parquet, lacks a column or has an
            unknown one, or a row is not a valid record.
        OSError: While iterating: the file cannot be read.
    """
    import_optional("pyarrow", "parquet")
    pq = import_optional("pyarrow.parquet", "parquet")
    _check_batch_size(batch_size)
    return _read_parquet(pq, path, batch_size)


# -- pandas ------------------------------------------------------------------------------------


def to_pandas(records: Iterable[UsageRecord], *, decimal: bool = True) -> Any:
    """Return records as a pandas DataFrame with the :data:`RECORD_COLUMNS`.

    Needs pandas (``pip install 'usagekit[pandas]'``). ``start``/``end`` are
    ``datetime64[..., UTC]``; ``quantity`` holds the exact ``Decimal`` objects (object dtype)
    or, with ``decimal=False``, ``float64`` (inexact, but fast to aggregate); ``attributes``
    holds dicts; missing dimensions are missing values. The records are walked once.

    Args:
        records: Any iterable of records.
        decimal: Keep quantities as exact decimals (True) or convert them to floats.

    Returns:
        A ``pandas.DataFrame``, one row per record, in iteration order.

    Raises:
        ConfigError: pandas is not installed.
    """
    pd = import_optional("pandas", "pandas")
    columns: dict[str, list[Any]] = {name: [] for name in RECORD_COLUMNS}
    appenders = [columns[name].append for name in RECORD_COLUMNS]
    for record in records:
        quantity = record.quantity if decimal else float(record.quantity)
        values = (
            record.id,
            record.provider,
            record.source,
            record.start,
            record.end,
            record.metric,
            quantity,
            record.unit,
            record.kind,
            record.organization_id,
            record.project_id,
            record.user_id,
            record.user_email,
            record.api_key_id,
            record.model,
            record.line_item,
            dict(record.attributes),
        )
        for append, value in zip(appenders, values, strict=True):
            append(value)
    data: dict[str, Any] = {}
    for name in RECORD_COLUMNS:
        if name in _TIME_COLUMNS:
            data[name] = pd.to_datetime(pd.Series(columns[name], dtype=object), utc=True)
        elif name == "quantity":
            data[name] = pd.Series(columns[name], dtype=object if decimal else "float64")
        else:
            data[name] = pd.Series(columns[name], dtype=object)
    return pd.DataFrame(data, columns=list(RECORD_COLUMNS))
