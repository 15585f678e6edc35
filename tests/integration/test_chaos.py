"""Chaos: with 30 % of requests failing, hundreds of pages give exactly the clean run's records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from tests.conftest import resolve
from usagekit._providers.openai._normalize import bucket_records
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

sandbox_module = pytest.importorskip("usagekit.sandbox")

UTC = timezone.utc
NOW = datetime(2026, 9, 30, 12, tzinfo=UTC)
START = datetime(2026, 9, 10, tzinfo=UTC)
END = START + timedelta(hours=300)  # limit=1 at 1h: 300 pages
RETRIES = usagekit.RetryPolicy(max_retries=12, initial_backoff=0.005, max_backoff=0.02)


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with sandbox_module.serve(seed=21, now=NOW) as sandbox:
        yield sandbox


async def _walk(sb: Any, mode: str) -> list[usagekit.UsageRecord]:
    factory = sb.openai_client if mode == "sync" else sb.async_openai_client
    client = factory(retry=RETRIES)
    endpoint = ENDPOINTS_BY_NAME["completions"]
    pager = client.usage.completions(START, END, bucket_width="1h", limit=1, group_by=["model"])
    try:
        buckets = await resolve(pager)
    finally:
        await resolve(client.aclose() if mode == "async" else client.close())
    return [record for bucket in buckets for record in bucket_records(endpoint, bucket)]


async def test_faults_lose_nothing_duplicate_nothing_and_never_retry_early(
    sb: Any, mode: str
) -> None:
    sb.reset()
    clean = await _walk(sb, mode)
    clean_requests = sb.stats.total_requests
    assert clean_requests == 300

    sb.reset_stats()
    sb.configure(fault_rate=0.3, fault_seed=7, slow_seconds=0.005, retry_after_ms=(5, 25))
    try:
        chaotic = await _walk(sb, mode)
    finally:
        sb.configure(fault_rate=0.0)
    stats = sb.stats
    assert sum(stats.faults.values()) > 50  # the chaos really happened
    assert len(stats.faults) >= 4  # and of several kinds
    assert stats.early_retries == []  # no retry came before its hint
    assert len({r.id for r in chaotic}) == len(chaotic)  # no duplicates
    assert chaotic == clean  # no loss, same order, same quantities


# ------------------------------------------------------------------ Anthropic and OpenRouter

DAY = timedelta(days=1)
HOURS = 96  # limit=1 at 1h: 96 pages of usage
STORM = (("rate_limit", 6), ("server_error", 2), ("drop", 2), ("bad_gateway", 1))
"""Queued before the chaotic walk: a 429 storm on the first request, then 5xx and drops."""
STORM_RETRIES = usagekit.RetryPolicy(max_retries=24, initial_backoff=0.005, max_backoff=0.02)
"""Room for the storm's eleven failures in a row and for the random ones after them."""


def _client(sb: Any, mode: str, provider: str) -> Any:
    return sb.client(provider, asynchronous=mode == "async", retry=STORM_RETRIES, timeout=5.0)


async def _anthropic_walk(sb: Any, mode: str) -> dict[str, list[Any]]:
    """Every Anthropic report, page by page at the smallest pages, and ``records()``."""
    client = _client(sb, mode, "anthropic")
    try:
        with usagekit.pin_clock(NOW):
            return {
                "hours": await resolve(
                    client.usage_report(
                        START,
                        START + timedelta(hours=HOURS),
                        bucket_width="1h",
                        limit=1,
                        group_by=["model", "workspace_id", "api_key_id"],
                    )
                ),
                "costs": await resolve(
                    client.cost_report(
                        START, START + 14 * DAY, limit=1, group_by=["workspace_id", "description"]
                    )
                ),
                "claude_code": await resolve(
                    client.claude_code_usage(START, START + 7 * DAY, limit=1)
                ),
                "records": await resolve(client.records(START, START + 14 * DAY)),
            }
    finally:
        await resolve(client.aclose() if mode == "async" else client.close())


async def _openrouter_walk(sb: Any, mode: str) -> dict[str, list[Any]]:
    """OpenRouter's 30 days (the async client keeps four in flight), plain and per workspace."""
    client = _client(sb, mode, "openrouter")
    try:
        with usagekit.pin_clock(NOW):
            return {
                "records": await resolve(client.records(NOW - 30 * DAY)),
                "by_workspace": await resolve(
                    client.records(NOW - 30 * DAY, group_by="workspace", credits=False)
                ),
            }
    finally:
        await resolve(client.aclose() if mode == "async" else client.close())


def _anthropic_truth(sb: Any, walked: dict[str, list[Any]]) -> None:
    """The walk's figures are the emulator's own."""
    from usagekit.sandbox._emulators.anthropic import AnthropicData

    truth = AnthropicData.for_sandbox(sb.data)
    hours = walked["hours"]
    assert len(hours) == HOURS
    expected = truth.usage_totals(START, START + timedelta(hours=HOURS))
    assert sum(r.output_tokens or 0 for b in hours for r in b.results) == expected["output_tokens"]
    cents = sum((r.amount for b in walked["costs"] for r in b.results), Decimal(0))
    assert cents / 100 == truth.cost_total(START, START + 14 * DAY) > 0
    sessions = sum(
        (e.core_metrics.num_sessions or 0) if e.core_metrics else 0 for e in walked["claude_code"]
    )
    code_truth = truth.claude_code_totals(START, START + 7 * DAY)
    assert sessions == code_truth["claude_code_sessions"] > 0
    records = walked["records"]
    assert len({r.id for r in records}) == len(records)
    for metric, value in truth.usage_totals(START, START + 14 * DAY).items():
        assert _total(records, "messages", metric) == value, metric
    assert _total(records, "cost_report", "cost") == truth.cost_total(START, START + 14 * DAY)
    for metric, value in truth.claude_code_totals(START, START + 14 * DAY).items():
        assert _total(records, "claude_code", metric) == value, metric


def _openrouter_truth(sb: Any, walked: dict[str, list[Any]]) -> None:
    from usagekit.sandbox._emulators.openrouter import OpenRouterData

    data = OpenRouterData(sb.data)
    expected = data.truth(NOW - 30 * DAY, NOW)
    names = {"input_tokens": "prompt_tokens", "output_tokens": "completion_tokens"}
    for key in ("records", "by_workspace"):
        records = walked[key]
        assert len({r.id for r in records}) == len(records), key
        days = {r.start for r in records if r.source == "activity"}
        assert len(days) == 30, key
        for metric in ("cost", "byok_usage_inference", "requests", "input_tokens"):
            assert _total(records, "activity", metric) == expected[names.get(metric, metric)]
    levels = {r.metric: r.quantity for r in walked["records"] if r.kind == "level"}
    assert levels == {"total_credits": data.purchased, "total_usage": data.total_usage()}


def _total(records: list[Any], source: str, metric: str) -> Decimal:
    return sum(
        (r.quantity for r in records if r.source == source and r.metric == metric), Decimal(0)
    )


WALKS = {
    "anthropic": (_anthropic_walk, _anthropic_truth),
    "openrouter": (_openrouter_walk, _openrouter_truth),
}


@pytest.mark.parametrize("provider", ["anthropic", "openrouter"])
async def test_new_providers_survive_storms_5xx_and_drops_exactly(
    sb: Any, mode: str, provider: str
) -> None:
    walk, check_truth = WALKS[provider]
    sb.reset()
    clean = await walk(sb, mode)
    clean_requests = sb.stats.total_requests
    check_truth(sb, clean)

    sb.reset_stats()
    for kind, times in STORM:
        sb.inject_faults(kind, times, provider=provider)
    sb.configure(fault_rate=0.3, fault_seed=11, slow_seconds=0.005, retry_after_ms=(5, 25))
    try:
        chaotic = await walk(sb, mode)
    finally:
        sb.configure(fault_rate=0.0)
    stats = sb.stats
    assert stats.faults.get("rate_limit", 0) >= 6  # the storm, and more
    assert sum(stats.faults.values()) > clean_requests // 5  # the chaos really happened
    assert len(stats.faults) >= 4  # and of several kinds
    assert stats.total_requests > clean_requests  # what failed was asked again
    assert stats.early_retries == []  # no retry came before its hint
    assert stats.internal_errors == []
    assert chaotic == clean  # no loss, no duplicate, same order, same figures
    check_truth(sb, chaotic)
