"""Cursor pagination as data: how an API paginates, and the sans-I/O state of one walk.

:class:`CursorWalk` decides the request for the next page, or stops the walk, refusing cursors
that never end; the pagers (:mod:`usagekit._core._async_pagination` and its generated twin) only
fetch the pages it asks for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ._http import RequestSpec
from .errors import PaginationError
from .logs import redact

__all__ = ["DEFAULT_PAGING", "MAX_CURSOR_LENGTH", "CursorPaging", "CursorWalk"]

MAX_CURSOR_LENGTH = 4096
"""A cursor longer than this (characters) is refused with :class:`PaginationError`: real
cursors are tens of characters, and one sent back as a query parameter must fit in a URL."""


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


DEFAULT_PAGING = CursorPaging()
"""The paging of most APIs (OpenAI's): ``data``, ``has_more``, ``next_page`` sent as ``page``."""


class CursorWalk:
    """The sans-I/O state of one walk: decides the next request or stops it.

    Args:
        spec: The first page's request.
        paging: Where the page keeps its items and cursor.
        provider: Provider name, for errors.
        max_pages: The most pages one walk may fetch.
    """

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

        Args:
            page: The page just fetched.

        Returns:
            The next page's request (the cursor sent back as ``cursor_param``), or None.

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
