"""This month's AI spend, by provider.

    python examples/monthly_spend.py --demo     # the built-in sandbox, no keys
    python examples/monthly_spend.py            # every provider whose keys are set

Exit code 0 when every provider answered, 1 when one failed (the others are still shown).
"""

from __future__ import annotations

import sys
from decimal import Decimal

from _common import clients, parser

import usagekit


def money(amounts: dict[str, Decimal]) -> str:
    """``{"USD": Decimal("12.3456")}`` as ``12.35 USD``."""
    return ", ".join(f"{amount:,.2f} {currency}" for currency, amount in amounts.items()) or "none"


def main() -> int:
    args = parser(__doc__).parse_args()
    with clients(args.demo) as all_clients:
        report = usagekit.collect(all_clients)  # from the 1st of this month (UTC) to now

    print(f"AI spend since {report.start:%Y-%m-%d}")
    by_provider = report.cost_by("provider")  # largest first
    for provider, cost in by_provider.items():
        print(f"  {provider:<10} {money(cost)}")
    for status in report.statuses:  # every provider asked, also those without cost
        if status.ok and status.provider not in by_provider:
            why = "no cost reported" if status.records else (status.note or "no data yet")
            print(f"  {status.provider:<10} {why}")  # Unsiloed counts credits, not money
    print(f"  {'total':<10} {money(report.total_cost())}")

    for failure in report.failures:
        print(f"{failure.provider} failed: {failure.reason}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
