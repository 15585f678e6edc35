"""The store's file: refused when it is not a store, readable without write access, and every
SQLite failure a StoreError that says what to do (never a bare sqlite3 exception, never a
traceback from the command)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import usagekit
from usagekit import StoreError, UsagekitError, UsageRecord
from usagekit._cli import main
from usagekit._store.store import Store
from usagekit._store.sync import sync

from ._fakes import BASE, FakeClient, openai_like
from ._unprivileged import shared_directory, take_write_access, unprivileged

ROOT = Path(__file__).resolve().parents[2]
UNTIL = BASE + timedelta(days=2, hours=5)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_store(path: Path) -> list[UsageRecord]:
    data = openai_like(UNTIL)
    with Store(path) as store:
        store.upsert(data)
    return data


def command(*argv: str) -> tuple[int, str, str]:
    """Run the command in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ what is not a store


def foreign_records(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)")
    conn.execute("INSERT INTO records (title, done) VALUES ('buy milk', 0)")
    conn.commit()
    conn.close()


def foreign_other(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('hello')")
    conn.commit()
    conn.close()


def foreign_application(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def page_size(data: bytes) -> int:
    """The page size a SQLite file's header names (bytes 16-17; 1 means 65536)."""
    size = int.from_bytes(data[16:18], "big")
    return 65536 if size == 1 else size


def damaged_pages(path: Path) -> None:
    """A store whose record pages (its ``records`` table's root and the pages after it) are
    damaged: 64 bytes in every eighth of each page."""
    make_store(path)
    conn = sqlite3.connect(path)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'records'").fetchone()
    conn.close()
    data = bytearray(path.read_bytes())
    size = page_size(data)
    for offset in range((root - 1) * size, len(data), size // 8):
        data[offset : offset + 64] = bytes(range(64))
    path.write_bytes(bytes(data))


def damaged_header(path: Path) -> None:
    make_store(path)
    data = bytearray(path.read_bytes())
    data[:16] = b"SQLite formaT 3\x00"
    path.write_bytes(bytes(data))


def damaged_schema(path: Path) -> None:
    make_store(path)
    data = bytearray(path.read_bytes())
    size = page_size(data)
    data[100:size] = b"\x07" * (size - 100)  # page 1 below the header: the schema table
    path.write_bytes(bytes(data))


def newer(path: Path) -> None:
    make_store(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()


NOT_STORES = [
    pytest.param(lambda p: p.touch(), "empty_file", "empty file", id="zero-bytes"),
    pytest.param(
        lambda p: p.write_text("id,quantity\n1,2\n" * 50), "not_a_store", "not a SQLite", id="text"
    ),
    pytest.param(
        foreign_records,
        "not_a_store",
        "table 'records' that is not usagekit's",
        id="foreign-records",
    ),
    pytest.param(foreign_other, "not_a_store", "another application's", id="foreign-tables"),
    pytest.param(foreign_application, "not_a_store", "application id", id="foreign-application-id"),
    pytest.param(damaged_header, "not_a_store", "damaged: restore it", id="damaged-header"),
    pytest.param(damaged_schema, "damaged", "sqlite3 .* .recover", id="damaged-schema"),
    pytest.param(newer, "newer_schema", "upgrade usagekit", id="newer-schema"),
]


@pytest.mark.parametrize(("make", "reason", "message"), NOT_STORES)
def test_what_is_not_a_store_is_refused_and_left_alone(
    tmp_path: Path, make: Any, reason: str, message: str
) -> None:
    path = tmp_path / "usage.sqlite"
    make(path)
    before = digest(path)
    for read_only in (None, True):
        with pytest.raises(StoreError, match=message) as caught:
            Store(path, read_only=read_only)
        assert caught.value.reason == reason and caught.value.path == str(path)
        assert isinstance(caught.value, UsagekitError)
    assert digest(path) == before  # never initialised, never touched
    assert only_the_file(tmp_path, "usage.sqlite")


def only_the_file(directory: Path, name: str) -> bool:
    """Whether ``directory`` holds the file and at most SQLite's empty -wal and its -shm."""
    extra = {p.name for p in directory.iterdir()} - {name}
    if not extra <= {f"{name}-wal", f"{name}-shm"}:
        return False
    wal = directory / f"{name}-wal"
    return not wal.exists() or wal.stat().st_size == 0


@pytest.mark.parametrize(("make", "reason", "message"), NOT_STORES)
def test_the_command_says_so_in_one_line(
    tmp_path: Path, make: Any, reason: str, message: str
) -> None:
    path = tmp_path / "usage.sqlite"
    make(path)
    for argv in (["report", "--db", str(path)], ["export", "--db", str(path), "--format", "csv"]):
        code, out, err = command(*argv)
        assert code == 1 and out == ""
        assert err.startswith("usagekit: StoreError: ") and err.count("\n") == 1, err
        assert "Traceback" not in err


def test_damaged_pages_are_a_store_error_when_read(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    damaged_pages(path)
    with pytest.raises(StoreError, match="is damaged") as caught, Store(path) as store:
        list(store.records())
    assert caught.value.reason == "damaged"
    code, _, err = command("report", "--db", str(path), "--since", "2026-05-01")
    assert code == 1 and "StoreError" in err and ".recover" in err and "Traceback" not in err


def test_a_row_another_program_changed_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    make_store(path)
    conn = sqlite3.connect(path)
    third = "SELECT id FROM records ORDER BY start_us, id LIMIT 1 OFFSET 2"
    conn.execute(f"UPDATE records SET quantity = 'lots' WHERE id = ({third})")
    conn.commit()
    conn.close()
    with Store(path) as store, pytest.raises(StoreError, match="cannot read") as caught:
        list(store.records())
    assert caught.value.reason == "damaged"


def test_an_empty_sqlite_database_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")  # a valid, empty SQLite file
    conn.close()
    with Store(path) as store:
        store.upsert(openai_like(UNTIL))
        assert store.count() == len(openai_like(UNTIL))
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("VACUUM")
    with pytest.raises(StoreError, match="empty SQLite database"):
        Store(other, read_only=True)


def test_a_path_that_cannot_hold_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory") as caught:
        Store(tmp_path)
    assert caught.value.reason == "not_a_store"
    with pytest.raises(StoreError, match="does not exist; create it first") as caught:
        Store(tmp_path / "missing" / "usage.sqlite")
    assert caught.value.reason == "cannot_open"
    with pytest.raises(StoreError, match="no store at") as caught:
        Store(tmp_path / "usage.sqlite", read_only=True)
    assert caught.value.reason == "missing" and not (tmp_path / "usage.sqlite").exists()
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(StoreError, match="not a regular file"):
            Store(tmp_path / "fifo")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "x")
    with pytest.raises(StoreError):
        Store(tmp_path / "dangling")


# ------------------------------------------------------------------ creating a store


def test_a_new_store_is_complete_when_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    with Store(path) as store:
        assert not store.read_only and store.count() == 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA application_id").fetchone() == (0x75736B74,)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"records", "snapshots", "snapshot_records", "sync_runs"} <= tables
    assert only_the_file(tmp_path, "usage.sqlite")  # no temporary file left behind


def test_a_store_made_by_an_older_usagekit_opens(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    data = make_store(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 0")  # stores made before the id was set
    conn.execute("DROP TABLE sync_runs")  # and before sync runs were kept
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.count() == len(data)
        assert sync(store, [FakeClient("openai", data)], now=UNTIL).ok


def test_many_processes_creating_one_store_at_once_all_succeed(tmp_path: Path) -> None:
    code = (
        "import sys, time; from usagekit import Store\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "with Store(sys.argv[1], timeout=30) as store: store.count()\n"
    )
    for round_ in range(3):
        path = tmp_path / f"usage-{round_}.sqlite"
        start = time.time() + 1.0
        processes = [
            subprocess.Popen([sys.executable, "-c", code, str(path), str(start)], cwd=ROOT)
            for _ in range(6)
        ]
        assert [process.wait(timeout=120) for process in processes] == [0] * 6
        with Store(path) as store:
            assert store.count() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"usage-{i}.sqlite" for i in range(3)]


def test_opening_waits_for_a_writer_that_blocks_the_journal_switch(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    make_store(path)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode = DELETE")  # as another tool may leave it
    writer.execute("BEGIN IMMEDIATE")  # SQLite returns "locked" at once to a journal switch
    with pytest.raises(StoreError, match="locked past the timeout") as caught:
        Store(path, timeout=0.3)
    assert caught.value.reason == "locked"

    release = threading.Timer(0.5, lambda: writer.execute("COMMIT"))
    release.start()
    began = time.monotonic()
    with Store(path, timeout=10) as store:
        waited = time.monotonic() - began
        assert store._conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert store.count() > 0
    release.join()
    writer.close()
    assert 0.3 < waited < 10


def test_opening_a_current_store_takes_no_lock(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    make_store(path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a sync is writing
    try:
        began = time.monotonic()
        with Store(path, timeout=5) as store:
            assert store.count() > 0  # WAL: the reader neither waits nor blocks
        assert time.monotonic() - began < 2
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# ------------------------------------------------------------------ failures while in use


def test_a_full_disk_is_a_store_error_and_keeps_the_earlier_batches(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    data = openai_like(BASE + timedelta(days=20))
    count = "PRAGMA page_count"
    with Store(tmp_path / "probe.sqlite") as probe:  # the pages the data takes, at any page size
        empty = probe._conn.execute(count).fetchone()[0]
        probe.upsert(data)
        needed = probe._conn.execute(count).fetchone()[0] - empty
    with Store(path) as store:
        pages = store._conn.execute(count).fetchone()[0]
        room = needed * 3 // 4  # a nearly full disk: room for part of the data
        store._conn.execute(f"PRAGMA max_page_count = {pages + room}")
        with pytest.raises(StoreError, match="full") as caught:
            store.upsert(data, batch_size=100)
        assert caught.value.reason == "full"
        kept = store.count()
        assert 0 < kept < len(data) and kept % 100 == 0  # whole batches, nothing half-written
        assert store.count() == kept  # the store is still usable
        result = sync(store, [FakeClient("openai", data)], since=BASE, now=UNTIL, batch_size=100)
    (failure,) = result.failures
    assert failure.error is not None and failure.error.startswith("StoreError: ")
    assert "free some space" in failure.error


def test_a_closed_store_is_a_store_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "usage.sqlite")
    store.close()
    for use in (store.count, lambda: list(store.records()), lambda: store.upsert([])):
        with pytest.raises(StoreError, match="closed") as caught:
            use()
        assert caught.value.reason == "closed"


def test_store_error_is_public() -> None:
    assert usagekit.StoreError is StoreError
    assert issubclass(StoreError, usagekit.UsagekitError)
    assert not issubclass(StoreError, usagekit.ConfigError)
    assert "StoreError" in usagekit.__all__


# ------------------------------------------------------------------ without write access


def test_read_only_by_request_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    data = make_store(path)
    before = digest(path)
    with Store(path, read_only=True) as store:
        assert store.read_only and repr(store) == f"Store({str(path)!r}, read_only=True)"
        assert store.count() == len(data)
        assert {r.id for r in store.records()} == {r.id for r in data}
        for write in (
            lambda: store.upsert(data),
            lambda: store.upsert([]),
            lambda: store.add_snapshot("basedash", BASE, []),
        ):
            with pytest.raises(StoreError, match="read-only") as caught:
                write()
            assert caught.value.reason == "read_only"
        client = FakeClient("openai", data)
        with pytest.raises(StoreError, match="sync needs write access"):
            sync(store, [client])
        assert client.calls == []  # refused before anything was fetched
    assert digest(path) == before
    with pytest.raises(usagekit.ConfigError, match="read_only"):
        Store(path, read_only="yes")  # type: ignore[arg-type]
    with pytest.raises(usagekit.ConfigError, match="memory"):
        Store(":memory:", read_only=True)


def read_everything(path: str) -> dict[str, Any]:
    """Open the store as it opens (read_only=None) and try everything; runs unprivileged."""
    outcome: dict[str, Any] = {}
    with Store(path) as store:
        outcome["read_only"] = store.read_only
        outcome["journal"] = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
        outcome["count"] = store.count()
        outcome["total"] = str(sum((r.quantity for r in store.records()), Decimal(0)))
        outcome["snapshots"] = len(list(store.snapshots()))
        for name, write in (
            ("upsert", lambda: store.upsert(openai_like(UNTIL))),
            ("sync", lambda: sync(store, [FakeClient("openai", openai_like(UNTIL))])),
        ):
            try:
                write()
                outcome[name] = "written"
            except StoreError as exc:
                outcome[name] = [exc.reason, str(exc)]
    try:
        Store(path, read_only=False).close()
        outcome["read_write"] = "opened"
    except StoreError as exc:
        outcome["read_write"] = [exc.reason, str(exc)]
    for argv in (
        ["report", "--db", path, "--since", "2026-05-01", "--until", "2026-06-01"],
        [
            "export",
            "--db",
            path,
            "--since",
            "2026-05-01",
            "--until",
            "2026-06-01",
            "--format",
            "csv",
        ],
        ["sync", "--db", path, "--provider", "openai"],
    ):
        code, out, err = command(*argv)
        outcome[f"usagekit {argv[0]}"] = [code, out, err]
    return outcome


def check_read_only(outcome: dict[str, Any], data: list[UsageRecord]) -> None:
    assert outcome["read_only"] is True
    assert outcome["count"] == len(data)
    assert Decimal(outcome["total"]) == sum((r.quantity for r in data), Decimal(0))
    assert outcome["snapshots"] == 0
    for name in ("upsert", "sync", "read_write"):
        reason, message = outcome[name]
        assert reason == "read_only" and "write access" in message, (name, message)
    code, out, err = outcome["usagekit report"]
    assert code == 0 and err == "" and f"{len(data)}" in out.replace(",", "")
    code, out, err = outcome["usagekit export"]
    assert code == 0 and err == "" and out.count("\n") == len(data) + 1
    code, out, err = outcome["usagekit sync"]
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.startswith("usagekit: StoreError: ") and "read-only" in err


@pytest.fixture
def offline_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for `usagekit sync`, pointing at a port nothing listens on (never used:
    a read-only store is refused before any request)."""
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-never-used")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("USAGEKIT_DEMO", raising=False)
    with usagekit.pin_clock(UNTIL):  # load every module the command uses, while we may
        command("report", "--demo", "--provider", "openai", "--format", "json")


def test_a_store_in_a_directory_without_write_access_is_read(offline_keys: None) -> None:
    """No -shm can be made beside the file: SQLite's WAL index is missing, so the store is
    read as it is on disk (``immutable``)."""
    with shared_directory() as directory:
        path = directory / "usage.sqlite"
        data = make_store(path)
        before = digest(path)
        take_write_access(path, directory)
        outcome = unprivileged(lambda: read_everything(str(path)))
        check_read_only(outcome, data)
        assert outcome["journal"] == "delete"  # read as an immutable file: no WAL index
        assert digest(path) == before
        assert sorted(p.name for p in directory.iterdir()) == ["usage.sqlite"]


def test_a_read_only_file_in_a_writable_directory_is_read(offline_keys: None) -> None:
    with shared_directory() as directory:
        path = directory / "usage.sqlite"
        data = make_store(path)
        before = digest(path)
        path.chmod(0o444)
        directory.chmod(0o777)  # the unprivileged user may make the -shm index here
        outcome = unprivileged(lambda: read_everything(str(path)))
        check_read_only(outcome, data)
        assert outcome["journal"] == "wal"  # mode=ro, with SQLite's shared WAL index
        assert digest(path) == before


def test_changes_only_in_the_wal_are_never_silently_missed() -> None:
    """A -wal file holding commits, in a directory without write access: reading the file
    alone would miss them, so the store is refused with what to do."""
    with shared_directory() as directory:
        source = directory / "live.sqlite"
        make_store(source)
        writer = sqlite3.connect(source, isolation_level=None)
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        first = "SELECT id FROM records ORDER BY start_us, id LIMIT 9"
        writer.execute(f"UPDATE records SET quantity = '1' WHERE id IN ({first})")  # only in -wal
        copy_dir = directory / "copy"
        copy_dir.mkdir()
        shutil.copy(source, copy_dir / "usage.sqlite")
        shutil.copy(f"{source}-wal", copy_dir / "usage.sqlite-wal")
        writer.close()
        path = copy_dir / "usage.sqlite"
        take_write_access(path, copy_dir / "usage.sqlite-wal", copy_dir)

        def attempt() -> Any:
            try:
                with Store(str(path)) as store:
                    return ["opened", store.count()]
            except StoreError as exc:
                return [exc.reason, str(exc)]

        reason, message = unprivileged(attempt)
        assert reason == "read_only", message
        assert "usage.sqlite-wal" in message and "write access" in message


def test_creating_without_write_access_says_so() -> None:
    with shared_directory() as directory:
        take_write_access(directory)

        def attempt() -> Any:
            try:
                Store(str(directory / "usage.sqlite"))
            except StoreError as exc:
                return [exc.reason, str(exc)]
            return "created"

        reason, message = unprivileged(attempt)
        assert reason == "read_only" and "needs write access to its directory" in message
        assert list(directory.iterdir()) == []
