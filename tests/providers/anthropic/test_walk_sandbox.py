"""The concurrent Claude Code walk against the sandbox over real loopback HTTP, sync and async:
the records of the sequential walk, never more requests at once than asked, a fault in the
middle of a walk raised as usagekit's error with nothing left running, early close, and the
tables ``collect`` reads holding exactly what ``records()`` yields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import usagekit
from tests.conftest import resolve
from usagekit.sandbox import Sandbox, serve

from .._gated import (
    close_http,
    close_iterator,
    drain_until_error,
    other_tasks,
    take,
    walk_threads,
)
from .._support import close
from ..openai._walk_support import CountingTransport

NOW = "2026-11-20T10:30:00Z"
START, END = "2026-10-20", "2026-11-20"
"""31 days: 31 Claude Code requests in ``records()``, one to four actors a day."""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with serve(seed=5, now=NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.reset()
    with usagekit.pin_clock(NOW):
        yield sandbox
    assert sandbox.stats.internal_errors == []


def client_for(sb: Sandbox, mode: str, **kw: Any) -> Any:
    kw.setdefault("max_retries", 0)
    return sb.anthropic_client(**kw) if mode == "sync" else sb.async_anthropic_client(**kw)


async def read(sb: Sandbox, mode: str, method: str, *args: Any, **kw: Any) -> list[Any]:
    client = client_for(sb, mode)
    try:
        return list(await resolve(getattr(client, method)(*args, **kw)))
    finally:
        await close(client)


def code_requests(sb: Sandbox) -> int:
    return sb.stats.count(provider="anthropic", endpoint="usage_report/claude_code")


async def test_every_concurrency_gives_the_sequential_records(sb: Sandbox, mode: str) -> None:
    sequential = await read(sb, mode, "records", START, END, concurrency=1)
    assert {r.source for r in sequential} == {"messages", "cost_report", "claude_code"}
    assert sum(r.source == "claude_code" for r in sequential) > 100
    assert await read(sb, mode, "records", START, END) == sequential
    code = [r for r in sequential if r.source == "claude_code"]
    for concurrency in (2, 7, 40):
        again = await read(
            sb, mode, "records", START, END, sources="claude_code", concurrency=concurrency
        )
        assert again == code


async def test_pages_of_one_record_give_the_same_entries(sb: Sandbox, mode: str) -> None:
    whole = await read(sb, mode, "claude_code_usage", START, END, concurrency=1)
    sb.reset_stats()
    paged = await read(sb, mode, "claude_code_usage", START, END, limit=1)
    assert paged == whole
    days_with_entries = len({entry.date for entry in whole})
    assert days_with_entries > 20
    assert code_requests(sb) == len(whole) + (31 - days_with_entries)  # an empty day: one page


async def test_never_more_requests_at_once_than_asked(sb: Sandbox, mode: str) -> None:
    inner = httpx.HTTPTransport() if mode == "sync" else httpx.AsyncHTTPTransport()
    counting = CountingTransport(inner, gate=4)
    http: Any = (httpx.Client if mode == "sync" else httpx.AsyncClient)(transport=counting)
    client = client_for(sb, mode, http_client=http)
    try:
        records = await resolve(client.records(START, END, sources="claude_code"))
    finally:
        await close(client)
        await close_http(http)
    assert counting.peak == 4
    assert counting.inflight == 0 and walk_threads() == []
    assert records == await read(sb, mode, "records", START, END, sources="claude_code")


@pytest.mark.parametrize("kind", ["server_error", "drop"])
async def test_a_fault_in_the_middle_is_raised_and_ends_the_walk(
    sb: Sandbox, mode: str, kind: str
) -> None:
    sequential = await read(sb, mode, "claude_code_usage", START, END, limit=1, concurrency=1)
    client = client_for(sb, mode)
    try:
        walk = client.claude_code_usage(START, END, limit=1)
        first = await take(walk, 3)
        sb.inject_faults(kind, 1, provider="anthropic")  # the next request the walk sends
        rest, error = await drain_until_error(walk)
        await close_iterator(walk)
    finally:
        await close(client)
    expected = usagekit.ServerError if kind == "server_error" else usagekit.APIConnectionError
    assert isinstance(error, expected), error
    got = first + rest
    assert got == sequential[: len(got)]  # what came before the error is the walk's own prefix
    assert len(got) < len(sequential)
    assert walk_threads() == [] and other_tasks() == set()


async def test_closing_early_leaves_nothing_running(sb: Sandbox, mode: str) -> None:
    client = client_for(sb, mode)
    try:
        walk = client.records(START, END, sources="claude_code")
        first = await take(walk, 5)
        await close_iterator(walk)
        assert walk_threads() == [] and other_tasks() == set()
    finally:
        await close(client)
    assert len(first) == 5
    assert code_requests(sb) <= 5 + 4  # the days read so far, and four ahead at most


async def test_the_tables_hold_exactly_the_records(sb: Sandbox, mode: str) -> None:
    records = await read(sb, mode, "records", START, END)
    tables = await read(sb, mode, "_record_tables", START, END)
    assert len(tables) > 3  # a table per page: usage, costs, a day each
    assert [record for table in tables for record in table] == records
    hourly = await read(sb, mode, "records", START, "2026-10-23", bucket_width="1h")
    tables = await read(sb, mode, "_record_tables", START, "2026-10-23", bucket_width="1h")
    assert [record for table in tables for record in table] == hourly


def test_collect_reads_the_tables_and_gets_the_records(sb: Sandbox) -> None:
    client = sb.anthropic_client()
    try:
        records = list(client.records(START, END))
        report = usagekit.collect([client], START, END)
    finally:
        client.close()
    (status,) = report.statuses
    assert status.error is None and status.records == len(records)
    assert list(report.records) == records


async def test_acollect_reads_the_tables_and_gets_the_records(sb: Sandbox) -> None:
    client = sb.async_anthropic_client()
    try:
        records = [record async for record in client.records(START, END)]
        report = await usagekit.acollect([client], START, END)
    finally:
        await client.aclose()
    assert list(report.records) == records
