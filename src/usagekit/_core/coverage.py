"""What span a provider's answer actually covered, told to :func:`usagekit.collect`.

Some providers can only answer for a span of their own: Basedash reports its current billing
period, Unsiloed its current 30-day cycle, OpenAI costs whole UTC days. When such a span does
not match the window asked for, the provider code says so with :func:`declare`; ``collect``
captures the declarations of each provider's ``records()`` (a context variable, so concurrent
providers in threads and tasks never mix) and puts them on that provider's
:class:`~usagekit.ProviderStatus`. Outside ``collect`` a declaration goes nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Coverage", "capture", "declare", "span_text"]


@dataclass(frozen=True)
class Coverage:
    """A span a provider's data covers, and why it differs from the window.

    Attributes:
        start: The span's start (UTC).
        end: The span's end (UTC, exclusive).
        note: A sentence for people, e.g. "reports only its current billing period".
    """

    start: datetime
    end: datetime
    note: str


_SINK: ContextVar[list[Coverage] | None] = ContextVar("usagekit_coverage", default=None)


def declare(start: datetime, end: datetime, note: str) -> None:
    """Tell the surrounding :func:`capture` (if any) what span the data covers.

    Args:
        start: The span's start.
        end: The span's end (exclusive).
        note: Why the span is what it is.
    """
    sink = _SINK.get()
    if sink is not None:
        sink.append(Coverage(start, end, note))


@contextmanager
def capture() -> Iterator[list[Coverage]]:
    """Collect the declarations made in this context (this thread or task) inside the block.

    Yields:
        The list the declarations are appended to.
    """
    sink: list[Coverage] = []
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)


def _moment(value: datetime) -> str:
    midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
    return f"{value:%Y-%m-%d}" if midnight else f"{value:%Y-%m-%d %H:%M}"


def span_text(start: datetime, end: datetime) -> str:
    """A half-open span for people: ``2026-12-01 to 2027-01-01`` (times shown when not midnight).

    Args:
        start: The span's start (UTC).
        end: The span's end (UTC, exclusive).

    Returns:
        The text.
    """
    return f"{_moment(start)} to {_moment(end)}"
