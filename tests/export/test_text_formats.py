"""Rows, CSV and JSON Lines: written, read back, and equal to the originals in every field."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pytest

import usagekit
from usagekit import UsagekitError, UsageRecord
from usagekit._core.errors import ExportError
from usagekit._io._columns import RECORD_COLUMNS, record_to_row, row_to_record
from usagekit._io.csv import csv_line, csv_row_writer, read_csv, write_csv
from usagekit._io.jsonl import read_jsonl, write_jsonl

from ._data import FLOAT_TAIL, NOV, UTC, sample_records

Writer = Callable[[Iterable[UsageRecord], Any], int]
Reader = Callable[[Any], Iterator[UsageRecord]]
FORMATS = [
    pytest.param(write_csv, read_csv, id="csv"),
    pytest.param(write_jsonl, read_jsonl, id="jsonl"),
]


def assert_same(back: list[UsageRecord], original: list[UsageRecord]) -> None:
    """Field by field, with types: equal Decimals, aware UTC times, None vs "" kept apart."""
    assert len(back) == len(original)
    for got, want in zip(back, original, strict=True):
        assert got == want
        assert got.id == want.id == got.compute_id()
        assert type(got.quantity) is Decimal and got.quantity == want.quantity
        for name in ("start", "end"):
            moment = getattr(got, name)
            assert moment == getattr(want, name)
            assert moment.utcoffset() == timedelta(0)
        for name in RECORD_COLUMNS:
            if name not in ("start", "end", "quantity"):
                assert getattr(got, name) == getattr(want, name), name
                assert type(getattr(got, name)) is type(getattr(want, name)), name


# -- rows ------------------------------------------------------------------------------------


def test_row_has_the_columns_in_order_and_documented_formats() -> None:
    records = sample_records()
    row = record_to_row(records[6])
    assert tuple(row) == RECORD_COLUMNS
    assert row["start"] == "2026-11-01T03:00:00.000250Z"
    assert row["end"] == "2026-11-01T04:00:00Z"
    assert row["quantity"] == "0.1000000000000000055511151231257827"
    assert row["attributes"] == '{"action":"user_interaction","source":"byok"}'
    assert row["user_email"] == ""
    assert row["project_id"] is None
    assert row["kind"] == "flow"
    odd = record_to_row(records[7])
    assert odd["quantity"] == "1000"  # plain notation, never "1E+3"
    assert odd["attributes"] == '{"a":"x,\\"y\\"\\n","z":"","é":"ü"}'


def test_row_round_trip_is_exact() -> None:
    records = sample_records()
    assert_same([row_to_record(record_to_row(r)) for r in records], records)


def test_row_without_id_gets_it_computed() -> None:
    record = sample_records()[0]
    row = record_to_row(record)
    row["id"] = ""
    assert row_to_record(row).id == record.id


def _bad_rows() -> list[Any]:
    good = record_to_row(sample_records()[0])
    missing = dict(good)
    del missing["unit"]
    return [
        pytest.param(missing, "unit", id="missing-column"),
        pytest.param({**good, "colour": "red"}, "colour", id="unknown-column"),
        pytest.param({**good, "start": "yesterday"}, "start", id="bad-time"),
        pytest.param({**good, "start": "2026-11-01T00:00:00"}, "no UTC offset", id="naive"),
        pytest.param({**good, "quantity": "12,5"}, "quantity", id="bad-decimal"),
        pytest.param({**good, "quantity": "NaN"}, "finite", id="nan"),
        pytest.param({**good, "quantity": None}, "quantity", id="no-quantity"),
        pytest.param({**good, "attributes": "{not json"}, "JSON", id="bad-json"),
        pytest.param({**good, "attributes": "[1]"}, "JSON object", id="not-object"),
        pytest.param({**good, "attributes": '{"a": 1}'}, "strings", id="non-string-attr"),
        pytest.param({**good, "kind": "stock"}, "kind", id="bad-kind"),
        pytest.param({**good, "provider": ""}, "non-empty", id="empty-provider"),
        pytest.param({**good, "provider": None}, "provider", id="null-provider"),
        pytest.param({**good, "end": good["start"]}, "after start", id="empty-interval"),
        pytest.param({**good, "model": "gpt-5"}, "does not match", id="edited"),
        pytest.param({**good, "id": "0" * 32}, "does not match", id="wrong-id"),
    ]


@pytest.mark.parametrize(("row", "needle"), _bad_rows())
def test_malformed_rows_raise_export_error(row: dict[str, Any], needle: str) -> None:
    with pytest.raises(ExportError, match=needle) as caught:
        row_to_record(row)
    assert isinstance(caught.value, UsagekitError)
    assert not isinstance(caught.value, KeyError)


def test_cost_rows_need_an_upper_case_currency() -> None:
    row = record_to_row(sample_records()[1])
    row["unit"] = "usd"
    row["id"] = ""
    with pytest.raises(ExportError, match="ISO 4217"):
        row_to_record(row)


# -- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("write", "read"), FORMATS)
def test_round_trip_through_a_path(tmp_path: Path, write: Writer, read: Reader) -> None:
    records = sample_records()
    path = tmp_path / "out.data"
    assert write(records, path) == len(records)
    assert_same(list(read(path)), records)
    assert_same(list(read(str(path))), records)


@pytest.mark.parametrize(("write", "read"), FORMATS)
def test_round_trip_through_open_streams(write: Writer, read: Reader) -> None:
    records = sample_records()
    out = io.StringIO()
    assert write(records, out) == len(records)
    assert not out.closed  # a caller's stream stays open
    assert_same(list(read(io.StringIO(out.getvalue()))), records)


@pytest.mark.parametrize(("write", "read"), FORMATS)
def test_empty_input(tmp_path: Path, write: Writer, read: Reader) -> None:
    path = tmp_path / "empty"
    assert write([], path) == 0
    assert list(read(path)) == []


def test_float_tail_survives_text_formats_exactly(tmp_path: Path) -> None:
    record = sample_records()[6]
    assert record.quantity == FLOAT_TAIL
    for write, read in ((write_csv, read_csv), (write_jsonl, read_jsonl)):
        path = tmp_path / f"tail.{write.__name__}"
        write([record], path)
        (back,) = read(path)
        assert str(back.quantity) == "0.1000000000000000055511151231257827"


def test_csv_is_standard_csv(tmp_path: Path) -> None:
    records = sample_records()
    path = tmp_path / "records.csv"
    write_csv(records, path)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        expected = record_to_row(record)
        assert row == {k: "" if v is None else v for k, v in expected.items()}


def test_csv_keeps_none_and_empty_string_apart(tmp_path: Path) -> None:
    record = sample_records()[7]
    assert record.project_id == "" and record.organization_id is None
    path = tmp_path / "edge.csv"
    write_csv([record], path)
    text = path.read_text(encoding="utf-8")
    assert ',"",' in text  # the empty project id is quoted
    (back,) = read_csv(path)
    assert back.project_id == "" and back.organization_id is None
    assert back.line_item == 'line "1", Ünïcødé ✓\r\nnext'
    assert back.source == 'odd, "quoted"\nsource'


def test_csv_values_are_plain_where_possible(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    write_csv(sample_records()[:1], path)
    line = path.read_text(encoding="utf-8").splitlines()[1]
    assert line.startswith(sample_records()[0].id + ",openai,completions,2026-11-01T00:00:00Z,")


def test_csv_from_another_tool_with_bom_and_other_column_order(tmp_path: Path) -> None:
    records = [r for r in sample_records() if "" not in (r.project_id, r.user_email)]
    out = io.StringIO()
    write_csv(records, out)
    source = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    order = list(reversed(range(len(RECORD_COLUMNS))))
    shuffled = io.StringIO(newline="")
    writer = csv.writer(shuffled)  # the stdlib's minimal quoting, "\r\n" lines
    for row in source:
        writer.writerow([row[i] for i in order])
    path = tmp_path / "bom.csv"
    path.write_text("\ufeff" + shuffled.getvalue(), encoding="utf-8", newline="")
    assert_same(list(read_csv(path)), records)


@pytest.mark.parametrize(
    ("text", "needle", "line"),
    [
        pytest.param("", "empty file", None, id="empty"),
        pytest.param("id,provider\r\n", "missing column", 1, id="short-header"),
        pytest.param(",".join(RECORD_COLUMNS) + ",id\r\n", "duplicate", 1, id="dup-header"),
        pytest.param("{header}\r\na,b\r\n", "expected 17 fields, found 2", 2, id="short-row"),
        pytest.param('{header}\r\n"a\r\n', "unterminated", 2, id="unterminated"),
        pytest.param('{header}\r\n"a"b,c\r\n', "after a quoted field", 2, id="junk"),
        pytest.param('{header}\r\na"b"c\r\n', "stray quote", 2, id="stray"),
    ],
)
def test_malformed_csv_names_file_and_line(
    tmp_path: Path, text: str, needle: str, line: int | None
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text.replace("{header}", ",".join(RECORD_COLUMNS)), encoding="utf-8")
    with pytest.raises(ExportError, match=needle) as caught:
        list(read_csv(path))
    assert caught.value.source == str(path)
    assert caught.value.line == line
    assert str(path) in str(caught.value)


def test_bad_csv_row_names_its_line_and_column(tmp_path: Path) -> None:
    records = sample_records()
    path = tmp_path / "edited.csv"
    write_csv(records, path)
    text = path.read_text(encoding="utf-8").replace("2026-11-02T00:00:00Z", "tomorrow", 1)
    path.write_text(text, encoding="utf-8")
    reader = read_csv(path)
    with pytest.raises(ExportError) as caught:
        list(reader)
    assert (caught.value.line, caught.value.column) == (2, "end")


def test_jsonl_quantity_is_an_exact_string() -> None:
    out = io.StringIO()
    write_jsonl(sample_records()[6:7], out)
    line = out.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1
    value = json.loads(line)
    assert list(value) == list(RECORD_COLUMNS)
    assert value["quantity"] == "0.1000000000000000055511151231257827"
    assert value["attributes"] == {"action": "user_interaction", "source": "byok"}
    assert value["project_id"] is None and value["user_email"] == ""


def test_jsonl_reads_numbers_exactly_and_skips_blank_lines() -> None:
    record = sample_records()[6]
    value = json.loads(_jsonl([record]))
    text = json.dumps(value).replace(
        '"0.1000000000000000055511151231257827"', "0.1000000000000000055511151231257827"
    )
    (back,) = read_jsonl(io.StringIO("\n" + text + "\n\n"))
    assert back.quantity == FLOAT_TAIL


def _jsonl(records: list[UsageRecord]) -> str:
    out = io.StringIO()
    write_jsonl(records, out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        pytest.param("{oops", "not valid JSON", id="json"),
        pytest.param("[1, 2]", "JSON object", id="array"),
        pytest.param('{"id": "x"}', "missing column", id="partial"),
    ],
)
def test_malformed_jsonl_names_file_and_line(tmp_path: Path, line: str, needle: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(_jsonl(sample_records()[:2]) + line + "\n", encoding="utf-8")
    reader = read_jsonl(path)
    assert next(reader).provider == "openai"
    next(reader)
    with pytest.raises(ExportError, match=needle) as caught:
        next(reader)
    assert caught.value.line == 3 and caught.value.source == str(path)


def test_jsonl_rejects_a_float_free_number_type_mismatch() -> None:
    value = json.loads(_jsonl(sample_records()[:1]))
    value["quantity"] = True
    with pytest.raises(ExportError, match="decimal"):
        list(read_jsonl(io.StringIO(json.dumps(value))))


# -- atomic files ----------------------------------------------------------------------------


def _failing(records: list[UsageRecord], after: int) -> Iterator[UsageRecord]:
    for index, record in enumerate(records):
        if index == after:
            raise RuntimeError("provider went away")
        yield record


@pytest.mark.parametrize(("write", "read"), FORMATS)
def test_failed_write_leaves_no_file_and_keeps_the_old_one(
    tmp_path: Path, write: Writer, read: Reader
) -> None:
    records = sample_records()
    path = tmp_path / "report.out"
    write(records[:2], path)
    with pytest.raises(RuntimeError, match="went away"):
        write(_failing(records, 3), path)
    assert os.listdir(tmp_path) == ["report.out"]  # no temporary file left behind
    assert_same(list(read(path)), records[:2])


def test_reading_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_csv(tmp_path / "nope.csv"))


def test_times_are_utc_whatever_the_input_zone() -> None:
    from datetime import timezone

    plus_two = timezone(timedelta(hours=2))
    record = UsageRecord(
        provider="openai",
        source="completions",
        start=datetime(2026, 11, 1, 2, tzinfo=plus_two),
        end=datetime(2026, 11, 1, 3, tzinfo=plus_two),
        metric="requests",
        quantity=Decimal(1),
        unit="requests",
    )
    row = record_to_row(record)
    assert row["start"] == "2026-11-01T00:00:00Z"
    back = row_to_record({**row, "start": "2026-11-01T02:00:00+02:00"})
    assert back == record and back.start.tzinfo is not None
    assert back.start == NOV and back.start.utcoffset() == timedelta(0)
    assert back.start.tzinfo == UTC


def test_writer_accepts_any_text_stream() -> None:
    class Sink(io.TextIOBase):
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, text: str) -> int:
            self.parts.append(text)
            return len(text)

    sink = Sink()
    target: IO[str] = sink  # type: ignore[assignment]
    assert write_csv(sample_records(), target) == len(sample_records())
    assert "".join(sink.parts).startswith("id,provider,")


@pytest.mark.parametrize(
    "values",
    [
        ["a", None, "b"],
        ["with, comma", 'with "quotes"', "line\nbreak", "cr\ronly", "crlf\r\nx", None],
        [" lead", "trail ", "ünï", "{}", '{"a":"b"}'],
        ["", None, "x"],
        [None, None],
    ],
)
def test_both_csv_paths_format_alike(values: list[str | None]) -> None:
    out = io.StringIO(newline="")
    csv_row_writer(out)(values)
    assert out.getvalue() == csv_line(values)
    parsed = next(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert parsed == ["" if v is None else v for v in values]


def test_jsonl_text_is_what_json_dumps_would_write() -> None:
    for record in sample_records():
        line = _jsonl([record])
        obj = record_to_row(record)
        obj_any: dict[str, Any] = dict(obj)
        obj_any["attributes"] = dict(sorted(record.attributes.items()))
        assert line == json.dumps(obj_any, ensure_ascii=False, separators=(",", ":")) + "\n"


def test_special_characters_without_empty_strings_round_trip(tmp_path: Path) -> None:
    odd = sample_records()[7]
    record = UsageRecord.model_validate(
        {**odd.model_dump(), "id": "", "project_id": None, "attributes": {"a": 'x,"y"\n'}}
    )
    path = tmp_path / "odd.csv"
    write_csv([record], path)
    assert '""' in path.read_text(encoding="utf-8")  # quotes doubled inside quoted fields
    assert_same(list(read_csv(path)), [record])


@pytest.mark.parametrize(
    "writer", [usagekit.write_csv, usagekit.write_jsonl, usagekit.write_focus_csv]
)
def test_writers_refuse_what_is_not_a_record(writer: Any) -> None:
    with pytest.raises(usagekit.ConfigError, match="UsageRecord"):
        writer([1], io.StringIO())
