"""The ``usagekit`` command: reports, exports, sync and the sandbox, without writing Python.

Exit codes: 0 everything fetched; 1 at least one provider failed (the partial result is still
written); 2 bad arguments or configuration (nothing fetched).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from ._errors import ConfigError, UsagekitError
from ._report import UsageReport
from ._version import __version__

__all__ = ["PROVIDERS", "main"]


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

    wanted = list(providers)
    if not wanted:
        wanted = [
            p for p, spec in PROVIDERS.items() if all(os.environ.get(v) for v in spec.variables)
        ]
        if not wanted:
            variables = ", ".join(v for spec in PROVIDERS.values() for v in spec.variables)
            raise _CommandError(
                f"no provider is configured: set the variables of at least one ({variables}), "
                "or try --demo to run against the built-in sandbox"
            )
    clients = []
    for name in wanted:
        spec = PROVIDERS[name]
        missing = [v for v in spec.variables if not os.environ.get(v)]
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
            self.stream.write("\r\033[K" + line[:200])
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
            return collect(clients, args.since, args.until, on_progress=progress)
        finally:
            if progress is not None:
                progress.finish()


def _from_store(args: argparse.Namespace) -> UsageReport:
    from ._store import Store
    from ._time import month_start, resolve_window

    if not Path(args.db).exists():
        raise _CommandError(f"no store at {args.db}; create it with: usagekit sync --db {args.db}")
    window = resolve_window(args.since, args.until, default_start=month_start())
    with Store(args.db) as store:
        filters = {"provider": args.provider} if args.provider else {}
        records = list(store.records(window.start, window.end, **filters))
    return UsageReport.from_records(records, start=window.start, end=window.end)


# -- output --------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _write_table(report: UsageReport, by: list[str], out: IO[str]) -> None:
    rows = report.summary(by)
    currencies = sorted({c for row in rows for c in row["cost"]}) or ["USD"]
    header = [" / ".join(by), *(f"cost {c}" for c in currencies), "tokens", "records"]
    body = [
        [
            row["group"],
            *(_money(row["cost"].get(c, Decimal(0))) for c in currencies),
            f"{row['tokens']:,}",
            f"{row['records']:,}",
        ]
        for row in rows
    ]
    totals = report.total_cost()
    footer = [
        "total",
        *(_money(totals.get(c, Decimal(0))) for c in currencies),
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
    out.write(f"AI usage and spend, {window} UTC\n\n")
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
    if report.statuses:
        out.write("\n")
        for status in report.statuses:
            state = "ok" if status.ok else f"FAILED: {status.error}"
            counts = f"{status.provider:<10} {status.records:>8,} records  {status.seconds:6.2f} s"
            out.write(f"  {counts}  {state}\n")


def _rows_for_machines(report: UsageReport, by: list[str]) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = []
    for total in report.totals(by):
        row: dict[str, str | None] = dict(zip(by, total.group, strict=True))
        row.update(metric=total.metric, unit=total.unit, quantity=str(total.quantity))
        rows.append(row)
    return rows


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
        document = {
            "start": report.start.isoformat() if report.start else None,
            "end": report.end.isoformat() if report.end else None,
            "total_cost": {c: str(v) for c, v in report.total_cost().items()},
            "totals": _rows_for_machines(report, by),
            "providers": [
                {"provider": s.provider, "records": s.records, "ok": s.ok, "error": s.error}
                for s in report.statuses
            ],
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


def _check_output(path: str | None) -> None:
    """Refuse an output file that cannot be written, before spending time fetching."""
    if path and path != "-":
        folder = Path(path).resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise _CommandError(f"cannot write {path}: {folder} is not a writable folder")


def _cmd_report(args: argparse.Namespace) -> int:
    _check_output(args.output)
    report = _fetch(args)
    with _output(args.output) as out:
        _write_report(report, args, out)
    return _report_failures(report)


def _cmd_export(args: argparse.Namespace) -> int:
    if args.format == "parquet" and not args.output:
        raise _CommandError("--format parquet needs -o FILE")
    _check_output(args.output)
    report = _fetch(args)
    if args.format == "parquet":
        count = report.to_parquet(args.output)
    else:
        with _output(args.output) as out:
            writer = {"csv": report.to_csv, "jsonl": report.to_jsonl, "focus": report.to_focus_csv}
            count = writer[args.format](out)
    if args.output:
        sys.stderr.write(f"usagekit: wrote {count:,} rows to {args.output}\n")
    return _report_failures(report)


def _cmd_sync(args: argparse.Namespace) -> int:
    from ._store import Store
    from ._sync import sync

    lookback = None if args.lookback is None else timedelta(days=args.lookback)
    with _clients(args) as clients, Store(args.db) as store:
        result = sync(store, clients, since=args.since, lookback=lookback)
    sys.stdout.write(f"{result}\n")
    for failure in result.failures:
        sys.stderr.write(f"usagekit: {failure.provider} failed: {failure.error}\n")
    return EXIT_OK if result.ok else EXIT_PARTIAL


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from .sandbox._command import run

    return run(args)


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if not path or path == "-":
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as handle:
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


def build_parser() -> argparse.ArgumentParser:
    """Return the command's argument parser."""
    parser = argparse.ArgumentParser(
        prog="usagekit",
        description="AI usage and spend across OpenAI, Basedash, Unsiloed and Daramex.",
    )
    parser.add_argument("--version", action="version", version=f"usagekit {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log to stderr (-vv: debug)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    report = commands.add_parser("report", help="totals by provider, model, project or day")
    _add_fetch_arguments(report)
    report.add_argument(
        "--by", default="provider", help="dimension(s), comma-separated (default: provider)"
    )
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.set_defaults(handler=_cmd_report)

    export = commands.add_parser("export", help="every record as CSV, JSON Lines, Parquet or FOCUS")
    _add_fetch_arguments(export)
    export.add_argument("--format", choices=("csv", "jsonl", "parquet", "focus"), required=True)
    export.set_defaults(handler=_cmd_export)

    sync_cmd = commands.add_parser("sync", help="incrementally keep a history in a SQLite store")
    sync_cmd.add_argument("--db", required=True, help="the store's file (created when missing)")
    sync_cmd.add_argument("--since", help="fetch from here when the store has nothing newer")
    sync_cmd.add_argument("--provider", action="append", choices=sorted(PROVIDERS))
    sync_cmd.add_argument("--demo", action="store_true", help="sync from the built-in sandbox")
    sync_cmd.add_argument(
        "--lookback",
        type=float,
        metavar="DAYS",
        help="also re-fetch the last DAYS days, to pick up late revisions (e.g. 2)",
    )
    sync_cmd.set_defaults(handler=_cmd_sync)

    from .sandbox._command import add_arguments

    sandbox = commands.add_parser("sandbox", help="serve the offline sandbox of all four providers")
    add_arguments(sandbox)
    sandbox.set_defaults(handler=_cmd_sandbox)
    return parser


def _configure_logging(verbosity: int) -> None:
    if verbosity <= 0:
        return
    import logging

    from ._logging import SensitiveDataFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SensitiveDataFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.getLogger("usagekit").addHandler(handler)
    logging.getLogger("usagekit").setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        code: int = args.handler(args)
    except (_CommandError, ConfigError) as exc:
        sys.stderr.write(f"usagekit: {exc}\n")
        return EXIT_USAGE
    except UsagekitError as exc:
        sys.stderr.write(f"usagekit: {type(exc).__name__}: {exc}\n")
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        sys.stderr.write("usagekit: interrupted\n")
        return 130
    except OSError as exc:  # an unwritable output file, a full disk
        sys.stderr.write(f"usagekit: cannot write {exc.filename or 'the output'}: {exc.strerror}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
