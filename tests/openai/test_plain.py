"""Usage pages read without wire models (``_plain.plain_page``) are the exact path's pages.

``records()``' walk reads a usage page plainly (orjson, every declared field checked against
its model's rules) and hands anything else to the exact path (:func:`decode`). The promise:
a page read plainly gives the very records, cursor and ``has_more`` the exact path gives, and
a body the exact path refuses is never read plainly. The property test mutates real pages of
every usage endpoint (fields removed, nulled, retyped, out of range, unknown fields that nest
deep or hold floats, byte-level changes) and checks that promise on each body; the fixed cases
pin that pages as OpenAI sends them do take the plain path.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import resolve
from tests.openai._support import USAGE_NAMES, load
from usagekit import UsageRecord
from usagekit._core._http import Undecoded, decode
from usagekit._core.bounded import MAX_JSON_DEPTH
from usagekit._providers.openai import _plain
from usagekit._providers.openai._models import OpenAIBucket, OpenAIPage
from usagekit._providers.openai._normalize import page_table
from usagekit._providers.openai._plain import PlainPage, plain_page, shape_of
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

UTC = timezone.utc
sandbox_module = pytest.importorskip("usagekit.sandbox")


def _records(name: str, page: Any) -> list[UsageRecord]:
    return list(page_table(ENDPOINTS_BY_NAME[name], page))


def _exact(name: str, body: bytes) -> Any:
    """The exact path's page, or the Undecoded it raised."""
    try:
        return decode(body, ENDPOINTS_BY_NAME[name].page_type)
    except Undecoded as exc:
        return exc


def _same(name: str, body: bytes) -> PlainPage | None:
    """Read ``body`` plainly; when it is, assert it is what the exact path reads."""
    endpoint = ENDPOINTS_BY_NAME[name]
    shape = shape_of(endpoint.result_type)
    assert shape is not None
    plain = _plain._read(body, shape)  # unguarded: a reader that raises fails the test
    if plain is None:
        return None
    exact = _exact(name, body)
    assert not isinstance(exact, Undecoded), f"read plainly, refused exactly: {exact.message}"
    assert (plain.has_more, plain.next_page) == (exact.has_more, exact.next_page)
    assert _records(name, plain) == _records(name, exact)
    return plain


def _bodies() -> Iterator[tuple[str, dict[str, Any]]]:
    for name in USAGE_NAMES:
        for kind in ("pages", "published"):
            yield name, load(kind, name) | {"has_more": True, "next_page": "page_2"}


# ------------------------------------------------------------------ the fixed cases


@pytest.mark.parametrize(("name", "body"), list(_bodies()))
def test_pages_as_openai_sends_them_are_read_plainly_and_give_the_same_records(
    name: str, body: dict[str, Any]
) -> None:
    raw = json.dumps(body).encode()
    assert _same(name, raw) is not None
    assert _records(name, plain_page(ENDPOINTS_BY_NAME[name], raw))  # records, not none


def test_every_usage_model_has_a_shape_and_costs_are_read_by_hand() -> None:
    for name in USAGE_NAMES:
        endpoint = ENDPOINTS_BY_NAME[name]
        shape = shape_of(endpoint.result_type)
        assert shape is not None, name
        assert {m.field for m in endpoint.metrics} <= {*shape.required, *shape.optional}
        assert shape.declared == set(endpoint.result_type.model_fields)
    costs = ENDPOINTS_BY_NAME["costs"]
    assert shape_of(costs.result_type) is None  # see test_plain_costs.py
    assert plain_page(costs, json.dumps(load("pages", "costs")).encode()) is not None


def test_the_page_and_bucket_models_are_what_the_plain_reader_checks() -> None:
    """A field added to the page or bucket model must be taught to ``plain_page`` too."""
    assert set(OpenAIPage[Any].model_fields) == set(_plain._PAGE_FIELDS)
    assert set(OpenAIBucket[Any].model_fields) | {"result"} == set(_plain._BUCKET_FIELDS)


def _completions(**changes: Any) -> bytes:
    body = load("pages", "completions")
    body["data"][0]["results"][0].update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "body",
    [
        _completions(input_tokens=-1),
        _completions(input_tokens=True),
        _completions(input_tokens=1.0),
        _completions(input_tokens="5"),
        _completions(input_tokens=None),
        _completions(input_tokens=2**64),  # orjson reads it as a float
        _completions(input_cached_tokens=-3),
        _completions(project_id=5),
        _completions(batch="yes"),
        _completions(object="organization.usage.embeddings.result"),
        _completions(extra=json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)),
        _completions(model="\ud800"),
        b"\xef\xbb\xbf" + _completions(),  # a UTF-8 byte order mark
        _completions().decode().encode("utf-16"),
        b'{"object": "page", "data": [], "has_more": "false"}',
        b'{"object": "page", "data": {}, "has_more": false}',
        b'{"object": "list", "data": [], "has_more": false}',
        b"[]",
        b"",
    ],
)
def test_anything_unplain_goes_the_exact_way(body: bytes) -> None:
    assert plain_page(ENDPOINTS_BY_NAME["completions"], body) is None


def test_unknown_fields_are_allowed_until_they_nest_too_deep() -> None:
    endpoint = ENDPOINTS_BY_NAME["completions"]
    shallow = json.loads("[" * (MAX_JSON_DEPTH - 6) + "1.5" + "]" * (MAX_JSON_DEPTH - 6))
    assert _same("completions", _completions(extra=shallow, more={"a": 1e300})) is not None
    deep = json.loads("[" * (MAX_JSON_DEPTH - 4) + "]" * (MAX_JSON_DEPTH - 4))
    assert plain_page(endpoint, _completions(extra=deep)) is None
    assert isinstance(_exact("completions", _completions(extra=deep)), Undecoded)


def test_a_field_the_model_does_not_declare_is_never_read_even_if_sent() -> None:
    """A vector store result has no model dimension: one sent is an unknown field, as the
    model keeps it (among its extras), and the record has no model."""
    body = load("pages", "vector_stores")
    for bucket in body["data"]:
        for result in bucket["results"]:
            result["model"] = "gpt-4o"
            result["user_id"] = "user-x"
    plain = _same("vector_stores", json.dumps(body).encode())
    assert plain is not None
    records = _records("vector_stores", plain)
    assert records and all(r.model is None and r.user_id is None for r in records)


def test_results_under_either_name_as_the_model_reads_them() -> None:
    """The API's older revisions named the list ``result``; ``results`` wins when both are."""
    body = load("pages", "completions")
    first = body["data"][0]
    older = copy.deepcopy(body)
    older["data"][0]["result"] = older["data"][0].pop("results")
    assert _same("completions", json.dumps(older).encode()) is not None
    first["result"] = first["results"][:1]
    first["results"] = first["results"][1:] or first["results"]
    plain = _same("completions", json.dumps(body).encode())
    assert plain is not None and plain.data[0].results == first["results"]


def test_without_orjson_every_page_goes_the_exact_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_plain, "_orjson", None)
    assert plain_page(ENDPOINTS_BY_NAME["completions"], _completions()) is None


# ------------------------------------------------------------------ the property

_VALUES = st.sampled_from(
    [
        *(None, True, False, 0, 1, -1, 7, 2**63 - 1, 2**63, 2**64, 10**30, 1.5, 2.0, -0.0, 1e300),
        *("", "x", "5", "\u00e9", "gpt-4.1"),
        *([], {}, [1], {"a": 1.5}),
    ]
)
_FIELDS = sorted(
    {field for name in USAGE_NAMES for field in ENDPOINTS_BY_NAME[name].result_type.model_fields}
    | {"unknown", "start_time", "end_time", "results", "result", "object"}
)


@st.composite
def _mutations(draw: st.DrawFn) -> list[tuple[str, Any]]:
    target = st.sampled_from(["result", "bucket", "page"])
    step = st.one_of(
        st.tuples(st.just("set"), target, st.sampled_from(_FIELDS), _VALUES),
        st.tuples(st.just("drop"), target, st.sampled_from(_FIELDS), st.none()),
        st.tuples(
            st.just("deep"), target, st.integers(MAX_JSON_DEPTH - 8, MAX_JSON_DEPTH + 2), st.none()
        ),
        st.tuples(st.just("swap_times"), st.none(), st.none(), st.none()),
        st.tuples(st.just("rename_results"), st.none(), st.none(), st.none()),
    )
    return draw(st.lists(step, max_size=4))


def _apply(body: dict[str, Any], steps: list[Any], pick: int) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for kind, target, field, value in steps:
        buckets = [b for b in _list(body.get("data")) if isinstance(b, dict)]
        bucket = buckets[pick % len(buckets)] if buckets else {}
        results = [r for r in _list(bucket.get("results")) if isinstance(r, dict)]
        where = {"page": body, "bucket": bucket}.get(
            target, results[pick % len(results)] if results else {}
        )
        if kind == "set":
            where[field] = value
        elif kind == "drop":
            where.pop(field, None)
        elif kind == "deep":
            where["unknown"] = json.loads("[" * field + "]" * field)
        elif kind == "swap_times" and "start_time" in bucket:
            bucket["start_time"], bucket["end_time"] = bucket.get("end_time"), bucket["start_time"]
        elif kind == "rename_results" and "results" in bucket:
            bucket["result"] = bucket.pop("results")
    return body


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(USAGE_NAMES),
    kind=st.sampled_from(["pages", "published"]),
    steps=_mutations(),
    pick=st.integers(0, 50),
    more=st.booleans(),
)
def test_a_page_read_plainly_is_the_exact_paths_page(
    name: str, kind: str, steps: list[Any], pick: int, more: bool
) -> None:
    body = load(kind, name) | {"has_more": more, "next_page": "page_2" if more else None}
    raw = json.dumps(_apply(body, steps, pick)).encode()
    plain = _same(name, raw)
    if not steps:
        assert plain is not None  # an unchanged page is read plainly


# ------------------------------------------------------------------ end to end


NOW = datetime(2026, 11, 15, 12, 34, 56, tzinfo=UTC)


async def test_the_sandbox_gives_the_same_records_with_and_without_the_plain_path(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week of every endpoint over real loopback HTTP, read with the plain path and then
    with every page going the exact way: the same records in the same order."""
    taken: list[bool] = []
    reader = _plain.plain_page

    def counting(endpoint: Any, content: bytes) -> PlainPage | None:
        page = reader(endpoint, content)
        taken.append(page is not None)
        return page

    with sandbox_module.serve(seed=11, now=NOW) as sb:
        start, end = datetime(2026, 11, 8, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC)

        async def fetch() -> list[UsageRecord]:
            client = sb.openai_client() if mode == "sync" else sb.async_openai_client()
            try:
                got: list[UsageRecord] = await resolve(client.records(start, end))
            finally:
                if mode == "async":
                    await client.aclose()
                else:
                    client.close()
            return got

        walk = "_async_walk" if mode == "async" else "_walk"
        module = __import__(f"usagekit._providers.openai.{walk}", fromlist=["plain_page"])
        monkeypatch.setattr(module, "plain_page", counting)
        plainly = await fetch()
        first, taken[:] = list(taken), []
        monkeypatch.setattr(_plain, "_orjson", None)  # usage pages: the exact way
        monkeypatch.setattr(_plain, "_costs_page", lambda content: None)  # costs too
        exactly = await fetch()
    assert len(first) >= 11 and all(first)  # every page of every endpoint went the plain way
    assert taken and not any(taken)
    assert plainly and plainly == exactly
