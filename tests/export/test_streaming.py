"""Every writer streams: it walks its input once, never sizes it, and holds a bounded amount.

The memory checks use tracemalloc (Python allocations) with a bound of 8 MiB, far below what
holding the records would take (about 1 KB each: 50 MB for 50k, 200 MB for 200k), and assert
nothing about time.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from usagekit import UsageRecord
from usagekit._io.csv import write_csv
from usagekit._io.focus import focus_rows, write_focus_csv, write_focus_parquet
from usagekit._io.jsonl import write_jsonl
from usagekit._io.parquet import write_parquet

from ._data import SinglePass, cheap_records, many_records, sample_records

BOUND = 8 * 1024 * 1024


def _parquet(records: Iterable[UsageRecord], path: Path) -> int:
    pytest.importorskip("pyarrow")
    return write_parquet(records, path, batch_size=2_000)


def _focus_parquet(records: Iterable[UsageRecord], path: Path) -> int:
    pytest.importorskip("pyarrow")
    return write_focus_parquet(records, path, batch_size=2_000)


WRITERS: list[Any] = [
    pytest.param(write_csv, 1, id="csv"),
    pytest.param(write_jsonl, 1, id="jsonl"),
    pytest.param(_parquet, 1, id="parquet"),
    pytest.param(write_focus_csv, 2, id="focus-csv"),
    pytest.param(_focus_parquet, 2, id="focus-parquet"),
]
SIZES: list[Any] = [
    # 200k through CSV; 50k (about 50 MB if held) through the others, to keep the suite
    # quick under tracemalloc's overhead.
    pytest.param(write_csv, 1, 200_000, id="csv-200k"),
    pytest.param(write_jsonl, 1, 50_000, id="jsonl"),
    pytest.param(_parquet, 1, 50_000, id="parquet"),
    pytest.param(write_focus_csv, 2, 50_000, id="focus-csv"),
    pytest.param(_focus_parquet, 2, 50_000, id="focus-parquet"),
]


@pytest.mark.parametrize(("write", "every"), WRITERS)
def test_writers_walk_a_single_pass_iterable_once(
    tmp_path: Path, write: Callable[[Iterable[UsageRecord], Path], int], every: int
) -> None:
    records = SinglePass(many_records(1_001))
    count = write(records, tmp_path / "out")
    assert records.walked
    assert count == (1_001 if every == 1 else 501)  # FOCUS: only the cost records


def test_a_plain_generator_is_enough(tmp_path: Path) -> None:
    generator = (record for record in sample_records())
    assert write_csv(generator, tmp_path / "out.csv") == len(sample_records())
    assert next(generator, None) is None  # consumed, once


def test_focus_rows_is_lazy() -> None:
    pulled: list[int] = []

    def source() -> Any:
        for index, record in enumerate(many_records(10)):
            pulled.append(index)
            yield record

    rows = focus_rows(source())
    assert pulled == []
    next(rows)
    assert pulled == [0]  # the first record is a cost


@pytest.mark.parametrize(("write", "every", "count"), SIZES)
def test_memory_stays_bounded(
    tmp_path: Path, write: Callable[[Iterable[UsageRecord], Path], int], every: int, count: int
) -> None:
    records = SinglePass(cheap_records(count))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        written = write(records, tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == count // every
    assert peak - before < BOUND, f"peak grew by {(peak - before) / 2**20:.1f} MiB"
