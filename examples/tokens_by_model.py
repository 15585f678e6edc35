"""Tokens by model over the last seven days, across every provider.

    python examples/tokens_by_model.py --demo
    python examples/tokens_by_model.py --days 30 --top 5

Only whole tokens are counted (input, output and total tokens), never a cached or audio
breakdown on top of them.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from _common import clients, parser

import usagekit


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--days", type=int, default=7, help="how many days back (default: 7)")
    cli.add_argument("--top", type=int, default=10, help="how many models to show (default: 10)")
    args = cli.parse_args()

    since = usagekit.utcnow() - timedelta(days=args.days)
    with clients(args.demo) as all_clients:
        report = usagekit.collect(all_clients, start=since)

    tokens = report.tokens_by_model()  # {model: Decimal}, largest first
    total = sum(tokens.values())
    print(f"Tokens by model since {since:%Y-%m-%d %H:%M} UTC")
    for model, count in list(tokens.items())[: args.top]:
        share = count / total if total else 0
        print(f"  {model or '(no model)':<40} {count:>15,} {share:>7.1%}")
    print(f"  {'total':<40} {total:>15,}")

    for failure in report.failures:
        print(f"{failure.provider} failed: {failure.reason}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
