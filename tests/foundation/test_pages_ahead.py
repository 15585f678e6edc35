"""The one-page-ahead cursor walk (``_core._async_ordered.async_pages_ahead`` and its generated
twin): a sequential walk's pages, the successor requested before the consumer has the page,
a cursor error right after its page, a failed page at its turn, early close."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from usagekit import PaginationError
from usagekit._core._async_ordered import async_pages_ahead
from usagekit._core._ordered import pages_ahead
from usagekit._core.transport import RequestSpec

WAIT = 10.0
SPEC = RequestSpec("/things", "things")


@dataclass
class Page:
    data: list[int]
    has_more: bool
    next_page: str | None


@dataclass
class FakeTransport:
    """Serves ``pages`` pages (cursor ``c<n>``), sync and async; records what was asked."""

    pages: int
    fail: int | None = None
    loop_at: int | None = None
    hang_from: int | None = None
    config: Any = field(default_factory=lambda: SimpleNamespace(provider="test", max_pages=50))
    asked: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def _page(self, spec: RequestSpec) -> Page:
        cursor = dict(spec.params).get("page")
        number = 1 if cursor is None else int(cursor[1:])
        self.asked.append(number)
        if number > 1:
            self.arrived.set()
        if number == self.fail:
            raise LookupError("synthetic failure")
        more = number < self.pages
        following = "c2" if number == self.loop_at else f"c{number + 1}"
        return Page([number], more, following if more else None)

    def request(self, spec: RequestSpec, page_type: type[Any]) -> Page:
        return self._page(spec)

    async def arequest(self, spec: RequestSpec, page_type: type[Any]) -> Page:
        page = self._page(spec)
        if self.hang_from is not None and page.data[0] >= self.hang_from:
            try:
                await asyncio.sleep(WAIT)
            except asyncio.CancelledError:
                self.cancelled.append(page.data[0])
                raise
        return page


class AsyncSide:
    """The async face of a :class:`FakeTransport`."""

    def __init__(self, inner: FakeTransport) -> None:
        self.inner = inner
        self.config = inner.config

    async def request(self, spec: RequestSpec, page_type: type[Any]) -> Page:
        return await self.inner.arequest(spec, page_type)


def walk_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("usagekit-walk")]


def test_the_pages_of_a_sequential_walk_the_next_one_already_asked_for() -> None:
    transport = FakeTransport(pages=4)
    walk = pages_ahead(transport, SPEC, Page)  # type: ignore[arg-type]
    first = next(walk)
    assert transport.arrived.wait(WAIT)  # page 2 was asked for while page 1 is being read
    rest = list(walk)
    assert [page.data[0] for page in [first, *rest]] == [1, 2, 3, 4]
    assert transport.asked == [1, 2, 3, 4]
    assert walk_threads() == []


def test_a_cursor_error_comes_right_after_its_page() -> None:
    transport = FakeTransport(pages=5, loop_at=2)  # page 2 hands out page 2's cursor again
    got: list[int] = []

    def drain() -> None:
        for page in pages_ahead(transport, SPEC, Page):  # type: ignore[arg-type]
            got.append(page.data[0])

    with pytest.raises(PaginationError, match="returned before"):
        drain()
    assert got == [1, 2]
    assert walk_threads() == []


def test_a_failed_page_is_raised_at_its_turn() -> None:
    transport = FakeTransport(pages=5, fail=3)
    got: list[int] = []

    def drain() -> None:
        for page in pages_ahead(transport, SPEC, Page):  # type: ignore[arg-type]
            got.append(page.data[0])

    with pytest.raises(LookupError, match="synthetic"):
        drain()
    assert got == [1, 2]
    assert transport.asked == [1, 2, 3]
    assert walk_threads() == []


def test_closing_early_leaves_no_thread() -> None:
    transport = FakeTransport(pages=5)
    walk = pages_ahead(transport, SPEC, Page)  # type: ignore[arg-type]
    assert next(walk).data == [1]
    walk.close()
    assert walk_threads() == []
    assert transport.asked in ([1], [1, 2])


async def test_async_pages_and_errors_as_the_sync_twin() -> None:
    transport = FakeTransport(pages=3)
    got = [p.data[0] async for p in async_pages_ahead(AsyncSide(transport), SPEC, Page)]  # type: ignore[arg-type]
    assert got == [1, 2, 3] and transport.asked == [1, 2, 3]
    looping = FakeTransport(pages=5, loop_at=2)
    seen: list[int] = []

    async def drain() -> None:
        async for page in async_pages_ahead(AsyncSide(looping), SPEC, Page):  # type: ignore[arg-type]
            seen.append(page.data[0])

    with pytest.raises(PaginationError):
        await drain()
    assert seen == [1, 2]  # page 2's cursor is page 2's again: raised after page 2


async def test_async_early_close_cancels_the_page_under_way() -> None:
    transport = FakeTransport(pages=5, hang_from=2)
    walk = async_pages_ahead(AsyncSide(transport), SPEC, Page)  # type: ignore[arg-type]
    assert (await anext(walk)).data == [1]
    await walk.aclose()
    assert transport.cancelled == [2]
    current = asyncio.current_task()
    assert not [t for t in asyncio.all_tasks() if t is not current and not t.done()]
