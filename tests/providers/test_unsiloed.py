"""Unsiloed: get_usage over the api-key header, its errors, and flow/level records of the cycle."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

import usagekit
from tests.conftest import resolve
from usagekit import AsyncUnsiloedClient, UnsiloedClient, UnsiloedUsage
from usagekit._core.clock import Window
from usagekit._core.transport import decode_body
from usagekit._providers.unsiloed._models import parse_billed_date
from usagekit._providers.unsiloed._normalize import usage_records

from ._support import close, dumps, json_response, make, no_requests

KEY = "unsiloed_3f9c2a7d"
URL = "https://platformbackend.unsiloed.ai/api/v1/org/get_usage"
UTC = timezone.utc
CYCLE_START = datetime(2026, 4, 10, tzinfo=UTC)
CYCLE_END = datetime(2026, 5, 10, tzinfo=UTC)


def body(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "org_id": "org_u1",
        "org_name": "Acme Docs",
        "current_usage": Decimal("1234.5"),
        "usage_limit": 5000,
        "remaining_quota": Decimal("3765.5"),
        "last_billed_date": "2026-04-10",
    }
    payload.update(changes)
    return payload


def client_for(mode: str, **kwargs: Any) -> Any:
    kwargs.setdefault("max_retries", 0)
    return make(mode, UnsiloedClient, AsyncUnsiloedClient, KEY, **kwargs)


async def test_get_usage_sends_the_api_key_header_and_types_the_answer(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(URL).mock(return_value=json_response(body()))
        usage = await resolve(client.get_usage())
    await close(client)
    request = route.calls.last.request
    assert str(request.url) == URL
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers
    assert isinstance(usage, UnsiloedUsage)
    assert (usage.org_id, usage.org_name) == ("org_u1", "Acme Docs")
    assert usage.current_usage == Decimal("1234.5")
    assert usage.usage_limit == Decimal(5000)
    assert usage.remaining_quota == Decimal("3765.5")
    assert usage.last_billed_date == date(2026, 4, 10)
    assert (usage.cycle_start, usage.cycle_end) == (CYCLE_START, CYCLE_END)


async def test_key_from_environment_and_missing_key(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSILOED_API_KEY", raising=False)
    with pytest.raises(usagekit.ConfigError, match="UNSILOED_API_KEY"):
        make(mode, UnsiloedClient, AsyncUnsiloedClient)
    monkeypatch.setenv("UNSILOED_API_KEY", "unsiloed_env")
    client = make(mode, UnsiloedClient, AsyncUnsiloedClient, base_url="http://127.0.0.1:9/v1/")
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get("http://127.0.0.1:9/v1/org/get_usage").mock(
            return_value=json_response(body())
        )
        await resolve(client.get_usage())
    await close(client)
    assert route.calls.last.request.headers["api-key"] == "unsiloed_env"


@pytest.mark.parametrize(
    ("status", "error", "detail"),
    [
        (
            401,
            usagekit.AuthenticationError,
            "API key is required. Please provide 'api-key' in the request header.",
        ),
        (404, usagekit.NotFoundError, "Organization not found"),
    ],
)
async def test_documented_statuses_map_to_errors_with_the_detail(
    mode: str, status: int, error: type[usagekit.APIError], detail: str
) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response({"detail": detail}, status))
        with pytest.raises(error) as caught:
            await resolve(client.get_usage())
    await close(client)
    exc = caught.value
    assert type(exc) is error
    assert exc.provider == "unsiloed" and exc.status_code == status
    assert exc.message == detail
    assert detail in str(exc) and KEY not in str(exc)
    assert exc.hint is not None and exc.hint in str(exc)
    assert ("UNSILOED_API_KEY" if status == 401 else "no organization") in exc.hint


async def test_records_are_one_flow_and_two_levels_over_the_cycle(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response(body()))
        records = await resolve(client.records())
    await close(client)
    by_metric = {r.metric: r for r in records}
    assert len(records) == 3
    assert {m: (r.quantity, r.kind) for m, r in by_metric.items()} == {
        "current_usage": (Decimal("1234.5"), "flow"),
        "usage_limit": (Decimal(5000), "level"),
        "remaining_quota": (Decimal("3765.5"), "level"),
    }
    for record in records:
        assert (record.provider, record.source, record.unit) == ("unsiloed", "get_usage", "credits")
        assert (record.start, record.end) == (CYCLE_START, CYCLE_END)
        assert record.end - record.start == timedelta(days=30)
        assert record.organization_id == "org_u1"
        assert record.attributes == {"org_name": "Acme Docs"}
        assert record == usagekit.UsageRecord.model_validate(record.model_dump())
    assert len({r.id for r in records}) == 3


@pytest.mark.parametrize(
    ("start", "end", "kept"),
    [
        (None, None, True),
        ("2026-04-20", "2026-04-21", True),
        ("2026-05-09T23:59:59Z", None, True),
        ("2026-05-10", None, False),
        (None, "2026-04-10", False),
        ("2026-01-01", "2026-04-10T00:00:01Z", True),
    ],
)
async def test_window_filters_by_overlap(mode: str, start: Any, end: Any, kept: bool) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response(body()))
        records = await resolve(client.records(start, end))
    await close(client)
    assert len(records) == (3 if kept else 0)


async def test_bad_window_is_rejected_before_any_request(mode: str) -> None:
    client = client_for(mode)
    with no_requests(), pytest.raises(usagekit.ConfigError, match="start must be before end"):
        client.records("2026-05-01", "2026-04-01")
    await close(client)


async def test_unknown_fields_pass(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response(body(plan="pro", seats=4)))
        usage = await resolve(client.get_usage())
    await close(client)
    assert usage.model_extra == {"plan": "pro", "seats": 4}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"current_usage": "a lot"}, "current_usage"),
        ({"usage_limit": None}, "usage_limit"),
        ({"remaining_quota": [1]}, "remaining_quota"),
        ({"org_id": 12}, "org_id"),
        ({"last_billed_date": "10/04/2026"}, "last_billed_date"),
        ({"last_billed_date": 1775779200}, "last_billed_date"),
        ({"last_billed_date": "9999-12-31"}, "last_billed_date"),
        ({"org_name": None}, "org_name"),
    ],
)
async def test_wrong_types_name_the_field(mode: str, changes: dict[str, Any], field: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response(body(**changes)))
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            await resolve(client.get_usage())
    await close(client)
    assert caught.value.field == field
    assert caught.value.provider == "unsiloed" and caught.value.endpoint == "get_usage"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-04-10", date(2026, 4, 10)),
        (" 2026-04-10 ", date(2026, 4, 10)),
        ("2026-04-10T00:00:00", date(2026, 4, 10)),
        ("2026-04-10T00:00:00Z", date(2026, 4, 10)),
        ("2026-04-10T00:00:00.000Z", date(2026, 4, 10)),
        ("2026-04-10T22:30:00-05:00", date(2026, 4, 11)),
        ("2026-04-10T01:00:00+02:00", date(2026, 4, 9)),
        ("20260410", date(2026, 4, 10)),
        ("2026-02-30", None),
        ("10/04/2026", None),
        ("", None),
        ("yesterday", None),
        (20260410, None),
        (None, None),
        (True, None),
    ],
)
def test_last_billed_date_parsing(raw: Any, expected: date | None) -> None:
    content = dumps(body(last_billed_date=raw)).encode()
    if expected is None:
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            decode_body(content, UnsiloedUsage, provider="unsiloed", endpoint="get_usage")
        assert caught.value.field == "last_billed_date"
    else:
        usage = decode_body(content, UnsiloedUsage, provider="unsiloed", endpoint="get_usage")
        assert usage.last_billed_date == expected
        assert usage.cycle_start == datetime(
            expected.year, expected.month, expected.day, tzinfo=UTC
        )


@given(st.dates(max_value=date(9999, 11, 1)))
def test_any_iso_date_round_trips(day: date) -> None:
    content = dumps(body(last_billed_date=day.isoformat())).encode()
    usage = decode_body(content, UnsiloedUsage, provider="unsiloed", endpoint="get_usage")
    assert usage.last_billed_date == day
    records = usage_records(usage, window=Window(datetime(1, 1, 1, tzinfo=UTC), None))
    assert all(r.end - r.start == timedelta(days=30) for r in records)


@given(st.text(max_size=40))
def test_any_text_date_parses_like_the_parser_or_is_a_validation_error(text: str) -> None:
    try:
        expected: date | None = parse_billed_date(text)
    except ValueError:
        expected = None
    content = dumps(body(last_billed_date=text)).encode()
    if expected is None:
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            decode_body(content, UnsiloedUsage, provider="unsiloed", endpoint="get_usage")
        assert caught.value.field == "last_billed_date"
    elif expected <= date.max - timedelta(days=30):
        usage = decode_body(content, UnsiloedUsage, provider="unsiloed", endpoint="get_usage")
        assert usage.last_billed_date == expected
        assert usage.cycle_end - usage.cycle_start == timedelta(days=30)
    else:
        with pytest.raises(usagekit.ResponseValidationError, match="too late"):
            decode_body(content, UnsiloedUsage, provider="unsiloed", endpoint="get_usage")
