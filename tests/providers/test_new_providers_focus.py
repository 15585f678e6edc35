"""FOCUS rows of Anthropic and OpenRouter, from the sandbox: names from the registry, one row per
billed cost, and neither estimated nor BYOK spend ever a charge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal

import pytest

import usagekit
from usagekit.sandbox import Sandbox, serve

NOW = datetime(2026, 9, 20, 10, 30, tzinfo=timezone.utc)
WINDOW = ("2026-09-01", "2026-09-15")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with usagekit.pin_clock(NOW, tick=False), serve(seed=3, now=NOW) as sandbox:
        yield sandbox


def test_openrouter_publisher_is_the_model_vendor_and_byok_is_no_charge(sb: Sandbox) -> None:
    with usagekit.pin_clock(NOW, tick=False), sb.openrouter_client() as client:
        records = list(client.records(*WINDOW))
    rows = list(usagekit.focus_rows(records))
    costs = [r for r in records if r.metric == "cost"]
    assert len(rows) == len(costs) > 0
    assert {r["ProviderName"] for r in rows} == {"OpenRouter"}
    assert {r["InvoiceIssuerName"] for r in rows} == {"OpenRouter"}
    assert {r["ServiceName"] for r in rows} == {"OpenRouter API"}
    direct = {"anthropic": "Anthropic", "openai": "OpenAI"}  # as their own rows name them
    for row, record in zip(rows, costs, strict=True):
        vendor = record.attributes["model_vendor"]
        assert row["PublisherName"] == direct.get(vendor, vendor)
        assert record.model is not None and record.model.startswith(vendor + "/")
        assert "openrouter/upstream_provider" in row["Tags"]
    assert {"Anthropic", "OpenAI"} <= {r["PublisherName"] for r in rows}
    assert sum((r["BilledCost"] for r in rows), Decimal(0)) == sum(
        (r.quantity for r in costs), Decimal(0)
    )
    assert any(r.metric == "byok_usage_inference" and r.quantity > 0 for r in records)


def test_anthropic_rows_are_its_billed_cost_only(sb: Sandbox) -> None:
    with usagekit.pin_clock(NOW, tick=False), sb.anthropic_client() as client:
        records = list(client.records(*WINDOW))
    rows = list(usagekit.focus_rows(records))
    costs = [r for r in records if r.metric == "cost"]
    assert len(rows) == len(costs) > 0
    assert {(r["ProviderName"], r["PublisherName"]) for r in rows} == {("Anthropic", "Anthropic")}
    assert {r["ServiceName"] for r in rows} == {
        usagekit._providers.PROVIDERS["anthropic"].service_name
    }
    estimated = [r for r in records if r.metric == "claude_code_estimated_cost"]
    assert estimated, "the sandbox has Claude Code usage in the window"
    billed = sum((r["BilledCost"] for r in rows), Decimal(0))
    assert billed == sum((r.quantity for r in costs), Decimal(0))
