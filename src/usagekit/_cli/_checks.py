"""The checks made before anything is fetched or any file created, and the argument types.

What a file name may say is the format registry's (:mod:`usagekit._io.formats`); here it
becomes a :class:`CommandError`.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from .._core.errors import ConfigError, ExportError
from .._io.formats import html_name_problem
from ._common import CommandError, to_stdout

__all__ = [
    "budget_argument",
    "check_fetch_arguments",
    "check_html",
    "check_name",
    "check_output",
    "lookback_days",
    "require_parquet",
    "writing",
]


def check_name(problem: str | None) -> None:
    """Refuse a file name the format registry finds fault with.

    Args:
        problem: What :func:`usagekit._io.formats.export_name_problem` (or
            ``report_name_problem``, ``html_name_problem``) says, None when the name fits.

    Raises:
        CommandError: The registry's message: ``-o x.parquet`` with ``--format csv``, a
            compressed name, and the like.
    """
    if problem is not None:
        raise CommandError(problem)


def check_output(path: str | None) -> None:
    """Refuse an output file that cannot be written, before spending time fetching.

    Args:
        path: The ``-o`` given (None or ``-``: standard output).

    Raises:
        CommandError: The target is a directory, a device, a FIFO or a socket (or a symlink to
            one), is read-only, or its folder is missing or not writable.
    """
    if to_stdout(path):
        return
    from .._io._targets import export_target

    try:
        target = export_target(str(path))
    except ExportError as exc:
        raise CommandError(
            f"cannot write {path}: {exc.detail}; for standard output leave out -o (or use -o -)"
        ) from None
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    folder = Path(target.path).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise CommandError(f"cannot write {path}: {folder} is not a writable folder")


def _check_window(since: str | None, until: str | None) -> None:
    """Check ``--since``/``--until`` as the user typed them, before anything is fetched.

    Raises:
        CommandError: A malformed bound, ``--since`` not before ``--until``, or a ``--since``
            in the future (there is nothing to fetch yet).
    """
    from .._core.clock import as_utc, utcnow

    start = None if since is None else as_utc(since, name="--since")
    end = None if until is None else as_utc(until, name="--until")
    if start is not None and end is not None and start >= end:
        raise CommandError(f"--since must be before --until, got --since {since} --until {until}")
    now = utcnow()
    if start is not None and start > now:
        raise CommandError(
            f"--since {since} is in the future (now is {now:%Y-%m-%d %H:%M} UTC): nothing to fetch"
        )


def check_fetch_arguments(args: argparse.Namespace) -> None:
    """Validate what ``report`` and ``export`` fetch before starting anything."""
    if args.demo and args.db:
        raise CommandError(
            "--demo and --db contradict each other: --demo fetches from the built-in sandbox, "
            "--db reads a store; to try a store, run: usagekit sync --demo --db FILE"
        )
    _check_window(args.since, args.until)
    if args.db and not Path(args.db).is_file():
        raise CommandError(f"no store at {args.db}; create it with: usagekit sync --db {args.db}")


def require_parquet() -> None:
    """Import pyarrow now, so that a missing extra is reported before anything is fetched."""
    from .._io._optional import require_pyarrow

    require_pyarrow()


@contextlib.contextmanager
def writing(path: str | None) -> Iterator[None]:
    """Turn a failed write (a full disk, a file size limit) into one line naming the target."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        if to_stdout(path):
            raise CommandError(f"cannot write the output: {exc.strerror or exc}") from None
        raise CommandError(
            f"cannot write {path}: {exc.strerror or exc} (a previous file there is unchanged)"
        ) from None


def check_html(args: argparse.Namespace) -> None:
    """Check ``--html FILE`` and ``--budget`` before anything is fetched.

    Raises:
        CommandError: ``--budget`` without ``--html``, ``--html -``, a file named like
            another format, the same file as ``-o``, or a file that cannot be written.
    """
    html_path = getattr(args, "html", None)
    if getattr(args, "budget", None) is not None and not html_path:
        raise CommandError("--budget is drawn in the HTML report: add --html FILE")
    if not html_path:
        return
    if to_stdout(html_path):
        raise CommandError("--html needs a file name (the report is one HTML file)")
    check_name(html_name_problem(html_path))
    if not to_stdout(args.output) and Path(args.output).resolve() == Path(html_path).resolve():
        raise CommandError(f"-o and --html both name {html_path}; give them different files")
    check_output(html_path)


def budget_argument(text: str) -> Any:
    """Parse ``--budget 1000USD`` (see :func:`usagekit._io.html.parse_budget`).

    Raises:
        argparse.ArgumentTypeError: Not an amount with an optional currency code.
    """
    from .._io.html import parse_budget

    try:
        return parse_budget(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def lookback_days(text: str) -> timedelta:
    """Parse ``--lookback DAYS``: a finite number of days from 0 to :data:`_MAX_LOOKBACK_DAYS`.

    Args:
        text: The argument.

    Returns:
        The lookback.

    Raises:
        argparse.ArgumentTypeError: Not a number, not finite, negative or too large.
    """
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not math.isfinite(days):
        raise argparse.ArgumentTypeError(f"must be a finite number of days, got {text!r}")
    if days < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    if days > _MAX_LOOKBACK_DAYS:
        raise argparse.ArgumentTypeError(
            f"at most {_MAX_LOOKBACK_DAYS} days (10 years), got {text!r}; "
            "to back-fill further, use --since"
        )
    return timedelta(days=days)


_MAX_LOOKBACK_DAYS = 3660
"""The longest ``--lookback``; ``--since`` back-fills any span."""
