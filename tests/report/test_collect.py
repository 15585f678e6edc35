"""collect: concurrent, isolating failures, usable from scripts, async code and notebooks."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal

import pytest

import usagekit
from usagekit import ConfigError, acollect, collect

from ._fakes import DAY0, AsyncFakeSource, FakeSource, rec


def test_sync_clients_run_concurrently_and_all_records_arrive() -> None:
    barrier = threading.Barrier(3)  # deadlocks (and times out) unless all three run at once
    sources = [
        FakeSource("a", [rec("a", "cost", "1.10")], barrier=barrier),
        FakeSource("b", [rec("b", "cost", "2.20"), rec("b", "input_tokens", "5")], barrier=barrier),
        FakeSource("c", [rec("c", "cost", "0.70")], barrier=barrier),
    ]
    report = collect(sources, "2026-11-01", "2026-11-08")
    assert report.ok and len(report) == 4
    assert report.total_cost() == {"USD": Decimal("4.00")}
    assert [s.provider for s in report.statuses] == ["a", "b", "c"]
    assert all(src.calls == [(DAY0, DAY0.replace(day=8))] for src in sources)


def test_one_failing_provider_never_loses_the_others() -> None:
    good = FakeSource("good", [rec("good", "cost", "3")])
    bad = FakeSource(
        "bad",
        [rec("bad", "cost", "100"), rec("bad", "cost", "200", day=1)],
        fail_after=1,
        error=usagekit.AuthenticationError("no", status_code=401, provider="bad"),
    )
    report = collect([bad, good], "2026-11-01")
    assert not report.ok
    assert report.total_cost() == {"USD": Decimal("3")}  # the partial provider is not counted
    (failure,) = report.failures
    assert failure.provider == "bad" and isinstance(failure.error, usagekit.AuthenticationError)
    assert [r.quantity for r in failure.partial_records] == [Decimal("100")]  # nothing lost
    assert "AuthenticationError" in failure.reason
    statuses = {s.provider: s for s in report.statuses}
    assert statuses["good"].ok and not statuses["bad"].ok and statuses["bad"].records == 0


def test_a_bug_in_a_client_is_a_failure_too() -> None:
    report = collect([FakeSource("x", [], fail_after=0, error=KeyError("k"))], "2026-11-01")
    assert report.failures[0].reason == "KeyError: KeyError('k')"


def test_bad_window_raises_before_any_client_is_called() -> None:
    source = FakeSource("a", [rec("a", "cost", "1")])
    with pytest.raises(ConfigError, match="start must be before end"):
        collect([source], "2026-11-08", "2026-11-01")
    assert source.calls == []


def test_default_window_is_this_month() -> None:
    source = FakeSource("a", [])
    report = collect([source])
    start, end = source.calls[0]
    assert start.day == 1 and start.hour == 0 and start.tzinfo is not None and end is None
    assert report.start == start


def test_same_fact_from_two_clients_counts_once() -> None:
    record = rec("a", "cost", "1")
    report = collect([FakeSource("a", [record]), FakeSource("a", [record])], "2026-11-01")
    assert len(report) == 1 and report.total_cost() == {"USD": Decimal("1")}


def test_mixed_sync_and_async_clients_from_a_script() -> None:
    started: list[str] = []
    sources = [
        AsyncFakeSource("x", [rec("x", "cost", "1")], started, peers=2),
        AsyncFakeSource("y", [rec("y", "cost", "2")], started, peers=2),
        FakeSource("z", [rec("z", "cost", "4")]),
    ]
    report = collect(sources, "2026-11-01")
    assert report.ok and report.total_cost() == {"USD": Decimal("7")}
    assert [s.provider for s in report.statuses] == ["x", "y", "z"]


async def test_collect_works_inside_a_running_event_loop_like_jupyter() -> None:
    started: list[str] = []
    sources = [AsyncFakeSource(n, [rec(n, "cost", "1")], started, peers=2) for n in ("p", "q")]
    report = collect(sources, "2026-11-01")  # a plain call, while this test's loop is running
    assert report.total_cost() == {"USD": Decimal("2")}


async def test_acollect_runs_async_clients_concurrently_on_the_current_loop() -> None:
    started: list[str] = []
    sources = [AsyncFakeSource(n, [rec(n, "cost", "2")], started, peers=3) for n in ("p", "q", "r")]
    sources_any: list[object] = [*sources, FakeSource("s", [rec("s", "cost", "1")])]
    report = await acollect(sources_any, "2026-11-01")
    assert report.ok and report.total_cost() == {"USD": Decimal("7")}
    assert asyncio.get_running_loop().is_running()


def test_progress_events_in_order_per_provider() -> None:
    events: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    def on_progress(event: usagekit.Progress) -> None:
        with lock:
            events.append((event.provider, event.event, event.records))

    records = [rec("a", "input_tokens", "1", day=i % 28, model=f"m{i}") for i in range(1000)]
    collect(
        [FakeSource("a", records), FakeSource("b", [], fail_after=0)],
        "2026-11-01",
        on_progress=on_progress,
    )
    a_events = [e for e in events if e[0] == "a"]
    assert a_events == [
        ("a", "started", 0),
        ("a", "records", 500),
        ("a", "records", 1000),
        ("a", "done", 1000),
    ]
    assert [e[1] for e in events if e[0] == "b"] == ["started", "failed"]
