"""Shared test helpers: one scenario body, run for the sync and the async client."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, Iterable
from typing import Any

import pytest


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Parametrize a test over the sync and async clients."""
    return str(request.param)


async def resolve(value: Any) -> Any:
    """Await ``value`` if it is awaitable; drain it into a list if it is an (async) iterator.

    Lets one scenario body call ``await resolve(client.method(...))`` whatever the client kind.
    """
    if inspect.isawaitable(value):
        value = await value
    if isinstance(value, AsyncIterable):
        return [item async for item in value]
    lazy = hasattr(value, "__next__") or hasattr(value, "iter_pages")
    if isinstance(value, Iterable) and lazy:
        return list(value)
    return value


class SleepRecorder:
    """Stands in for the transport's sleep: records each wait, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def install_sleep(client: Any, recorder: SleepRecorder) -> None:
    """Replace a client's transport sleep with ``recorder`` (sync or async as fits)."""
    transport = client._transport
    is_async = inspect.iscoroutinefunction(transport.sleep)
    transport.sleep = recorder.async_sleep if is_async else recorder


@pytest.fixture
def sleeps() -> SleepRecorder:
    """A fresh sleep recorder; install it with ``install_sleep(client, sleeps)``."""
    return SleepRecorder()
