"""The ready-client factories, against the usagekit clients (skipped where one is not there yet)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import usagekit
from usagekit.sandbox import Sandbox

WINDOW = ("2026-04-08T00:00:00Z", "2026-04-15T00:00:00Z")


def test_sync_factories_point_clients_at_the_sandbox(sb: Sandbox) -> None:
    with sb.basedash_client() as basedash:
        usage = basedash.ai_usage()
    period = sb.data.basedash_period()
    assert usage.total_usage == period.total
    assert usage.total_usage - sum((m.usage for m in usage.member_usage), Decimal(0)) > 0
    with sb.unsiloed_client(max_retries=0) as unsiloed:
        assert unsiloed.get_usage().current_usage == sb.data.unsiloed_cycle().current_usage
    with sb.daramex_client(timeout=5) as daramex:
        savings = daramex.cache_savings(*WINDOW)
    system = sb.data.daramex_events(*WINDOW, source="system")
    assert savings.total_input_tokens == sum(e.total_input_tokens for e in system)
    assert sb.stats.count(status=200) == 3


async def test_async_factories_point_clients_at_the_sandbox(sb: Sandbox) -> None:
    async with sb.async_basedash_client() as basedash:
        usage = await basedash.ai_usage()
    assert usage.total_usage == sb.data.basedash_period().total
    async with sb.async_unsiloed_client() as unsiloed:
        assert (await unsiloed.get_usage()).org_id == sb.data.catalog.unsiloed_org_id
    async with sb.async_daramex_client() as daramex:
        savings = await daramex.cache_savings(*WINDOW)
    assert savings.skipped_models_count == 1


def test_factories_pass_keyword_arguments_on(sb: Sandbox) -> None:
    orphan = sb.unsiloed_client(api_key=sb.keys.unsiloed_orphan_api_key, max_retries=0)
    with orphan, pytest.raises(usagekit.NotFoundError):
        orphan.get_usage()


def test_openai_and_all_clients(sb: Sandbox) -> None:
    if not hasattr(usagekit, "OpenAIClient"):
        pytest.skip("usagekit.OpenAIClient is not there yet")
    clients = sb.clients(max_retries=0)
    try:
        assert type(clients.openai).__name__ == "OpenAIClient"
        assert type(clients.daramex).__name__ == "DaramexClient"
    finally:
        for client in clients:
            client.close()
