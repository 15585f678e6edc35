"""Typed buckets and results: published shapes, tolerance to new fields, errors naming fields."""

from __future__ import annotations

import copy
import json
from datetime import timezone
from decimal import Decimal
from typing import Any

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tests.conftest import resolve
from tests.openai._support import ALL_NAMES, Client, endpoint_method, load, path_of, single
from usagekit import (
    OpenAIBucket,
    OpenAICompletionsResult,
    OpenAICostsResult,
    OpenAIPage,
    OpenAIResult,
    OpenAIVectorStoresResult,
    ResponseValidationError,
)
from usagekit._core.transport import decode_body
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

START = 1730419200

# The class of each endpoint's result and its documented required numeric fields.
RESULT_CLASSES = {
    "completions": ("OpenAICompletionsResult", ("input_tokens", "output_tokens")),
    "embeddings": ("OpenAIEmbeddingsResult", ("input_tokens", "num_model_requests")),
    "moderations": ("OpenAIModerationsResult", ("input_tokens", "num_model_requests")),
    "images": ("OpenAIImagesResult", ("images", "num_model_requests")),
    "audio_speeches": ("OpenAIAudioSpeechesResult", ("characters", "num_model_requests")),
    "audio_transcriptions": ("OpenAIAudioTranscriptionsResult", ("seconds", "num_model_requests")),
    "vector_stores": ("OpenAIVectorStoresResult", ("usage_bytes",)),
    "code_interpreter_sessions": ("OpenAICodeInterpreterSessionsResult", ("num_sessions",)),
    "file_search_calls": ("OpenAIFileSearchCallsResult", ("num_requests",)),
    "web_search_calls": ("OpenAIWebSearchCallsResult", ("num_model_requests", "num_requests")),
    "costs": ("OpenAICostsResult", ()),
}


def _parse(name: str, body: Any) -> OpenAIPage[Any]:
    endpoint = ENDPOINTS_BY_NAME[name]
    page: OpenAIPage[Any] = decode_body(
        json.dumps(body).encode(),
        endpoint.page_type,
        provider="openai",
        endpoint=endpoint.qualified_name,
    )
    return page


@pytest.mark.parametrize("name", ALL_NAMES)
def test_published_examples_parse(name: str) -> None:
    body = load("published", name)
    page = _parse(name, body)
    assert page.has_more == body["has_more"]
    assert page.next_page == body["next_page"]
    (bucket,) = page.data
    assert bucket.start_time.tzinfo is timezone.utc
    assert bucket.start_time.timestamp() == 1730419200
    assert bucket.end_time.timestamp() == 1730505600
    (result,) = bucket.results
    assert type(result).__name__ == RESULT_CLASSES[name][0]
    raw = body["data"][0]["results"][0]
    for field in RESULT_CLASSES[name][1]:
        assert getattr(result, field) == raw[field]


def test_completions_example_fields() -> None:
    page = _parse("completions", load("published", "completions"))
    result = page.data[0].results[0]
    assert isinstance(result, OpenAICompletionsResult)
    assert (result.input_tokens, result.input_cached_tokens, result.num_model_requests) == (
        1000,
        400,
        5,
    )
    assert result.output_image_tokens == 50
    assert result.batch is None
    assert page.next_page == "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="


def test_cost_amounts_are_exact_decimals() -> None:
    page = _parse("costs", load("pages", "costs"))
    values = [r.amount.value for b in page.data for r in b.results]
    assert values == [Decimal("0.06"), Decimal("0.1"), Decimal("0.2")]
    assert all(isinstance(v, Decimal) for v in values)
    assert str(values[0]) == "0.06"
    assert sum(values, Decimal(0)) == Decimal("0.36")
    quantities = [r.quantity for b in page.data for r in b.results]
    assert quantities == [None, Decimal("40000"), Decimal("20.5")]


def test_cost_amount_from_a_python_float_is_exact() -> None:
    result = OpenAICostsResult.model_validate(
        {"object": "organization.costs.result", "amount": {"value": 0.1, "currency": "usd"}}
    )
    assert result.amount is not None
    assert result.amount.value == Decimal("0.1")


def test_unknown_fields_are_kept_everywhere() -> None:
    body = load("published", "completions")
    body["request_id_hint"] = "x"
    body["data"][0]["granularity"] = "day"
    body["data"][0]["results"][0]["input_video_tokens"] = 7
    body["data"][0]["results"][0]["region"] = {"name": "eu"}
    page = _parse("completions", body)
    assert page.model_extra == {"request_id_hint": "x"}
    assert page.data[0].model_extra == {"granularity": "day"}
    extra = {"input_video_tokens": 7, "region": {"name": "eu"}}
    assert page.data[0].results[0].model_extra == extra


@pytest.mark.parametrize("name", ALL_NAMES)
def test_missing_optional_fields_pass(name: str) -> None:
    raw = load("published", name)["data"][0]["results"][0]
    required = {"object", *RESULT_CLASSES[name][1]}
    if name == "completions":
        required |= {"num_model_requests"}
    minimal = {k: v for k, v in raw.items() if k in required}
    body = {
        "data": [{"start_time": START, "end_time": START + 86400, "results": [minimal]}],
        "has_more": False,
    }
    page = _parse(name, body)
    result = page.data[0].results[0]
    assert result.project_id is None
    assert page.next_page is None


def test_older_result_name_is_accepted() -> None:
    body = load("published", "vector_stores")
    bucket = body["data"][0]
    bucket["result"] = bucket.pop("results")
    page = _parse("vector_stores", body)
    (result,) = page.data[0].results
    assert isinstance(result, OpenAIVectorStoresResult)
    assert result.usage_bytes == 1024


@pytest.mark.parametrize(
    ("name", "mutate", "field"),
    [
        ("completions", ("input_tokens", "lots"), "data.0.results.0.input_tokens"),
        ("completions", ("num_model_requests", None), "data.0.results.0.num_model_requests"),
        ("embeddings", ("input_tokens", [1]), "data.0.results.0.input_tokens"),
        ("images", ("images", "two"), "data.0.results.0.images"),
        ("vector_stores", ("usage_bytes", {"n": 1}), "data.0.results.0.usage_bytes"),
        ("web_search_calls", ("num_requests", 1.5), "data.0.results.0.num_requests"),
        ("costs", ("amount", {"value": "abc", "currency": "usd"}), "data.0.results.0.amount.value"),
        (
            "completions",
            ("object", "organization.usage.embeddings.result"),
            "data.0.results.0.object",
        ),
    ],
)
async def test_wrong_type_in_a_required_field_names_endpoint_and_field(
    client: Client, router: respx.MockRouter, name: str, mutate: tuple[str, Any], field: str
) -> None:
    body = single(name)
    key, value = mutate
    body["data"][0]["results"][0][key] = value
    router.get(path_of(name)).respond(json=body, headers={"x-request-id": "req_123"})
    with pytest.raises(ResponseValidationError) as caught:
        await resolve(endpoint_method(client, name)(START))
    error = caught.value
    qualified = name if name == "costs" else f"usage.{name}"
    assert error.endpoint == qualified
    assert error.field == field
    assert error.request_id == "req_123"
    assert qualified in str(error)
    assert field in str(error)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("has_more"), "has_more"),
        (lambda b: b["data"][0].update(start_time="yesterday"), "data.0.start_time"),
        (lambda b: b["data"][0].pop("results"), "data.0.results"),
        (lambda b: b["data"][0].update(end_time=b["data"][0]["start_time"]), "data.0"),
        (lambda b: b.update(data={"a": 1}), "data"),
    ],
)
def test_page_and_bucket_shape_errors_name_the_field(mutate: Any, field: str) -> None:
    body = load("published", "embeddings")
    mutate(body)
    with pytest.raises(ResponseValidationError) as caught:
        _parse("embeddings", body)
    assert caught.value.field == field
    assert caught.value.endpoint == "usage.embeddings"


def test_any_result_is_discriminated_on_object() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(list[OpenAIResult])
    raws = [load("published", name)["data"][0]["results"][0] for name in ALL_NAMES]
    parsed = adapter.validate_python(raws)
    assert [type(r).__name__ for r in parsed] == [RESULT_CLASSES[n][0] for n in ALL_NAMES]
    with pytest.raises(ValidationError):
        adapter.validate_python([{"object": "organization.usage.teleport.result"}])


def test_generic_page_validates_a_published_example() -> None:
    page = OpenAIPage[OpenAIResult].model_validate(load("published", "images"))
    bucket = page.data[0]
    assert isinstance(bucket, OpenAIBucket)
    assert type(bucket.results[0]).__name__ == "OpenAIImagesResult"


def test_models_are_immutable() -> None:
    page = _parse("embeddings", load("published", "embeddings"))
    with pytest.raises(ValidationError):
        page.data[0].results[0].input_tokens = 5


# -- parsing outside input: never anything but a ResponseValidationError --------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _mutations(name: str) -> st.SearchStrategy[dict[str, Any]]:
    base = load("published", name)
    raw = base["data"][0]["results"][0]
    keys = st.sampled_from([*sorted(raw), "start_time", "end_time", "results", "has_more"])

    def apply(key: str, value: Any) -> dict[str, Any]:
        body = copy.deepcopy(base)
        if key in ("start_time", "end_time", "results"):
            body["data"][0][key] = value
        elif key == "has_more":
            body[key] = value
        else:
            body["data"][0]["results"][0][key] = value
        return body

    return st.builds(apply, keys, _json)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(ALL_NAMES), data=st.data())
def test_mutated_pages_parse_or_fail_cleanly(name: str, data: st.DataObject) -> None:
    body = data.draw(_mutations(name))
    failure: ResponseValidationError | None = None
    try:
        page = _parse(name, body)
    except ResponseValidationError as error:
        failure = error
    if failure is None:
        assert len(page.data) == 1
    else:
        assert failure.endpoint in (name, f"usage.{name}")
        assert failure.field


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=64) | _json.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bodies_parse_or_fail_cleanly(body: bytes) -> None:
    failure: ResponseValidationError | None = None
    try:
        page = _parse_bytes("completions", body)
    except ResponseValidationError as error:
        failure = error
    if failure is None:
        assert isinstance(page.has_more, bool)
    else:
        assert failure.endpoint == "usage.completions"


@settings(max_examples=100, deadline=None)
@given(
    value=st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    )
)
def test_cost_values_round_trip_exactly(value: Decimal) -> None:
    text = format(value, "f")
    body = (
        '{"object":"page","has_more":false,"next_page":null,"data":[{"object":"bucket",'
        f'"start_time":{START},"end_time":{START + 86400},"results":[{{"object":'
        f'"organization.costs.result","amount":{{"value":{text},"currency":"usd"}}}}]}}]}}'
    )
    page = _parse_bytes("costs", body.encode())
    amount = page.data[0].results[0].amount
    assert amount is not None
    assert amount.value == value
    assert amount.value.as_tuple() == Decimal(text).as_tuple()


def _parse_bytes(name: str, body: bytes) -> OpenAIPage[Any]:
    endpoint = ENDPOINTS_BY_NAME[name]
    page: OpenAIPage[Any] = decode_body(
        body, endpoint.page_type, provider="openai", endpoint=endpoint.qualified_name
    )
    return page
