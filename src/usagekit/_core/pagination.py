"""Lazy cursor pagination: the cursor logic once, a sync and an async pager over it.

A pager does nothing until iterated. Iterating it yields items across every page, fetching the
next page only when the consumer reaches it and keeping every filter on every page;
``iter_pages()`` yields whole pages. Each page request is retried on its own by the transport, so
a failure on page 40 does not restart the walk.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import PaginationError
from .logs import redact
from .transport import AsyncTransport, RequestSpec, Transport

__all__ = ["MAX_CURSOR_LENGTH", "AsyncPager", "CursorPaging", "Pager"]

MAX_CURSOR_LENGTH = 4096
"""A cursor longer than this (characters) is refused with :class:`PaginationError`: real
cursors are tens of characters, and one sent back as a query parameter must fit in a URL."""

PageT = TypeVar("PageT")
ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class CursorPaging:
    """How an API paginates: which attributes of a page hold the items and the cursor.

    Attributes:
        items_attr: Attribute of the page holding the list of items.
        has_more_attr: Attribute saying whether another page follows.
        cursor_attr: Attribute holding the next cursor.
        cursor_param: Query parameter the cursor is sent back as.
    """

    items_attr: str = "data"
    has_more_attr: str = "has_more"
    cursor_attr: str = "next_page"
    cursor_param: str = "page"


class _CursorWalk:
    """The sans-I/O state of one walk: decides the next request or stops it."""

    def __init__(
        self, spec: RequestSpec, paging: CursorPaging, *, provider: str, max_pages: int
    ) -> None:
        self.spec = spec
        self.paging = paging
        self.provider = provider
        self.max_pages = max_pages
        self.pages = 0
        self.seen: set[bytes] = set()  # digests: memory stays small whatever the cursors

    def _fail(self, message: str) -> PaginationError:
        return PaginationError(
            message, provider=self.provider, endpoint=self.spec.endpoint, pages=self.pages
        )

    def advance(self, page: Any) -> RequestSpec | None:
        """Record a fetched page and return the next request, or None at the end.

        Raises:
            PaginationError: ``has_more`` without a cursor, a cursor that is not a string or
                is longer than :data:`MAX_CURSOR_LENGTH`, a cursor seen before, or the page
                cap reached with more pages announced. A cursor is shown redacted and cut.
        """
        self.pages += 1
        if not getattr(page, self.paging.has_more_attr):
            return None
        cursor = getattr(page, self.paging.cursor_attr)
        if not cursor:
            raise self._fail("the page says has_more but gives no cursor")
        if not isinstance(cursor, str):
            raise self._fail(f"the cursor is a {type(cursor).__name__}, not a string")
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise self._fail(
                f"the cursor is {len(cursor):,} characters long, above the "
                f"{MAX_CURSOR_LENGTH:,} a cursor may have"
            )
        digest = hashlib.blake2b(cursor.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if digest in self.seen:
            shown = redact(cursor[:40])
            raise self._fail(f"the cursor {shown!r} was returned before (a cursor cycle)")
        if self.pages >= self.max_pages:
            raise self._fail(f"more than max_pages={self.max_pages} pages; the cursor never ends")
        self.seen.add(digest)
        return self.spec.with_param(self.paging.cursor_param, cursor)


class Pager(Generic[PageT, ItemT]):
    """A lazy, re-iterable walk over a paginated endpoint.

    ``for item in pager`` yields every item of every page; ``pager.iter_pages()`` yields pages.
    Each iteration starts a fresh walk from the first page.
    """

    def __init__(
        self,
        transport: Transport,
        spec: RequestSpec,
        page_type: type[PageT],
        *,
        paging: CursorPaging = CursorPaging(),
    ) -> None:
        self._transport = transport
        self._spec = spec
        self._page_type = page_type
        self._paging = paging

    def __repr__(self) -> str:
        return f"Pager(endpoint={self._spec.endpoint!r})"

    def iter_pages(self) -> Iterator[PageT]:
        """Yield each page, fetching the next one only when asked.

        Raises:
            PaginationError: The cursors do not terminate.
            APIError: A page failed after its retries.
        """
        config = self._transport.config
        walk = _CursorWalk(
            self._spec, self._paging, provider=config.provider, max_pages=config.max_pages
        )
        spec: RequestSpec | None = self._spec
        while spec is not None:
            page = self._transport.request(spec, self._page_type)
            yield page
            spec = walk.advance(page)

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.iter_pages():
            yield from getattr(page, self._paging.items_attr)


class AsyncPager(Generic[PageT, ItemT]):
    """The async twin of :class:`Pager`: ``async for item in pager``."""

    def __init__(
        self,
        transport: AsyncTransport,
        spec: RequestSpec,
        page_type: type[PageT],
        *,
        paging: CursorPaging = CursorPaging(),
    ) -> None:
        self._transport = transport
        self._spec = spec
        self._page_type = page_type
        self._paging = paging

    def __repr__(self) -> str:
        return f"AsyncPager(endpoint={self._spec.endpoint!r})"

    async def iter_pages(self) -> AsyncIterator[PageT]:
        """Yield each page, fetching the next one only when asked (see :meth:`Pager.iter_pages`)."""
        config = self._transport.config
        walk = _CursorWalk(
            self._spec, self._paging, provider=config.provider, max_pages=config.max_pages
        )
        spec: RequestSpec | None = self._spec
        while spec is not None:
            page = await self._transport.request(spec, self._page_type)
            yield page
            spec = walk.advance(page)

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.iter_pages():
            for item in getattr(page, self._paging.items_attr):
                yield item
