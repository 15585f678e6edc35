"""The command's arguments: ``usagekit report|export|sync|sandbox``; the providers, their
``--provider`` choices and the description come from the provider registry, the ``--format``
choices from the format registry."""

from __future__ import annotations

import argparse

from .._io.formats import EXPORT_CHOICES, FORMATS, REPORT_CONTAINERS
from .._providers import PROVIDERS
from .._report import DIMENSION_ALIASES
from .._version import __version__
from ._checks import budget_argument, lookback_days
from ._commands import cmd_export, cmd_report, cmd_sandbox, cmd_sync

__all__ = ["build_parser"]

_COUNTS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _providers_in_words() -> tuple[str, str]:
    """The providers' names as a sentence lists them, and how many there are, in words."""
    names = [info.display_name for info in PROVIDERS.values()]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    count = len(names)
    return listed, _COUNTS[count] if count < len(_COUNTS) else str(count)


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


def _export_formats() -> str:
    """The help of ``export --format``, from the format registry.

    Returns:
        The plain formats in one list, then each FOCUS format with what it writes; ``(needs
        -o)`` after those that cannot go to standard output.
    """
    plain, focus = [], []
    for entry in FORMATS.values():
        needs = "" if entry.streams else " (needs -o)"
        if not entry.focus:
            plain.append(entry.name + needs)
            continue
        text = f"{entry.name}: FOCUS 1.2 as {entry.container}"
        if entry.parquet_variant is not None:
            variant = FORMATS[entry.parquet_variant]
            text += f", or as {variant.container} when -o ends in {variant.suffixes[0]}"
        focus.append(text + needs)
    return "; ".join([", ".join(plain), *focus])


def _environment() -> str:
    """The help's list of environment variables, one provider a line, from the registry."""
    lines = ["environment (a provider is used when all its variables are set):"]
    for info in PROVIDERS.values():
        names = []
        for setting in info.settings:
            fallback = f" (or {', '.join(setting.env[1:])})" if len(setting.env) > 1 else ""
            names.append(setting.variable + fallback)
        lines.append(
            f"  {info.display_name + ':':<12}{', '.join(names)}; base URL {info.base_url_env}"
        )
    return "\n".join(lines) + "\n"


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
    """Return the command's argument parser.

    Returns:
        The parser of ``usagekit`` and its commands.
    """
    listed, count = _providers_in_words()
    parser = argparse.ArgumentParser(
        prog="usagekit",
        description=f"AI usage and spend across {listed}.",
        epilog=_REPORT_EXAMPLES + "\n" + _environment(),
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
        epilog=_REPORT_EXAMPLES + "\n" + _environment(),
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
    report.add_argument("--format", choices=tuple(REPORT_CONTAINERS), default="table")
    report.add_argument(
        "--html",
        metavar="FILE",
        help="also write the report as one self-contained HTML page (charts, projection, "
        "what each provider covered), e.g. --html report.html",
    )
    report.add_argument(
        "--budget",
        type=budget_argument,
        metavar="AMOUNT",
        help="a budget for this month shown in the HTML report, e.g. 1000USD (needs --html)",
    )
    report.add_argument(
        "--json", action="store_const", const="json", dest="format", help="= --format json"
    )
    report.set_defaults(handler=cmd_report)

    export = commands.add_parser(
        "export",
        help="every record as CSV, JSON Lines, Parquet or FOCUS",
        epilog=_EXPORT_EXAMPLES + "\n" + _environment(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbose],
    )
    _add_fetch_arguments(export)
    export.add_argument(
        "--format",
        choices=EXPORT_CHOICES,
        required=True,
        help=_export_formats(),
    )
    export.set_defaults(handler=cmd_export)

    sync_cmd = commands.add_parser(
        "sync",
        help="incrementally keep a history in a SQLite store",
        epilog=_SYNC_EXAMPLES + "\n" + _environment(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbose],
    )
    sync_cmd.add_argument("--db", required=True, help="the store's file (created when missing)")
    sync_cmd.add_argument("--since", help="fetch from here when the store has nothing newer")
    sync_cmd.add_argument("--provider", action="append", choices=sorted(PROVIDERS))
    sync_cmd.add_argument("--demo", action="store_true", help="sync from the built-in sandbox")
    sync_cmd.add_argument(
        "--lookback",
        type=lookback_days,
        metavar="DAYS",
        help="also re-fetch the last DAYS days, to pick up late revisions (e.g. 2)",
    )
    sync_cmd.set_defaults(handler=cmd_sync)

    from ..sandbox._command import add_arguments

    # the sandbox has its own --verbose (log every request)
    sandbox = commands.add_parser(
        "sandbox", help=f"serve the offline sandbox of all {count} providers"
    )
    add_arguments(sandbox)
    sandbox.set_defaults(handler=cmd_sandbox)
    return parser
