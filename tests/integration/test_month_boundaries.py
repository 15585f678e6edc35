"""Month boundaries as users meet them, against the sandbox, with the clock pinned.

"This month so far" on the 1st, the first second of a month, last month asked on the 1st,
windows shorter than a provider's buckets, and Basedash outside its billing period: exact
totals from the sandbox's own tables, and every provider's status saying what it covered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from tests.conftest import resolve
from usagekit import analytics
from usagekit._cli import main
from usagekit._providers import PROVIDERS

sandbox_module = pytest.importorskip("usagekit.sandbox")

UTC = timezone.utc
FIRST = datetime(2026, 12, 1, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)


def _clients(sb: Any, mode: str) -> list[Any]:
    if mode == "sync":
        return [sb.openai_client(), sb.basedash_client(), sb.unsiloed_client(),
                sb.daramex_client()]  # fmt: skip
    return [sb.async_openai_client(), sb.async_basedash_client(),
            sb.async_unsiloed_client(), sb.async_daramex_client()]  # fmt: skip


async def _collect(sb: Any, mode: str, *window: Any) -> usagekit.UsageReport:
    clients = _clients(sb, mode)
    try:
        if mode == "sync":
            return usagekit.collect(clients, *window)
        return await usagekit.acollect(clients, *window)
    finally:
        for c in clients:
            await resolve(c.aclose() if hasattr(c, "aclose") else c.close())


@pytest.fixture
def at() -> Iterator[Any]:
    """Start a sandbox whose clock and usagekit's both stand at one instant."""
    stack: list[Any] = []

    def start(now: datetime) -> Any:
        pin = usagekit.pin_clock(now)
        pin.__enter__()
        stack.append(pin)
        sb = sandbox_module.serve(seed=7, now=now)
        stack.append(sb)
        return sb.__enter__()

    yield start
    for item in reversed(stack):
        item.__exit__(None, None, None)


def _status(report: usagekit.UsageReport, provider: str) -> usagekit.ProviderStatus:
    (status,) = [s for s in report.statuses if s.provider == provider]
    return status


def _openai_cost(sb: Any, start: datetime, end: datetime) -> Decimal:
    return sum(sb.data.openai_cost_totals(start, end).values(), Decimal(0))


@pytest.mark.parametrize("moment", [timedelta(0), timedelta(milliseconds=400)])
async def test_the_first_instant_of_a_month_is_an_empty_answer(
    at: Any, mode: str, moment: timedelta
) -> None:
    sb = at(FIRST + moment)
    report = await _collect(sb, mode)  # no window: this month so far
    assert report.ok, [f.reason for f in report.failures]
    assert report.start == FIRST
    for provider in ("openai", "daramex"):
        status = _status(report, provider)
        assert status.records == 0
        assert status.note == "no data in this window"
    assert report.cost_by("provider").get("openai") is None
    # Unsiloed's cycle began in November: its one figure covers that cycle, and says so
    unsiloed = _status(report, "unsiloed")
    cycle = sb.data.unsiloed_cycle(FIRST)
    billed = datetime.combine(cycle.last_billed_date, datetime.min.time(), UTC)
    assert billed < FIRST
    assert (unsiloed.covered_start, unsiloed.covered_end) == (billed, billed + timedelta(days=30))
    assert unsiloed.note == (
        "reports one figure for its whole 30-day cycle, "
        f"{billed:%Y-%m-%d} to {billed + timedelta(days=30):%Y-%m-%d}"
    )
    (used,) = report.totals("provider", metric="current_usage")
    assert used.quantity == Decimal(cycle.current_usage)


async def test_month_to_date_on_the_first_at_half_past_midnight(at: Any, mode: str) -> None:
    now = FIRST + timedelta(minutes=30)
    sb = at(now)
    report = await _collect(sb, mode)
    assert report.ok, [f.reason for f in report.failures]
    assert (report.start, report.end) == (FIRST, None)
    _, daramex = sb.data.daramex_totals(FIRST, now)
    expected = {
        "openai": _openai_cost(sb, FIRST, now),
        "basedash": sb.data.basedash_period(now).total,
        "daramex": daramex,
    }
    got = {p: amounts["USD"] for p, amounts in report.cost_by("provider").items()}
    assert got == {p: v for p, v in expected.items() if v or p in got}
    assert _status(report, "openai").note is None
    basedash = _status(report, "basedash")
    assert basedash.covered_start == FIRST
    assert basedash.covered_end == datetime(2027, 1, 1, tzinfo=UTC)


async def test_last_month_asked_on_the_first(at: Any, mode: str) -> None:
    sb = at(FIRST + timedelta(hours=7))
    report = await _collect(sb, mode, NOVEMBER, FIRST)
    assert report.ok
    assert report.cost_by("provider")["openai"]["USD"] == _openai_cost(sb, NOVEMBER, FIRST)
    _, daramex = sb.data.daramex_totals(NOVEMBER, FIRST)
    assert report.cost_by("provider")["daramex"]["USD"] == daramex
    # Basedash reports only the current period: it is not silently missing, it says why
    basedash = _status(report, "basedash")
    assert basedash.ok and basedash.records == 0
    assert basedash.note == (
        "reports only its current billing period, 2026-12-01 to 2027-01-01; nothing in this window"
    )
    assert (basedash.covered_start, basedash.covered_end) == (
        FIRST,
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert "basedash" not in report.cost_by("provider")
    assert "reports only its current billing period" in report._repr_html_()


async def test_a_sub_day_window_states_the_whole_day_it_counts(at: Any, mode: str) -> None:
    sb = at(FIRST + timedelta(hours=7))
    start = datetime(2026, 11, 30, 12, tzinfo=UTC)
    report = await _collect(sb, mode, start, start + timedelta(hours=1))
    day = datetime(2026, 11, 30, tzinfo=UTC)
    openai = _status(report, "openai")
    # OpenAI's costs come in whole UTC days only: the day's cost is kept, and the status says
    # that its figures cover the whole day, not the hour
    assert report.cost_by("provider")["openai"]["USD"] == _openai_cost(sb, day, FIRST)
    assert (openai.covered_start, openai.covered_end) == (day, FIRST)
    assert openai.note is not None and "2026-11-30 to 2026-12-01" in openai.note
    # Daramex answers hourly buckets for a short window: clipped exactly to the hour
    daramex = _status(report, "daramex")
    _, cost = sb.data.daramex_totals(start, start + timedelta(hours=1))
    assert report.cost_by("provider").get("daramex", {}).get("USD", Decimal(0)) == cost
    if daramex.records:
        assert daramex.note is None
        assert daramex.covered_start is not None and daramex.covered_start >= start
    else:
        assert daramex.note == "no data in this window"


def test_by_day_labels_a_cycle_with_its_span() -> None:
    cycle = usagekit.UsageRecord(
        provider="unsiloed",
        source="get_usage",
        start=datetime(2026, 11, 16, tzinfo=UTC),
        end=datetime(2026, 12, 16, tzinfo=UTC),
        metric="current_usage",
        quantity=Decimal(3),
        unit="credits",
    )
    day = usagekit.UsageRecord(
        provider="openai",
        source="costs",
        start=datetime(2026, 11, 25, tzinfo=UTC),
        end=datetime(2026, 11, 26, tzinfo=UTC),
        metric="cost",
        quantity=Decimal("1.5"),
        unit="USD",
    )
    report = usagekit.UsageReport.from_records([cycle, day])
    assert sorted(t.group[0] for t in report.totals("day")) == [
        "2026-11-16/2026-12-16",
        "2026-11-25",
    ]
    assert sorted(t.group[0] for t in report.totals("month")) == [
        "2026-11",
        "2026-11-16/2026-12-16",
    ]
    assert sorted(t.group[0] for t in report.totals("hour")) == [
        "2026-11-16T00:00Z/2026-12-16T00:00Z",
        "2026-11-25T00:00Z/2026-11-26T00:00Z",
    ]


def test_budget_on_the_first_is_an_answer_not_an_error() -> None:
    now = FIRST + timedelta(minutes=30)
    with usagekit.pin_clock(now):
        check = analytics.budget([], limit=Decimal(100), period="month")
    assert check.spent == 0
    assert check.projection.status != "ok"


@pytest.mark.parametrize("instant", ["2026-12-01T00:00:00Z", "2026-12-01T00:30:00Z"])
def test_the_command_on_the_first(
    instant: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(usagekit.CLOCK_ENV, instant)
    with usagekit.pin_clock(instant):
        code = main(["report", "--demo", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    document = json.loads(out.out)
    providers = {p["provider"]: p for p in document["providers"]}
    assert set(providers) == set(PROVIDERS)
    assert all(p["ok"] for p in providers.values())
    assert "Traceback" not in out.err


def test_an_explicit_empty_window_stays_an_error() -> None:
    with pytest.raises(usagekit.ConfigError, match="start must be before end"):
        usagekit.collect([], FIRST, FIRST)


def test_a_report_from_the_store_says_what_its_records_cover(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    instant = "2026-12-01T07:00:30Z"
    monkeypatch.setenv(usagekit.CLOCK_ENV, instant)
    db = str(tmp_path / "usage.sqlite")
    with usagekit.pin_clock(instant):
        assert main(["sync", "--demo", "--db", db, "--since", "2026-11-20"]) == 0
        capsys.readouterr()
        window = ["--since", "2026-11-30T12:00", "--until", "2026-11-30T13:00"]
        assert main(["report", "--db", db, *window, "--format", "json"]) == 0
    providers = {p["provider"]: p for p in json.loads(capsys.readouterr().out)["providers"]}
    openai = providers["openai"]
    assert (openai["covered_start"], openai["covered_end"]) == (
        "2026-11-30T00:00:00+00:00",
        "2026-12-01T00:00:00+00:00",
    )
    assert "more than the window" in openai["note"]


def test_a_store_report_names_every_stored_provider(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    instant = "2026-12-01T07:00:30Z"
    monkeypatch.setenv(usagekit.CLOCK_ENV, instant)
    db = str(tmp_path / "usage.sqlite")
    with usagekit.pin_clock(instant):
        assert main(["sync", "--demo", "--db", db]) == 0  # this month so far only
        capsys.readouterr()
        last_month = ["--since", "2026-11-01", "--until", "2026-12-01", "--json"]
        assert main(["report", "--db", db, *last_month]) == 0
    providers = {p["provider"]: p for p in json.loads(capsys.readouterr().out)["providers"]}
    assert set(providers) == set(PROVIDERS)
    basedash = providers["basedash"]
    assert basedash["records"] == 0
    assert basedash["note"] == (
        "nothing stored in this window (the store holds 2026-12-01 to 2027-01-01)"
    )
