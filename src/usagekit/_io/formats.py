"""The output formats: one :class:`Format` per format records are written in, in :data:`FORMATS`.

Each entry says what ``usagekit export --format <name>`` writes, which file names go with it,
whether it needs pyarrow, and which writer writes it; :class:`~usagekit.UsageReport`'s
``to_csv``, ``to_jsonl``, ``to_parquet``, ``to_focus_csv`` and ``to_focus_parquet`` write through
it, and the command takes its ``--format`` choices and its file name checks from here. A writer
is imported only when it is used, so reading this registry costs no import of a format.

Adding a record format is one module in ``usagekit/_io/`` (``write_<name>(records, target) ->
int``) and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .._core.records import UsageRecord

__all__ = [
    "COMPRESSED_SUFFIXES",
    "EXPORT_CHOICES",
    "FORMATS",
    "REPORT_CONTAINERS",
    "SUFFIXES",
    "Format",
    "RecordWriter",
    "export_format",
    "export_name_problem",
    "html_name_problem",
    "name_problem",
    "report_name_problem",
]

RecordWriter = Callable[[Iterable[UsageRecord], Any], int]
"""A writer: ``write(records, target) -> number of rows written``."""


@dataclass(frozen=True)
class Format:
    """One output format of records.

    Attributes:
        name: Its key, and its ``usagekit export --format`` choice (``"csv"``, ``"focus"``).
        container: What its files hold, as messages say it (``"CSV"``, ``"JSON Lines"``,
            ``"Parquet"``).
        method: The :class:`~usagekit.UsageReport` method that writes it (``"to_csv"``).
        load: Imports the format's module and returns its writer.
        needs_pyarrow: Writing it needs the ``parquet`` extra (and a path, not a stream).
        focus: It writes FOCUS 1.2 rows (the cost records only), not every record.
        parquet_variant: The format written instead when the file is named like a Parquet
            file (``focus`` writes ``focus-parquet`` to ``x.parquet``), or None.
    """

    name: str
    container: str
    method: str
    load: Callable[[], RecordWriter]
    needs_pyarrow: bool = False
    focus: bool = False
    parquet_variant: str | None = None

    @property
    def suffixes(self) -> tuple[str, ...]:
        """The file name suffixes of its container, lower case, the usual one first."""
        return _CONTAINER_SUFFIXES[self.container]

    @property
    def streams(self) -> bool:
        """Whether it can be written to an open text stream (standard output)."""
        return not self.needs_pyarrow

    def writer(self) -> RecordWriter:
        """Import and return the writer.

        Returns:
            ``write(records, target) -> int``: a path, or an open text stream when
            :attr:`streams`.
        """
        return self.load()

    def write(self, records: Iterable[UsageRecord], target: Any) -> int:
        """Write records in this format.

        Args:
            records: Any iterable of records, walked once.
            target: A path (written atomically), or an open text stream when :attr:`streams`.

        Returns:
            The number of rows written.

        Raises:
            ConfigError: pyarrow is not installed (for a Parquet format).
            ExportError: A value the format cannot hold exactly, or a target that is not a
                regular file (nothing is written then).
            OSError: The file cannot be written.
        """
        return self.load()(records, target)


def _csv() -> RecordWriter:
    from .csv import write_csv

    return write_csv


def _jsonl() -> RecordWriter:
    from .jsonl import write_jsonl

    return write_jsonl


def _parquet() -> RecordWriter:
    from .parquet import write_parquet

    return write_parquet


def _focus_csv() -> RecordWriter:
    from .focus import write_focus_csv

    return write_focus_csv


def _focus_parquet() -> RecordWriter:
    from .focus import write_focus_parquet

    return write_focus_parquet


FORMATS: Mapping[str, Format] = MappingProxyType(
    {
        entry.name: entry
        for entry in (
            Format("csv", "CSV", "to_csv", _csv),
            Format("jsonl", "JSON Lines", "to_jsonl", _jsonl),
            Format("parquet", "Parquet", "to_parquet", _parquet, needs_pyarrow=True),
            Format(
                "focus",
                "CSV",
                "to_focus_csv",
                _focus_csv,
                focus=True,
                parquet_variant="focus-parquet",
            ),
            Format(
                "focus-parquet",
                "Parquet",
                "to_focus_parquet",
                _focus_parquet,
                needs_pyarrow=True,
                focus=True,
            ),
        )
    }
)
"""Every record format, by name, in the order ``usagekit export --format`` lists them."""

EXPORT_CHOICES: tuple[str, ...] = tuple(FORMATS)
"""The choices of ``usagekit export --format``."""

REPORT_CONTAINERS: Mapping[str, str] = MappingProxyType(
    {"table": "text", "csv": "CSV", "json": "JSON"}
)
"""What ``usagekit report --format`` writes (totals, not records), by choice."""

_CONTAINER_SUFFIXES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "CSV": (".csv",),
        "tab-separated text": (".tsv",),
        "JSON": (".json",),
        "JSON Lines": (".jsonl", ".ndjson"),
        "Parquet": (".parquet", ".pq"),
        "text": (),
    }
)

SUFFIXES: Mapping[str, str] = MappingProxyType(
    {suffix: container for container, names in _CONTAINER_SUFFIXES.items() for suffix in names}
)
"""File name suffixes (lower case) that say what a file holds, and what that is."""

COMPRESSED_SUFFIXES = frozenset({".gz", ".bz2", ".xz", ".zst", ".lz4", ".br", ".zip", ".7z"})
"""Suffixes of compressed files, which usagekit never writes."""

_EXPORT_HINTS = MappingProxyType(
    {name: entry.container for name, entry in FORMATS.items() if not entry.focus}
)


def _named(path: str) -> str | None:
    return SUFFIXES.get(Path(path).suffix.lower())


def export_format(name: str, path: str | None) -> Format:
    """Return the format ``usagekit export --format name -o path`` writes.

    Args:
        name: A choice of :data:`EXPORT_CHOICES`.
        path: The output file, or None for standard output.

    Returns:
        The entry: ``focus`` is FOCUS as CSV, or as Parquet when the file is named
        ``*.parquet``/``*.pq``.

    Raises:
        KeyError: Not a format name.
    """
    entry = FORMATS[name]
    if entry.parquet_variant is not None and path is not None and _named(path) == "Parquet":
        return FORMATS[entry.parquet_variant]
    return entry


def name_problem(
    choice: str,
    container: str,
    path: str | None,
    choices: Mapping[str, str],
    *,
    entry: Format | None = None,
) -> str | None:
    """Say why a file name does not fit what is written to it, if it does not.

    Args:
        choice: The ``--format`` given.
        container: What that format writes (``"CSV"``, ``"Parquet"``, ...).
        path: The output file, or None for standard output.
        choices: The command's ``--format`` choices by what they write, for the hint.
        entry: The record format chosen (``usagekit export``), or None; one with a
            :attr:`~Format.parquet_variant` (``focus``) is explained as the two it writes.

    Returns:
        None when the name fits (or says nothing); else the message, e.g. for ``-o x.parquet``
        with ``--format csv``, or a compressed name.
    """
    if path is None:
        return None
    name = Path(path)
    suffix = name.suffix.lower()
    if suffix in COMPRESSED_SUFFIXES:
        return (
            f"cannot write {path}: usagekit writes {container} uncompressed; write "
            f"{name.with_suffix('')} and compress it afterwards"
        )
    named = SUFFIXES.get(suffix)
    if named is None or named == container:
        return None
    if entry is not None and entry.parquet_variant is not None:
        variant = FORMATS[entry.parquet_variant]
        return (
            f"--format {choice} writes FOCUS as {entry.container} (or as {variant.container} "
            f"to a name ending in {variant.suffixes[0]}), but {path} is named like a {named} file"
        )
    hints = [f"--format {flag} for {named}" for flag, what in choices.items() if what == named]
    usual = _CONTAINER_SUFFIXES.get(container, ())
    if usual:
        hints.append(f"a name ending in {usual[0]}")
    return (
        f"--format {choice} writes {container}, but {path} is named like a {named} file; "
        f"use {' or '.join(hints) or 'another name'}"
    )


def export_name_problem(choice: str, path: str | None) -> str | None:
    """:func:`name_problem` for ``usagekit export --format choice -o path``.

    Args:
        choice: A choice of :data:`EXPORT_CHOICES`.
        path: The output file, or None for standard output.

    Returns:
        None, or why the name does not fit.
    """
    container = export_format(choice, path).container
    return name_problem(choice, container, path, _EXPORT_HINTS, entry=FORMATS[choice])


def report_name_problem(choice: str, path: str | None) -> str | None:
    """:func:`name_problem` for ``usagekit report --format choice -o path``.

    Args:
        choice: A key of :data:`REPORT_CONTAINERS`.
        path: The output file, or None for standard output.

    Returns:
        None, or why the name does not fit.
    """
    return name_problem(choice, REPORT_CONTAINERS[choice], path, REPORT_CONTAINERS)


def html_name_problem(path: str) -> str | None:
    """Say why ``--html path`` is misnamed: a name that says another format.

    Args:
        path: The HTML report's file.

    Returns:
        None, or the message.
    """
    named = _named(path)
    if named is None:
        return None
    return (
        f"--html writes HTML, but {path} is named like a {named} file; use a name ending in .html"
    )
