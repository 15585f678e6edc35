"""Allocation against the sandbox, over loopback, with the clock pinned.

The sandbox derives each OpenAI cost row from one usage row (tokens x its price table), so it
knows who spent what; the costs endpoint does not say. Allocation must recover that truth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from usagekit import UsageReport
from usagekit.sandbox import serve

UTC = timezone.utc
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
START, END = "2026-11-02", "2026-11-12"
DAYS = [datetime(2026, 11, 2, tzinfo=UTC) + timedelta(days=i) for i in range(10)]


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with usagekit.pin_clock(NOW), serve(seed=3, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def raw(sb: Any) -> UsageReport:
    with usagekit.pin_clock(NOW), sb.openai_client() as client:
        return UsageReport.from_records(client.records(START, END), start=DAYS[0], end=END)


@pytest.fixture(scope="module")
def allocated(raw: UsageReport) -> UsageReport:
    return raw.allocate()


def test_per_user_and_model_cost_is_exactly_what_the_sandbox_generated(
    sb: Any, allocated: UsageReport
) -> None:
    # costs grouped by key, and each key and model is one usage stream here: exact recovery
    truth = sb.data.openai_cost_by_usage(START, END, group_by=("user_id", "model"))
    got = allocated.cost_by(("user_id", "model"))
    assert {k: v["USD"] for k, v in got.items()} == truth
    assert len(truth) > 20 and any(user is not None for user, _ in truth)


def test_per_api_key_and_line_item_too(sb: Any, allocated: UsageReport) -> None:
    truth = sb.data.openai_cost_by_usage(START, END, group_by=("api_key_id", "line_item"))
    got = allocated.cost_by(("api_key_id", "line_item"))
    assert {k: v["USD"] for k, v in got.items()} == truth


def test_allocated_totals_equal_the_bill_per_project_line_item_and_day(
    sb: Any, raw: UsageReport, allocated: UsageReport
) -> None:
    by = ("project_id", "line_item", "day")
    assert allocated.cost_by(by) == raw.cost_by(by)
    for day in DAYS[:3]:
        bill = sb.data.openai_cost_totals(day, day + timedelta(days=1), group_by=("project_id",))
        label = day.strftime("%Y-%m-%d")
        got = {k[0]: v["USD"] for k, v in allocated.cost_by(("project_id", "day")).items()
               if k[1] == label}  # fmt: skip
        assert got == {k[0]: v for k, v in bill.items()}
    assert allocated.total_cost() == raw.total_cost()


def test_nothing_counted_twice_and_everything_explained(
    raw: UsageReport, allocated: UsageReport
) -> None:
    costs = [r for r in raw if r.is_cost]
    pieces = [r for r in allocated if r.is_cost]
    assert not {r.id for r in costs} & {r.id for r in pieces}
    assert all(r.attributes["allocation_method"] == "usage_share" for r in pieces)
    assert {r.attributes["allocated_from"] for r in pieces} == {r.id for r in costs}
    parts: dict[str, Decimal] = defaultdict(Decimal)
    for piece in pieces:
        parts[piece.attributes["allocated_from"]] += piece.quantity
    assert parts == {r.id: r.quantity for r in costs}  # each cost's pieces sum to it exactly
    assert [r for r in allocated if not r.is_cost] == [r for r in raw if not r.is_cost]


def test_costs_not_grouped_by_key_are_split_by_tokens_within_the_sandboxs_rounding(
    sb: Any,
) -> None:
    with usagekit.pin_clock(NOW), sb.openai_client() as client:
        usage = [r for r in client.records(START, END) if not r.is_cost]
        costs = list(
            client.records(START, END, sources=["costs"], group_by=["project_id", "line_item"])
        )
    assert costs and all(r.api_key_id is None for r in costs)
    allocated = UsageReport.from_records([*usage, *costs]).allocate()
    pieces = [r for r in allocated if r.is_cost]
    assert all(r.attributes["allocation_method"] == "usage_share" for r in pieces)
    assert allocated.total_cost()["USD"] == sum((r.quantity for r in costs), Decimal(0))
    truth = sb.data.openai_cost_by_usage(START, END, group_by=("user_id", "model"))
    got = {k: v["USD"] for k, v in allocated.cost_by(("user_id", "model")).items()}
    assert set(got) == set(truth)
    # The sandbox rounds each hourly cost row to 6 decimals; a split by tokens cannot know
    # those roundings, so each user/model may differ from the truth by at most half a millionth
    # per cost row involved (twice: its own and its share of the rest), plus one quantum a piece.
    rows = len(sb.data.openai_cost_rows(START, END))
    bound = rows * Decimal("0.000001") + len(pieces) * usagekit.ALLOCATION_QUANTUM
    error = sum((abs(got[k] - truth[k]) for k in truth), Decimal(0))
    assert error <= bound
    assert bound < Decimal("0.1")  # the bound is tight enough to mean something


def test_cost_whose_usage_is_missing_stays_unallocated_with_the_reason(sb: Any) -> None:
    with usagekit.pin_clock(NOW), sb.openai_client() as client:
        records = list(client.records(START, "2026-11-04", sources=["costs", "embeddings"]))
    allocated = UsageReport.from_records(records).allocate()
    summary = allocated.allocation_summary()
    left = [r for r in allocated if r.attributes.get("allocation_method") == "unallocated"]
    assert left and summary.allocated  # embeddings split, the rest left whole
    assert all(r.attributes["allocation_reason"].startswith("no usage of") for r in left)
    assert allocated.total_cost() == UsageReport.from_records(records).total_cost()
    chat = [r for r in left if r.line_item and r.line_item.startswith("gpt-4o-2024-08-06,")]
    assert chat and all(r.model == "gpt-4o-2024-08-06" and r.user_id is None for r in chat)


def test_collect_allocate_and_acollect(sb: Any, allocated: UsageReport) -> None:
    import asyncio

    with usagekit.pin_clock(NOW):
        with sb.openai_client() as client:
            report = usagekit.collect([client], START, END, allocate=True)
        assert report.allocated and report.cost_by("user_id") == allocated.cost_by("user_id")

        async def run() -> UsageReport:
            async with sb.async_openai_client() as client:
                return await usagekit.acollect([client], START, END, allocate=True)

        assert asyncio.run(run()).cost_by("model") == allocated.cost_by("model")


def test_an_allocated_report_from_the_store(sb: Any, tmp_path: Any, allocated: UsageReport) -> None:
    with (
        usagekit.pin_clock(NOW),
        sb.openai_client() as client,
        usagekit.Store(tmp_path / "usage.db") as store,
    ):
        store.upsert(client.records(START, END))
        report = store.report(START, END, allocate=True)
    assert report.allocated
    assert report.cost_by(("user_id", "model")) == allocated.cost_by(("user_id", "model"))


def test_focus_rows_say_how_each_cost_was_allocated(allocated: UsageReport) -> None:
    rows = allocated.to_focus()
    assert sum((r["BilledCost"] for r in rows), Decimal(0)) == allocated.total_cost()["USD"]
    assert {r["x_AllocationMethod"] for r in rows} == {"usage_share"}
    chat = next(r for r in rows if r["x_ChargeKind"] == "cached_input")
    assert chat["x_AllocationBasis"].startswith("completions:input_cached_text_tokens")
    assert chat["x_Model"] is not None and chat["x_AllocatedFromId"]
    assert "/" in chat["x_AllocationShare"]


def test_the_report_allocates_its_columns_exactly_as_allocate_records_does(
    raw: UsageReport, allocated: UsageReport
) -> None:
    expected = usagekit.allocate_records(list(raw.records))
    assert len(allocated.records) == len(expected)
    assert [(r.id, r.quantity.as_tuple(), r.attributes) for r in allocated.records] == [
        (r.id, r.quantity.as_tuple(), r.attributes) for r in expected
    ]
    assert expected != list(raw.records)  # costs were split
    summary = allocated.allocation_summary()
    assert summary.pieces > 0 and summary == _summarize(expected)


def _summarize(records: list[usagekit.UsageRecord]) -> Any:
    from usagekit._allocate import summarize_allocation

    return summarize_allocation(records)
