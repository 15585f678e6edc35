"""model_efficiency and budget."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from usagekit import ConfigError, UsageRecord
from usagekit.analytics import budget, model_efficiency, projection

from ._helpers import UTC, at, record

START = "2026-05-04T10:00Z"


def model_records() -> list[UsageRecord]:
    return [
        record(START, model="gpt-4o", metric="input_tokens", quantity=600_000),
        record(START, model="gpt-4o", metric="output_tokens", quantity=400_000),
        record(START, model="gpt-4o", metric="input_cached_tokens", quantity=300_000),
        record(START, model="gpt-4o", metric="num_model_requests", quantity=120, unit="requests"),
        record(START, model="gpt-4o", metric="cost", quantity="7.50"),
        record(START, model="o3", metric="input_tokens", quantity=250_000),
        record(START, model="o3", metric="num_model_requests", quantity=10, unit="requests"),
        record(START, model="o3", metric="cost", quantity="12.00"),
        record(
            START,
            provider="daramex",
            source="time_series",
            model="anthropic/claude-sonnet-4",
            metric="total_tokens",
            quantity=2_000_000,
        ),
        record(
            START,
            provider="daramex",
            source="time_series",
            model="anthropic/claude-sonnet-4",
            metric="executions",
            quantity=30,
            unit="executions",
        ),
        record(START, model="dall-e-3", metric="images", quantity=4, unit="images"),
        record(START, model="dall-e-3", metric="num_model_requests", quantity=4, unit="requests"),
        record(START, model="dall-e-3", metric="cost", quantity="0.16"),
        record(START, model="web", metric="num_requests", quantity=99, unit="requests"),
        record(START, metric="cost", quantity="100"),  # no model: not attributed to any
    ]


def test_per_model_cost_tokens_requests_by_cost() -> None:
    rows = [
        (e.model, e.cost, e.tokens, e.requests, e.cost_per_million_tokens)
        for e in model_efficiency(model_records())
    ]
    assert rows == [
        ("o3", Decimal("12.00"), Decimal(250_000), Decimal(10), Decimal("48")),
        ("gpt-4o", Decimal("7.50"), Decimal(1_000_000), Decimal(120), Decimal("7.5")),
        ("dall-e-3", Decimal("0.16"), Decimal(0), Decimal(4), None),
        ("anthropic/claude-sonnet-4", Decimal(0), Decimal(2_000_000), Decimal(30), Decimal(0)),
    ]  # "web" has only tool calls (num_requests): nothing counted, so no entry
    assert {e.currency for e in model_efficiency(model_records())} == {"USD"}


@pytest.mark.parametrize(("limit", "count"), [(1, 1), (2, 2), (20, 4)])
def test_limit(limit: int, count: int) -> None:
    entries = model_efficiency(model_records(), limit=limit)
    assert len(entries) == count and entries[0].model == "o3"


@pytest.mark.parametrize("limit", [0, -1, True, 2.5, "3"])
def test_bad_limit(limit: Any) -> None:
    with pytest.raises(ConfigError, match="limit must be a positive integer"):
        model_efficiency(model_records(), limit=limit)


def test_efficiency_needs_one_currency() -> None:
    records = [*model_records(), record(START, model="o3", metric="cost", quantity=1, unit="EUR")]
    with pytest.raises(ConfigError, match="several currencies"):
        model_efficiency(records)
    (top, *_) = model_efficiency(records, currency="EUR")
    assert (top.model, top.cost, top.currency) == ("o3", Decimal(1), "EUR")
    assert model_efficiency([]) == []


def month_of_spend(days: int, amount: str = "10", first: date = date(2026, 5, 1)) -> list[Any]:
    records = []
    for index in range(days):
        day = first + timedelta(days=index)
        start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        records.append(record(start, metric="cost", quantity=Decimal(amount) + index))
    return records


@pytest.mark.parametrize(
    ("limit", "over_budget", "exceeded"),
    [("100", True, True), ("500", True, False), ("100000", False, False)],
)
def test_budget_uses_the_projection(limit: str, over_budget: bool, exceeded: bool) -> None:
    records = month_of_spend(10)
    now = "2026-05-10T18:00Z"
    check = budget(records, limit=limit, now=now)
    expected = projection(records, period_end="2026-06-01", now=now)
    assert check.projection == expected and expected.projected is not None
    assert check.spent == sum((r.quantity for r in records), Decimal(0)) == Decimal(145)
    assert check.projected == expected.projected
    assert check.period_start == datetime(2026, 5, 1, tzinfo=UTC)
    assert check.period_end == datetime(2026, 6, 1, tzinfo=UTC)
    assert (check.over_budget, check.exceeded) == (over_budget, exceeded)
    assert check.remaining == Decimal(limit) - Decimal(145)
    assert check.currency == "USD" and check.limit == Decimal(limit)


def test_budget_counts_only_the_current_period() -> None:
    records = month_of_spend(30, first=date(2026, 4, 1)) + month_of_spend(3)
    check = budget(records, limit=50, now="2026-05-03T12:00Z")
    assert check.spent == Decimal(33)
    assert check.projection.status == "insufficient_data"
    assert check.projected == Decimal(33) and check.over_budget is False
    assert budget(records, limit=32, now="2026-05-03T12:00Z").over_budget is True


@pytest.mark.parametrize(
    ("period", "zone", "start", "end"),
    [
        ("day", "UTC", "2026-05-03T00:00Z", "2026-05-04T00:00Z"),
        ("week", "UTC", "2026-04-27T00:00Z", "2026-05-04T00:00Z"),  # Monday to Monday
        ("month", "Europe/Berlin", "2026-04-30T22:00Z", "2026-05-31T22:00Z"),
    ],
)
def test_budget_periods(period: Any, zone: str, start: str, end: str) -> None:
    check = budget([], limit=1, period=period, now="2026-05-03T12:00Z", timezone=zone)
    assert (check.period_start, check.period_end) == (at(start), at(end))
    assert check.spent == 0 and check.currency is None and check.over_budget is False


def test_a_record_straddling_the_period_is_refused() -> None:
    straddling = record("2026-04-20T00:00Z", "2026-05-20T00:00Z", metric="cost", quantity=5)
    with pytest.raises(ConfigError, match="month boundary"):
        budget([straddling], limit=10, now="2026-05-03T12:00Z")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": -1}, "non-negative"),
        ({"limit": "ten"}, "must be a number"),
        ({"limit": float("nan")}, "finite"),
        ({"limit": None}, "must be a number"),
        ({"limit": 1, "period": "year"}, "period must be one of"),
        ({"limit": 1, "now": "yesterday"}, "ISO-8601"),
    ],
)
def test_bad_budget_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        budget([], **kwargs)
