"""The concurrent page walk against the sandbox, over real loopback HTTP, sync and async: the
same records as the sequential walk, in the documented order, never more requests at once than
asked, and ``collect`` unchanged."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

import usagekit
from tests.conftest import resolve
from usagekit._providers.openai._plan import plan_records

from .._gated import walk_threads
from ._walk_support import CountingTransport

sandbox_module = pytest.importorskip("usagekit.sandbox")

UTC = timezone.utc
NOW = datetime(2026, 11, 15, 12, 34, 56, tzinfo=UTC)
START = datetime(2026, 11, 8, tzinfo=UTC)
END = datetime(2026, 11, 15, tzinfo=UTC)
"""A week at 1h: 168 buckets, 6 pages of 31 for each usage endpoint, 1 for costs."""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with sandbox_module.serve(seed=5, now=NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Any) -> Any:
    sandbox.reset()
    return sandbox


def make(sb: Any, mode: str, **kwargs: Any) -> Any:
    return sb.openai_client(**kwargs) if mode == "sync" else sb.async_openai_client(**kwargs)


async def close(client: Any) -> None:
    if hasattr(client, "aclose"):
        await client.aclose()
    else:
        client.close()


async def hourly(sb: Any, mode: str, width: str = "1h", **kwargs: Any) -> list[Any]:
    client = make(sb, mode)
    try:
        records: list[Any] = await resolve(client.records(START, END, bucket_width=width, **kwargs))
        return records
    finally:
        await close(client)


def round_robin(pages: list[tuple[str, int]], concurrency: int) -> list[tuple[str, int]]:
    """The documented order, from each endpoint's page count (table order): ``(name, page)``."""
    waiting = deque(pages)
    rotation: list[list[Any]] = []  # [name, pages, next page]
    while waiting and len(rotation) < concurrency:
        rotation.append([*waiting.popleft(), 1])
    order: list[tuple[str, int]] = []
    turn = 0
    while rotation:
        name, count, number = rotation[turn]
        order.append((name, number))
        if number < count:
            rotation[turn][2] += 1
            turn += 1
        elif waiting:
            rotation[turn] = [*waiting.popleft(), 1]
            turn += 1
        else:
            del rotation[turn]
        turn = 0 if turn >= len(rotation) else turn
    return order


async def test_the_concurrent_walk_gives_the_sequential_records(sb: Any, mode: str) -> None:
    sequential = await hourly(sb, mode, concurrency=1)
    concurrent = await hourly(sb, mode)
    again = await hourly(sb, mode)
    assert len(sequential) > 1000
    assert concurrent == again  # the same records in the same order, run after run
    assert Counter(concurrent) == Counter(sequential)
    for source in {r.source for r in sequential}:
        mine = [r for r in concurrent if r.source == source]
        assert mine == [r for r in sequential if r.source == source]
    assert sb.stats.internal_errors == []


@pytest.mark.parametrize("concurrency", [2, 4])
async def test_pages_come_in_the_documented_order(sb: Any, mode: str, concurrency: int) -> None:
    plan = plan_records(START, END, sources=None, bucket_width="1h", group_by=None)
    client = make(sb, mode)
    try:
        sequential = await resolve(client._walk_pages(plan, 1))
        concurrent = await resolve(client._walk_pages(plan, concurrency))
    finally:
        await close(client)
    counts = Counter(endpoint.name for endpoint, _ in sequential)
    assert counts["completions"] == 6 and counts["costs"] == 1
    numbered: Counter[str] = Counter()
    order = []
    for endpoint, _page in concurrent:
        numbered[endpoint.name] += 1
        order.append((endpoint.name, numbered[endpoint.name]))
    assert order == round_robin([(e.name, counts[e.name]) for e, _ in plan], concurrency)
    # each page is the one the sequential walk got at that place of its endpoint
    by_endpoint: dict[str, list[Any]] = {}
    for endpoint, page in sequential:
        by_endpoint.setdefault(endpoint.name, []).append(page)
    assert [page for _, page in concurrent] == [by_endpoint[n][k - 1] for n, k in order]


async def test_never_more_requests_at_once_than_asked(sb: Any, mode: str) -> None:
    # The first four requests wait for each other at the client's transport, so the walk
    # reaches its bound; had it started a fifth, the peak would show it.
    inner = httpx.HTTPTransport() if mode == "sync" else httpx.AsyncHTTPTransport()
    counting = CountingTransport(inner, gate=4)
    http: Any = httpx.Client if mode == "sync" else httpx.AsyncClient
    http = http(transport=counting)
    client = make(sb, mode, http_client=http)
    try:
        records = await resolve(client.records(START, END, bucket_width="1h", concurrency=4))
    finally:
        await close(client)
        await close(http)
    assert counting.peak == 4
    assert counting.inflight == 0 and walk_threads() == []
    assert Counter(records) == Counter(await hourly(sb, mode, concurrency=1))


async def test_collect_gets_the_concurrent_walks_records(sb: Any) -> None:
    sequential = await hourly(sb, "sync", width="1d", concurrency=1)
    sync_client, async_client = sb.openai_client(), sb.async_openai_client()
    try:
        threaded = usagekit.collect([sync_client], START, END)
        looped = await usagekit.acollect([async_client], START, END)
    finally:
        sync_client.close()
        await async_client.aclose()
    for report in (threaded, looped):
        assert not report.failures
        assert sorted(r.id for r in report.records) == sorted(r.id for r in sequential)
    assert walk_threads() == []


RETRIES = usagekit.RetryPolicy(max_retries=12, initial_backoff=0.005, max_backoff=0.02)


async def test_faults_and_a_rate_limit_shared_by_the_concurrent_requests(
    sb: Any, mode: str
) -> None:
    # Every request of the walk shares the client's retry policy and its one adaptive rate
    # limiter, from tasks or threads: with 30 % faults and a rate limit, the records are the
    # clean run's, in the same order, and no retry comes before the server's hint.
    clean = await hourly(sb, mode)
    sb.reset()
    sb.configure(
        fault_rate=0.3, fault_seed=3, slow_seconds=0.005, retry_after_ms=(5, 25), rate_limit=400
    )
    client = make(sb, mode, retry=RETRIES)
    paced = client.with_options(adaptive_rate_limit=True)
    try:
        chaotic = await resolve(paced.records(START, END, bucket_width="1h"))
    finally:
        sb.configure(fault_rate=0.0, rate_limit=None)
        await close(client)
    stats = sb.stats
    assert sum(stats.faults.values()) > 10 and len(stats.faults) >= 3
    assert stats.early_retries == []
    assert chaotic == clean
    assert walk_threads() == []


async def test_the_tables_collect_reads_hold_exactly_what_records_yields(
    sb: Any, mode: str
) -> None:
    client = make(sb, mode)
    try:
        with usagekit.pin_clock(NOW):
            tables = await resolve(client._record_tables(START, END))
            records = await resolve(client.records(START, END))
    finally:
        await close(client)
    assert len(tables) > 1 and records
    flat = [record for table in tables for record in table]
    assert [(r.id, r.quantity.as_tuple(), r.attributes) for r in flat] == [
        (r.id, r.quantity.as_tuple(), r.attributes) for r in records
    ]
    assert {r.source for r in records} >= {"completions", "costs"}
