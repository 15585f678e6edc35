"""Every export of a report's columns (a RecordTable) equals the export of the same records.

Each format has two paths: records one by one (any iterable, e.g. a generator), and a
:class:`~usagekit._core.table.RecordTable` read column by column. These tests write the same
records both ways and compare the outputs byte for byte (files) or cell for cell (frames), on
tables with repeats merged by ``extend``, rows whose attributes are their own, ``Decimal`` and
int quantities (huge ones too), ``None`` and ``""`` dimensions and hostile strings (see
:mod:`tests.export._tables`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usagekit import ExportError, UsageRecord, UsageReport
from usagekit._core.table import RecordTable
from usagekit._io.csv import write_csv
from usagekit._io.focus import focus_rows, write_focus_csv, write_focus_parquet
from usagekit._io.jsonl import write_jsonl
from usagekit._io.parquet import write_parquet

from ._data import many_records
from ._tables import (
    as_records,
    corner_records,
    hypothesis_records,
    make_record,
    merged_table,
    tables,
    text_output,
)

# -- text formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("table", tables())
@pytest.mark.parametrize("write", [write_csv, write_jsonl, write_focus_csv])
def test_text_exports_of_a_table_are_the_same_bytes(table: RecordTable, write: Any) -> None:
    assert text_output(write, table) == text_output(write, as_records(table))


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
    records = [*many_records(12), make_record(quantity=Decimal("1E-19")), *many_records(3)]
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


def test_a_reports_exports_are_those_of_its_records(tmp_path: Path) -> None:
    """Through the public methods: what a report writes is what its records write."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    records = [r for r in corner_records() if r.quantity.as_tuple().exponent >= -18]
    records = [r for r in records if abs(r.quantity) < 10**20]
    report = UsageReport.from_records(records)
    plain = list(report.records)
    for method, write in (
        ("to_csv", write_csv),
        ("to_jsonl", write_jsonl),
        ("to_focus_csv", write_focus_csv),
        ("to_parquet", write_parquet),
        ("to_focus_parquet", write_focus_parquet),
    ):
        assert getattr(report, method)(tmp_path / "report") == write(iter(plain), tmp_path / "x")
        assert (tmp_path / "report").read_bytes() == (tmp_path / "x").read_bytes(), method
    assert report.to_focus() == list(focus_rows(iter(plain)))
    from usagekit._io.pandas import to_pandas

    pd.testing.assert_frame_equal(report.to_pandas(), to_pandas(iter(plain)))


@given(st.lists(hypothesis_records, max_size=30), st.integers(0, 30))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_records_export_the_same_from_a_table(records: list[UsageRecord], cut: int) -> None:
    table = RecordTable()
    table.extend(RecordTable.from_records(records[:cut]))
    table.extend(RecordTable.from_records(records[cut:]))
    table.extend(RecordTable.from_records(records[: cut // 2]))
    for write in (write_csv, write_jsonl, write_focus_csv):
        assert text_output(write, table) == text_output(write, as_records(table))
    assert _rows(table) == _rows(as_records(table))


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
