"""Alert when AI spend is on course to break a budget, for cron or CI.

    python examples/budget_alert.py --demo              # a demo budget of 800 USD a month
    python examples/budget_alert.py --demo --limit 400
    python examples/budget_alert.py --limit 5000 --period month --currency USD

Prints the spend so far, the projection to the end of the period (least squares on daily
spend, once there are 7 days of data) and the verdict. Exit code 0 within budget, 1 over
budget (spent, or projected to spend, more than the limit), 2 when a provider failed and the
budget could not be checked.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from decimal import Decimal

from _common import clients, parser

import usagekit
from usagekit import analytics

DAY = timedelta(days=1)
DEMO_LIMIT = Decimal(800)  # the sandbox's month runs at about 680 USD


def period_start(period: str, now: datetime) -> datetime:
    """Midnight UTC starting the day, the week (Monday) or the month containing ``now``."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return today
    if period == "week":
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument(
        "--limit",
        type=Decimal,
        help=f"the budget for the period (required with real keys; --demo: {DEMO_LIMIT})",
    )
    cli.add_argument("--period", choices=("day", "week", "month"), default="month")
    cli.add_argument("--currency", default="USD")
    args = cli.parse_args()
    if args.limit is None:
        if not args.demo:
            cli.error("--limit is required (the budget for the period, e.g. --limit 5000)")
        args.limit = DEMO_LIMIT

    now = usagekit.utcnow()
    start = period_start(args.period, now)
    with clients(args.demo) as all_clients:
        report = usagekit.collect(all_clients, start=start, end=now)
    costs = report.filter(metric="cost", unit=args.currency).records

    # Daily (or finer) records are projected day by day. A billing-period total (Basedash
    # reports one amount per period) can't be placed on a day: when the period lies within the
    # budget's, it counts as spent, unprojected; otherwise it is left out.
    daily = [r for r in costs if r.end - r.start <= DAY]
    check = analytics.budget(
        daily, limit=args.limit, period=args.period, now=now, currency=args.currency
    )
    longer = [r for r in costs if r.end - r.start > DAY]
    inside = [r for r in longer if r.start >= start and r.end <= check.period_end]
    extra = sum((r.quantity for r in inside), Decimal(0))
    spent = check.spent + extra
    projected = check.projected + extra

    print(f"{args.period} to date: {spent:,.2f} of {args.limit:,.2f} {args.currency} spent")
    if check.projection.status == "ok":
        print(f"projected by {check.period_end:%Y-%m-%d}: {projected:,.2f} {args.currency}")
    else:
        print("projection: not enough days of data yet")
    if len(inside) < len(longer):
        print(f"left out: {len(longer) - len(inside)} billing-period totals longer than the period")
    for failure in report.failures:
        print(f"{failure.provider} failed: {failure.reason}", file=sys.stderr)

    if spent > args.limit or projected > args.limit:
        print("OVER BUDGET")
        return 1
    if not report.ok:
        print("budget not checked: a provider failed")
        return 2
    print("within budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
