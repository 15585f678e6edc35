"""The OpenRouter day walk, sync and async (the sync client reads days at once too): the bound,
records in day order, exactly the sequential requests at ``concurrency=1``, the first error in
order raised with nothing left running, early close; and against the sandbox, every
concurrency giving the sequential records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import respx

import usagekit
from tests.conftest import resolve
from usagekit import AsyncOpenRouterClient, OpenRouterClient
from usagekit.sandbox import Sandbox, serve

from .._gated import (
    GatedTransport,
    close_http,
    close_iterator,
    drain_until_error,
    http_client,
    other_tasks,
    take,
    walk_threads,
)
from .._support import close, json_response, make
from ._data import ACTIVITY, KEY, NOW, item, pinned

FIRST = date(2026, 8, 10)
DAYS = [(FIRST + timedelta(days=n)).isoformat() for n in range(15)]
END = "2026-08-25"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with pinned():
        yield


def answer(request: httpx.Request) -> httpx.Response:
    return json_response({"data": [item(date=request.url.params["date"])]})


def client_for(mode: str, transport: GatedTransport | None = None, **kwargs: Any) -> Any:
    kwargs.setdefault("max_retries", 0)
    if transport is not None:
        kwargs["http_client"] = http_client(mode, transport)
    return make(mode, OpenRouterClient, AsyncOpenRouterClient, KEY, **kwargs)


async def close_all(client: Any) -> None:
    """Close a client and the httpx client it was given."""
    http = client._transport.http_client
    await close(client)
    await close_http(http)


def days_of(records: list[Any]) -> list[str]:
    """Each record's day, once per day in the order they come."""
    out: list[str] = []
    for record in records:
        day = record.start.date().isoformat()
        if not out or out[-1] != day:
            out.append(day)
    return out


@pytest.mark.parametrize("concurrency", [2, 4, 9])
async def test_days_are_read_at_once_and_come_in_order(mode: str, concurrency: int) -> None:
    transport = GatedTransport(answer, gate=concurrency)
    client = client_for(mode, transport)
    try:
        records = await resolve(
            client.records(DAYS[0], END, credits=False, concurrency=concurrency)
        )
    finally:
        await close_all(client)
    assert transport.peak == concurrency
    assert days_of(records) == DAYS
    asked = [url.params["date"] for url in transport.sent]
    assert sorted(asked) == DAYS and set(asked[:concurrency]) == set(DAYS[:concurrency])
    assert walk_threads() == [] and other_tasks() == set()


async def test_the_sync_client_reads_four_days_at_once_by_default(mode: str) -> None:
    transport = GatedTransport(answer, gate=4)
    client = client_for(mode, transport)
    try:
        records = await resolve(client.records(DAYS[0], END, credits=False))
    finally:
        await close_all(client)
    assert transport.peak == 4
    assert days_of(records) == DAYS


async def test_concurrency_one_sends_exactly_the_sequential_requests(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url__startswith=ACTIVITY).mock(side_effect=answer)
        records = await resolve(client.records(DAYS[0], END, credits=False, concurrency=1))
    await close(client)
    assert [call.request.url.params["date"] for call in route.calls] == DAYS
    assert days_of(records) == DAYS


async def test_a_failing_day_raises_at_its_turn_and_ends_the_walk(mode: str) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        if request.url.params["date"] == DAYS[6]:
            error = {"error": {"code": 403, "message": "Only management keys", "metadata": None}}
            return json_response(error, 403)
        return answer(request)

    transport = GatedTransport(failing, gate=4)
    client = client_for(mode, transport)
    try:
        got, error = await drain_until_error(client.records(DAYS[0], END, credits=False))
    finally:
        await close_all(client)
    assert isinstance(error, usagekit.PermissionDeniedError)
    assert days_of(got) == DAYS[:6]
    assert walk_threads() == [] and other_tasks() == set()
    assert len(transport.sent) <= 6 + 4


async def test_closing_early_ends_the_walk(mode: str) -> None:
    hang = None if mode == "sync" else (lambda request: request.url.params["date"] != DAYS[0])
    transport = GatedTransport(answer, hang=hang)
    client = client_for(mode, transport)
    try:
        walk = client.records(DAYS[0], END, credits=False)
        first = await take(walk, 1)
        await close_iterator(walk)
        assert walk_threads() == [] and other_tasks() == set()
    finally:
        await close_all(client)
    assert first[0].start.date().isoformat() == DAYS[0]
    assert len(transport.sent) <= 4
    if mode == "async":
        assert len(transport.cancelled) == len(transport.sent) - 1


@pytest.mark.parametrize("bad", [0, -2, False, 2.0, "4"])
async def test_a_bad_concurrency_is_refused_before_any_request(mode: str, bad: Any) -> None:
    client = client_for(mode)
    with (
        respx.mock(assert_all_called=False) as router,
        pytest.raises(usagekit.ConfigError, match="openrouter records: concurrency"),
    ):
        client.records(DAYS[0], END, concurrency=bad)
    await close(client)
    assert router.calls.call_count == 0


# -- against the sandbox ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with usagekit.pin_clock(NOW, tick=False), serve(seed=7, now=NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.reset()
    yield sandbox
    assert sandbox.stats.internal_errors == []


async def read(sb: Sandbox, mode: str, **kwargs: Any) -> list[Any]:
    factory = sb.openrouter_client if mode == "sync" else sb.async_openrouter_client
    client = factory(max_retries=0)
    try:
        return list(await resolve(client.records("2026-08-01", **kwargs)))
    finally:
        await close(client)


async def test_every_concurrency_gives_the_sequential_records(sb: Sandbox, mode: str) -> None:
    sequential = await read(sb, mode, concurrency=1)
    assert len(days_of([r for r in sequential if r.source == "activity"])) == 30
    for concurrency in (3, 4, 30):
        assert await read(sb, mode, concurrency=concurrency) == sequential


async def test_a_fault_in_the_middle_is_raised_and_ends_the_walk(sb: Sandbox, mode: str) -> None:
    sequential = await read(sb, mode, concurrency=1)
    factory = sb.openrouter_client if mode == "sync" else sb.async_openrouter_client
    client = factory(max_retries=0)
    try:
        walk = client.records("2026-08-01")
        first = await take(walk, 10)
        sb.inject_faults("unavailable", 1, provider="openrouter")
        rest, error = await drain_until_error(walk)
        await close_iterator(walk)
    finally:
        await close(client)
    assert isinstance(error, usagekit.ServerError), error
    got = first + rest
    assert got == sequential[: len(got)] and len(got) < len(sequential)
    assert walk_threads() == [] and other_tasks() == set()


def test_collect_gets_the_records_and_the_clipping(sb: Sandbox) -> None:
    client = sb.openrouter_client()
    try:
        records = list(client.records("2026-07-01", "2026-09-02"))
        report = usagekit.collect([client], "2026-07-01", "2026-09-02")
    finally:
        client.close()
    (status,) = report.statuses
    assert status.error is None and "last 30 completed UTC days" in (status.note or "")
    assert list(report.records) == records
