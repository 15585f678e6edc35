"""Summing records: which records count, tokens and cost per key, buckets that never split a
record."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from .._core.errors import ConfigError
from .._core.records import FLOW, TOKEN_METRICS, UsageRecord
from ._calendar import bucket_floor, bucket_next
from ._constants import COST_METRIC, REQUEST_METRICS, TOKEN_UNIT, TOTAL_TOKENS, Granularity
from ._results import Totals

__all__ = ["Interval", "Placer", "Tally", "by_interval", "check_record", "pick_currency"]

K = TypeVar("K", bound=Hashable)
J = TypeVar("J", bound=Hashable)


def _currency(value: object) -> str:
    """Return the ISO 4217 code ``value``, upper-cased; raise ConfigError if it is none."""
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise ConfigError(f"currency must be an ISO 4217 code such as 'USD', got {value!r}")
    return value.upper()


def check_record(record: object) -> UsageRecord:
    """Return ``record`` if it is a :class:`~usagekit.UsageRecord`.

    Raises:
        ConfigError: It is not.
    """
    if not isinstance(record, UsageRecord):
        raise ConfigError(f"records must be UsageRecord objects, got {type(record).__name__}")
    return record


class Tally(Generic[K]):
    """Sums tokens, cost and requests per key, applying the :data:`TOKEN_METRICS` rules."""

    def __init__(self) -> None:
        self.io: dict[K, dict[tuple[str, str], Decimal]] = {}
        self.total: dict[K, dict[tuple[str, str], Decimal]] = {}
        self.cost: dict[K, dict[str, Decimal]] = {}
        self.requests: dict[K, Decimal] = {}
        self.with_total: set[tuple[str, str]] = set()
        self.keys: dict[K, None] = {}

    @staticmethod
    def relevant(record: UsageRecord, *, requests: bool = False) -> bool:
        """Return whether ``record`` contributes tokens, cost (or requests) to a tally."""
        if record.kind != FLOW:
            return False
        if record.metric == COST_METRIC:
            return True
        if record.metric in TOKEN_METRICS:
            return record.unit == TOKEN_UNIT
        return requests and record.metric in REQUEST_METRICS

    def add(self, key: K, record: UsageRecord) -> None:
        """Add a record that :meth:`relevant` accepted."""
        self.keys[key] = None
        metric = record.metric
        if metric == COST_METRIC:
            slot = self.cost.setdefault(key, {})
            slot[record.unit] = slot.get(record.unit, Decimal(0)) + record.quantity
        elif metric in TOKEN_METRICS:
            origin = (record.provider, record.source)
            if metric == TOTAL_TOKENS:
                self.with_total.add(origin)
                target = self.total.setdefault(key, {})
            else:
                target = self.io.setdefault(key, {})
            target[origin] = target.get(origin, Decimal(0)) + record.quantity
        else:
            self.requests[key] = self.requests.get(key, Decimal(0)) + record.quantity

    def merge(self, key: K, other: Tally[J], other_key: J) -> None:
        """Add everything ``other`` holds under ``other_key`` to ``key``."""
        self.keys[key] = None
        self.with_total |= other.with_total
        for mine, theirs in ((self.io, other.io), (self.total, other.total)):
            source = theirs.get(other_key)
            if source:
                target = mine.setdefault(key, {})
                for origin, amount in source.items():
                    target[origin] = target.get(origin, Decimal(0)) + amount
        cost = other.cost.get(other_key)
        if cost:
            slot = self.cost.setdefault(key, {})
            for currency, amount in cost.items():
                slot[currency] = slot.get(currency, Decimal(0)) + amount
        if other_key in other.requests:
            self.requests[key] = self.requests.get(key, Decimal(0)) + other.requests[other_key]

    def tokens(self, key: K) -> Decimal:
        """Whole tokens under ``key``: ``total_tokens`` where reported, else input + output."""
        result = sum(self.total.get(key, {}).values(), Decimal(0))
        for origin, amount in self.io.get(key, {}).items():
            if origin not in self.with_total:
                result += amount
        return result

    def totals(self, key: K) -> Totals:
        """Tokens and cost under ``key``."""
        return Totals(self.tokens(key), dict(sorted(self.cost.get(key, {}).items())))

    def currencies(self) -> set[str]:
        """Every currency seen."""
        return {currency for slot in self.cost.values() for currency in slot}


def pick_currency(currencies: Iterable[str], requested: str | None) -> str | None:
    """Return the currency to report in.

    Args:
        currencies: The currencies seen in the records.
        requested: The currency asked for, or None for the only one seen.

    Returns:
        ``requested`` (checked, upper-cased), else the only currency seen, else None.

    Raises:
        ConfigError: ``requested`` is not a currency code, or it is None and several
            currencies were seen.
    """
    if requested is not None:
        return _currency(requested)
    found = sorted(set(currencies))
    if len(found) > 1:
        raise ConfigError(
            f"the records carry costs in several currencies ({', '.join(found)}); "
            "pass currency=... to choose one"
        )
    return found[0] if found else None


class Placer:
    """Puts record intervals in buckets, refusing any interval that would have to be split."""

    def __init__(self, granularity: Granularity, zone: ZoneInfo) -> None:
        self.granularity = granularity
        self.zone = zone
        self._cache: dict[tuple[datetime, datetime], datetime] = {}

    def __call__(self, start: datetime, end: datetime) -> datetime:
        """Return the UTC start of the bucket containing the interval ``[start, end)``.

        Raises:
            ConfigError: The interval ends after that bucket (it would have to be split).
        """
        key = (start, end)
        bucket = self._cache.get(key)
        if bucket is None:
            bucket = bucket_floor(start, self.granularity, self.zone)
            limit = bucket_next(bucket, self.granularity, self.zone)
            if end > limit:
                raise ConfigError(
                    f"a record from {start.isoformat()} to {end.isoformat()} crosses the "
                    f"{self.granularity} boundary at {limit.astimezone(self.zone).isoformat()} "
                    f"in {self.zone.key}; a record can't be split, so use a coarser granularity "
                    "or records at least as fine as it"
                )
            self._cache[key] = bucket
        return bucket


Interval = tuple[datetime, datetime, str | None]


def by_interval(
    records: Iterable[UsageRecord],
    *,
    group: Callable[[UsageRecord], str | None] | None,
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> Tally[Interval]:
    """Sum the relevant records overlapping ``window`` per (start, end, group value)."""
    w_start, w_end = window
    tally: Tally[Interval] = Tally()
    for item in records:
        record = check_record(item)
        if not Tally.relevant(record):
            continue
        if (w_start is not None and record.end <= w_start) or (
            w_end is not None and record.start >= w_end
        ):
            continue
        tally.add((record.start, record.end, None if group is None else group(record)), record)
    return tally
