"""OpenRouter against the sandbox over real loopback HTTP: records equal its ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

import usagekit
from tests.conftest import resolve
from usagekit._core.coverage import capture
from usagekit.sandbox import Sandbox, serve
from usagekit.sandbox._emulators.openrouter import OpenRouterData

from .._support import close, total
from ._data import UTC

NOW = datetime(2026, 9, 2, 10, 30, tzinfo=UTC)
METRICS = ("cost", "byok_usage_inference", "requests", "input_tokens", "output_tokens")
TRUTH_NAME = {"input_tokens": "prompt_tokens", "output_tokens": "completion_tokens"}
"""The emulator's ground truth keeps OpenRouter's own names for the token counts."""
FAST = usagekit.RetryPolicy(max_retries=8, initial_backoff=0.01, max_backoff=0.05)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with usagekit.pin_clock(NOW, tick=False), serve(seed=7, now=NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.reset()
    with usagekit.pin_clock(NOW):
        yield sandbox
    assert sandbox.stats.internal_errors == []


def client(sb: Sandbox, mode: str, **kwargs: Any) -> Any:
    factory = sb.openrouter_client if mode == "sync" else sb.async_openrouter_client
    return factory(**kwargs)


def truth(sb: Sandbox, start: str, end: str, **filters: Any) -> dict[str, Any]:
    return OpenRouterData(sb.data).truth(start, end, **filters)


async def test_records_equal_the_ground_truth(sb: Sandbox, mode: str) -> None:
    c = client(sb, mode)
    with capture() as declared:
        records = await resolve(c.records("2026-07-01"))
    await close(c)
    expected = truth(sb, "2026-08-03", "2026-09-02")
    assert expected["cost"] > 0 and expected["byok_usage_inference"] > 0
    for metric in (*METRICS, "reasoning_tokens"):
        assert total(records, metric) == expected[TRUTH_NAME.get(metric, metric)], metric
    data = OpenRouterData(sb.data)
    levels = {r.metric: r.quantity for r in records if r.kind == "level"}
    assert levels == {"total_credits": data.purchased, "total_usage": data.total_usage()}
    assert "nothing before 2026-08-03" in declared[0].note
    with sb.openrouter_client() as fresh:
        report = usagekit.collect([fresh], "2026-07-01")
    (status,) = report.statuses
    assert status.note is not None and "last 30 completed UTC days" in status.note


@pytest.mark.parametrize(
    "filters",
    [{"user": 0}, {"key": 1}, {"workspace": 2}, {"user": 1, "key": 0, "workspace": 0}],
)
async def test_filtered_records_equal_the_filtered_truth(
    sb: Sandbox, mode: str, filters: dict[str, int]
) -> None:
    data = OpenRouterData(sb.data)
    kwargs = {}
    if "user" in filters:
        kwargs["user_id"] = data.users[filters["user"]]
    if "key" in filters:
        kwargs["api_key_hash"] = data.api_key_hashes[filters["key"]]
    if "workspace" in filters:
        kwargs["workspace_id"] = data.workspaces[filters["workspace"]]
    c = client(sb, mode)
    records = await resolve(c.records("2026-08-20", "2026-08-27", **kwargs))
    await close(c)
    expected = truth(sb, "2026-08-20", "2026-08-27", **kwargs)
    for metric in METRICS:
        assert total(records, metric) == expected[TRUTH_NAME.get(metric, metric)], metric


async def test_grouped_by_workspace_each_workspace_is_its_truth(sb: Sandbox, mode: str) -> None:
    data = OpenRouterData(sb.data)
    c = client(sb, mode)
    records = await resolve(c.records("2026-08-25", "2026-08-28", group_by="workspace"))
    await close(c)
    assert {r.project_id for r in records} == set(data.workspaces)
    for workspace in data.workspaces:
        mine = [r for r in records if r.project_id == workspace]
        expected = truth(sb, "2026-08-25", "2026-08-28", workspace_id=workspace)
        assert total(mine, "cost") == expected["cost"]


async def test_a_normal_key_gets_403_with_the_hint(sb: Sandbox, mode: str) -> None:
    c = client(sb, mode, api_key=sb.keys.openrouter_api_key, max_retries=0)
    for call in (lambda: c.activity("2026-09-01"), c.credits):
        with pytest.raises(usagekit.PermissionDeniedError) as caught:
            await resolve(call())
        assert caught.value.message == "Only management keys can perform this operation"
        assert caught.value.hint is not None and "management" in caught.value.hint
    await close(c)


async def test_documented_errors_over_http(sb: Sandbox, mode: str) -> None:
    c = client(sb, mode, api_key="sk-or-v1-unknown", max_retries=0)
    with pytest.raises(usagekit.AuthenticationError):
        await resolve(c.credits())
    await close(c)
    c = client(sb, mode, max_retries=0)
    with pytest.raises(usagekit.NotFoundError):
        await resolve(c.activity("2026-09-01", workspace_id="not-a-workspace"))
    await close(c)


def test_documented_error_shapes_over_raw_http(sb: Sandbox) -> None:
    base = sb.base_urls["openrouter"]
    headers = {"Authorization": f"Bearer {sb.keys.openrouter_management_key}"}
    for day in ("2026-09-02", "2026-08-02"):
        answer = httpx.get(f"{base}/activity", params={"date": day}, headers=headers)
        assert answer.status_code == 400
        assert answer.json() == {
            "error": {
                "code": 400,
                "message": "Date must be within the last 30 (completed) UTC days",
                "metadata": None,
            }
        }
    missing = httpx.get(f"{base}/credits")
    assert missing.status_code == 401
    assert missing.json()["error"]["message"] == "Missing Authentication header"


def test_a_429_has_retry_after_and_the_documented_body(sb: Sandbox) -> None:
    sb.inject_faults("rate_limit", 1, provider="openrouter")
    base = sb.base_urls["openrouter"]
    headers = {"Authorization": f"Bearer {sb.keys.openrouter_management_key}"}
    limited = httpx.get(f"{base}/credits", headers=headers)
    assert limited.status_code == 429 and float(limited.headers["retry-after"]) > 0
    assert limited.json()["error"]["metadata"] == {"error_type": "rate_limit_exceeded"}


async def test_429_and_faults_are_survived(sb: Sandbox, mode: str) -> None:
    c = client(sb, mode, max_retries=0)
    clean = await resolve(c.records("2026-08-20", "2026-08-24"))
    await close(c)
    sb.inject_faults("rate_limit", 2, provider="openrouter")
    sb.configure(fault_rate=0.4, fault_seed=3, slow_seconds=0.01, retry_after_ms=(5, 20))
    c = client(sb, mode, retry=FAST, timeout=2.0)
    got = await resolve(c.records("2026-08-20", "2026-08-24"))
    await close(c)
    assert got == clean
    assert sum(sb.stats.faults.values()) > 0
    assert sb.stats.early_retries == []


def test_the_data_is_deterministic_and_independent_of_the_seed() -> None:
    with serve(seed=7, now=NOW) as one, serve(seed=8, now=NOW) as other:
        first = OpenRouterData(one.data)
        again = OpenRouterData(one.data)
        different = OpenRouterData(other.data)
        day = date(2026, 8, 20)
        assert first.day_rows(day) == again.day_rows(day)
        assert first.truth(day, day + timedelta(days=1)) != different.truth(
            day, day + timedelta(days=1)
        )
        assert one.keys.openrouter_management_key != other.keys.openrouter_management_key
