"""Schema 2 on disk, and stores of schema 1 (written by older usagekits): read as they are when
opened read-only, migrated in one transaction, losing nothing, when opened for writing.

The version-1 fixture is written here with that schema's own SQL and row codec, kept verbatim
(they are what older usagekits put on users' disks), not with the code under test.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from usagekit import StoreError, UsageRecord
from usagekit._store.store import Store
from usagekit._store.sync import sync

from ._fakes import BASE, DAY, HOUR, FakeClient, current_period, openai_like, orphans, rows

UTC = timezone.utc
UNTIL = BASE + 2 * DAY + 5 * HOUR + timedelta(minutes=30)

V1_RECORD_COLUMNS = """    provider TEXT NOT NULL,
    source TEXT NOT NULL,
    start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL,
    metric TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
    organization_id TEXT,
    project_id TEXT,
    user_id TEXT,
    user_email TEXT,
    api_key_id TEXT,
    model TEXT,
    line_item TEXT,
    attributes TEXT NOT NULL,"""

V1_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS records (
    id TEXT NOT NULL UNIQUE,
{V1_RECORD_COLUMNS}
    run_id INTEGER
);
CREATE INDEX IF NOT EXISTS records_start ON records (start_us);
CREATE INDEX IF NOT EXISTS records_provider_source ON records (provider, source, start_us);
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    fetched_at_us INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS snapshots_fetched ON snapshots (provider, fetched_at_us);
CREATE TABLE IF NOT EXISTS snapshot_records (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (snapshot_id) ON DELETE CASCADE,
    id TEXT NOT NULL,
{V1_RECORD_COLUMNS}
    PRIMARY KEY (snapshot_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_runs (
    run_id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    fetch_start_us INTEGER,
    started_at_us INTEGER NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX IF NOT EXISTS sync_runs_provider ON sync_runs (provider, run_id);
"""
V1_COLUMNS = (
    "id, provider, source, start_us, end_us, metric, quantity, unit, kind, organization_id, "
    "project_id, user_id, user_email, api_key_id, model, line_item, attributes"
)
V1_UPSERT = (
    f"INSERT INTO records ({V1_COLUMNS}, run_id) VALUES ({', '.join('?' * 17)}, ?) "
    "ON CONFLICT (id) DO UPDATE SET quantity = excluded.quantity, "
    "attributes = excluded.attributes, run_id = excluded.run_id "
    "WHERE excluded.run_id IS NULL OR run_id IS NULL OR excluded.run_id >= run_id"
)
V1_SNAPSHOT_INSERT = (
    f"INSERT OR REPLACE INTO snapshot_records (snapshot_id, {V1_COLUMNS}) "
    f"VALUES (?, {', '.join('?' * 17)})"
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def v1_row(record: UsageRecord) -> tuple[Any, ...]:
    """The version-1 codec: every field a column, the id as hex text."""
    return (
        record.id,
        record.provider,
        record.source,
        (record.start - EPOCH) // timedelta(microseconds=1),
        (record.end - EPOCH) // timedelta(microseconds=1),
        record.metric,
        str(record.quantity),
        record.unit,
        record.kind,
        *record.dimensions(),
        json.dumps(record.attributes, sort_keys=True, separators=(",", ":"))
        if record.attributes
        else "{}",
    )


def odd_records() -> list[UsageRecord]:
    """Records exercising every field: exact quantities, attributes of each kind, levels."""
    start, end = BASE, BASE + HOUR
    base: dict[str, Any] = {"provider": "openai", "source": "completions", "start": start}
    return [
        UsageRecord(**base, end=end, metric="x", quantity=Decimal("1E-30"), unit="tokens"),
        UsageRecord(**base, end=end, metric="cost", quantity=Decimal("-3.1E+2"), unit="EUR"),
        UsageRecord(
            **base,
            end=end,
            metric="cost",
            unit="USD",
            quantity=Decimal("1.50"),
            line_item="gpt-4o, input",
            attributes={"quantity": "12", "quantity_unit": "tokens", "charge_kind": "input"},
        ),
        UsageRecord(
            **base,
            end=end + DAY,
            kind="level",
            metric="usage_bytes",
            unit="bytes",
            quantity=Decimal(2**80),
            organization_id="org",
            project_id="",
            user_id="u",
            user_email="a@example.com",
            api_key_id="key_1",
            model="gpt-4o",
            attributes={"batch": "true", "ünïcode": "✓", "quote": "'\"", "empty": ""},
        ),
    ]


def write_v1(path: Path, *, version: int = 1, application_id: int = 0x75736B74) -> dict[str, Any]:
    """A store as usagekit 1 left it (WAL, as it made them): records written by two sync runs
    and a plain upsert, a snapshot of a current-period provider, finished and failed runs."""
    data = openai_like(UNTIL) + odd_records()
    period = current_period("basedash", UNTIL, "4.10")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for statement in V1_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute(f"PRAGMA application_id = {application_id}")
    conn.execute(
        "INSERT INTO sync_runs (run_id, provider, fetch_start_us, started_at_us, finished) "
        "VALUES (1, 'openai', NULL, 1, 1), (2, 'openai', 5, 7, 0), (3, 'basedash', NULL, 9, 1)"
    )
    runs = {record.id: 1 + index % 2 for index, record in enumerate(data)}
    runs[data[-1].id] = None  # upserted outside a sync
    conn.executemany(V1_UPSERT, [(*v1_row(r), runs[r.id]) for r in data])
    conn.executemany(V1_UPSERT, [(*v1_row(r), 3) for r in period])
    conn.execute("INSERT INTO snapshots VALUES (1, 'basedash', 42, 1), (2, 'basedash', 43, 0)")
    conn.executemany(V1_SNAPSHOT_INSERT, [(1, *v1_row(r)) for r in period])
    conn.executemany(V1_SNAPSHOT_INSERT, [(2, *v1_row(r)) for r in period[:1]])
    conn.execute("COMMIT")
    conn.close()
    return {"records": data + period, "runs": {**runs, **{r.id: 3 for r in period}}}


def exact(records: Any) -> list[tuple[Any, ...]]:
    """Records as every field, the quantity's digits and exponent included, sorted by id."""
    return sorted(
        (
            r.id,
            r.provider,
            r.source,
            r.start,
            r.end,
            r.metric,
            str(r.quantity),
            r.unit,
            r.kind,
            r.dimensions(),
            tuple(r.attributes.items()),
        )
        for r in records
    )


def sorted_attributes(records: list[UsageRecord]) -> list[UsageRecord]:
    """As the store gives records back: attributes in key order."""
    return [
        r.model_copy(update={"attributes": dict(sorted(r.attributes.items()))}) for r in records
    ]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------ schema 2 on disk


def test_a_new_store_keeps_ids_as_bytes_in_time_order_without_an_index(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    data = openai_like(UNTIL)
    with Store(path) as store:
        store.upsert(data)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'records'").fetchone()[0]
        assert "WITHOUT ROWID" in ddl and "PRIMARY KEY (start_us, id)" in ddl
        indexes = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
        ).fetchall()
        assert indexes == []
        kinds = conn.execute("SELECT DISTINCT typeof(id), length(id) FROM records").fetchall()
        assert kinds == [("blob", 24)]
        stored = {bytes(blob).hex() for (blob,) in conn.execute("SELECT id FROM records")}
        assert stored == {r.id for r in data}
        # one series per distinct (provider, source, metric, unit, kind, dimensions, identity)
        (series,) = conn.execute("SELECT COUNT(*) FROM series").fetchone()
        assert series == len({(r.source, r.metric, r.unit, r.model, r.line_item) for r in data})
        assert orphans(conn) == 0
    finally:
        conn.close()


# ------------------------------------------------------------------ schema 1, read-only


def test_a_version_1_store_opened_read_only_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    made = write_v1(path)
    before = digest(path)
    with Store(path, read_only=True) as store:
        assert exact(store.records()) == exact(sorted_attributes(made["records"]))
        assert store.count() == len(made["records"])
        assert store.count(provider="openai", model=None) == sum(
            r.provider == "openai" and r.model is None for r in made["records"]
        )
        assert [r.id for r in store.records(start=BASE + DAY)] == [
            r.id for r in store.records() if r.end > BASE + DAY
        ]
        assert set(store.spans()) == {"openai", "basedash"}
        (snapshot,) = store.snapshots()  # the unfinished one is not shown
        assert snapshot.snapshot_id == 1 and len(snapshot.records) == 2
        report = store.report(BASE, UNTIL + DAY)
        assert len(report.records) == len(made["records"])
    assert digest(path) == before  # nothing written, nothing migrated


# ------------------------------------------------------------------ schema 1, migrated


@pytest.mark.parametrize(("version", "application_id"), [(1, 0x75736B74), (1, 0), (0, 0)])
def test_a_version_1_store_is_migrated_losing_nothing(
    tmp_path: Path, version: int, application_id: int
) -> None:
    path = tmp_path / "usage.sqlite"
    made = write_v1(path, version=version, application_id=application_id)
    with Store(path, read_only=True) as legacy:
        before = exact(legacy.records())
        snapshots_before = [
            (s.snapshot_id, s.fetched_at, exact(s.records)) for s in legacy.snapshots()
        ]
    with Store(path) as store:
        assert exact(store.records()) == before == exact(sorted_attributes(made["records"]))
        after = [(s.snapshot_id, s.fetched_at, exact(s.records)) for s in store.snapshots()]
        assert after == snapshots_before
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        assert conn.execute("PRAGMA application_id").fetchone() == (0x75736B74,)
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        assert not {name for name in tables if name.startswith("_usagekit")}
        assert {"records_start", "records_provider_source"}.isdisjoint(tables)
        # every row's sync run kept (it decides which run's write wins, and what is stale)
        runs = {
            bytes(blob).hex(): run for blob, run in conn.execute("SELECT id, run_id FROM records")
        }
        assert runs == made["runs"]
        assert conn.execute("SELECT run_id, finished FROM sync_runs").fetchall() == [
            (1, 1),
            (2, 0),
            (3, 1),
        ]
        assert conn.execute("SELECT COUNT(*) FROM snapshot_records").fetchone() == (3,)
        assert orphans(conn) == 0
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_a_migrated_store_syncs_on_without_rewriting_history(tmp_path: Path) -> None:
    migrated, fresh = tmp_path / "migrated.sqlite", tmp_path / "fresh.sqlite"
    data = openai_like(UNTIL)
    conn = sqlite3.connect(migrated, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for statement in V1_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    # what usagekit 1's sync left: one finished run that fetched everything up to UNTIL
    start_us = (BASE - EPOCH) // timedelta(microseconds=1)
    until_us = (UNTIL - EPOCH) // timedelta(microseconds=1)
    conn.execute(
        "INSERT INTO sync_runs (run_id, provider, fetch_start_us, started_at_us, finished) "
        "VALUES (1, 'openai', ?, ?, 1)",
        (start_us, until_us),
    )
    conn.executemany(V1_UPSERT, [(*v1_row(r), 1) for r in data])
    conn.execute("COMMIT")
    conn.close()
    with Store(fresh) as store:
        assert sync(store, [FakeClient("openai", data)], since=BASE, now=UNTIL).ok
    later = BASE + 3 * DAY + 2 * HOUR
    grown = openai_like(later)
    done = []
    for path in (migrated, fresh):
        client = FakeClient("openai", grown)
        with Store(path) as store:
            (entry,) = sync(store, [client], now=later).providers
        assert entry.ok and client.calls == [(BASE + 2 * DAY, None)]  # the open day, as before
        done.append((entry.start, entry.written, entry.removed))
    assert done[0] == done[1]
    assert rows(str(migrated)) == rows(str(fresh))
    with Store(migrated) as store:
        assert exact(store.records()) == exact(grown)


def test_a_failed_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    made = write_v1(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE records SET quantity = 'lots' WHERE metric = 'x'")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(StoreError, match="cannot upgrade") as caught:
        Store(path)
    assert caught.value.reason == "damaged" and "nothing was changed" in str(caught.value)
    assert digest(path) == before
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
        assert conn.execute("SELECT COUNT(*) FROM records").fetchone() == (len(made["records"]),)
    finally:
        conn.close()


def test_a_reader_of_a_version_1_store_follows_its_migration(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    made = write_v1(path)
    expected = exact(sorted_attributes(made["records"]))
    with Store(path, read_only=True) as reader:
        assert exact(reader.records()) == expected
        with Store(path) as writer:  # another process upgrades the file meanwhile
            writer.upsert(odd_records())
        assert exact(reader.records()) == expected
        assert reader.count() == len(expected)
        assert [s.snapshot_id for s in reader.snapshots()] == [1]


def test_a_version_1_table_missing_its_columns_is_foreign(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    write_v1(path)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE records DROP COLUMN kind")
    conn.commit()
    conn.close()
    before = digest(path)
    for read_only in (None, True):
        with pytest.raises(StoreError, match="table 'records' that is not usagekit's") as caught:
            Store(path, read_only=read_only)
        assert caught.value.reason == "not_a_store"
    assert digest(path) == before
