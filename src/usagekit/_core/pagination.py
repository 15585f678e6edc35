"""Lazy cursor pagination: the cursor logic once, a sync and an async pager over it.

A pager does nothing until iterated. Iterating it yields items across every page, fetching the
next page only when the consumer reaches it and keeping every filter on every page;
``iter_pages()`` yields whole pages. Each page request is retried on its own by the transport, so
a failure on page 40 does not restart the walk.

The cursor logic is :mod:`usagekit._core._cursor`'s; :class:`AsyncPager` is written once
(:mod:`usagekit._core._async_pagination`) and :class:`Pager` generated from it by
``scripts/unasync.py``. This module is the import path the providers use.
"""

from __future__ import annotations

from ._async_pagination import AsyncPager
from ._cursor import MAX_CURSOR_LENGTH, CursorPaging
from ._pagination import Pager

__all__ = ["MAX_CURSOR_LENGTH", "AsyncPager", "CursorPaging", "Pager"]
