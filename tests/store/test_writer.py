"""The columnar sync writes on a writer thread while the fetch goes on (``_writer.BatchWriter``).

Whatever happens (a full disk, a locked or changed file, a failing write, a provider failing
mid-stream, an interrupt, a stream that uses the store), what it leaves is what writing one
batch after the other on the caller's thread leaves (``overlap=False``): the same rows, the same
runs, the same error; and no writer thread outlives the sync.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import usagekit
from usagekit import ConfigError, StoreError, UsageRecord
from usagekit._core.table import RecordTable
from usagekit._store import store as store_module
from usagekit._store._session import SyncSession
from usagekit._store._writer import BatchWriter
from usagekit._store.store import Store
from usagekit._store.sync import sync
from usagekit.sandbox import Sandbox

from ._fakes import BASE, HOUR, openai_like, rows
from .test_columns import NOW, dump, history, sandbox, sb

__all__ = ["sandbox", "sb"]  # the sandbox fixtures, shared with test_columns

UNTIL = BASE + 36 * HOUR  # 218 records: 11 tables of 20
WRITER = "usagekit-store-writer"


def writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == WRITER]


@pytest.fixture(autouse=True)
def no_writer_left() -> Iterator[None]:
    yield
    assert writer_threads() == []


class Columnar:
    """A client read as tables (as usagekit's own are), with ways to fail mid-stream.

    Args:
        per_table: Records a table.
        fail_at: Raise ``error`` instead of yielding this table (0 is the first).
        error: What to raise.
        during: Called with the table's number before it is yielded.
    """

    provider = "openai"

    def __init__(
        self,
        per_table: int = 20,
        *,
        fail_at: int | None = None,
        error: BaseException | None = None,
        during: Any = None,
    ) -> None:
        self._records = openai_like(UNTIL)
        self._per_table = per_table
        self._fail_at = fail_at
        self._error = error or RuntimeError("the provider went away")
        self._during = during
        self.pulled = 0
        self.closed = False
        self.failed = threading.Event()

    def records(self, start: Any = None, end: Any = None) -> Iterator[UsageRecord]:
        for table in self._record_tables(start, end):
            yield from table

    def _record_tables(self, start: Any = None, end: Any = None) -> Iterator[RecordTable]:
        since = None if start is None else usagekit.as_utc(start)
        kept = [r for r in self._records if since is None or r.end > since]
        try:
            for number, first in enumerate(range(0, len(kept), self._per_table)):
                if number == self._fail_at:
                    self.failed.set()
                    raise self._error
                if self._during is not None:
                    self._during(number)
                self.pulled += 1
                yield RecordTable.from_records(kept[first : first + self._per_table])
        finally:
            self.closed = True


@pytest.fixture(params=[True, False], ids=["overlap", "one-by-one"])
def overlap(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run the test with the writer thread, and without it (the reference)."""
    chosen: bool = request.param
    write_tables = SyncSession._write_tables

    def forced(session: SyncSession, tables: Any, *, batch_size: int, overlap: bool = True) -> None:
        write_tables(session, tables, batch_size=batch_size, overlap=chosen)

    monkeypatch.setattr(SyncSession, "_write_tables", forced)
    return chosen


def synced(path: Path, client: Any, batch_size: int = 50, **options: Any) -> usagekit.SyncResult:
    with Store(path, **options) as store:
        return sync(store, [client], since=BASE, now=NOW, batch_size=batch_size)


def runs(path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT run_id, finished, error FROM sync_runs").fetchall()
    finally:
        conn.close()


def failing_writes(
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    after: int,
    wait: threading.Event | None = None,
) -> None:
    """Make the batch writes after the first ``after`` raise ``error`` (once ``wait`` is set)."""
    calls = 0
    write_batch = store_module.write_batch

    def failing(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > after:
            if wait is not None:
                wait.wait(30)
            raise error
        write_batch(*args, **kwargs)

    monkeypatch.setattr(store_module, "write_batch", failing)


# ------------------------------------------------------------------------------ the same rows


@pytest.mark.parametrize("batch_size", [20_000, 13])
def test_the_sandbox_history_is_the_same_with_and_without_the_writer_thread(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    threaded = history(sb, tmp_path / "threaded.sqlite", batch_size)
    sb.set_now(NOW)
    write_tables = SyncSession._write_tables

    def one_by_one(session: SyncSession, tables: Any, *, batch_size: int) -> None:
        write_tables(session, tables, batch_size=batch_size, overlap=False)

    monkeypatch.setattr(SyncSession, "_write_tables", one_by_one)
    alone = history(sb, tmp_path / "alone.sqlite", batch_size)
    assert all(entry.ok for entry in threaded)
    assert [(e.written, e.removed, e.start) for e in threaded] == [
        (e.written, e.removed, e.start) for e in alone
    ]
    assert dump(tmp_path / "threaded.sqlite") == dump(tmp_path / "alone.sqlite")


@pytest.mark.parametrize("batch_size", [1, 7, 50, 20_000])
def test_overlap_stores_exactly_what_one_by_one_stores(tmp_path: Path, batch_size: int) -> None:
    for chosen in (True, False):
        with Store(tmp_path / f"{chosen}.sqlite") as store:
            session = store.begin_sync("openai", NOW)
            tables = Columnar(per_table=9)._record_tables()
            session._write_tables(tables, batch_size=batch_size, overlap=chosen)
            assert session.written == 218
            session.commit()
    assert dump(tmp_path / "True.sqlite") == dump(tmp_path / "False.sqlite")


# ------------------------------------------------------------------------------ the writer fails


def test_a_full_disk_while_overlapping_is_what_one_by_one_leaves(tmp_path: Path) -> None:
    whole = tmp_path / "whole.sqlite"
    with Store(whole) as store:
        empty = store._conn.execute("PRAGMA page_count").fetchone()[0]
    assert synced(whole, Columnar()).ok
    with Store(whole) as store:
        needed = store._conn.execute("PRAGMA page_count").fetchone()[0] - empty
    outcomes = []
    for chosen in (True, False):
        path = tmp_path / f"{chosen}.sqlite"
        with Store(path) as store:
            pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
            store._conn.execute(f"PRAGMA max_page_count = {pages + needed // 2}")
            session = store.begin_sync("openai", NOW)
            with pytest.raises(StoreError) as caught:
                session._write_tables(
                    Columnar(per_table=7)._record_tables(), batch_size=10, overlap=chosen
                )
            assert caught.value.reason == "full"
            assert writer_threads() == []
            kept = store.count()
            assert 0 < kept == session.written and kept % 10 == 0  # whole batches
            outcomes.append((kept, str(caught.value).replace(str(path), "PATH")))
            store._conn.execute("PRAGMA max_page_count = 1000000")
        assert synced(path, Columnar()).ok  # resumes
        assert rows(str(path)) == rows(str(whole))
    assert outcomes[0] == outcomes[1]


def test_a_failing_write_comes_out_of_sync_as_one_by_one_it_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overlap: bool
) -> None:
    failing_writes(monkeypatch, sqlite3.OperationalError("disk I/O error"), after=2)
    client = Columnar()
    result = synced(tmp_path / "usage.sqlite", client)
    (failure,) = result.failures
    assert isinstance(failure.exception, StoreError)
    assert failure.exception.reason == "error" and "disk I/O error" in str(failure.exception)
    assert failure.written == 100  # the two batches before it
    assert client.closed  # the stream was closed
    with Store(tmp_path / "usage.sqlite") as store:
        assert store.count() == 100
    assert runs(tmp_path / "usage.sqlite") == [(1, 0, f"StoreError: {failure.exception}")]


def test_an_unexpected_error_of_the_writer_is_raised_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overlap: bool
) -> None:
    failing_writes(monkeypatch, OverflowError("Python int too large"), after=1)
    result = synced(tmp_path / "usage.sqlite", Columnar())
    (failure,) = result.failures
    assert type(failure.exception) is OverflowError and failure.written == 50


def test_a_write_failure_wins_over_a_later_failure_of_the_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overlap: bool
) -> None:
    """One by one, the stream never gets past the failed write; with the writer thread it
    does (the second batch fails only once the stream has failed too): the write's failure,
    which came first in the stream, is what sync reports."""
    client = Columnar(per_table=50, fail_at=3)
    error = sqlite3.OperationalError("disk I/O error")
    failing_writes(monkeypatch, error, after=1, wait=client.failed if overlap else None)
    (failure,) = synced(tmp_path / "usage.sqlite", client).failures
    assert isinstance(failure.exception, StoreError) and failure.written == 50
    assert client.closed and client.pulled == (3 if overlap else 2)


def test_a_locked_store_while_overlapping_is_a_store_error(tmp_path: Path, overlap: bool) -> None:
    path = tmp_path / "usage.sqlite"
    Store(path).close()
    other = sqlite3.connect(path, isolation_level=None)

    def lock(number: int) -> None:
        if number == 5:  # another writer takes the lock after two batches
            other.execute("BEGIN IMMEDIATE")

    try:
        result = synced(path, Columnar(during=lock), timeout=0.05)
    finally:
        other.execute("ROLLBACK")
        other.close()
    (failure,) = result.failures
    assert isinstance(failure.exception, StoreError) and failure.exception.reason == "locked"
    assert 50 <= failure.written < 218 and failure.written % 50 == 0
    with Store(path) as store:
        assert store.count() == failure.written


def test_a_store_another_program_changed_mid_sync_is_a_store_error(
    tmp_path: Path, overlap: bool
) -> None:
    path = tmp_path / "usage.sqlite"
    Store(path).close()

    def rename(number: int) -> None:
        if number == 5:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("ALTER TABLE records RENAME TO someone_elses")
            other.close()

    (failure,) = synced(path, Columnar(during=rename)).failures
    assert isinstance(failure.exception, StoreError) and failure.exception.reason == "damaged"


# ------------------------------------------------------------------------------ the stream fails


@pytest.mark.parametrize("fail_at", [0, 3, 7])
def test_a_provider_failing_mid_stream_leaves_what_one_by_one_leaves(
    tmp_path: Path, fail_at: int
) -> None:
    outcomes = []
    for chosen in (True, False):
        path = tmp_path / f"{chosen}.sqlite"
        with Store(path) as store:
            session = store.begin_sync("openai", NOW)
            with pytest.raises(RuntimeError, match="went away"):
                session._write_tables(
                    Columnar(fail_at=fail_at)._record_tables(), batch_size=30, overlap=chosen
                )
            outcomes.append((session.written, store.count()))
        assert outcomes[-1][0] == outcomes[-1][1] == fail_at * 20 // 30 * 30  # whole batches
    assert outcomes[0] == outcomes[1]
    assert dump(tmp_path / "True.sqlite") == dump(tmp_path / "False.sqlite")


def test_an_interrupt_mid_sync_leaves_committed_batches_only_and_resumes(
    tmp_path: Path, overlap: bool
) -> None:
    path = tmp_path / "usage.sqlite"
    client = Columnar(fail_at=6, error=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        synced(path, client)
    assert client.closed and writer_threads() == []
    with Store(path) as store:
        kept = store.count()
    assert kept % 50 == 0 and kept <= 120  # whole batches, none past the interrupt
    assert runs(path) == [(1, 0, "KeyboardInterrupt")]
    assert synced(path, Columnar()).ok  # the next sync starts no later than this one did
    whole = tmp_path / "whole.sqlite"
    assert synced(whole, Columnar()).ok
    assert rows(str(path)) == rows(str(whole))


def test_a_stream_using_the_store_while_its_writer_writes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    with Store(path) as store:

        def peek(number: int) -> None:
            if number == 3:
                store.count()

        result = sync(store, [Columnar(during=peek)], since=BASE, now=NOW, batch_size=20)
        (failure,) = result.failures
        assert isinstance(failure.exception, ConfigError)
        assert "being written by a sync" in str(failure.exception)
        assert store.count() == failure.written == 60  # the three tables before
        assert sync(store, [Columnar()], now=NOW).ok  # the store is the caller's again


def raised_on_another_thread(call: Any) -> BaseException | None:
    """What ``call()`` raises when run on a thread of its own (None: nothing)."""
    caught: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return caught[0] if caught else None


@pytest.mark.parametrize("use", ["count", "records", "upsert", "close"])
def test_a_store_used_from_another_thread_is_refused(tmp_path: Path, use: str) -> None:
    path = tmp_path / "usage.sqlite"
    with Store(path) as store:
        assert sync(store, [Columnar()], since=BASE, now=NOW, batch_size=20).ok
        calls = {
            "count": store.count,
            "records": lambda: list(store.records()),
            "upsert": lambda: store.upsert([]),
            "close": store.close,
        }
        error = raised_on_another_thread(calls[use])
        assert isinstance(error, ConfigError)
        assert "belongs to the thread that opened it" in str(error)
        assert store.count() == 218  # still open, and the owner's
        assert sync(store, [Columnar()], now=NOW).ok


def test_a_records_iterator_resumed_on_another_thread_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    with Store(path) as store:
        assert sync(store, [Columnar()], since=BASE, now=NOW, batch_size=20).ok
        iterator = store.records()
        assert next(iterator).id  # started on the owner's thread
        error = raised_on_another_thread(lambda: list(iterator))
        assert isinstance(error, ConfigError)
        assert "belongs to the thread that opened it" in str(error)
        assert len(list(store.records())) == 218


def test_a_store_whose_thread_has_ended_can_be_used_and_closed(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    opened: list[Store] = []
    thread = threading.Thread(target=lambda: opened.append(Store(path)))
    thread.start()
    thread.join(timeout=30)
    (store,) = opened
    assert sync(store, [Columnar()], since=BASE, now=NOW, batch_size=20).ok
    assert store.count() == 218
    store.close()


def test_an_interrupt_as_the_writer_is_lent_leaves_the_store_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "usage.sqlite"
    lend = Store._lend

    def interrupted(self: Store, writer: BatchWriter[Any] | None) -> None:
        lend(self, writer)
        if writer is not None:
            raise KeyboardInterrupt

    monkeypatch.setattr(Store, "_lend", interrupted)
    with Store(path) as store:
        with pytest.raises(KeyboardInterrupt):
            sync(store, [Columnar()], since=BASE, now=NOW, batch_size=20)
        assert writer_threads() == []
        monkeypatch.setattr(Store, "_lend", lend)
        assert sync(store, [Columnar()], since=BASE, now=NOW, batch_size=20).ok
        assert store.count() == 218


# ------------------------------------------------------------------------------ bounded


def test_a_slow_disk_holds_the_fetch_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the writer is stuck in its first batch, the stream is read at most a few
    batches ahead: two batches waiting, one being encoded."""
    release = threading.Event()
    write_batch = store_module.write_batch
    client = Columnar(per_table=10)
    seen: list[int] = []

    def slow(*args: Any, **kwargs: Any) -> None:
        if not release.is_set():
            release.wait(30)
        write_batch(*args, **kwargs)

    def watch() -> None:  # once the fetch stopped moving, count how far it got
        last, steady = -1, 0
        while steady < 20 and not release.is_set():
            steady = steady + 1 if client.pulled == last else 0
            last = client.pulled
            time.sleep(0.01)
        seen.append(client.pulled)
        release.set()

    monkeypatch.setattr(store_module, "write_batch", slow)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = synced(tmp_path / "usage.sqlite", client, batch_size=10)
    finally:
        release.set()
        watcher.join()
    assert result.ok and result.written == 218
    assert seen and seen[0] <= 5  # 1 being written, 2 waiting, 1 encoded, 1 taken


# ------------------------------------------------------------------------------ the writer


def test_the_writer_writes_in_order_and_raises_the_first_failure_on_the_caller() -> None:
    written: list[int] = []

    def write(job: int) -> None:
        if job == 3:
            raise ValueError("job 3 failed")
        written.append(job)

    def run(writer: BatchWriter[int]) -> None:
        with writer:
            for job in range(10):
                writer.submit(job)
            writer.drain()

    writer = BatchWriter(write, lambda: None)
    with pytest.raises(ValueError, match="job 3"):
        run(writer)
    assert written == [0, 1, 2]
    assert [job for job, ok in writer.done if ok] == [0, 1, 2]
    assert all(not ok for job, ok in writer.done if job >= 3)


def test_closing_the_writer_with_drop_writes_nothing_more() -> None:
    started, release = threading.Event(), threading.Event()
    interrupted: list[bool] = []
    written: list[int] = []

    def write(job: int) -> None:
        started.set()
        release.wait(30)
        written.append(job)

    def interrupt() -> None:
        interrupted.append(True)
        release.set()

    writer = BatchWriter(write, interrupt, depth=3)
    for job in range(4):
        writer.submit(job)
    started.wait(30)
    writer.close(drop=True)
    assert interrupted == [True] and written == [0]
    assert [ok for _, ok in writer.done] == [True, False, False, False]
    assert not writer._thread.is_alive()
