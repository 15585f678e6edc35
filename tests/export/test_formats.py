"""The format registry: one entry per record format, its writer, its file names."""

from __future__ import annotations

import io

import pytest

import usagekit
from usagekit._io.formats import (
    EXPORT_CHOICES,
    FORMATS,
    SUFFIXES,
    export_format,
    export_name_problem,
    html_name_problem,
    report_name_problem,
)

from ._data import sample_records


def test_every_format_has_its_report_method_and_public_writer() -> None:
    writers = {
        "csv": usagekit.write_csv,
        "jsonl": usagekit.write_jsonl,
        "parquet": usagekit.write_parquet,
        "focus": usagekit.write_focus_csv,
        "focus-parquet": usagekit.write_focus_parquet,
    }
    assert tuple(writers) == EXPORT_CHOICES
    for name, entry in FORMATS.items():
        assert entry.writer() is writers[name]
        assert callable(getattr(usagekit.UsageReport, entry.method))
        assert entry.suffixes[0] in SUFFIXES
        assert entry.streams is not entry.needs_pyarrow


def test_a_text_format_writes_to_a_stream_like_its_writer() -> None:
    records = sample_records()
    for name in ("csv", "jsonl", "focus"):
        ours, theirs = io.StringIO(), io.StringIO()
        assert FORMATS[name].write(records, ours) == FORMATS[name].writer()(records, theirs)
        assert ours.getvalue() == theirs.getvalue()


@pytest.mark.parametrize(
    ("path", "written"),
    [
        (None, "focus"),
        ("x.csv", "focus"),
        ("x.parquet", "focus-parquet"),
        ("x.PQ", "focus-parquet"),
    ],
)
def test_focus_is_parquet_when_the_file_is_named_so(path: str | None, written: str) -> None:
    assert export_format("focus", path).name == written


def test_names_that_say_another_format_are_refused() -> None:
    assert export_name_problem("csv", None) is None
    assert export_name_problem("csv", "usage.csv") is None
    assert export_name_problem("csv", "usage.txt") is None
    assert export_name_problem("csv", "a.parquet") == (
        "--format csv writes CSV, but a.parquet is named like a Parquet file; "
        "use --format parquet for Parquet or a name ending in .csv"
    )
    assert export_name_problem("focus", "a.jsonl") == (
        "--format focus writes FOCUS as CSV (or as Parquet to a name ending in .parquet), "
        "but a.jsonl is named like a JSON Lines file"
    )
    assert export_name_problem("jsonl", "x.csv.gz") == (
        "cannot write x.csv.gz: usagekit writes JSON Lines uncompressed; write x.csv and "
        "compress it afterwards"
    )
    assert report_name_problem("table", "x.csv") == (
        "--format table writes text, but x.csv is named like a CSV file; use --format csv for CSV"
    )
    assert html_name_problem("report.html") is None
    assert html_name_problem("r.csv") == (
        "--html writes HTML, but r.csv is named like a CSV file; use a name ending in .html"
    )
