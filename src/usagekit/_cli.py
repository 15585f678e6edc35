"""The ``usagekit`` command: reports, exports, sync and the sandbox, without writing Python.

Exit codes: 0 everything fetched (or the reader of standard output went away, as with
``| head``); 1 at least one provider failed (the partial result is still written), or an error
after the arguments were accepted; 2 bad arguments or configuration, found before anything is
fetched or any file created, or an output file that cannot be written (a previous file there is
left as it was).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import math
import os
import shutil
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from ._core.errors import ConfigError, UsagekitError
from ._report import DIMENSION_ALIASES, UsageReport
from ._version import __version__

__all__ = ["PROVIDERS", "console_main", "main"]


@dataclass(frozen=True)
class _ProviderEnv:
    """How the command builds a provider's client from the environment."""

    name: str
    client: str
    variables: tuple[str, ...]


PROVIDERS: dict[str, _ProviderEnv] = {
    "openai": _ProviderEnv("openai", "OpenAIClient", ("OPENAI_ADMIN_KEY",)),
    "basedash": _ProviderEnv("basedash", "BasedashClient", ("BASEDASH_API_KEY", "BASEDASH_ORG_ID")),
    "unsiloed": _ProviderEnv("unsiloed", "UnsiloedClient", ("UNSILOED_API_KEY",)),
    "daramex": _ProviderEnv("daramex", "DaramexClient", ("DARAMEX_TOKEN", "DARAMEX_ORG_ID")),
}

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


class _CommandError(Exception):
    """A problem to report in one line, with exit code 2."""


# -- building clients ----------------------------------------------------------------------


def _env_clients(providers: Sequence[str]) -> list[Any]:
    import usagekit

    def present(variable: str) -> bool:
        return bool(os.environ.get(variable, "").strip())

    for spec in PROVIDERS.values():
        blank = [v for v in spec.variables if v in os.environ and not present(v)]
        if blank:
            raise _CommandError(f"{spec.name}: {' and '.join(blank)} is set but empty")
    wanted = list(providers)
    if not wanted:
        for spec in PROVIDERS.values():
            found = [v for v in spec.variables if present(v)]
            if found and len(found) < len(spec.variables):
                missing = [v for v in spec.variables if not present(v)]
                raise _CommandError(
                    f"{spec.name}: {' and '.join(found)} is set but {' and '.join(missing)} "
                    "is not; set it, or choose other providers with --provider"
                )
        wanted = [p for p, spec in PROVIDERS.items() if all(present(v) for v in spec.variables)]
        if not wanted:
            variables = ", ".join(v for spec in PROVIDERS.values() for v in spec.variables)
            raise _CommandError(
                f"no provider is configured: set the variables of at least one ({variables}), "
                "or try --demo to run against the built-in sandbox"
            )
    clients = []
    for name in wanted:
        spec = PROVIDERS[name]
        missing = [v for v in spec.variables if not present(v)]
        if missing:
            raise _CommandError(f"{name}: set {' and '.join(missing)} (or use --demo)")
        clients.append(getattr(usagekit, spec.client)())
    return clients


@contextlib.contextmanager
def _clients(args: argparse.Namespace) -> Iterator[list[Any]]:
    """Yield the clients the arguments ask for, closing them afterwards."""
    if args.demo:
        from .sandbox import serve

        with serve(seed=1) as sandbox:
            clients = [
                c for c in sandbox.clients() if not args.provider or c.provider in args.provider
            ]
            try:
                yield clients
            finally:
                for client in clients:
                    client.close()
        return
    clients = _env_clients(args.provider or [])
    try:
        yield clients
    finally:
        for client in clients:
            client.close()


# -- progress ------------------------------------------------------------------------------


class _ProgressLine:
    """One self-rewriting status line on a terminal's stderr."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.state: dict[str, str] = {}
        self.lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        text = {
            "started": "fetching",
            "records": f"{event.records:,} records",
            "done": f"done ({event.records:,})",
            "failed": "failed",
        }.get(event.event, event.event)
        with self.lock:
            self.state[event.provider] = text
            line = " | ".join(f"{p}: {s}" for p, s in self.state.items())
            width = shutil.get_terminal_size((80, 24)).columns - 1  # never wrap: one line only
            self.stream.write("\r\033[K" + line[: max(width, 10)])
            self.stream.flush()

    def finish(self) -> None:
        with self.lock:
            if self.state:
                self.stream.write("\r\033[K")
                self.stream.flush()


def _fetch(args: argparse.Namespace) -> UsageReport:
    from ._collect import collect

    if args.db:
        return _from_store(args)
    progress = _ProgressLine(sys.stderr) if sys.stderr.isatty() else None
    with _clients(args) as clients:
        try:
            return collect(
                clients,
                args.since,
                args.until,
                on_progress=progress,
                allocate=getattr(args, "allocate", False),
            )
        finally:
            if progress is not None:
                progress.finish()


def _from_store(args: argparse.Namespace) -> UsageReport:
    from ._store.store import Store

    if not Path(args.db).exists():
        raise _CommandError(f"no store at {args.db}; create it with: usagekit sync --db {args.db}")
    with Store(args.db) as store:
        filters = {"provider": args.provider} if args.provider else {}
        return store.report(
            args.since, args.until, allocate=getattr(args, "allocate", False), **filters
        )


# -- output --------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _credits(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,} cr"


def _write_table(report: UsageReport, by: list[str], out: IO[str]) -> None:
    rows = report.summary(by)
    currencies = sorted({c for row in rows for c in row["cost"]}) or ["USD"]
    credits = any(row.get("credits") is not None for row in rows)  # not money: own column
    header = [
        " / ".join(by),
        *(f"cost {c}" for c in currencies),
        *(["credits"] if credits else []),
        "tokens",
        "records",
    ]
    body = [
        [
            row["group"],
            *(_money(row["cost"][c]) if c in row["cost"] else "-" for c in currencies),
            *([_credits(row.get("credits"))] if credits else []),
            f"{row['tokens']:,}",
            f"{row['records']:,}",
        ]
        for row in rows
    ]
    totals = report.total_cost()
    used = [r["credits"] for r in rows if r.get("credits") is not None]
    footer = [
        "total",
        *(_money(totals[c]) if c in totals else "-" for c in currencies),
        *([_credits(sum(used, Decimal(0)))] if credits else []),
        f"{sum((r['tokens'] for r in rows), Decimal(0)):,}",
        f"{len(report):,}",
    ]
    widths = [
        max(len(str(line[i])) for line in [header, *body, footer]) for i in range(len(header))
    ]

    def render(line: list[str]) -> str:
        first = line[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    window = (
        f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M}"
        if report.end
        else (f"{report.start:%Y-%m-%d %H:%M} to now" if report.start else "all time")
    )
    out.write(f"AI usage and spend, {window} UTC\n")
    wider = [s.provider for s in report.statuses if s.ok and s.note and s.records]
    if wider:
        out.write(f"(figures of {', '.join(wider)} cover a different span: see the end)\n")
    out.write("\n")
    out.write(render(header) + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for line in body:
        out.write(render(line) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n" + render(footer) + "\n")
    level_metrics = {(r.provider, r.metric) for r in report.records if r.kind == "level"}
    by_metric = report.totals(("provider", "metric"))
    other = [
        t
        for t in by_metric
        if t.metric != "cost" and t.unit != "tokens" and (t.group[0], t.metric) not in level_metrics
    ]
    if other:
        out.write("\nOther usage (summed over the window):\n")
        for total in other:
            out.write(f"  {total.group[0]} {total.metric}: {total.quantity:,} {total.unit}\n")
    levels = [t for t in by_metric if (t.group[0], t.metric) in level_metrics]
    if levels:
        out.write("\nLevels (latest value, not summed over time):\n")
        for total in levels:
            out.write(f"  {total.group[0]} {total.metric}: {total.quantity:,} {total.unit}\n")
    if report.allocated:
        out.write("\nCost allocation (exact: the pieces of each cost sum to it):\n")
        for text in report.allocation_summary().lines():
            out.write(f"  {text}\n")
        by_model = any(b in ("model", "canonical_model") for b in by)
        unnamed = report.filter(model=None).cost_by("line_item") if by_model else {}
        unnamed = {item: cost for item, cost in unnamed.items() if item is not None}
        if unnamed:
            out.write("  cost under model '-' (the usage of these names no model):\n")
            for item, cost in unnamed.items():
                out.write(f"    {item}: {', '.join(f'{_money(v)} {c}' for c, v in cost.items())}\n")
    if report.statuses:
        out.write("\n")
        for status in report.statuses:
            counts = f"{status.provider:<10} {status.records:>8,} records  {status.seconds:6.2f} s"
            out.write(f"  {counts}  {status.state}\n")


def _rows_for_machines(report: UsageReport, by: list[str]) -> list[dict[str, str | None]]:
    """Totals per group, metric and unit; a group with no cost in a currency the report has
    gets a cost row with a null quantity (empty in CSV), so that "no cost" is never a zero."""
    rows: list[dict[str, str | None]] = []
    totals = report.totals(by)
    currencies = sorted({t.unit for t in totals if t.metric == "cost"})
    costed = {(t.group, t.unit) for t in totals if t.metric == "cost"}
    seen: set[tuple[str | None, ...]] = set()
    for total in totals:
        if total.group not in seen:
            seen.add(total.group)
            for currency in currencies:
                if (total.group, currency) not in costed:
                    row = dict(zip(by, total.group, strict=True))
                    row.update(metric="cost", unit=currency, quantity=None)
                    rows.append(row)
        row = dict(zip(by, total.group, strict=True))
        row.update(metric=total.metric, unit=total.unit, quantity=str(total.quantity))
        rows.append(row)
    return rows


def _allocation_document(report: UsageReport) -> dict[str, Any]:
    summary = report.allocation_summary()
    return {
        "allocated": {c: str(v) for c, v in summary.allocated.items()},
        "records": summary.pieces,
        "unallocated": [
            {"reason": reason, "cost": {c: str(v) for c, v in amounts.items()}}
            for reason, amounts in summary.unallocated.items()
        ],
        "untouched": {c: str(v) for c, v in summary.untouched.items()},
    }


def _write_report(report: UsageReport, args: argparse.Namespace, out: IO[str]) -> None:
    by = [part.strip() for part in args.by.split(",") if part.strip()]
    if args.format == "table":
        _write_table(report, by, out)
    elif args.format == "csv":
        rows = _rows_for_machines(report, by)
        writer = csv.DictWriter(
            out, fieldnames=[*by, "metric", "unit", "quantity"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    else:
        kinds = {(r.metric, r.unit): r.kind for r in report.records}
        totals = [
            {**row, "kind": kinds.get((str(row["metric"]), str(row["unit"])), "flow")}
            for row in _rows_for_machines(report, by)
        ]
        end = report.end or report.as_of  # "up to now": the now it meant
        document = {
            "start": report.start.isoformat() if report.start else None,
            "end": end.isoformat() if end else None,
            "up_to_now": report.end is None,
            "total_cost": {c: str(v) for c, v in report.total_cost().items()},
            "totals": totals,
            **({"allocation": _allocation_document(report)} if report.allocated else {}),
            "providers": [s.as_dict() for s in report.statuses],
        }
        json.dump(document, out, indent=2)
        out.write("\n")


def _report_failures(report: UsageReport) -> int:
    for failure in report.failures:
        kept = len(failure.partial_records)
        sys.stderr.write(
            f"usagekit: {failure.provider} failed ({kept} records received were left out): "
            f"{failure.reason}\n"
        )
    return EXIT_OK if report.ok else EXIT_PARTIAL


# -- commands ------------------------------------------------------------------------------


_SUFFIXES: dict[str, str] = {
    ".csv": "CSV",
    ".tsv": "tab-separated text",
    ".json": "JSON",
    ".jsonl": "JSON Lines",
    ".ndjson": "JSON Lines",
    ".parquet": "Parquet",
    ".pq": "Parquet",
}
"""File name suffixes (lower case) that say what a file holds, and what that is."""

_EXTENSIONS = {"CSV": ".csv", "JSON": ".json", "JSON Lines": ".jsonl", "Parquet": ".parquet"}
_COMPRESSED = frozenset({".gz", ".bz2", ".xz", ".zst", ".lz4", ".br", ".zip", ".7z"})
_EXPORT_CONTAINERS = {"csv": "CSV", "jsonl": "JSON Lines", "parquet": "Parquet"}
_REPORT_CONTAINERS = {"table": "text", "csv": "CSV", "json": "JSON"}
_FOCUS_FORMATS = ("focus", "focus-parquet")


def _to_stdout(path: str | None) -> bool:
    return not path or path == "-"


def _export_container(fmt: str, path: str | None) -> str:
    """What ``usagekit export --format fmt -o path`` writes: CSV, JSON Lines or Parquet.

    ``focus`` is FOCUS as CSV, or as Parquet when the file is named ``*.parquet``/``*.pq``.
    """
    if fmt == "focus-parquet":
        return "Parquet"
    if fmt == "focus":
        named = None if _to_stdout(path) else _SUFFIXES.get(Path(str(path)).suffix.lower())
        return "Parquet" if named == "Parquet" else "CSV"
    return _EXPORT_CONTAINERS[fmt]


def _check_name(fmt: str, container: str, path: str | None, formats: dict[str, str]) -> None:
    """Refuse a file name whose suffix says it holds something other than what is written.

    Args:
        fmt: The ``--format`` given.
        container: What that format writes (``"CSV"``, ``"Parquet"``, ...).
        path: The ``-o`` given.
        formats: The command's formats by what they write, for the hint.

    Raises:
        _CommandError: ``-o x.parquet`` with ``--format csv``, a compressed name, and the like.
    """
    if _to_stdout(path):
        return
    name = Path(str(path))
    suffix = name.suffix.lower()
    if suffix in _COMPRESSED:
        raise _CommandError(
            f"cannot write {path}: usagekit writes {container} uncompressed; write "
            f"{name.with_suffix('')} and compress it afterwards"
        )
    named = _SUFFIXES.get(suffix)
    if named is None or named == container:
        return
    if fmt == "focus":
        raise _CommandError(
            f"--format focus writes FOCUS as CSV (or as Parquet to a name ending in .parquet), "
            f"but {path} is named like a {named} file"
        )
    hints = [f"--format {flag} for {named}" for flag, what in formats.items() if what == named]
    if container in _EXTENSIONS:
        hints.append(f"a name ending in {_EXTENSIONS[container]}")
    raise _CommandError(
        f"--format {fmt} writes {container}, but {path} is named like a {named} file; "
        f"use {' or '.join(hints) or 'another name'}"
    )


def _check_output(path: str | None) -> None:
    """Refuse an output file that cannot be written, before spending time fetching.

    Args:
        path: The ``-o`` given (None or ``-``: standard output).

    Raises:
        _CommandError: The target is a directory, a device, a FIFO or a socket (or a symlink to
            one), is read-only, or its folder is missing or not writable.
    """
    if _to_stdout(path):
        return
    from ._io.export import ExportError, export_target

    try:
        target = export_target(str(path))
    except ExportError as exc:
        raise _CommandError(
            f"cannot write {path}: {exc.detail}; for standard output leave out -o (or use -o -)"
        ) from None
    except OSError as exc:
        raise _CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    folder = Path(target.path).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise _CommandError(f"cannot write {path}: {folder} is not a writable folder")


def _check_window(since: str | None, until: str | None) -> None:
    """Check ``--since``/``--until`` as the user typed them, before anything is fetched.

    Raises:
        _CommandError: A malformed bound, ``--since`` not before ``--until``, or a ``--since``
            in the future (there is nothing to fetch yet).
    """
    from ._core.clock import as_utc, utcnow

    start = None if since is None else as_utc(since, name="--since")
    end = None if until is None else as_utc(until, name="--until")
    if start is not None and end is not None and start >= end:
        raise _CommandError(f"--since must be before --until, got --since {since} --until {until}")
    now = utcnow()
    if start is not None and start > now:
        raise _CommandError(
            f"--since {since} is in the future (now is {now:%Y-%m-%d %H:%M} UTC): nothing to fetch"
        )


def _check_fetch_arguments(args: argparse.Namespace) -> None:
    """Validate what ``report`` and ``export`` fetch before starting anything."""
    if args.demo and args.db:
        raise _CommandError(
            "--demo and --db contradict each other: --demo fetches from the built-in sandbox, "
            "--db reads a store; to try a store, run: usagekit sync --demo --db FILE"
        )
    _check_window(args.since, args.until)
    if args.db and not Path(args.db).is_file():
        raise _CommandError(f"no store at {args.db}; create it with: usagekit sync --db {args.db}")


def _require_parquet() -> None:
    """Import pyarrow now, so that a missing extra is reported before anything is fetched."""
    from ._io.export import import_optional

    import_optional("pyarrow", "parquet")
    import_optional("pyarrow.parquet", "parquet")


@contextlib.contextmanager
def _writing(path: str | None) -> Iterator[None]:
    """Turn a failed write (a full disk, a file size limit) into one line naming the target."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        if _to_stdout(path):
            raise _CommandError(f"cannot write the output: {exc.strerror or exc}") from None
        raise _CommandError(
            f"cannot write {path}: {exc.strerror or exc} (a previous file there is unchanged)"
        ) from None


def _by(args: argparse.Namespace) -> list[str]:
    return [part.strip() for part in args.by.split(",") if part.strip()]


def _cmd_report(args: argparse.Namespace) -> int:
    _check_name(args.format, _REPORT_CONTAINERS[args.format], args.output, _REPORT_CONTAINERS)
    _check_output(args.output)
    _check_fetch_arguments(args)
    UsageReport.from_records(()).totals(_by(args))  # an unknown --by dimension, before fetching
    _check_html(args)
    report = _fetch(args)
    with _writing(args.output), _output(args.output) as out:
        _write_report(report, args, out)
    if getattr(args, "html", None):
        with _writing(args.html):
            report.to_html(args.html, budget=args.budget, allocate=None)
        _say(f"usagekit: wrote the HTML report to {args.html}")
    return _report_failures(report)


def _check_html(args: argparse.Namespace) -> None:
    """Check ``--html FILE`` and ``--budget`` before anything is fetched.

    Raises:
        _CommandError: ``--budget`` without ``--html``, ``--html -``, a file named like
            another format, the same file as ``-o``, or a file that cannot be written.
    """
    html_path = getattr(args, "html", None)
    if getattr(args, "budget", None) is not None and not html_path:
        raise _CommandError("--budget is drawn in the HTML report: add --html FILE")
    if not html_path:
        return
    if _to_stdout(html_path):
        raise _CommandError("--html needs a file name (the report is one HTML file)")
    named = _SUFFIXES.get(Path(html_path).suffix.lower())
    if named is not None:
        raise _CommandError(
            f"--html writes HTML, but {html_path} is named like a {named} file; "
            "use a name ending in .html"
        )
    if not _to_stdout(args.output) and Path(args.output).resolve() == Path(html_path).resolve():
        raise _CommandError(f"-o and --html both name {html_path}; give them different files")
    _check_output(html_path)


def _budget_argument(text: str) -> Any:
    """Parse ``--budget 1000USD`` (see :func:`usagekit._io.html.parse_budget`).

    Raises:
        argparse.ArgumentTypeError: Not an amount with an optional currency code.
    """
    from ._io.html import parse_budget

    try:
        return parse_budget(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_export(args: argparse.Namespace) -> int:
    container = _export_container(args.format, args.output)
    focus = args.format in _FOCUS_FORMATS
    if container == "Parquet" and _to_stdout(args.output):
        raise _CommandError(f"--format {args.format} writes Parquet, which needs -o FILE")
    _check_name(args.format, container, args.output, _EXPORT_CONTAINERS)
    if container == "Parquet":
        _require_parquet()
    _check_output(args.output)
    _check_fetch_arguments(args)
    report = _fetch(args)
    target: str | IO[str] = sys.stdout if _to_stdout(args.output) else str(args.output)
    with _writing(args.output):
        if container == "Parquet":
            count = (
                report.to_focus_parquet(str(target)) if focus else report.to_parquet(str(target))
            )
        elif focus:
            count = report.to_focus_csv(target)
        else:
            count = report.to_csv(target) if container == "CSV" else report.to_jsonl(target)
    if not _to_stdout(args.output):
        _say(f"usagekit: wrote {count:,} rows to {args.output}")
    return _report_failures(report)


def _lookback_days(text: str) -> timedelta:
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


def _cmd_sync(args: argparse.Namespace) -> int:
    from ._core.clock import as_utc
    from ._store.store import Store
    from ._store.sync import sync

    if args.since is not None:
        as_utc(args.since, name="--since")  # before the store file is created
    database = Path(args.db)
    if database.is_dir():
        raise _CommandError(f"{args.db} is a folder; --db names the store's file")
    if not database.resolve().parent.is_dir():
        raise _CommandError(
            f"cannot create the store {args.db}: {database.resolve().parent} is not a folder"
        )
    with _clients(args) as clients, Store(args.db) as store:
        result = sync(store, clients, since=args.since, lookback=args.lookback)
    sys.stdout.write(f"{result}\n")
    for failure in result.failures:
        _say(f"usagekit: {failure.provider} failed: {failure.error}")
    return EXIT_OK if result.ok else EXIT_PARTIAL


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from .sandbox._command import run

    return run(args)


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    """Yield standard output, or a file that appears only complete (see ``text_sink``)."""
    if _to_stdout(path):
        yield sys.stdout
        return
    from ._io.export import text_sink

    with text_sink(str(path)) as handle:
        yield handle


def _add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", help="window start (date or ISO-8601; default: 1st of this month UTC)"
    )
    parser.add_argument("--until", help="window end, exclusive (default: now)")
    parser.add_argument(
        "--provider",
        action="append",
        choices=sorted(PROVIDERS),
        help="only this provider (repeatable; default: every provider whose keys are set)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="use the built-in sandbox, no keys needed"
    )
    parser.add_argument("--db", help="read from this usagekit store instead of the network")
    parser.add_argument("-o", "--output", help="write to this file instead of standard output")
    parser.add_argument(
        "--allocate",
        action="store_true",
        help="split each cost exactly over the usage that explains it (per user, API key and "
        "model); cost no usage explains stays as one 'unallocated' record with the reason",
    )


_REPORT_EXAMPLES = """examples:
  usagekit report --demo                                  this month so far, from the sandbox
  usagekit report --since 2026-11-01 --until 2026-12-01 --by model --allocate
  usagekit report --by provider,day --json                for machines
  usagekit report --db usage.sqlite --by user             from a store, offline
"""

_EXPORT_EXAMPLES = """examples:
  usagekit export --demo --format csv > usage.csv
  usagekit export --format focus -o focus.parquet         FOCUS 1.2 as Parquet
  usagekit export --db usage.sqlite --format jsonl -o usage.jsonl
"""

_SYNC_EXAMPLES = """examples:
  usagekit sync --db usage.sqlite                         nightly, from cron
  usagekit sync --db usage.sqlite --since 2026-01-01      back-fill
  usagekit sync --db usage.sqlite --lookback 2            pick up late revisions
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the command's argument parser."""
    parser = argparse.ArgumentParser(
        prog="usagekit",
        description="AI usage and spend across OpenAI, Basedash, Unsiloed and Daramex.",
        epilog=_REPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"usagekit {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log to stderr (-vv: debug)"
    )
    verbose = argparse.ArgumentParser(add_help=False)  # -v also after the command
    verbose.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        dest="command_verbose",
        help="log to stderr (-vv: debug)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    report = commands.add_parser(
        "report",
        help="totals by provider, model, project or day",
        description="Totals of usage and spend over a window, from the providers or a store.",
        epilog=_REPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbose],
    )
    _add_fetch_arguments(report)
    report.add_argument(
        "--by",
        default="provider",
        help="dimension(s), comma-separated (default: provider): "
        + ", ".join(sorted(DIMENSION_ALIASES))
        + ", attributes.<key>",
    )
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.add_argument(
        "--html",
        metavar="FILE",
        help="also write the report as one self-contained HTML page (charts, projection, "
        "what each provider covered), e.g. --html report.html",
    )
    report.add_argument(
        "--budget",
        type=_budget_argument,
        metavar="AMOUNT",
        help="a budget for this month shown in the HTML report, e.g. 1000USD (needs --html)",
    )
    report.add_argument(
        "--json", action="store_const", const="json", dest="format", help="= --format json"
    )
    report.set_defaults(handler=_cmd_report)

    export = commands.add_parser(
        "export",
        help="every record as CSV, JSON Lines, Parquet or FOCUS",
        epilog=_EXPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbose],
    )
    _add_fetch_arguments(export)
    export.add_argument(
        "--format",
        choices=("csv", "jsonl", "parquet", "focus", "focus-parquet"),
        required=True,
        help="csv, jsonl, parquet (needs -o); focus: FOCUS 1.2 as CSV, or as Parquet when -o "
        "ends in .parquet; focus-parquet: FOCUS 1.2 as Parquet (needs -o)",
    )
    export.set_defaults(handler=_cmd_export)

    sync_cmd = commands.add_parser(
        "sync",
        help="incrementally keep a history in a SQLite store",
        epilog=_SYNC_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbose],
    )
    sync_cmd.add_argument("--db", required=True, help="the store's file (created when missing)")
    sync_cmd.add_argument("--since", help="fetch from here when the store has nothing newer")
    sync_cmd.add_argument("--provider", action="append", choices=sorted(PROVIDERS))
    sync_cmd.add_argument("--demo", action="store_true", help="sync from the built-in sandbox")
    sync_cmd.add_argument(
        "--lookback",
        type=_lookback_days,
        metavar="DAYS",
        help="also re-fetch the last DAYS days, to pick up late revisions (e.g. 2)",
    )
    sync_cmd.set_defaults(handler=_cmd_sync)

    from .sandbox._command import add_arguments

    # the sandbox has its own --verbose (log every request)
    sandbox = commands.add_parser("sandbox", help="serve the offline sandbox of all four providers")
    add_arguments(sandbox)
    sandbox.set_defaults(handler=_cmd_sandbox)
    return parser


class _StderrHandler(logging.Handler):
    """A handler that writes to whatever ``sys.stderr`` is when a record is emitted."""

    def emit(self, record: logging.LogRecord) -> None:
        """Write one formatted record to the current standard error.

        Args:
            record: The log record.
        """
        try:
            line = self.format(record)
        except Exception:  # a malformed log call: the standard report, once
            self.handleError(record)
            return
        with contextlib.suppress(OSError, ValueError):  # stderr closed or gone: drop it
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


@contextlib.contextmanager
def _logging_to_stderr(verbosity: int) -> Iterator[None]:
    """With ``-v``, log the ``usagekit`` logger to stderr for this run only.

    The handler is removed and the logger's level restored at the end, so calling
    :func:`main` again (tests, a service) never stacks handlers or writes to an old stderr.
    """
    if verbosity <= 0:
        yield
        return
    from ._core.logs import SensitiveDataFilter

    logger = logging.getLogger("usagekit")
    handler = _StderrHandler()
    handler.addFilter(SensitiveDataFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


def _say(line: str) -> None:
    """Write one line to stderr, redacted; a closed stderr is not an error worth a traceback."""
    from ._core.logs import redact

    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(redact(line) + "\n")
        sys.stderr.flush()


def _discard_stdout() -> None:
    """After the reader of standard output went away, send what is left to ``/dev/null``.

    Python flushes ``sys.stdout`` at exit; without this, that flush would fail again and print
    "Exception ignored ... BrokenPipeError" (the recipe of the ``signal`` module's docs).
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        descriptor = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(descriptor, sys.stdout.fileno())
        finally:
            os.close(descriptor)


def _run(args: argparse.Namespace) -> int:
    """Run a parsed command; every failure becomes one line on stderr and an exit code."""
    try:
        code: int = args.handler(args)
        sys.stdout.flush()  # a reader that went away shows here, not at exit
    except BrokenPipeError:  # `usagekit export ... | head`: end quietly, as Unix tools do
        _discard_stdout()
        return EXIT_OK
    except (_CommandError, ConfigError) as exc:
        _say(f"usagekit: {exc}")
        return EXIT_USAGE
    except UsagekitError as exc:
        _say(f"usagekit: {type(exc).__name__}: {exc}")
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        _say("usagekit: interrupted")
        return 130
    except OSError as exc:  # a port in use, a store's folder that went away
        detail = exc.strerror or str(exc)
        _say(f"usagekit: {exc.filename}: {detail}" if exc.filename else f"usagekit: {detail}")
        return EXIT_USAGE
    except Exception as exc:  # a bug: one line, never a traceback (-vv logs it)
        logging.getLogger("usagekit").debug("unexpected error", exc_info=True)
        _say(
            f"usagekit: unexpected error {type(exc).__name__}: {exc} "
            "(a bug in usagekit; please report it, with the output of -vv)"
        )
        return EXIT_PARTIAL
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command.

    Every argument is checked before anything is fetched or any file created; every failure
    is one line on stderr, never a traceback.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0, 1 or 2 (see the module docstring), 130 after Ctrl-C; argparse's
        code for ``--help``, ``--version`` and malformed arguments (0 or 2).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument (argparse said why)
        return exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else 2
    if getattr(args, "provider", None):
        args.provider = list(dict.fromkeys(args.provider))  # --provider x --provider x: once
    with _logging_to_stderr(args.verbose + getattr(args, "command_verbose", 0)):
        return _run(args)


def console_main() -> None:
    """The ``usagekit`` and ``python -m usagekit`` entry point: :func:`main`, then exit.

    After Ctrl-C the process ends at once (exit 130) instead of waiting for requests still in
    flight in worker threads; what was being written is atomic, so nothing half-written stays.
    """
    code = main()
    if code == 130:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console_main()
