"""The benchmarks' data server: OpenAI's usage and costs endpoints in their real shape, over
loopback from a process of its own, deterministic, paging and grouping as the API does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from benchmarks._synth import KINDS
from benchmarks.dataserver import DataServer, serve_data

from usagekit._core.transport import decode_body
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME, SOURCE_NAMES, USAGE_LIMITS

START = 1_735_689_600  # 2025-01-01T00:00:00Z
COMPLETIONS_FIELDS = {m.field for m in ENDPOINTS_BY_NAME["completions"].metrics}


@pytest.fixture(scope="module")
def server() -> Iterator[DataServer]:
    with serve_data(groups=12, active=0.5) as running:
        yield running


def _get(server: DataServer, path: str, params: list[tuple[str, str]], **kw: Any) -> httpx.Response:
    headers = kw.pop("headers", {"Authorization": f"Bearer {server.api_key}"})
    return httpx.get(f"{server.base_url}{path}", params=params, headers=headers, timeout=30)


def _walk(server: DataServer, path: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    pages, query = [], params
    while True:
        response = _get(server, path, query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if not page["has_more"]:
            assert page["next_page"] is None
            return pages
        query = [*params, ("page", page["next_page"])]


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_every_endpoint_validates_into_its_wire_page_model(server: DataServer, name: str) -> None:
    endpoint = ENDPOINTS_BY_NAME[name]
    params = [("start_time", str(START)), ("end_time", str(START + 3 * 86400))]
    params += [("group_by", field) for field in endpoint.group_by]
    response = _get(server, "/" + endpoint.path.lstrip("/"), params)
    assert response.status_code == 200, response.text
    page = decode_body(response.content, endpoint.page_type, provider="openai", endpoint=name)
    assert len(page.data) == 3
    assert sum(len(bucket.results) for bucket in page.data) > 0
    assert set(json.loads(response.content)) == {"object", "data", "has_more", "next_page"}


def test_completions_results_carry_every_numeric_field(server: DataServer) -> None:
    params = [("start_time", str(START)), ("bucket_width", "1h"), ("limit", "3")]
    params += [("group_by", f) for f in KINDS["completions"].dims]
    data = _get(server, "/organization/usage/completions", params).json()["data"]
    results = [result for bucket in data for result in bucket["results"]]
    assert results
    for result in results:
        assert set(result) >= COMPLETIONS_FIELDS
        assert result["input_tokens"] == (
            result["input_text_tokens"]
            + result["input_audio_tokens"]
            + result["input_image_tokens"]
        )
        assert result["input_cached_tokens"] <= result["input_tokens"]
        assert result["user_id"] is not None and result["batch"] in (True, False)


@pytest.mark.parametrize(("width", "seconds"), [("1m", 60), ("1h", 3600), ("1d", 86400)])
def test_paging_follows_the_cursor_to_the_end(server: DataServer, width: str, seconds: int) -> None:
    buckets = 7
    params = [
        ("start_time", str(START + 5)),  # inside a bucket: floored to its start
        ("end_time", str(START + buckets * seconds)),
        ("bucket_width", width),
        ("limit", "3"),
    ]
    pages = _walk(server, "/organization/usage/completions", params)
    assert [len(page["data"]) for page in pages] == [3, 3, 1]
    starts = [bucket["start_time"] for page in pages for bucket in page["data"]]
    assert starts == [START + i * seconds for i in range(buckets)]
    assert all(b["end_time"] - b["start_time"] == seconds for p in pages for b in p["data"])


def test_the_default_and_the_largest_limit_follow_the_width(server: DataServer) -> None:
    for width, default in (("1m", 60), ("1h", 24), ("1d", 7)):
        params = [("start_time", str(START)), ("end_time", str(START + 400 * 86400))]
        page = _get(server, "/organization/usage/embeddings", [*params, ("bucket_width", width)])
        assert len(page.json()["data"]) == default
        over = [*params, ("bucket_width", width), ("limit", str(USAGE_LIMITS[width] + 1))]
        refused = _get(server, "/organization/usage/embeddings", over)
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "limit"
    costs = _get(server, "/organization/costs", [("start_time", str(START)), ("limit", "181")])
    assert costs.status_code == 400
    hourly = _get(
        server, "/organization/costs", [("start_time", str(START)), ("bucket_width", "1h")]
    )
    assert hourly.status_code == 400


def test_bad_requests_get_openai_errors(server: DataServer) -> None:
    path = "/organization/usage/completions"
    missing = _get(server, path, [])
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "missing_required_parameter"
    unknown = _get(server, path, [("start_time", str(START)), ("colour", "red")])
    assert unknown.json()["error"]["code"] == "unknown_parameter"
    group = _get(server, path, [("start_time", str(START)), ("group_by", "size")])
    assert group.json()["error"]["param"] == "group_by"
    first = _get(server, path, [("start_time", str(START)), ("limit", "1")]).json()
    other = _get(
        server, path, [("start_time", str(START)), ("limit", "2"), ("page", first["next_page"])]
    )
    assert other.json()["error"]["code"] == "invalid_cursor"
    wrong = _get(server, path, [("start_time", str(START))], headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401
    assert (
        _get(server, "/organization/usage/nothing", [("start_time", str(START))]).status_code == 404
    )


def test_grouping_sums_the_groups_and_filters_keep_theirs(server: DataServer) -> None:
    path = "/organization/usage/completions"
    base = [("start_time", str(START)), ("end_time", str(START + 86400)), ("bucket_width", "1h")]

    def results(params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [
            r for bucket in _get(server, path, params).json()["data"] for r in bucket["results"]
        ]

    total = results(base)
    by_model = results([*base, ("group_by", "model")])
    finest = results([*base, *(("group_by", f) for f in KINDS["completions"].dims)])
    assert all(r["model"] is None for r in total)
    assert len(by_model) > len(total) and len(finest) > len(by_model)
    for name in COMPLETIONS_FIELDS:
        assert sum(r[name] for r in total) == sum(r[name] for r in by_model)
        assert sum(r[name] for r in total) == sum(r[name] for r in finest)
    models = {r["model"] for r in by_model}
    one = sorted(models)[0]
    filtered = results([*base, ("group_by", "model"), ("models", one)])
    assert {r["model"] for r in filtered} == {one}
    assert sum(r["input_tokens"] for r in filtered) == sum(
        r["input_tokens"] for r in by_model if r["model"] == one
    )


def test_the_same_query_gets_the_same_bytes(server: DataServer) -> None:
    params = [("start_time", str(START)), ("bucket_width", "1h"), ("group_by", "user_id")]
    first = _get(server, "/organization/usage/images", params).content
    assert _get(server, "/organization/usage/images", params).content == first


def test_no_data_at_or_after_now_and_the_end_defaults_to_now() -> None:
    with serve_data(groups=3, now="2025-01-01T03:00:00Z") as small:
        params = [("start_time", str(START)), ("bucket_width", "1h")]
        pages = _walk(small, "/organization/usage/completions", params)
        assert [b["start_time"] for p in pages for b in p["data"]] == [
            START + i * 3600 for i in range(3)
        ]
        after = _get(
            small,
            "/organization/usage/completions",
            [
                ("start_time", str(START)),
                ("end_time", str(START + 5 * 3600)),
                ("bucket_width", "1h"),
            ],
        ).json()["data"]
        assert [len(b["results"]) for b in after][3:] == [0, 0]


def test_a_real_client_reads_every_endpoint_and_the_counters_see_it(server: DataServer) -> None:
    server.reset()
    start = datetime(2025, 2, 1, tzinfo=timezone.utc)
    with server.openai_client() as client:
        records = list(client.records(start, start + timedelta(days=40)))
    assert {r.source for r in records} == set(SOURCE_NAMES)
    completions = [r for r in records if r.source == "completions"]
    assert {r.metric for r in completions} == COMPLETIONS_FIELDS
    stats = server.stats()
    assert set(stats["by_endpoint"]) == set(SOURCE_NAMES)
    assert stats["by_endpoint"]["completions"] == 2  # 40 days at 1d: two pages of 31
    assert stats["by_endpoint"]["costs"] == 2  # costs are grouped too: pages of 31 days
    assert stats["requests"] == 22
