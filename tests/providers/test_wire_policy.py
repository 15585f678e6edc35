"""One policy for every provider's numbers: exact money, and which amounts may be negative.

The policy (docs/concepts/records.md): a count, and an amount of money the provider documents
as never negative (spend, usage, savings), is refused when negative, with a
``ResponseValidationError`` naming the field; an amount that is signed by nature (an OpenAI
cost line item, which may be a credit; a remaining quota past its limit; a projection's
bounds) is kept with its sign. Every amount keeps every digit it was sent with.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usagekit import (
    BasedashAIUsage,
    DaramexCacheSavings,
    DaramexHeatmap,
    DaramexModelEfficiency,
    DaramexProjectionOk,
    DaramexTimeSeries,
    OpenAICostsResult,
    OpenAIPage,
    ResponseValidationError,
    UnsiloedUsage,
)
from usagekit._core.transport import decode_body
from usagekit._providers.openai import page_records
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

BASEDASH = {
    "totalUsage": "12.34",
    "billingPeriodStart": "2026-04-01T00:00:00Z",
    "billingPeriodEnd": "2026-05-01T00:00:00Z",
    "memberUsage": [{"userId": "u1", "memberId": "m1", "email": "a@x.io", "usage": "10.00"}],
}
UNSILOED = {
    "org_id": "org_u1",
    "org_name": "Acme Docs",
    "current_usage": "1234.5",
    "usage_limit": "5000",
    "remaining_quota": "3765.5",
    "last_billed_date": "2026-04-10",
}
TIME_SERIES = {
    "granularity": "day",
    "timezone": "UTC",
    "buckets": [
        {
            "bucket": "2026-04-01T00:00:00Z",
            "totalTokens": 10,
            "totalCostUsd": "0.5",
            "series": {"gpt": {"totalTokens": 4, "totalCostUsd": "0.25"}},
        }
    ],
}
HEATMAP = {
    "timezone": "UTC",
    "cells": [{"dayOfWeek": 1, "hour": 9, "totalTokens": 5, "totalCostUsd": "0.154"}],
}
MODELS = [
    {
        "modelId": "m",
        "avgLatencyMs": "10.5",
        "p95LatencyMs": "20",
        "totalCostUsd": "1.05",
        "totalTokens": 7,
        "executionsCount": 3,
    }
]
SAVINGS = {
    "estimatedSavingsUsd": "1.85",
    "hitRate": "0.34",
    "totalCacheReadTokens": 10,
    "totalInputTokens": 30,
    "skippedModelsCount": 0,
}
PROJECTION = {
    "status": "ok",
    "actual": "12.50",
    "projected": "38.75",
    "lowerBound": "32.10",
    "upperBound": "45.40",
    "confidencePct": 80,
}
COSTS = {
    "object": "page",
    "has_more": False,
    "next_page": None,
    "data": [
        {
            "object": "bucket",
            "start_time": 1730419200,
            "end_time": 1730505600,
            "results": [
                {
                    "object": "organization.costs.result",
                    "amount": {"value": "0.06", "currency": "usd"},
                    "quantity": "3",
                }
            ],
        }
    ],
}

# (provider, wire type, body, the field's path, whether a negative value is kept)
FIELDS: list[Any] = [
    ("basedash", BasedashAIUsage, BASEDASH, "totalUsage", False),
    ("basedash", BasedashAIUsage, BASEDASH, "memberUsage.0.usage", False),
    ("unsiloed", UnsiloedUsage, UNSILOED, "current_usage", False),
    ("unsiloed", UnsiloedUsage, UNSILOED, "usage_limit", False),
    ("unsiloed", UnsiloedUsage, UNSILOED, "remaining_quota", True),  # past the limit
    ("daramex", DaramexTimeSeries, TIME_SERIES, "buckets.0.totalTokens", False),
    ("daramex", DaramexTimeSeries, TIME_SERIES, "buckets.0.totalCostUsd", False),
    ("daramex", DaramexTimeSeries, TIME_SERIES, "buckets.0.series.gpt.totalCostUsd", False),
    ("daramex", DaramexTimeSeries, TIME_SERIES, "buckets.0.series.gpt.totalTokens", False),
    ("daramex", DaramexHeatmap, HEATMAP, "cells.0.totalCostUsd", False),
    ("daramex", list[DaramexModelEfficiency], MODELS, "0.totalCostUsd", False),
    ("daramex", list[DaramexModelEfficiency], MODELS, "0.executionsCount", False),
    ("daramex", DaramexCacheSavings, SAVINGS, "estimatedSavingsUsd", False),
    ("daramex", DaramexProjectionOk, PROJECTION, "lowerBound", True),  # a regression's bound
    ("daramex", DaramexProjectionOk, PROJECTION, "actual", True),
    ("openai", OpenAIPage[OpenAICostsResult], COSTS, "data.0.results.0.amount.value", True),
    ("openai", OpenAIPage[OpenAICostsResult], COSTS, "data.0.results.0.quantity", True),
]
IDS = [f"{provider}:{path}" for provider, _, _, path, _ in FIELDS]


def _set(body: Any, path: str, value: Any) -> Any:
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = changed
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return changed


def _get(value: Any, path: str) -> Any:
    """Follow a JSON path through a validated model by its aliases."""
    for part in path.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value[part]
        else:
            names = {info.alias or name: name for name, info in type(value).model_fields.items()}
            value = getattr(value, names.get(part, part))
    return value


def _decode_number(provider: str, type_: Any, body: Any, path: str, number: str) -> Any:
    """Decode ``body`` with the JSON text ``number`` at ``path``, through the transport's own
    parser (numbers with a fraction become exact Decimals)."""
    text = json.dumps(_set(body, path, "\x00")).replace('"\\u0000"', number)
    return decode_body(text.encode(), type_, provider=provider, endpoint="test")


@pytest.mark.parametrize(("provider", "type_", "body", "path", "signed"), FIELDS, ids=IDS)
@pytest.mark.parametrize("number", ["-1", "-0.000001"])
def test_negative_amounts_follow_one_policy(
    provider: str, type_: Any, body: Any, path: str, signed: bool, number: str
) -> None:
    if path.endswith(("Tokens", "Count")) and "." in number:
        number = "-1"  # a count is an integer: a fraction would fail for another reason
    if signed:
        model = _decode_number(provider, type_, body, path, number)
        assert _get(model, path) == Decimal(number)
        return
    with pytest.raises(ResponseValidationError) as caught:
        _decode_number(provider, type_, body, path, number)
    assert caught.value.field == path
    assert caught.value.provider == provider


@pytest.mark.parametrize(("provider", "type_", "body", "path", "signed"), FIELDS, ids=IDS)
@pytest.mark.parametrize("number", ["true", '"lots"', "[1]", "1e5000", "null"])
def test_malformed_numbers_name_their_field(
    provider: str, type_: Any, body: Any, path: str, signed: bool, number: str
) -> None:
    if number == "null" and path.endswith("quantity"):
        return  # OpenAI's billed quantity is documented as optional
    with pytest.raises(ResponseValidationError) as caught:
        _records_or_model(provider, type_, body, path, number)
    assert caught.value.field == path


def _records_or_model(provider: str, type_: Any, body: Any, path: str, number: str) -> Any:
    page = _decode_number(provider, type_, body, path, number)
    if provider == "openai":  # the raw page keeps a null amount; records() refuses it
        return page_records(ENDPOINTS_BY_NAME["costs"], page)
    return page


MONEY = [entry for entry in FIELDS if not entry[3].endswith(("Tokens", "Count"))]


@settings(max_examples=40)
@given(
    entry=st.sampled_from(MONEY),
    digits=st.integers(0, 10**60),
    places=st.integers(0, 50),
)
def test_every_amount_keeps_every_digit(entry: Any, digits: int, places: int) -> None:
    provider, type_, body, path, _ = entry
    number = f"{digits}e-{places}"  # up to 60 significant digits: past a float and 28 digits
    model = _decode_number(provider, type_, body, path, number)
    kept = _get(model, path)
    assert kept == Decimal(number)
    assert kept.as_tuple() == Decimal(number).as_tuple()  # the digits themselves, not a rounding
