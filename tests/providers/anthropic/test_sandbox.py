"""Anthropic against its sandbox emulator over real loopback HTTP: records equal ground truth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from tests.conftest import resolve
from usagekit.sandbox import Sandbox, serve
from usagekit.sandbox._emulators.anthropic import AnthropicData

from .._support import close, total

NOW = "2026-11-20T10:30:00Z"
START, END = "2026-10-28", "2026-11-21"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with serve(seed=5, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _pinned() -> Iterator[None]:
    """Every test here reads days before NOW as finished, whatever the real date."""
    with usagekit.pin_clock(NOW):
        yield


def client_for(sb: Sandbox, mode: str, **kw: Any) -> Any:
    kw.setdefault("max_retries", 0)
    return sb.anthropic_client(**kw) if mode == "sync" else sb.async_anthropic_client(**kw)


async def test_records_equal_the_ground_truth_and_nothing_is_counted_twice(
    sb: Sandbox, mode: str
) -> None:
    truth = AnthropicData.for_sandbox(sb.data)
    client = client_for(sb, mode)
    with usagekit.pin_clock(NOW):
        records = await resolve(client.records(START, END))
    await close(client)
    assert len({r.id for r in records}) == len(records)
    by_source: dict[str, set[str]] = {}
    for record in records:
        by_source.setdefault(record.source, set()).add(record.metric)
    assert set(by_source) == {"messages", "cost_report", "claude_code"}
    metrics = list(by_source.values())
    assert not (metrics[0] & metrics[1] or metrics[0] & metrics[2] or metrics[1] & metrics[2])
    usage = [r for r in records if r.source == "messages"]
    for metric, value in truth.usage_totals(START, END).items():
        assert total(usage, metric) == value, metric
    assert total(records, "cost") == truth.cost_total(START, END)
    assert truth.cost_total(START, END) > 0
    code = [r for r in records if r.source == "claude_code"]
    for metric, value in truth.claude_code_totals(START, END).items():
        assert total(code, metric) == value, metric
    costs = [r for r in records if r.metric == "cost"]
    assert max(r.end for r in costs).isoformat() == "2026-11-20T00:00:00+00:00"
    assert any(r.attributes.get("workspace") == "default" for r in costs)
    assert any(r.attributes.get("api_key") == "none" for r in usage)


async def test_small_pages_and_hours_give_the_same_totals(sb: Sandbox, mode: str) -> None:
    truth = AnthropicData.for_sandbox(sb.data)
    client = client_for(sb, mode)
    pager = client.usage_report(
        "2026-11-01T00:00Z", "2026-11-03T05:00Z", bucket_width="1h", limit=7, group_by=["model"]
    )
    pages = await resolve(pager.iter_pages())
    cost_pages = await resolve(
        client.cost_report(
            "2026-11-01", "2026-11-10", limit=2, group_by=["description"]
        ).iter_pages()
    )
    await close(client)
    assert len(pages) == 8 and len(cost_pages) == 5
    buckets = [b for p in pages for b in p.data]
    assert len(buckets) == 53
    output = sum(r.output_tokens or 0 for b in buckets for r in b.results)
    assert output == truth.usage_totals("2026-11-01T00:00Z", "2026-11-03T05:00Z")["output_tokens"]
    cents = sum((r.amount for p in cost_pages for b in p.data for r in b.results), Decimal(0))
    assert cents / 100 == truth.cost_total("2026-11-01", "2026-11-10")


async def test_filters_narrow_the_usage(sb: Sandbox, mode: str) -> None:
    client = client_for(sb, mode)
    everything = await resolve(client.usage_report("2026-11-01", "2026-11-08", group_by=["model"]))
    opus = await resolve(
        client.usage_report(
            "2026-11-01", "2026-11-08", models=["claude-opus-4-6"], group_by=["model"]
        )
    )
    await close(client)
    models = {r.model for b in opus for r in b.results}
    assert models == {"claude-opus-4-6"}
    assert len({r.model for b in everything for r in b.results}) == 3


async def test_a_normal_api_key_is_refused_with_the_admin_key_hint(sb: Sandbox, mode: str) -> None:
    client = client_for(sb, mode, api_key=sb.keys.anthropic_api_key)
    with pytest.raises(usagekit.PermissionDeniedError, match="sk-ant-admin"):
        await resolve(client.usage_report("2026-11-01", "2026-11-02"))
    await close(client)
    client = client_for(sb, mode, api_key="sk-ant-admin01-wrong")
    with pytest.raises(usagekit.AuthenticationError):
        await resolve(client.usage_report("2026-11-01", "2026-11-02"))
    await close(client)


async def test_a_rate_limit_is_retried_after_its_hint(mode: str) -> None:
    with serve(seed=5, now=NOW) as sandbox:
        sandbox.inject_faults("rate_limit", 2, provider="anthropic")
        sandbox.inject_faults("server_error", 1, provider="anthropic")
        client = client_for(sandbox, mode, max_retries=4)
        buckets = await resolve(client.usage_report("2026-11-01", "2026-11-03"))
        await close(client)
        stats = Counter(sandbox.stats.faults) if hasattr(sandbox.stats, "faults") else None
    assert len(buckets) == 2
    assert stats is None or stats["rate_limit"] == 2


def test_collect_reads_the_sandbox(sb: Sandbox) -> None:
    with usagekit.pin_clock(NOW):
        report = usagekit.collect([sb.anthropic_client()], START, END)
    (status,) = report.statuses
    assert status.error is None and "finished UTC days" in (status.note or "")
