"""sync never rewrites history: re-fetching a span replaces exactly what it fetched before.

Against the sandbox over loopback, with the clock pinned mid-hour: a month is synced, then
synced again with lookbacks and with ``since`` values that are not on any bucket boundary. The
server changed nothing, so every total, every record id and every figure must stay as it was,
and must equal the sandbox's ground truth; no two stored records may overlap (a daily bucket
beside the hourly buckets of the same day would count that day twice).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import usagekit
from usagekit import Store, UsageRecord, sync
from usagekit._core.records import MEASURE_ATTRIBUTES

sandbox_module = pytest.importorskip("usagekit.sandbox")

UTC = timezone.utc
NOW = datetime(2026, 6, 20, 14, 37, 11, tzinfo=UTC)  # mid-day, mid-hour, mid-minute
MONTH = datetime(2026, 5, 20, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with sandbox_module.serve(seed=11, now=NOW, history_days=60) as sandbox:
        yield sandbox


@pytest.fixture
def clock() -> Iterator[None]:
    """The clients' clock agrees with the sandbox's: "up to now" is the same instant."""
    with usagekit.pin_clock(NOW):
        yield


def clients(sb: Any) -> list[Any]:
    return [sb.openai_client(), sb.daramex_client()]


def stored(store: Store) -> list[UsageRecord]:
    return list(store.records())


def totals(records: list[UsageRecord]) -> dict[tuple[str, str, str], Decimal]:
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for record in records:
        if record.kind == "flow":
            sums[(record.provider, record.source, record.metric)] += record.quantity
    return dict(sums)


def figures(records: list[UsageRecord]) -> dict[str, tuple[Decimal, dict[str, str]]]:
    return {r.id: (r.quantity, r.attributes) for r in records}


def assert_nothing_overlaps(records: list[UsageRecord]) -> None:
    """Records of one series (everything but the interval and the figure) never overlap."""
    series: dict[tuple[Any, ...], list[tuple[datetime, datetime]]] = defaultdict(list)
    for r in records:
        identity = {k: v for k, v in r.attributes.items() if k not in MEASURE_ATTRIBUTES}
        key = (
            r.provider,
            r.source,
            r.metric,
            r.unit,
            r.dimensions(),
            tuple(sorted(identity.items())),
        )
        series[key].append((r.start, r.end))
    for key, spans in series.items():
        for (_, end), (start, _) in itertools.pairwise(sorted(spans)):
            assert end <= start, f"{key} has overlapping records"


def truth(sb: Any, openai_from: datetime, daramex_from: datetime) -> dict[Any, Decimal]:
    """The sandbox's own tables: what the store must hold from those instants up to now."""
    data = sb.data
    tokens, cost = data.daramex_totals(daramex_from, NOW)
    completions = data.openai_totals("completions", openai_from, NOW)[()]
    return {
        ("openai", "costs", "cost"): sum(data.openai_cost_totals(openai_from, NOW).values()),
        ("openai", "completions", "input_tokens"): Decimal(completions["input_tokens"]),
        ("openai", "completions", "output_tokens"): Decimal(completions["output_tokens"]),
        ("daramex", "time_series", "total_tokens"): Decimal(tokens),
        ("daramex", "time_series", "cost"): cost,
    }


def assert_truth(found: dict[Any, Decimal], expected: dict[Any, Decimal]) -> None:
    assert {key: found.get(key) for key in expected} == expected


RESYNCS = [
    pytest.param({"lookback": timedelta(days=3)}, id="lookback-3-days"),
    pytest.param({"lookback": timedelta(hours=36, minutes=7)}, id="lookback-36h07"),
    pytest.param({"lookback": timedelta(hours=5, minutes=3)}, id="lookback-5h03"),
    pytest.param(
        {"since": MONTH + 3 * DAY + timedelta(hours=5, minutes=17)}, id="since-05-23T05:17"
    ),
    pytest.param({"since": NOW - timedelta(minutes=38)}, id="since-38-minutes-ago"),
    pytest.param({"since": MONTH + timedelta(seconds=1)}, id="since-first-second"),
]


@pytest.mark.usefixtures("clock")
def test_resyncing_with_lookback_or_unaligned_since_changes_nothing(
    sb: Any, tmp_path: Path
) -> None:
    with Store(tmp_path / "usage.sqlite") as store:
        first = sync(store, clients(sb), since=MONTH, now=NOW)
        assert first.ok, str(first)
        before = stored(store)
        assert_truth(totals(before), truth(sb, MONTH, MONTH))
        assert_nothing_overlaps(before)
        daily = {r.end - r.start for r in before if r.provider == "daramex"}
        assert daily == {DAY}  # a new store holds Daramex in days

        for resync in RESYNCS:
            (kwargs,) = resync.values
            result = sync(store, clients(sb), now=NOW, **kwargs)
            assert result.ok, (resync.id, str(result))
            assert all(entry.written for entry in result.providers), resync.id  # it re-fetched
            for entry in result.providers:  # from the start of a stored bucket, never inside
                assert entry.start is not None and entry.start.time() == datetime.min.time()
            after = stored(store)
            assert figures(after) == figures(before), resync.id
            assert totals(after) == totals(before), resync.id
            assert {r.end - r.start for r in after if r.provider == "daramex"} == daily
            assert_nothing_overlaps(after)


@pytest.mark.usefixtures("clock")
def test_backfilling_from_unaligned_instants_counts_each_event_once(
    sb: Any, tmp_path: Path
) -> None:
    late = MONTH + 10 * DAY + timedelta(hours=10, minutes=37)
    early = MONTH + 2 * DAY + timedelta(hours=3, minutes=5)
    with Store(tmp_path / "usage.sqlite") as store:
        assert sync(store, clients(sb), since=late, now=NOW).ok
        midnight = late.replace(hour=0, minute=0)
        # OpenAI is fetched in whole days; Daramex's first day is cut at `since`, truthfully.
        assert_truth(totals(stored(store)), truth(sb, midnight, late))

        assert sync(store, clients(sb), since=early, now=NOW).ok  # back-fill
        records = stored(store)
        assert_truth(totals(records), truth(sb, early.replace(hour=0, minute=0), early))
        assert_nothing_overlaps(records)  # the cut day gave way to the whole day
        assert len({r.id for r in records}) == len(records)
