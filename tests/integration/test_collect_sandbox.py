"""collect over all four providers against the sandbox: totals equal its ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from tests.conftest import resolve

sandbox_module = pytest.importorskip("usagekit.sandbox")

UTC = timezone.utc
NOW = datetime(2026, 10, 20, 9, 30, tzinfo=UTC)
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 10, 15, tzinfo=UTC)
TOKEN_KINDS = ("completions", "embeddings", "moderations")


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with sandbox_module.serve(seed=5, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _clock_at_the_sandbox() -> Iterator[None]:
    """usagekit's clock where the sandbox's stands: open windows end at its "now"."""
    with usagekit.pin_clock(NOW):
        yield


def _clients(sb: Any, mode: str, **basedash: Any) -> list[Any]:
    if mode == "sync":
        return [sb.openai_client(), sb.basedash_client(**basedash), sb.unsiloed_client(),
                sb.daramex_client()]  # fmt: skip
    return [sb.async_openai_client(), sb.async_basedash_client(**basedash),
            sb.async_unsiloed_client(), sb.async_daramex_client()]  # fmt: skip


def _expected_cost(sb: Any) -> dict[str, Decimal]:
    data = sb.data
    openai = sum(data.openai_cost_totals(START, END).values(), Decimal(0))
    basedash = data.basedash_period(NOW).total  # the October billing period overlaps the window
    _, daramex = data.daramex_totals(START, END)
    return {"openai": openai, "basedash": basedash, "daramex": daramex}


def _expected_tokens(sb: Any) -> dict[str, Decimal]:
    data = sb.data
    openai = 0
    for kind in TOKEN_KINDS:
        for metrics in data.openai_totals(kind, START, END).values():
            openai += metrics.get("input_tokens", 0) + metrics.get("output_tokens", 0)
    tokens, _ = data.daramex_totals(START, END)
    return {"openai": Decimal(openai), "daramex": Decimal(tokens)}


async def _collect(mode: str, clients: list[Any]) -> usagekit.UsageReport:
    if mode == "sync":
        return usagekit.collect(clients, START, END)
    return await usagekit.acollect(clients, START, END)


async def _close(clients: list[Any]) -> None:
    for c in clients:
        await resolve(c.aclose() if hasattr(c, "aclose") else c.close())


async def test_totals_equal_the_ground_truth(mode: str, sb: Any) -> None:
    clients = _clients(sb, mode)
    report = await _collect(mode, clients)
    await _close(clients)
    assert report.ok, [f.reason for f in report.failures]
    assert set(report.providers) == {"openai", "basedash", "unsiloed", "daramex"}
    expected = _expected_cost(sb)
    assert {p: amounts["USD"] for p, amounts in report.cost_by("provider").items()} == expected
    assert report.total_cost() == {"USD": sum(expected.values(), Decimal(0))}
    assert report.tokens_by("provider") == _expected_tokens(sb)
    cycle = sb.data.unsiloed_cycle(NOW)
    (used,) = report.totals("provider", metric="current_usage")
    assert used.quantity == Decimal(cycle.current_usage)
    assert len({r.id for r in report.records}) == len(report.records)


async def test_one_provider_down_loses_nothing_else(mode: str, sb: Any) -> None:
    clients = _clients(sb, mode, api_key="basedash-wrong-key")
    report = await _collect(mode, clients)
    await _close(clients)
    (failure,) = report.failures
    assert failure.provider == "basedash"
    assert isinstance(failure.error, usagekit.AuthenticationError)
    expected = _expected_cost(sb)
    del expected["basedash"]
    assert {p: a["USD"] for p, a in report.cost_by("provider").items()} == expected


def test_collect_reuses_async_clients_across_calls(sb: Any) -> None:
    client = sb.async_unsiloed_client()
    first = usagekit.collect([client], START, END)
    second = usagekit.collect([client], START, END)  # the same pooled connections, again
    assert first.ok and second.ok, [f.reason for f in (*first.failures, *second.failures)]
    assert first.records == second.records


def test_fetching_the_open_daramex_bucket_twice_gives_the_same_ids(sb: Any) -> None:
    client = sb.daramex_client()
    first = list(client.records(datetime(2026, 10, 19, tzinfo=UTC)))
    second = list(client.records(datetime(2026, 10, 19, tzinfo=UTC)))
    client.close()
    assert {r.id for r in first} == {r.id for r in second}
    assert len(usagekit.UsageReport.from_records([*first, *second])) == len(first)
