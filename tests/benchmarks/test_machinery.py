"""The benchmarks' own machinery: checks and results print their targets, the table renders,
the sandbox runs in a process of its own. No timing is asserted anywhere."""

from __future__ import annotations

import multiprocessing

import pytest
from benchmarks._common import Check, Result, best_of, interleaved
from benchmarks._remote import RemoteSandbox

from benchmarks import __main__ as runner


def test_check_at_least_compares_upwards() -> None:
    rate = Check("to_csv", 612_000.0, 500_000.0, style="rate", at_least=True)
    slow = Check("to_csv", 62_000.0, 500_000.0, style="rate", at_least=True)
    assert rate.met and not slow.met
    assert rate.text() == "to_csv 612k/s (target >= 500k/s, meets)"
    assert slow.text() == "to_csv 62k/s (target >= 500k/s, MISSES)"


def test_check_styles_print_their_units() -> None:
    assert Check("held", 148.0, 150.0, strict=True, style="bytes", unit="record").text() == (
        "held 148 B/record (target < 150 B/record, meets)"
    )
    assert Check("peak", 512e6, 400e6, strict=True, style="megabytes").text() == (
        "peak 512.0 MB (target < 400.0 MB, MISSES)"
    )
    assert Check("growth", 1.04, 1.1, style="ratio").text() == (
        "growth 1.04x (target <= 1.10x, meets)"
    )
    assert Check("store", 151_000, 150_000, style="rate", at_least=True, unit="rows").text() == (
        "store 151k rows/s (target >= 150k rows/s, meets)"
    )
    with pytest.raises(ValueError, match="unknown style"):
        Check("x", 1.0, 1.0, style="furlongs")


def test_result_line_and_markdown_row_show_every_target() -> None:
    result = Result(
        "scale",
        1.3,
        1.1,
        "raw figures",
        checks=(Check("to_csv", 600_000.0, 500_000.0, style="rate", at_least=True),),
        what="a year",
        baseline="CPU per record at N",
        brief="2.6M records",
    )
    assert not result.met
    line = result.line()
    assert line.startswith("scale")
    assert "(target <= 1.1x, MISSES)" in line
    assert "to_csv 600k/s (target >= 500k/s, meets)" in line
    assert line.endswith("raw figures")
    row = result.markdown_row()
    assert row == (
        "| scale: a year | CPU per record at N | **1.30x (misses)** (2.6M records); "
        "to_csv 600k/s | <= 1.1x; to_csv >= 500k/s |"
    )


def test_timing_keeps_the_garbage_collector_on() -> None:
    import gc

    seen: list[bool] = []
    best_of(2, lambda: seen.append(gc.isenabled()))
    interleaved(1, lambda: seen.append(gc.isenabled()), lambda: seen.append(gc.isenabled()))
    assert seen == [True, True, True, True]


def test_markdown_table_has_the_date_the_machine_and_a_row_per_result(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = Result("fake", 0.5, 1.0, "figures", what="a fake", baseline="nothing", brief="b")
    monkeypatch.setattr(runner, "BENCHMARKS", {"fake": "unused"})
    monkeypatch.setattr(runner, "_run_one", lambda name, smoke: fake)
    assert runner.main(["--smoke", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "fake              0.50x  (target <= 1x, meets)  figures" in out
    assert "| benchmark | baseline | figures | target |" in out
    assert "| fake: a fake | nothing | 0.50x (b) | <= 1x |" in out
    assert runner.machine() in out
    assert "Python" in runner.machine()


def test_a_crashing_benchmark_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(name: str, smoke: bool) -> Result:
        raise RuntimeError("broken")

    monkeypatch.setattr(runner, "BENCHMARKS", {"fake": "unused"})
    monkeypatch.setattr(runner, "_run_one", boom)
    assert runner.main(["--smoke"]) == 1
    assert "fake           CRASHED" in capsys.readouterr().out


def test_the_remote_sandbox_serves_from_another_process() -> None:
    with RemoteSandbox(seed=1, now="2026-11-15T12:00:00Z") as sb:
        children = multiprocessing.active_children()
        assert any(child.name == "usagekit-bench-sandbox" for child in children)
        assert sb.base_urls["openai"].startswith("http://127.0.0.1:")
        with sb.openai_client() as client:
            pages = list(
                client.usage.completions(
                    "2026-11-14T00:00:00Z", "2026-11-14T03:00:00Z", bucket_width="1h"
                ).iter_pages()
            )
        assert pages
        stats = sb.stats
        assert stats.count("openai", "usage/completions", 200) == len(pages)
        assert stats.total_requests == len(pages)
        sb.configure(latency=0.0)
        sb.reset_stats()
        assert sb.stats.total_requests == 0
    assert not any(c.name == "usagekit-bench-sandbox" for c in multiprocessing.active_children())


def test_the_figures_of_repeated_runs_are_their_medians() -> None:
    from benchmarks.bench_scale import _medians

    runs = [
        {"records": 10, "cpu": 3.0, "peak": 900, "path": "x", "csv": {"cpu": 1.0, "wall": 9.0}},
        {"records": 10, "cpu": 1.0, "peak": 100, "path": "x", "csv": {"cpu": 5.0, "wall": 2.0}},
        {"records": 10, "cpu": 8.0, "peak": 500, "path": "x", "csv": {"cpu": 4.0, "wall": 1.0}},
    ]
    assert _medians(runs) == {
        "records": 10,
        "cpu": 3.0,
        "peak": 500,
        "path": "x",
        "csv": {"cpu": 4.0, "wall": 2.0},
    }
    assert _medians(runs, mean_times=True) == {  # times the mean of the runs', the rest not
        "records": 10,
        "cpu": 4.0,
        "peak": 500,
        "path": "x",
        "csv": {"cpu": 10.0 / 3, "wall": 4.0},
    }
    with pytest.raises(RuntimeError, match="records"):
        _medians([{"records": 10}, {"records": 11}, {"records": 10}])
