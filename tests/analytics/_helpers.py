"""Record builders shared by the analytics tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from usagekit import UsageRecord

UTC = timezone.utc
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def at(text: str) -> datetime:
    """Parse an ISO-8601 instant (``Z`` allowed) into an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def record(
    start: datetime | str,
    end: datetime | str | None = None,
    *,
    metric: str = "input_tokens",
    quantity: Decimal | int | str = 1,
    unit: str | None = None,
    provider: str = "openai",
    source: str = "completions",
    **fields: Any,
) -> UsageRecord:
    """Build a validated record; ``end`` defaults to an hour after ``start``."""
    first = at(start) if isinstance(start, str) else start
    last = first + HOUR if end is None else (at(end) if isinstance(end, str) else end)
    if unit is None:
        unit = "USD" if metric == "cost" else "tokens"
    return UsageRecord(
        provider=provider,
        source=source,
        start=first,
        end=last,
        metric=metric,
        quantity=Decimal(quantity),
        unit=unit,
        **fields,
    )


def hourly(start: datetime | str, end: datetime | str, **fields: Any) -> Iterator[UsageRecord]:
    """One record per real hour in ``[start, end)``."""
    moment = at(start) if isinstance(start, str) else start
    last = at(end) if isinstance(end, str) else end
    while moment < last:
        yield record(moment, moment + HOUR, **fields)
        moment += HOUR


def daily_records(
    spend: Sequence[str | None], first: date = date(2026, 4, 1), zone: str = "UTC"
) -> list[UsageRecord]:
    """One cost record per day (None: none that day), as two hours, 00:00 and 05:00 local."""
    tz = ZoneInfo(zone)
    records = []
    for index, amount in enumerate(spend):
        if amount is None:
            continue
        day = first + timedelta(days=index)
        start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
        # Split the day's spend over two records to exercise the daily sum.
        half = Decimal(amount) / 2
        records.append(record(start, start + timedelta(hours=1), metric="cost", quantity=half))
        later = start + timedelta(hours=5)
        records.append(record(later, later + timedelta(hours=1), metric="cost", quantity=half))
    return records
