"""sync of Anthropic and OpenRouter against the sandbox over loopback HTTP.

A store is synced at ``NOW`` (mid-day, mid-hour) from an unaligned ``since``, then again when
the clock has moved on by more than a week. Past days are closed once past: Claude Code days,
OpenRouter days and Anthropic cost days that had ended when they were fetched are never asked
for again (the sandbox counts every request, and the clients' own HTTP log names every day).
The store's totals per metric equal the emulators' ground truth, re-syncs with a ``lookback``
or an unaligned ``since`` leave every stored figure as it was (OpenRouter's days that fell out
of its 30-day window included), and nothing is counted twice across Anthropic's three reports.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import usagekit
from usagekit import TOKEN_METRICS, Store, UsageRecord, sync
from usagekit._core.records import MEASURE_ATTRIBUTES
from usagekit.sandbox import Sandbox, serve
from usagekit.sandbox._emulators.anthropic import AnthropicData
from usagekit.sandbox._emulators.openrouter import OpenRouterData

from ._fakes import rows

UTC = timezone.utc
DAY = timedelta(days=1)
NOW = datetime(2026, 6, 20, 14, 37, 11, tzinfo=UTC)  # mid-day, mid-hour, mid-minute
TODAY = datetime(2026, 6, 20, tzinfo=UTC)
SINCE = datetime(2026, 5, 25, 5, 17, 42, tzinfo=UTC)  # inside a day: whole days are fetched
FIRST_DAY = datetime(2026, 5, 25, tzinfo=UTC)
LATER = NOW + 8 * DAY + timedelta(hours=2, minutes=3)  # 2026-06-28T16:40:11
LATER_DAY = datetime(2026, 6, 28, tzinfo=UTC)

ANTHROPIC_USAGE = {
    "uncached_input_tokens": "uncached_input_tokens",
    "cache_read_input_tokens": "cache_read_input_tokens",
    "cache_creation_5m_input_tokens": "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens": "cache_creation_1h_input_tokens",
    "output_tokens": "output_tokens",
    "web_search_requests": "web_search_requests",
}
"""Usage metric in the store -> the emulator's ground-truth name."""
OPENROUTER_METRICS = {
    "cost": "cost",
    "byok_usage_inference": "byok_usage_inference",
    "requests": "requests",
    "input_tokens": "prompt_tokens",
    "output_tokens": "completion_tokens",
    "reasoning_tokens": "reasoning_tokens",
}
"""OpenRouter metric in the store -> the emulator's ground-truth name."""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with serve(seed=23, now=NOW, history_days=40) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox at ``NOW``, with fresh counters; it must not have failed inside."""
    sandbox.reset()
    yield sandbox
    sandbox.reset()
    assert sandbox.stats.internal_errors == []


class Clients:
    """Both sync clients, with an HTTP log of every request's path and query."""

    def __init__(self, sb: Sandbox) -> None:
        self.log: list[httpx.URL] = []
        self._http = httpx.Client(event_hooks={"request": [self._record]})
        self.anthropic = sb.anthropic_client(http_client=self._http, max_retries=0)
        self.openrouter = sb.openrouter_client(http_client=self._http, max_retries=0)

    def _record(self, request: httpx.Request) -> None:
        self.log.append(request.url)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.anthropic, self.openrouter))

    def days(self, path_end: str, parameter: str) -> list[date]:
        """The days asked of one endpoint, oldest first (each as often as it was asked).

        Sorted: the day walks ask a few days at once, so they reach the server in any order.
        """
        return sorted(
            date.fromisoformat(url.params[parameter][:10])
            for url in self.log
            if url.path.endswith(path_end)
        )

    def close(self) -> None:
        self.anthropic.close()
        self.openrouter.close()
        self._http.close()


@pytest.fixture
def clients(sb: Sandbox) -> Iterator[Clients]:
    both = Clients(sb)
    yield both
    both.close()


def at(sb: Sandbox, moment: datetime) -> Any:
    """Move the sandbox's world and usagekit's clock to ``moment``."""
    sb.set_now(moment)
    return usagekit.pin_clock(moment)


def requests(sb: Sandbox) -> Counter[tuple[str, str]]:
    """The sandbox's requests by (provider, endpoint), every status counted."""
    counts: Counter[tuple[str, str]] = Counter()
    for (provider, endpoint, _), n in sb.stats.requests.items():
        counts[(provider, endpoint)] += n
    return counts


def days(first: datetime, end: datetime) -> list[date]:
    """The UTC days from ``first`` up to ``end`` (exclusive)."""
    return [(first + i * DAY).date() for i in range((end - first) // DAY)]


def flows(records: list[UsageRecord]) -> dict[tuple[str, str, str], Decimal]:
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for record in records:
        if record.kind == "flow":
            sums[(record.provider, record.source, record.metric)] += record.quantity
    return dict(sums)


def truth(sb: Sandbox, until: datetime) -> dict[tuple[str, str, str], Decimal]:
    """The emulators' own tables, from the first whole day fetched up to ``until``."""
    anthropic = AnthropicData.for_sandbox(sb.data)
    expected: dict[tuple[str, str, str], Decimal] = {}
    usage = anthropic.usage_totals(FIRST_DAY, until)
    for metric, name in ANTHROPIC_USAGE.items():
        expected[("anthropic", "messages", metric)] = Decimal(usage[name])
    expected[("anthropic", "cost_report", "cost")] = anthropic.cost_total(FIRST_DAY, until)
    for metric, value in anthropic.claude_code_totals(FIRST_DAY, until).items():
        expected[("anthropic", "claude_code", metric)] = value
    # Not clipped to OpenRouter's 30 days: the store keeps the days that fell out of them.
    openrouter = OpenRouterData(sb.data).truth(FIRST_DAY, until)
    for metric, name in OPENROUTER_METRICS.items():
        expected[("openrouter", "activity", metric)] = openrouter[name]
    return expected


def assert_truth(found: dict[Any, Decimal], expected: dict[Any, Decimal]) -> None:
    assert all(value > 0 for value in expected.values()), "the scenario must have data"
    missing = {key: (found.get(key), value) for key, value in expected.items()}
    assert {k: v for k, v in missing.items() if v[0] != v[1]} == {}
    assert set(found) == set(expected)  # no metric the truth does not have


def assert_nothing_overlaps(records: list[UsageRecord]) -> None:
    """Records of one series never overlap (a day stored twice would count twice)."""
    series: dict[tuple[Any, ...], list[tuple[datetime, datetime]]] = defaultdict(list)
    for r in records:
        identity = {k: v for k, v in r.attributes.items() if k not in MEASURE_ATTRIBUTES}
        key = (r.provider, r.source, r.metric, r.unit, r.dimensions(), sorted(identity.items()))
        series[repr(key)].append((r.start, r.end))
    for key, spans in series.items():
        for (_, end), (start, _) in itertools.pairwise(sorted(spans)):
            assert end <= start, f"{key} has overlapping records"


def figures(records: list[UsageRecord]) -> dict[str, tuple[Any, ...]]:
    return {r.id: (r.quantity, r.start, r.end, r.attributes) for r in records}


def stored_rows(path: Path) -> set[tuple[Any, ...]]:
    """Every stored record as its row, read straight from the file (a fast, exact comparison
    of two states of the store; the run that wrote a row is left out)."""
    return rows(str(path))


def first_sync(sb: Sandbox, store: Store, clients: Clients) -> None:
    with at(sb, NOW):
        result = sync(store, clients, since=SINCE, now=NOW)
    assert result.ok, str(result)
    for entry in result.providers:
        assert entry.start == SINCE and entry.written > 0


def test_past_days_are_closed_once_past_and_never_fetched_again(
    sb: Sandbox, clients: Clients, tmp_path: Path
) -> None:
    with Store(tmp_path / "usage.sqlite") as store:
        first_sync(sb, store, clients)
        assert requests(sb) == {
            ("anthropic", "usage_report/messages"): 1,  # 27 daily buckets fit one page
            ("anthropic", "cost_report"): 1,  # 26 finished days, up to 31 a page
            ("anthropic", "usage_report/claude_code"): 27,  # one UTC day a call, today too
            ("openrouter", "activity"): 26,  # completed days only
            ("openrouter", "credits"): 1,
        }
        assert clients.days("claude_code", "starting_at") == days(FIRST_DAY, TODAY + DAY)
        assert clients.days("/activity", "date") == days(FIRST_DAY, TODAY)
        assert_truth(flows(list(store.records())), truth(sb, NOW))
        before = figures(list(store.records()))

        sb.reset_stats()
        clients.log.clear()
        with at(sb, LATER):
            second = sync(store, clients, now=LATER)
        assert second.ok, str(second)
        # Everything had ended by NOW except today's usage bucket (and today's credit levels):
        # the second fetch starts at today's midnight and asks for no earlier day.
        assert [entry.start for entry in second.providers] == [TODAY, TODAY]
        assert requests(sb) == {
            ("anthropic", "usage_report/messages"): 1,
            ("anthropic", "cost_report"): 1,  # 06-20 .. 06-27: 8 finished days
            ("anthropic", "usage_report/claude_code"): 9,  # 06-20 .. 06-28
            ("openrouter", "activity"): 8,  # 06-20 .. 06-27
            ("openrouter", "credits"): 1,
        }
        assert clients.days("claude_code", "starting_at") == days(TODAY, LATER_DAY + DAY)
        assert clients.days("/activity", "date") == days(TODAY, LATER_DAY)
        (usage_url,) = [u for u in clients.log if u.path.endswith("usage_report/messages")]
        assert usage_url.params["starting_at"].startswith("2026-06-20T00:00:00")
        cost_starts = [u.params["starting_at"] for u in clients.log if "cost_report" in u.path]
        assert cost_starts[0].startswith("2026-06-20")

        after = list(store.records())
        assert_truth(flows(after), truth(sb, LATER))
        assert_nothing_overlaps(after)
        # What had closed before NOW is exactly as it was.
        now_figures = figures(after)
        closed = {k: v for k, v in before.items() if v[2] <= TODAY}
        assert closed and {k: now_figures.get(k) for k in closed} == closed

        # A third run at the same instant fetches only what is still open: today's day.
        sb.reset_stats()
        clients.log.clear()
        with at(sb, LATER):
            third = sync(store, clients, now=LATER)
        assert third.ok and [e.start for e in third.providers] == [LATER_DAY, LATER_DAY]
        assert clients.days("claude_code", "starting_at") == [LATER_DAY.date()]
        assert clients.days("/activity", "date") == []  # today is never reported
        assert requests(sb)[("anthropic", "cost_report")] == 0  # no finished day to ask for
        assert figures(list(store.records())) == now_figures


RESYNCS = [
    pytest.param({"lookback": timedelta(hours=36, minutes=7)}, id="lookback-36h07"),
    pytest.param({"lookback": LATER - SINCE}, id="lookback-beyond-openrouters-30-days"),
    pytest.param({"since": LATER - timedelta(minutes=38)}, id="since-38-minutes-ago"),
    pytest.param({"since": FIRST_DAY + timedelta(seconds=1)}, id="since-first-second"),
]


def test_resyncing_with_lookback_or_unaligned_since_rewrites_no_history(
    sb: Sandbox, clients: Clients, tmp_path: Path
) -> None:
    path = tmp_path / "usage.sqlite"
    with Store(path) as store:
        first_sync(sb, store, clients)
        with at(sb, LATER):
            assert sync(store, clients, now=LATER).ok
            before = list(store.records())
            expected = truth(sb, LATER)
            assert_truth(flows(before), expected)
            assert {r.end - r.start for r in before} == {DAY}  # all of it in whole UTC days
            rows = stored_rows(path)
            assert len(rows) == len(before)

            for resync in RESYNCS:
                (kwargs,) = resync.values
                clients.log.clear()
                result = sync(store, clients, now=LATER, **kwargs)
                assert result.ok, (resync.id, str(result))
                for entry in result.providers:  # from a stored day's start, never inside
                    assert entry.written, resync.id  # it did fetch again
                    assert entry.start is not None and entry.start.time() == datetime.min.time()
                # OpenRouter is asked only for the completed days it still has (30 of them).
                start = result.providers[1].start
                assert start is not None
                oldest = max(start, LATER_DAY - 30 * DAY)
                assert clients.days("/activity", "date") == days(oldest, LATER_DAY), resync.id
                assert stored_rows(path) == rows, resync.id  # every figure as it was

            after = list(store.records())
    assert figures(after) == figures(before)
    assert flows(after) == expected
    assert_nothing_overlaps(after)


def test_nothing_is_counted_twice_across_anthropics_three_reports(
    sb: Sandbox, clients: Clients, tmp_path: Path
) -> None:
    with Store(tmp_path / "usage.sqlite") as store:
        first_sync(sb, store, clients)
        records = list(store.records())
        with at(sb, NOW):
            report = store.report(FIRST_DAY, NOW)
    anthropic = [r for r in records if r.provider == "anthropic"]
    metrics: dict[str, set[str]] = defaultdict(set)
    for record in anthropic:
        metrics[record.source].add(record.metric)
    assert set(metrics) == {"messages", "cost_report", "claude_code"}
    for one, other in itertools.combinations(metrics.values(), 2):
        assert not one & other  # no metric in two reports
    assert metrics["cost_report"] == {"cost"}
    assert "claude_code_estimated_cost" in metrics["claude_code"]
    assert not metrics["claude_code"] & TOKEN_METRICS  # its tokens are in the usage report

    expected = truth(sb, NOW)
    assert len(report) == len(records)
    # The store's report: billed cost only (no Claude Code estimate, no BYOK), once each.
    billed = (
        expected[("anthropic", "cost_report", "cost")]
        + expected[("openrouter", "activity", "cost")]
    )
    assert report.total_cost() == {"USD": billed}
    assert report.cost_by("provider") == {
        "anthropic": {"USD": expected[("anthropic", "cost_report", "cost")]},
        "openrouter": {"USD": expected[("openrouter", "activity", "cost")]},
    }
    anthropic_tokens = sum(
        (v for (p, s, m), v in expected.items() if p == "anthropic" and m in TOKEN_METRICS),
        Decimal(0),
    )
    openrouter_tokens = (
        expected[("openrouter", "activity", "input_tokens")]
        + expected[("openrouter", "activity", "output_tokens")]
    )  # reasoning tokens are part of the output tokens
    assert report.tokens_by("provider") == {
        "anthropic": anthropic_tokens,
        "openrouter": openrouter_tokens,
    }
