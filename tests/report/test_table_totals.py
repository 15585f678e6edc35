"""Totals and summaries of a report's columns (a RecordTable) equal those of its records.

The same records are added up both ways (see :func:`usagekit._report_totals.compute_totals`):
one by one, and from the table's columns; every ``by`` dimension, filter, level series and
exact sum must come out the same, in the same order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usagekit import ConfigError, UsageRecord, UsageReport
from usagekit._core.table import RecordTable
from usagekit._report_totals import compute_totals, summary_rows

from ..export._tables import as_records, corner_records, hypothesis_records, make_record, tables

# -- totals ------------------------------------------------------------------------------------

BYS: list[Any] = [
    (),
    "provider",
    "model",
    ["project", "metric"],
    ["kind", "unit", "month"],
    "day",
    "hour",
    "canonical_model",
    ["model_vendor", "model_family", "model_snapshot"],
    "attributes.quantity",
    "attributes.batch",
    ["user", "email", "line_item", "source", "api_key", "organization"],
]
FILTERS = [(None, None), ("cost", None), (None, "tokens"), ("credits_remaining", "credits")]


def _exact(totals: list[Any]) -> list[Any]:
    return [(t.group, t.metric, t.unit, t.quantity.as_tuple(), t.records) for t in totals]


@pytest.mark.parametrize("table", tables())
@pytest.mark.parametrize("by", BYS)
def test_totals_of_a_table_are_the_same(table: RecordTable, by: Any) -> None:
    for metric, unit in FILTERS:
        mine = compute_totals(table, by, metric, unit)
        theirs = compute_totals(as_records(table), by, metric, unit)
        assert _exact(mine) == _exact(theirs), (metric, unit)
    mine_rows = summary_rows(table, compute_totals(table, by, None, None), by)
    theirs_rows = summary_rows(list(table), compute_totals(list(table), by, None, None), by)
    assert mine_rows == theirs_rows


def test_totals_past_120_digits_add_up_in_record_order() -> None:
    # these sums round in the 120-digit context: the column path hands over to the records
    records = [
        make_record(metric="m", quantity=Decimal("1E+200")),
        make_record(metric="m", quantity=Decimal("1E-200"), model="x"),
        make_record(metric="m", quantity=Decimal("-1E+200"), model="y"),
    ]
    table = RecordTable.from_records(records)
    assert _exact(compute_totals(table, (), None, None)) == _exact(
        compute_totals(iter(records), (), None, None)
    )


def test_a_total_of_huge_ints_is_exact() -> None:
    records = [make_record(metric="m", quantity=Decimal(2**62), model=str(i)) for i in range(8)]
    records.append(make_record(metric="m", quantity=Decimal(2**70), model="big"))
    [total] = compute_totals(RecordTable.from_records(records), (), None, None)
    assert total.quantity == Decimal(8 * 2**62 + 2**70) and total.records == 9


def test_unknown_dimensions_are_refused_by_the_table_path_too() -> None:
    with pytest.raises(ConfigError, match="cannot group by 'colour'"):
        compute_totals(RecordTable(), "colour", None, None)


@given(st.lists(hypothesis_records, max_size=30), st.integers(0, 30))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_records_total_the_same_from_a_table(records: list[UsageRecord], cut: int) -> None:
    table = RecordTable()
    table.extend(RecordTable.from_records(records[:cut]))
    table.extend(RecordTable.from_records(records[cut:]))
    table.extend(RecordTable.from_records(records[: cut // 2]))
    for by in (["model", "metric"], ["attributes.quantity", "day"], "canonical_model", ()):
        for metric, unit in FILTERS:
            assert _exact(compute_totals(table, by, metric, unit)) == _exact(
                compute_totals(as_records(table), by, metric, unit)
            )


def test_a_reports_answers_are_those_of_its_records() -> None:
    """Through the public methods: a report answers as a report of plain records did."""
    report = UsageReport.from_records(corner_records())
    plain = list(report.records)

    def totals(by: Any, **filters: Any) -> list[Any]:
        return _exact(compute_totals(iter(plain), by, filters.get("metric"), filters.get("unit")))

    assert _exact(report.totals()) == totals(())
    assert _exact(report.totals("model", metric="cost")) == totals("model", metric="cost")
    assert report.total_cost() == {
        t.unit: t.quantity for t in compute_totals(iter(plain), (), "cost", None)
    }
    assert report.cost_by("line_item") and report.tokens_by("model")
    assert report.summary(["project", "day"]) == summary_rows(
        plain, compute_totals(iter(plain), ["project", "day"], None, None), ["project", "day"]
    )
