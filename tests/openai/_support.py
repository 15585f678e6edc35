"""Helpers of the OpenAI tests: clients per mode, fixture pages, request inspection."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from usagekit import AsyncOpenAIClient, OpenAIClient

BASE_URL = "https://api.openai.test/v1"
KEY = "sk-admin-test-0123456789"
FIXTURES = Path(__file__).parent / "fixtures"

USAGE_NAMES = (
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "vector_stores",
    "code_interpreter_sessions",
    "file_search_calls",
    "web_search_calls",
)
ALL_NAMES = (*USAGE_NAMES, "costs")

Client = OpenAIClient | AsyncOpenAIClient


def path_of(name: str) -> str:
    """The URL path of an endpoint under the base URL."""
    return "/organization/costs" if name == "costs" else f"/organization/usage/{name}"


def load(kind: str, name: str) -> dict[str, Any]:
    """A fixture page: ``kind`` is ``published`` (the API reference's example) or ``pages``."""
    data: dict[str, Any] = json.loads((FIXTURES / kind / f"{name}.json").read_text())
    return data


def single(name: str) -> dict[str, Any]:
    """The published example of an endpoint, as a last page."""
    return load("published", name) | {"has_more": False, "next_page": None}


def make_client(mode: str, **kwargs: Any) -> Client:
    """A sync or async client on the test base URL, without retries unless asked."""
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    api_key = kwargs.pop("api_key", KEY)
    if mode == "sync":
        return OpenAIClient(api_key, **kwargs)
    return AsyncOpenAIClient(api_key, **kwargs)


async def close(client: Client) -> None:
    """Close either kind of client."""
    if isinstance(client, OpenAIClient):
        client.close()
    else:
        await client.aclose()


def endpoint_method(client: Client, name: str) -> Callable[..., Any]:
    """``client.usage.<name>`` or ``client.costs``."""
    if name == "costs":
        return client.costs
    method: Callable[..., Any] = getattr(client.usage, name)
    return method


def params_of(request: httpx.Request) -> list[tuple[str, str]]:
    """The query of a sent request as ordered pairs (repeated keys kept)."""
    return list(request.url.params.multi_items())
