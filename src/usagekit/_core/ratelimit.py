"""Client-side pacing that learns a server's rate limit from its 429 hints.

In the spirit of the AWS SDKs' adaptive retry mode: a plain retry loop hammers a rate-limited
server (every other request of a long walk comes back 429). Opt in with
``client.with_options(adaptive_rate_limit=True)`` for bulk backfills. The limiter stays out of
the way until the server throttles a request that followed a success; the exact wait in the
server's
hint then tells how far apart the server's tokens are, and the limiter paces requests a little
below that rate. It then probes gently upward and backs off multiplicatively on each further
429 (additive increase, multiplicative decrease), so it follows a limit that changes.

No I/O here: :meth:`AdaptiveRateLimiter.reserve` returns how long to wait and the transport
sleeps, the same way for sync and async.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["AdaptiveRateLimiter"]


class AdaptiveRateLimiter:
    """Paces requests at a rate learned from 429 hints; dormant until the first throttle.

    One limiter is shared by every request of a client (and of its ``with_options`` copies),
    from any thread or task.

    Args:
        headroom: Fraction of the estimated server rate to pace at after a throttle.
        backoff: Multiplier applied to the current rate on a further throttle.
        probe: Relative rate increase after each success (additive-increase step).
        min_rate: Floor, in requests per second (hintless 429s back off down to it).
        window: How many recent responses, while pacing, tell whether pacing helps.
        noise: When more than this share of them are still 429s, the 429s are not caused by
            the client's rate (transient faults): the limiter stops pacing instead of slowing
            down further, and lets a growing number of responses pass before it listens to
            429s again.
        clock: Monotonic clock in seconds (inject one in tests).
    """

    def __init__(
        self,
        *,
        headroom: float = 0.97,
        backoff: float = 0.85,
        probe: float = 0.001,
        min_rate: float = 0.5,
        window: int = 16,
        noise: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.headroom = headroom
        self.noise = noise
        self.backoff = backoff
        self.probe = probe
        self.min_rate = min_rate
        self.clock = clock
        self._lock = threading.Lock()
        self._rate: float | None = None
        self._next_slot = 0.0
        self._last_success: float | None = None
        self._window = window
        self._outcomes: deque[bool] = deque(maxlen=window)
        self._noise_verdicts = 0
        self._quiet = 0  # responses to let pass before learning from a 429 again

    @property
    def rate(self) -> float | None:
        """The pacing rate in requests per second, or None while dormant."""
        return self._rate

    def __repr__(self) -> str:
        rate = "dormant" if self._rate is None else f"{self._rate:.3f}/s"
        return f"AdaptiveRateLimiter({rate})"

    def reserve(self) -> float:
        """Claim the next request slot.

        Returns:
            Seconds to wait before sending (0.0 while dormant or when the slot is free).
        """
        with self._lock:
            if self._rate is None:
                return 0.0
            now = self.clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self._rate
            return slot - now

    def on_success(self) -> None:
        """Record an accepted request: probe the rate upward a little."""
        with self._lock:
            self._last_success = self.clock()
            if self._rate is not None:
                self._rate *= 1.0 + self.probe
                self._outcomes.append(False)
            elif self._quiet:
                self._quiet -= 1

    def on_throttle(self, retry_after: float | None) -> None:
        """Record a 429 and adapt.

        Args:
            retry_after: The server's hint in seconds, when it gave one.
        """
        with self._lock:
            now = self.clock()
            estimate: float | None = None
            if retry_after is not None and self._last_success is not None:
                interval = now + retry_after - self._last_success
                if interval > 0:
                    estimate = self.headroom / interval
            if self._rate is None:
                if self._quiet:
                    self._quiet -= 1  # recently judged noise: not listening yet
                    return
                if estimate is None:
                    return  # nothing to learn from yet; the retry loop honours the hint
                self._rate = max(estimate, self.min_rate)
                self._outcomes.clear()
            else:
                self._outcomes.append(True)
                window = self._outcomes
                if len(window) == window.maxlen and sum(window) > self.noise * len(window):
                    # Pacing did not make 429s rare: they are not caused by our rate (transient
                    # faults). Stop pacing rather than slow to a crawl; hints are still honoured.
                    self._rate = None
                    self._outcomes.clear()
                    self._noise_verdicts += 1
                    self._quiet = 4 * self._window * 2 ** min(self._noise_verdicts, 8)
                    return
                reduced = self._rate * self.backoff
                target = reduced if estimate is None else min(reduced, estimate)
                self._rate = max(target, self.min_rate)
            if retry_after is not None:
                self._next_slot = max(self._next_slot, now + retry_after)
