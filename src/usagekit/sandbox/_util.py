"""Shared helpers for the sandbox: time, deterministic randomness, money and JSON."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from .._core.clock import utcnow

__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "UTC",
    "Clock",
    "HashRandom",
    "TimeLike",
    "decimal_text",
    "digest",
    "dumps",
    "floor_to",
    "iso_z",
    "money",
    "next_month",
    "parse_iso8601",
    "quantize_money",
    "to_datetime",
    "to_unix",
]

UTC = timezone.utc
MINUTE = 60
HOUR = 3600
DAY = 86400

_MICRO = Decimal("0.000001")
_T = TypeVar("_T")

TimeLike = datetime | int | float | str
"""A point in time: a ``datetime`` (naive is UTC), unix seconds, or ISO-8601 text."""


def digest(*parts: object, size: int = 8) -> bytes:
    """Hash a sequence of values into ``size`` bytes (BLAKE2b).

    Args:
        *parts: Values joined by their ``str`` forms.
        size: Digest size in bytes.

    Returns:
        The digest bytes.
    """
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).digest()


class HashRandom:
    """A deterministic random source seeded from a hash of its parts.

    Only ``random.Random.random`` is used, whose output for an integer seed is stable
    across Python versions, so the generated data does not change with the interpreter.

    Args:
        *parts: Values that identify the stream (seed, kind, hour, ...).
    """

    __slots__ = ("_random",)

    def __init__(self, *parts: object) -> None:
        self._random = random.Random(int.from_bytes(digest(*parts), "big"))

    def random(self) -> float:
        """Return a float in ``[0, 1)``."""
        return self._random.random()

    def below(self, n: int) -> int:
        """Return an integer in ``[0, n)``."""
        return min(int(self._random.random() * n), n - 1)

    def between(self, low: int, high: int) -> int:
        """Return an integer in ``[low, high]``."""
        return low + self.below(high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        """Return a float in ``[low, high)``."""
        return low + (high - low) * self._random.random()

    def chance(self, probability: float) -> bool:
        """Return True with the given probability."""
        return self._random.random() < probability

    def normal(self) -> float:
        """Return a standard normal deviate (Box-Muller)."""
        u1 = 1.0 - self._random.random()
        u2 = self._random.random()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def lognormal(self, sigma: float) -> float:
        """Return a log-normal factor with median 1."""
        return math.exp(sigma * self.normal())

    def poisson(self, lam: float) -> int:
        """Return a Poisson deviate (Knuth for small means, normal approximation above 30)."""
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, round(lam + math.sqrt(lam) * self.normal()))
        limit = math.exp(-lam)
        count = 0
        product = self._random.random()
        while product > limit:
            count += 1
            product *= self._random.random()
        return count

    def pick(self, items: Sequence[_T]) -> _T:
        """Return one item, uniformly."""
        return items[self.below(len(items))]

    def weighted(self, items: Sequence[_T], weights: Sequence[float]) -> _T:
        """Return one item with probability proportional to its weight."""
        total = sum(weights)
        point = self._random.random() * total
        for item, weight in zip(items, weights, strict=True):
            point -= weight
            if point < 0:
                return item
        return items[-1]

    def sample(self, population: int, k: int) -> list[int]:
        """Return ``k`` distinct integers from ``range(population)``, sorted."""
        pool = list(range(population))
        for i in range(k):
            j = i + self.below(population - i)
            pool[i], pool[j] = pool[j], pool[i]
        return sorted(pool[:k])


def to_datetime(value: TimeLike) -> datetime:
    """Convert a time to an aware UTC ``datetime``.

    Args:
        value: An aware or naive (taken as UTC) ``datetime``, unix seconds, or ISO-8601 text.

    Returns:
        The same instant in UTC.

    Raises:
        ValueError: For text that is not ISO-8601.
    """
    if isinstance(value, str):
        return parse_iso8601(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return datetime.fromtimestamp(value, UTC)


def to_unix(value: TimeLike) -> int:
    """Convert a time to whole unix seconds (floored).

    Args:
        value: A ``datetime`` (naive is UTC), unix seconds, or ISO-8601 text.

    Returns:
        Unix seconds.
    """
    if isinstance(value, (datetime, str)):
        return math.floor(to_datetime(value).timestamp())
    return math.floor(value)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def floor_to(ts: int, width: int) -> int:
    """Floor unix seconds to a multiple of ``width``."""
    return ts - ts % width


def iso_z(value: TimeLike) -> str:
    """Format a time as ISO-8601 UTC with milliseconds, e.g. ``2026-04-01T00:00:00.000Z``."""
    dt = to_datetime(value)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_iso8601(text: str) -> datetime:
    """Parse an ISO-8601 date or date-time (Python 3.10's ``fromisoformat`` is too strict).

    A value without an offset is taken as UTC.

    Args:
        text: For example ``2026-04-01``, ``2026-04-01T00:00:00Z`` or
            ``2026-04-01T02:00:00.123+02:00``.

    Returns:
        An aware ``datetime`` in UTC.

    Raises:
        ValueError: If the text is not such a value.
    """
    match = _ISO_RE.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO-8601 date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
        tz = timezone(sign * timedelta(minutes=minutes))
    parsed = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        micro,
        tzinfo=tz,
    )
    return parsed.astimezone(UTC)


def quantize_money(value: Decimal) -> Decimal:
    """Round a money amount to 6 decimal places (banker's rounding)."""
    return value.quantize(_MICRO, rounding=ROUND_HALF_EVEN)


_SIGNIFICANT = 15
_DECIMAL_MARK = "\x00decimal:"
_DECIMAL_RE = re.compile(r'"\\u0000decimal:(-?[0-9]+(?:\.[0-9]+)?)"')


def money(value: Decimal) -> Decimal:
    """Check an amount before it goes into a JSON body, where it is written as a number.

    Amounts are sums of values quantized to 6 decimal places; ``dumps`` writes them as their
    exact decimal text (``0.000001``, never ``1e-06``). With at most 15 significant digits a
    client that parses the number as a float and prints it with ``repr`` gets the same decimal
    back.

    Args:
        value: The amount.

    Returns:
        The same amount.

    Raises:
        ValueError: With more than 6 decimal places or more than 15 significant digits.
    """
    _, digits, exponent = value.normalize().as_tuple()
    if not isinstance(exponent, int) or exponent < -6:
        raise ValueError(f"{value} has more than 6 decimal places")
    if len(digits) > _SIGNIFICANT:
        raise ValueError(f"{value} has more than {_SIGNIFICANT} significant digits")
    return value


def decimal_text(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros (``15``, ``0.12``, ``0.000001``)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _encode_extra(value: object) -> object:
    if isinstance(value, Decimal):
        return _DECIMAL_MARK + decimal_text(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(body: object) -> bytes:
    """Serialize a JSON body to UTF-8 bytes (compact); ``Decimal`` values become exact numbers."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_encode_extra)
    if "\\u0000decimal:" in text:
        text = _DECIMAL_RE.sub(r"\1", text)
    return text.encode("utf-8")


class Clock:
    """The sandbox's notion of "now": real time, or a fixed instant for reproducible tests.

    Args:
        now: A fixed instant, or None for real time.
    """

    def __init__(self, now: TimeLike | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed: datetime | None = None if now is None else to_datetime(now)

    @property
    def fixed(self) -> bool:
        """Whether the clock is frozen at a fixed instant."""
        return self._fixed is not None

    def now(self) -> datetime:
        """Return the current instant (aware, UTC)."""
        with self._lock:
            fixed = self._fixed
        return fixed if fixed is not None else utcnow()

    def now_ts(self) -> int:
        """Return the current instant as whole unix seconds."""
        return to_unix(self.now())

    def set(self, now: TimeLike | None) -> None:
        """Freeze the clock at ``now``, or return to real time with None."""
        with self._lock:
            self._fixed = None if now is None else to_datetime(now)
