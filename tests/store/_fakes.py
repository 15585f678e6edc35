"""Fake sync clients: small classes with ``provider`` and ``records(start, end)``.

Importable from a child process (``python -c "from tests.store._fakes import ..."``) so a
sync can be killed half-way for real.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from usagekit import TimeLike, UsageRecord, as_utc
from usagekit._store._series import SERIES_COLUMNS

UTC = timezone.utc
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
BASE = datetime(2026, 5, 1, tzinfo=UTC)
MODELS = ("gpt-4o", "o3", "gpt-4.1-mini")


def openai_like(until: datetime, *, since: datetime = BASE) -> list[UsageRecord]:
    """Hourly token records per model and daily cost records up to ``until``.

    The last hour and the last day are partial: their quantities grow with ``until``, as a
    provider's do while the bucket is still open.
    """
    records: list[UsageRecord] = []
    moment = since
    while moment < until:
        elapsed = min(until - moment, HOUR) / HOUR
        for index, model in enumerate(MODELS):
            for metric, scale in (("input_tokens", 1000), ("output_tokens", 100)):
                amount = (scale * (index + 1) + moment.hour * 7) * elapsed
                records.append(
                    UsageRecord.trusted(
                        provider="openai",
                        source="completions",
                        start=moment,
                        end=moment + HOUR,
                        metric=metric,
                        quantity=Decimal(str(round(amount, 3))),
                        unit="tokens",
                        model=model,
                    )
                )
        moment += HOUR
    moment = since
    while moment < until:
        elapsed = min(until - moment, DAY) / DAY
        records.append(
            UsageRecord.trusted(
                provider="openai",
                source="costs",
                start=moment,
                end=moment + DAY,
                metric="cost",
                quantity=Decimal(str(round(3.25 * elapsed + moment.day / 100, 6))),
                unit="USD",
                line_item="completions",
            )
        )
        moment += DAY
    return records


def current_period(provider: str, fetched_at: datetime, spent: str) -> list[UsageRecord]:
    """A Basedash-like fetch: one cost record for the billing period, growing over it."""
    return [
        UsageRecord.trusted(
            provider=provider,
            source="ai_usage",
            start=BASE,
            end=BASE + timedelta(days=31),
            metric="cost",
            quantity=Decimal(spent),
            unit="USD",
            user_id=user,
        )
        for user in ("u1", "u2")
    ]


class FakeClient:
    """Serves ``records`` (or ``source()``'s current list) filtered to the asked window.

    Args:
        provider: The provider name.
        source: The records, or a callable returning the current records.
        fail_after: Raise ``RuntimeError`` after yielding this many records.
        exit_after: ``os._exit(9)`` after yielding this many records (a hard crash).
        delay: Seconds to sleep before each record.
    """

    def __init__(
        self,
        provider: str,
        source: list[UsageRecord] | Callable[[], list[UsageRecord]],
        *,
        fail_after: int | None = None,
        exit_after: int | None = None,
        delay: float = 0.0,
    ) -> None:
        self.provider = provider
        self._source = source
        self.fail_after = fail_after
        self.exit_after = exit_after
        self.delay = delay
        self.calls: list[tuple[datetime | None, datetime | None]] = []
        self.closed = 0

    def records(
        self, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> Iterator[UsageRecord]:
        first = None if start is None else as_utc(start)
        last = None if end is None else as_utc(end)
        self.calls.append((first, last))
        return self._iterate(first, last)

    def _iterate(self, first: datetime | None, last: datetime | None) -> Iterator[UsageRecord]:
        current = self._source() if callable(self._source) else self._source
        served = 0
        try:
            for rec in current:
                if (first is not None and rec.end <= first) or (
                    last is not None and rec.start >= last
                ):
                    continue
                if served == self.fail_after:
                    raise RuntimeError(f"{self.provider} went away after {served} records")
                if served == self.exit_after:
                    os._exit(9)
                if self.delay:
                    time.sleep(self.delay)
                served += 1
                yield rec
        finally:
            self.closed += 1


STORED_ROWS = (
    "SELECT r.id, r.start_us, r.end_us, r.quantity, r.attributes, "
    + ", ".join(f"s.{name}" for name in SERIES_COLUMNS)
    + " FROM records AS r JOIN series AS s ON s.series_id = r.series_id"
)
"""Every stored record's fields (its row and its series), the run that wrote it left out."""


def rows(path: str) -> set[tuple[Any, ...]]:
    """Every stored record as its fields, read straight from the file: for comparing two
    stores (a row of a series the file does not hold would be missing: see ``orphans``)."""
    conn = sqlite3.connect(path)
    try:
        assert orphans(conn) == 0
        return set(conn.execute(STORED_ROWS))
    finally:
        conn.close()


def orphans(conn: sqlite3.Connection) -> int:
    """Rows naming a series the file does not hold (never any)."""
    query = "SELECT COUNT(*) FROM records WHERE series_id NOT IN (SELECT series_id FROM series)"
    return int(conn.execute(query).fetchone()[0])


def costs_first(until: datetime) -> list[UsageRecord]:
    """:func:`openai_like`, the daily costs first: a crash in them leaves a source unseen."""
    return sorted(openai_like(until), key=lambda record: record.source != "costs")


def child_sync(
    db: str,
    until: str,
    *,
    exit_after: int | None,
    delay: float,
    batch: int,
    order: str = "time",
) -> None:
    """Run one sync of the OpenAI-like fake in this process (the entry point of a child)."""
    from usagekit._store.store import Store
    from usagekit._store.sync import sync

    cutoff = as_utc(until)
    make = costs_first if order == "costs_first" else openai_like
    client = FakeClient("openai", lambda: make(cutoff), exit_after=exit_after, delay=delay)
    with Store(db) as store:
        result = sync(store, [client], since=BASE, now=cutoff, batch_size=batch)
    raise SystemExit(0 if result.ok else 1)
