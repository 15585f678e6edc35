"""Allocation rules on hand-made records: matching, tiers, nothing twice, nothing invented."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from usagekit import UsageRecord, UsageReport, allocate_records

DAY = datetime(2026, 11, 3, tzinfo=timezone.utc)


def usage(
    metric: str, quantity: int, *, hour: int = 0, source: str = "completions", **dims: Any
) -> UsageRecord:
    start = DAY + timedelta(hours=hour)
    attributes = dims.pop("attributes", {})
    return UsageRecord(
        provider="openai",
        source=source,
        start=start,
        end=start + timedelta(hours=1),
        metric=metric,
        quantity=Decimal(quantity),
        unit="tokens",
        attributes=attributes,
        **dims,
    )


def cost(amount: str, line_item: str | None, **dims: Any) -> UsageRecord:
    return UsageRecord(
        provider="openai",
        source="costs",
        start=DAY,
        end=DAY + timedelta(days=1),
        metric="cost",
        quantity=Decimal(amount),
        unit="USD",
        line_item=line_item,
        **dims,
    )


def chat(
    user: str,
    tokens: int,
    cached: int,
    *,
    hour: int = 0,
    tier: str = "default",
    batch: bool = False,
    model: str = "gpt-4o-2024-08-06",
) -> list[UsageRecord]:
    dims: dict[str, Any] = {
        "project_id": "proj_a",
        "user_id": user,
        "api_key_id": None,
        "model": model,
        "attributes": {"batch": str(batch).lower(), "service_tier": tier},
    }
    return [
        usage("input_tokens", tokens, hour=hour, **dims),
        usage("input_cached_tokens", cached, hour=hour, **dims),
        usage("output_tokens", tokens // 10, hour=hour, **dims),
    ]


def test_a_cost_is_split_by_the_usage_of_its_charge_kind_exactly() -> None:
    records = [
        *chat("u1", 1000, 400),  # uncached input 600
        *chat("u2", 500, 100, hour=5),  # uncached input 400
        *chat("u2", 900, 900, hour=7, tier="priority"),  # another price: not this line item
        cost("1.00", "gpt-4o-2024-08-06, input", project_id="proj_a"),
        cost("0.30", "gpt-4o-2024-08-06, cached input", project_id="proj_a"),
    ]
    out = UsageReport.from_records(records).allocate()
    by_user = out.cost_by(("user_id", "line_item"))
    assert by_user[("u1", "gpt-4o-2024-08-06, input")] == {"USD": Decimal("0.60")}
    assert by_user[("u2", "gpt-4o-2024-08-06, input")] == {"USD": Decimal("0.40")}
    assert by_user[("u1", "gpt-4o-2024-08-06, cached input")] == {"USD": Decimal("0.24")}
    assert by_user[("u2", "gpt-4o-2024-08-06, cached input")] == {"USD": Decimal("0.06")}
    piece = next(
        r for r in out if r.is_cost and r.user_id == "u1" and r.line_item == records[-2].line_item
    )
    assert piece.model == "gpt-4o-2024-08-06"
    assert piece.attributes["allocation_method"] == "usage_share"
    assert piece.attributes["allocation_basis"] == "completions:input_tokens-input_cached_tokens"
    assert piece.attributes["allocation_share"] == "600/1000"
    assert piece.attributes["allocated_from"] == records[-2].id
    assert out.total_cost() == {"USD": Decimal("1.30")}
    assert not any(r.id in {records[-1].id, records[-2].id} for r in out)  # replaced, not added


def test_tiers_and_batch_match_their_own_usage() -> None:
    records = [
        *chat("u1", 1000, 0, tier="priority"),
        *chat("u2", 1000, 0, batch=True, tier="batch"),
        *chat("u3", 1000, 0),
        cost("3.50", "gpt-4o-2024-08-06, priority input", project_id="proj_a"),
        cost("1.25", "gpt-4o-2024-08-06, batch input", project_id="proj_a"),
        cost("2.50", "gpt-4o-2024-08-06, input", project_id="proj_a"),
    ]
    out = UsageReport.from_records(records).allocate()
    assert out.cost_by("user_id") == {
        "u1": {"USD": Decimal("3.50")},
        "u3": {"USD": Decimal("2.50")},
        "u2": {"USD": Decimal("1.25")},
    }


def test_cost_without_matching_usage_stays_whole_and_says_why() -> None:
    records = [
        *chat("u1", 1000, 0),
        cost("0.80", "o3-mini-2025-01-31, input", project_id="proj_a"),
        cost("0.20", "gpt-4o-2024-08-06, reasoning", project_id="proj_a"),
        cost("0.05", None, project_id="proj_a"),
        cost("0.40", "gpt-4o-2024-08-06, input", project_id="proj_b"),
    ]
    out = allocate_records(records)
    left = {r.line_item: r for r in out if r.attributes.get("allocation_method") == "unallocated"}
    assert set(left) == {
        "o3-mini-2025-01-31, input", "gpt-4o-2024-08-06, reasoning", None,
        "gpt-4o-2024-08-06, input",
    }  # fmt: skip
    o3 = left["o3-mini-2025-01-31, input"]
    assert o3.quantity == Decimal("0.80") and o3.user_id is None
    assert o3.model == "o3-mini-2025-01-31"  # the line item says so
    assert o3.attributes["allocation_basis"] == "line_item"
    assert "no usage of model o3-mini-2025-01-31" in o3.attributes["allocation_reason"]
    assert "not understood" in left["gpt-4o-2024-08-06, reasoning"].attributes["allocation_reason"]
    assert left["gpt-4o-2024-08-06, reasoning"].model is None  # nothing guessed
    assert "not grouped by line_item" in left[None].attributes["allocation_reason"]
    summary = UsageReport.from_records(out).allocation_summary()
    assert sum((a["USD"] for a in summary.unallocated.values()), Decimal(0)) == Decimal("1.45")
    assert summary.allocated == {}


def test_zero_usage_of_the_priced_kind_is_not_a_split() -> None:
    records = [*chat("u1", 1000, 0), cost("0.10", "gpt-4o-2024-08-06, cached input")]
    (left,) = (r for r in allocate_records(records) if r.is_cost)
    assert left.attributes["allocation_method"] == "unallocated"
    assert "has no completions:" in left.attributes["allocation_reason"]


def test_keys_none_means_no_key_when_costs_are_grouped_by_key() -> None:
    keyed = [
        usage(metric, quantity, project_id="p", user_id=user, api_key_id=key, model="m")
        for user, key, tokens in (("u1", "k1", 100), ("u2", None, 300))
        for metric, quantity in (("input_tokens", tokens), ("input_cached_tokens", 0))
    ]
    records = [*keyed, cost("1.00", "m, input", project_id="p", api_key_id="k1"),
               cost("3.00", "m, input", project_id="p", api_key_id=None)]  # fmt: skip
    out = UsageReport.from_records(records).allocate()
    expected = {"u2": {"USD": Decimal("3.00")}, "u1": {"USD": Decimal("1.00")}}
    assert out.cost_by("user_id") == expected
    only = [*keyed, cost("4.00", "m, input", project_id="p")]  # not grouped by key: any key
    assert UsageReport.from_records(only).allocate().cost_by("user_id") == expected


def test_allocation_is_idempotent_and_other_providers_pass_through() -> None:
    other = UsageRecord(
        provider="daramex",
        source="x",
        start=DAY,
        end=DAY + timedelta(days=1),
        metric="cost",
        quantity=Decimal("2"),
        unit="USD",
    )
    records = [*chat("u1", 10, 0), cost("0.01", "gpt-4o-2024-08-06, input"), other]
    once = allocate_records(records)
    assert allocate_records(once) == once
    assert other in once
    summary = UsageReport.from_records(once).allocation_summary()
    assert summary.untouched == {"USD": Decimal("2")} and summary.pieces == 1


def test_the_charge_attributes_do_not_change_a_record_id() -> None:
    plain = cost("1", "gpt-4o, input")
    tagged = plain.model_copy(
        update={"attributes": {"charge_kind": "input", "charge_model": "gpt-4o"}}
    )
    assert tagged.compute_id() == plain.id
