"""Fetching the days of a window: one after another (sync), or a few at once (async).

The two are small and differ in more than names, so both are written here by hand; the
generated sync client calls :func:`in_order` where the async one calls :func:`async_in_order`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["CONCURRENCY", "async_in_order", "in_order"]

CONCURRENCY = 4
"""The most days the async client fetches at once."""

T = TypeVar("T")
R = TypeVar("R")


def in_order(
    fetch: Callable[[T], R], items: Iterable[T], *, limit: int = CONCURRENCY
) -> Iterator[R]:
    """Fetch each item in turn and yield the answers in order.

    Args:
        fetch: Fetches one item.
        items: The items.
        limit: Unused (the sync walk is sequential); the async twin's bound.

    Yields:
        Each item's answer, in the items' order.
    """
    for item in items:
        yield fetch(item)


async def async_in_order(
    fetch: Callable[[T], Awaitable[R]], items: Iterable[T], *, limit: int = CONCURRENCY
) -> AsyncIterator[R]:
    """Fetch at most ``limit`` items at once and yield the answers in the items' order.

    The next fetch starts as soon as one is taken, so ``limit`` stay in flight. The first
    failure (in order) is raised; the fetches still in flight are then cancelled, as they are
    when the caller stops iterating early.

    Args:
        fetch: Fetches one item.
        items: The items.
        limit: The most fetches in flight (at least 1).

    Yields:
        Each item's answer, in the items' order.
    """
    queue = iter(items)
    pending: deque[asyncio.Future[R]] = deque(
        asyncio.ensure_future(fetch(item)) for item in itertools.islice(queue, max(1, limit))
    )
    try:
        while pending:
            answer = await pending.popleft()
            for item in itertools.islice(queue, 1):
                pending.append(asyncio.ensure_future(fetch(item)))
            yield answer
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
