"""Anthropic over respx: headers, every filter encoded, pages, errors, cents, null groups."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

import usagekit
from tests.conftest import resolve
from usagekit import AnthropicClient, AsyncAnthropicClient
from usagekit._core.wire import EXACT
from usagekit._providers.anthropic._models import AnthropicCostBucket, cents_to_dollars
from usagekit._providers.anthropic._normalize import cost_records, messages_records

from .._support import close, json_response, make, no_requests, total

KEY = "sk-ant-admin01-test"
BASE = "https://api.anthropic.com"
MESSAGES = f"{BASE}/v1/organizations/usage_report/messages"
COSTS = f"{BASE}/v1/organizations/cost_report"
CLAUDE_CODE = f"{BASE}/v1/organizations/usage_report/claude_code"
NOW = "2026-09-10T12:00:00Z"


def client_for(mode: str, **kwargs: Any) -> Any:
    kwargs.setdefault("max_retries", 0)
    return make(mode, AnthropicClient, AsyncAnthropicClient, KEY, **kwargs)


def row(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uncached_input_tokens": 100,
        "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 5},
        "cache_read_input_tokens": 300,
        "output_tokens": 40,
        "server_tool_use": {"web_search_requests": 2},
        "account_id": None,
        "api_key_id": None,
        "workspace_id": None,
        "model": None,
        "service_tier": None,
        "context_window": None,
        "inference_geo": None,
        "service_account_id": None,
    }
    body.update(changes)
    return body


def bucket(day: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "starting_at": f"2026-09-{day:02d}T00:00:00Z",
        "ending_at": f"2026-09-{day + 1:02d}T00:00:00Z",
        "results": results,
    }


def page(data: list[Any], next_page: str | None = None) -> httpx.Response:
    return json_response({"data": data, "has_more": next_page is not None, "next_page": next_page})


def query(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode(), keep_blank_values=True)


async def test_headers_and_every_filter_encoded_as_brackets(mode: str) -> None:
    client = client_for(mode, fast_mode=True)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(MESSAGES).mock(return_value=page([bucket(1, [])]))
        await resolve(
            client.usage_report(
                "2026-09-01T05:00Z",
                "2026-09-02T01:00Z",
                bucket_width="1h",
                limit=3,
                group_by=["model", "workspace_id", "speed"],
                api_key_ids=["apikey_1", "apikey_2"],
                workspace_ids="wrkspc_1",
                models=["claude-opus-4-6"],
                service_tiers=["batch", "priority"],
                context_window=["200k-1M"],
                inference_geos=["us"],
                speeds=["fast"],
                account_ids=["user_1"],
                service_account_ids=["svac_1"],
            )
        )
    await close(client)
    request = route.calls.last.request
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["anthropic-beta"] == "fast-mode-2026-02-01"
    assert query(request) == [
        ("starting_at", "2026-09-01T05:00:00Z"),
        ("ending_at", "2026-09-02T01:00:00Z"),
        ("bucket_width", "1h"),
        ("api_key_ids[]", "apikey_1"),
        ("api_key_ids[]", "apikey_2"),
        ("workspace_ids[]", "wrkspc_1"),
        ("models[]", "claude-opus-4-6"),
        ("service_tiers[]", "batch"),
        ("service_tiers[]", "priority"),
        ("context_window[]", "200k-1M"),
        ("inference_geos[]", "us"),
        ("speeds[]", "fast"),
        ("account_ids[]", "user_1"),
        ("service_account_ids[]", "svac_1"),
        ("group_by[]", "model"),
        ("group_by[]", "workspace_id"),
        ("group_by[]", "speed"),
        ("limit", "3"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bucket_width": "1w"}, "bucket_width"),
        ({"bucket_width": "1d", "limit": 32}, "1 to 31"),
        ({"bucket_width": "1h", "limit": 169}, "1 to 168"),
        ({"bucket_width": "1m", "limit": 1441}, "1 to 1440"),
        ({"limit": 0}, "limit"),
        ({"group_by": ["project_id"]}, "cannot group by"),
        (
            {
                "group_by": [
                    "model",
                    "workspace_id",
                    "api_key_id",
                    "account_id",
                    "inference_geo",
                    "service_tier",
                ]
            },
            "at most 5",
        ),
        ({"group_by": ["speed"]}, "fast_mode"),
        ({"speeds": ["fast"]}, "fast_mode"),
        ({"service_tiers": ["gold"]}, "not supported"),
        ({"context_window": ["0-1M"]}, "not supported"),
        ({"inference_geos": ["eu"]}, "not supported"),
    ],
)
async def test_arguments_are_checked_before_sending(
    mode: str, kwargs: dict[str, Any], match: str
) -> None:
    client = client_for(mode)
    with no_requests(), pytest.raises(usagekit.ConfigError, match=match):
        client.usage_report("2026-09-01", "2026-09-02", **kwargs)
    await close(client)


async def test_key_from_either_environment_variable(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_ADMIN_API_KEY", raising=False)
    with pytest.raises(usagekit.ConfigError, match="ANTHROPIC_ADMIN_KEY"):
        make(mode, AnthropicClient, AsyncAnthropicClient)
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", "sk-ant-admin01-second")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/x")
    client = make(mode, AnthropicClient, AsyncAnthropicClient, max_retries=0)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get("http://127.0.0.1:9/x/v1/organizations/usage_report/messages").mock(
            return_value=page([])
        )
        await resolve(client.usage_report("2026-09-01", "2026-09-02"))
    await close(client)
    assert route.calls.last.request.headers["x-api-key"] == "sk-ant-admin01-second"


async def test_a_window_spanning_pages_keeps_every_filter(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(MESSAGES).mock(
            side_effect=[
                page([bucket(1, [row(model="m")]), bucket(2, [])], "page_2"),
                page([bucket(3, [row(model="m")])]),
            ]
        )
        buckets = await resolve(
            client.usage_report("2026-09-01", "2026-09-04", limit=2, models=["m"])
        )
    await close(client)
    assert [b.starting_at.day for b in buckets] == [1, 2, 3]
    first, second = (query(c.request) for c in route.calls)
    assert ("page", "page_2") in second and ("page", "page_2") not in first
    assert [p for p in second if p[0] != "page"] == first


ERRORS = [
    (400, "invalid_request_error", usagekit.BadRequestError),
    (401, "authentication_error", usagekit.AuthenticationError),
    (402, "billing_error", usagekit.APIError),
    (403, "permission_error", usagekit.PermissionDeniedError),
    (404, "not_found_error", usagekit.NotFoundError),
    (409, "conflict_error", usagekit.APIError),
    (413, "request_too_large", usagekit.APIError),
    (429, "rate_limit_error", usagekit.RateLimitError),
    (500, "api_error", usagekit.ServerError),
    (504, "timeout_error", usagekit.ServerError),
    (529, "overloaded_error", usagekit.ServerError),
]


@pytest.mark.parametrize(("status", "kind", "error"), ERRORS)
async def test_each_documented_error_is_mapped(
    mode: str, status: int, kind: str, error: type[Exception]
) -> None:
    client = client_for(mode)
    body = {"type": "error", "error": {"type": kind, "message": f"msg {kind}"}, "request_id": "r"}
    headers = {"retry-after": "7"} if status == 429 else {}
    with respx.mock(assert_all_mocked=True) as router:
        router.get(MESSAGES).mock(return_value=json_response(body, status, **headers))
        with pytest.raises(error) as caught:
            await resolve(client.usage_report("2026-09-01", "2026-09-02"))
    await close(client)
    assert type(caught.value) is error
    assert f"msg {kind}" in str(caught.value)
    if status in (401, 403):
        assert "sk-ant-admin" in str(caught.value) and "sk-ant-api" in str(caught.value)
    if status == 429:
        assert isinstance(caught.value, usagekit.RateLimitError)
        assert caught.value.retry_after == 7


async def test_cost_report_clips_today_and_says_so(mode: str) -> None:
    client = client_for(mode)
    with usagekit.pin_clock(NOW), respx.mock(assert_all_mocked=True) as router:
        route = router.get(COSTS).mock(
            return_value=page([bucket(9, [{"amount": "250.5", "currency": "USD"}])])
        )
        report = await _collect(mode, client, "2026-09-09", "2026-09-11", ["cost_report"])
    await close(client)
    params = dict(query(route.calls.last.request))
    assert params["ending_at"] == "2026-09-10T00:00:00Z"
    assert params["starting_at"] == "2026-09-09T00:00:00Z"
    (status,) = report.statuses
    assert status.error is None and "finished UTC days" in (status.note or "")
    assert total(list(report.records), "cost") == Decimal("2.505")


async def test_a_window_inside_today_fetches_no_costs_and_does_not_fail(mode: str) -> None:
    client = client_for(mode)
    with usagekit.pin_clock(NOW), no_requests():
        report = await _collect(mode, client, "2026-09-10T01:00Z", None, ["cost_report"])
    await close(client)
    (status,) = report.statuses
    assert status.error is None and "none of this window is over yet" in (status.note or "")


REFUSED = httpx.Response(
    400,
    json={
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "Invalid date range: ending date must be after starting date",
        },
    },
)


async def test_a_refused_last_cost_day_is_dropped_and_said_and_nothing_else_lost(mode: str) -> None:
    client = client_for(mode)
    with usagekit.pin_clock(NOW), respx.mock(assert_all_mocked=True) as router:
        usage = router.get(MESSAGES).mock(return_value=page([bucket(8, [row()])]))
        costs = router.get(COSTS).mock(
            side_effect=[REFUSED, page([bucket(8, [{"amount": "100", "currency": "USD"}])])]
        )
        report = await _collect(
            mode, client, "2026-09-08", "2026-09-11", ["messages", "cost_report"]
        )
    await close(client)
    asked = [dict(query(call.request))["ending_at"] for call in costs.calls]
    assert asked == ["2026-09-10T00:00:00Z", "2026-09-09T00:00:00Z"]
    assert usage.call_count == 1
    (status,) = report.statuses
    assert status.error is None
    assert "refused 2026-09-09" in (status.note or "") and "up to 2026-09-09" in (status.note or "")
    assert total(list(report.records), "cost") == Decimal("1.00")
    assert total(list(report.records), "output_tokens") == 40


async def test_a_refused_single_cost_day_means_no_costs_not_a_failure(mode: str) -> None:
    client = client_for(mode)
    with usagekit.pin_clock(NOW), respx.mock(assert_all_mocked=True) as router:
        costs = router.get(COSTS).mock(side_effect=[REFUSED])
        report = await _collect(mode, client, "2026-09-09", "2026-09-11", ["cost_report"])
    await close(client)
    assert costs.call_count == 1
    (status,) = report.statuses
    assert status.error is None and "so no costs" in (status.note or "")
    assert list(report.records) == []


async def test_a_cost_400_not_about_dates_is_raised(mode: str) -> None:
    client = client_for(mode)
    other = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad group"}}
    with usagekit.pin_clock(NOW), respx.mock(assert_all_mocked=True) as router:
        costs = router.get(COSTS).mock(return_value=httpx.Response(400, json=other))
        report = await _collect(mode, client, "2026-09-08", "2026-09-11", ["cost_report"])
    await close(client)
    assert costs.call_count == 1
    (status,) = report.statuses
    assert status.error is not None and "bad group" in status.error


async def _collect(mode: str, client: Any, start: Any, end: Any, sources: list[str]) -> Any:
    class Only:
        provider = "anthropic"

        def records(self, s: Any = None, e: Any = None) -> Any:
            return client.records(s, e, sources=sources)

    class AsyncOnly:
        provider = "anthropic"

        async def records(self, s: Any = None, e: Any = None) -> Any:
            async for record in client.records(s, e, sources=sources):
                yield record

    if mode == "sync":
        return usagekit.collect([Only()], start, end)
    return await usagekit.acollect([AsyncOnly()], start, end)


async def test_claude_code_walks_day_by_day_and_page_by_page(mode: str) -> None:
    client = client_for(mode)
    record = {
        "date": "2026-09-01T00:00:00Z",
        "actor": {"type": "api_actor", "api_key_name": "ci"},
        "core_metrics": {"num_sessions": 2},
        "model_breakdown": [
            {"model": "claude-opus-4-6", "estimated_cost": {"currency": "USD", "amount": 186}}
        ],
    }
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(CLAUDE_CODE).mock(
            side_effect=[page([record], "page_x"), page([record]), page([])]
        )
        found = await resolve(
            client.claude_code_usage("2026-09-01T10:00Z", "2026-09-03", concurrency=1)
        )
    await close(client)
    days = [dict(query(c.request))["starting_at"] for c in route.calls]
    assert days == ["2026-09-01", "2026-09-01", "2026-09-02"]
    assert len(found) == 2
    records = [r for entry in found for r in _cc(entry)]
    estimate = [r for r in records if r.metric == "claude_code_estimated_cost"]
    assert {r.quantity for r in estimate} == {Decimal("1.86")}
    assert not any(r.metric == "cost" for r in records)


def _cc(entry: Any) -> list[usagekit.UsageRecord]:
    from usagekit._providers.anthropic._normalize import claude_code_records

    return claude_code_records(entry)


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: abs(d.as_tuple().exponent) < 900 and len(d.as_tuple().digits) < 900
    )
)
def test_cents_become_dollars_exactly_at_any_precision(cents: Decimal) -> None:
    dollars = cents_to_dollars(cents)
    assert dollars.as_tuple().digits == cents.as_tuple().digits
    with localcontext(EXACT):
        assert dollars.scaleb(2) == cents
        assert dollars * 100 == cents
    parsed = AnthropicCostBucket.model_validate(
        {
            "starting_at": "2026-09-01T00:00:00Z",
            "ending_at": "2026-09-02T00:00:00Z",
            "results": [{"amount": f"{cents:f}", "currency": "USD"}],
        }
    )
    (record,) = cost_records(parsed)
    assert record.quantity == dollars


def test_cents_examples_from_the_docs() -> None:
    for text, dollars in [
        ("123.45", "1.2345"),
        ("123.78912", "1.2378912"),
        ("41280.000000", "412.80000000"),
        ("0.000000000000000000000000000000001", "0.00000000000000000000000000000000001"),
        ("12345678901234567890123456789012345.6789", "123456789012345678901234567890123.456789"),
    ]:
        assert cents_to_dollars(Decimal(text)) == Decimal(dollars)
        assert str(cents_to_dollars(Decimal(text))) == str(Decimal(dollars))


def test_null_group_keys_are_groups_of_their_own() -> None:
    from usagekit._providers.anthropic._models import AnthropicMessagesBucket

    parsed = AnthropicMessagesBucket.model_validate(
        bucket(
            1,
            [
                row(workspace_id=None, api_key_id=None, model="m"),
                row(workspace_id="wrkspc_1", api_key_id=None, model="m"),
                row(workspace_id=None, api_key_id="apikey_1", model="m"),
            ],
        )
    )
    records = messages_records(parsed, group_by=("workspace_id", "api_key_id", "model"))
    out = [r for r in records if r.metric == "output_tokens"]
    assert len(out) == 3 and len({r.id for r in out}) == 3
    assert out[0].attributes == {"workspace": "default", "api_key": "none"}
    assert out[1].project_id == "wrkspc_1" and out[1].attributes == {"api_key": "none"}
    assert out[2].attributes == {"workspace": "default"}
    ungrouped = messages_records(parsed, group_by=())
    assert all("workspace" not in r.attributes for r in ungrouped)
    metrics = {r.metric for r in records}
    assert metrics == {
        "uncached_input_tokens",
        "cache_read_input_tokens",
        "cache_creation_5m_input_tokens",
        "cache_creation_1h_input_tokens",
        "output_tokens",
        "web_search_requests",
    }


def test_cost_rows_grouped_by_description_fill_model_line_item_and_token_type() -> None:
    parsed = AnthropicCostBucket.model_validate(
        bucket(
            1,
            [
                {"amount": "1843.20000", "currency": "USD", "cost_type": "tokens",
                 "description": "Claude Sonnet 4.6 Usage - Input Tokens",
                 "model": "claude-sonnet-4-6", "token_type": "uncached_input_tokens",
                 "service_tier": "standard", "context_window": "0-200k",
                 "inference_geo": "global", "workspace_id": "wrkspc_1"},
                {"amount": "120.00000", "currency": "USD", "cost_type": "code_execution",
                 "description": "Code Execution Usage", "model": None, "token_type": None,
                 "service_tier": None, "context_window": None, "inference_geo": None,
                 "workspace_id": None},
            ],
        )
    )  # fmt: skip
    first, second = cost_records(parsed, group_by=("workspace_id", "description"))
    assert (first.metric, first.unit, first.quantity) == ("cost", "USD", Decimal("18.432"))
    assert (first.model, first.line_item, first.project_id) == (
        "claude-sonnet-4-6",
        "Claude Sonnet 4.6 Usage - Input Tokens",
        "wrkspc_1",
    )
    assert first.attributes["token_type"] == "uncached_input_tokens"
    assert first.attributes["charge_kind"] == "input"
    assert second.attributes["workspace"] == "default" and second.model is None
    assert first.quantity + second.quantity == Decimal("19.632")


async def test_the_api_version_is_a_header_not_a_secret(mode: str) -> None:
    """The version header is sent, but only the key is redacted when the server echoes both."""
    client = client_for(mode)
    echo = f"bad request: anthropic-version 2023-06-01, x-api-key {KEY}"
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": echo}}
    with respx.mock(assert_all_mocked=True) as router:
        router.get(MESSAGES).mock(return_value=httpx.Response(400, json=body))
        with pytest.raises(usagekit.BadRequestError) as caught:
            await resolve(client.usage_report("2026-09-01T00:00Z", "2026-09-02T00:00Z"))
    await close(client)
    text = str(caught.value)
    assert "2023-06-01" in text
    assert KEY not in text and "admin01-test" not in text
    assert dict(client.config.headers) == {"anthropic-version": "2023-06-01"}
    assert set(client.config.credentials) == {"x-api-key"}


def test_records_with_no_source_is_a_config_error() -> None:
    client = AnthropicClient(KEY)
    with pytest.raises(usagekit.ConfigError, match="sources is empty"):
        client.records(sources=[])
    client.close()
