"""Fetch independent items a few at once, and hand the answers back in the items' order.

:func:`async_in_order` is the walk OpenRouter's and Anthropic's days share (and any provider
whose window is a list of independent requests). It is written once, async, on the fanout
primitives of :mod:`usagekit._core._fanout`, and ``scripts/unasync.py`` generates the sync
twin (``_ordered.in_order``): the async one runs each fetch as a task on the running loop, the
sync one in a worker thread sharing the sync client, each fetch in a copy of the caller's
context (so coverage declarations, a pinned clock and the attempt deadline reach it). What it
guarantees, in both twins:

* **Order.** The answers come in the items' order, whatever order the server answers in: the
  order of the stream depends only on the data, never on timing.
* **Bound.** At most ``limit`` fetches are under way at once, and at most ``limit`` answers
  are held (those waiting and the one the consumer works on). An item is started when the
  consumer comes back for the next answer, so while it works on an answer ``limit - 1`` are
  under way: a consumer that sends a request of its own meanwhile (a day's later page) stays
  within ``limit``. Memory is bounded by ``limit`` answers, never by the number of items.
* **Errors.** A failed fetch raises its error at its turn in the order, after every answer
  before it was yielded; the fetches still under way are then cancelled and awaited (async) or
  dropped if not started and waited for if running (sync: at most ``limit - 1`` requests, each
  within its timeout and retries; not waited for on ``KeyboardInterrupt``), as they are when
  the consumer stops early (``break``, ``aclose()``; close the iterator, e.g. with
  ``contextlib.aclosing``, to make that immediate rather than left to the garbage collector).
* **Limit 1** is the sequential walk: an item is fetched only when the consumer asks for its
  answer (sync: on the consumer's own thread), one request at a time, in the items' order.

Every fetch shares the client's transport: its connection pool, rate limiter and retry policy.

:func:`async_pages_ahead` is the other half of a day walk's overlap, for an endpoint whose pages
depend on each other (a cursor): it requests each page's successor as soon as the page arrives,
so that the request is on its way while the consumer normalizes the page.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable
from typing import Any, TypeVar

from ._async_transport import AsyncTransport
from ._cursor import DEFAULT_PAGING, CursorPaging, CursorWalk
from ._fanout import AsyncFanout, AsyncHandle
from ._http import RequestSpec

__all__ = ["AsyncAnswers", "async_in_order", "async_pages_ahead"]

T = TypeVar("T")
R = TypeVar("R")
PageT = TypeVar("PageT")

# unasync: sync Answers = Generator[R, None, None]
AsyncAnswers = AsyncGenerator[R, None]  # unasync: remove
"""The answers of :func:`async_in_order`, in the items' order (closable, to stop early)."""


async def async_in_order(
    # unasync: sync fetch: Callable[[T], R],
    fetch: Callable[[T], Coroutine[Any, Any, R]],  # unasync: remove
    items: Iterable[T],
    *,
    limit: int,
) -> AsyncAnswers[R]:
    """Fetch at most ``limit`` items at once and yield their answers in the items' order.

    Args:
        fetch: Fetches one item (a coroutine function in the async twin, a function in the sync
            one, which calls it in worker threads).
        items: The items, read lazily (at most ``limit`` ahead of the consumer).
        limit: The most fetches under way at once (at least 1; 1 for one after another).

    Yields:
        Each item's answer, in the items' order.

    Raises:
        ValueError: ``limit`` is below 1 (a caller validates a user's value beforehand, with
            :func:`~usagekit._core._fanout.check_concurrency`).
        Exception: What a fetch raised, at its turn.
    """
    queue = iter(items)
    async with AsyncFanout(limit) as fanout:
        pending: deque[AsyncHandle[R]] = deque()
        for item in itertools.islice(queue, fanout.limit):
            pending.append(await fanout.start(fetch, item))
        while pending:
            answer = await fanout.result(pending.popleft())
            yield answer
            for item in itertools.islice(queue, 1):  # the consumer is back: one more
                pending.append(await fanout.start(fetch, item))


async def async_pages_ahead(
    transport: AsyncTransport,
    spec: RequestSpec,
    page_type: type[PageT],
    *,
    paging: CursorPaging = DEFAULT_PAGING,
) -> AsyncAnswers[PageT]:
    """Walk a cursor-paginated endpoint one page ahead: each page's successor is requested as
    soon as the page arrives, so that it is on its way while the consumer works on the page.

    The pages and their order are a sequential walk's (the same cursor logic as the pagers'); at
    most one request is in flight and two pages are held. A cursor error still comes right
    after the page that carried it. On an error or an early close the request under way is
    cancelled (async) or dropped once it ends (sync).

    Args:
        transport: The client's transport.
        spec: The first page's request.
        page_type: The model each page is validated into.
        paging: Where a page keeps its items and its cursor.

    Yields:
        The pages, in order.

    Raises:
        PaginationError: The cursors do not terminate.
        APIError: A page failed after its retries (and the transport's other errors).
    """
    config = transport.config
    walk = CursorWalk(spec, paging, provider=config.provider, max_pages=config.max_pages)

    async def fetch(request: RequestSpec) -> PageT:
        page: PageT = await transport.request(request, page_type)
        return page

    # two slots, one used: a fanout of 1 would run the sync twin's fetch on the caller's thread
    async with AsyncFanout(2) as fanout:
        pending: AsyncHandle[PageT] | None = await fanout.start(fetch, spec)
        while pending is not None:
            page = await fanout.result(pending)
            pending = None
            failure: Exception | None = None
            try:
                following = walk.advance(page)
            except Exception as error:  # raised after its page, as a sequential walk does
                failure, following = error, None
            if following is not None:
                pending = await fanout.start(fetch, following)
            yield page
            if failure is not None:
                raise failure
