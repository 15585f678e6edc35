"""Helpers of the page-walk tests: a transport serving synthetic OpenAI pages, which counts
simultaneous requests, can hold the first ones until enough have arrived (the gate), fail or
hang chosen pages; and the state checks that nothing of a walk is left behind."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
from collections.abc import Callable, Mapping, Set
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from tests.openai._support import ALL_NAMES, load

UTC = timezone.utc
T0 = datetime(2024, 11, 1, tzinfo=UTC)
"""The start of page 1's bucket; page ``k`` holds the day ``T0 + (k - 1)`` days."""
DAY = timedelta(days=1)
GATE_TIMEOUT = 10.0
"""Seconds a gated request waits for the others before it goes on anyway (the test then fails
on the count it asserts, instead of hanging)."""

Page = tuple[str, int]
"""An endpoint name and a page number (1-based)."""


def _name_of(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def page_of(record: Any) -> Page:
    """The synthetic page a record came from: its source and its day."""
    return record.source, (record.start - T0) // DAY + 1


def synthetic_page(name: str, number: int, pages: int) -> dict[str, Any]:
    """Page ``number`` of ``pages`` of endpoint ``name``: one bucket, the published example's."""
    body = copy.deepcopy(load("published", name))
    bucket = body["data"][0]
    start = int((T0 + (number - 1) * DAY).timestamp())
    bucket["start_time"], bucket["end_time"] = start, start + 86400
    body["data"] = [bucket]
    more = number < pages
    body["has_more"] = more
    body["next_page"] = f"{name}-{number + 1}" if more else None
    return body


async def _async_gate(transport: Any) -> None:
    """Wait until ``transport.gate`` requests have arrived (all on this loop), at most
    ``GATE_TIMEOUT``."""
    if transport.opened is None:
        transport.opened = asyncio.Event()
    if transport.arrived >= transport.gate:
        transport.opened.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(transport.opened.wait(), GATE_TIMEOUT)


class PagesTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves ``pages[name]`` pages for each endpoint, for the sync and the async client.

    Args:
        pages: Pages per endpoint name.
        gate: The first requests wait until this many have arrived (so that they are
            simultaneous); 1 for no wait.
        fail: Pages answered with this status instead.
        hang: Pages not answered (async only: the request waits until cancelled, or
            ``GATE_TIMEOUT``).
        edit: Called with each page and its body, to change the body.
    """

    def __init__(
        self,
        pages: Mapping[str, int],
        *,
        gate: int = 1,
        fail: Mapping[Page, int] | None = None,
        hang: Set[Page] = frozenset(),
        edit: Callable[[Page, dict[str, Any]], None] | None = None,
    ) -> None:
        self.pages = dict(pages)
        self.gate = gate
        self.fail = dict(fail or {})
        self.hang = set(hang)
        self.edit = edit
        self._lock = threading.Condition()
        self.opened: asyncio.Event | None = None
        self.arrived = 0
        self.inflight = 0
        self.peak = 0
        self.sent: list[Page] = []
        self.cancelled: list[Page] = []

    async def _async_gate(self) -> None:
        await _async_gate(self)

    def _which(self, request: httpx.Request) -> Page:
        name = _name_of(request.url.path)
        assert name in ALL_NAMES, request.url
        cursor = request.url.params.get("page")
        return name, 1 if cursor is None else int(cursor.rsplit("-", 1)[1])

    def _enter(self, page: Page) -> None:
        with self._lock:
            self.arrived += 1
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
            self.sent.append(page)
            self._lock.notify_all()

    def _leave(self) -> None:
        with self._lock:
            self.inflight -= 1

    def _answer(self, page: Page, request: httpx.Request) -> httpx.Response:
        status = self.fail.get(page)
        if status is not None:
            error = {"error": {"message": f"synthetic {status} on {page}", "type": "server"}}
            return httpx.Response(status, json=error, request=request)
        name, number = page
        body = synthetic_page(name, number, self.pages[name])
        if self.edit is not None:
            self.edit(page, body)
        return httpx.Response(200, json=body, request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a sync request (after the gate)."""
        page = self._which(request)
        assert page not in self.hang, "a sync request cannot be cancelled: do not hang one"
        self._enter(page)
        try:
            with self._lock:
                self._lock.wait_for(lambda: self.arrived >= self.gate, timeout=GATE_TIMEOUT)
            return self._answer(page, request)
        finally:
            self._leave()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer an async request (after the gate), or hang until cancelled."""
        page = self._which(request)
        self._enter(page)
        try:
            await self._async_gate()
            if page in self.hang:
                try:  # until cancelled; answered after GATE_TIMEOUT, so a bug fails, not hangs
                    await asyncio.sleep(GATE_TIMEOUT)
                except asyncio.CancelledError:
                    self.cancelled.append(page)
                    raise
            return self._answer(page, request)
        finally:
            self._leave()


def http_client_for(mode: str, transport: PagesTransport) -> httpx.Client | httpx.AsyncClient:
    """An httpx client of the mode's kind over ``transport``."""
    if mode == "sync":
        return httpx.Client(transport=transport)
    return httpx.AsyncClient(transport=transport)


async def close_http(client: httpx.Client | httpx.AsyncClient) -> None:
    """Close either kind of httpx client."""
    if isinstance(client, httpx.AsyncClient):
        await client.aclose()
    else:
        client.close()  # noqa: ASYNC212 - an in-memory or loopback pool: closes at once


def at(number: int) -> datetime:
    """The start of page ``number``'s bucket."""
    return T0 + (number - 1) * DAY


class CountingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sends over a real transport (loopback), counting simultaneous requests, each counted
    until its body is read; the first requests wait until ``gate`` of them have arrived.

    Args:
        inner: The real transport (``httpx.HTTPTransport`` or ``httpx.AsyncHTTPTransport``).
        gate: See :class:`PagesTransport`.
    """

    def __init__(self, inner: Any, *, gate: int = 1) -> None:
        self.inner = inner
        self.gate = gate
        self._lock = threading.Condition()
        self.opened: asyncio.Event | None = None
        self.arrived = 0
        self.inflight = 0
        self.peak = 0

    def _enter(self) -> None:
        with self._lock:
            self.arrived += 1
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
            self._lock.notify_all()

    def _leave(self) -> None:
        with self._lock:
            self.inflight -= 1

    async def _async_gate(self) -> None:
        await _async_gate(self)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send a sync request (after the gate) and read its body."""
        self._enter()
        try:
            with self._lock:
                self._lock.wait_for(lambda: self.arrived >= self.gate, timeout=GATE_TIMEOUT)
            response: httpx.Response = self.inner.handle_request(request)
            response.read()
            return response
        finally:
            self._leave()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send an async request (after the gate) and read its body."""
        self._enter()
        try:
            await self._async_gate()
            response: httpx.Response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self._leave()

    def close(self) -> None:
        """Close the real transport (sync)."""
        self.inner.close()

    async def aclose(self) -> None:
        """Close the real transport (async)."""
        await self.inner.aclose()
