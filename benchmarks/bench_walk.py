"""Benchmark: OpenAI's ``records()`` over its 11 endpoints, against the slowest endpoint alone.

The data server (:mod:`benchmarks.dataserver`, a process of its own, loopback) adds 50 ms to
every answer, as a distant API would, and serves all ten usage endpoints and costs for an
organization of 10 groups (each active in a bucket with probability 0.4): small enough that
the walk is about waiting for answers, not about normalizing them (the year's 50 groups would
make the CPU of the walk alone, a floor no concurrency under one GIL can go below, several
times the slowest endpoint's time; the line prints that floor). One sync
``usagekit.OpenAIClient`` reads 62 days at ``1d`` (two pages of each usage endpoint at its
largest ``limit``, one of costs) two ways:

* all: ``list(client.records(start, end))``, every endpoint;
* each endpoint alone: ``list(client.records(start, end, sources=[name]))``; the slowest of
  them is the baseline (a walk that fetched its endpoints side by side could not beat it).

Timed alternately, garbage collector on, best of 7 each (for the endpoints alone, each one's
best); both ways must give the same records. The ratio is all over the slowest alone (target
1.3); the sum of the endpoints alone (what a walk one endpoint after another costs) is printed
beside it, and so is the CPU time of the whole walk (``time.process_time``, the least over the
runs): whatever runs side by side, a walk under one GIL can not take less. Then the same walk
with ``usagekit.AsyncOpenAIClient`` (all, and the slowest endpoint alone, alternately, best of
7, each giving as many records as the sync walk) is printed beside it, not held to the target:
its requests are tasks on the caller's loop, so no answer waits for a thread to get the GIL
back from the caller building records.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from functools import partial

import usagekit
from usagekit._providers.openai._requests import SOURCE_NAMES

from ._common import Result, best_of
from .dataserver import DataServer, serve_data

TARGET = 1.3
START = datetime(2025, 6, 1, tzinfo=timezone.utc)
GROUPS = 10
ACTIVE = 0.4


async def _async_walks(
    server: DataServer, end: datetime, slowest: str, repeats: int, counts: dict[str, int]
) -> tuple[float, float]:
    """The same walk with ``usagekit.AsyncOpenAIClient`` (its requests tasks on one loop, no
    threads): all 11 endpoints and ``slowest`` alone, alternately, best of ``repeats`` each;
    each must give as many records as the sync walk gave (``counts``, per endpoint)."""
    async with usagekit.AsyncOpenAIClient(
        api_key=server.api_key, base_url=server.base_url
    ) as client:

        async def walk(sources: list[str] | None = None) -> float:
            began = time.perf_counter()
            got = 0
            async for _ in client.records(START, end, sources=sources):
                got += 1
            took = time.perf_counter() - began
            expected = sum(counts[name] for name in sources or counts)
            if got != expected:
                raise RuntimeError(f"the async walk of {sources or 'all'} gave {got} records")
            return took

        await walk()  # its own connections
        best_all = best_alone = float("inf")
        for _ in range(repeats):
            best_all = min(best_all, await walk())
            best_alone = min(best_alone, await walk([slowest]))
    return best_all, best_alone


def run(smoke: bool = False) -> Result:
    """Time the whole walk and each endpoint alone; the whole over the slowest alone."""
    latency_ms = 10.0 if smoke else 50.0
    days = 2 if smoke else 62
    repeats = 1 if smoke else 7
    end = START + timedelta(days=days)
    with serve_data(groups=GROUPS, active=ACTIVE, latency_ms=latency_ms) as server:
        client = server.openai_client()
        try:

            def walk(sources: list[str] | None = None) -> int:
                return len(list(client.records(START, end, sources=sources)))

            total = walk()  # warms the server's buckets and the connections
            counts = {name: walk([name]) for name in SOURCE_NAMES}
            if total != sum(counts.values()):
                raise RuntimeError(f"all gave {total} records, the endpoints alone {counts}")
            server.reset()
            best_all = cpu_all = float("inf")
            alone = dict.fromkeys(SOURCE_NAMES, float("inf"))
            for _ in range(repeats):
                cpu = time.process_time()
                best_all = min(best_all, best_of(1, walk))
                cpu_all = min(cpu_all, time.process_time() - cpu)
                for name in SOURCE_NAMES:
                    alone[name] = min(alone[name], best_of(1, partial(walk, [name])))
            requests = server.stats()["requests"] // (2 * repeats)
            slowest = max(alone, key=lambda name: alone[name])
            async_all, async_alone = asyncio.run(
                _async_walks(server, end, slowest, repeats, counts)
            )
        finally:
            client.close()
    in_a_row = sum(alone.values())
    return Result(
        "walk",
        best_all / alone[slowest],
        TARGET,
        f"all 11 endpoints {best_all * 1000:.0f} ms, slowest alone ({slowest}) "
        f"{alone[slowest] * 1000:.0f} ms, one after another {in_a_row * 1000:.0f} ms "
        f"({best_all / in_a_row:.2f}x of it); the whole walk's CPU {cpu_all * 1000:.0f} ms "
        f"(a floor for any concurrency under one GIL: {cpu_all / alone[slowest]:.2f}x the "
        f"slowest alone); {total:,} records, {requests} requests at "
        f"+{latency_ms:g} ms, {days} days at 1d, {GROUPS} groups; the async client, beside it: "
        f"{async_all * 1000:.0f} ms against {async_alone * 1000:.0f} ms "
        f"({async_all / async_alone:.2f}x); best of {repeats}, GC on",
        what=f"OpenAI `records()` over its 11 endpoints, +{latency_ms:g} ms a request",
        baseline="the slowest endpoint alone",
        brief=(
            f"{best_all * 1000:.0f} ms against {alone[slowest] * 1000:.0f} ms; "
            f"one after another {in_a_row * 1000:.0f} ms"
        ),
    )


if __name__ == "__main__":
    print(run().line())
