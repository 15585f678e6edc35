"""Every export of a report's columns (a RecordTable) equals the export of the same records.

Each format has two paths: records one by one (any iterable, e.g. a generator), and a
:class:`~usagekit._core.table.RecordTable` read column by column. These tests write the same
records both ways and compare the outputs byte for byte (files) or cell for cell (frames,
totals), on tables with repeats merged by ``extend``, rows whose attributes are their own,
``Decimal`` and int quantities (huge ones too), ``None`` and ``""`` dimensions and hostile
strings.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usagekit import LEVEL, ExportError, UsageRecord, UsageReport
from usagekit._core.table import RecordTable
from usagekit._io.csv import write_csv
from usagekit._io.focus import focus_rows, write_focus_csv, write_focus_parquet
from usagekit._io.jsonl import write_jsonl
from usagekit._io.parquet import write_parquet
from usagekit._report_totals import compute_totals, summary_rows

from ._data import NOV, UTC, many_records, sample_records

HOSTILE = ['odd, "quoted"\nsource', 'line "1", Ünïcødé ✓\r\nnext', "", " spaced ", "a\rb", "\x00"]


def _record(**fields: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "provider": "openai",
        "source": "completions",
        "start": NOV,
        "end": NOV + timedelta(hours=1),
        "metric": "input_tokens",
        "quantity": Decimal(1),
        "unit": "tokens",
    }
    values.update(fields)
    return UsageRecord(**values)


def corner_records() -> list[UsageRecord]:
    """Records for every corner a column path could get wrong."""
    records = [*sample_records(), *many_records(30)]
    for index, quantity in enumerate(
        [
            Decimal(2**63 - 1),
            Decimal(-(2**63)),
            Decimal(2**63),  # just past int64: kept as a Decimal
            Decimal(2**70),
            Decimal("-0"),
            Decimal("5.0"),
            Decimal("1E+3"),
            Decimal("0.000000000000000001"),
        ]
    ):
        records.append(_record(metric=f"m{index}", quantity=quantity, model=HOSTILE[index % 6]))
    # one result's records whose attributes differ only in what is not part of the id
    for index, text in enumerate(["1.5", "2", "0.5"]):
        records.append(
            _record(
                source="costs",
                metric="cost",
                unit=["USD", "EUR", "USD"][index],
                quantity=Decimal(text) if index < 2 else Decimal("0.25"),
                line_item="gpt-4o, input",
                attributes={"quantity": text, "quantity_unit": 'x,"y"', "batch": "true"},
            )
        )
    records.append(
        _record(
            source="costs",
            metric="cost",
            unit="USD",
            quantity=Decimal("3"),
            attributes={"charge_model": "gpt-4o", "charge_kind": "input"},
        )
    )
    # levels: a series over time (two values ending at once: the first one counts)
    for start, end, amount in [(0, 1, 5), (2, 3, 7), (1, 2, 9), (0, 3, 11), (2, 3, 13)]:
        records.append(
            _record(
                provider="unsiloed",
                source="get_usage",
                start=NOV + timedelta(hours=start),
                end=NOV + timedelta(hours=end),
                metric="credits_remaining",
                unit="credits",
                kind=LEVEL,
                quantity=Decimal(amount),
                organization_id="org",
            )
        )
    return records


def merged_table(records: list[UsageRecord]) -> RecordTable:
    """The records as a report holds them: pages extended one after another, repeats merged."""
    table = RecordTable()
    half = len(records) // 2
    table.extend(RecordTable.from_records(records[:half]))
    table.extend(RecordTable.from_records(records[half:]))
    # the first half again with other values (and, not being part of the id, another
    # "quantity" attribute): repeats are merged where they first were
    changed = [
        UsageRecord.model_validate(
            {
                **r.model_dump(),
                "quantity": r.quantity + 1,
                "attributes": {**r.attributes, "quantity": "2"},
            }
        )
        for r in records[: half // 2]
    ]
    table.extend(RecordTable.from_records(changed))
    return table


def tables() -> list[Any]:
    records = corner_records()
    return [
        pytest.param(RecordTable.from_records(records), id="plain"),
        pytest.param(merged_table(records), id="merged"),
        pytest.param(UsageReport.from_records([*records, *records[:5]]).records, id="report"),
        pytest.param(RecordTable(), id="empty"),
    ]


def as_records(table: RecordTable) -> Iterable[UsageRecord]:
    """The same records, as the one-by-one path gets them (a generator)."""
    return (record for record in list(table))


def _text(write: Callable[[Iterable[UsageRecord], Any], int], records: Any) -> tuple[Any, str]:
    """What a writer writes to a stream, and its count or the error it raised."""
    out = io.StringIO()
    try:
        count: Any = write(records, out)
    except ExportError as exc:
        count = str(exc)
    return count, out.getvalue()


# -- text formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("table", tables())
@pytest.mark.parametrize("write", [write_csv, write_jsonl, write_focus_csv])
def test_text_exports_of_a_table_are_the_same_bytes(table: RecordTable, write: Any) -> None:
    assert _text(write, table) == _text(write, as_records(table))


def test_the_corner_tables_have_the_corners() -> None:
    """What the tables above must hold for the comparisons to prove anything."""
    table = merged_table(corner_records())
    assert table.row_attributes() and table.decimal_quantities()
    with pytest.raises(ValueError, match="not in runs"):
        list(table.group_spans())  # rows merged into earlier groups
    assert any(record.user_email == "" for record in table)
    assert any(record.project_id is None for record in table)


@pytest.mark.parametrize("table", tables())
def test_focus_rows_of_a_table_are_the_same(table: RecordTable) -> None:
    assert list(focus_rows(table)) == list(focus_rows(as_records(table)))


def _rows(records: Any) -> Any:
    try:
        return list(focus_rows(records))
    except ExportError as exc:
        return str(exc)


# -- Parquet -----------------------------------------------------------------------------------


def _parquet_bytes(write: Any, records: Any, path: Path, batch_size: int) -> tuple[Any, bytes]:
    try:
        count = write(records, path, batch_size=batch_size)
    except ExportError as exc:
        return (str(exc), exc.line, exc.column), b""
    return count, path.read_bytes()


@pytest.mark.parametrize("table", tables())
@pytest.mark.parametrize("write", [write_parquet, write_focus_parquet])
@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_parquet_of_a_table_is_the_same_file(
    tmp_path: Path, table: RecordTable, write: Any, batch_size: int
) -> None:
    pytest.importorskip("pyarrow")
    fitting = RecordTable.from_records(
        [r for r in table if r.quantity.as_tuple().exponent >= -18 and abs(r.quantity) < 10**20]
    )
    for records in (table, fitting):
        mine = _parquet_bytes(write, records, tmp_path / "x.parquet", batch_size)
        theirs = _parquet_bytes(write, as_records(records), tmp_path / "x.parquet", batch_size)
        assert mine == theirs
        if records is fitting and len(fitting):
            assert mine[1]  # a file was written, not an error


def test_a_table_quantity_that_does_not_fit_is_refused_as_from_records(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    records = [*many_records(12), _record(quantity=Decimal("1E-19")), *many_records(3)]
    table = RecordTable.from_records(records)
    with pytest.raises(ExportError, match=r"does not fit decimal128\(38, 18\)") as caught:
        write_parquet(table, tmp_path / "x.parquet", batch_size=5)
    assert caught.value.line == 13 and caught.value.column == "quantity"
    assert records[12].id in str(caught.value)
    assert list(tmp_path.iterdir()) == []


# -- pandas ------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", tables())
@pytest.mark.parametrize("decimal", [True, False])
def test_to_pandas_of_a_table_is_the_same_frame(table: RecordTable, decimal: bool) -> None:
    pd = pytest.importorskip("pandas")
    from usagekit._io.pandas import to_pandas

    mine = to_pandas(table, decimal=decimal)
    theirs = to_pandas(as_records(table), decimal=decimal)
    pd.testing.assert_frame_equal(mine, theirs)
    assert list(mine.dtypes) == list(theirs.dtypes)
    if decimal:  # the very digits and exponent, not only equal values
        assert [type(q) for q in mine["quantity"]] == [Decimal] * len(table)
        assert [q.as_tuple() for q in mine["quantity"]] == [r.quantity.as_tuple() for r in table]
    else:
        assert list(mine["quantity"]) == [float(r.quantity) for r in table]
    for name in ("project_id", "user_email", "model"):
        assert [type(v) for v in mine[name]] == [type(getattr(r, name)) for r in table]


def test_a_frame_never_shares_the_reports_attributes() -> None:
    pytest.importorskip("pandas")
    report = UsageReport.from_records(corner_records())
    frame = report.to_pandas()
    before = [dict(r.attributes) for r in report.records]
    for cell in frame["attributes"]:
        cell["changed"] = "yes"
    assert [dict(r.attributes) for r in report.records] == before
    assert report.to_pandas()["attributes"].iloc[0] == before[0]


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
        _record(metric="m", quantity=Decimal("1E+200")),
        _record(metric="m", quantity=Decimal("1E-200"), model="x"),
        _record(metric="m", quantity=Decimal("-1E+200"), model="y"),
    ]
    table = RecordTable.from_records(records)
    assert _exact(compute_totals(table, (), None, None)) == _exact(
        compute_totals(iter(records), (), None, None)
    )


def test_a_total_of_huge_ints_is_exact() -> None:
    records = [_record(metric="m", quantity=Decimal(2**62), model=str(i)) for i in range(8)]
    records.append(_record(metric="m", quantity=Decimal(2**70), model="big"))
    [total] = compute_totals(RecordTable.from_records(records), (), None, None)
    assert total.quantity == Decimal(8 * 2**62 + 2**70) and total.records == 9


def test_unknown_dimensions_are_refused_by_the_table_path_too() -> None:
    from usagekit import ConfigError

    with pytest.raises(ConfigError, match="cannot group by 'colour'"):
        compute_totals(RecordTable(), "colour", None, None)


# -- any records, by hypothesis -------------------------------------------------------------

BASE = datetime(2026, 11, 1, tzinfo=UTC)
texts = st.one_of(st.none(), st.sampled_from(HOSTILE), st.text(max_size=4))
quantities = st.one_of(
    st.integers(0, 10**6),
    st.integers(-(2**70), 2**70),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, max_value=10**9),
    st.sampled_from(["5.0", "-0", "1E+3", "0.000000000000000000001"]).map(Decimal),
).map(lambda value: value if isinstance(value, Decimal) else Decimal(value))
hypothesis_records = st.builds(
    lambda provider, hour, width, metric, quantity, kind, project, email, model, attributes: (
        UsageRecord(
            provider=provider,
            source="src",
            start=BASE + timedelta(hours=hour),
            end=BASE + timedelta(hours=hour + width),
            metric=metric,
            quantity=quantity,
            unit="USD" if metric == "cost" else "tokens",
            kind="flow" if metric == "cost" else kind,
            project_id=project,
            user_email=email,
            model=model,
            attributes=attributes,
        )
    ),
    st.sampled_from(["openai", "anthropic", "openrouter"]),
    st.integers(0, 30),
    st.sampled_from([1, 24, 24 * 40]),
    st.sampled_from(["input_tokens", "output_tokens", "cost"]),
    quantities,
    st.sampled_from(["flow", "level"]),
    texts,
    texts,
    st.sampled_from([None, "gpt-4o", "anthropic/claude-sonnet-4", ""]),
    st.dictionaries(
        st.sampled_from(["batch", "quantity", "quantity_unit", "charge_model", "provider_name"]),
        st.sampled_from(["true", "1", "2", "", 'x,"y"\n', "gpt-4o"]),
        max_size=3,
    ),
)


@given(st.lists(hypothesis_records, max_size=30), st.integers(0, 30))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_records_export_the_same_from_a_table(records: list[UsageRecord], cut: int) -> None:
    table = RecordTable()
    table.extend(RecordTable.from_records(records[:cut]))
    table.extend(RecordTable.from_records(records[cut:]))
    table.extend(RecordTable.from_records(records[: cut // 2]))
    for write in (write_csv, write_jsonl, write_focus_csv):
        assert _text(write, table) == _text(write, as_records(table))
    assert _rows(table) == _rows(as_records(table))
    for by in (["model", "metric"], ["attributes.quantity", "day"], "canonical_model"):
        assert _exact(compute_totals(table, by, None, None)) == _exact(
            compute_totals(as_records(table), by, None, None)
        )


@given(st.lists(hypothesis_records, max_size=20))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_records_make_the_same_frame_and_parquet_from_a_table(
    records: list[UsageRecord],
) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    import tempfile

    from usagekit._io.pandas import to_pandas

    table = RecordTable.from_records(records, unique=True)
    pd.testing.assert_frame_equal(to_pandas(table), to_pandas(as_records(table)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        for write in (write_parquet, write_focus_parquet):
            mine = _parquet_bytes(write, table, path / "x.parquet", 4)
            theirs = _parquet_bytes(write, as_records(table), path / "x.parquet", 4)
            assert mine == theirs
