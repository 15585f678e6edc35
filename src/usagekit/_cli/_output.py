"""What ``usagekit report`` writes: the table for people, CSV and JSON for machines."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from decimal import Decimal
from typing import IO, Any

from .._report import UsageReport
from ._common import EXIT_OK, EXIT_PARTIAL

__all__ = ["report_failures", "write_report"]


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


def write_report(report: UsageReport, args: argparse.Namespace, out: IO[str]) -> None:
    """Write the report in the ``--format`` of ``args`` (``table``, ``csv`` or ``json``).

    Args:
        report: The report.
        args: The parsed arguments (``--by``, ``--format``).
        out: Where to write.
    """
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


def report_failures(report: UsageReport) -> int:
    """Say on stderr which providers failed.

    Args:
        report: The report.

    Returns:
        The exit code: 0 when every provider was fetched, else 1.
    """
    for failure in report.failures:
        kept = len(failure.partial_records)
        sys.stderr.write(
            f"usagekit: {failure.provider} failed ({kept} records received were left out): "
            f"{failure.reason}\n"
        )
    return EXIT_OK if report.ok else EXIT_PARTIAL
