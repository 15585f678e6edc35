"""Normalized records: hand-computed totals per endpoint, units, kinds, dimensions, ids."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

import usagekit
from tests.conftest import resolve
from tests.openai._support import ALL_NAMES, USAGE_NAMES, Client, load, params_of, path_of
from usagekit import LEVEL, PermissionDeniedError, ResponseValidationError, UsageRecord
from usagekit._core.clock import month_start
from usagekit._core.transport import decode_body
from usagekit._providers.openai import bucket_records, page_records
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

START = datetime(2024, 11, 1, tzinfo=timezone.utc)
END = datetime(2024, 11, 3, tzinfo=timezone.utc)

# Hand-computed from tests/openai/fixtures/pages/<endpoint>.json:
# per endpoint, {metric: (total, unit)} and the number of records.
EXPECTED: dict[str, tuple[dict[str, tuple[Decimal, str]], int]] = {
    "completions": (
        {
            "input_tokens": (Decimal(3623), "tokens"),
            "output_tokens": (Decimal(845), "tokens"),
            "num_model_requests": (Decimal(14), "requests"),
            "input_cached_tokens": (Decimal(400), "tokens"),
            "input_cache_write_tokens": (Decimal(100), "tokens"),
            "input_uncached_tokens": (Decimal(500), "tokens"),
            "input_text_tokens": (Decimal(400), "tokens"),
            "output_text_tokens": (Decimal(400), "tokens"),
            "input_cached_text_tokens": (Decimal(300), "tokens"),
            "input_audio_tokens": (Decimal(50), "tokens"),
            "input_cached_audio_tokens": (Decimal(50), "tokens"),
            "output_audio_tokens": (Decimal(50), "tokens"),
            "input_image_tokens": (Decimal(50), "tokens"),
            "input_cached_image_tokens": (Decimal(50), "tokens"),
            "output_image_tokens": (Decimal(50), "tokens"),
        },
        15 + 4 + 3,
    ),
    "embeddings": (
        {
            "input_tokens": (Decimal(1300), "tokens"),
            "num_model_requests": (Decimal(6), "requests"),
        },
        6,
    ),
    "moderations": (
        {"input_tokens": (Decimal(36), "tokens"), "num_model_requests": (Decimal(4), "requests")},
        4,
    ),
    "images": (
        {"images": (Decimal(9), "images"), "num_model_requests": (Decimal(7), "requests")},
        6,
    ),
    "audio_speeches": (
        {
            "characters": (Decimal(1045), "characters"),
            "num_model_requests": (Decimal(4), "requests"),
        },
        4,
    ),
    "audio_transcriptions": (
        {"seconds": (Decimal(105), "seconds"), "num_model_requests": (Decimal(4), "requests")},
        6,
    ),
    "vector_stores": ({"usage_bytes": (Decimal(7168), "bytes")}, 3),
    "code_interpreter_sessions": ({"num_sessions": (Decimal(7), "sessions")}, 3),
    "file_search_calls": ({"num_requests": (Decimal(20), "requests")}, 3),
    "web_search_calls": (
        {
            "num_model_requests": (Decimal(7), "requests"),
            "num_requests": (Decimal(11), "requests"),
        },
        6,
    ),
    "costs": ({"cost": (Decimal("0.36"), "USD")}, 3),
}


def _route_pages(router: respx.MockRouter, names: tuple[str, ...] = ALL_NAMES) -> dict[str, Any]:
    return {name: router.get(path_of(name)).respond(json=load("pages", name)) for name in names}


def _totals(records: list[UsageRecord]) -> dict[str, tuple[Decimal, str]]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    units: dict[str, str] = {}
    for record in records:
        sums[record.metric] += record.quantity
        assert units.setdefault(record.metric, record.unit) == record.unit
    return {metric: (total, units[metric]) for metric, total in sums.items()}


def _raw_totals(body: dict[str, Any]) -> dict[str, Decimal]:
    """Sum every number of every result in a raw page, independently of the mapper."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for bucket in body["data"]:
        for result in bucket["results"]:
            amount = result.get("amount")
            if amount is not None:
                sums["cost"] += Decimal(str(amount["value"]))
            for key, value in result.items():
                if key == "quantity":
                    continue
                if isinstance(value, int) and not isinstance(value, bool):
                    sums[key] += value
    return dict(sums)


def test_expectations_cover_every_endpoint() -> None:
    assert set(EXPECTED) == set(ALL_NAMES)


@pytest.mark.parametrize("name", ALL_NAMES)
async def test_records_per_endpoint_match_hand_computed_totals(
    client: Client, router: respx.MockRouter, name: str
) -> None:
    routes = _route_pages(router, (name,))
    records: list[UsageRecord] = await resolve(client.records(START, END, sources=[name]))

    totals, count = EXPECTED[name]
    assert _totals(records) == totals
    assert len(records) == count
    assert _totals(records) == {
        metric: (total, totals[metric][1])
        for metric, total in _raw_totals(load("pages", name)).items()
    }
    assert routes[name].call_count == 1
    assert {r.provider for r in records} == {"openai"}
    assert {r.source for r in records} == {name}
    assert len({r.id for r in records}) == len(records)
    for record in records:
        assert record.id == record.compute_id()
        assert record.kind == (LEVEL if record.metric == "usage_bytes" else "flow")
        assert record.start.tzinfo is timezone.utc
        assert record.end - record.start == (END - START) / 2
        assert isinstance(record.quantity, Decimal)


async def test_all_sources_in_one_stream(client: Client, router: respx.MockRouter) -> None:
    routes = _route_pages(router)
    records: list[UsageRecord] = await resolve(client.records(START, END))
    assert [r.source for r in records] == sorted(
        (r.source for r in records), key=list(ALL_NAMES).index
    )
    assert Counter(r.source for r in records) == {
        name: count for name, (_, count) in EXPECTED.items()
    }
    assert all(route.call_count == 1 for route in routes.values())
    assert len({r.id for r in records}) == len(records)


async def test_same_response_twice_gives_the_same_ids(
    client: Client, router: respx.MockRouter
) -> None:
    _route_pages(router)
    first = await resolve(client.records(START, END))
    second = await resolve(client.records(START, END))
    assert [r.id for r in first] == [r.id for r in second]
    assert first == second


async def test_dimensions_and_attributes(client: Client, router: respx.MockRouter) -> None:
    _route_pages(router)
    records: list[UsageRecord] = await resolve(client.records(START, END))
    by = {(r.source, r.metric, r.start.day, r.model, r.line_item, r.project_id): r for r in records}

    cached = by[("completions", "input_cached_tokens", 1, "gpt-4o-mini", None, "proj_a")]
    assert cached.quantity == 0  # sent as 0, so kept
    assert cached.attributes == {"batch": "true", "service_tier": "flex"}
    assert ("completions", "input_cached_tokens", 2, "gpt-4o", None, "proj_b") not in by

    image = by[("images", "images", 1, "gpt-image-1", None, "proj_abc")]
    assert image.attributes == {"size": "512x512", "source": "image.edit"}
    assert (image.user_id, image.api_key_id) == ("user-abc", "key_abc")

    web = by[("web_search_calls", "num_requests", 1, "gpt-4o", None, None)]
    assert web.attributes == {"context_level": "medium"}

    search = [r for r in records if r.source == "file_search_calls"]
    assert {r.attributes["vector_store_id"] for r in search} == {"vs_abc", "vs_def"}
    assert {r.model for r in search} == {None}

    storage = [r for r in records if r.metric == "usage_bytes"]
    assert {(r.project_id, r.kind) for r in storage} == {("proj_a", LEVEL), ("proj_b", LEVEL)}

    plain = by[("costs", "cost", 1, None, None, None)]
    assert (plain.quantity, plain.unit, plain.attributes) == (Decimal("0.06"), "USD", {})
    assert str(plain.quantity) == "0.06"
    output = by[("costs", "cost", 2, None, "gpt-4o, output", "proj_a")]
    assert output.quantity == Decimal("0.2")
    assert output.attributes == {
        "quantity": "20.5",
        "quantity_unit": "1000_tokens",
        "charge_kind": "output",  # what the line item says, beside the raw line_item
        "charge_model": "gpt-4o",
    }
    assert output.is_cost


async def test_records_ask_for_every_group_by_field_and_pages_of_31_buckets(
    client: Client, router: respx.MockRouter
) -> None:
    routes = _route_pages(router)
    await resolve(client.records(START, END, bucket_width="1h"))
    for name, route in routes.items():
        params = params_of(route.calls.last.request)
        endpoint = ENDPOINTS_BY_NAME[name]
        assert [v for k, v in params if k == "group_by"] == list(endpoint.group_by)
        width = dict(params)["bucket_width"]
        assert width == ("1d" if name == "costs" else "1h")
        assert dict(params)["limit"] == "31"  # grouped: a page sized for ~2,000 results
        assert params[:2] == [("start_time", "1730419200"), ("end_time", "1730592000")]


async def test_records_group_by_is_intersected_per_endpoint(
    client: Client, router: respx.MockRouter
) -> None:
    routes = _route_pages(router)
    await resolve(client.records(START, END, group_by=["model", "line_item"]))
    sent = {
        name: [v for k, v in params_of(route.calls.last.request) if k == "group_by"]
        for name, route in routes.items()
    }
    assert sent["completions"] == ["model"]
    assert sent["images"] == ["model"]
    assert sent["costs"] == ["line_item"]
    assert sent["vector_stores"] == []
    assert sent["file_search_calls"] == []


async def test_records_empty_group_by_asks_for_totals(
    client: Client, router: respx.MockRouter
) -> None:
    routes = _route_pages(router, ("completions",))
    await resolve(client.records(START, END, sources=["completions"], group_by=[]))
    assert "group_by" not in dict(params_of(routes["completions"].calls.last.request))


async def test_records_default_start_is_the_month_start(
    client: Client, router: respx.MockRouter
) -> None:
    empty = {"object": "page", "data": [], "has_more": False, "next_page": None}
    route = router.get(path_of("costs")).respond(json=empty)
    with usagekit.pin_clock("2026-11-20T10:00:00Z"):
        assert await resolve(client.records(sources=["costs"])) == []
    sent = int(dict(params_of(route.calls.last.request))["start_time"])
    assert sent == int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())
    assert "end_time" not in dict(params_of(route.calls.last.request))
    calls = route.call_count
    with usagekit.pin_clock("2026-12-01T00:00:00.400Z"):  # nothing has happened yet this month
        assert await resolve(client.records(sources=["costs"])) == []
    assert route.call_count == calls  # an empty window: no request


def test_month_start() -> None:
    moment = datetime(2026, 2, 17, 13, 5, tzinfo=timezone.utc)
    assert month_start(moment) == datetime(2026, 2, 1, tzinfo=timezone.utc)


async def test_records_stop_at_the_first_error(client: Client, router: respx.MockRouter) -> None:
    router.get(path_of("completions")).respond(json=load("pages", "completions"))
    router.get(path_of("embeddings")).respond(status_code=403, json={"error": {"message": "no"}})
    seen: list[UsageRecord] = []
    stream = client.records(START, END, sources=["completions", "embeddings"])
    with pytest.raises(PermissionDeniedError, match="admin key"):
        await _drain(stream, seen)
    assert len(seen) == EXPECTED["completions"][1]


async def _drain(stream: Any, into: list[UsageRecord]) -> None:
    if hasattr(stream, "__anext__"):
        async for record in stream:
            into.append(record)
    else:
        into.extend(stream)


# -- the mapper alone ------------------------------------------------------------------------


def _decode(name: str, body: dict[str, Any]) -> Any:
    endpoint = ENDPOINTS_BY_NAME[name]
    return decode_body(
        json.dumps(body).encode(),
        endpoint.page_type,
        provider="openai",
        endpoint=endpoint.qualified_name,
    )


@pytest.mark.parametrize(
    ("amount", "fragment"),
    [
        ({"value": 1, "currency": "credits"}, "ISO 4217"),
        ({"value": 1, "currency": None}, "ISO 4217"),
        ({"value": 1, "currency": "us"}, "ISO 4217"),
    ],
)
def test_bad_costs_are_response_errors(amount: dict[str, Any], fragment: str) -> None:
    body = load("pages", "costs")
    body["data"][1]["results"][1]["amount"] = amount
    page = _decode("costs", body)
    with pytest.raises(ResponseValidationError, match=fragment) as caught:
        page_records(ENDPOINTS_BY_NAME["costs"], page)
    assert caught.value.field == "data.1.results.1.amount"
    assert caught.value.endpoint == "costs"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_costs_are_rejected_when_parsed(value: str) -> None:
    text = json.dumps(load("pages", "costs")).replace("0.06", value)
    endpoint = ENDPOINTS_BY_NAME["costs"]
    with pytest.raises(ResponseValidationError) as caught:
        decode_body(text.encode(), endpoint.page_type, provider="openai", endpoint="costs")
    assert caught.value.field == "data.0.results.0.amount.value"


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        (lambda result: result.pop("amount"), "data.1.results.0.amount", "no amount"),
        (lambda result: result.update(amount=None), "data.1.results.0.amount", "no amount"),
        (
            lambda result: result["amount"].pop("value"),
            "data.1.results.0.amount.value",
            "no value",
        ),
        (
            lambda result: result["amount"].update(value=None),
            "data.1.results.0.amount.value",
            "no value",
        ),
    ],
    ids=["amount-missing", "amount-null", "value-missing", "value-null"],
)
def test_a_cost_without_an_amount_is_an_error_never_skipped(
    change: Any, field: str, fragment: str
) -> None:
    body = load("pages", "costs")
    change(body["data"][1]["results"][0])
    page = _decode("costs", body)  # the raw page keeps what was sent, as OpenAI's SDK does
    assert page.data[1].results[0].amount is None or page.data[1].results[0].amount.value is None
    with pytest.raises(ResponseValidationError, match=fragment) as caught:
        page_records(ENDPOINTS_BY_NAME["costs"], page)
    assert (caught.value.field, caught.value.endpoint) == (field, "costs")


def test_a_corrected_cost_quantity_keeps_the_id() -> None:
    body = load("pages", "costs")
    first = page_records(ENDPOINTS_BY_NAME["costs"], _decode("costs", body))
    body["data"][1]["results"][0]["amount"]["value"] = 0.11
    body["data"][1]["results"][0]["quantity"] = 44000
    second = page_records(ENDPOINTS_BY_NAME["costs"], _decode("costs", body))
    assert [r.id for r in first] == [r.id for r in second]
    assert second[1].quantity == Decimal("0.11")


def test_bucket_records_of_one_bucket() -> None:
    page = _decode("vector_stores", load("pages", "vector_stores"))
    records = bucket_records(ENDPOINTS_BY_NAME["vector_stores"], page.data[1])
    assert [(r.project_id, r.quantity) for r in records] == [("proj_a", Decimal(2048))]


_COMPLETIONS_FIELDS = [m.field for m in ENDPOINTS_BY_NAME["completions"].metrics]
_REQUIRED = {"input_tokens", "output_tokens", "num_model_requests"}


@st.composite
def _completions_page(draw: st.DrawFn) -> dict[str, Any]:
    """A page with unique group keys per bucket, random optional fields and dimensions."""
    buckets = []
    for day in range(draw(st.integers(1, 3))):
        keys = draw(
            st.lists(
                st.tuples(
                    st.sampled_from([None, "gpt-4o", "gpt-4o-mini", "o3"]),
                    st.sampled_from([None, "proj_a", "proj_b"]),
                    st.sampled_from([None, True, False]),
                    st.sampled_from([None, "default", "flex"]),
                ),
                unique=True,
                max_size=6,
            )
        )
        results = []
        for model, project, batch, tier in keys:
            result: dict[str, Any] = {
                "object": "organization.usage.completions.result",
                "model": model,
                "project_id": project,
                "batch": batch,
                "service_tier": tier,
            }
            for field in _COMPLETIONS_FIELDS:
                if field in _REQUIRED or draw(st.booleans()):
                    result[field] = draw(st.integers(0, 10**12))
            results.append(result)
        start = 1730419200 + 86400 * day
        buckets.append(
            {"object": "bucket", "start_time": start, "end_time": start + 86400, "results": results}
        )
    return {"object": "page", "data": buckets, "has_more": False, "next_page": None}


@settings(max_examples=60, deadline=None)
@given(body=_completions_page())
def test_completions_invariants(body: dict[str, Any]) -> None:
    endpoint = ENDPOINTS_BY_NAME["completions"]
    records = page_records(endpoint, _decode("completions", body))
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        sums[record.metric] += record.quantity
    assert dict(sums) == _raw_totals(body)
    assert len({r.id for r in records}) == len(records)
    again = page_records(endpoint, _decode("completions", body))
    assert [r.id for r in again] == [r.id for r in records]
    sent = sum(1 for b in body["data"] for r in b["results"] for f in _COMPLETIONS_FIELDS if f in r)
    assert len(records) == sent


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=0, max_value=10**6),
        min_size=1,
        max_size=8,
    )
)
def test_cost_sums_are_exact(values: list[Decimal]) -> None:
    results = ",".join(
        '{"object":"organization.costs.result","amount":{"value":'
        + format(v, "f")
        + ',"currency":"usd"},"line_item":"item '
        + str(i)
        + '"}'
        for i, v in enumerate(values)
    )
    body = (
        '{"object":"page","has_more":false,"next_page":null,"data":[{"object":"bucket",'
        '"start_time":1730419200,"end_time":1730505600,"results":[' + results + "]}]}"
    )
    endpoint = ENDPOINTS_BY_NAME["costs"]
    page = decode_body(body.encode(), endpoint.page_type, provider="openai", endpoint="costs")
    records = page_records(endpoint, page)
    assert sum((r.quantity for r in records), Decimal(0)) == sum(values, Decimal(0))
    assert [r.quantity for r in records] == values


@pytest.mark.parametrize("name", USAGE_NAMES)
def test_zero_fields_not_sent_are_not_invented(name: str) -> None:
    body = load("published", name)
    records = page_records(ENDPOINTS_BY_NAME[name], _decode(name, body))
    raw = body["data"][0]["results"][0]
    sent = {k for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}
    assert {r.metric for r in records} == sent
