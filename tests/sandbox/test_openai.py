"""OpenAI usage and costs endpoints of the sandbox, over real HTTP."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest

from usagekit.sandbox import OPENAI_KINDS, Sandbox
from usagekit.sandbox._catalog import COMPLETION_PRICES, TIER_MULTIPLIER

from .conftest import NOW, TODAY, YESTERDAY

WEEK_START = YESTERDAY - 6 * 86400
FLOW_KINDS = [name for name, spec in OPENAI_KINDS.items() if not spec.level]
OBJECTS = {
    "completions": "organization.usage.completions.result",
    "embeddings": "organization.usage.embeddings.result",
    "moderations": "organization.usage.moderations.result",
    "images": "organization.usage.images.result",
    "audio_speeches": "organization.usage.audio_speeches.result",
    "audio_transcriptions": "organization.usage.audio_transcriptions.result",
    "vector_stores": "organization.usage.vector_stores.result",
    "code_interpreter_sessions": "organization.usage.code_interpreter_sessions.result",
    "file_search_calls": "organization.usage.file_searches.result",
    "web_search_calls": "organization.usage.web_searches.result",
}


def usage(client: httpx.Client, kind: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/organization/usage/{kind}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"].startswith("req_")
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def bucket_totals(
    buckets: list[dict[str, Any]], metrics: tuple[str, ...]
) -> dict[int, dict[str, int]]:
    """Sum each bucket's results, per metric."""
    totals: dict[int, dict[str, int]] = {}
    for bucket in buckets:
        total = dict.fromkeys(metrics, 0)
        for result in bucket["results"]:
            for name in metrics:
                total[name] += result[name]
        totals[bucket["start_time"]] = total
    return totals


# ------------------------------------------------------------------------------------ shapes


@pytest.mark.parametrize("kind", list(OBJECTS))
def test_every_usage_endpoint_returns_pages_of_aligned_buckets(
    openai: httpx.Client, kind: str
) -> None:
    page = usage(openai, kind, start_time=WEEK_START + 5000, limit=3)
    assert set(page) == {"object", "data", "has_more", "next_page"}
    assert page["object"] == "page"
    assert page["has_more"] is True
    assert isinstance(page["next_page"], str)
    assert [b["start_time"] for b in page["data"]] == [
        WEEK_START,
        WEEK_START + 86400,
        WEEK_START + 2 * 86400,
    ]
    spec = OPENAI_KINDS[kind]
    for bucket in page["data"]:
        assert bucket["object"] == "bucket"
        assert bucket["end_time"] == bucket["start_time"] + 86400
        assert len(bucket["results"]) == 1  # ungrouped: one result per non-empty bucket
        result = bucket["results"][0]
        assert result["object"] == OBJECTS[kind]
        assert set(result) == {"object", *spec.metrics, *spec.dims}
        assert all(result[d] is None for d in spec.dims)
        assert all(isinstance(result[m], int) for m in spec.metrics)


def test_completions_token_breakdown_is_consistent(openai: httpx.Client) -> None:
    page = usage(
        openai,
        "completions",
        start_time=WEEK_START,
        limit=7,
        group_by=["model", "batch", "service_tier", "project_id"],
    )
    results = [r for b in page["data"] for r in b["results"]]
    assert len(results) > 20
    for r in results:
        assert r["input_tokens"] == (
            r["input_cached_tokens"] + r["input_cache_write_tokens"] + r["input_uncached_tokens"]
        )
        assert r["input_cached_tokens"] == (
            r["input_cached_text_tokens"]
            + r["input_cached_audio_tokens"]
            + r["input_cached_image_tokens"]
        )
        assert r["input_tokens"] == (
            r["input_text_tokens"] + r["input_audio_tokens"] + r["input_image_tokens"]
        )
        assert r["output_tokens"] == (
            r["output_text_tokens"] + r["output_audio_tokens"] + r["output_image_tokens"]
        )
        assert r["input_cached_text_tokens"] <= r["input_text_tokens"]
        assert r["num_model_requests"] > 0
        assert isinstance(r["batch"], bool)
        assert r["service_tier"] in ("default", "flex", "priority", "batch")
    assert any(r["batch"] for r in results)
    assert any(r["input_audio_tokens"] for r in results)
    assert any(r["input_cached_tokens"] for r in results)


def test_empty_buckets_are_returned_with_empty_results(sb: Sandbox, openai: httpx.Client) -> None:
    before_history = int(sb.data.history_start.timestamp()) - 10 * 86400
    page = usage(openai, "completions", start_time=before_history, limit=5)
    assert len(page["data"]) == 5
    assert all(b["results"] == [] for b in page["data"])


def test_end_time_defaults_to_the_sandbox_clock(openai: httpx.Client) -> None:
    page = usage(openai, "completions", start_time=TODAY - 3 * 86400, bucket_width="1d")
    assert [b["start_time"] for b in page["data"]][-1] == TODAY
    assert page["has_more"] is False
    assert page["next_page"] is None


def test_current_hour_holds_only_minutes_before_now(openai: httpx.Client) -> None:
    hour = TODAY + 17 * 3600
    hourly = usage(openai, "completions", start_time=hour, bucket_width="1h", limit=1)
    minutes = usage(openai, "completions", start_time=hour, bucket_width="1m", limit=60)
    assert len(minutes["data"]) == 30  # buckets stop at now (17:30)
    after_now = [b for b in minutes["data"] if b["start_time"] >= NOW.timestamp()]
    assert after_now == []
    by_minute = bucket_totals(minutes["data"], ("input_tokens", "num_model_requests"))
    hour_total = bucket_totals(hourly["data"], ("input_tokens", "num_model_requests"))[hour]
    assert sum(t["input_tokens"] for t in by_minute.values()) == hour_total["input_tokens"]
    assert hour_total["num_model_requests"] > 0


# ------------------------------------------------------------------------------------ auth


def test_missing_and_unknown_keys_are_401(http: httpx.Client) -> None:
    url = "/v1/organization/usage/completions"
    error = error_of(http.get(url, params={"start_time": YESTERDAY}), 401)
    assert "API key" in error["message"]
    bad = http.get(
        url, params={"start_time": YESTERDAY}, headers={"Authorization": "Bearer sk-admin-nope"}
    )
    assert error_of(bad, 401)["code"] == "invalid_api_key"


def test_project_key_is_403_and_says_an_admin_key_is_needed(
    sb: Sandbox, http: httpx.Client
) -> None:
    response = http.get(
        "/v1/organization/costs",
        params={"start_time": YESTERDAY},
        headers={"Authorization": f"Bearer {sb.keys.openai_project_key}"},
    )
    error = error_of(response, 403)
    assert "admin" in error["message"].lower()


def test_unknown_path_is_404_in_openai_shape(openai: httpx.Client) -> None:
    error_of(openai.get("/organization/usage/teleportations", params={"start_time": 0}), 404)


# ------------------------------------------------------------------------------------ 400s


@pytest.mark.parametrize(
    ("width", "limit"),
    [("1d", 32), ("1h", 169), ("1m", 1441), ("1d", 0), ("1h", -1)],
)
def test_limit_outside_the_cap_of_its_width_is_400(
    openai: httpx.Client, width: str, limit: int
) -> None:
    response = openai.get(
        "/organization/usage/embeddings",
        params={"start_time": YESTERDAY, "bucket_width": width, "limit": limit},
    )
    assert error_of(response, 400)["param"] == "limit"


@pytest.mark.parametrize(("width", "limit"), [("1d", 31), ("1h", 168), ("1m", 1440)])
def test_limit_at_the_cap_is_accepted(openai: httpx.Client, width: str, limit: int) -> None:
    page = usage(openai, "moderations", start_time=0, bucket_width=width, limit=limit)
    assert len(page["data"]) == limit


@pytest.mark.parametrize(
    ("kind", "params", "param"),
    [
        ("completions", {"bucket_width": "2d"}, "bucket_width"),
        ("completions", {"group_by": "size"}, "group_by"),
        ("vector_stores", {"group_by": "model"}, "group_by"),
        ("code_interpreter_sessions", {"group_by": "user_id"}, "group_by"),
        ("file_search_calls", {"group_by": "model"}, "group_by"),
        ("embeddings", {"group_by": "batch"}, "group_by"),
        ("images", {"sources": "image.remix"}, "sources"),
        ("images", {"sizes": "2x2"}, "sizes"),
        ("web_search_calls", {"context_levels": "extreme"}, "context_levels"),
        ("completions", {"batch": "maybe"}, "batch"),
        ("vector_stores", {"models": "gpt-4o"}, "models"),
        ("completions", {"end_time": YESTERDAY - 1}, "end_time"),
        ("completions", {"start_time": "yesterday"}, "start_time"),
        ("completions", {"page": "page_garbage"}, "page"),
    ],
)
def test_invalid_usage_parameters_are_400(
    openai: httpx.Client, kind: str, params: dict[str, Any], param: str
) -> None:
    query = {"start_time": YESTERDAY, **params}
    error = error_of(openai.get(f"/organization/usage/{kind}", params=query), 400)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


def test_missing_start_time_is_400(openai: httpx.Client) -> None:
    error = error_of(openai.get("/organization/usage/completions"), 400)
    assert error["code"] == "missing_required_parameter"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"bucket_width": "1h"}, "bucket_width"),
        ({"limit": 181}, "limit"),
        ({"limit": 0}, "limit"),
        ({"group_by": "model"}, "group_by"),
        ({"models": "gpt-4o"}, "models"),
    ],
)
def test_invalid_costs_parameters_are_400(
    openai: httpx.Client, params: dict[str, Any], param: str
) -> None:
    query = {"start_time": YESTERDAY, **params}
    assert error_of(openai.get("/organization/costs", params=query), 400)["param"] == param


def test_costs_default_and_maximum_limits(openai: httpx.Client) -> None:
    default = openai.get("/organization/costs", params={"start_time": 0}).json()
    assert len(default["data"]) == 7
    biggest = openai.get("/organization/costs", params={"start_time": 0, "limit": 180}).json()
    assert len(biggest["data"]) == 180


# ------------------------------------------------------------------------------------ sums


@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_grouped_results_add_up_to_ungrouped(openai: httpx.Client, kind: str) -> None:
    spec = OPENAI_KINDS[kind]
    plain = bucket_totals(usage(openai, kind, start_time=WEEK_START, limit=7)["data"], spec.metrics)
    assert any(plain.values())
    for group_by in [[field] for field in spec.group_by] + [list(spec.group_by)]:
        page = usage(openai, kind, start_time=WEEK_START, limit=7, group_by=group_by)
        assert bucket_totals(page["data"], spec.metrics) == plain, group_by
        for bucket in page["data"]:
            keys = [tuple(r[f] for f in group_by) for r in bucket["results"]]
            assert len(keys) == len(set(keys)), "one result per distinct combination"
            for result in bucket["results"]:
                assert all(result[d] is None for d in spec.dims if d not in group_by)


@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_server_totals_match_the_ground_truth(sb: Sandbox, openai: httpx.Client, kind: str) -> None:
    spec = OPENAI_KINDS[kind]
    page = usage(openai, kind, start_time=WEEK_START, limit=7, group_by=["project_id"])
    served: dict[tuple[Any, ...], dict[str, int]] = {}
    for bucket in page["data"]:
        for result in bucket["results"]:
            totals = served.setdefault((result["project_id"],), dict.fromkeys(spec.metrics, 0))
            for metric in spec.metrics:
                totals[metric] += result[metric]
    truth = sb.data.openai_totals(kind, WEEK_START, WEEK_START + 7 * 86400, group_by=["project_id"])
    assert served == truth


@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_minutes_add_up_to_hours_and_hours_to_days(openai: httpx.Client, kind: str) -> None:
    spec = OPENAI_KINDS[kind]
    day = bucket_totals(
        usage(openai, kind, start_time=YESTERDAY, bucket_width="1d", limit=1)["data"],
        spec.metrics,
    )[YESTERDAY]
    hours = bucket_totals(
        usage(openai, kind, start_time=YESTERDAY, bucket_width="1h", limit=24)["data"],
        spec.metrics,
    )
    minutes = bucket_totals(
        usage(openai, kind, start_time=YESTERDAY, bucket_width="1m", limit=1440)["data"],
        spec.metrics,
    )
    assert len(hours) == 24
    assert len(minutes) == 1440
    for metric in spec.metrics:
        assert sum(h[metric] for h in hours.values()) == day[metric]
    assert day[spec.primary] > 0
    for hour_start, hour in hours.items():
        inside = [m for start, m in minutes.items() if hour_start <= start < hour_start + 3600]
        for metric in spec.metrics:
            assert sum(m[metric] for m in inside) == hour[metric], (hour_start, metric)


def test_minute_buckets_add_up_when_grouped(openai: httpx.Client) -> None:
    hour = YESTERDAY + 15 * 3600
    group = ["model", "api_key_id"]

    def per_combination(page: dict[str, Any]) -> dict[tuple[Any, ...], int]:
        totals: dict[tuple[Any, ...], int] = defaultdict(int)
        for bucket in page["data"]:
            for r in bucket["results"]:
                totals[(r["model"], r["api_key_id"])] += r["output_tokens"]
        return dict(totals)

    hourly = usage(
        openai, "completions", start_time=hour, bucket_width="1h", limit=1, group_by=group
    )
    minutes = usage(
        openai, "completions", start_time=hour, bucket_width="1m", limit=60, group_by=group
    )
    assert per_combination(minutes) == per_combination(hourly)
    spread = sum(1 for b in minutes["data"] if b["results"])
    assert spread > 5, "an hour's usage is spread over several minutes"


def test_usage_bytes_is_a_level_not_summed_over_time(sb: Sandbox, openai: httpx.Client) -> None:
    daily = usage(openai, "vector_stores", start_time=YESTERDAY, limit=1, group_by="project_id")
    hourly = usage(
        openai,
        "vector_stores",
        start_time=YESTERDAY,
        bucket_width="1h",
        limit=24,
        group_by="project_id",
    )
    last_hour = hourly["data"][-1]
    day_levels = {r["project_id"]: r["usage_bytes"] for r in daily["data"][0]["results"]}
    end_levels = {r["project_id"]: r["usage_bytes"] for r in last_hour["results"]}
    assert day_levels == end_levels, "a day reports the level at its end"
    summed = sum(r["usage_bytes"] for b in hourly["data"] for r in b["results"])
    assert sum(day_levels.values()) < summed
    first_hour = {r["project_id"]: r["usage_bytes"] for r in hourly["data"][0]["results"]}
    assert first_hour != end_levels, "the level moves during the day"
    ungrouped = usage(openai, "vector_stores", start_time=YESTERDAY, limit=1)
    assert ungrouped["data"][0]["results"][0]["usage_bytes"] == sum(day_levels.values())
    assert sum(day_levels.values()) == sb.data.openai_vector_store_bytes(TODAY - 1)
    minutes = usage(openai, "vector_stores", start_time=TODAY - 60, bucket_width="1m", limit=1)
    assert minutes["data"][0]["results"][0]["usage_bytes"] == sum(day_levels.values())


def test_today_reports_the_last_known_level(sb: Sandbox, openai: httpx.Client) -> None:
    today = usage(openai, "vector_stores", start_time=TODAY, limit=1)
    level = today["data"][0]["results"][0]["usage_bytes"]
    assert level == sb.data.openai_vector_store_bytes(NOW)


# ------------------------------------------------------------------------------------ filters


def test_array_filters_accept_repeated_keys_and_brackets(openai: httpx.Client) -> None:
    models = ["gpt-4o-2024-08-06", "o3-mini-2025-01-31"]
    repeated = openai.get(
        "/organization/usage/completions",
        params={"start_time": WEEK_START, "limit": 7, "models": models, "group_by": "model"},
    ).json()
    bracketed = openai.get(
        "/organization/usage/completions",
        params={"start_time": WEEK_START, "limit": 7, "models[]": models, "group_by": "model"},
    ).json()
    assert repeated["data"] == bracketed["data"]
    seen = {r["model"] for b in repeated["data"] for r in b["results"]}
    assert seen == set(models)


def test_filters_select_matching_usage(sb: Sandbox, openai: httpx.Client) -> None:
    batch = usage(
        openai, "completions", start_time=WEEK_START, limit=7, batch="true", group_by="batch"
    )
    assert {r["batch"] for b in batch["data"] for r in b["results"]} == {True}
    images = usage(
        openai,
        "images",
        start_time=WEEK_START,
        limit=7,
        sources="image.edit",
        group_by=["source", "size"],
    )
    assert {(r["source"], r["size"]) for b in images["data"] for r in b["results"]} == {
        ("image.edit", "1024x1024")
    }
    project = sb.data.catalog.openai_projects[1].id
    stores = usage(openai, "vector_stores", start_time=WEEK_START, limit=7, project_ids=project)
    assert all(len(b["results"]) == 1 for b in stores["data"])
    levels = usage(openai, "web_search_calls", start_time=WEEK_START, limit=7, context_levels="low")
    high = usage(openai, "web_search_calls", start_time=WEEK_START, limit=7, context_levels="high")
    both = usage(
        openai, "web_search_calls", start_time=WEEK_START, limit=7, context_levels=["low", "high"]
    )
    low_n = sum(r["num_requests"] for b in levels["data"] for r in b["results"])
    high_n = sum(r["num_requests"] for b in high["data"] for r in b["results"])
    assert sum(r["num_requests"] for b in both["data"] for r in b["results"]) == low_n + high_n
    store = sb.data.catalog.openai_vector_stores[1][0]
    searches = usage(
        openai,
        "file_search_calls",
        start_time=WEEK_START,
        limit=7,
        vector_store_ids=store,
        group_by="vector_store_id",
    )
    assert {r["vector_store_id"] for b in searches["data"] for r in b["results"]} == {store}


# ------------------------------------------------------------------------------------ paging


def test_pagination_walks_every_bucket_once(openai: httpx.Client) -> None:
    start = YESTERDAY - 2 * 86400
    query = {"start_time": start, "end_time": TODAY + 6 * 3600, "bucket_width": "1h", "limit": 20}
    pages = [usage(openai, "embeddings", **query)]
    while pages[-1]["has_more"]:
        pages.append(usage(openai, "embeddings", **query, page=pages[-1]["next_page"]))
    assert len(pages) == 4  # 78 buckets in pages of 20
    starts = [b["start_time"] for p in pages for b in p["data"]]
    assert starts == list(range(start, TODAY + 6 * 3600, 3600))
    assert pages[-1]["next_page"] is None
    whole = usage(openai, "embeddings", **{**query, "limit": 78})
    assert [b for p in pages for b in p["data"]] == whole["data"]


def test_cursor_from_another_query_is_400(openai: httpx.Client) -> None:
    first = usage(openai, "completions", start_time=WEEK_START, limit=2)
    other = openai.get(
        "/organization/usage/completions",
        params={
            "start_time": WEEK_START,
            "limit": 2,
            "group_by": "model",
            "page": first["next_page"],
        },
    )
    assert error_of(other, 400)["code"] == "invalid_cursor"
    elsewhere = openai.get(
        "/organization/usage/embeddings",
        params={"start_time": WEEK_START, "limit": 2, "page": first["next_page"]},
    )
    assert error_of(elsewhere, 400)["param"] == "page"


# ------------------------------------------------------------------------------------ costs


def test_costs_shape_and_exact_money(openai: httpx.Client) -> None:
    response = openai.get(
        "/organization/costs",
        params={"start_time": WEEK_START, "limit": 7, "group_by": ["line_item", "project_id"]},
    )
    assert response.status_code == 200
    text = response.text
    assert not re.search(r":-?[0-9.]+[eE]", text), "numbers are plain decimals"
    body = json.loads(text, parse_float=Decimal)
    results = [r for b in body["data"] for r in b["results"]]
    assert len(results) > 50
    for r in results:
        assert r["object"] == "organization.costs.result"
        assert set(r) == {
            "object",
            "amount",
            "line_item",
            "project_id",
            "api_key_id",
            "quantity",
            "quantity_unit",
        }
        assert r["amount"]["currency"] == "usd"
        value = r["amount"]["value"]
        assert isinstance(value, (int, Decimal))
        assert Decimal(value).as_tuple().exponent >= -6  # type: ignore[operator]
        assert Decimal(repr(float(value))) == value, "a float parse keeps the exact decimal"
        assert r["api_key_id"] is None
        assert r["quantity"] is not None and r["quantity_unit"] is not None
        assert ", " in r["line_item"]


def test_costs_match_the_ground_truth_exactly(sb: Sandbox, openai: httpx.Client) -> None:
    body = json.loads(
        openai.get("/organization/costs", params={"start_time": WEEK_START, "limit": 7}).text,
        parse_float=Decimal,
    )
    for bucket in body["data"]:
        (result,) = bucket["results"]
        assert result["line_item"] is None and result["quantity"] is None
        start = bucket["start_time"]
        truth = sb.data.openai_cost_totals(start, start + 86400)[()]
        assert Decimal(result["amount"]["value"]) == truth
    by_key = openai.get(
        "/organization/costs",
        params={"start_time": YESTERDAY, "limit": 1, "group_by": "api_key_id"},
    ).json()
    keys = {r["api_key_id"] for r in by_key["data"][0]["results"]}
    assert None in keys and len(keys) > 3


def test_grouped_costs_add_up_to_ungrouped(openai: httpx.Client) -> None:
    def totals(group_by: list[str]) -> dict[int, Decimal]:
        page = json.loads(
            openai.get(
                "/organization/costs",
                params={"start_time": WEEK_START, "limit": 7, "group_by": group_by},
            ).text,
            parse_float=Decimal,
        )
        return {
            b["start_time"]: sum((Decimal(r["amount"]["value"]) for r in b["results"]), Decimal(0))
            for b in page["data"]
        }

    plain = totals([])
    assert all(v > 0 for v in plain.values())
    for group_by in (["project_id"], ["line_item"], ["api_key_id"], ["project_id", "line_item"]):
        assert totals(group_by) == plain


def test_costs_are_tokens_times_prices(openai: httpx.Client) -> None:
    page = usage(
        openai,
        "completions",
        start_time=YESTERDAY,
        limit=1,
        group_by=["model", "batch", "service_tier"],
    )
    costs = json.loads(
        openai.get(
            "/organization/costs",
            params={"start_time": YESTERDAY, "limit": 1, "group_by": "line_item"},
        ).text,
        parse_float=Decimal,
    )
    items = {r["line_item"]: r for r in costs["data"][0]["results"]}
    checked = 0
    for r in page["data"][0]["results"]:
        tier = "batch" if r["batch"] else r["service_tier"]
        prefix = "" if tier == "default" else f"{tier} "
        price = COMPLETION_PRICES[r["model"]]
        tokens = (
            r["input_text_tokens"]
            - r["input_cached_text_tokens"]
            + r["input_image_tokens"]
            - r["input_cached_image_tokens"]
        )
        item = items[f"{r['model']}, {prefix}input"]
        assert item["quantity"] == tokens
        assert item["quantity_unit"] == "tokens"
        expected = Decimal(tokens) * price.input * TIER_MULTIPLIER[tier] / 1_000_000
        # each hourly cost row is rounded to 6 places: at most 24 half-micro-dollars apart
        assert abs(Decimal(item["amount"]["value"]) - expected) <= Decimal("0.000012")
        output = items[f"{r['model']}, {prefix}output"]
        assert output["quantity"] == r["output_text_tokens"] + r["output_image_tokens"]
        checked += 1
    assert checked >= 6
