"""The columnar record form gives back exactly the records put in: ids, Decimals, attributes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usagekit import UsageRecord, UsageReport
from usagekit._core.table import RecordTable
from usagekit._providers.openai._normalize import UniqueRecords, page_records, page_table
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

BASE = datetime(2026, 11, 1, tzinfo=UTC)

quantities = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.decimals(allow_nan=False, allow_infinity=False, places=6),
    st.sampled_from(["5.0", "-0", "0", "1E+3", "-7", "0.000000000000000000001"]).map(Decimal),
).map(lambda value: value if isinstance(value, Decimal) else Decimal(value))

records = st.builds(
    lambda provider, hour, metric, quantity, unit, kind, project, model, attributes: UsageRecord(
        provider=provider,
        source="src",
        start=BASE + timedelta(hours=hour),
        end=BASE + timedelta(hours=hour + 1),
        metric=metric,
        quantity=quantity,
        unit="USD" if metric == "cost" else unit,
        kind=kind,
        project_id=project,
        model=model,
        attributes=attributes,
    ),
    st.sampled_from(["openai", "anthropic"]),
    st.integers(0, 3),
    st.sampled_from(["input_tokens", "output_tokens", "cost"]),
    quantities,
    st.sampled_from(["tokens", "requests"]),
    st.sampled_from(["flow", "level"]),
    st.sampled_from([None, "proj_a", "proj_b"]),
    st.sampled_from([None, "gpt-4o"]),
    st.dictionaries(
        st.sampled_from(["batch", "quantity", "quantity_unit", "charge_kind"]),
        st.sampled_from(["true", "1", "2", "x"]),
        max_size=3,
    ),
)


def _exact(record: UsageRecord) -> tuple[Any, ...]:
    """Every field, the quantity by its exact digits and exponent (``5.0`` is not ``5``)."""
    fields = dict(record.__dict__)
    fields["quantity"] = fields["quantity"].as_tuple()
    fields["attributes"] = sorted(fields["attributes"].items())
    return tuple(fields.items())


@given(st.lists(records, max_size=40))
@settings(max_examples=200, deadline=None)
def test_a_table_gives_back_exactly_the_records_put_in(given_records: list[UsageRecord]) -> None:
    table = RecordTable.from_records(given_records)
    assert len(table) == len(given_records)
    assert [_exact(r) for r in table] == [_exact(r) for r in given_records]
    assert [r.id for r in table] == [r.compute_id() for r in given_records]
    assert [_exact(table[i]) for i in range(-len(table), 0)] == [_exact(r) for r in given_records]
    assert [row[0] for row in table.rows()] == [r.id for r in given_records]
    assert [row[6].as_tuple() for row in table.rows()] == [
        r.quantity.as_tuple() for r in given_records
    ]


@given(st.lists(records, max_size=40), st.integers(0, 40))
@settings(max_examples=200, deadline=None)
def test_unique_tables_keep_the_first_place_and_the_last_value_of_each_id(
    given_records: list[UsageRecord], cut: int
) -> None:
    expected: dict[str, UsageRecord] = {}
    for record in given_records:
        expected[record.id] = record
    unique = RecordTable.from_records(given_records, unique=True)
    assert [_exact(r) for r in unique] == [_exact(r) for r in expected.values()]
    # the same, built from two tables one after the other (as a report is, page by page)
    merged = RecordTable()
    merged.extend(RecordTable.from_records(given_records[:cut]))
    merged.extend(RecordTable.from_records(given_records[cut:]))
    assert [_exact(r) for r in merged] == [_exact(r) for r in expected.values()]
    merged.extend(RecordTable.from_records(given_records))  # everything again: nothing new
    assert [_exact(r) for r in merged] == [_exact(r) for r in expected.values()]
    # unique tables with nothing in common are appended column by column
    pages = RecordTable()
    firsts = RecordTable.from_records(given_records[:cut], unique=True)
    pages.extend(firsts)
    pages.extend(RecordTable.from_records(given_records[cut:], unique=True))
    assert [_exact(r) for r in pages] == [_exact(r) for r in expected.values()]
    pages.extend(firsts)  # the first part again, over the rest: its values win again
    again: dict[str, UsageRecord] = {}
    for record in [*given_records, *given_records[:cut]]:
        again[record.id] = record
    assert [_exact(r) for r in pages] == [_exact(r) for r in again.values()]
    report = UsageReport.from_records(given_records)
    assert [_exact(r) for r in report] == [_exact(r) for r in expected.values()]


def test_every_record_built_has_its_own_attributes() -> None:
    record = UsageRecord(
        provider="openai",
        source="costs",
        start=BASE,
        end=BASE + timedelta(days=1),
        metric="cost",
        quantity=Decimal("1.50"),
        unit="USD",
        attributes={"quantity": "3"},
    )
    table = RecordTable.from_records([record, record])
    first = table[0]
    first.attributes["quantity"] = "changed"
    assert table[0].attributes == {"quantity": "3"} and table[1].attributes == {"quantity": "3"}
    assert table == (record, record) and table == [record, record]
    assert table[0:1] == (record,)
    with pytest.raises(IndexError):
        table[2]


def _completions_page(results: list[dict[str, Any]], hours: int) -> Any:
    endpoint = ENDPOINTS_BY_NAME["completions"]
    start = int(BASE.timestamp())
    body = {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "object": "bucket",
                "start_time": start + hour * 3600,
                "end_time": start + (hour + 1) * 3600,
                "results": [
                    {"object": "organization.usage.completions.result", **result}
                    for result in results
                ],
            }
            for hour in range(hours)
        ],
    }
    return endpoint.page_type.model_validate(body)


completion_results = st.lists(
    st.fixed_dictionaries(
        {
            "input_tokens": st.integers(0, 2**40),
            "output_tokens": st.integers(0, 2**70),
            "num_model_requests": st.integers(0, 100),
            "model": st.sampled_from(["gpt-4o", "o3", None]),
        },
        optional={
            "input_cached_tokens": st.integers(0, 100) | st.none(),
            "input_audio_tokens": st.integers(0, 100),
            "project_id": st.sampled_from(["proj_a", "proj_b"]),
            "user_id": st.sampled_from(["user-1", None]),
            "batch": st.booleans() | st.none(),
            "service_tier": st.sampled_from(["default", "flex"]),
        },
    ),
    max_size=6,
    unique_by=lambda r: tuple(
        r.get(name) for name in ("model", "project_id", "user_id", "batch", "service_tier")
    ),
)


@given(completion_results, st.integers(1, 3))
@settings(max_examples=150, deadline=None)
def test_a_normalized_page_equals_records_validated_field_by_field(
    results: list[dict[str, Any]], hours: int
) -> None:
    endpoint = ENDPOINTS_BY_NAME["completions"]
    page = _completions_page(results, hours)
    expected = []
    for bucket in page.data:
        for result in bucket.results:
            values = result.__dict__
            attributes = {
                name: {True: "true", False: "false"}.get(values[name], str(values[name]))
                for name in ("batch", "service_tier")
                if values.get(name) is not None
            }
            for metric in endpoint.metrics:
                if values.get(metric.field) is None:
                    continue
                expected.append(
                    UsageRecord(
                        provider="openai",
                        source="completions",
                        start=bucket.start_time,
                        end=bucket.end_time,
                        metric=metric.field,
                        quantity=Decimal(values[metric.field]),
                        unit=metric.unit,
                        kind=metric.kind,
                        project_id=values.get("project_id"),
                        user_id=values.get("user_id"),
                        api_key_id=values.get("api_key_id"),
                        model=values.get("model"),
                        attributes=attributes,
                    )
                )
    assert [_exact(r) for r in page_records(endpoint, page)] == [_exact(r) for r in expected]
    # with the stream's repeat check, each group is kept once and an exact repeat is dropped
    seen = UniqueRecords("openai")
    once = list(page_table(endpoint, page, seen=seen))
    again = page_table(endpoint, page, seen=seen)
    unique: dict[str, UsageRecord] = {}
    for record in expected:
        unique.setdefault(record.id, record)
    assert {r.id for r in once} == set(unique) and len(again) == 0


@given(
    st.lists(records, max_size=40),
    st.sampled_from(["model", "project", "metric", "attributes.quantity", "day"]),
    st.sampled_from([None, "gpt-4o", "proj_a", "cost", "2", "2026-11-01"]),
)
@settings(max_examples=150, deadline=None)
def test_filter_keeps_exactly_the_records_that_match(
    given_records: list[UsageRecord], name: str, value: str | None
) -> None:
    from usagekit._report_totals import dimension_getter

    report = UsageReport.from_records(given_records)
    get = dimension_getter(name)
    expected = [r for r in report if get(r) == value]
    assert [_exact(r) for r in report.filter(**{name: value})] == [_exact(r) for r in expected]


def test_costs_in_two_currencies_for_one_group_are_two_records_not_a_repeat() -> None:
    costs = ENDPOINTS_BY_NAME["costs"]

    def result(value: float, currency: str) -> dict[str, Any]:
        return {
            "object": "organization.costs.result",
            "amount": {"value": value, "currency": currency},
            "line_item": "gpt-4o, input",
            "project_id": "p1",
        }

    body = {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "object": "bucket",
                "start_time": 1704067200,
                "end_time": 1704153600,
                "results": [result(1.5, "usd"), result(2.5, "eur")],
            }
        ],
    }
    page = costs.page_type.model_validate(body)
    seen = UniqueRecords("openai")
    kept = list(page_table(costs, page, seen=seen))
    assert sorted(r.unit for r in kept) == ["EUR", "USD"]
    assert len(page_table(costs, page, seen=seen)) == 0  # the same page again: a repeat
    assert [r.id for r in seen.unique(kept, endpoint="costs")] == []


def test_allocating_a_report_that_already_holds_its_allocation_counts_nothing_twice() -> None:
    day = datetime(2026, 11, 2, tzinfo=UTC)
    usage = [
        UsageRecord(
            provider="openai",
            source="completions",
            start=day,
            end=day + timedelta(days=1),
            metric=metric,
            quantity=Decimal(quantity),
            unit="tokens",
            project_id="p1",
            model="gpt-4o",
        )
        for metric, quantity in (("input_tokens", 1000), ("input_cached_tokens", 0))
    ]
    cost = UsageRecord(
        provider="openai",
        source="costs",
        start=day,
        end=day + timedelta(days=1),
        metric="cost",
        quantity=Decimal("1.00"),
        unit="USD",
        project_id="p1",
        line_item="gpt-4o, input",
    )
    report = UsageReport.from_records([*usage, cost])
    allocated = report.allocate()
    both = UsageReport.from_records([*report, *allocated])
    again = both.allocate()
    assert len({r.id for r in again}) == len(again)
    assert again.total_cost() == allocated.total_cost() == {"USD": Decimal("1.00")}


def test_collect_reads_records_of_a_mock_or_of_a_subclass_that_overrides_it() -> None:
    from unittest.mock import MagicMock

    import usagekit

    record = UsageRecord(
        provider="fake",
        source="s",
        start=BASE,
        end=BASE + timedelta(hours=1),
        metric="input_tokens",
        quantity=Decimal(3),
        unit="tokens",
    )
    mock = MagicMock()
    mock.provider = "fake"
    mock.records.return_value = iter([record])

    class Mine(usagekit.OpenAIClient):
        def records(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            return iter([record.model_copy(update={"provider": "mine"})])

    mine = Mine(api_key="sk-test", base_url="http://127.0.0.1:9")
    try:
        report = usagekit.collect([mock, mine], start=BASE, end=BASE + timedelta(hours=1))
    finally:
        mine.close()
    assert report.ok and len(report) == 2
    assert sorted(r.provider for r in report) == ["fake", "mine"]


def test_a_row_of_an_earlier_group_is_outside_its_run_and_the_repeat_check_sees_it() -> None:
    start = datetime(2026, 11, 2, tzinfo=UTC)
    table = RecordTable()
    code = table.measure_code("input_tokens", "tokens", "flow")
    dims: tuple[str | None, ...] = ("p1", None, None, None, "gpt-4o", None, None)
    first = table.add_group("openai", "completions", start, start + timedelta(hours=1), dims, {})
    table.add_row(first, code, 5)
    other = ("p2", *dims[1:])
    table.add_group("openai", "completions", start, start + timedelta(hours=1), other, {})
    table.add_row(first, code, 5)  # the first group again, after the second was added
    assert len(table) == 2 and table[0].id == table[1].id
    with pytest.raises(ValueError, match="not in runs"):
        table.group_starts()
    with pytest.raises(ValueError, match="not in runs"):
        UniqueRecords("openai").unique_table(table, endpoint="completions")
    assert len(UniqueRecords("openai").unique(list(table), endpoint="completions")) == 1
