"""Fixtures of the OpenAI tests: a client per mode and a respx router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from tests.openai._support import BASE_URL, Client, close, make_client


@pytest.fixture
async def client(mode: str) -> AsyncIterator[Client]:
    """A client of the kind ``mode`` names, closed after the test."""
    made = make_client(mode)
    yield made
    await close(made)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """A respx router on the test base URL; any request it has no route for fails the test."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as mock:
        yield mock
