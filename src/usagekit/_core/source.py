"""What a record source is: the protocols every provider client fits, and which kind it is.

:func:`~usagekit.collect` and :func:`~usagekit._store.sync.sync` take any object with a
``provider`` name and a ``records(start, end)`` stream; :func:`is_async_client` tells whether
that stream is to be iterated with ``async for``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

from ._async_client import AsyncClientBase
from .records import UsageRecord

__all__ = ["AsyncRecordSource", "RecordSource", "is_async_client"]


class RecordSource(Protocol):
    """Anything with a provider name and a ``records(start, end)`` iterator: every sync client."""

    provider: str

    def records(self, start: Any = None, end: Any = None) -> Iterator[UsageRecord]: ...


class AsyncRecordSource(Protocol):
    """The async twin of :class:`RecordSource`: ``records`` is an async iterator."""

    provider: str

    def records(self, start: Any = None, end: Any = None) -> AsyncIterator[UsageRecord]: ...


def is_async_client(obj: object) -> bool:
    """Whether a record source is async: its ``records`` is iterated with ``async for``.

    Args:
        obj: A provider client, or anything with ``records(start, end)``.

    Returns:
        True for a usagekit async client, or any object whose ``records`` is an async
        generator function; False otherwise (a sync client, or anything else).
    """
    records = getattr(obj, "records", None)
    return isinstance(obj, AsyncClientBase) or inspect.isasyncgenfunction(records)
