"""Parquet and pandas: typed columns, exact decimals, refusal to round, the optional extras."""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from usagekit import ConfigError, UsageRecord
from usagekit._core.errors import ExportError
from usagekit._io._columns import RECORD_COLUMNS
from usagekit._io.csv import write_csv
from usagekit._io.pandas import to_pandas
from usagekit._io.parquet import read_parquet, write_parquet

from ._data import FLOAT_TAIL, many_records, sample_records
from .test_text_formats import assert_same


def parquet_safe() -> list[UsageRecord]:
    """The samples minus the one whose quantity has 34 decimal places."""
    return [r for r in sample_records() if r.quantity != FLOAT_TAIL]


# -- missing extras (no pyarrow/pandas needed) -----------------------------------------------


@pytest.mark.parametrize("module", ["pyarrow", "pyarrow.parquet"])
def test_missing_pyarrow_says_which_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ConfigError, match=r"pip install 'usagekit\[parquet\]'"):
        write_parquet(sample_records(), tmp_path / "x.parquet")
    with pytest.raises(ConfigError, match=r"pip install 'usagekit\[parquet\]'"):
        read_parquet(tmp_path / "x.parquet")  # raised by the call, before iterating
    assert not (tmp_path / "x.parquet").exists()


def test_missing_pandas_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ConfigError, match=r"pip install 'usagekit\[pandas\]'") as caught:
        to_pandas(sample_records())
    assert isinstance(caught.value.__cause__, ImportError)


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_batch_size_must_be_positive(tmp_path: Path, size: object) -> None:
    pytest.importorskip("pyarrow")
    with pytest.raises(ConfigError, match="batch_size"):
        write_parquet([], tmp_path / "x.parquet", batch_size=size)  # type: ignore[arg-type]


# -- Parquet ---------------------------------------------------------------------------------


def test_parquet_round_trip_is_exact(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    records = parquet_safe()
    path = tmp_path / "records.parquet"
    assert write_parquet(records, path) == len(records)
    back = list(read_parquet(path))
    assert_same(back, records)
    # the fixed scale's trailing zeros are dropped again
    assert [str(r.quantity) for r in back] == [
        "1234567",
        "12.345678",
        "0.000001",
        "41.5",
        "-1.25",
        "5000",
        "1000",
    ]


def test_parquet_schema_is_typed(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "records.parquet"
    write_parquet(parquet_safe(), path)
    schema = pq.read_schema(path)
    assert schema.names == list(RECORD_COLUMNS)
    assert schema.field("quantity").type == pa.decimal128(38, 18)
    for name in ("start", "end"):
        assert schema.field(name).type == pa.timestamp("us", tz="UTC")
    for name in set(RECORD_COLUMNS) - {"quantity", "start", "end"}:
        assert schema.field(name).type == pa.string(), name
    assert not schema.field("id").nullable and schema.field("model").nullable
    table = pq.read_table(path)
    assert table.column("attributes").to_pylist()[0] == '{"batch":"false","service_tier":"default"}'
    assert table.column("project_id").to_pylist()[-1] == ""  # empty string, not null
    assert table.column("organization_id").to_pylist()[0] is None


def test_parquet_writes_row_groups_of_batch_size(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "groups.parquet"
    assert write_parquet(many_records(25), path, batch_size=10) == 25
    metadata = pq.ParquetFile(path).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [10, 10, 5]
    back = list(read_parquet(path, batch_size=7))
    assert_same(back, list(many_records(25)))


def test_parquet_empty_input_is_a_valid_file(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "empty.parquet"
    assert write_parquet(iter([]), path) == 0
    assert list(read_parquet(path)) == []


@pytest.mark.parametrize(
    "quantity",
    [FLOAT_TAIL, Decimal("1E-19"), Decimal("100000000000000000000"), Decimal("-1E+20")],
)
def test_parquet_refuses_to_round(tmp_path: Path, quantity: Decimal) -> None:
    pytest.importorskip("pyarrow")
    records = parquet_safe()
    bad = records[0].model_copy(update={"quantity": quantity})
    path = tmp_path / "bad.parquet"
    with pytest.raises(ExportError, match=r"does not fit decimal128\(38, 18\) exactly") as caught:
        write_parquet([*records, bad], path, batch_size=3)
    assert bad.id in str(caught.value)
    assert caught.value.line == len(records) + 1 and caught.value.column == "quantity"
    assert os.listdir(tmp_path) == []  # no partial file


def test_parquet_keeps_the_extremes_that_fit(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    values = [
        Decimal("99999999999999999999.999999999999999999"),
        Decimal("-0.000000000000000001"),
        Decimal("0.100000000000000000000000"),  # trailing zeros past the scale are fine
    ]
    base = parquet_safe()[0]
    records = [
        base.model_copy(update={"quantity": q, "id": "", "metric": f"m{i}"})
        for i, q in enumerate(values)
    ]
    records = [UsageRecord.model_validate(r.model_dump()) for r in records]
    path = tmp_path / "edges.parquet"
    write_parquet(records, path)
    assert [r.quantity for r in read_parquet(path)] == values


def test_reading_something_else_is_an_export_error(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "not.parquet"
    write_csv(sample_records(), path)
    with pytest.raises(ExportError, match="not a readable Parquet file"):
        list(read_parquet(path))


def test_reading_a_foreign_parquet_names_the_columns(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"id": ["x"], "colour": ["red"]}), path)
    with pytest.raises(ExportError, match="missing column") as caught:
        list(read_parquet(path))
    assert caught.value.source == str(path)


def test_reading_a_tampered_row_names_it(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "tampered.parquet"
    write_parquet(parquet_safe(), path)
    table = pq.read_table(path)
    models = table.column("model").to_pylist()
    models[1] = "tampered"
    index = table.schema.get_field_index("model")
    table = table.set_column(index, table.schema.field("model"), pa.array(models))
    pq.write_table(table, path)
    reader = read_parquet(path)
    next(reader)
    with pytest.raises(ExportError, match="does not match") as caught:
        next(reader)
    assert caught.value.line == 2


# -- pandas ----------------------------------------------------------------------------------


def test_to_pandas_columns_and_types() -> None:
    pd = pytest.importorskip("pandas")
    records = sample_records()
    frame = to_pandas(iter(records))
    assert list(frame.columns) == list(RECORD_COLUMNS)
    assert len(frame) == len(records)
    assert str(frame["start"].dtype).startswith("datetime64") and "UTC" in str(frame["start"].dtype)
    assert frame["start"].iloc[6] == pd.Timestamp(records[6].start)
    assert [type(q) for q in frame["quantity"]] == [Decimal] * len(records)
    assert list(frame["quantity"]) == [r.quantity for r in records]
    assert frame["id"].tolist() == [r.id for r in records]
    assert frame["attributes"].iloc[0] == {"batch": "false", "service_tier": "default"}
    assert frame["project_id"].iloc[7] == "" and frame["organization_id"].iloc[0] is None


def test_to_pandas_floats_on_request() -> None:
    pytest.importorskip("pandas")
    frame = to_pandas(sample_records(), decimal=False)
    assert str(frame["quantity"].dtype) == "float64"
    assert frame["quantity"].iloc[6] == 0.1


def test_to_pandas_empty() -> None:
    pytest.importorskip("pandas")
    frame = to_pandas([])
    assert list(frame.columns) == list(RECORD_COLUMNS) and len(frame) == 0
