"""Daramex: five endpoints, exact requests, validation before sending, typed answers, records."""

from __future__ import annotations

import itertools
import zoneinfo
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from hypothesis import example, given, settings
from hypothesis import strategies as st

import usagekit
from tests.conftest import resolve
from usagekit import (
    AsyncDaramexClient,
    DaramexCacheSavings,
    DaramexClient,
    DaramexHeatmap,
    DaramexModelEfficiency,
    DaramexProjectionInsufficientData,
    DaramexProjectionOk,
    DaramexTimeSeries,
    UsageRecord,
)
from usagekit._core.clock import month_start
from usagekit._providers.daramex._normalize import next_bucket_start, time_series_records
from usagekit._providers.daramex._requests import check_timezone, iso_z, records_plan

from ._support import close, json_response, make, no_requests, total

TOKEN = "eyJhbGciOiJIUzI1NiJ9.daramex-test-token"
ORG = "01927f3e-0000-7000-8000-000000000002"
BASE = "https://api.daramex.app"
UTC = timezone.utc
APRIL = datetime(2026, 4, 1, tzinfo=UTC)
APRIL_8 = datetime(2026, 4, 8, tzinfo=UTC)


def client_for(mode: str, **kwargs: Any) -> Any:
    kwargs.setdefault("org_id", ORG)
    kwargs.setdefault("max_retries", 0)
    return make(mode, DaramexClient, AsyncDaramexClient, TOKEN, **kwargs)


def bucket(
    start: str, tokens: int, cost: str, series: dict[str, tuple[int, str]] | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {"bucket": start, "totalTokens": tokens, "totalCostUsd": Decimal(cost)}
    if series is not None:
        item["series"] = {
            key: {"totalTokens": t, "totalCostUsd": Decimal(c)} for key, (t, c) in series.items()
        }
    return item


def series_body(
    buckets: list[dict[str, Any]], granularity: str = "day", tz: str = "UTC"
) -> dict[str, Any]:
    return {"granularity": granularity, "timezone": tz, "buckets": buckets}


TIME_SERIES = series_body(
    [
        bucket(
            "2026-04-01T00:00:00.000Z",
            142500,
            "0.427",
            {"user_interaction": (95000, "0.285"), "guardrail_check": (47500, "0.142")},
        )
    ]
)
PROJECTION_OK = {
    "status": "ok",
    "actual": Decimal("12.50"),
    "projected": Decimal("38.75"),
    "lowerBound": Decimal("32.10"),
    "upperBound": Decimal("45.40"),
    "confidencePct": 80,
}
PROJECTION_SHORT = {"status": "insufficient_data", "minDaysRequired": 7, "daysAvailable": 3}
MODELS = [
    {
        "modelId": "anthropic/claude-sonnet-4",
        "avgLatencyMs": Decimal("1240.5"),
        "p95LatencyMs": Decimal("3800.0"),
        "totalCostUsd": Decimal("24.75"),
        "totalTokens": 8250000,
        "executionsCount": 3410,
    },
    {
        "modelId": "openai/gpt-4.1-mini",
        "avgLatencyMs": None,
        "p95LatencyMs": None,
        "totalCostUsd": Decimal("1.05"),
        "totalTokens": 700000,
        "executionsCount": 120,
    },
    {
        "modelId": "google/gemini-2.5-flash",
        "totalCostUsd": Decimal("0"),
        "totalTokens": 0,
        "executionsCount": 0,
    },
]
HEATMAP = {
    "timezone": "America/Mexico_City",
    "cells": [
        {"dayOfWeek": 1, "hour": 9, "totalTokens": 51200, "totalCostUsd": Decimal("0.154")},
        {"dayOfWeek": 1, "hour": 10, "totalTokens": 72400, "totalCostUsd": Decimal("0.217")},
        {"dayOfWeek": 0, "hour": 0, "totalTokens": 5, "totalCostUsd": Decimal("0.001")},
        {"dayOfWeek": 6, "hour": 23, "totalTokens": 7, "totalCostUsd": Decimal("0.002")},
    ],
}
CACHE_SAVINGS = {
    "estimatedSavingsUsd": Decimal("1.85"),
    "hitRate": Decimal("0.34"),
    "totalCacheReadTokens": 1020000,
    "totalInputTokens": 3000000,
    "skippedModelsCount": 0,
}

# (method, args, kwargs, path, expected query pairs, response body)
REQUESTS: list[Any] = [
    pytest.param(
        "time_series",
        (APRIL, APRIL_8),
        {"granularity": "day", "group_by": "action", "timezone": "America/Mexico_City"},
        "/ai/org-usage/time-series",
        [
            ("from", "2026-04-01T00:00:00Z"),
            ("to", "2026-04-08T00:00:00Z"),
            ("source", "all"),
            ("granularity", "day"),
            ("groupBy", "action"),
            ("timezone", "America/Mexico_City"),
        ],
        TIME_SERIES,
        id="time-series",
    ),
    pytest.param(
        "time_series",
        ("2026-04-01T02:00:00+02:00", date(2026, 4, 2)),
        {"source": "byok"},
        "/ai/org-usage/time-series",
        [
            ("from", "2026-04-01T00:00:00Z"),
            ("to", "2026-04-02T00:00:00Z"),
            ("source", "byok"),
            ("groupBy", "none"),
            ("timezone", "UTC"),
        ],
        series_body([]),
        id="time-series-defaults",
    ),
    pytest.param(
        "projection",
        (APRIL, datetime(2026, 4, 30, 23, 59, 59, tzinfo=UTC)),
        {},
        "/ai/org-usage/projection",
        [("from", "2026-04-01T00:00:00Z"), ("to", "2026-04-30T23:59:59Z"), ("source", "all")],
        PROJECTION_OK,
        id="projection",
    ),
    pytest.param(
        "model_efficiency",
        (APRIL, datetime(2026, 4, 30, 23, 59, 59, 250000, tzinfo=UTC)),
        {"limit": 10},
        "/ai/org-usage/model-efficiency",
        [
            ("from", "2026-04-01T00:00:00Z"),
            ("to", "2026-04-30T23:59:59.250Z"),
            ("source", "all"),
            ("limit", "10"),
        ],
        MODELS,
        id="model-efficiency",
    ),
    pytest.param(
        "model_efficiency",
        (1775001600, 1775606400.000001),
        {"source": "system", "action": "rag_query_embedding"},
        "/ai/org-usage/model-efficiency",
        [
            ("from", "2026-04-01T00:00:00Z"),
            ("to", "2026-04-08T00:00:00.000001Z"),
            ("source", "system"),
            ("action", "rag_query_embedding"),
            ("limit", "20"),
        ],
        MODELS,
        id="model-efficiency-action",
    ),
    pytest.param(
        "heatmap",
        (APRIL, APRIL_8),
        {"timezone": "America/Mexico_City"},
        "/ai/org-usage/heatmap",
        [
            ("from", "2026-04-01T00:00:00Z"),
            ("to", "2026-04-08T00:00:00Z"),
            ("source", "all"),
            ("timezone", "America/Mexico_City"),
        ],
        HEATMAP,
        id="heatmap",
    ),
    pytest.param(
        "cache_savings",
        (APRIL, APRIL_8),
        {},
        "/ai/org-usage/cache-savings",
        [("from", "2026-04-01T00:00:00Z"), ("to", "2026-04-08T00:00:00Z"), ("source", "system")],
        CACHE_SAVINGS,
        id="cache-savings",
    ),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "path", "params", "answer"), REQUESTS)
async def test_each_endpoint_sends_the_exact_request(
    mode: str,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    path: str,
    params: list[tuple[str, str]],
    answer: Any,
) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(f"{BASE}{path}").mock(return_value=json_response(answer))
        await resolve(getattr(client, method)(*args, **kwargs))
    await close(client)
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.url.path == path
    assert request.url.params.multi_items() == params
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-org-id"] == ORG


async def test_typed_answers(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(base_url=f"{BASE}/ai/org-usage", assert_all_mocked=True) as router:
        router.get("/time-series").mock(return_value=json_response(TIME_SERIES))
        router.get("/model-efficiency").mock(return_value=json_response(MODELS))
        router.get("/cache-savings").mock(return_value=json_response(CACHE_SAVINGS))
        series = await resolve(client.time_series(APRIL, APRIL_8, group_by="action"))
        models = await resolve(client.model_efficiency(APRIL, APRIL_8))
        savings = await resolve(client.cache_savings(APRIL, APRIL_8))
    await close(client)
    assert isinstance(series, DaramexTimeSeries)
    assert series.granularity == "day" and series.timezone == "UTC"
    first = series.buckets[0]
    assert first.bucket == APRIL and first.bucket.tzinfo is not None
    assert (first.total_tokens, first.total_cost_usd) == (142500, Decimal("0.427"))
    assert first.series is not None
    assert first.series["guardrail_check"].total_cost_usd == Decimal("0.142")
    assert (series.total_tokens, series.total_cost_usd) == (142500, Decimal("0.427"))
    assert all(isinstance(m, DaramexModelEfficiency) for m in models)
    assert [(m.avg_latency_ms, m.p95_latency_ms) for m in models] == [
        (1240.5, 3800.0),
        (None, None),
        (None, None),
    ]
    assert models[0].total_cost_usd == Decimal("24.75") and models[0].executions_count == 3410
    assert isinstance(savings, DaramexCacheSavings)
    assert savings.estimated_savings_usd == Decimal("1.85")
    assert savings.hit_rate == Decimal("0.34")
    assert (savings.total_cache_read_tokens, savings.total_input_tokens) == (1020000, 3000000)
    assert savings.skipped_models_count == 0


@pytest.mark.parametrize(
    ("answer", "kind", "fields"),
    [
        (
            PROJECTION_OK,
            DaramexProjectionOk,
            {
                "actual": Decimal("12.50"),
                "projected": Decimal("38.75"),
                "lower_bound": Decimal("32.10"),
                "upper_bound": Decimal("45.40"),
                "confidence_pct": 80,
            },
        ),
        (
            PROJECTION_SHORT,
            DaramexProjectionInsufficientData,
            {"min_days_required": 7, "days_available": 3},
        ),
    ],
)
async def test_projection_is_a_union_on_status(
    mode: str, answer: dict[str, Any], kind: type[Any], fields: dict[str, Any]
) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/projection").mock(return_value=json_response(answer))
        projection = await resolve(client.projection(APRIL, APRIL_8))
    await close(client)
    assert type(projection) is kind
    assert projection.status == answer["status"]
    assert {name: getattr(projection, name) for name in fields} == fields


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"status": "maybe", "actual": 1}, "status"),
        ({"actual": 1}, "status"),
        ({**PROJECTION_OK, "lowerBound": "low"}, "lowerBound"),
        ({k: v for k, v in PROJECTION_OK.items() if k != "projected"}, "projected"),
        ({**PROJECTION_SHORT, "daysAvailable": -1}, "daysAvailable"),
        ({**PROJECTION_SHORT, "daysAvailable": "three"}, "daysAvailable"),
    ],
)
async def test_projection_shape_errors_name_the_field(
    mode: str, answer: dict[str, Any], field: str
) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/projection").mock(return_value=json_response(answer))
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            await resolve(client.projection(APRIL, APRIL_8))
    await close(client)
    assert caught.value.field == field
    assert (caught.value.provider, caught.value.endpoint) == ("daramex", "projection")


async def test_heatmap_offers_the_dense_grid(mode: str) -> None:
    answer = {**HEATMAP, "cells": [*HEATMAP["cells"], HEATMAP["cells"][0]]}
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/heatmap").mock(return_value=json_response(answer))
        heatmap = await resolve(client.heatmap(APRIL, APRIL_8, timezone="America/Mexico_City"))
    await close(client)
    assert isinstance(heatmap, DaramexHeatmap)
    assert len(heatmap.cells) == 5
    grid = heatmap.token_grid()
    assert len(grid) == 7 and all(len(row) == 24 for row in grid)
    expected = {(1, 9): 102400, (1, 10): 72400, (0, 0): 5, (6, 23): 7}
    for day in range(7):
        for hour in range(24):
            assert grid[day][hour] == expected.get((day, hour), 0)
    costs = heatmap.cost_grid()
    assert costs[1][9] == Decimal("0.308") and costs[3][3] == Decimal(0)
    assert sum(sum(row, Decimal(0)) for row in costs) == Decimal("0.528")
    dense = heatmap.dense_cells()
    assert [(c.day_of_week, c.hour) for c in dense] == [(d, h) for d in range(7) for h in range(24)]
    assert sum(c.total_tokens for c in dense) == sum(c.total_tokens for c in heatmap.cells)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dayOfWeek": 7}, "cells.0.dayOfWeek"),
        ({"dayOfWeek": -1}, "cells.0.dayOfWeek"),
        ({"hour": 24}, "cells.0.hour"),
        ({"hour": True}, "cells.0.hour"),
        ({"totalTokens": "many"}, "cells.0.totalTokens"),
        ({"totalCostUsd": -1}, "cells.0.totalCostUsd"),
    ],
)
async def test_heatmap_cell_errors_name_the_field(
    mode: str, change: dict[str, Any], field: str
) -> None:
    answer = {**HEATMAP, "cells": [{**HEATMAP["cells"][0], **change}]}
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/heatmap").mock(return_value=json_response(answer))
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            await resolve(client.heatmap(APRIL, APRIL_8))
    await close(client)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("method", "answer", "field"),
    [
        ("time_series", {**TIME_SERIES, "granularity": "minute"}, "granularity"),
        ("time_series", {**TIME_SERIES, "buckets": None}, "buckets"),
        (
            "time_series",
            series_body([{**TIME_SERIES["buckets"][0], "totalTokens": "x"}]),
            "buckets.0.totalTokens",
        ),
        ("time_series", series_body([{"totalTokens": 1, "totalCostUsd": 1}]), "buckets.0.bucket"),
        (
            "model_efficiency",
            [MODELS[0], {**MODELS[1], "executionsCount": "many"}],
            "1.executionsCount",
        ),
        ("model_efficiency", [{**MODELS[0], "avgLatencyMs": "fast"}], "0.avgLatencyMs"),
        ("model_efficiency", [{**MODELS[0], "avgLatencyMs": False}], "0.avgLatencyMs"),
        ("model_efficiency", [{**MODELS[0], "modelId": None}], "0.modelId"),
        ("cache_savings", {**CACHE_SAVINGS, "hitRate": Decimal("1.5")}, "hitRate"),
        ("cache_savings", {**CACHE_SAVINGS, "totalInputTokens": "lots"}, "totalInputTokens"),
    ],
)
async def test_wrong_shapes_name_the_field(mode: str, method: str, answer: Any, field: str) -> None:
    path = method.replace("_", "-")
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/{path}").mock(return_value=json_response(answer))
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            await resolve(getattr(client, method)(APRIL, APRIL_8))
    await close(client)
    assert caught.value.field == field
    assert caught.value.endpoint == method


async def test_unknown_fields_pass(mode: str) -> None:
    series = {**TIME_SERIES, "cached": True}
    series["buckets"] = [{**TIME_SERIES["buckets"][0], "requests": 12}]
    models = [{**MODELS[0], "provider": "anthropic"}]
    client = client_for(mode)
    with respx.mock(base_url=f"{BASE}/ai/org-usage", assert_all_mocked=True) as router:
        router.get("/time-series").mock(return_value=json_response(series))
        router.get("/model-efficiency").mock(return_value=json_response(models))
        router.get("/projection").mock(return_value=json_response({**PROJECTION_SHORT, "x": 1}))
        got_series = await resolve(client.time_series(APRIL, APRIL_8))
        got_models = await resolve(client.model_efficiency(APRIL, APRIL_8))
        got_projection = await resolve(client.projection(APRIL, APRIL_8))
    await close(client)
    assert got_series.model_extra == {"cached": True}
    assert got_series.buckets[0].model_extra == {"requests": 12}
    assert got_models[0].model_extra == {"provider": "anthropic"}
    assert got_projection.model_extra == {"x": 1}


ENDPOINTS = ["time_series", "projection", "model_efficiency", "heatmap", "cache_savings"]


@pytest.mark.parametrize("method", ENDPOINTS)
@pytest.mark.parametrize(
    ("status", "error", "hint"),
    [
        (400, usagekit.BadRequestError, "query parameters"),
        (401, usagekit.AuthenticationError, "DARAMEX_TOKEN"),
        (403, usagekit.PermissionDeniedError, "lacks read on ai.agent"),
    ],
)
async def test_every_documented_status_maps_to_its_error(
    mode: str, method: str, status: int, error: type[usagekit.APIError], hint: str
) -> None:
    payload = {"statusCode": status, "message": f"nope {status}", "error": "Forbidden"}
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/{method.replace('_', '-')}").mock(
            return_value=json_response(payload, status, **{"x-request-id": "req_d"})
        )
        with pytest.raises(error) as caught:
            await resolve(getattr(client, method)(APRIL, APRIL_8))
    await close(client)
    exc = caught.value
    assert type(exc) is error
    assert (exc.status_code, exc.provider, exc.request_id) == (status, "daramex", "req_d")
    assert exc.hint is not None and hint in exc.hint and hint in str(exc)
    assert TOKEN not in str(exc) and ORG not in str(exc)


# (method, args, kwargs, what the message must say)
INVALID: list[Any] = [
    ("time_series", (APRIL_8, APRIL), {}, "start must be before end"),
    ("time_series", (APRIL, APRIL), {}, "start must be before end"),
    ("time_series", (None, APRIL), {}, "required"),
    ("time_series", ("soon", APRIL), {}, "start"),
    ("time_series", (APRIL, APRIL_8), {"source": "everything"}, "'system', 'byok', 'all'"),
    ("time_series", (APRIL, APRIL_8), {"granularity": "minute"}, "'hour', 'day', 'week', 'month'"),
    ("time_series", (APRIL, APRIL_8), {"group_by": "user"}, "'action', 'model', 'none'"),
    ("time_series", (APRIL, APRIL_8), {"timezone": "Mars/Olympus_Mons"}, "IANA"),
    ("time_series", (APRIL, APRIL_8), {"timezone": ""}, "IANA"),
    ("time_series", (APRIL, APRIL_8), {"timezone": "localtime"}, "IANA"),
    ("time_series", (APRIL, APRIL_8), {"timezone": "../../etc/passwd"}, "IANA"),
    ("projection", (APRIL, APRIL_8), {"source": "SYSTEM"}, "source must be one of"),
    ("projection", ("2026-04-08", "2026-04-01"), {}, "start must be before end"),
    ("model_efficiency", (APRIL, APRIL_8), {"limit": 0}, "limit must be an integer from 1 to 50"),
    ("model_efficiency", (APRIL, APRIL_8), {"limit": 51}, "from 1 to 50"),
    ("model_efficiency", (APRIL, APRIL_8), {"limit": True}, "from 1 to 50"),
    ("model_efficiency", (APRIL, APRIL_8), {"limit": 2.5}, "from 1 to 50"),
    ("model_efficiency", (APRIL, APRIL_8), {"limit": "10"}, "from 1 to 50"),
    ("model_efficiency", (APRIL, APRIL_8), {"action": "chat"}, "'user_interaction'"),
    ("heatmap", (APRIL, APRIL_8), {"timezone": "GMT+25"}, "IANA"),
    ("heatmap", (APRIL, APRIL_8), {"source": None}, "source must be one of"),
    ("cache_savings", (APRIL, APRIL_8), {"source": "any"}, "source must be one of"),
    ("records", (APRIL_8, APRIL), {}, "start must be before end"),
    ("records", (APRIL, APRIL_8), {"group_by": "day"}, "group_by must be one of"),
    ("records", (APRIL, APRIL_8), {"timezone": "Nowhere"}, "IANA"),
    ("records", (APRIL, APRIL_8), {"granularity": "year"}, "granularity must be one of"),
    ("records", (datetime(2999, 1, 1, tzinfo=UTC),), {}, "start must be before end"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "message"), INVALID)
async def test_invalid_arguments_fail_before_any_request(
    mode: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    client = client_for(mode)
    with no_requests(), pytest.raises(usagekit.ConfigError) as caught:
        await resolve(getattr(client, method)(*args, **kwargs))
    await close(client)
    assert message in str(caught.value)


async def test_missing_token_or_org_names_the_variable(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DARAMEX_TOKEN", raising=False)
    monkeypatch.delenv("DARAMEX_ORG_ID", raising=False)
    with pytest.raises(usagekit.ConfigError, match="DARAMEX_TOKEN"):
        make(mode, DaramexClient, AsyncDaramexClient, org_id=ORG)
    with pytest.raises(usagekit.ConfigError, match="DARAMEX_ORG_ID"):
        make(mode, DaramexClient, AsyncDaramexClient, TOKEN)
    monkeypatch.setenv("DARAMEX_TOKEN", "env-token")
    monkeypatch.setenv("DARAMEX_ORG_ID", "env-org")
    client = make(mode, DaramexClient, AsyncDaramexClient)
    assert client.org_id == "env-org"
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(f"{BASE}/ai/org-usage/cache-savings").mock(
            return_value=json_response(CACHE_SAVINGS)
        )
        await resolve(client.cache_savings(APRIL, APRIL_8))
    await close(client)
    headers = route.calls.last.request.headers
    assert (headers["authorization"], headers["x-org-id"]) == ("Bearer env-token", "env-org")
    assert "env-token" not in repr(client)


async def test_credentials_are_not_sent_to_another_origin(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/cache-savings").mock(
            return_value=httpx.Response(302, headers={"location": "https://elsewhere.test/cs"})
        )
        elsewhere = router.get("https://elsewhere.test/cs").mock(
            return_value=json_response(CACHE_SAVINGS)
        )
        await resolve(client.cache_savings(APRIL, APRIL_8))
    await close(client)
    headers = elsewhere.calls.last.request.headers
    assert "authorization" not in headers and "x-org-id" not in headers


# -- records ----------------------------------------------------------------------------------


def by_key(records: list[UsageRecord]) -> dict[tuple[datetime, str, str], Decimal]:
    out: dict[tuple[datetime, str, str], Decimal] = {}
    for r in records:
        key = (
            r.model
            or r.attributes.get("action")
            or ("<rest>" if r.attributes.get("unattributed") else "<total>")
        )
        out[(r.start, r.metric, key)] = r.quantity
    return out


RECORD_BUCKETS = [
    bucket("2026-04-01T00:00:00Z", 300, "0.30", {"gpt": (200, "0.20"), "claude": (100, "0.10")}),
    bucket("2026-04-02T00:00:00Z", 500, "0.90", {"gpt": (200, "0.20")}),
    bucket("2026-04-03T00:00:00Z", 100, "0.05", {"gpt": (80, "0.04"), "claude": (70, "0.03")}),
    bucket("2026-04-04T00:00:00Z", 40, "0.004"),
    bucket("2026-04-05T00:00:00Z", 0, "0", {}),
]


async def test_records_per_model_with_the_unattributed_rest(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(f"{BASE}/ai/org-usage/time-series").mock(
            return_value=json_response(series_body(RECORD_BUCKETS))
        )
        records: list[UsageRecord] = await resolve(
            client.records(APRIL, datetime(2026, 4, 6, tzinfo=UTC), granularity="day")
        )
    await close(client)
    params = dict(route.calls.last.request.url.params)
    assert params["groupBy"] == "model" and params["granularity"] == "day"
    assert total(records, "total_tokens") == 940
    assert total(records, "cost") == Decimal("1.254")
    day = [datetime(2026, 4, d, tzinfo=UTC) for d in range(1, 7)]
    assert by_key(records) == {
        (day[0], "total_tokens", "gpt"): 200,
        (day[0], "cost", "gpt"): Decimal("0.20"),
        (day[0], "total_tokens", "claude"): 100,
        (day[0], "cost", "claude"): Decimal("0.10"),
        (day[1], "total_tokens", "gpt"): 200,
        (day[1], "cost", "gpt"): Decimal("0.20"),
        (day[1], "total_tokens", "<rest>"): 300,
        (day[1], "cost", "<rest>"): Decimal("0.70"),
        (day[2], "total_tokens", "gpt"): 80,
        (day[2], "cost", "gpt"): Decimal("0.04"),
        (day[2], "total_tokens", "claude"): 70,
        (day[2], "cost", "claude"): Decimal("0.03"),
        (day[2], "total_tokens", "<rest>"): -50,
        (day[2], "cost", "<rest>"): Decimal("-0.02"),
        (day[3], "total_tokens", "<rest>"): 40,
        (day[3], "cost", "<rest>"): Decimal("0.004"),
    }
    assert len({r.id for r in records}) == len(records)
    for r in records:
        assert (r.provider, r.source, r.organization_id) == ("daramex", "time_series", ORG)
        assert r.unit == ("tokens" if r.metric == "total_tokens" else "USD")
        assert r.end - r.start == timedelta(days=1)
        assert r.attributes["token_source"] == "all"
        if r.model is None:
            assert r.attributes["unattributed"] == "true"
        assert r == UsageRecord.model_validate(r.model_dump())


async def test_records_per_action_and_ungrouped(mode: str) -> None:
    action_buckets = [
        bucket(
            "2026-04-01T00:00:00Z",
            142500,
            "0.427",
            {"user_interaction": (95000, "0.285"), "guardrail_check": (47500, "0.142")},
        )
    ]
    plain_buckets = [bucket("2026-04-01T00:00:00Z", 142500, "0.427")]
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/time-series").mock(
            side_effect=[
                json_response(series_body(action_buckets)),
                json_response(series_body(plain_buckets)),
            ]
        )
        grouped = await resolve(
            client.records(APRIL, "2026-04-02", group_by="action", source="system")
        )
        plain = await resolve(client.records(APRIL, "2026-04-02", group_by="none"))
    await close(client)
    assert {(r.metric, r.attributes.get("action"), r.quantity) for r in grouped} == {
        ("total_tokens", "user_interaction", 95000),
        ("cost", "user_interaction", Decimal("0.285")),
        ("total_tokens", "guardrail_check", 47500),
        ("cost", "guardrail_check", Decimal("0.142")),
    }
    assert all(r.model is None and r.attributes["token_source"] == "system" for r in grouped)
    assert [(r.metric, r.quantity, r.attributes) for r in plain] == [
        ("total_tokens", 142500, {"token_source": "all"}),
        ("cost", Decimal("0.427"), {"token_source": "all"}),
    ]


async def test_record_intervals_are_buckets_clipped_to_the_window(mode: str) -> None:
    buckets = [
        bucket("2026-04-01T06:00:00.000Z", 10, "0.01"),
        bucket("2026-04-02T06:00:00.000Z", 20, "0.02"),
        bucket("2026-04-03T06:00:00.000Z", 30, "0.03"),
        bucket("2026-05-03T06:00:00.000Z", 99, "0.99"),
    ]
    answer = series_body(buckets, tz="America/Mexico_City")
    start = datetime(2026, 4, 1, 10, tzinfo=UTC)
    end = datetime(2026, 4, 3, 12, tzinfo=UTC)
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(f"{BASE}/ai/org-usage/time-series").mock(return_value=json_response(answer))
        records = await resolve(
            client.records(start, end, group_by="none", timezone="America/Mexico_City")
        )
    await close(client)
    intervals = sorted({(r.start, r.end) for r in records})
    assert intervals == [
        (start, datetime(2026, 4, 2, 6, tzinfo=UTC)),
        (datetime(2026, 4, 2, 6, tzinfo=UTC), datetime(2026, 4, 3, 6, tzinfo=UTC)),
        (datetime(2026, 4, 3, 6, tzinfo=UTC), end),
    ]
    assert total(records, "total_tokens") == 60


async def test_records_default_window_is_this_month_so_far(mode: str) -> None:
    client = client_for(mode)
    now = datetime(2026, 11, 20, 10, 0, 30, tzinfo=UTC)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(f"{BASE}/ai/org-usage/time-series").mock(
            return_value=json_response(series_body([]))
        )
        with usagekit.pin_clock(now):
            assert await resolve(client.records()) == []
        params = dict(route.calls.last.request.url.params)
        with usagekit.pin_clock("2026-12-01T00:00:00Z"):  # the month has not begun: no request
            assert await resolve(client.records()) == []
        assert route.call_count == 1
    await close(client)
    sent_from = datetime.fromisoformat(params["from"].replace("Z", "+00:00"))
    sent_to = datetime.fromisoformat(params["to"].replace("Z", "+00:00"))
    assert sent_from == month_start(now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert sent_to == now
    assert params["from"].endswith("Z") and params["to"].endswith("Z")


@pytest.mark.parametrize(
    ("start", "end", "now", "expected"),
    [
        (
            None,
            None,
            datetime(2026, 4, 17, 8, 30, tzinfo=UTC),
            ("2026-04-01T00:00:00Z", "2026-04-17T08:30:00Z"),
        ),
        (
            None,
            "2026-04-10",
            datetime(2026, 4, 17, tzinfo=UTC),
            ("2026-04-01T00:00:00Z", "2026-04-10T00:00:00Z"),
        ),
        (
            "2026-03-20",
            None,
            datetime(2026, 4, 17, 1, 2, 3, 4000, tzinfo=UTC),
            ("2026-03-20T00:00:00Z", "2026-04-17T01:02:03.004Z"),
        ),
        (
            None,
            None,
            datetime(2026, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
            ("2027-01-01T00:00:00Z", "2027-01-01T04:59:00Z"),
        ),
    ],
)
def test_records_window_defaults(
    start: str | None, end: str | None, now: datetime, expected: tuple[str, str]
) -> None:
    plan = records_plan(
        start, end, source="all", granularity=None, group_by="model", timezone="UTC", now=now
    )
    params = dict(plan.spec.params)
    assert (params["from"], params["to"]) == expected


@pytest.mark.parametrize(
    ("start", "granularity", "zone", "expected"),
    [
        ("2026-04-01T00:00:00Z", "hour", "UTC", "2026-04-01T01:00:00Z"),
        ("2026-04-01T00:00:00Z", "day", "UTC", "2026-04-02T00:00:00Z"),
        ("2026-04-01T06:00:00Z", "day", "America/Mexico_City", "2026-04-02T06:00:00Z"),
        ("2026-03-08T05:00:00Z", "day", "America/New_York", "2026-03-09T04:00:00Z"),
        ("2026-11-01T04:00:00Z", "day", "America/New_York", "2026-11-02T05:00:00Z"),
        ("2026-03-08T06:00:00Z", "hour", "America/New_York", "2026-03-08T07:00:00Z"),
        ("2026-03-30T00:00:00Z", "week", "UTC", "2026-04-06T00:00:00Z"),
        ("2026-03-23T04:00:00Z", "week", "America/New_York", "2026-03-30T04:00:00Z"),
        ("2026-02-28T23:00:00Z", "month", "Europe/Berlin", "2026-03-31T22:00:00Z"),
        ("2026-12-01T00:00:00Z", "month", "UTC", "2027-01-01T00:00:00Z"),
        ("2026-04-01T00:00:00Z", "day", "Asia/Kolkata", "2026-04-01T18:30:00Z"),
        ("9999-12-31T00:00:00Z", "day", "UTC", None),
        ("9999-12-01T00:00:00Z", "month", "UTC", None),
    ],
)
def test_next_bucket_start_in_the_zone(
    start: str, granularity: str, zone: str, expected: str | None
) -> None:
    moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
    got = next_bucket_start(moment, granularity, zoneinfo.ZoneInfo(zone))
    if expected is None:
        assert got is None
    else:
        assert got == datetime.fromisoformat(expected.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 4, 1, tzinfo=UTC), "2026-04-01T00:00:00Z"),
        (datetime(2026, 4, 1, 2, tzinfo=timezone(timedelta(hours=2))), "2026-04-01T00:00:00Z"),
        (datetime(2026, 4, 1, 0, 0, 0, 120000, tzinfo=UTC), "2026-04-01T00:00:00.120Z"),
        (datetime(2026, 4, 1, 0, 0, 0, 123456, tzinfo=UTC), "2026-04-01T00:00:00.123456Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
    ],
)
def test_iso_z(moment: datetime, text: str) -> None:
    assert iso_z(moment) == text


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("UTC", True),
        ("America/Mexico_City", True),
        ("Asia/Kathmandu", True),
        ("Etc/GMT+5", True),
        ("US/Eastern", True),
        ("utc ", False),
        ("Mars/Olympus_Mons", False),
        ("America", False),
        ("localtime", False),
        ("posixrules", False),
        ("/etc/localtime", False),
        ("../zoneinfo/UTC", False),
        ("a\x00b", False),
        ("", False),
        (None, False),
        (5, False),
    ],
)
def test_timezone_check(name: Any, valid: bool) -> None:
    if valid:
        assert check_timezone(name).key == name
    else:
        with pytest.raises(usagekit.ConfigError, match="IANA"):
            check_timezone(name)


@given(st.text(max_size=30))
def test_any_timezone_text_is_a_zone_or_a_config_error(name: str) -> None:
    try:
        zone = check_timezone(name)
    except usagekit.ConfigError:
        return
    assert zone.key == name
    assert zone.utcoffset(datetime(2026, 1, 1)) is not None


ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"]


@given(
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    granularity=st.sampled_from(["hour", "day", "week", "month"]),
    zone=st.sampled_from(ZONES),
)
@example(moment=datetime(1981, 2, 1, tzinfo=UTC), granularity="month", zone="Australia/Lord_Howe")
def test_a_bucket_always_ends_after_it_starts(
    moment: datetime, granularity: str, zone: str
) -> None:
    end = next_bucket_start(moment, granularity, zoneinfo.ZoneInfo(zone))
    assert end is not None
    assert moment < end <= moment + timedelta(days=32)
    if granularity != "hour":
        tz = zoneinfo.ZoneInfo(zone)
        local = end.astimezone(tz)
        midnight = datetime(local.year, local.month, local.day)
        if midnight.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == (
            midnight
        ):
            assert local.minute == 0 and local.second == 0
        else:  # no local midnight that day (Lord Howe, 1981-03-01): the day's first instant
            assert (end - timedelta(seconds=1)).astimezone(tz).date() < local.date()


series_entries = st.dictionaries(
    st.sampled_from(["gpt", "claude", "gemini"]),
    st.tuples(
        st.integers(0, 10**9), st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False)
    ),
    max_size=3,
)


@settings(max_examples=150)
@given(
    buckets=st.lists(
        st.tuples(
            st.integers(0, 40),
            st.integers(0, 10**9),
            st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False),
            st.none() | series_entries,
        ),
        max_size=12,
        unique_by=lambda entry: entry[0],  # repeated buckets: see the test below
    ),
    zone=st.sampled_from(ZONES),
    group_by=st.sampled_from(["model", "action", "none"]),
    lead=st.integers(0, 23),
)
def test_records_sum_to_the_bucket_totals_and_stay_in_the_window(
    buckets: list[tuple[int, int, Decimal, dict[str, tuple[int, Decimal]] | None]],
    zone: str,
    group_by: str,
    lead: int,
) -> None:
    tz = zoneinfo.ZoneInfo(zone)
    origin = datetime(2026, 3, 1, tzinfo=tz)
    raw = [
        {
            "bucket": (origin + timedelta(days=day)).astimezone(UTC).isoformat(),
            "totalTokens": tokens,
            "totalCostUsd": cost,
            **(
                {}
                if series is None
                else {
                    "series": {
                        k: {"totalTokens": t, "totalCostUsd": c} for k, (t, c) in series.items()
                    }
                }
            ),
        }
        for day, tokens, cost, series in buckets
    ]
    parsed = DaramexTimeSeries.model_validate(series_body(raw, tz=zone))
    start = origin.astimezone(UTC) + timedelta(hours=lead)
    end = origin.astimezone(UTC) + timedelta(days=45)
    records = time_series_records(
        parsed, org_id=ORG, start=start, end=end, source="all", group_by=group_by, zone=tz
    )
    assert total(records, "total_tokens") == sum(t for _, t, _, _ in buckets)
    assert total(records, "cost") == sum((c for _, _, c, _ in buckets), Decimal(0))
    assert len({r.id for r in records}) == len(records)
    for r in records:
        assert start <= r.start < r.end <= end
    spans = sorted({(r.start, r.end) for r in records})
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    if group_by == "none":
        assert not any(r.attributes.get("unattributed") for r in records)


def _series_records(answer: dict[str, Any], group_by: str = "model") -> list[UsageRecord]:
    return time_series_records(
        DaramexTimeSeries.model_validate(answer),
        org_id=ORG,
        start=APRIL,
        end=APRIL_8,
        source="all",
        group_by=group_by,
        zone=zoneinfo.ZoneInfo("UTC"),
    )


def test_misaligned_buckets_never_overlap() -> None:
    answer = series_body(
        [
            bucket("2026-04-01T12:00:00Z", 2, "0.2"),
            bucket("2026-04-01T00:00:00Z", 4, "0.4", {"gpt": (3, "0.3")}),
        ]
    )
    records = _series_records(answer)
    noon = datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert sorted({(r.start, r.end) for r in records}) == [
        (APRIL, noon),
        (noon, datetime(2026, 4, 2, tzinfo=UTC)),
    ]
    first = {(r.metric, r.model): r.quantity for r in records if r.start == APRIL}
    assert first == {
        ("total_tokens", "gpt"): 3,
        ("cost", "gpt"): Decimal("0.3"),
        ("total_tokens", None): 1,
        ("cost", None): Decimal("0.1"),
    }
    assert total(records, "total_tokens") == 6
    assert len({r.id for r in records}) == len(records)


ONCE = bucket("2026-04-02T00:00:00Z", 4, "0.4", {"gpt": (3, "0.3")})


@pytest.mark.parametrize(
    ("repeat", "accepted"),
    [
        pytest.param(ONCE, True, id="exact-repeat-dropped"),
        pytest.param({**ONCE, "totalTokens": 5}, False, id="other-tokens"),
        pytest.param({**ONCE, "totalCostUsd": Decimal("0.40000001")}, False, id="other-cost"),
        pytest.param(
            bucket("2026-04-02T00:00:00Z", 4, "0.4", {"gpt": (2, "0.3")}), False, id="other-series"
        ),
        pytest.param(bucket("2026-04-02T00:00:00Z", 4, "0.4"), False, id="series-missing"),
    ],
)
@pytest.mark.parametrize("group_by", ["model", "none"])
def test_a_repeated_bucket_is_dropped_or_refused_never_summed(
    repeat: dict[str, Any], accepted: bool, group_by: str
) -> None:
    first = bucket("2026-04-01T00:00:00Z", 1, "0.1")
    once = _series_records(series_body([first, ONCE]), group_by)
    answer = series_body([first, ONCE, repeat])
    if accepted:
        assert _series_records(answer, group_by) == once
        return
    with pytest.raises(usagekit.ResponseValidationError, match="came twice") as caught:
        _series_records(answer, group_by)
    assert (caught.value.field, caught.value.endpoint) == ("buckets.2", "time_series")


@settings(max_examples=100)
@given(
    days=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 10**6), st.integers(0, 10**6)),
        min_size=1,
        max_size=8,
    ),
    group_by=st.sampled_from(["model", "none"]),
)
def test_records_ids_are_unique_whatever_the_server_repeats(
    days: list[tuple[int, int, int]], group_by: str
) -> None:
    raw = [
        bucket(f"2026-04-0{day + 1}T00:00:00Z", tokens, str(Decimal(cents) / 100))
        for day, tokens, cents in days
    ]
    figures: dict[int, set[tuple[int, int]]] = {}
    for day, tokens, cents in days:
        figures.setdefault(day, set()).add((tokens, cents))
    if any(len(seen) > 1 for seen in figures.values()):  # a real conflict: refused
        with pytest.raises(usagekit.ResponseValidationError, match="came twice") as caught:
            _series_records(series_body(raw), group_by)
        assert caught.value.field is not None and caught.value.field.startswith("buckets.")
        return
    records = _series_records(series_body(raw), group_by)  # exact repeats: dropped
    assert len({r.id for r in records}) == len(records)
    assert total(records, "total_tokens") == sum(next(iter(s))[0] for s in figures.values())


def test_the_zone_the_server_aligned_to_wins_over_the_requested_one() -> None:
    answer = series_body(
        [bucket("2026-03-08T05:00:00Z", 5, "0.5")], granularity="day", tz="America/New_York"
    )
    records = time_series_records(
        DaramexTimeSeries.model_validate(answer),
        org_id=ORG,
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 3, 31, tzinfo=UTC),
        source="all",
        group_by="none",
        zone=zoneinfo.ZoneInfo("UTC"),
    )
    assert {(r.start, r.end) for r in records} == {
        (datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC))
    }
    unknown = {**answer, "timezone": "Not/AZone"}
    fallback = time_series_records(
        DaramexTimeSeries.model_validate(unknown),
        org_id=ORG,
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 3, 31, tzinfo=UTC),
        source="all",
        group_by="none",
        zone=zoneinfo.ZoneInfo("UTC"),
    )
    assert {(r.start, r.end) for r in fallback} == {
        (datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    }


@pytest.mark.parametrize(
    ("lengths", "granularity"),
    [
        ({}, "day"),  # a new store: days, whatever the window's length
        ({"time_series": timedelta(hours=1)}, "hour"),
        ({"time_series": timedelta(hours=23)}, "day"),  # a spring-forward day
        ({"time_series": timedelta(hours=25)}, "day"),
        ({"time_series": timedelta(days=7, hours=-1)}, "week"),
        ({"time_series": timedelta(days=28)}, "month"),
        ({"time_series": timedelta(days=31)}, "month"),
    ],
)
def test_sync_pins_the_granularity_the_store_holds(
    lengths: dict[str, timedelta], granularity: str
) -> None:
    """A short re-fetch left to the server would come back hourly beside stored days."""
    client = DaramexClient(TOKEN, org_id=ORG, base_url=BASE)
    start = datetime(2026, 4, 6, tzinfo=UTC)
    clock = usagekit.pin_clock(start + timedelta(days=2, hours=5))
    with clock, respx.mock(assert_all_mocked=True) as router:
        route = router.get(f"{BASE}/ai/org-usage/time-series").mock(
            return_value=json_response(series_body([], granularity=granularity))
        )
        assert list(client.sync_records(start, bucket_lengths=lengths)) == []
    client.close()
    params = dict(route.calls.last.request.url.params)
    assert params["granularity"] == granularity
    assert params["from"] == "2026-04-06T00:00:00Z" and params["to"] == "2026-04-08T05:00:00Z"


def test_the_unattributed_rest_is_exact_beyond_28_digits() -> None:
    big = "123456789012345678901234567890.000000000001"
    answer = series_body(
        [bucket("2026-04-01T00:00:00Z", 10**40 + 1, big, {"gpt": (1, "0.000000000001")})]
    )
    records = _series_records(answer)
    rest = {r.metric: r.quantity for r in records if r.attributes.get("unattributed")}
    # big minus 1e-12, by hand: the default context would round this to 28 digits
    assert rest == {
        "total_tokens": Decimal(10**40),
        "cost": Decimal("123456789012345678901234567890.000000000000"),
    }
    assert total(records, "cost") == Decimal(big)
    assert total(records, "total_tokens") == 10**40 + 1
