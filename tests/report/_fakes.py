"""Fake record sources for collect and report tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from usagekit import FLOW, MetricKind, UsageRecord

UTC = timezone.utc
DAY0 = datetime(2026, 11, 1, tzinfo=UTC)


def rec(
    provider: str,
    metric: str,
    quantity: str,
    *,
    day: int = 0,
    unit: str | None = None,
    kind: MetricKind = FLOW,
    hours: int = 24,
    **dims: Any,
) -> UsageRecord:
    start = DAY0 + timedelta(days=day)
    return UsageRecord(
        provider=provider,
        source=dims.pop("source", "usage"),
        start=start,
        end=start + timedelta(hours=hours),
        metric=metric,
        quantity=Decimal(quantity),
        unit=unit or ("USD" if metric == "cost" else "tokens"),
        kind=kind,
        **dims,
    )


class FakeSource:
    """A sync client: yields its records, optionally waiting at a barrier or failing."""

    def __init__(
        self,
        provider: str,
        records: list[UsageRecord],
        *,
        barrier: threading.Barrier | None = None,
        fail_after: int | None = None,
        error: Exception | None = None,
    ) -> None:
        self.provider = provider
        self._records = records
        self.barrier = barrier
        self.fail_after = fail_after
        self.error = error or RuntimeError("boom")
        self.calls: list[tuple[Any, Any]] = []

    def records(self, start: Any = None, end: Any = None) -> Iterator[UsageRecord]:
        self.calls.append((start, end))
        if self.barrier is not None:
            self.barrier.wait(timeout=10)
        for i, record in enumerate(self._records):
            if self.fail_after is not None and i == self.fail_after:
                raise self.error
            yield record
        if self.fail_after is not None and self.fail_after >= len(self._records):
            raise self.error


class AsyncFakeSource:
    """An async client: yields its records after every peer has started (an asyncio barrier)."""

    def __init__(
        self,
        provider: str,
        records: list[UsageRecord],
        started: list[str] | None = None,
        peers: int = 1,
    ) -> None:
        self.provider = provider
        self._records = records
        self.started = started if started is not None else []
        self.peers = peers

    async def records(self, start: Any = None, end: Any = None) -> AsyncIterator[UsageRecord]:
        self.started.append(self.provider)
        for _ in range(1000):
            if len(self.started) >= self.peers:
                break
            await asyncio.sleep(0.001)
        else:
            raise TimeoutError("peers never started: clients were not run concurrently")
        for record in self._records:
            yield record
