"""Exact requests: paths, parameters in order, repeated array keys, cursors, auth header."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from tests.conftest import resolve
from tests.openai._support import (
    ALL_NAMES,
    BASE_URL,
    KEY,
    Client,
    close,
    endpoint_method,
    load,
    make_client,
    params_of,
    path_of,
    single,
)
from usagekit import OpenAIClient

START = 1730419200  # 2024-11-01T00:00:00Z
END = 1730592000  # 2024-11-03T00:00:00Z
WINDOW = [("start_time", str(START)), ("end_time", str(END))]

# Per endpoint: every filter it documents (arrays with two values), and the exact query expected.
CASES: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {
    "completions": (
        {
            "bucket_width": "1h",
            "project_ids": ["proj_a", "proj_b"],
            "user_ids": ["user_a", "user_b"],
            "api_key_ids": ["key_a", "key_b"],
            "models": ["gpt-4o", "gpt-4o-mini"],
            "batch": False,
            "group_by": ["model", "batch", "service_tier"],
            "limit": 24,
        },
        [
            ("bucket_width", "1h"),
            ("project_ids", "proj_a"),
            ("project_ids", "proj_b"),
            ("user_ids", "user_a"),
            ("user_ids", "user_b"),
            ("api_key_ids", "key_a"),
            ("api_key_ids", "key_b"),
            ("models", "gpt-4o"),
            ("models", "gpt-4o-mini"),
            ("batch", "false"),
            ("group_by", "model"),
            ("group_by", "batch"),
            ("group_by", "service_tier"),
            ("limit", "24"),
        ],
    ),
    "embeddings": (
        {
            "project_ids": ["proj_a"],
            "user_ids": ["user_a"],
            "api_key_ids": ["key_a"],
            "models": ["text-embedding-3-small", "text-embedding-3-large"],
            "group_by": ["project_id", "user_id", "api_key_id", "model"],
        },
        [
            ("bucket_width", "1d"),
            ("project_ids", "proj_a"),
            ("user_ids", "user_a"),
            ("api_key_ids", "key_a"),
            ("models", "text-embedding-3-small"),
            ("models", "text-embedding-3-large"),
            ("group_by", "project_id"),
            ("group_by", "user_id"),
            ("group_by", "api_key_id"),
            ("group_by", "model"),
            ("limit", "31"),
        ],
    ),
    "moderations": (
        {"models": ["omni-moderation-latest"], "group_by": ["model"], "limit": 7},
        [
            ("bucket_width", "1d"),
            ("models", "omni-moderation-latest"),
            ("group_by", "model"),
            ("limit", "7"),
        ],
    ),
    "images": (
        {
            "bucket_width": "1m",
            "sources": ["image.generation", "image.edit"],
            "sizes": ["1024x1024", "1792x1792"],
            "project_ids": ["proj_a"],
            "models": ["dall-e-3"],
            "group_by": ["size", "source"],
            "limit": 1440,
        },
        [
            ("bucket_width", "1m"),
            ("sources", "image.generation"),
            ("sources", "image.edit"),
            ("sizes", "1024x1024"),
            ("sizes", "1792x1792"),
            ("project_ids", "proj_a"),
            ("models", "dall-e-3"),
            ("group_by", "size"),
            ("group_by", "source"),
            ("limit", "1440"),
        ],
    ),
    "audio_speeches": (
        {"user_ids": ["user_a", "user_b"], "group_by": ["user_id"]},
        [
            ("bucket_width", "1d"),
            ("user_ids", "user_a"),
            ("user_ids", "user_b"),
            ("group_by", "user_id"),
            ("limit", "31"),
        ],
    ),
    "audio_transcriptions": (
        {"bucket_width": "1h", "api_key_ids": ["key_a"], "models": ["whisper-1"]},
        [
            ("bucket_width", "1h"),
            ("api_key_ids", "key_a"),
            ("models", "whisper-1"),
            ("limit", "168"),
        ],
    ),
    "vector_stores": (
        {"project_ids": ["proj_a", "proj_b"], "group_by": ["project_id"]},
        [
            ("bucket_width", "1d"),
            ("project_ids", "proj_a"),
            ("project_ids", "proj_b"),
            ("group_by", "project_id"),
            ("limit", "31"),
        ],
    ),
    "code_interpreter_sessions": (
        {"project_ids": ["proj_a"], "limit": 1},
        [("bucket_width", "1d"), ("project_ids", "proj_a"), ("limit", "1")],
    ),
    "file_search_calls": (
        {
            "project_ids": ["proj_a"],
            "user_ids": ["user_a"],
            "api_key_ids": ["key_a"],
            "vector_store_ids": ["vs_abc", "vs_def"],
            "group_by": ["vector_store_id", "project_id"],
        },
        [
            ("bucket_width", "1d"),
            ("project_ids", "proj_a"),
            ("user_ids", "user_a"),
            ("api_key_ids", "key_a"),
            ("vector_store_ids", "vs_abc"),
            ("vector_store_ids", "vs_def"),
            ("group_by", "vector_store_id"),
            ("group_by", "project_id"),
            ("limit", "31"),
        ],
    ),
    "web_search_calls": (
        {
            "models": ["gpt-4o"],
            "context_levels": ["low", "high"],
            "group_by": ["context_level", "model"],
        },
        [
            ("bucket_width", "1d"),
            ("models", "gpt-4o"),
            ("context_levels", "low"),
            ("context_levels", "high"),
            ("group_by", "context_level"),
            ("group_by", "model"),
            ("limit", "31"),
        ],
    ),
    "costs": (
        {
            "project_ids": ["proj_a", "proj_b"],
            "api_key_ids": ["key_a"],
            "group_by": ["line_item", "project_id"],
            "limit": 180,
        },
        [
            ("bucket_width", "1d"),
            ("project_ids", "proj_a"),
            ("project_ids", "proj_b"),
            ("api_key_ids", "key_a"),
            ("group_by", "line_item"),
            ("group_by", "project_id"),
            ("limit", "180"),
        ],
    ),
}


def test_cases_cover_every_endpoint() -> None:
    assert set(CASES) == set(ALL_NAMES)


@pytest.mark.parametrize("name", ALL_NAMES)
async def test_exact_request_per_endpoint(
    client: Client, router: respx.MockRouter, name: str
) -> None:
    kwargs, expected = CASES[name]
    route = router.get(path_of(name)).respond(json=single(name))

    buckets = await resolve(endpoint_method(client, name)(START, END, **kwargs))

    assert len(buckets) == 1
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url.path == f"/v1{path_of(name)}"
    assert params_of(request) == WINDOW + expected
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "application/json"


async def test_nothing_is_sent_until_the_pager_is_iterated(
    client: Client, router: respx.MockRouter
) -> None:
    route = router.get(path_of("completions")).respond(json=single("completions"))
    pager = client.usage.completions(START)
    assert route.call_count == 0
    del pager
    assert route.call_count == 0


async def test_open_ended_window_sends_no_end_time(
    client: Client, router: respx.MockRouter
) -> None:
    route = router.get(path_of("costs")).respond(json=load("published", "costs"))
    await resolve(client.costs("2024-11-01"))
    assert params_of(route.calls.last.request) == [
        ("start_time", str(START)),
        ("bucket_width", "1d"),
        ("limit", "180"),
    ]


async def test_window_forms_are_converted_to_unix_seconds(
    client: Client, router: respx.MockRouter
) -> None:
    route = router.get(path_of("moderations")).respond(json=load("published", "moderations"))
    await resolve(
        client.usage.moderations("2024-11-01T01:00:00+01:00", "2024-11-03", bucket_width="1h")
    )
    params = dict(params_of(route.calls.last.request))
    assert params["start_time"] == str(START)
    assert params["end_time"] == str(END)


async def test_single_string_filter_counts_as_one_item(
    client: Client, router: respx.MockRouter
) -> None:
    route = router.get(path_of("completions")).respond(json=single("completions"))
    await resolve(client.usage.completions(START, models="gpt-4o", group_by="model"))  # type: ignore[arg-type]
    params = params_of(route.calls.last.request)
    assert ("models", "gpt-4o") in params
    assert ("group_by", "model") in params


async def test_batch_true_is_sent_as_lowercase(client: Client, router: respx.MockRouter) -> None:
    route = router.get(path_of("completions")).respond(json=single("completions"))
    await resolve(client.usage.completions(START, batch=True))
    assert ("batch", "true") in params_of(route.calls.last.request)


def _paged(name: str, cursors: list[str]) -> Any:
    """A side effect serving one bucket per page, following ``cursors`` in order."""
    template = load("published", name)
    bucket = template["data"][0]

    def respond(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("page")
        index = 0 if cursor is None else cursors.index(cursor) + 1
        day = dict(bucket)
        day["start_time"] = START + 86400 * index
        day["end_time"] = START + 86400 * (index + 1)
        more = index < len(cursors)
        page = {
            "object": "page",
            "data": [day],
            "has_more": more,
            "next_page": cursors[index] if more else None,
        }
        return httpx.Response(200, json=page)

    return respond


@pytest.mark.parametrize("name", ["completions", "costs"])
async def test_multi_page_walk_carries_every_filter_and_the_cursor(
    client: Client, router: respx.MockRouter, name: str
) -> None:
    cursors = ["page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=", "page_BBBB"]
    route = router.get(path_of(name)).mock(side_effect=_paged(name, cursors))
    kwargs, expected = CASES[name]
    kwargs = kwargs | {"limit": 1}
    expected = [pair for pair in expected if pair[0] != "limit"] + [("limit", "1")]

    buckets = await resolve(endpoint_method(client, name)(START, END + 86400, **kwargs))

    assert [b.start_time.timestamp() for b in buckets] == [START, START + 86400, START + 172800]
    assert route.call_count == 3
    sent = [params_of(call.request) for call in route.calls]
    window = [("start_time", str(START)), ("end_time", str(END + 86400))]
    assert sent[0] == window + expected
    assert sent[1] == [*window, *expected, ("page", cursors[0])]
    assert sent[2] == [*window, *expected, ("page", cursors[1])]
    for call in route.calls:
        assert call.request.headers["authorization"] == f"Bearer {KEY}"


async def test_iter_pages_yields_whole_pages(client: Client, router: respx.MockRouter) -> None:
    router.get(path_of("embeddings")).mock(side_effect=_paged("embeddings", ["c1"]))
    pager = client.usage.embeddings(START, limit=1)
    pages = await resolve(pager.iter_pages())
    assert [page.has_more for page in pages] == [True, False]
    assert pages[0].next_page == "c1"


async def test_records_walk_every_page(client: Client, router: respx.MockRouter) -> None:
    cursors = ["c1", "c2", "c3"]
    route = router.get(path_of("audio_speeches")).mock(
        side_effect=_paged("audio_speeches", cursors)
    )
    records = await resolve(client.records(START, sources=["audio_speeches"]))
    assert route.call_count == 4
    assert [r.quantity for r in records if r.metric == "characters"] == [45] * 4
    assert route.calls[3].request.url.params.get("page") == "c3"


async def test_default_base_url_and_env_key(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-from-env")
    made = make_client(mode, api_key=None, base_url="https://api.openai.com/v1")
    try:
        with respx.mock(base_url="https://api.openai.com/v1") as mock:
            route = mock.get("/organization/costs").respond(json=load("published", "costs"))
            await resolve(made.costs(START))
        assert route.calls.last.request.headers["authorization"] == "Bearer sk-admin-from-env"
        assert str(route.calls.last.request.url).startswith(
            "https://api.openai.com/v1/organization/costs?"
        )
    finally:
        await close(made)


def test_default_base_url_is_openai() -> None:
    with OpenAIClient("sk-admin-x") as made:
        assert str(made.base_url) == "https://api.openai.com/v1"


async def test_with_options_copy_uses_its_own_transport(
    client: Client, router: respx.MockRouter
) -> None:
    route = router.get(path_of("embeddings")).respond(status_code=500, json={"error": {}})
    patient = client.with_options(max_retries=2)
    patient._transport.sleep = _no_sleep(patient)  # type: ignore[assignment]
    with pytest.raises(Exception, match="500"):
        await resolve(patient.usage.embeddings(START))
    assert route.call_count == 3
    with pytest.raises(Exception, match="500"):
        await resolve(client.usage.embeddings(START))
    assert route.call_count == 4
    assert BASE_URL.startswith(str(patient.base_url))


def _no_sleep(client: Client) -> Any:
    if isinstance(client, OpenAIClient):
        return lambda seconds: None

    async def sleep(seconds: float) -> None:
        return None

    return sleep
