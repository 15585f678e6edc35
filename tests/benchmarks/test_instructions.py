"""The instructions benchmark's machinery: callgrind's count read from its report, commands
counted side by side for real, the margin between two sizes. Counts are exact (the same binary,
inputs and environment give the same count), so they are asserted; no time is."""

from __future__ import annotations

import importlib
import shutil
import sys

import pytest
from benchmarks.bench_instructions import AGAIN, collected, counted, marginal, result_of

from benchmarks import __main__ as runner
from benchmarks import bench_instructions

needs_valgrind = pytest.mark.skipif(shutil.which("valgrind") is None, reason="no valgrind")


@pytest.mark.parametrize(
    ("stderr", "count"),
    [
        ("==12== Callgrind\n==12== Collected : 2842381774\n==12==\n", 2842381774),
        ("==7== Collected : 5\n==9== Collected : 17\n", 17),  # the last report is the run's
    ],
)
def test_the_count_is_read_from_callgrinds_report(stderr: str, count: int) -> None:
    assert collected(stderr) == count


@pytest.mark.parametrize("stderr", ["", "Traceback (most recent call last):\n", "Collected : 5"])
def test_a_report_without_a_count_is_an_error(stderr: str) -> None:
    with pytest.raises(RuntimeError, match="no instruction count"):
        collected(stderr)


def test_the_margin_cancels_what_every_size_pays() -> None:
    start = 2_600_000_000  # a process's start and imports, the same at every size
    counts = {"N/4": start + 40_000 * 6_000, "N": start + 160_000 * 6_000}
    records = {"N/4": 40_000, "N": 160_000}
    assert marginal(counts, records, "N/4", "N") == 6_000
    with pytest.raises(ValueError, match="records"):
        marginal(counts, records, "N", "N/4")


def test_the_result_is_16ns_margin_over_ns_and_prints_every_size() -> None:
    sizes = {"N/4": 137, "N": 548, "4N": 2192, "16N": 8768}
    records = {"N/4": 40_000, "N": 160_000, "4N": 640_000, "16N": 2_560_000}
    start = 2_600_000_000
    window = records["N"]  # records past it cost 7,400 instructions each, before it 7,000

    def total(label: str) -> int:
        count = records[label]
        return start + min(count, window) * 7_000 + max(0, count - window) * 7_400

    runs = {
        label: (total(label), f'log line\n{{"records": {records[label]}, "cpu": 1.0}}\n')
        for label in sizes
    }
    result = result_of(sizes, runs)
    assert result.name == "instructions" and result.target == 1.1
    assert result.ratio == pytest.approx(7_400 / 7_000)
    assert result.met
    line = result.line()
    assert "7,400 against 7,000" in line and "N to 4N 7,400 (1.06x;" in line
    for label, hours in sizes.items():
        assert f"{label} ({hours:,} h, {records[label]:,} records)" in line
    assert "counted again" not in line  # N counted once: no gap to print
    costly = dict(runs, **{"16N": (runs["16N"][0] + 1_920_000 * 1_000, runs["16N"][1])})
    assert not result_of(sizes, costly).met  # 8,400 a record at 16N: 1.2x
    twice = dict(runs, **{AGAIN: (runs["N"][0] + 320_000, runs["N"][1])})
    assert "N counted again: 320,000 instructions apart (" in result_of(sizes, twice).line()
    assert "2.00 a record" in result_of(sizes, twice).line()  # 320,000 over N's 160,000


@pytest.mark.parametrize(
    "printed",
    ["", "Traceback (most recent call last):\n", '{"cpu": 1.0}\n', '{"records": "many"}\n', "[1]"],
)
def test_a_child_without_its_figures_is_an_error_naming_it(printed: str) -> None:
    sizes = {"N/4": 1, "N": 2, "4N": 4, "16N": 8}
    runs = {
        label: (1_000 * hours, f'{{"records": {100 * hours}}}\n') for label, hours in sizes.items()
    }
    assert result_of(sizes, runs).ratio == pytest.approx(1.0)
    with pytest.raises(RuntimeError, match=r"^4N printed no figures"):
        result_of(sizes, dict(runs, **{"4N": (4_000, printed)}))
    del runs["16N"]
    with pytest.raises(RuntimeError, match="no count for 16N"):
        result_of(sizes, runs)


@needs_valgrind
def test_commands_are_counted_side_by_side_and_their_margin_is_their_work() -> None:
    loop = "import sys\nfor _ in range(int(sys.argv[1])): pass\nprint(sys.argv[1])"
    sizes = {"small": 20_000, "large": 80_000, "4x/large": 320_000, "again": 80_000}
    runs = counted({name: [sys.executable, "-S", "-c", loop, str(n)] for name, n in sizes.items()})
    assert {name: printed.strip() for name, (_, printed) in runs.items()} == {
        name: str(n) for name, n in sizes.items()
    }
    counts = {name: count for name, (count, _) in runs.items()}
    assert counts["again"] == counts["large"]  # one hash seed: the same run, the same count
    assert counts["small"] < counts["large"] < counts["4x/large"]  # any label (a "/" too)
    lower = marginal(counts, sizes, "small", "large")
    upper = marginal(counts, sizes, "large", "4x/large")
    assert 10 < lower < 2_000  # an empty loop's turn under valgrind: a few hundred
    assert upper / lower == pytest.approx(1.0, rel=0.01)  # the same work a turn at every size


@needs_valgrind
def test_a_failing_command_is_an_error_naming_it() -> None:
    with pytest.raises(RuntimeError, match=r"broken failed \(3\)"):
        counted({"broken": [sys.executable, "-S", "-c", "raise SystemExit(3)"]})


@needs_valgrind
def test_a_command_past_the_deadline_is_an_error_naming_it() -> None:
    with pytest.raises(RuntimeError, match=r"^sleeper was still running after 2 s"):
        counted(
            {"sleeper": [sys.executable, "-S", "-c", "import time; time.sleep(600)"]}, timeout=2.0
        )


def test_it_runs_only_by_name() -> None:
    assert "instructions" in runner.BY_NAME and "instructions" not in runner.BENCHMARKS
    module = importlib.import_module(f"benchmarks.{runner.BY_NAME['instructions']}")
    assert module.run is bench_instructions.run and module.AGAIN == AGAIN
    with pytest.raises(SystemExit):
        runner.main(["nonesuch"])
