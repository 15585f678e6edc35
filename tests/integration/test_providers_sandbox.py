"""Basedash, Unsiloed and Daramex clients against the sandbox over real loopback HTTP.

Every expectation is computed from the sandbox's own data (its ground truth), never from its
HTTP answers; each scenario runs with the sync and the async client.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from tests.conftest import resolve
from usagekit import UsageRecord

sandbox_module = pytest.importorskip("usagekit.sandbox")

UTC = timezone.utc
NOW = datetime(2026, 4, 17, 12, 34, 56, tzinfo=UTC)
FAST_RETRIES = usagekit.RetryPolicy(max_retries=10, initial_backoff=0.01, max_backoff=0.05)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with sandbox_module.serve(seed=11, now=NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Any) -> Any:
    sandbox.reset()
    return sandbox


def client(sb: Any, mode: str, provider: str, **kwargs: Any) -> Any:
    prefix = "" if mode == "sync" else "async_"
    factory: Callable[..., Any] = getattr(sb, f"{prefix}{provider}_client")
    return factory(**kwargs)


async def close(c: Any) -> None:
    if hasattr(c, "aclose"):
        await c.aclose()
    else:
        c.close()


def total(records: list[UsageRecord], metric: str) -> Decimal:
    return sum((r.quantity for r in records if r.metric == metric), Decimal(0))


def unix(moment: datetime) -> float:
    return moment.timestamp()


# -- ground truth -----------------------------------------------------------------------------


def check_basedash(sb: Any, records: list[UsageRecord]) -> None:
    period = sb.data.basedash_period()
    members = {m.user_id: m for m in sb.data.catalog.basedash_members}
    expected = {
        (user_id, members[user_id].member_id, members[user_id].email): amount
        for user_id, amount in period.members.items()
    }
    got = {
        (r.user_id, r.attributes["member_id"], r.user_email): r.quantity
        for r in records
        if r.user_id is not None
    }
    assert got == expected
    rest = [r for r in records if r.attributes.get("unattributed") == "true"]
    assert sum((r.quantity for r in rest), Decimal(0)) == period.unattributed
    assert len(rest) == (0 if period.unattributed == 0 else 1)
    assert total(records, "cost") == period.total
    assert all((r.start, r.end) == (period.start, period.end) for r in records)
    assert all(r.organization_id == sb.keys.basedash_org_id for r in records)


def check_unsiloed(sb: Any, records: list[UsageRecord]) -> None:
    cycle = sb.data.unsiloed_cycle()
    start = datetime(
        cycle.last_billed_date.year,
        cycle.last_billed_date.month,
        cycle.last_billed_date.day,
        tzinfo=UTC,
    )
    assert {(r.metric, r.kind, r.quantity) for r in records} == {
        ("current_usage", "flow", Decimal(cycle.current_usage)),
        ("usage_limit", "level", Decimal(cycle.usage_limit)),
        ("remaining_quota", "level", Decimal(cycle.remaining_quota)),
    }
    assert all((r.start, r.end) == (start, start + timedelta(days=30)) for r in records)
    catalog = sb.data.catalog
    assert all(r.organization_id == catalog.unsiloed_org_id for r in records)
    assert all(r.attributes == {"org_name": catalog.unsiloed_org_name} for r in records)


def check_daramex(
    sb: Any,
    records: list[UsageRecord],
    *,
    start: datetime,
    end: datetime,
    source: str,
    group_by: str,
) -> None:
    events = sb.data.daramex_events(start, end, org_id=sb.keys.daramex_org_id, source=source)
    assert events, "the window should hold data"

    def key_of(event: Any) -> str | None:
        if group_by == "model":
            return str(event.model)
        if group_by == "action":
            return str(event.action)
        return None

    def key_of_record(record: UsageRecord) -> str | None:
        if group_by == "model":
            return record.model
        if group_by == "action":
            return record.attributes["action"]
        return None

    for record in records:
        assert start <= record.start < record.end <= end
        assert "unattributed" not in record.attributes
        assert record.attributes["token_source"] == source
        inside = [
            e
            for e in events
            if unix(record.start) <= e.ts < unix(record.end) and key_of(e) == key_of_record(record)
        ]
        if record.metric == "total_tokens":
            assert record.quantity == sum(e.total_tokens for e in inside)
        else:
            assert record.quantity == sum((e.cost_usd for e in inside), Decimal(0))
    tokens, cost = sb.data.daramex_totals(start, end, org_id=sb.keys.daramex_org_id, source=source)
    assert total(records, "total_tokens") == tokens
    assert total(records, "cost") == cost
    assert len({r.id for r in records}) == len(records)


# -- scenarios --------------------------------------------------------------------------------


async def test_basedash_records_equal_the_ground_truth(sb: Any, mode: str) -> None:
    c = client(sb, mode, "basedash", max_retries=0)
    records = await resolve(c.records())
    usage = await resolve(c.ai_usage())
    await close(c)
    assert records
    check_basedash(sb, records)
    assert usage.total_usage == sb.data.basedash_period().total


async def test_basedash_429_body_hint_is_waited_out(sb: Any, mode: str) -> None:
    sb.inject_faults("rate_limit", 2, provider="basedash")
    c = client(sb, mode, "basedash", max_retries=3)
    records = await resolve(c.records())
    await close(c)
    check_basedash(sb, records)
    assert sb.stats.count("basedash", "ai-usage", 429) == 2
    assert sb.stats.count("basedash", "ai-usage", 200) == 1
    assert sb.stats.early_retries == []


async def test_unsiloed_records_equal_the_ground_truth(sb: Any, mode: str) -> None:
    c = client(sb, mode, "unsiloed", max_retries=0)
    records = await resolve(c.records())
    usage = await resolve(c.get_usage())
    await close(c)
    check_unsiloed(sb, records)
    assert usage.current_usage == sb.data.unsiloed_cycle().current_usage


DARAMEX_CASES = [
    pytest.param(
        {
            "start": datetime(2026, 3, 5, 7, 13, tzinfo=UTC),
            "end": datetime(2026, 3, 12, tzinfo=UTC),
            "granularity": "day",
            "group_by": "model",
            "timezone": "America/New_York",
            "source": "all",
        },
        id="day-model-new-york-dst",
    ),
    pytest.param(
        {
            "start": datetime(2026, 4, 10, 5, 30, tzinfo=UTC),
            "end": datetime(2026, 4, 11, 3, 7, tzinfo=UTC),
            "granularity": "hour",
            "group_by": "action",
            "timezone": "Asia/Kolkata",
            "source": "system",
        },
        id="hour-action-kolkata",
    ),
    pytest.param(
        {
            "start": datetime(2026, 2, 1, tzinfo=UTC),
            "end": datetime(2026, 4, 17, 12, tzinfo=UTC),
            "granularity": "week",
            "group_by": "none",
            "timezone": "Europe/Berlin",
            "source": "byok",
        },
        id="week-none-berlin",
    ),
    pytest.param(
        {
            "start": datetime(2026, 1, 15, tzinfo=UTC),
            "end": datetime(2026, 4, 17, tzinfo=UTC),
            "granularity": "month",
            "group_by": "model",
            "timezone": "Australia/Lord_Howe",
            "source": "all",
        },
        id="month-model-lord-howe",
    ),
    pytest.param(
        {
            "start": datetime(2026, 4, 1, tzinfo=UTC),
            "end": datetime(2026, 4, 4, 18, tzinfo=UTC),
            "granularity": None,
            "group_by": "model",
            "timezone": "UTC",
            "source": "all",
        },
        id="auto-granularity",
    ),
]


@pytest.mark.parametrize("case", DARAMEX_CASES)
async def test_daramex_records_equal_the_ground_truth(
    sb: Any, mode: str, case: dict[str, Any]
) -> None:
    c = client(sb, mode, "daramex", max_retries=0)
    args = {k: v for k, v in case.items() if k not in ("start", "end")}
    records = await resolve(c.records(case["start"], case["end"], **args))
    await close(c)
    assert records
    check_daramex(
        sb,
        records,
        start=case["start"],
        end=case["end"],
        source=case["source"],
        group_by=case["group_by"],
    )


async def test_daramex_endpoints_agree_with_the_ground_truth(sb: Any, mode: str) -> None:
    start, end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 15, tzinfo=UTC)
    events = sb.data.daramex_events(start, end, org_id=sb.keys.daramex_org_id)
    c = client(sb, mode, "daramex", max_retries=0)
    series = await resolve(c.time_series(start, end, granularity="day", group_by="model"))
    models = await resolve(c.model_efficiency(start, end, limit=50))
    heatmap = await resolve(c.heatmap(start, end, timezone="America/Mexico_City"))
    projection = await resolve(c.projection(start, end))
    short = await resolve(c.projection(start, start + timedelta(days=3)))
    savings = await resolve(c.cache_savings(start, end, source="all"))
    await close(c)
    assert series.total_tokens == sum(e.total_tokens for e in events)
    assert series.total_cost_usd == sum((e.cost_usd for e in events), Decimal(0))
    per_model: dict[str, int] = {}
    for e in events:
        per_model[e.model] = per_model.get(e.model, 0) + e.total_tokens
    assert {m.model_id: m.total_tokens for m in models} == per_model
    assert sum(m.executions_count for m in models) == len(events)
    for m in models:
        latencies = [e.latency_ms for e in events if e.model == m.model_id]
        if all(lat is None for lat in latencies):
            assert m.avg_latency_ms is None and m.p95_latency_ms is None
        else:
            assert m.avg_latency_ms is not None and m.avg_latency_ms > 0
    grid = heatmap.token_grid()
    assert sum(map(sum, grid)) == sum(e.total_tokens for e in events)
    zone = zoneinfo.ZoneInfo("America/Mexico_City")
    monday_9 = sum(
        e.total_tokens
        for e in events
        if (local := datetime.fromtimestamp(e.ts, zone)).weekday() == 0 and local.hour == 9
    )
    assert grid[1][9] == monday_9
    assert isinstance(projection, usagekit.DaramexProjectionOk)
    assert projection.actual == sum((e.cost_usd for e in events), Decimal(0))
    assert projection.lower_bound <= projection.projected <= projection.upper_bound
    assert isinstance(short, usagekit.DaramexProjectionInsufficientData)
    assert short.days_available == 3
    assert savings.total_cache_read_tokens == sum(e.cache_read_tokens for e in events)
    assert savings.total_input_tokens == sum(e.total_input_tokens for e in events)


async def test_default_windows_with_the_real_clock(mode: str) -> None:
    """Month to date, as a user runs it today: must hold at every instant (the sweep runs it)."""
    for _ in range(2):  # a month that turns while the test runs: once more, in the new one
        now = usagekit.utcnow().replace(microsecond=0) - timedelta(seconds=1)
        month = usagekit.month_start()  # what the clients' default window starts at
        with sandbox_module.serve(seed=12, now=now) as live:
            clients = [
                client(live, mode, "basedash", max_retries=0),
                client(live, mode, "unsiloed", max_retries=0),
                client(live, mode, "daramex", max_retries=0),
            ]
            basedash, unsiloed, daramex = [await resolve(c.records()) for c in clients]
            for c in clients:
                await close(c)
        if usagekit.month_start() == month:
            break
    with sandbox_module.serve(seed=12, now=now) as live:
        check_basedash(live, basedash)
        check_unsiloed(live, unsiloed)
        truth = (
            live.data.daramex_events(month, now, org_id=live.keys.daramex_org_id)
            if now > month
            else []
        )
        if not truth:  # the first moments of a month: nothing has happened yet
            assert daramex == []
            return
        assert min(r.start for r in daramex) == month
        last = max(daramex, key=lambda r: r.end)
        width = last.end - last.start
        # Daramex picks hourly buckets for a window up to 7 days, daily ones above; the open
        # bucket keeps its natural end (the next whole hour or local midnight after now), so
        # its ids are the same on every fetch; buckets without usage are not sent, and the
        # sandbox has no usage after now
        assert width in (timedelta(hours=1), timedelta(days=1))
        assert last.start <= now
        assert (last.end.minute, last.end.second) == (0, 0)
        if last.end <= now:  # the hours since hold nothing
            assert not live.data.daramex_events(last.end, now, org_id=live.keys.daramex_org_id)
        if width == timedelta(days=1):
            assert last.end.hour == 0
        check_daramex(live, daramex, start=month, end=last.end, source="all", group_by="model")


async def test_documented_errors_over_http(sb: Any, mode: str) -> None:
    keys = sb.keys
    cases: list[tuple[Any, str, type[usagekit.APIError], str]] = [
        (
            client(sb, mode, "basedash", org_id="org_nobody", max_retries=0),
            "ai_usage",
            usagekit.NotFoundError,
            "organization not found, no admin access, or billing period unavailable",
        ),
        (
            client(sb, mode, "basedash", api_key="bd_wrong", max_retries=0),
            "ai_usage",
            usagekit.AuthenticationError,
            "Missing or invalid API key",
        ),
        (
            client(sb, mode, "unsiloed", api_key=keys.unsiloed_orphan_api_key, max_retries=0),
            "get_usage",
            usagekit.NotFoundError,
            "Organization not found",
        ),
        (
            client(sb, mode, "unsiloed", api_key="unsiloed_wrong", max_retries=0),
            "get_usage",
            usagekit.AuthenticationError,
            "Invalid API key",
        ),
        (
            client(sb, mode, "daramex", token=keys.daramex_other_token, max_retries=0),
            "cache_savings",
            usagekit.PermissionDeniedError,
            "lacks read on ai.agent",
        ),
        (
            client(sb, mode, "daramex", token="not-a-jwt", max_retries=0),
            "cache_savings",
            usagekit.AuthenticationError,
            "DARAMEX_TOKEN",
        ),
    ]
    for c, method, error, text in cases:
        args = (NOW - timedelta(days=2), NOW) if method == "cache_savings" else ()
        with pytest.raises(error) as caught:
            await resolve(getattr(c, method)(*args))
        await close(c)
        assert text in str(caught.value)


async def test_faults_are_survived_without_loss_or_early_retries(sb: Any, mode: str) -> None:
    window = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC))
    clean = {}
    for provider in ("basedash", "unsiloed", "daramex"):
        c = client(sb, mode, provider, max_retries=0)
        clean[provider] = await resolve(
            c.records(*window, granularity="day") if provider == "daramex" else c.records()
        )
        await close(c)
    sb.configure(fault_rate=0.3, fault_seed=5, slow_seconds=0.01, retry_after_ms=(5, 30))
    for _ in range(4):
        for provider in ("basedash", "unsiloed", "daramex"):
            c = client(sb, mode, provider, retry=FAST_RETRIES, timeout=2.0)
            got = await resolve(
                c.records(*window, granularity="day") if provider == "daramex" else c.records()
            )
            await close(c)
            assert got == clean[provider]
    assert sum(sb.stats.faults.values()) > 0
    assert sb.stats.early_retries == []
    assert sb.stats.internal_errors == []
