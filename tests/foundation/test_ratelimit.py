"""The adaptive limiter, simulated against a token-bucket server on a fake clock (no waiting)."""

from __future__ import annotations

import random

import pytest

from usagekit import AdaptiveRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TokenBucket:
    """The server: ``rate`` tokens a second, ``burst`` at most; the exact wait when empty."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.updated = float(burst), 0.0

    def take(self) -> float | None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


def _backfill(
    limiter: AdaptiveRateLimiter | None, clock: Clock, server: TokenBucket, requests: int
) -> tuple[float, int, int]:
    """A sequential walk; the retry loop sleeps each hint. Returns (time, sent, throttled)."""
    sent = throttled = 0
    latency = 0.002
    for _ in range(requests):
        while True:
            if limiter is not None:
                clock.now += limiter.reserve()
            sent += 1
            wait = server.take()
            clock.now += latency
            if wait is None:
                if limiter is not None:
                    limiter.on_success()
                break
            throttled += 1
            if limiter is not None:
                limiter.on_throttle(wait)
            clock.now += wait
    return clock.now, sent, throttled


@pytest.mark.parametrize(("rate", "burst"), [(5.0, 1), (20.0, 5), (50.0, 10), (200.0, 20)])
def test_learns_the_rate_and_stays_under_it(rate: float, burst: int) -> None:
    clock = Clock()
    limiter = AdaptiveRateLimiter(clock=clock)
    requests = 1500
    elapsed, sent, throttled = _backfill(limiter, clock, TokenBucket(rate, burst, clock), requests)
    ideal = (requests - burst) / rate
    assert elapsed <= 1.2 * ideal
    assert throttled / sent < 0.05
    assert limiter.rate is not None and limiter.rate == pytest.approx(rate, rel=0.2)


def test_a_plain_retry_loop_hammers_the_server() -> None:
    clock = Clock()
    _, sent, throttled = _backfill(None, clock, TokenBucket(20.0, 5, clock), 500)
    assert throttled / sent > 0.4  # what the limiter is for


def test_dormant_until_a_throttle_follows_a_success() -> None:
    clock = Clock()
    limiter = AdaptiveRateLimiter(clock=clock)
    assert limiter.reserve() == 0.0 and limiter.rate is None
    limiter.on_throttle(0.5)  # no success yet: nothing to learn, stays dormant
    assert limiter.reserve() == 0.0 and limiter.rate is None
    limiter.on_success()
    clock.now = 0.1
    limiter.on_throttle(0.4)  # next token 0.5 s after the last success: about 2 a second
    assert limiter.rate == pytest.approx(0.97 / 0.5)
    assert limiter.reserve() == pytest.approx(0.4)  # nothing before the hint
    assert limiter.reserve() == pytest.approx(0.4 + 0.5 / 0.97)


def test_throttles_without_a_hint_back_off_multiplicatively() -> None:
    clock = Clock()
    limiter = AdaptiveRateLimiter(clock=clock, min_rate=1.0)
    limiter.on_success()
    limiter.on_throttle(0.1)
    before = limiter.rate
    assert before is not None
    limiter.on_throttle(None)
    assert limiter.rate == pytest.approx(before * 0.85)


def test_pacing_that_does_not_make_429s_rare_is_given_up() -> None:
    """429s that persist however slowly the client goes are not caused by its rate."""
    clock = Clock()
    limiter = AdaptiveRateLimiter(clock=clock, window=8)
    limiter.on_success()
    limiter.on_throttle(0.05)
    assert limiter.rate is not None
    for _ in range(8):
        limiter.on_throttle(None)
    assert limiter.rate is None  # dormant again: the retry loop still honours each hint
    limiter.on_success()
    limiter.on_throttle(0.05)
    assert limiter.rate is None  # and it lets a while pass before listening again


def _random_faults(limiter: AdaptiveRateLimiter | None, clock: Clock, share: float) -> float:
    rng = random.Random(3)
    for _ in range(2000):
        while True:
            if limiter is not None:
                clock.now += limiter.reserve()
            clock.now += 0.002
            if rng.random() < share:
                hint = rng.uniform(0.005, 0.025)
                if limiter is not None:
                    limiter.on_throttle(hint)
                clock.now += hint
                continue
            if limiter is not None:
                limiter.on_success()
            break
    return clock.now


@pytest.mark.parametrize(("share", "slowdown"), [(0.3, 1.5), (0.1, 2.0)])
def test_transient_429s_do_not_slow_an_opted_in_client_to_a_crawl(
    share: float, slowdown: float
) -> None:
    """Random 429s with short hints: pacing must give up, not spiral down."""
    paced_clock, plain_clock = Clock(), Clock()
    paced = _random_faults(AdaptiveRateLimiter(clock=paced_clock), paced_clock, share)
    plain = _random_faults(None, plain_clock, share)
    assert paced <= slowdown * plain
