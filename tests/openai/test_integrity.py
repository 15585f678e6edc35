"""Nothing lost, nothing counted twice: whole buckets, unique ids, exact money, no negative counts.

* ``records()`` asks for whole buckets (the window widened to the bucket width), so no record
  ever claims a bucket it holds only part of;
* a bucket the server repeats (on one page or a later one) is emitted once when it says the
  same, and refused when it says something else;
* a count (tokens, requests, ...) is never negative; a cost may be (a credit);
* money keeps every digit it was sent with, whatever its precision.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import resolve
from tests.openai._support import Client, load, params_of, path_of
from usagekit import ResponseValidationError, UsageRecord
from usagekit._core._held import _held_of, _held_size
from usagekit._core.transport import decode_body
from usagekit._providers.openai import page_records
from usagekit._providers.openai._normalize import UniqueRecords, page_table
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME, whole_buckets

UTC = timezone.utc
START = datetime(2024, 11, 1, tzinfo=UTC)
END = datetime(2024, 11, 3, tzinfo=UTC)


def _pages(*pages: dict[str, Any]) -> Any:
    """A side effect serving ``pages`` in order, chained by cursors ``c1``, ``c2``, ..."""

    def respond(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("page")
        index = 0 if cursor is None else int(cursor[1:])
        more = index + 1 < len(pages)
        body = {**pages[index], "has_more": more, "next_page": f"c{index + 1}" if more else None}
        return httpx.Response(200, json=body)

    return respond


def _split(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fixture page of ``name`` as two pages of one bucket each."""
    body = load("pages", name)
    first, second = copy.deepcopy(body), copy.deepcopy(body)
    first["data"], second["data"] = body["data"][:1], body["data"][1:]
    return first, second


# ------------------------------------------------------------------ whole buckets


@pytest.mark.parametrize(
    ("width", "start", "end", "aligned_start", "aligned_end"),
    [
        ("1d", "2024-11-01T10:37:11Z", None, "2024-11-01T00:00:00Z", None),
        ("1d", "2024-11-01T10:37:11Z", "2024-11-03T00:00:01Z", "2024-11-01", "2024-11-04"),
        ("1d", "2024-11-01", "2024-11-03", "2024-11-01", "2024-11-03"),
        (
            "1h",
            "2024-11-01T10:37:11.5Z",
            "2024-11-01T12:00:00Z",
            "2024-11-01T10:00Z",
            "2024-11-01T12:00Z",
        ),
        (
            "1m",
            "2024-11-01T10:37:11Z",
            "2024-11-01T10:38:00.000001Z",
            "2024-11-01T10:37Z",
            "2024-11-01T10:39Z",
        ),
        ("1d", "1969-12-31T12:00:00Z", None, "1969-12-31", None),
    ],
)
def test_whole_buckets_widens_the_window_to_the_width(
    width: str, start: str, end: str | None, aligned_start: str, aligned_end: str | None
) -> None:
    first, last = whole_buckets(start, end, width=width)
    assert first == datetime.fromisoformat(aligned_start.replace("Z", "+00:00")).replace(tzinfo=UTC)
    if aligned_end is None:
        assert last is None
    else:
        assert last == datetime.fromisoformat(aligned_end.replace("Z", "+00:00")).replace(
            tzinfo=UTC
        )


@settings(max_examples=200)
@given(
    start=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=90)),
    width=st.sampled_from(["1m", "1h", "1d"]),
)
def test_whole_buckets_covers_the_window_with_the_fewest_whole_buckets(
    start: datetime, length: timedelta, width: str
) -> None:
    step = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}[width]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first, last = whole_buckets(start, start + length, width=width)
    assert last is not None
    assert first <= start < first + step and last - step < start + length <= last
    assert (first - epoch) % step == timedelta(0) and (last - epoch) % step == timedelta(0)


async def test_records_ask_for_whole_buckets(client: Client, router: respx.MockRouter) -> None:
    routes = {
        name: router.get(path_of(name)).respond(json=load("pages", name))
        for name in ("completions", "costs")
    }
    await resolve(
        client.records(
            "2024-11-01T10:37:11Z",
            "2024-11-02T23:00:00Z",
            sources=["completions", "costs"],
            bucket_width="1h",
        )
    )
    sent = {name: dict(params_of(route.calls.last.request)) for name, route in routes.items()}
    assert (sent["completions"]["start_time"], sent["completions"]["end_time"]) == (
        str(int(datetime(2024, 11, 1, 10, tzinfo=UTC).timestamp())),
        str(int(datetime(2024, 11, 2, 23, tzinfo=UTC).timestamp())),
    )
    assert (sent["costs"]["start_time"], sent["costs"]["end_time"]) == (
        str(int(START.timestamp())),
        str(int(END.timestamp())),  # costs are daily: the end goes up to midnight
    )


# ------------------------------------------------------------------ unique ids


@pytest.mark.parametrize("name", ["completions", "costs", "images", "vector_stores"])
async def test_a_bucket_repeated_on_the_next_page_is_emitted_once(
    client: Client, router: respx.MockRouter, name: str
) -> None:
    once = await _records_of(client, router, name, load("pages", name))
    first, second = _split(name)
    second["data"] = first["data"] + second["data"]  # page 2 repeats page 1's bucket
    twice = await _records_of(client, router, name, first, second)
    assert twice == once and once
    assert len({r.id for r in twice}) == len(twice)


async def test_a_result_repeated_in_its_bucket_is_emitted_once(
    client: Client, router: respx.MockRouter
) -> None:
    once = await _records_of(client, router, "costs", load("pages", "costs"))
    body = load("pages", "costs")
    body["data"][1]["results"].append(copy.deepcopy(body["data"][1]["results"][0]))
    twice = await _records_of(client, router, "costs", body)
    assert twice == once


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("costs", lambda r: r["amount"].update(value=0.07)),
        ("costs", lambda r: r.update(quantity=1)),  # the billed quantity is part of the figure
        ("completions", lambda r: r.update(input_tokens=r["input_tokens"] + 1)),
        ("vector_stores", lambda r: r.update(usage_bytes=r["usage_bytes"] * 2)),
    ],
    ids=["cost-value", "cost-quantity", "tokens", "bytes"],
)
async def test_a_bucket_repeated_with_another_figure_is_refused(
    client: Client, router: respx.MockRouter, name: str, change: Any
) -> None:
    first, second = _split(name)
    repeat = copy.deepcopy(first["data"][0])
    change(repeat["results"][0])
    second["data"] = [*second["data"], repeat]
    with pytest.raises(ResponseValidationError, match="came twice") as caught:
        await _records_of(client, router, name, first, second)
    endpoint = ENDPOINTS_BY_NAME[name]
    assert caught.value.endpoint == endpoint.qualified_name
    assert caught.value.field == f"data.{len(second['data']) - 1}"


async def _records_of(
    client: Client, router: respx.MockRouter, name: str, *pages: dict[str, Any]
) -> list[UsageRecord]:
    router.routes.clear()
    router.get(path_of(name)).mock(side_effect=_pages(*pages))
    records: list[UsageRecord] = await resolve(client.records(START, END, sources=[name]))
    return records


# ------------------------------------------------------------------ counts and money

USAGE_COUNTS = [
    (name, metric.field)
    for name, endpoint in ENDPOINTS_BY_NAME.items()
    if not endpoint.is_costs
    for metric in endpoint.metrics
]


def _decode(name: str, body: dict[str, Any]) -> Any:
    endpoint = ENDPOINTS_BY_NAME[name]
    text = json.dumps(body).encode()
    return decode_body(text, endpoint.page_type, provider="openai", endpoint=name)


def _with_field(name: str, field: str, value: Any) -> dict[str, Any]:
    body = load("published", name)
    body["data"][0]["results"][0][field] = value
    return body


@pytest.mark.parametrize(("name", "field"), USAGE_COUNTS)
@pytest.mark.parametrize("value", [-1, True, 1.5, "many"])
def test_a_count_that_is_not_a_non_negative_integer_names_its_field(
    name: str, field: str, value: Any
) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        _decode(name, _with_field(name, field, value))
    assert caught.value.field == f"data.0.results.0.{field}"


@pytest.mark.parametrize(("name", "field"), USAGE_COUNTS)
def test_zero_and_huge_counts_are_kept_exactly(name: str, field: str) -> None:
    for value in (0, 10**30):
        page = _decode(name, _with_field(name, field, value))
        records = page_records(ENDPOINTS_BY_NAME[name], page)
        assert Decimal(value) in {r.quantity for r in records if r.metric == field}


@pytest.mark.parametrize(
    ("value", "quantity"),
    [("-12.5", "-3"), ("-0.000001", None), ("0", "0")],
    ids=["credit", "tiny-refund", "zero"],
)
def test_a_negative_cost_is_a_credit_and_kept(value: str, quantity: str | None) -> None:
    body = load("published", "costs")
    text = json.dumps(body).replace('"value": 0.06', f'"value": {value}')
    if quantity is not None:
        text = text.replace('"quantity": null', f'"quantity": {quantity}')
    endpoint = ENDPOINTS_BY_NAME["costs"]
    page = decode_body(text.encode(), endpoint.page_type, provider="openai", endpoint="costs")
    (record,) = page_records(endpoint, page)
    assert str(record.quantity) == value
    assert record.attributes.get("quantity") == quantity


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        ('{"value": "lots", "currency": "usd"}', "data.0.results.0.amount.value"),
        ('{"value": true, "currency": "usd"}', "data.0.results.0.amount.value"),
        ('{"value": [1], "currency": "usd"}', "data.0.results.0.amount.value"),
        ('{"value": 1e5000, "currency": "usd"}', "data.0.results.0.amount.value"),
        ('"0.06"', "data.0.results.0.amount"),
    ],
    ids=["text", "boolean", "list", "absurd-exponent", "not-an-object"],
)
def test_malformed_money_names_the_field(amount: str, field: str) -> None:
    text = json.dumps(load("published", "costs")).replace(
        '{"value": 0.06, "currency": "usd"}', amount
    )
    endpoint = ENDPOINTS_BY_NAME["costs"]
    with pytest.raises(ResponseValidationError) as caught:
        decode_body(text.encode(), endpoint.page_type, provider="openai", endpoint="costs")
    assert caught.value.field == field


def _number(sign: str, digits: int, places: int) -> str:
    if not places:
        return f"{sign}{digits}" if digits else "0"  # JSON's integer -0 is the integer 0
    return f"{sign}{digits // 10**places}.{digits % 10**places:0{places}d}"


exact_numbers = st.builds(
    _number, st.sampled_from(["", "-"]), st.integers(0, 10**60), st.integers(0, 45)
)
"""JSON numbers of up to 60 digits, as text: far past a float and the 28-digit default."""


@settings(max_examples=200)
@given(value=exact_numbers, quantity=exact_numbers)
def test_money_keeps_every_digit_it_was_sent_with(value: str, quantity: str) -> None:
    body = load("published", "costs")
    text = (
        json.dumps(body)
        .replace('"value": 0.06', f'"value": {value}')
        .replace('"quantity": null', f'"quantity": {quantity}')
    )
    endpoint = ENDPOINTS_BY_NAME["costs"]
    page = decode_body(text.encode(), endpoint.page_type, provider="openai", endpoint="costs")
    (record,) = page_records(endpoint, page)
    assert record.quantity == Decimal(value) and str(record.quantity) == str(Decimal(value))
    assert record.attributes["quantity"] == str(Decimal(quantity))


def _stream_of(pages: list[dict[str, Any]], columnar: bool, held: int = 1 << 19) -> list[str] | str:
    """The ids a stream emits page by page (or the error it stops with)."""
    endpoint = ENDPOINTS_BY_NAME["completions"]
    seen = UniqueRecords("openai", held=held)
    out: list[str] = []
    try:
        for body in pages:
            page = endpoint.page_type.model_validate(body)
            if columnar:
                out += [r.id for r in page_table(endpoint, page, seen=seen)]
            else:
                kept = seen.unique(page_records(endpoint, page), endpoint="completions")
                out += [r.id for r in kept]
    except ResponseValidationError:
        return f"refused after {len(out)} records"
    return out


_results = st.builds(
    lambda project, model, tokens, cached: {
        "object": "organization.usage.completions.result",
        "project_id": project,
        "model": model,
        "input_tokens": tokens,
        "output_tokens": 3,
        "num_model_requests": 1,
        **({} if cached is None else {"input_cached_tokens": cached}),
    },
    st.sampled_from(["p1", "p2"]),
    st.sampled_from(["gpt-4o", None]),
    st.sampled_from([1, 2, 10**30]),
    st.sampled_from([1, None]),
)


def _buckets_of(
    results: st.SearchStrategy[dict[str, Any]], *, hours: int, min_size: int = 0
) -> st.SearchStrategy[dict[str, Any]]:
    """Hourly buckets of the first ``hours`` hours of 2024, each of up to 4 ``results``."""
    return st.builds(
        lambda hour, drawn: {
            "object": "bucket",
            "start_time": 1704067200 + 3600 * hour,
            "end_time": 1704067200 + 3600 * (hour + 1),
            "results": drawn,
        },
        st.integers(min_value=0, max_value=hours - 1),
        st.lists(results, min_size=min_size, max_size=4),
    )


_buckets = _buckets_of(_results, hours=3)


@given(st.lists(st.lists(_buckets, max_size=3), max_size=4), st.sampled_from([1, 3, 1 << 19]))
@settings(max_examples=300, deadline=None)
def test_the_columnar_repeat_check_is_the_record_by_record_one(
    data: list[list[dict[str, Any]]], held: int
) -> None:
    # buckets and results drawn from a small pool: repeats in a page, across pages, and the
    # same id with another figure all happen; both checks must keep and refuse the same,
    # whether the old buckets are still held record by record or only as digests
    pages = [{"object": "page", "data": buckets, "has_more": False} for buckets in data]
    assert _stream_of(pages, True, held) == _stream_of(pages, False, held)


_grid_results = st.builds(
    lambda project, model, tokens: {
        "object": "organization.usage.completions.result",
        "project_id": project,
        "model": model,
        "input_tokens": tokens,
        "input_cached_tokens": 1,
        "output_tokens": 3,
        "num_model_requests": 1,
    },
    st.sampled_from(["p1", "p2", "p3"]),
    st.sampled_from(["gpt-4o", "o3"]),
    st.sampled_from([1, 2, 7]),
)
_grid_buckets = _buckets_of(_grid_results, hours=4, min_size=1)


@given(
    st.lists(st.lists(_grid_buckets, min_size=1, max_size=3), min_size=1, max_size=4),
    st.sampled_from([1, 8, 1 << 19]),
    st.randoms(use_true_random=False),
)
@settings(max_examples=300, deadline=None)
def test_usage_pages_kept_a_group_at_a_time_decide_as_the_record_by_record_check(
    data: list[list[dict[str, Any]]], held: int, shuffle: Any
) -> None:
    # every result with the same fields: the columnar check keeps such pages a group at a
    # time (no record names until a bucket comes again); then every page again with its
    # results in another order, so that held buckets and digests of old ones are both
    # compared; the record-by-record check (names and figures of each record) must agree
    pages = [{"object": "page", "data": buckets, "has_more": False} for buckets in data]
    again = copy.deepcopy(pages)
    for page in again:
        for bucket in page["data"]:
            shuffle.shuffle(bucket["results"])
    assert _stream_of([*pages, *again], True, held) == _stream_of([*pages, *again], False, held)


def test_an_old_usage_bucket_comes_again_in_another_order_and_is_dropped() -> None:
    endpoint = ENDPOINTS_BY_NAME["completions"]
    pages = [
        {"object": "page", "data": [_bucket(hour, 5, 7, 9)], "has_more": False} for hour in range(6)
    ]
    seen = UniqueRecords("openai", held=4)
    tables = [page_table(endpoint, endpoint.page_type.model_validate(b), seen=seen) for b in pages]
    assert [len(table) for table in tables] == [9] * 6
    kept = seen._buckets[next(iter(seen._buckets))]
    assert kept[2] is not None  # held a group at a time, no record names
    assert len(seen._runs) == 1  # the pages share their one run of measures
    reordered = copy.deepcopy(pages[0])
    reordered["data"][0]["results"].reverse()  # long evicted, the same records: dropped
    assert len(page_table(endpoint, endpoint.page_type.model_validate(reordered), seen=seen)) == 0
    changed = copy.deepcopy(reordered)
    changed["data"][0]["results"][0]["input_tokens"] = 10
    with pytest.raises(ResponseValidationError, match="came again, long after"):
        page_table(endpoint, endpoint.page_type.model_validate(changed), seen=seen)
    held_again = copy.deepcopy(pages[5])  # still held: reordered, dropped; changed, refused
    held_again["data"][0]["results"].reverse()
    assert len(page_table(endpoint, endpoint.page_type.model_validate(held_again), seen=seen)) == 0
    held_again["data"][0]["results"][1]["output_tokens"] = 2
    with pytest.raises(ResponseValidationError, match="came twice with different values"):
        page_table(endpoint, endpoint.page_type.model_validate(held_again), seen=seen)


def _bucket(hour: int, *tokens: int) -> dict[str, Any]:
    results = [
        {
            "object": "organization.usage.completions.result",
            "project_id": f"p{number}",
            "input_tokens": count,
            "output_tokens": 1,
            "num_model_requests": 1,
        }
        for number, count in enumerate(tokens)
    ]
    start = 1704067200 + 3600 * hour
    return {"object": "bucket", "start_time": start, "end_time": start + 3600, "results": results}


def test_an_old_bucket_held_as_a_digest_is_dropped_when_repeated_and_refused_when_changed() -> None:
    pages = [
        {"object": "page", "data": [_bucket(hour, 5, 7)], "has_more": False} for hour in range(6)
    ]
    first = _stream_of(pages, True, held=4)
    assert isinstance(first, list) and len(first) == 36  # 6 buckets of 2 results of 3 records
    again = [*pages, pages[0]]  # the first bucket, long evicted, exactly as it was: dropped
    assert _stream_of(again, True, held=4) == first
    changed = {"object": "page", "data": [_bucket(0, 5, 8)], "has_more": False}
    assert _stream_of([*pages, changed], True, held=4) == "refused after 36 records"
    longer = {"object": "page", "data": [_bucket(0, 5, 7, 9)], "has_more": False}
    assert _stream_of([*pages, longer], True, held=4) == "refused after 36 records"
    # held record by record, one more result in a bucket is simply new records
    assert len(_stream_of([*pages, longer], True)) == 39


def _cost_page(day: int, value: object) -> Any:
    costs = ENDPOINTS_BY_NAME["costs"]
    result = {
        "object": "organization.costs.result",
        "amount": {"value": value, "currency": "usd"},
        "line_item": "credit",
        "project_id": "p1",
    }
    start = 1730419200 + 86400 * day
    bucket = {"object": "bucket", "start_time": start, "end_time": start + 86400}
    body = {"object": "page", "has_more": False, "data": [{**bucket, "results": [result]}]}
    return costs.page_type.model_validate(body)


@pytest.mark.parametrize(
    ("first", "then"), [(-1, -2), (-2, -1), (2**63, 4), (4, 2**63), ("0.5", 2**60)]
)
@pytest.mark.parametrize("held", [1 << 19, 40])
def test_a_figure_whose_hash_equals_anothers_is_still_a_different_figure(
    first: object, then: object, held: int
) -> None:
    # hash(-1) == hash(-2), hash(2**63) == 4, hash(Decimal("0.5")) == 2**60: none of them may
    # make a changed figure pass for a repeat, held record by record or as a digest
    costs = ENDPOINTS_BY_NAME["costs"]
    seen = UniqueRecords("openai", held=held)
    for day in range(5):
        assert len(page_table(costs, _cost_page(day, first), seen=seen)) == 1
    assert len(page_table(costs, _cost_page(0, first), seen=seen)) == 0  # the same: dropped
    with pytest.raises(ResponseValidationError):
        page_table(costs, _cost_page(0, then), seen=seen)


def test_the_repeat_check_holds_a_bounded_number_of_records() -> None:
    endpoint = ENDPOINTS_BY_NAME["completions"]
    seen = UniqueRecords("openai", held=100)
    for hour in range(200):
        body = {"object": "page", "data": [_bucket(hour, 1, 2, 3)], "has_more": False}
        table = page_table(endpoint, endpoint.page_type.model_validate(body), seen=seen)
        assert len(table) == 9
    assert sum(_held_size(held) for held in seen._buckets.values()) <= 100


def test_an_old_bucket_seen_in_parts_is_refused_when_one_part_comes_back() -> None:
    # held record by record, a part seen before is a plain repeat; as a digest of the whole
    # bucket, a part can not be proven a repeat, so it is refused (never emitted twice)
    second = _bucket(0, 0, 7)
    second["results"] = second["results"][1:]  # only project p1 this time
    parts = [
        {"object": "page", "data": [_bucket(0, 5)], "has_more": False},
        {"object": "page", "data": [second], "has_more": False},
    ]
    others = [
        {"object": "page", "data": [_bucket(hour, 1, 2)], "has_more": False} for hour in (1, 2, 3)
    ]
    pages = [*parts, *others, parts[0]]
    assert len(_stream_of(pages, True)) == 6 + 18
    assert _stream_of(pages, True, held=40) == "refused after 24 records"
    endpoint = ENDPOINTS_BY_NAME["completions"]
    seen = UniqueRecords("openai", held=40)
    for body in pages[:-1]:
        page_table(endpoint, endpoint.page_type.model_validate(body), seen=seen)
    with pytest.raises(ResponseValidationError, match="came again, long after"):
        page_table(endpoint, endpoint.page_type.model_validate(pages[-1]), seen=seen)


def test_the_repeat_check_memory_grows_with_buckets_not_records() -> None:
    import tracemalloc

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    seen = UniqueRecords("openai")
    tracemalloc.start()
    try:
        for minute in range(100_000):  # a one-record bucket a minute: the worst case per record
            moment = start + timedelta(minutes=minute)
            bucket = ("completions", moment, moment + timedelta(minutes=1))
            seen._keep(bucket, _held_of({(minute, 0): 1}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24e6, peak  # ~8 MB of held buckets, ~100 B a bucket beyond
    assert len(seen._buckets) < 20_000 and len(seen._digests) > 80_000


@pytest.mark.parametrize("changed", [False, True])
def test_a_consumed_page_gives_the_same_records_and_errors_and_is_left_empty(
    changed: bool,
) -> None:
    endpoint = ENDPOINTS_BY_NAME["completions"]
    buckets = [_bucket(hour, 5, 7) for hour in range(3)]
    repeat = _bucket(0, 5, 8 if changed else 7)  # bucket 0 again, at data.3
    body = {"object": "page", "data": [*buckets, repeat], "has_more": False}

    def run(consume: bool) -> tuple[list[tuple[str, Decimal]], str | None, int]:
        page = endpoint.page_type.model_validate(copy.deepcopy(body))
        try:
            table = page_table(endpoint, page, seen=UniqueRecords("openai"), consume=consume)
        except ResponseValidationError as exc:
            return [], exc.field, len(page.data)
        return [(r.id, r.quantity) for r in table], None, len(page.data)

    kept, error, left = run(False)
    assert run(True) == (kept, error, 0) and left == 4
    assert (error == "data.3") if changed else (len(kept) == 18 and error is None)


def test_a_page_whose_results_differ_in_fields_is_kept_plainly_and_checked_the_same() -> None:
    endpoint = ENDPOINTS_BY_NAME["completions"]
    bucket = _bucket(0, 5, 7)
    bucket["results"][1]["input_cached_tokens"] = 2  # one result has a field the other lacks
    page = {"object": "page", "data": [bucket], "has_more": False}
    seen = UniqueRecords("openai")
    first = page_table(endpoint, endpoint.page_type.model_validate(page), seen=seen)
    (held,) = seen._buckets.values()
    assert held[2] is None and held[3] is None and _held_size(held) == len(first) == 7
    again = copy.deepcopy(page)
    again["data"][0]["results"].reverse()
    assert len(page_table(endpoint, endpoint.page_type.model_validate(again), seen=seen)) == 0
    again["data"][0]["results"][0]["input_cached_tokens"] = 3
    with pytest.raises(ResponseValidationError, match="came twice with different values"):
        page_table(endpoint, endpoint.page_type.model_validate(again), seen=seen)
