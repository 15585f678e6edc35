"""Misbehaviour on request: injected faults, rate limiting, and the counters that watch clients."""

from __future__ import annotations

import dataclasses
import math
import random
import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_FAULT_WEIGHTS",
    "FAULT_KINDS",
    "EarlyRetry",
    "Fault",
    "FaultController",
    "FaultSettings",
    "SandboxStats",
]

FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "bad_gateway",
    "unavailable",
    "drop",
    "truncate",
    "slow",
)
"""Fault kinds:

* ``rate_limit``: 429 with the provider's own retry hint;
* ``server_error``, ``bad_gateway``, ``unavailable``: 500, 502 (an HTML gateway page), 503;
* ``drop``: the connection is closed without any response;
* ``truncate``: a ``Content-Length`` larger than the body sent, then the connection closes;
* ``slow``: the normal answer after ``slow_seconds``.
"""

DEFAULT_FAULT_WEIGHTS: Mapping[str, float] = {
    "rate_limit": 3.0,
    "server_error": 1.0,
    "bad_gateway": 1.0,
    "unavailable": 1.0,
    "drop": 1.0,
    "truncate": 1.0,
    "slow": 1.0,
}
"""How often each fault kind is picked when ``fault_rate`` fires (relative weights)."""


@dataclass(frozen=True)
class FaultSettings:
    """Knobs for misbehaviour; change them at run time with ``Sandbox.configure``.

    Attributes:
        fault_rate: Chance (0..1) that a request to a known endpoint gets a random fault.
        fault_weights: Relative weight of each fault kind (missing kinds weigh 0).
        retry_after_ms: Range of the retry hints of injected 429s, in milliseconds.
        slow_seconds: Delay of a ``slow`` fault.
        latency: Seconds added before every response.
        rate_limit: Requests per second allowed per credential (token bucket), or None.
        rate_limit_burst: Token bucket size.
        endless_cursor: OpenAI pages always say ``has_more`` with a fresh cursor.
        cursor_cycle: OpenAI's last page returns a cursor handed out before.
    """

    fault_rate: float = 0.0
    fault_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FAULT_WEIGHTS))
    retry_after_ms: tuple[int, int] = (10, 100)
    slow_seconds: float = 0.2
    latency: float = 0.0
    rate_limit: float | None = None
    rate_limit_burst: int = 2
    endless_cursor: bool = False
    cursor_cycle: bool = False

    def validate(self) -> None:
        """Check the values.

        Raises:
            ValueError: If a value is out of range or a fault kind is unknown.
        """
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        unknown = set(self.fault_weights) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}; known: {FAULT_KINDS}")
        if any(w < 0 for w in self.fault_weights.values()) or (
            self.fault_rate > 0 and sum(self.fault_weights.values()) <= 0
        ):
            raise ValueError("fault_weights must be non-negative and not all zero")
        low, high = self.retry_after_ms
        if not 1 <= low <= high:
            raise ValueError("retry_after_ms must be a range (low, high) with 1 <= low <= high")
        if self.slow_seconds < 0 or self.latency < 0:
            raise ValueError("slow_seconds and latency must not be negative")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be positive (requests per second) or None")
        if self.rate_limit_burst < 1:
            raise ValueError("rate_limit_burst must be at least 1")
        if self.endless_cursor and self.cursor_cycle:
            raise ValueError("endless_cursor and cursor_cycle exclude each other")


@dataclass(frozen=True)
class Fault:
    """A fault chosen for one request (``wait_ms`` is the retry hint of a ``rate_limit``)."""

    kind: str
    wait_ms: int = 0


@dataclass(frozen=True)
class EarlyRetry:
    """A request repeated before the retry hint of its 429 had passed.

    Attributes:
        provider: Provider name.
        method: HTTP method.
        path: URL path.
        query: Query string (parameters sorted).
        hint_ms: The wait the 429 asked for.
        waited_ms: How long after the 429 was sent the repeat arrived.
    """

    provider: str
    method: str
    path: str
    query: str
    hint_ms: int
    waited_ms: float

    @property
    def early_by_ms(self) -> float:
        """How much too early the repeat came."""
        return self.hint_ms - self.waited_ms


RequestKey = tuple[str, str, str, str, str]
"""(credential, provider, method, path, sorted query) of a request."""


class FaultController:
    """Decides each request's fault, runs the rate limiter and remembers retry hints.

    Args:
        settings: Initial settings.
        fault_seed: Seed of the fault random stream.
    """

    def __init__(self, settings: FaultSettings, fault_seed: int = 0) -> None:
        settings.validate()
        self._settings = settings
        self._lock = threading.Lock()
        self._random = random.Random(fault_seed)
        self._queued: deque[tuple[str, str | None]] = deque()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._hints: dict[RequestKey, tuple[float, int]] = {}

    @property
    def settings(self) -> FaultSettings:
        """The settings in force."""
        return self._settings

    def configure(self, fault_seed: int | None = None, **changes: Any) -> FaultSettings:
        """Change settings (keyword names as ``FaultSettings``), and optionally re-seed.

        Args:
            fault_seed: New seed for the fault random stream.
            **changes: ``FaultSettings`` fields to change.

        Returns:
            The new settings.

        Raises:
            ValueError: For unknown names or invalid values.
        """
        known = {f.name for f in dataclasses.fields(FaultSettings)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}; known: {sorted(known)}")
        if "fault_weights" in changes and changes["fault_weights"] is None:
            changes["fault_weights"] = dict(DEFAULT_FAULT_WEIGHTS)
        settings = dataclasses.replace(self._settings, **changes)
        settings.validate()
        with self._lock:
            if (settings.rate_limit, settings.rate_limit_burst) != (
                self._settings.rate_limit,
                self._settings.rate_limit_burst,
            ):
                self._buckets.clear()
            self._settings = settings
            if fault_seed is not None:
                self._random = random.Random(fault_seed)
        return settings

    def inject(self, kind: str, times: int = 1, provider: str | None = None) -> None:
        """Queue a fault for the next ``times`` requests (to ``provider``, or to any)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
        with self._lock:
            self._queued.extend([(kind, provider)] * times)

    def clear_injected(self) -> None:
        """Drop faults queued by ``inject``."""
        with self._lock:
            self._queued.clear()

    def draw(self, provider: str) -> Fault | None:
        """Choose the fault for one request to a known endpoint, if any."""
        with self._lock:
            settings = self._settings
            kind = None
            for index, (queued, target) in enumerate(self._queued):
                if target is None or target == provider:
                    kind = queued
                    del self._queued[index]
                    break
            if kind is None and settings.fault_rate > 0:
                if self._random.random() >= settings.fault_rate:
                    return None
                kinds = [k for k in FAULT_KINDS if settings.fault_weights.get(k, 0) > 0]
                weights = [settings.fault_weights[k] for k in kinds]
                kind = self._random.choices(kinds, weights)[0]
            if kind is None:
                return None
            wait = 0
            if kind == "rate_limit":
                wait = self._random.randint(*settings.retry_after_ms)
            return Fault(kind, wait)

    def acquire(self, credential: str, now: float) -> int:
        """Take a rate-limit token for a credential.

        Args:
            credential: Who is asking.
            now: ``time.monotonic()`` of the request.

        Returns:
            0 when allowed, else the milliseconds (rounded up) until a token is available.
        """
        with self._lock:
            rate = self._settings.rate_limit
            if rate is None:
                return 0
            burst = float(self._settings.rate_limit_burst)
            tokens, last = self._buckets.get(credential, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[credential] = (tokens - 1.0, now)
                return 0
            self._buckets[credential] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate * 1000.0))

    def remember_hint(self, key: RequestKey, hint_ms: int, issued_at: float) -> None:
        """Note a 429's hint, sent at ``issued_at`` (monotonic seconds)."""
        with self._lock:
            self._hints[key] = (issued_at, hint_ms)

    def check_retry(self, key: RequestKey, arrived: float) -> tuple[int, float] | None:
        """If this request repeats one that got a 429 too recently, say by how much.

        Args:
            key: The request.
            arrived: ``time.monotonic()`` when it arrived.

        Returns:
            (hint_ms, waited_ms) for an early repeat (1 ms tolerance), else None.
        """
        with self._lock:
            hint = self._hints.pop(key, None)
        if hint is None:
            return None
        issued_at, hint_ms = hint
        waited_ms = (arrived - issued_at) * 1000.0
        if waited_ms < hint_ms - 1.0:
            return hint_ms, waited_ms
        return None

    def reset(self) -> None:
        """Forget rate-limit buckets and retry hints."""
        with self._lock:
            self._buckets.clear()
            self._hints.clear()


class SandboxStats:
    """Live counters of what the sandbox served (thread-safe; reads return copies)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()
        self._faults: Counter[str] = Counter()
        self._early: list[EarlyRetry] = []
        self._internal: list[str] = []

    def record_request(self, provider: str, endpoint: str, status: int) -> None:
        """Count a request (status 0 for a dropped connection)."""
        with self._lock:
            self._requests[(provider, endpoint, status)] += 1

    def record_fault(self, kind: str) -> None:
        """Count an injected fault."""
        with self._lock:
            self._faults[kind] += 1

    def record_early_retry(self, early: EarlyRetry) -> None:
        """Keep an early retry."""
        with self._lock:
            self._early.append(early)

    def record_internal_error(self, text: str) -> None:
        """Keep a sandbox bug report (an exception while answering)."""
        with self._lock:
            self._internal.append(text)

    @property
    def requests(self) -> dict[tuple[str, str, int], int]:
        """Requests served by (provider, endpoint, status)."""
        with self._lock:
            return dict(self._requests)

    @property
    def faults(self) -> dict[str, int]:
        """Faults injected, by kind."""
        with self._lock:
            return dict(self._faults)

    @property
    def early_retries(self) -> list[EarlyRetry]:
        """Requests repeated before their 429's hint had passed."""
        with self._lock:
            return list(self._early)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of exceptions raised while answering (should stay empty)."""
        with self._lock:
            return list(self._internal)

    @property
    def total_requests(self) -> int:
        """All requests counted."""
        with self._lock:
            return sum(self._requests.values())

    def count(
        self, provider: str | None = None, endpoint: str | None = None, status: int | None = None
    ) -> int:
        """Requests matching every given criterion.

        Args:
            provider: ``openai``, ``basedash``, ``unsiloed``, ``daramex`` (or ``unknown``).
            endpoint: For example ``usage/completions``, ``costs``, ``ai-usage``, ``heatmap``.
            status: HTTP status (0: dropped connection).

        Returns:
            The number of requests.
        """
        with self._lock:
            return sum(
                n
                for (p, e, s), n in self._requests.items()
                if (provider is None or p == provider)
                and (endpoint is None or e == endpoint)
                and (status is None or s == status)
            )

    def snapshot(self) -> dict[str, Any]:
        """A plain-dict copy of every counter."""
        with self._lock:
            return {
                "requests": {f"{p} {e} {s}": n for (p, e, s), n in sorted(self._requests.items())},
                "faults": dict(self._faults),
                "early_retries": [dataclasses.asdict(e) for e in self._early],
                "internal_errors": list(self._internal),
                "total_requests": sum(self._requests.values()),
            }

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._early.clear()
            self._internal.clear()

    def __repr__(self) -> str:
        snap = self.snapshot()
        return (
            f"SandboxStats(total_requests={snap['total_requests']}, faults={snap['faults']}, "
            f"early_retries={len(snap['early_retries'])})"
        )
