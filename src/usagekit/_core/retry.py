"""Retry decisions, written once for sync and async (no I/O here).

A :class:`RetryPolicy` decides whether a failure is retried and how long to wait; tenacity runs
the loop (``Retrying`` for sync, ``AsyncRetrying`` for async) with the same stop, wait and retry
objects, so the two paths cannot drift apart.

Order of precedence for the wait: a server hint (header ``retry-after-ms``, then header
``Retry-After`` as seconds or an HTTP-date, then a hint in the JSON body,
for a provider that sends one, such as Basedash's ``error.retryAfterMs``) wins over
exponential backoff with jitter. No retry is sent before the hint. A hint above
``max_retry_after`` is not slept: the error is raised with ``.retry_after`` set.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from tenacity import RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from .clock import utcnow
from .errors import APIConnectionError, APIError

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "non_negative_finite",
    "parse_retry_after",
    "retry_after_from_headers",
]

RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 409, 429, 500, 502, 503, 504})
"""Statuses retried by default; any other 5xx is retried too. 409 is a lock or concurrent
update conflict (openai-python retries it too)."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def non_negative_finite(value: float) -> float | None:
    """``value`` if it is a finite number >= 0, else None."""
    return value if math.isfinite(value) and value >= 0 else None


def _seconds(text: str, scale: float) -> float | None:
    try:
        value = float(text.strip())
    except (ValueError, OverflowError):
        return None
    checked = non_negative_finite(value)
    return None if checked is None else non_negative_finite(checked / scale)


def retry_after_from_headers(
    headers: Mapping[str, str], *, now: datetime | None = None
) -> float | None:
    """Read a retry hint in seconds from ``retry-after-ms`` or ``Retry-After``.

    Args:
        headers: Response headers (case-insensitive mapping such as ``httpx.Headers``, or a dict
            with lower-case keys).
        now: The current time, for HTTP-dates (defaults to the real clock).

    Returns:
        Seconds to wait (an HTTP-date in the past gives 0.0), or None when absent or malformed.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        value = _seconds(raw_ms, 1000.0)
        if value is not None:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    value = _seconds(raw, 1.0)
    if value is not None:
        return value
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None for garbage
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or utcnow()
    return max(0.0, (when - current).total_seconds())


def parse_retry_after(
    headers: Mapping[str, str],
    body: Any = None,
    *,
    now: datetime | None = None,
    body_hint: Callable[[Any], float | None] | None = None,
) -> float | None:
    """Return the server's retry hint in seconds, in usagekit's order of precedence.

    Args:
        headers: Response headers.
        body: The parsed JSON body, if any.
        now: The current time, for HTTP-dates.
        body_hint: The provider's reader of a hint in its error bodies
            (:attr:`ProviderInfo.body_retry_hint <usagekit._core.provider.ProviderInfo>`), if
            it sends one; read only when the headers carry no hint.

    Returns:
        Seconds, or None when the server gave no usable hint. Never raises.
    """
    from_headers = retry_after_from_headers(headers, now=now)
    if from_headers is not None or body_hint is None:
        return from_headers
    return body_hint(body)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.

    Attributes:
        max_retries: Retries after the first attempt (so ``max_retries + 1`` attempts at most).
        initial_backoff: First backoff, in seconds, when the server gives no hint.
        max_backoff: Ceiling of one backoff.
        jitter: Fraction of each backoff that is randomized (0 disables jitter).
        max_retry_after: A server hint above this many seconds is not slept; the error is raised
            with ``.retry_after`` set, for the caller to decide.
        max_total: Ceiling, in seconds, of one request's total wait between attempts: no retry
            is started whose wait would cross it (with the per-attempt timeout and
            ``max_retries``, this bounds a request's total time).
    """

    max_retries: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 120.0
    max_total: float = 300.0

    def __post_init__(self) -> None:
        from .errors import ConfigError

        if not _is_int(self.max_retries) or self.max_retries < 0:
            raise ConfigError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        for name in ("initial_backoff", "max_backoff", "max_retry_after", "max_total", "jitter"):
            value = getattr(self, name)
            if not _is_number(value) or non_negative_finite(float(value)) is None:
                raise ConfigError(f"{name} must be a non-negative finite number, got {value!r}")
        if self.jitter > 1:
            raise ConfigError("jitter must be between 0 and 1")

    def is_retryable(self, error: BaseException) -> bool:
        """Decide whether a failed attempt is worth another.

        Args:
            error: What the attempt raised.

        Returns:
            True for connection errors and timeouts, and for 408, 409, 429 and 5xx responses unless
            the server said ``x-should-retry: false`` or hinted a wait above the cap;
            ``x-should-retry: true`` makes any status retryable.
        """
        if isinstance(error, APIConnectionError):
            return True
        if not isinstance(error, APIError):
            return False
        if error.retry_after is not None and error.retry_after > self.max_retry_after:
            return False
        if error.should_retry is not None:
            return error.should_retry
        return error.status_code in RETRYABLE_STATUSES or error.status_code >= 500

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with jitter for the given attempt (1-based).

        Args:
            attempt: The number of the attempt that just failed.
            rng: Random source (for tests); defaults to the module's.

        Returns:
            Seconds to wait.
        """
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** max(0, attempt - 1))
        spread = (rng or random).random() * self.jitter
        return base * (1.0 - spread)

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait before the next attempt: the server's hint, or backoff.

        Args:
            error: What the attempt raised.
            attempt: The number of the attempt that just failed (1-based).

        Returns:
            Seconds to wait; never less than the server's hint.
        """
        hint = error.retry_after if isinstance(error, APIError) else None
        if hint is not None:
            return hint
        return self.backoff(attempt)

    def tenacity_arguments(self) -> dict[str, Any]:
        """The stop/wait/retry arguments for ``tenacity.Retrying`` or ``AsyncRetrying``."""
        return {
            "stop": stop_after_attempt(self.max_retries + 1) | _StopBeforeTotalWait(self.max_total),
            "wait": _PolicyWait(self),
            "retry": retry_if_exception(self.is_retryable),
            "reraise": True,
        }


class _StopBeforeTotalWait(stop_base):
    """Stop when the next wait would take the total waited beyond ``max_total``.

    Counts planned waits (tenacity's ``idle_for``), not the wall clock, so the bound holds the
    same with an injected sleep as with a real one.
    """

    def __init__(self, max_total: float) -> None:
        self.max_total = max_total

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for + (retry_state.upcoming_sleep or 0.0) > self.max_total


class _PolicyWait(wait_base):
    """tenacity wait strategy delegating to :meth:`RetryPolicy.wait_for`."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        return self.policy.wait_for(error, retry_state.attempt_number)
