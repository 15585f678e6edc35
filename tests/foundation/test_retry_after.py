"""Retry hints: the table of what servers send, and a parser that never raises."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit import RetryPolicy, parse_retry_after
from usagekit._core.errors import APIConnectionError, APIError, RateLimitError
from usagekit._core.retry import retry_after_from_headers
from usagekit._providers.basedash._info import retry_after_from_body

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
FUTURE = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
PAST = format_datetime(NOW - timedelta(hours=1), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        # retry-after-ms wins over everything
        ({"retry-after-ms": "250", "retry-after": "9"}, None, 0.25),
        ({"retry-after-ms": "0"}, None, 0.0),
        ({"retry-after-ms": "1500.5"}, None, 1.5005),
        # a malformed retry-after-ms falls through to Retry-After
        ({"retry-after-ms": "nan", "retry-after": "3"}, None, 3.0),
        ({"retry-after-ms": "-5", "retry-after": "4"}, None, 4.0),
        ({"retry-after-ms": "soon"}, None, None),
        # Retry-After as seconds
        ({"retry-after": "7"}, None, 7.0),
        ({"retry-after": " 2.5 "}, None, 2.5),
        ({"retry-after": "nan"}, None, None),
        ({"retry-after": "inf"}, None, None),
        ({"retry-after": "-5"}, None, None),
        ({"retry-after": "1e309"}, None, None),
        ({"retry-after": ""}, None, None),
        # Retry-After as an HTTP-date
        ({"retry-after": FUTURE}, None, 30.0),
        ({"retry-after": PAST}, None, 0.0),
        ({"retry-after": "Sun, 99 Foo 2026 25:61:00 GMT"}, None, None),
        ({"retry-after": "Wed, 21 Oct 2015"}, None, None),
        # Basedash's body
        ({}, {"error": {"title": "RateLimitExceeded", "retryAfterMs": 1200}}, 1.2),
        ({}, {"error": {"retryAfterMs": Decimal("1500.5")}}, 1.5005),
        ({}, {"error": {"retryAfterMs": "1200"}}, None),
        ({}, {"error": {"retryAfterMs": True}}, None),
        ({}, {"error": {"retryAfterMs": -1}}, None),
        ({}, {"error": {"retryAfterMs": float("nan")}}, None),
        ({}, {"error": {"retryAfterMs": 10**400}}, None),
        ({}, {"error": "RateLimitExceeded"}, None),
        ({}, ["not", "a", "mapping"], None),
        ({}, None, None),
        # headers win over the body
        ({"retry-after": "2"}, {"error": {"retryAfterMs": 9000}}, 2.0),
        # a malformed header falls back to the body
        ({"retry-after": "bogus"}, {"error": {"retryAfterMs": 100}}, 0.1),
    ],
)
def test_parse_retry_after_table(
    headers: dict[str, str], body: Any, expected: float | None
) -> None:
    result = parse_retry_after(httpx.Headers(headers), body, now=NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, abs=1e-6)


@given(
    headers=st.dictionaries(
        st.sampled_from(["retry-after", "retry-after-ms", "x-other"]),
        st.text(max_size=40),
    ),
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(["error", "retryAfterMs", "x"]), children, max_size=3)
        ),
        max_leaves=8,
    ),
)
def test_parser_never_raises_and_never_returns_a_negative_or_infinite_wait(
    headers: dict[str, str], body: Any
) -> None:
    result = parse_retry_after(headers, body, now=NOW)
    assert result is None or (0.0 <= result < float("inf"))


def test_header_lookup_is_case_insensitive_with_httpx_headers() -> None:
    assert retry_after_from_headers(httpx.Headers({"Retry-After-Ms": "20"})) == 0.02
    assert retry_after_from_body({"error": {"retryAfterMs": 20}}) == 0.02


def _api_error(
    status: int, retry_after: float | None = None, should: bool | None = None
) -> APIError:
    cls = RateLimitError if status == 429 else APIError
    return cls("x", status_code=status, provider="p", retry_after=retry_after, should_retry=should)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (_api_error(429), True),
        (_api_error(408), True),
        (_api_error(500), True),
        (_api_error(502), True),
        (_api_error(503), True),
        (_api_error(599), True),
        (_api_error(400), False),
        (_api_error(401), False),
        (_api_error(404), False),
        (_api_error(429, retry_after=121.0), False),  # above the cap: raise, do not sleep
        (_api_error(429, retry_after=120.0), True),
        (_api_error(503, should=False), False),  # x-should-retry: false
        (_api_error(409, should=True), True),  # x-should-retry: true
        (APIConnectionError("reset", provider="p"), True),
        (ValueError("not ours"), False),
    ],
)
def test_policy_decides_what_is_retried(error: BaseException, retryable: bool) -> None:
    assert RetryPolicy().is_retryable(error) is retryable


def test_policy_waits_for_the_hint_and_backs_off_exponentially_without_one() -> None:
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=5.0, jitter=0.0)
    assert policy.wait_for(_api_error(429, retry_after=3.25), 1) == 3.25
    assert [policy.wait_for(_api_error(503), n) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 5, 5]


def test_jitter_only_shortens_backoff_within_its_fraction() -> None:
    policy = RetryPolicy(initial_backoff=2.0, jitter=0.5)
    waits = {policy.backoff(1) for _ in range(200)}
    assert all(1.0 <= w <= 2.0 for w in waits)
    assert len(waits) > 1
