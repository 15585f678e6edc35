"""Benchmark 5: a bulk backfill against a rate-limited server, paced by the adaptive limiter.

The sandbox (a process of its own, loopback: ``benchmarks._remote.RemoteSandbox``) runs its
rate-limit mode: a token bucket of
``R`` requests a second per key (``rate_limit=R, rate_limit_burst=B``, set with
``sb.configure`` after an unthrottled walk has let it generate its data); a request beyond
it gets a 429 with OpenAI's hints (``retry-after-ms``, ``retry-after``). The backfill is what
asking for a long history at fine grain costs: OpenAI completions at ``bucket_width=1m`` with
``limit=1``, one page per minute, so ``N`` pages are ``N`` successful requests.

usagekit walks it with the client's opt-in limiter for bulk backfills
(``sb.openai_client().with_options(adaptive_rate_limit=True)``): the
:class:`~usagekit.AdaptiveRateLimiter` is dormant until the first 429, then paces requests at the
rate the hint implies. The ideal time is ``N / R`` (what a client that knew the limit could
do); the figure is ``elapsed / (N / R)`` (target 1.2), with the share of all requests answered
429 (target under 5 %), read from the sandbox's counters (``sb.stats``), and the sandbox's list
of retries sent before their 429's hint had passed (``sb.stats.early_retries``), which must stay
empty.

Side by side, the same backfill with the limiter off (the client's default), so only the retry
loop (which honours each hint) deals with the 429s; it gets ``max_retries=10`` so that an
unlucky page can not end its walk (the limiter's walk uses the default of 2). Both walks must
fetch the same ``N`` pages.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

from ._common import Check, Result
from ._remote import RemoteSandbox

TARGET = 1.2
MAX_SHARE = 0.05
RATE = 40.0
BURST = 2
NOW = "2026-11-15T12:00:00Z"
"""The sandbox's frozen clock: the same data on every run."""
END = datetime(2026, 11, 15, tzinfo=timezone.utc)
_ENDPOINT = "usage/completions"


def _backfill(sb: RemoteSandbox, pages: int, *, limiter: bool) -> dict[str, Any]:
    """Walk ``pages`` one-minute pages; return the time and the sandbox's counts."""
    base = sb.openai_client() if limiter else sb.openai_client(max_retries=10)
    client = base.with_options(adaptive_rate_limit=limiter)
    try:
        sb.reset_stats()  # fresh counters and a full token bucket for each walk
        start = END - timedelta(minutes=pages)
        pager = client.usage.completions(start, END, bucket_width="1m", limit=1)
        began = time.perf_counter()
        fetched = sum(1 for _ in pager.iter_pages())
        elapsed = time.perf_counter() - began
        stats = sb.stats
        figures = {
            "pages": fetched,
            "elapsed": elapsed,
            "ok": stats.count("openai", _ENDPOINT, 200),
            "throttled": stats.count("openai", _ENDPOINT, 429),
            "total": stats.total_requests,
            "early": len(stats.early_retries),
            "rate": getattr(client._transport.rate_limiter, "rate", None),
        }
    finally:
        base.close()
    if fetched != pages or figures["ok"] != pages:
        raise RuntimeError(f"expected {pages} pages, fetched {fetched} ({figures})")
    return figures


def run(smoke: bool = False) -> Result:
    """Backfill with the limiter and without; elapsed over ideal, and the 429 shares."""
    pages = 40 if smoke else 400
    with RemoteSandbox(seed=1, now=NOW) as sb:
        _backfill(sb, pages, limiter=False)  # let the sandbox generate its data, unthrottled
        sb.configure(rate_limit=RATE, rate_limit_burst=BURST)
        paced = _backfill(sb, pages, limiter=True)
        plain = _backfill(sb, pages, limiter=False)
    ideal = pages / RATE
    share = paced["throttled"] / paced["total"]
    plain_share = plain["throttled"] / plain["total"]
    learned = paced["rate"]
    return Result(
        "ratelimit",
        paced["elapsed"] / ideal,
        TARGET,
        f"{pages} pages at R={RATE:g}/s (burst {BURST}), ideal {ideal:.1f} s; limiter: "
        f"{paced['elapsed']:.2f} s, {paced['throttled']} of {paced['total']} requests 429, "
        f"pacing at {learned or 0:.1f}/s at the end; limiter off: {plain['elapsed']:.2f} s "
        f"({plain['elapsed'] / ideal:.2f}x), {plain['throttled']} of {plain['total']} requests "
        f"429 ({plain_share:.0%})",
        checks=(
            Check("429 share", share, MAX_SHARE, strict=True),
            Check("early retries", paced["early"] + plain["early"], 0, style="count"),
        ),
        what=f"{pages}-page backfill at {RATE:g} requests/s, opt-in limiter",
        baseline="ideal time, requests / R",
        brief=f"limiter off: {plain_share:.0%} answered 429",
    )


if __name__ == "__main__":
    print(run().line())
