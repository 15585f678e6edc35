"""Arguments are validated before any request, with a ConfigError that says what is allowed."""

from __future__ import annotations

from typing import Any, get_args

import pytest
import respx

from tests.conftest import resolve
from tests.openai._support import Client, endpoint_method, make_client
from usagekit import AsyncOpenAIClient, ConfigError, OpenAIClient
from usagekit._providers.openai._requests import (
    ENDPOINTS,
    SOURCE_NAMES,
    VECTOR_STORES,
    SourceName,
    prepare,
)

START = 1730419200

# (endpoint, arguments, fragments the message must contain)
BAD_CALLS: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    # group_by fields the endpoint does not support
    ("completions", {"group_by": ["line_item"]}, ("'line_item'", "'service_tier'")),
    ("embeddings", {"group_by": ["batch"]}, ("'batch'", "'project_id', 'user_id'")),
    ("vector_stores", {"group_by": ["model"]}, ("'model'", "'project_id'")),
    ("file_search_calls", {"group_by": ["model"]}, ("'model'", "'vector_store_id'")),
    ("images", {"group_by": ["context_level"]}, ("'context_level'", "'size', 'source'")),
    ("costs", {"group_by": ["model"]}, ("'model'", "'project_id', 'line_item', 'api_key_id'")),
    # bucket widths
    ("costs", {"bucket_width": "1h"}, ("bucket_width", "'1d'", "'1h'")),
    ("completions", {"bucket_width": "2d"}, ("bucket_width", "'1d', '1h', '1m'", "'2d'")),
    ("completions", {"bucket_width": None}, ("bucket_width",)),
    # limits above the cap of the width, or below 1
    ("completions", {"limit": 32}, ("between 1 and 31", "'1d'", "32")),
    ("embeddings", {"bucket_width": "1h", "limit": 169}, ("between 1 and 168", "'1h'")),
    ("images", {"bucket_width": "1m", "limit": 1441}, ("between 1 and 1440", "'1m'")),
    ("costs", {"limit": 181}, ("between 1 and 180",)),
    ("costs", {"limit": 0}, ("between 1 and 180", "got 0")),
    ("moderations", {"limit": -5}, ("between 1 and 31",)),
    ("moderations", {"limit": 2.5}, ("limit must be an integer",)),
    ("moderations", {"limit": True}, ("limit must be an integer",)),
    # enum filters
    ("images", {"sources": ["image.edit", "image.upscale"]}, ("'image.upscale'", "'image.edit'")),
    ("images", {"sizes": ["640x480"]}, ("'640x480'", "'1024x1024'")),
    ("web_search_calls", {"context_levels": ["extreme"]}, ("'extreme'", "'high', 'low', 'medium'")),
    # malformed filters
    ("completions", {"batch": "yes"}, ("batch must be True, False or None",)),
    ("completions", {"models": []}, ("models must not be empty",)),
    ("completions", {"models": ["gpt-4o", 3]}, ("models must hold non-empty strings",)),
    ("completions", {"project_ids": [""]}, ("project_ids must hold non-empty strings",)),
    ("embeddings", {"user_ids": 42}, ("user_ids must be a list of strings",)),
]


@pytest.mark.parametrize(("name", "kwargs", "fragments"), BAD_CALLS)
async def test_bad_arguments_raise_before_any_request(
    client: Client,
    router: respx.MockRouter,
    name: str,
    kwargs: dict[str, Any],
    fragments: tuple[str, ...],
) -> None:
    with pytest.raises(ConfigError) as caught:
        endpoint_method(client, name)(START, **kwargs)
    message = str(caught.value)
    expected_name = name if name == "costs" else f"usage.{name}"
    assert expected_name in message
    for fragment in fragments:
        assert fragment in message
    assert router.calls.call_count == 0


@pytest.mark.parametrize(
    ("start", "end", "fragment"),
    [
        (START, START, "start must be before end"),
        (START + 10, START, "start must be before end"),
        ("not a date", None, "ISO-8601"),
        (None, None, "start is required"),
    ],
)
async def test_bad_windows_raise_before_any_request(
    client: Client, router: respx.MockRouter, start: Any, end: Any, fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        client.usage.completions(start, end)
    with pytest.raises(ConfigError, match=fragment):
        client.costs(start, end)
    assert router.calls.call_count == 0


async def test_typed_methods_only_take_their_own_filters(client: Client) -> None:
    with pytest.raises(TypeError):
        client.usage.vector_stores(START, models=["gpt-4o"])  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        client.costs(START, user_ids=["u"])  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"sources": ["completions", "chat"]}, ("'chat'", "'web_search_calls'", "'costs'")),
        ({"sources": []}, ("sources must not be empty",)),
        ({"bucket_width": "1w"}, ("bucket_width", "'1w'")),
        ({"group_by": ["modle"]}, ("'modle'", "'model'")),
        ({"sources": ["vector_stores"], "group_by": ["model"]}, ("'model'", "'project_id'")),
        ({"end": START - 1}, ("start must be before end",)),
    ],
)
async def test_records_validate_when_called(
    client: Client, router: respx.MockRouter, kwargs: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    kwargs = dict(kwargs)
    end = kwargs.pop("end", None)
    with pytest.raises(ConfigError) as caught:
        client.records(START, end, **kwargs)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert router.calls.call_count == 0


async def test_records_send_nothing_until_consumed(
    client: Client, router: respx.MockRouter
) -> None:
    stream = client.records(START, sources=["costs"])
    assert router.calls.call_count == 0
    route = router.get("/organization/costs").respond(
        json={"object": "page", "data": [], "has_more": False, "next_page": None}
    )
    assert await resolve(stream) == []
    assert route.call_count == 1


@pytest.mark.parametrize("cls", [OpenAIClient, AsyncOpenAIClient])
def test_missing_key_names_the_variable(
    cls: type[OpenAIClient] | type[AsyncOpenAIClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_ADMIN_KEY"):
        cls()
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "   ")
    with pytest.raises(ConfigError, match="OPENAI_ADMIN_KEY"):
        cls()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"base_url": "ftp://api.openai.com/v1"}, "http"),
        ({"base_url": "/v1"}, "absolute"),
        ({"timeout": -1}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
    ],
)
def test_bad_client_arguments(mode: str, kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        make_client(mode, **kwargs)


def test_prepare_rejects_a_filter_the_endpoint_does_not_document() -> None:
    with pytest.raises(ConfigError, match="unsupported filter 'models'") as caught:
        prepare(
            VECTOR_STORES,
            START,
            None,
            bucket_width="1d",
            group_by=None,
            limit=None,
            filters={"models": ["gpt-4o"]},
        )
    assert "'project_ids'" in str(caught.value)


def test_table_names_match_the_source_literal() -> None:
    assert get_args(SourceName) == SOURCE_NAMES
    assert len(ENDPOINTS) == 11
