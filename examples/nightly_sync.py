"""Keep a nightly history of every provider in one SQLite file.

    python examples/nightly_sync.py --demo --db usage.sqlite
    python examples/nightly_sync.py --db usage.sqlite --since 2026-01-01   # first run: back-fill

From cron, every night at 02:15:

    15 2 * * *  cd /srv/usage && .venv/bin/python nightly_sync.py --db usage.sqlite

Each run fetches only what is new (the last, partial bucket again), so it is cheap and can run
as often as you like; a crash or a provider failure loses nothing, and the next run resumes.
Basedash and Unsiloed report only their current billing period: each of their fetches is also
kept as a snapshot, so their history survives the period's end.

Exit code 0 when every provider was synced, 1 when one failed (the others are still written).
"""

from __future__ import annotations

import sys

from _common import clients, parser

import usagekit


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--db", default="usage.sqlite", help="the store (default: usage.sqlite)")
    cli.add_argument("--since", help="where to start a provider the store has nothing of")
    args = cli.parse_args()

    with clients(args.demo) as all_clients, usagekit.Store(args.db) as store:
        result = usagekit.sync(store, all_clients, since=args.since)
        stored = store.count()

    for entry in result.providers:
        start = f"from {entry.start:%Y-%m-%d %H:%M}" if entry.start else "from its default window"
        state = "ok" if entry.ok else f"FAILED: {entry.error}"
        print(f"{entry.provider:<10} {entry.written:>7,} written {start:<28} {state}")
    print(f"{stored:,} records in {args.db}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
