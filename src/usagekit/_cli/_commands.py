"""The commands: ``report``, ``export``, ``sync`` and ``sandbox``, each a handler of its
parsed arguments returning the exit code."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .._io.formats import export_format, export_name_problem, report_name_problem
from .._report import UsageReport
from ._checks import (
    check_fetch_arguments,
    check_html,
    check_name,
    check_output,
    require_parquet,
    writing,
)
from ._common import EXIT_OK, EXIT_PARTIAL, CommandError, say, to_stdout
from ._fetch import clients, fetch
from ._output import report_failures, write_report

__all__ = ["cmd_export", "cmd_report", "cmd_sandbox", "cmd_sync"]


def _file(path: str | None) -> str | None:
    """The ``-o`` given as the format registry takes it: None for standard output."""
    return None if to_stdout(path) else path


def _by(args: argparse.Namespace) -> list[str]:
    return [part.strip() for part in args.by.split(",") if part.strip()]


def cmd_report(args: argparse.Namespace) -> int:
    """``usagekit report``: totals of a window, as a table, CSV or JSON (and HTML).

    Args:
        args: The parsed arguments.

    Returns:
        The exit code.

    Raises:
        CommandError: A bad argument or an output that cannot be written.
    """
    check_name(report_name_problem(args.format, _file(args.output)))
    check_output(args.output)
    check_fetch_arguments(args)
    UsageReport.from_records(()).totals(_by(args))  # an unknown --by dimension, before fetching
    check_html(args)
    report = fetch(args)
    with writing(args.output), output_stream(args.output) as out:
        write_report(report, args, out)
    if getattr(args, "html", None):
        with writing(args.html):
            report.to_html(args.html, budget=args.budget, allocate=None)
        say(f"usagekit: wrote the HTML report to {args.html}")
    return report_failures(report)


def cmd_export(args: argparse.Namespace) -> int:
    """``usagekit export``: every record as CSV, JSON Lines, Parquet or FOCUS.

    Args:
        args: The parsed arguments.

    Returns:
        The exit code.

    Raises:
        CommandError: A bad argument or an output that cannot be written.
    """
    output = _file(args.output)
    entry = export_format(args.format, output)  # focus to x.parquet writes focus-parquet
    if output is None and not entry.streams:
        raise CommandError(f"--format {args.format} writes {entry.container}, which needs -o FILE")
    check_name(export_name_problem(args.format, output))
    if entry.needs_pyarrow:
        require_parquet()
    check_output(args.output)
    check_fetch_arguments(args)
    report = fetch(args)
    target: str | IO[str] = sys.stdout if output is None else output
    with writing(args.output):
        count = entry.write(report.records, target)
    if not to_stdout(args.output):
        say(f"usagekit: wrote {count:,} rows to {args.output}")
    return report_failures(report)


def cmd_sync(args: argparse.Namespace) -> int:
    """``usagekit sync``: fetch what the store lacks into it.

    Args:
        args: The parsed arguments.

    Returns:
        The exit code.

    Raises:
        CommandError: ``--db`` names a folder, or its folder is missing.
    """
    from .._core.clock import as_utc
    from .._store.store import Store
    from .._store.sync import sync

    if args.since is not None:
        as_utc(args.since, name="--since")  # before the store file is created
    database = Path(args.db)
    if database.is_dir():
        raise CommandError(f"{args.db} is a folder; --db names the store's file")
    if not database.resolve().parent.is_dir():
        raise CommandError(
            f"cannot create the store {args.db}: {database.resolve().parent} is not a folder"
        )
    with clients(args) as chosen, Store(args.db) as store:
        result = sync(store, chosen, since=args.since, lookback=args.lookback)
    sys.stdout.write(f"{result}\n")
    for failure in result.failures:
        say(f"usagekit: {failure.provider} failed: {failure.error}")
    return EXIT_OK if result.ok else EXIT_PARTIAL


def cmd_sandbox(args: argparse.Namespace) -> int:
    """``usagekit sandbox``: serve the sandbox until interrupted.

    Args:
        args: The parsed arguments.

    Returns:
        The exit code.
    """
    from ..sandbox._command import run

    return run(args)


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[IO[str]]:
    """Yield standard output, or a file that appears only complete (see ``text_sink``).

    Args:
        path: The ``-o`` given.

    Yields:
        The stream to write to.
    """
    if to_stdout(path):
        yield sys.stdout
        return
    from .._io._targets import text_sink

    with text_sink(str(path)) as handle:
        yield handle
