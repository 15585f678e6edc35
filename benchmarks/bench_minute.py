"""Benchmark: memory held by a ``records()`` walk of one-minute buckets.

``client.records(start, end, sources=["completions"], bucket_width="1m")`` over two days of
one-minute buckets (``--smoke``: 10 minutes), 50 groups active in every minute, every numeric
field present (15 records a result), served over loopback by the data server in its own
process (:mod:`benchmarks.dataserver`). The records are consumed one by one and dropped, as a
streaming caller does, so whatever memory the walk holds is the client's own: the page it
decoded, its records, the id set that drops repeated buckets.

Two fresh Python processes walk the same window:

* ``traced``: ``tracemalloc`` started after the imports and the client's creation; its peak over
  the walk is the figure (the ratio is that peak over 50 MB, target at most 1.0);
* ``rss``: no tracing; the peak resident set (``VmHWM``) over the baseline after the imports
  (native memory included) and the walk's speed, printed beside it.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ._common import Result, current_rss_bytes, peak_rss_bytes, run_child

START = datetime(2025, 3, 1, tzinfo=timezone.utc)
LIMIT_BYTES = 50e6
GROUPS = 50
_MODULE = "benchmarks.bench_minute"


def child(url: str, minutes: int, traced: bool) -> dict[str, Any]:
    """Walk ``minutes`` one-minute buckets in this process; the memory figures."""
    import usagekit

    from .dataserver import API_KEY

    client = usagekit.OpenAIClient(api_key=API_KEY, base_url=f"{url}/v1")
    end = START + timedelta(minutes=minutes)
    count = 0
    gc.collect()
    baseline = current_rss_bytes() or peak_rss_bytes()
    if traced:
        tracemalloc.start()
    began = time.perf_counter()
    for _ in client.records(START, end, sources=["completions"], bucket_width="1m"):
        count += 1
    seconds = time.perf_counter() - began
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    peak = peak_rss_bytes() - baseline
    client.close()
    return {"records": count, "seconds": seconds, "traced_peak": traced_peak, "rss_peak": peak}


def _span(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440} days"
    return f"{minutes} minutes"


def run(smoke: bool = False) -> Result:
    """Walk the window traced and untraced, each in a fresh process; traced peak over 50 MB."""
    from .dataserver import serve_data

    minutes = 10 if smoke else 2 * 1440
    with serve_data(groups=GROUPS) as server:
        traced = run_child(_MODULE, ["--child", server.url, str(minutes), "--traced"])
        plain = run_child(_MODULE, ["--child", server.url, str(minutes)])
        requests = server.stats()["requests"] // 2
    if traced["records"] != plain["records"]:
        raise RuntimeError(f"the walks differ: {traced['records']} and {plain['records']}")
    peak = traced["traced_peak"]
    return Result(
        "minute",
        peak / LIMIT_BYTES,
        1.0,
        f"tracemalloc peak {peak / 1e6:.1f} MB of {LIMIT_BYTES / 1e6:g} MB over {minutes:,} "
        f"one-minute buckets x {GROUPS} groups ({plain['records']:,} records, {requests} "
        f"requests); untraced: peak RSS +{plain['rss_peak'] / 1e6:.0f} MB, "
        f"{plain['records'] / plain['seconds'] / 1000:.0f}k records/s",
        what=f"`records()` over {_span(minutes)} of 1-minute buckets x {GROUPS} groups",
        baseline="50 MB held at most",
        brief=f"peak {peak / 1e6:.0f} MB traced, RSS +{plain['rss_peak'] / 1e6:.0f} MB",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """With ``--child``, walk here and print the figures as JSON; else run the benchmark."""
    parser = argparse.ArgumentParser(prog=f"python -m {_MODULE}")
    parser.add_argument("--child", nargs=2, metavar=("URL", "MINUTES"))
    parser.add_argument("--traced", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.child is None:
        print(run(smoke=args.smoke).line())
        return
    url, minutes = args.child
    sys.stdout.write(json.dumps(child(url, int(minutes), args.traced)) + "\n")


if __name__ == "__main__":
    main()
