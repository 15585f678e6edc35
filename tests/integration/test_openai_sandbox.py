"""The OpenAI clients against the sandbox over real loopback HTTP.

Every expectation comes from the sandbox's own ground truth (``sb.data.openai_totals``,
``openai_vector_store_bytes``, ``openai_cost_totals``), never from its HTTP answers; each
scenario runs with the sync and the async client.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from tests.conftest import resolve
from usagekit import PermissionDeniedError, UsageRecord

sandbox_module = pytest.importorskip("usagekit.sandbox")

UTC = timezone.utc
NOW = datetime(2026, 11, 15, 12, 34, 56, tzinfo=UTC)
START = datetime(2026, 11, 8, tzinfo=UTC)
END = datetime(2026, 11, 15, tzinfo=UTC)
FAST_RETRIES = usagekit.RetryPolicy(max_retries=10, initial_backoff=0.01, max_backoff=0.05)
RECORD_DIMENSIONS = ("project_id", "user_id", "api_key_id", "model", "line_item")
FLOW_KINDS = [k for k, spec in sandbox_module.OPENAI_KINDS.items() if not spec.level]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with sandbox_module.serve(seed=5, now=NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Any) -> Any:
    sandbox.reset()
    return sandbox


def make(sb: Any, mode: str, **kwargs: Any) -> Any:
    factory = sb.openai_client if mode == "sync" else sb.async_openai_client
    return factory(**kwargs)


async def close(client: Any) -> None:
    if hasattr(client, "aclose"):
        await client.aclose()
    else:
        client.close()


async def fetch(sb: Any, mode: str, *args: Any, **kwargs: Any) -> list[UsageRecord]:
    client = make(sb, mode, retry=FAST_RETRIES)
    try:
        records: list[UsageRecord] = await resolve(client.records(*args, **kwargs))
    finally:
        await close(client)
    return records


def sums(records: list[UsageRecord], *dims: str) -> dict[tuple[Any, ...], dict[str, Decimal]]:
    out: dict[tuple[Any, ...], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for record in records:
        key = tuple(
            getattr(record, d) if d in RECORD_DIMENSIONS else record.attributes.get(d) for d in dims
        )
        out[key][record.metric] += record.quantity
    return {key: dict(metrics) for key, metrics in out.items()}


def truth(sb: Any, kind: str, *dims: str) -> dict[tuple[Any, ...], dict[str, Decimal]]:
    totals = sb.data.openai_totals(kind, START, END, group_by=dims)
    return {
        tuple(_attr(v) for v in key): {m: Decimal(v) for m, v in metrics.items()}
        for key, metrics in totals.items()
    }


def _attr(value: Any) -> Any:
    """A dimension as a record carries it (booleans are attribute strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def test_every_flow_endpoint_matches_ground_truth(sb: Any, mode: str) -> None:
    records = await fetch(sb, mode, START, END)
    by_source: dict[str, list[UsageRecord]] = defaultdict(list)
    for record in records:
        by_source[record.source].append(record)
    assert set(by_source) == {*sandbox_module.OPENAI_KINDS, "costs"}
    for kind in FLOW_KINDS:
        expected = truth(sb, kind)
        assert expected, kind
        assert sums(by_source[kind]) == expected, kind
    costs = sum((r.quantity for r in by_source["costs"]), Decimal(0))
    assert costs == sb.data.openai_cost_totals(START, END)[()]
    assert len({r.id for r in records}) == len(records)
    assert sb.stats.total_requests == 11


@pytest.mark.parametrize(
    ("kind", "dims"),
    [
        ("completions", ("model",)),
        ("completions", ("project_id", "batch")),
        ("completions", ("service_tier",)),
        ("images", ("size", "source")),
        ("file_search_calls", ("vector_store_id",)),
        ("web_search_calls", ("context_level", "user_id")),
        ("audio_transcriptions", ("api_key_id",)),
    ],
)
async def test_breakdowns_match_ground_truth(
    sb: Any, mode: str, kind: str, dims: tuple[str, ...]
) -> None:
    records = await fetch(sb, mode, START, END, sources=[kind])
    assert sums(records, *dims) == truth(sb, kind, *dims)


async def test_costs_by_line_item_are_exact(sb: Any, mode: str) -> None:
    records = await fetch(sb, mode, START, END, sources=["costs"])
    got: dict[str | None, Decimal] = defaultdict(Decimal)
    for record in records:
        assert record.unit == "USD"
        got[record.line_item] += record.quantity
    expected = sb.data.openai_cost_totals(START, END, group_by=["line_item"])
    assert dict(got) == {key[0]: value for key, value in expected.items()}


async def test_vector_store_levels_match_each_bucket(sb: Any, mode: str) -> None:
    for width in ("1d", "1h"):
        records = await fetch(sb, mode, START, END, sources=["vector_stores"], bucket_width=width)
        per_bucket: dict[datetime, Decimal] = defaultdict(Decimal)
        for record in records:
            assert record.kind == usagekit.LEVEL
            per_bucket[record.end] += record.quantity
        assert len(per_bucket) == (7 if width == "1d" else 168)
        for end, level in per_bucket.items():
            assert level == sb.data.openai_vector_store_bytes(end - timedelta(seconds=1)), end


async def test_hourly_records_match_ground_truth(sb: Any, mode: str) -> None:
    records = await fetch(sb, mode, START, END, sources=["completions"], bucket_width="1h")
    assert {r.end - r.start for r in records} == {timedelta(hours=1)}
    assert sums(records, "model") == truth(sb, "completions", "model")


async def test_typed_pager_walks_small_pages(sb: Any, mode: str) -> None:
    client = make(sb, mode, retry=FAST_RETRIES)
    try:
        buckets = await resolve(client.usage.embeddings(START, END, limit=2, group_by=["model"]))
    finally:
        await close(client)
    assert [b.start_time for b in buckets] == [START + timedelta(days=d) for d in range(7)]
    assert sb.stats.total_requests == 4
    got: dict[tuple[Any, ...], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for bucket in buckets:
        for result in bucket.results:
            got[(result.model,)]["input_tokens"] += result.input_tokens
            got[(result.model,)]["num_model_requests"] += result.num_model_requests
    assert {k: dict(v) for k, v in got.items()} == truth(sb, "embeddings", "model")


async def test_records_survive_faults(sb: Any, mode: str) -> None:
    for kind in ("rate_limit", "server_error", "bad_gateway", "drop", "truncate"):
        sb.inject_faults(kind, 1, provider="openai")
    records = await fetch(sb, mode, START, END, sources=["completions", "costs"])
    assert sums([r for r in records if r.source == "completions"]) == truth(sb, "completions")
    costs = sum((r.quantity for r in records if r.source == "costs"), Decimal(0))
    assert costs == sb.data.openai_cost_totals(START, END)[()]
    assert sb.stats.total_requests == 2 + 5


async def test_project_key_is_told_to_use_an_admin_key(sb: Any, mode: str) -> None:
    client = make(sb, mode, api_key=sb.keys.openai_project_key)
    try:
        with pytest.raises(PermissionDeniedError) as caught:
            await resolve(client.costs(START, END))
    finally:
        await close(client)
    assert "organization admin key" in str(caught.value)
    assert "OPENAI_ADMIN_KEY" in str(caught.value)
    assert sb.keys.openai_project_key not in str(caught.value)
