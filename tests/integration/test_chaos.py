"""Chaos: with 30 % of requests failing, hundreds of pages give exactly the clean run's records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
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
