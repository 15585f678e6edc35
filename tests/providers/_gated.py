"""A transport for the day walks' tests (OpenRouter's and Anthropic's days), sync and async: it
answers with a function of the request, records the order requests arrive in, counts those
under way, can hold the first ones until enough have arrived (the gate) and can hang chosen
requests (async), so that a test sees the walk's concurrency without timing anything."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

import httpx

WAIT = 10.0
"""Seconds a gated or hung request waits before it goes on anyway (the test then fails on what
it asserts, instead of hanging)."""

Answer = Callable[[httpx.Request], httpx.Response]


class GatedTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answers ``answer(request)`` for the sync and the async client.

    Args:
        answer: The response to a request.
        gate: The first requests wait until this many have arrived (so that they are under
            way at once); 1 for no wait.
        hang: Requests (async) that are never answered: they wait until cancelled.
    """

    def __init__(
        self,
        answer: Answer,
        *,
        gate: int = 1,
        hang: Callable[[httpx.Request], bool] | None = None,
    ) -> None:
        self.answer = answer
        self.gate = gate
        self.hang = hang
        self._lock = threading.Condition()
        self._opened: asyncio.Event | None = None
        self.arrived = 0
        self.inflight = 0
        self.peak = 0
        self.sent: list[httpx.URL] = []
        self.cancelled: list[httpx.URL] = []

    def _enter(self, request: httpx.Request) -> None:
        with self._lock:
            self.arrived += 1
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
            self.sent.append(request.url)
            self._lock.notify_all()

    def _leave(self) -> None:
        with self._lock:
            self.inflight -= 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a sync request (after the gate)."""
        assert self.hang is None or not self.hang(request), "a sync request cannot hang here"
        self._enter(request)
        try:
            with self._lock:
                self._lock.wait_for(lambda: self.arrived >= self.gate, timeout=WAIT)
            response = self.answer(request)
            response.request = request
            return response
        finally:
            self._leave()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer an async request (after the gate), or hang until cancelled."""
        self._enter(request)
        try:
            if self._opened is None:
                self._opened = asyncio.Event()
            if self.arrived >= self.gate:
                self._opened.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._opened.wait(), WAIT)
            if self.hang is not None and self.hang(request):
                try:
                    await asyncio.sleep(WAIT)
                except asyncio.CancelledError:
                    self.cancelled.append(request.url)
                    raise
            response = self.answer(request)
            response.request = request
            return response
        finally:
            self._leave()


def http_client(mode: str, transport: GatedTransport) -> Any:
    """An httpx client of the mode's kind over ``transport``."""
    return (
        httpx.Client(transport=transport)
        if mode == "sync"
        else httpx.AsyncClient(transport=transport)
    )


async def close_http(client: Any) -> None:
    """Close either kind of httpx client."""
    if isinstance(client, httpx.AsyncClient):
        await client.aclose()
    else:
        client.close()


def walk_threads() -> list[threading.Thread]:
    """The walks' worker threads still alive."""
    return [t for t in threading.enumerate() if t.name.startswith("usagekit-walk")]


def other_tasks() -> set[asyncio.Task[Any]]:
    """The running loop's unfinished tasks other than the current one (none outside a loop)."""
    try:
        current = asyncio.current_task()
    except RuntimeError:
        return set()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


async def take(iterator: Any, count: int) -> list[Any]:
    """The first ``count`` items of a sync or async iterator (which stays open)."""
    out = []
    for _ in range(count):
        out.append(await anext(iterator) if hasattr(iterator, "__anext__") else next(iterator))
    return out


async def close_iterator(iterator: Any) -> None:
    """Close a sync or async generator early."""
    if hasattr(iterator, "aclose"):
        await iterator.aclose()
    else:
        iterator.close()


async def drain_until_error(iterator: Any) -> tuple[list[Any], BaseException | None]:
    """Every item of a sync or async iterator up to its error (None when it ended)."""
    out: list[Any] = []
    try:
        if hasattr(iterator, "__anext__"):
            async for item in iterator:
                out.append(item)
        else:
            for item in iterator:
                out.append(item)
    except Exception as error:
        return out, error
    return out, None
