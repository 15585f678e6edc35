"""Daramex org-usage analytics of the sandbox, over real HTTP."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from usagekit.analytics import t_quantile
from usagekit.sandbox import Sandbox
from usagekit.sandbox._emulators.daramex._api import project_month_end

UTC = timezone.utc
APRIL = {"from": "2026-04-01T00:00:00Z", "to": "2026-04-15T00:00:00Z"}
"""Two complete weeks of data."""


def body_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["statusCode"] == status
    assert isinstance(body["message"], str)
    return body


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------ auth


def test_auth(sb: Sandbox, http: httpx.Client) -> None:
    path = "/ai/org-usage/heatmap"
    keys = sb.keys
    error_of(http.get(path, params=APRIL), 401)
    error_of(http.get(path, params=APRIL, headers={"Authorization": "Bearer nope"}), 401)
    other = {"Authorization": f"Bearer {keys.daramex_other_token}", "x-org-id": keys.daramex_org_id}
    error_of(http.get(path, params=APRIL, headers=other), 403)
    own = {"Authorization": f"Bearer {keys.daramex_token}", "x-org-id": keys.daramex_org_id}
    assert http.get(path, params=APRIL, headers=own).status_code == 200
    token_only = {"Authorization": f"Bearer {keys.daramex_other_token}"}
    assert http.get(path, params=APRIL, headers=token_only).status_code == 200, (
        "without x-org-id the token's own organization is used"
    )


def test_organizations_have_separate_data(sb: Sandbox, http: httpx.Client) -> None:
    def total(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        body = body_of(http.get("/ai/org-usage/cache-savings", params=APRIL, headers=headers))
        return int(body["totalInputTokens"])

    ours, theirs = total(sb.keys.daramex_token), total(sb.keys.daramex_other_token)
    assert ours != theirs
    truth = sb.data.daramex_events(
        *_window(APRIL), org_id=sb.keys.daramex_other_org_id, source="system"
    )
    assert theirs == sum(e.total_input_tokens for e in truth)


def _window(params: dict[str, str]) -> tuple[datetime, datetime]:
    return at(params["from"]), at(params["to"])


# ------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("time-series", {"to": "2026-04-02T00:00:00Z"}),
        ("time-series", {"from": "2026-04-01T00:00:00Z"}),
        ("heatmap", {"from": "yesterday", "to": "2026-04-02T00:00:00Z"}),
        ("projection", {"from": "2026-04-02T00:00:00Z", "to": "2026-04-02T00:00:00Z"}),
        ("projection", {"from": "2026-04-03T00:00:00Z", "to": "2026-04-02T00:00:00Z"}),
        ("cache-savings", {**APRIL, "source": "everything"}),
        ("time-series", {**APRIL, "granularity": "fortnight"}),
        ("time-series", {**APRIL, "groupBy": "user"}),
        ("time-series", {**APRIL, "timezone": "Mars/Olympus_Mons"}),
        ("heatmap", {**APRIL, "timezone": "Not a zone"}),
        ("model-efficiency", {**APRIL, "limit": "0"}),
        ("model-efficiency", {**APRIL, "limit": "51"}),
        ("model-efficiency", {**APRIL, "limit": "ten"}),
        ("model-efficiency", {**APRIL, "action": "summarize"}),
        (
            "time-series",
            {"from": "2000-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "granularity": "hour"},
        ),
    ],
)
def test_invalid_queries_are_400(
    daramex: httpx.Client, endpoint: str, params: dict[str, str]
) -> None:
    error_of(daramex.get(f"/ai/org-usage/{endpoint}", params=params), 400)


def test_unknown_endpoint_is_404(daramex: httpx.Client) -> None:
    error_of(daramex.get("/ai/org-usage/summary-of-everything", params=APRIL), 404)


# ------------------------------------------------------------------------------ time-series


@pytest.mark.parametrize(
    ("days", "granularity"),
    [
        (1, "hour"),
        (7, "hour"),
        (8, "day"),
        (90, "day"),
        (91, "week"),
        (365, "week"),
        (366, "month"),
    ],
)
def test_auto_granularity(daramex: httpx.Client, days: int, granularity: str) -> None:
    end = datetime(2026, 4, 15, tzinfo=UTC)
    params = {"from": (end - timedelta(days=days)).isoformat(), "to": end.isoformat()}
    body = body_of(daramex.get("/ai/org-usage/time-series", params=params))
    assert body["granularity"] == granularity
    assert body["timezone"] == "UTC"


def test_time_series_totals_and_series(sb: Sandbox, daramex: httpx.Client) -> None:
    params = {**APRIL, "granularity": "day", "groupBy": "action"}
    body = body_of(daramex.get("/ai/org-usage/time-series", params=params))
    buckets = body["buckets"]
    assert len(buckets) == 14
    assert buckets[0]["bucket"] == "2026-04-01T00:00:00.000Z"
    for bucket in buckets:
        series = bucket["series"]
        assert set(series) <= {
            "user_interaction",
            "guardrail_check",
            "title_generation",
            "rag_query_embedding",
            "document_indexing",
        }
        assert sum(v["totalTokens"] for v in series.values()) == bucket["totalTokens"]
        assert sum(Decimal(v["totalCostUsd"]) for v in series.values()) == Decimal(
            bucket["totalCostUsd"]
        )
    tokens, cost = sb.data.daramex_totals(*_window(APRIL))
    assert sum(b["totalTokens"] for b in buckets) == tokens
    assert sum(Decimal(b["totalCostUsd"]) for b in buckets) == cost

    plain = body_of(
        daramex.get("/ai/org-usage/time-series", params={**APRIL, "granularity": "day"})
    )
    assert all("series" not in b for b in plain["buckets"])
    by_model = body_of(
        daramex.get(
            "/ai/org-usage/time-series", params={**APRIL, "groupBy": "model", "source": "byok"}
        )
    )
    models = {m for b in by_model["buckets"] for m in b["series"]}
    assert "anthropic/claude-sonnet-4" in models


def test_source_filters_token_pools(sb: Sandbox, daramex: httpx.Client) -> None:
    totals = {}
    for source in ("system", "byok", "all"):
        body = body_of(
            daramex.get(
                "/ai/org-usage/time-series",
                params={**APRIL, "granularity": "week", "source": source},
            )
        )
        totals[source] = sum(b["totalTokens"] for b in body["buckets"])
    assert totals["system"] + totals["byok"] == totals["all"]
    assert totals["byok"] > 0
    assert totals["byok"] == sb.data.daramex_totals(*_window(APRIL), source="byok")[0]


def test_day_buckets_follow_local_midnight_across_dst(daramex: httpx.Client) -> None:
    params = {
        "from": "2026-03-06T05:00:00Z",
        "to": "2026-03-11T04:00:00Z",
        "granularity": "day",
        "timezone": "America/New_York",
    }
    body = body_of(daramex.get("/ai/org-usage/time-series", params=params))
    assert body["timezone"] == "America/New_York"
    starts = [b["bucket"] for b in body["buckets"]]
    assert starts == [
        "2026-03-06T05:00:00.000Z",
        "2026-03-07T05:00:00.000Z",
        "2026-03-08T05:00:00.000Z",  # DST starts during this day: it lasts 23 hours
        "2026-03-09T04:00:00.000Z",
        "2026-03-10T04:00:00.000Z",
    ]


def test_hour_buckets_keep_the_repeated_hour_of_a_fall_back(daramex: httpx.Client) -> None:
    params = {
        "from": "2025-11-02T03:00:00Z",
        "to": "2025-11-02T08:00:00Z",
        "granularity": "hour",
        "timezone": "America/New_York",
    }
    body = body_of(daramex.get("/ai/org-usage/time-series", params=params))
    starts = [at(b["bucket"]) for b in body["buckets"]]
    assert len(starts) == 5  # 23:00, 00:00, 01:00 EDT, 01:00 EST, 02:00 EST
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(starts))
    local = [s.astimezone(ZoneInfo("America/New_York")).hour for s in starts]
    assert local == [23, 0, 1, 1, 2]


def test_week_buckets_start_on_local_mondays(daramex: httpx.Client) -> None:
    params = {**APRIL, "granularity": "week", "timezone": "Europe/Berlin"}
    body = body_of(daramex.get("/ai/org-usage/time-series", params=params))
    starts = [at(b["bucket"]).astimezone(ZoneInfo("Europe/Berlin")) for b in body["buckets"]]
    assert [s.weekday() for s in starts] == [0, 0, 0]
    assert all((s.hour, s.minute) == (0, 0) for s in starts)
    assert starts[0].date() == date(2026, 3, 30)


def test_half_hour_zone_buckets_and_sums(sb: Sandbox, daramex: httpx.Client) -> None:
    params = {
        "from": "2026-04-13T00:00:00Z",
        "to": "2026-04-14T00:00:00Z",
        "granularity": "hour",
        "timezone": "Asia/Kolkata",
    }
    body = body_of(daramex.get("/ai/org-usage/time-series", params=params))
    starts = [at(b["bucket"]) for b in body["buckets"]]
    assert starts[0] == datetime(2026, 4, 12, 23, 30, tzinfo=UTC)
    assert all(s.minute == 30 for s in starts)
    assert len(starts) == 25
    events = sb.data.daramex_events(*_window(params))
    expected: dict[datetime, int] = defaultdict(int)
    for event in events:
        moment = datetime.fromtimestamp(event.ts, UTC)
        start = moment.replace(minute=30, second=0) - timedelta(
            hours=1 if moment.minute < 30 else 0
        )
        expected[start] += event.total_tokens
    served = {
        s: b["totalTokens"]
        for s, b in zip(starts, body["buckets"], strict=True)
        if b["totalTokens"]
    }
    assert served == dict(expected)


def test_month_buckets(daramex: httpx.Client) -> None:
    params = {"from": "2025-12-20T00:00:00Z", "to": "2026-04-15T00:00:00Z", "granularity": "month"}
    body = body_of(daramex.get("/ai/org-usage/time-series", params=params))
    assert [b["bucket"][:10] for b in body["buckets"]] == [
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
        "2026-04-01",
    ]


# ------------------------------------------------------------------------------ heatmap


def test_heatmap_is_sparse_and_sums_to_the_window(sb: Sandbox, daramex: httpx.Client) -> None:
    params = {"from": "2026-04-12T00:00:00Z", "to": "2026-04-13T00:00:00Z"}  # a Sunday (UTC)
    body = body_of(daramex.get("/ai/org-usage/heatmap", params=params))
    assert body["timezone"] == "UTC"
    cells = body["cells"]
    assert 0 < len(cells) < 24
    assert {c["dayOfWeek"] for c in cells} == {0}, "0 is Sunday"
    assert all(c["totalTokens"] > 0 for c in cells)
    tokens, cost = sb.data.daramex_totals(*_window(params))
    assert sum(c["totalTokens"] for c in cells) == tokens
    assert sum(Decimal(c["totalCostUsd"]) for c in cells) == cost


def test_heatmap_uses_wall_clock_hours_of_the_zone(sb: Sandbox, daramex: httpx.Client) -> None:
    params = {**APRIL, "timezone": "Asia/Kolkata"}
    body = body_of(daramex.get("/ai/org-usage/heatmap", params=params))
    expected: dict[tuple[int, int], int] = defaultdict(int)
    for event in sb.data.daramex_events(*_window(APRIL)):
        local = datetime.fromtimestamp(event.ts, UTC) + timedelta(hours=5, minutes=30)
        expected[(int(local.strftime("%w")), local.hour)] += event.total_tokens
    assert {(c["dayOfWeek"], c["hour"]): c["totalTokens"] for c in body["cells"]} == expected
    assert len(body["cells"]) < 7 * 24, "quiet hours are omitted"


# ------------------------------------------------------------------------------ projection


def test_projection_needs_seven_days_of_data(daramex: httpx.Client) -> None:
    params = {"from": "2026-04-10T00:00:00Z", "to": "2026-04-13T00:00:00Z"}
    body = body_of(daramex.get("/ai/org-usage/projection", params=params))
    assert body == {"status": "insufficient_data", "minDaysRequired": 7, "daysAvailable": 3}
    before = {"from": "2020-01-01T00:00:00Z", "to": "2020-02-01T00:00:00Z"}
    empty = body_of(daramex.get("/ai/org-usage/projection", params=before))
    assert empty["daysAvailable"] == 0


def test_projection_to_month_end(sb: Sandbox, daramex: httpx.Client) -> None:
    params = {"from": "2026-04-01T00:00:00Z", "to": "2026-04-30T23:59:59Z"}
    body = body_of(daramex.get("/ai/org-usage/projection", params=params))
    assert body["status"] == "ok"
    assert body["confidencePct"] == 80
    actual = sb.data.daramex_totals("2026-04-01T00:00:00Z", "2026-04-30T23:59:59Z")[1]
    assert abs(Decimal(body["actual"]) - actual) < Decimal("0.000001")
    assert body["lowerBound"] <= body["projected"] <= body["upperBound"]
    assert body["projected"] > body["actual"], "half of April is still to come"
    assert body["upperBound"] > body["projected"]


def test_projection_formula_on_a_perfect_line() -> None:
    first = date(2026, 4, 1)
    daily = {first + timedelta(days=i): Decimal(2 + i) for i in range(10)}  # y = 2 + x
    body = project_month_end(daily, first, date(2026, 4, 10), date(2026, 4, 30))
    actual = sum(2 + i for i in range(10))
    future = sum(2 + x for x in range(10, 30))  # April 11..30
    assert body["actual"] == actual
    assert body["projected"] == pytest.approx(actual + future)
    assert body["lowerBound"] == pytest.approx(actual + future)  # no residuals: no spread
    assert body["upperBound"] == pytest.approx(actual + future)


def test_projection_interval_widens_with_noise() -> None:
    first = date(2026, 4, 1)
    daily = {first + timedelta(days=i): Decimal(10 + (3 if i % 2 else -3)) for i in range(8)}
    body = project_month_end(daily, first, date(2026, 4, 8), date(2026, 4, 30))
    # slope ~ 0.43 from the alternating pattern, so the center is the fitted line summed
    xs = list(range(8))
    ys = [10 + (3 if i % 2 else -3) for i in xs]
    mx, my = sum(xs) / 8, sum(ys) / 8
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    center = sum(my + slope * (x - mx) for x in range(8, 30))
    assert body["projected"] == pytest.approx(sum(ys) + center, abs=1e-5)
    half_width = body["upperBound"] - body["projected"]
    assert body["projected"] - body["lowerBound"] == pytest.approx(half_width, abs=1e-5)
    assert half_width > 10


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 3.077684), (5, 1.475884), (10, 1.372184), (30, 1.310415), (200, 1.285799)],
)
def test_student_t_quantile(df: int, expected: float) -> None:
    assert t_quantile(0.9, df) == pytest.approx(expected, abs=1e-6)
    assert t_quantile(0.1, df) == pytest.approx(-expected, abs=1e-6)


# ------------------------------------------------------------------------------ models, cache


def test_model_efficiency(sb: Sandbox, daramex: httpx.Client) -> None:
    body = body_of(daramex.get("/ai/org-usage/model-efficiency", params=APRIL))
    costs = [Decimal(m["totalCostUsd"]) for m in body]
    assert costs == sorted(costs, reverse=True)
    assert len(body) == 6
    by_id = {m["modelId"]: m for m in body}
    for model in ("openai/text-embedding-3-small", "voyage/voyage-3-lite"):
        assert by_id[model]["avgLatencyMs"] is None
        assert by_id[model]["p95LatencyMs"] is None
    sonnet = by_id["anthropic/claude-sonnet-4"]
    assert 0 < sonnet["avgLatencyMs"] < sonnet["p95LatencyMs"]
    events = [e for e in sb.data.daramex_events(*_window(APRIL)) if e.model == sonnet["modelId"]]
    assert sonnet["executionsCount"] == len(events)
    assert sonnet["totalTokens"] == sum(e.total_tokens for e in events)
    assert Decimal(sonnet["totalCostUsd"]) == sum((e.cost_usd for e in events), Decimal(0))
    latencies = [e.latency_ms for e in events if e.latency_ms is not None]
    assert float(sonnet["avgLatencyMs"]) == pytest.approx(sum(latencies) / len(latencies), abs=0.05)

    top = body_of(daramex.get("/ai/org-usage/model-efficiency", params={**APRIL, "limit": "2"}))
    assert top == body[:2]
    rag = body_of(
        daramex.get(
            "/ai/org-usage/model-efficiency", params={**APRIL, "action": "rag_query_embedding"}
        )
    )
    assert [m["modelId"] for m in rag] == ["openai/text-embedding-3-small"]


def test_cache_savings(sb: Sandbox, daramex: httpx.Client) -> None:
    body = body_of(daramex.get("/ai/org-usage/cache-savings", params=APRIL))
    system = sb.data.daramex_events(*_window(APRIL), source="system")
    assert body["totalInputTokens"] == sum(e.total_input_tokens for e in system)
    assert body["totalCacheReadTokens"] == sum(e.cache_read_tokens for e in system)
    rate = body["totalCacheReadTokens"] / body["totalInputTokens"]
    assert float(body["hitRate"]) == pytest.approx(rate)
    assert 0 < body["hitRate"] < 1
    assert body["skippedModelsCount"] == 1  # meta/llama-3.3-70b has no pricing row
    assert body["estimatedSavingsUsd"] > 0
    byok = body_of(daramex.get("/ai/org-usage/cache-savings", params={**APRIL, "source": "byok"}))
    assert byok["totalCacheReadTokens"] == 0
    assert byok["estimatedSavingsUsd"] == 0
    assert byok["hitRate"] == 0
    every = body_of(daramex.get("/ai/org-usage/cache-savings", params={**APRIL, "source": "all"}))
    assert every["totalInputTokens"] == body["totalInputTokens"] + byok["totalInputTokens"]
