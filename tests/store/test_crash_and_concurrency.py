"""A sync killed half-way resumes to the exact uninterrupted result; concurrent syncs agree."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from usagekit._store.store import Store
from usagekit._store.sync import SyncResult, sync

from ._fakes import BASE, DAY, HOUR, FakeClient, current_period, openai_like, rows

ROOT = Path(__file__).resolve().parents[2]
UNTIL = BASE + 2 * DAY + 7 * HOUR + 20 * 60 * HOUR / 3600  # 07:20 on the third day


def child(
    db: str,
    *,
    exit_after: int | None = None,
    delay: float = 0.0,
    batch: int = 10,
    order: str = "time",
) -> Any:
    """Start ``child_sync`` in a fresh interpreter."""
    code = (
        "from tests.store._fakes import child_sync; "
        f"child_sync({db!r}, {UNTIL.isoformat()!r}, exit_after={exit_after!r}, "
        f"delay={delay!r}, batch={batch!r}, order={order!r})"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)


def uninterrupted(tmp_path: Path) -> set[tuple[Any, ...]]:
    """The rows of a sync that was never interrupted."""
    path = str(tmp_path / "uninterrupted.sqlite")
    with Store(path) as store:
        assert sync(store, [FakeClient("openai", openai_like(UNTIL))], since=BASE, now=UNTIL).ok
    return rows(path)


def resume(path: str) -> SyncResult:
    with Store(path) as store:
        return sync(store, [FakeClient("openai", openai_like(UNTIL))], now=UNTIL + HOUR)


def count(path: str) -> int:
    """Records the child has committed so far (0 before its store exists).

    Opened ``mode=ro`` so that watching never creates a file: an empty file at the path is
    not a store, and the child would rightly refuse it.
    """
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", timeout=30, uri=True)
    except sqlite3.OperationalError:  # the child has not created the store yet
        return 0
    try:
        return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
    finally:
        conn.close()


def integrity(path: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("order", "exit_after", "batch", "survivors"),
    [
        ("time", 57, 10, 50),  # five committed batches survive; the sixth never committed
        ("costs_first", 2, 1, 2),  # two days of costs stored, no completions seen yet
    ],
)
def test_a_sync_that_dies_mid_stream_resumes_exactly(
    tmp_path: Path, order: str, exit_after: int, batch: int, survivors: int
) -> None:
    path = str(tmp_path / "usage.sqlite")
    process = child(path, exit_after=exit_after, batch=batch, order=order)
    assert process.wait(timeout=60) == 9  # os._exit(9) half-way through the stream
    assert count(path) == survivors

    result = resume(path)
    assert result.ok and result.providers[0].start == BASE
    assert rows(path) == uninterrupted(tmp_path)
    assert integrity(path) == "ok"


def test_a_sync_killed_with_sigkill_resumes_exactly(tmp_path: Path) -> None:
    path = str(tmp_path / "usage.sqlite")
    total = len(openai_like(UNTIL))
    process = child(path, delay=0.004, batch=10)
    deadline = time.monotonic() + 60
    while count(path) < 40:
        assert process.poll() is None, "the child finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    survived = count(path)
    assert 40 <= survived < total and survived % 10 == 0

    assert resume(path).ok
    assert rows(path) == uninterrupted(tmp_path)
    assert integrity(path) == "ok"


def test_two_syncs_in_threads_end_consistent(tmp_path: Path) -> None:
    path = str(tmp_path / "usage.sqlite")
    Store(path).close()
    barrier = threading.Barrier(2)
    results: list[SyncResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            clients = [
                FakeClient("openai", openai_like(UNTIL), delay=0.0002),
                FakeClient("basedash", current_period("basedash", UNTIL, "5.00")),
            ]
            with Store(path, timeout=60) as store:
                barrier.wait()
                results.append(sync(store, clients, since=BASE, now=UNTIL, batch_size=7))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(results) == 2
    assert all(result.ok for result in results)

    reference = str(tmp_path / "reference.sqlite")
    with Store(reference) as store:
        store.upsert(openai_like(UNTIL) + current_period("basedash", UNTIL, "5.00"))
    assert rows(path) == rows(reference)
    assert integrity(path) == "ok"
    with Store(path) as store:
        assert len(list(store.snapshots("basedash"))) == 2  # both fetches were kept
        finished = store._conn.execute("SELECT COUNT(*) FROM sync_runs WHERE finished = 1")
        assert finished.fetchone() == (4,)


@pytest.mark.parametrize("delays", [(0.0005, 0.0005), (0.0, 0.001)])
def test_two_sync_processes_end_consistent(tmp_path: Path, delays: tuple[float, float]) -> None:
    path = str(tmp_path / "usage.sqlite")
    processes = [child(path, delay=delay, batch=5) for delay in delays]
    assert [process.wait(timeout=120) for process in processes] == [0, 0]
    assert rows(path) == uninterrupted(tmp_path)
    assert integrity(path) == "ok"
