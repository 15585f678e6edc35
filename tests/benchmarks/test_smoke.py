"""The smoke run of each benchmark that talks to the data server completes and prints its
targets (as CI's ``python -m benchmarks --smoke`` does). Figures are never asserted: a smoke
run's sizes are too small to mean anything."""

from __future__ import annotations

import importlib

import pytest
from benchmarks.__main__ import BENCHMARKS
from benchmarks._common import Result

NEW = ("normalize", "anchor", "scale", "minute", "walk")


@pytest.mark.parametrize("name", NEW)
def test_the_smoke_run_completes_and_prints_its_targets(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{BENCHMARKS[name]}")
    result = module.run(smoke=True)
    assert isinstance(result, Result)
    assert result.name == name
    assert result.ratio > 0
    line = result.line()
    assert f"(target <= {result.target:g}x, " in line
    for check in result.checks:
        assert f"{check.label} " in line and f"(target {check.target_text()}, " in line
    assert result.markdown_row().startswith(f"| {name}: ")
    if name == "scale":  # every target of the year
        assert [check.label for check in result.checks] == [
            "stream user CPU/record 16N/N",
            "to_pandas user CPU/record 16N/N",
            "store user CPU/row 16N/N",
            "collect peak",
            "report held",
            "to_csv",
            "to_parquet",
            "to_pandas",
            "store sync",
        ]
