"""Benchmark 3: ``usagekit.collect`` over the six providers, against the slowest one alone.

Each provider's API is served by a sandbox of its own (``benchmarks._remote.RemoteSandbox``, a
process each, loopback), which adds 50 ms to every response, as a distant API would: six
providers are six distant services, and one process answering for all of them would make each
one's answers wait on the others' under that process's one GIL, a contention no deployment has.
One sync client per provider (OpenAI, Basedash, Unsiloed, Daramex, Anthropic, OpenRouter), each
pointed at its own sandbox, reads the same window three ways:

* ``collect``: ``usagekit.collect(clients, start, end)``, which fetches every provider
  concurrently and builds the :class:`~usagekit.UsageReport`;
* each provider alone: ``list(client.records(start, end))``; the slowest of them is the
  baseline (concurrency can not beat it);
* one after another: each alone, back to back (what a plain loop over the clients costs),
  timed as the sum of them in one round.

Anthropic is the slowest: its Claude Code report is one request per day (read 4 days at once),
after its usage and cost reports; OpenAI reads its eleven endpoints side by side.

The three are run alternately, each timed with the garbage collector on, best of N (for the
providers alone, each provider's best). Before timing, every way must give the same number of
records. The ratio is ``collect`` over the slowest provider alone (target 1.2); the ratio over
the sequential loop is printed beside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import usagekit

from ._common import Result, best_of
from ._remote import RemoteSandbox

TARGET = 1.2
NOW = "2026-11-15T12:00:00Z"
"""The sandbox's frozen clock: the same data on every run."""


def _alone(client: Any, start: str, end: str) -> Callable[[], int]:
    def fetch() -> int:
        return len(list(client.records(start, end)))

    return fetch


def _collect(clients: Sequence[Any], start: str, end: str) -> int:
    report = usagekit.collect(clients, start, end)
    if report.failures:
        raise RuntimeError(f"collect failed for {[f.provider for f in report.failures]}")
    return len(report.records)


def _one_server_each(stack: contextlib.ExitStack, latency: float) -> list[tuple[Any, Any]]:
    """One sandbox process per provider, and that provider's client of it, in sandbox order.

    Six providers are six distant services; one process answering for all of them would make
    every provider's answers wait on the others' under that process's one GIL (measured: with
    OpenAI served apart, ``collect`` went from ~1.4x to ~1.06x the slowest alone), a contention
    no real deployment has.

    Each client kept is closed by ``stack`` (before its server stops), whatever fails later.
    """
    server = stack.enter_context(RemoteSandbox(seed=1, now=NOW, latency=latency))
    offered = server.clients()
    pairs: list[tuple[Any, Any]] = []
    for index in range(len(offered)):
        if index:
            server = stack.enter_context(RemoteSandbox(seed=1, now=NOW, latency=latency))
            offered = server.clients()
        for number, client in enumerate(offered):
            if number == index:
                pairs.append((server, client))
                stack.callback(client.close)
            else:
                client.close()
    return pairs


def run(smoke: bool = False) -> Result:
    """Time collect, each provider alone and all in a row; collect over the slowest alone."""
    latency = 0.01 if smoke else 0.05
    start, end = ("2026-11-14", "2026-11-15") if smoke else ("2026-10-01", "2026-11-15")
    repeats = 1 if smoke else 5
    with contextlib.ExitStack() as stack:
        pairs = _one_server_each(stack, latency)
        servers = [server for server, _ in pairs]
        clients = [client for _, client in pairs]
        providers = [client.provider for client in clients]
        singles = [_alone(client, start, end) for client in clients]
        counts = [single() for single in singles]  # warms the data and the connections
        together = _collect(clients, start, end)
        if together != sum(counts):
            raise RuntimeError(f"collect gave {together} records, alone {sum(counts)}")
        for server in servers:
            server.reset_stats()
        best_collect = best_sequential = float("inf")
        best_alone = [float("inf")] * len(clients)
        for _ in range(repeats):
            best_collect = min(best_collect, best_of(1, lambda: _collect(clients, start, end)))
            times = [best_of(1, single) for single in singles]
            best_alone = [min(pair) for pair in zip(best_alone, times, strict=True)]
            best_sequential = min(best_sequential, sum(times))
        requests = sum(server.stats.total_requests for server in servers) // (2 * repeats)
    slowest = max(range(len(clients)), key=lambda index: best_alone[index])
    alone = best_alone[slowest]
    per_provider = ", ".join(
        f"{name} {seconds * 1000:.0f} ms"
        for name, seconds in zip(providers, best_alone, strict=True)
    )
    return Result(
        "concurrency",
        best_collect / alone,
        TARGET,
        f"vs all one after another {best_collect / best_sequential:.2f}x; {sum(counts):,} "
        f"records, {requests} requests at +{latency * 1000:.0f} ms; collect "
        f"{best_collect * 1000:.0f} ms, slowest alone ({providers[slowest]}) {alone * 1000:.0f} "
        f"ms, in a row {best_sequential * 1000:.0f} ms ({per_provider}); best of {repeats}, GC on",
        what=f"`collect` over all {len(clients)} providers, +{latency * 1000:.0f} ms a request",
        baseline="the slowest provider alone",
        brief=f"all one after another: {best_collect / best_sequential:.2f}x",
    )


if __name__ == "__main__":
    print(run().line())
