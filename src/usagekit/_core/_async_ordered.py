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
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable
from typing import Any, TypeVar

from ._fanout import AsyncFanout, AsyncHandle

__all__ = ["AsyncAnswers", "async_in_order"]

T = TypeVar("T")
R = TypeVar("R")

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
