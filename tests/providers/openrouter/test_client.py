"""OpenRouter over respx: exact requests, typed answers, errors, and records of a day walk."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

import usagekit
from tests.conftest import resolve
from usagekit import (
    AsyncOpenRouterClient,
    OpenRouterActivity,
    OpenRouterActivityItem,
    OpenRouterClient,
    OpenRouterCredits,
)
from usagekit._core.coverage import capture

from .._support import close, json_response, make, no_requests, total
from ._data import ACTIVITY, CREDITS, KEY, UTC, item, pinned, second_item


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with pinned():
        yield


def client_for(mode: str, **kwargs: Any) -> Any:
    kwargs.setdefault("max_retries", 0)
    return make(mode, OpenRouterClient, AsyncOpenRouterClient, KEY, **kwargs)


def by_date(days: dict[str, list[dict[str, Any]]]) -> Any:
    """A respx side effect answering each ``date`` with its rows (none for other days)."""

    def answer(request: httpx.Request) -> httpx.Response:
        day = request.url.params["date"]
        return json_response({"data": days.get(day, [])})

    return answer


# -- requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "query"),
    [
        ({}, "date=2026-09-01"),
        ({"api_key_hash": "f0" * 32}, "date=2026-09-01&api_key_hash=" + "f0" * 32),
        ({"user_id": "user_abc123"}, "date=2026-09-01&user_id=user_abc123"),
        (
            {"workspace_id": "550e8400-e29b-41d4-a716-446655440000"},
            "date=2026-09-01&workspace_id=550e8400-e29b-41d4-a716-446655440000",
        ),
        ({"group_by": "workspace"}, "date=2026-09-01&group_by=workspace"),
        (
            {"api_key_hash": "h", "user_id": "u 1", "workspace_id": "w", "group_by": "workspace"},
            "date=2026-09-01&api_key_hash=h&user_id=u+1&workspace_id=w&group_by=workspace",
        ),
    ],
)
async def test_every_activity_filter_is_encoded(
    mode: str, kwargs: dict[str, Any], query: str
) -> None:
    c = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url__startswith=ACTIVITY).mock(
            return_value=json_response({"data": [item()]})
        )
        answer = await resolve(c.activity(date(2026, 9, 1), **kwargs))
    await close(c)
    request = route.calls.last.request
    assert str(request.url) == f"{ACTIVITY}?{query}"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert isinstance(answer, OpenRouterActivity)


async def test_activity_is_typed_and_keeps_unknown_fields(mode: str) -> None:
    c = client_for(mode)
    rows = [item(), second_item(workspace_id="ws-1", cache_discount=Decimal("0.5"))]
    with respx.mock(assert_all_mocked=True) as router:
        router.get(url__startswith=ACTIVITY).mock(return_value=json_response({"data": rows}))
        answer = await resolve(c.activity("2026-09-01"))
    await close(c)
    first, second = answer.data
    assert isinstance(first, OpenRouterActivityItem)
    assert (first.date, first.usage, first.byok_usage_inference) == (
        date(2026, 9, 1),
        Decimal("1.84213"),
        Decimal(0),
    )
    assert first.model_vendor == "anthropic" and first.provider_name == "Amazon Bedrock"
    assert first.workspace_id is None and second.workspace_id == "ws-1"
    assert second.model_extra == {"cache_discount": Decimal("0.5")}


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2026, 9, 2), "last 30 completed UTC days"),  # today: not complete
        (date(2026, 8, 2), "last 30 completed UTC days"),  # 31 days ago
        (date(2026, 9, 3), "last 30 completed UTC days"),
        ("2026-8-1", "YYYY-MM-DD"),
        (datetime(2026, 9, 1, tzinfo=UTC), "datetime.date"),
    ],
)
async def test_a_day_outside_the_window_is_refused_before_sending(
    mode: str, day: Any, message: str
) -> None:
    c = client_for(mode)
    with no_requests(), pytest.raises(usagekit.ConfigError, match=message):
        await resolve(c.activity(day))
    await close(c)


async def test_the_window_edges_are_accepted(mode: str) -> None:
    c = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url__startswith=ACTIVITY).mock(return_value=json_response({"data": []}))
        await resolve(c.activity(date(2026, 8, 3)))
        await resolve(c.activity(date(2026, 9, 1)))
    await close(c)
    assert route.call_count == 2


@pytest.mark.parametrize(
    "kwargs", [{"group_by": "model"}, {"user_id": ""}, {"api_key_hash": 12}, {"workspace_id": " "}]
)
async def test_malformed_filters_are_config_errors(mode: str, kwargs: dict[str, Any]) -> None:
    c = client_for(mode)
    with no_requests(), pytest.raises(usagekit.ConfigError):
        await resolve(c.activity(date(2026, 9, 1), **kwargs))
    with no_requests(), pytest.raises(usagekit.ConfigError):
        c.records("2026-08-20", **kwargs)
    await close(c)


async def test_credits_are_typed_and_exact(mode: str) -> None:
    c = client_for(mode)
    body = {"data": {"total_credits": Decimal("100.5"), "total_usage": Decimal("25.75")}}
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(CREDITS).mock(return_value=json_response(body))
        credits = await resolve(c.credits())
    await close(c)
    assert str(route.calls.last.request.url) == CREDITS
    assert isinstance(credits, OpenRouterCredits)
    assert (credits.total_credits, credits.total_usage) == (Decimal("100.5"), Decimal("25.75"))
    assert credits.remaining == Decimal("74.75")


# -- credentials ------------------------------------------------------------------------------


async def test_key_from_the_environment(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENROUTER_MANAGEMENT_KEY", "OPENROUTER_API_KEY", "OPENROUTER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(usagekit.ConfigError, match="OPENROUTER_MANAGEMENT_KEY"):
        make(mode, OpenRouterClient, AsyncOpenRouterClient)
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-fallback")
    monkeypatch.setenv("OPENROUTER_BASE_URL", "http://127.0.0.1:9/api/v1")
    fallback = make(mode, OpenRouterClient, AsyncOpenRouterClient)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", "sk-or-v1-management")
    preferred = make(mode, OpenRouterClient, AsyncOpenRouterClient)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get("http://127.0.0.1:9/api/v1/credits").mock(
            return_value=json_response({"data": {"total_credits": 1, "total_usage": 0}})
        )
        await resolve(fallback.credits())
        await resolve(preferred.credits())
    await close(fallback)
    await close(preferred)
    sent = [call.request.headers["authorization"] for call in route.calls]
    assert sent == ["Bearer sk-or-v1-fallback", "Bearer sk-or-v1-management"]


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "message", "hint"),
    [
        (
            400,
            usagekit.BadRequestError,
            "Date must be within the last 30 (completed) UTC days",
            None,
        ),
        (401, usagekit.AuthenticationError, "Missing Authentication header", "management"),
        (
            403,
            usagekit.PermissionDeniedError,
            "Only management keys can perform this operation",
            "management",
        ),
        (404, usagekit.NotFoundError, "Resource not found", "workspace"),
        (500, usagekit.ServerError, "Internal Server Error", None),
    ],
)
async def test_documented_errors_are_mapped(
    mode: str, status: int, error: type[usagekit.APIError], message: str, hint: str | None
) -> None:
    c = client_for(mode)
    body = {"error": {"code": status, "message": message, "metadata": None}}
    with respx.mock(assert_all_mocked=True) as router:
        router.get(url__startswith=ACTIVITY).mock(return_value=json_response(body, status))
        with pytest.raises(error) as caught:
            await resolve(c.activity("2026-09-01"))
    await close(c)
    exc = caught.value
    assert type(exc) is error and exc.status_code == status and exc.provider == "openrouter"
    assert exc.message == message and KEY not in str(exc)
    if hint is None:
        assert exc.hint is None
    else:
        assert exc.hint is not None and hint in exc.hint and exc.hint in str(exc)
    if status == 403:
        assert "OPENROUTER_MANAGEMENT_KEY" in exc.hint
        assert "openrouter.ai/settings/management-keys" in exc.hint


async def test_a_429_carries_its_retry_after(mode: str) -> None:
    c = client_for(mode)
    body = {
        "error": {
            "code": 429,
            "message": "Rate limit exceeded",
            "metadata": {"error_type": "rate_limit_exceeded"},
        }
    }
    with respx.mock(assert_all_mocked=True) as router:
        router.get(CREDITS).mock(return_value=json_response(body, 429, **{"Retry-After": "7"}))
        with pytest.raises(usagekit.RateLimitError) as caught:
            await resolve(c.credits())
    await close(c)
    assert caught.value.retry_after == 7.0
    assert caught.value.message == "Rate limit exceeded"


# -- records ---------------------------------------------------------------------------------


async def test_records_of_a_window_spanning_days(mode: str) -> None:
    c = client_for(mode)
    days = {
        "2026-08-30": [item(date="2026-08-30")],
        "2026-08-31": [
            item(date="2026-08-31", usage=Decimal("0.5")),
            second_item(date="2026-08-31"),
        ],
        "2026-09-01": [second_item()],
    }
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url__startswith=ACTIVITY).mock(side_effect=by_date(days))
        with capture() as declared:
            records = await resolve(c.records("2026-08-30", "2026-09-02"))
    await close(c)
    asked = sorted(call.request.url.params["date"] for call in route.calls)
    assert asked == ["2026-08-30", "2026-08-31", "2026-09-01"]
    assert declared == []
    assert len(records) == 4 * 6
    assert [r.start.date().isoformat() for r in records[::6]] == [
        "2026-08-30",
        "2026-08-31",
        "2026-08-31",
        "2026-09-01",
    ]
    assert total(records, "cost") == Decimal("1.84213") + Decimal("0.5") + 2 * Decimal("0.0321")
    assert total(records, "byok_usage_inference") == 2 * Decimal("0.412")
    assert total(records, "requests") == 42 + 42 + 9 + 9
    assert total(records, "reasoning_tokens") == 1280
    first = records[0]
    assert (first.provider, first.source, first.model) == (
        "openrouter",
        "activity",
        "anthropic/claude-sonnet-4.6",
    )
    assert first.end - first.start == timedelta(days=1)
    assert first.attributes == {
        "endpoint_id": "0b6f3a52-7c1e-4a8e-9d1b-2f4c6e8a1b3d",
        "model_permaslug": "anthropic/claude-sonnet-4.6",
        "upstream_provider": "Amazon Bedrock",
        "model_vendor": "anthropic",
    }
    units = {r.metric: (r.unit, r.kind) for r in records}
    assert units == {
        "cost": ("USD", "flow"),
        "byok_usage_inference": ("USD", "flow"),
        "requests": ("requests", "flow"),
        "input_tokens": ("tokens", "flow"),
        "output_tokens": ("tokens", "flow"),
        "reasoning_tokens": ("tokens", "flow"),
    }
    assert len({r.id for r in records}) == len(records)
    for record in records:
        assert record == usagekit.UsageRecord.model_validate(record.model_dump())


async def test_byok_is_never_in_cost(mode: str) -> None:
    c = client_for(mode)
    rows = [second_item(usage=0, byok_usage_inference=Decimal("3.25"))]
    with respx.mock(assert_all_mocked=True) as router:
        router.get(url__startswith=ACTIVITY).mock(side_effect=by_date({"2026-09-01": rows}))
        records = await resolve(c.records("2026-09-01", "2026-09-02"))
    await close(c)
    report = usagekit.UsageReport.from_records(records)
    assert total(records, "cost") == 0
    assert all(not r.is_cost for r in records if r.metric == "byok_usage_inference")
    assert sum(row["cost"].get("USD", Decimal(0)) for row in report.summary("provider")) == 0


async def test_the_window_is_clipped_to_the_available_days_and_says_so(mode: str) -> None:
    c = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url__startswith=ACTIVITY).mock(side_effect=by_date({}))
        with capture() as declared:
            records = await resolve(c.records("2026-07-01", credits=False))
    await close(c)
    asked = sorted(call.request.url.params["date"] for call in route.calls)
    assert asked[0] == "2026-08-03" and asked[-1] == "2026-09-01" and len(asked) == 30
    assert records == []
    (coverage,) = declared
    assert (coverage.start, coverage.end) == (
        datetime(2026, 8, 3, tzinfo=UTC),
        datetime(2026, 9, 2, tzinfo=UTC),
    )
    assert "last 30 completed UTC days" in coverage.note
    assert "nothing before 2026-08-03" in coverage.note
    assert "2026-09-02 is not over" in coverage.note


async def test_a_window_with_no_available_day_sends_nothing(mode: str) -> None:
    c = client_for(mode)
    for window in (("2026-06-01", "2026-07-01"), ("2026-09-02T01:00Z", None)):
        with no_requests(), capture() as declared:
            assert await resolve(c.records(*window, credits=False)) == []
        assert "nothing in this window" in declared[0].note
    await close(c)


async def test_partial_days_are_read_whole(mode: str) -> None:
    c = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url__startswith=ACTIVITY).mock(
            side_effect=by_date({"2026-08-31": [item(date="2026-08-31")]})
        )
        with capture() as declared:
            records = await resolve(c.records("2026-08-31T12:00Z", "2026-09-01T06:00Z"))
    await close(c)
    assert sorted(call.request.url.params["date"] for call in route.calls) == [
        "2026-08-31",
        "2026-09-01",
    ]
    assert len(records) == 6
    assert declared[0].note == "reports whole UTC days"


async def test_credits_are_levels_when_the_window_reaches_today(mode: str) -> None:
    c = client_for(mode)
    body = {"data": {"total_credits": Decimal("100.5"), "total_usage": Decimal("25.75")}}
    with respx.mock(assert_all_mocked=True) as router:
        router.get(url__startswith=ACTIVITY).mock(side_effect=by_date({}))
        router.get(CREDITS).mock(return_value=json_response(body))
        records = await resolve(c.records("2026-09-01"))
    await close(c)
    assert {(r.metric, r.quantity, r.unit, r.kind, r.source) for r in records} == {
        ("total_credits", Decimal("100.5"), "USD", "level", "credits"),
        ("total_usage", Decimal("25.75"), "USD", "level", "credits"),
    }
    assert all(r.start == datetime(2026, 9, 2, tzinfo=UTC) for r in records)


async def test_filters_become_dimensions(mode: str) -> None:
    c = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url__startswith=ACTIVITY).mock(
            side_effect=by_date({"2026-09-01": [item(workspace_id="ws-9")]})
        )
        records = await resolve(
            c.records(
                "2026-09-01",
                "2026-09-02",
                api_key_hash="hash-1",
                user_id="user_1",
                group_by="workspace",
            )
        )
    await close(c)
    assert str(route.calls.last.request.url) == (
        f"{ACTIVITY}?date=2026-09-01&api_key_hash=hash-1&user_id=user_1&group_by=workspace"
    )
    assert {(r.api_key_id, r.user_id, r.project_id) for r in records} == {
        ("hash-1", "user_1", "ws-9")
    }


async def test_repeated_and_misdated_rows(mode: str) -> None:
    c = client_for(mode)
    cases = [
        ([item(), item()], None),
        ([item(), item(requests=43)], "repeated with other figures"),
        ([item(date="2026-08-31")], "a row of 2026-08-31"),
    ]
    for rows, problem in cases:
        with respx.mock(assert_all_mocked=True) as router:
            router.get(url__startswith=ACTIVITY).mock(return_value=json_response({"data": rows}))
            if problem is None:
                records = await resolve(c.records("2026-09-01", "2026-09-02"))
                assert len(records) == 6
            else:
                with pytest.raises(usagekit.ResponseValidationError, match=problem):
                    await resolve(c.records("2026-09-01", "2026-09-02"))
    await close(c)


async def test_a_400_for_an_edge_day_is_skipped_and_said(mode: str) -> None:
    c = client_for(mode)
    message = "Date must be within the last 30 (completed) UTC days"
    outside = {"error": {"code": 400, "message": message, "metadata": None}}
    refused = {"2026-08-03", "2026-08-10"}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["date"] in refused:
            return json_response(outside, 400)
        return json_response({"data": [item(date=request.url.params["date"])]})

    with respx.mock(assert_all_mocked=True) as router:
        router.get(url__startswith=ACTIVITY).mock(side_effect=answer)
        with capture() as declared:
            records = await resolve(c.records("2026-08-03", "2026-08-05"))
        with pytest.raises(usagekit.BadRequestError):  # a day inside the window: raised
            await resolve(c.records("2026-08-09", "2026-08-12"))
    await close(c)
    assert {r.start.date() for r in records} == {date(2026, 8, 4)}
    assert any("does not answer for 2026-08-03" in d.note for d in declared)


async def test_the_async_walk_keeps_at_most_four_days_in_flight() -> None:
    c = client_for("async")
    in_flight = peak = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return json_response({"data": [item(date=request.url.params["date"])]})

    with respx.mock(assert_all_mocked=True) as router:
        router.get(url__startswith=ACTIVITY).mock(side_effect=answer)
        records = await resolve(c.records("2026-08-10", "2026-08-25"))
    await c.aclose()
    assert peak == 4
    days = [r.start.date() for r in records[::6]]
    assert days == sorted(days) and len(days) == 15


async def test_the_async_walk_cancels_what_is_in_flight_when_stopped() -> None:
    c = client_for("async")
    started: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        started.append(request.url.params["date"])
        await asyncio.sleep(0.01)
        return json_response({"data": [item(date=request.url.params["date"])]})

    with respx.mock(assert_all_mocked=True) as router:
        router.get(url__startswith=ACTIVITY).mock(side_effect=answer)
        stream = c.records("2026-08-10", "2026-08-25")
        first = await stream.__anext__()
        await stream.aclose()
    await c.aclose()
    assert first.start.date() == date(2026, 8, 10)
    assert len(started) <= 5
