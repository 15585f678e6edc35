"""Time windows: every ``start``/``end`` argument in usagekit goes through here.

Accepted forms: an aware ``datetime`` (converted to UTC), a naive ``datetime`` (taken as UTC),
a ``date`` (midnight UTC), unix seconds (``int`` or ``float``), or an ISO-8601 string
(``"2026-11-01"``, ``"2026-11-01T12:00:00+01:00"``, ``"2026-11-01T12:00Z"``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from dateutil.parser import isoparse

from .errors import ConfigError

__all__ = [
    "CLOCK_ENV",
    "TimeLike",
    "Window",
    "as_utc",
    "month_start",
    "open_window_is_empty",
    "pin_clock",
    "resolve_window",
    "to_unix",
    "utcnow",
]

TimeLike = datetime | date | int | float | str
"""Anything usagekit accepts as a point in time."""

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


CLOCK_ENV = "USAGEKIT_NOW"
"""The environment variable that starts usagekit's clock at a given instant (for tests and
reproducible demos): ``USAGEKIT_NOW=2026-12-01T00:30Z usagekit report --demo``. The clock then
runs on from that instant at the real rate."""

_pinned: Callable[[], datetime] | None = None
_pin_lock = threading.Lock()
_env_anchor: tuple[str, datetime, float] | None = None


def _env_now() -> datetime | None:
    """The clock given by :data:`CLOCK_ENV`, anchored at its first reading; None when unset."""
    global _env_anchor
    text = os.environ.get(CLOCK_ENV)
    if not text:
        return None
    anchor = _env_anchor
    if anchor is None or anchor[0] != text:
        anchor = (text, as_utc(text, name=CLOCK_ENV), time.monotonic())
        _env_anchor = anchor
    return anchor[1] + timedelta(seconds=time.monotonic() - anchor[2])


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime: usagekit's one clock.

    Everything in usagekit that asks "what time is it" (default windows, month to date, the
    sandbox's "now", sync's lookback, budgets, the command) reads it here. It is the wall clock
    unless pinned with :func:`pin_clock` or started elsewhere with :data:`CLOCK_ENV`.

    Raises:
        ConfigError: :data:`CLOCK_ENV` is set but is not an ISO-8601 instant.
    """
    pinned = _pinned
    if pinned is not None:
        return pinned()
    moment = _env_now()
    return datetime.now(UTC) if moment is None else moment


@contextmanager
def pin_clock(at: TimeLike | Callable[[], datetime], *, tick: bool = False) -> Iterator[None]:
    """Pin usagekit's clock for the duration of a ``with`` block (all threads).

    ``with usagekit.pin_clock("2026-12-01T00:30Z"): report = usagekit.collect(clients)`` answers
    "month to date" as it would have been answered at that instant. Pins nest; leaving the block
    restores the previous clock.

    Args:
        at: The instant, in any accepted time form, or a function returning an aware datetime.
        tick: When True the clock starts at ``at`` and runs on at the real rate; when False
            (default) it stays at ``at``.

    Yields:
        Nothing; the clock is pinned inside the block.

    Raises:
        ConfigError: ``at`` is not an accepted time form.
    """
    global _pinned
    if callable(at):
        source = at
    else:
        instant = as_utc(at, name="at")
        if tick:
            began = time.monotonic()

            def source() -> datetime:
                return instant + timedelta(seconds=time.monotonic() - began)

        else:

            def source() -> datetime:
                return instant

    with _pin_lock:
        previous, _pinned = _pinned, source
    try:
        yield
    finally:
        with _pin_lock:
            _pinned = previous


def month_start(moment: datetime | None = None) -> datetime:
    """Midnight UTC on the first day of ``moment``'s UTC month (default: now).

    The default window start of every ``records()`` and of :func:`usagekit.collect`.
    """
    current = (moment or utcnow()).astimezone(UTC)
    return datetime(current.year, current.month, 1, tzinfo=UTC)


def open_window_is_empty(start: datetime, now: datetime) -> bool:
    """Whether "from ``start`` up to now" is empty because it begins in the current second.

    At the first instant of a month, "this month so far" is such a window: it has no data yet,
    which is an answer, not an error. A start later than that is still an error.

    Args:
        start: The window's start (aware).
        now: The current time (aware).

    Returns:
        True when no whole second lies between ``start`` and ``now``.

    Raises:
        ConfigError: ``start`` is a second or more after ``now``.
    """
    if start - now >= timedelta(seconds=1):
        raise ConfigError(
            f"start must be before end, got start={start.isoformat()} end=now ({now.isoformat()})"
        )
    return to_unix(start) >= to_unix(now)


def as_utc(value: TimeLike, *, name: str = "time") -> datetime:
    """Convert any accepted time form to an aware UTC datetime.

    Args:
        value: The point in time (see the module docstring for accepted forms).
        name: The argument's name, used in the error message.

    Returns:
        An aware datetime in UTC.

    Raises:
        ConfigError: The value is of another type, not finite, or not a valid ISO-8601 string.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a datetime, date, unix seconds or ISO-8601 string")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be finite unix seconds, got {value!r}")
        try:
            return _EPOCH + timedelta(seconds=value)
        except OverflowError:
            raise ConfigError(f"{name} is out of range: {value!r} unix seconds") from None
    if isinstance(value, str):
        try:
            parsed = isoparse(value.strip())
        except (ValueError, OverflowError):
            raise ConfigError(f"{name} is not an ISO-8601 date or datetime: {value!r}") from None
        return as_utc(parsed, name=name)
    raise ConfigError(
        f"{name} must be a datetime, date, unix seconds or ISO-8601 string, "
        f"got {type(value).__name__}"
    )


def to_unix(value: datetime) -> int:
    """Return whole unix seconds for an aware datetime (rounded down)."""
    return math.floor((value - _EPOCH).total_seconds())


@dataclass(frozen=True)
class Window:
    """A half-open time window ``[start, end)`` in UTC; ``end`` None means open-ended."""

    start: datetime
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        """Return whether ``moment`` lies in the window."""
        return moment >= self.start and (self.end is None or moment < self.end)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Return whether ``[start, end)`` overlaps the window."""
        return end > self.start and (self.end is None or start < self.end)


def resolve_window(
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    default_start: datetime | None = None,
) -> Window:
    """Validate and normalize a ``start``/``end`` pair.

    Args:
        start: The inclusive start, in any accepted form; None to use ``default_start``.
        end: The exclusive end, in any accepted form, or None for "up to now".
        default_start: What a missing start means; when None, ``start`` is required.

    Returns:
        The window in UTC.

    Raises:
        ConfigError: A bound is malformed, ``start`` is missing, or ``start >= end``.
    """
    if start is None:
        if default_start is None:
            raise ConfigError("start is required")
        start_dt = default_start
    else:
        start_dt = as_utc(start, name="start")
    end_dt = None if end is None else as_utc(end, name="end")
    if end_dt is not None and start_dt >= end_dt:
        raise ConfigError(
            f"start must be before end, got start={start_dt.isoformat()} end={end_dt.isoformat()}"
        )
    return Window(start_dt, end_dt)
