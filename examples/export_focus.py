"""Export last month's AI spend as FOCUS 1.2, for a FinOps tool or a warehouse.

    python examples/export_focus.py --demo -o focus.csv
    python examples/export_focus.py --since 2026-10-01 --until 2026-11-01 -o october.csv
    python examples/export_focus.py --db usage.sqlite -o focus.parquet   # from a store

FOCUS (the FinOps Open Cost and Usage Specification) is the layout FinOps tools load next to
cloud bills: one row per charge, with BilledCost, BillingCurrency, ChargePeriodStart/End,
ProviderName, ServiceName, SubAccountId (the project), Tags and the rest. Basedash and Unsiloed
report only their current billing period: for past months, export from a store kept by
nightly_sync.py (--db).
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from _common import clients, parser

import usagekit


def last_month() -> tuple[datetime, datetime]:
    """The previous calendar month, UTC."""
    now = usagekit.utcnow()
    this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (this_month - timedelta(days=1)).replace(day=1), this_month


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("-o", "--output", default="focus.csv", help="a .csv or .parquet file")
    cli.add_argument("--since", help="window start (default: last month)")
    cli.add_argument("--until", help="window end, exclusive (default: now)")
    cli.add_argument("--db", help="read from this usagekit store instead of the providers")
    args = cli.parse_args()
    if args.since is None and args.until is None:
        args.since, args.until = last_month()

    if args.db:
        with usagekit.Store(args.db) as store:
            report = usagekit.UsageReport.from_records(store.records(args.since, args.until))
    else:
        with clients(args.demo) as all_clients:
            report = usagekit.collect(all_clients, start=args.since, end=args.until)

    if args.output.endswith(".parquet"):  # needs the parquet extra (pyarrow)
        rows = report.to_focus_parquet(args.output)
    else:
        rows = report.to_focus_csv(args.output)

    print(f"wrote {rows:,} FOCUS {usagekit.FOCUS_VERSION} rows to {args.output}")
    billed: Counter[str] = Counter()
    for row in report.to_focus():
        billed[f"{row['ProviderName']} ({row['BillingCurrency']})"] += row["BilledCost"]
    for provider, amount in billed.most_common():
        print(f"  {provider:<16} BilledCost {Decimal(amount):,.2f}")

    for failure in report.failures:
        print(f"{failure.provider} failed: {failure.reason}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
