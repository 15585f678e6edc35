"""Lazy cursor pagination over an :class:`~usagekit._core._async_transport.AsyncTransport`.

A pager does nothing until iterated. Iterating it yields items across every page, fetching the
next page only when the consumer reaches it and keeping every filter on every page;
``iter_pages()`` yields whole pages. Each page request is retried on its own by the transport, so
a failure on page 40 does not restart the walk. The cursor logic is
:class:`~usagekit._core._cursor.CursorWalk`'s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from ._async_transport import AsyncTransport
from ._cursor import DEFAULT_PAGING, CursorPaging, CursorWalk
from ._http import RequestSpec

__all__ = ["AsyncPager"]

PageT = TypeVar("PageT")
ItemT = TypeVar("ItemT")


class AsyncPager(Generic[PageT, ItemT]):
    """A lazy, re-iterable walk over a paginated endpoint.

    ``async for item in pager`` yields every item of every page; ``pager.iter_pages()`` yields
    pages. Each iteration starts a fresh walk from the first page.

    Args:
        transport: The transport to fetch pages with.
        spec: The first page's request.
        page_type: The model each page is validated into.
        paging: Where a page keeps its items and its cursor.
    """

    def __init__(
        self,
        transport: AsyncTransport,
        spec: RequestSpec,
        page_type: type[PageT],
        *,
        paging: CursorPaging = DEFAULT_PAGING,
    ) -> None:
        self._transport = transport
        self._spec = spec
        self._page_type = page_type
        self._paging = paging

    def __repr__(self) -> str:
        return f"AsyncPager(endpoint={self._spec.endpoint!r})"

    async def iter_pages(self) -> AsyncIterator[PageT]:
        """Yield each page, fetching the next one only when asked.

        Yields:
            The pages, in order.

        Raises:
            PaginationError: The cursors do not terminate.
            APIError: A page failed after its retries.
        """
        config = self._transport.config
        walk = CursorWalk(
            self._spec, self._paging, provider=config.provider, max_pages=config.max_pages
        )
        spec: RequestSpec | None = self._spec
        while spec is not None:
            page = await self._transport.request(spec, self._page_type)
            yield page
            spec = walk.advance(page)

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        """Yield every item of every page (see :meth:`iter_pages` for the errors).

        Yields:
            The items, in order.
        """
        async for page in self.iter_pages():
            # unasync: sync yield from getattr(page, self._paging.items_attr)
            for item in getattr(page, self._paging.items_attr):  # unasync: remove
                yield item  # unasync: remove
