"""The Claude Code day walk, sync and async: days read ``concurrency`` at once (each day's first
page; its later pages in turn), records in day and page order, the exact sequential requests at
``concurrency=1``, the first error in order raised and the walk ended, early close."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

import usagekit
from tests.conftest import resolve
from usagekit import AnthropicClient, AsyncAnthropicClient

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

KEY = "sk-ant-admin01-test"
BASE = "https://api.anthropic.com"
CLAUDE_CODE = f"{BASE}/v1/organizations/usage_report/claude_code"
DAYS = [f"2026-09-{day:02d}" for day in range(1, 11)]


def pages_of(day: str) -> int:
    """How many pages a day has: 1, 2 or 3."""
    return int(day[-2:]) % 3 + 1


def entry(day: str, page: int) -> dict[str, Any]:
    """One actor's day, named after its day and page."""
    return {
        "date": f"{day}T00:00:00Z",
        "actor": {"type": "api_actor", "api_key_name": f"{day}/{page}"},
        "core_metrics": {"num_sessions": page},
    }


def where(url: httpx.URL) -> tuple[str, int]:
    """The day and page a request asks for."""
    query = dict(parse_qsl(url.query.decode()))
    return query["starting_at"], int(query.get("page", "p1")[1:])


def answer(request: httpx.Request) -> httpx.Response:
    day, page = where(request.url)
    more = page < pages_of(day)
    body = {
        "data": [entry(day, page)],
        "has_more": more,
        "next_page": f"p{page + 1}" if more else None,
    }
    return json_response(body)


def client_for(mode: str, transport: GatedTransport | None = None, **kwargs: Any) -> Any:
    kwargs.setdefault("max_retries", 0)
    if transport is not None:
        kwargs["http_client"] = http_client(mode, transport)
    return make(mode, AnthropicClient, AsyncAnthropicClient, KEY, **kwargs)


async def close_all(client: Any) -> None:
    """Close a client and the httpx client it was given."""
    http = client._transport.http_client
    await close(client)
    await close_http(http)


EXPECTED = [(day, page) for day in DAYS for page in range(1, pages_of(day) + 1)]
"""Every page of the window, in the documented order."""


def named(entries: list[Any]) -> list[tuple[str, int]]:
    out = []
    for item in entries:
        day, page = item.actor.api_key_name.split("/")
        out.append((day, int(page)))
    return out


@pytest.mark.parametrize("concurrency", [2, 4, 7])
async def test_days_are_read_at_once_and_come_in_day_and_page_order(
    mode: str, concurrency: int
) -> None:
    transport = GatedTransport(answer, gate=concurrency)
    client = client_for(mode, transport)
    try:
        found = await resolve(
            client.claude_code_usage(DAYS[0], "2026-09-11", limit=1, concurrency=concurrency)
        )
    finally:
        await close_all(client)
    assert named(found) == EXPECTED
    assert transport.peak == concurrency  # the gate opened: that many at once, never more
    asked = [where(url) for url in transport.sent]
    assert sorted(asked) == sorted(EXPECTED)
    assert {day for day, _ in asked[:concurrency]} == set(DAYS[:concurrency])
    for day, page in EXPECTED:  # a day's later page is asked for after its previous one
        if page > 1:
            assert asked.index((day, page)) > asked.index((day, page - 1))
    assert walk_threads() == [] and other_tasks() == set()


async def test_the_default_reads_four_days_at_once(mode: str) -> None:
    transport = GatedTransport(answer, gate=4)
    client = client_for(mode, transport)
    try:
        records = await resolve(client.records(DAYS[0], "2026-09-11", sources="claude_code"))
    finally:
        await close_all(client)
    assert transport.peak == 4
    assert [r.attributes["api_key_name"] for r in records] == [f"{d}/{p}" for d, p in EXPECTED]


async def test_concurrency_one_sends_exactly_the_sequential_requests(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url__startswith=CLAUDE_CODE).mock(side_effect=answer)
        found = await resolve(
            client.claude_code_usage(DAYS[0], "2026-09-11", limit=1, concurrency=1)
        )
    await close(client)
    assert [where(call.request.url) for call in route.calls] == EXPECTED
    assert named(found) == EXPECTED


async def test_records_at_concurrency_one_read_the_reports_in_turn(mode: str) -> None:
    messages = f"{BASE}/v1/organizations/usage_report/messages"
    costs = f"{BASE}/v1/organizations/cost_report"
    empty = {"data": [], "has_more": False, "next_page": None}
    with usagekit.pin_clock("2026-09-20T12:00:00Z"), respx.mock(assert_all_mocked=True) as router:
        router.get(url__startswith=messages).mock(return_value=json_response(empty))
        router.get(url__startswith=costs).mock(return_value=json_response(empty))
        router.get(url__startswith=CLAUDE_CODE).mock(side_effect=answer)
        client = client_for(mode)
        await resolve(client.records(DAYS[0], "2026-09-04", concurrency=1))
        await close(client)
        asked = [
            where(c.request.url) if "claude_code" in c.request.url.path else c.request.url.path
            for c in router.calls
        ]
    code = [(day, page) for day, page in EXPECTED if day in DAYS[:3]]
    assert asked == [
        "/v1/organizations/usage_report/messages",
        "/v1/organizations/cost_report",
        *code,
    ]


async def test_a_failing_day_raises_at_its_turn_and_ends_the_walk(mode: str) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        day, _ = where(request.url)
        if day == DAYS[4]:
            return json_response(
                {"type": "error", "error": {"type": "api_error", "message": "down"}}, 500
            )
        return answer(request)

    transport = GatedTransport(failing, gate=4)
    client = client_for(mode, transport)
    try:
        got, error = await drain_until_error(
            client.claude_code_usage(DAYS[0], "2026-09-11", limit=1)
        )
    finally:
        await close_all(client)
    assert isinstance(error, usagekit.ServerError)
    assert named(got) == [(day, page) for day, page in EXPECTED if day < DAYS[4]]
    assert walk_threads() == [] and other_tasks() == set()
    assert {where(url)[0] for url in transport.sent} <= set(DAYS[:8])  # 4 days ahead at most


async def test_closing_early_ends_the_walk(mode: str) -> None:
    hang = None if mode == "sync" else (lambda request: where(request.url)[0] != DAYS[0])
    transport = GatedTransport(answer, hang=hang)
    client = client_for(mode, transport)
    try:
        walk = client.claude_code_usage(DAYS[0], "2026-09-11", limit=1)
        first = await take(walk, 1)
        await close_iterator(walk)
        assert walk_threads() == [] and other_tasks() == set()
    finally:
        await close_all(client)
    assert named(first) == [(DAYS[0], 1)]
    if mode == "async":
        assert sorted(str(url) for url in transport.cancelled) == sorted(
            str(url) for url in transport.sent if where(url)[0] != DAYS[0]
        )
    assert len(transport.sent) <= 4  # the first four days, nothing after the close


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "4", None])
async def test_a_bad_concurrency_is_refused_before_any_request(mode: str, bad: Any) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_called=False) as router:
        with pytest.raises(usagekit.ConfigError, match="concurrency"):
            client.claude_code_usage(DAYS[0], "2026-09-11", concurrency=bad)
        with pytest.raises(usagekit.ConfigError, match="concurrency"):
            client.records(DAYS[0], "2026-09-11", concurrency=bad)
        with pytest.raises(usagekit.ConfigError, match="concurrency"):
            client._record_tables(DAYS[0], "2026-09-11", concurrency=bad)
    await close(client)
    assert router.calls.call_count == 0
