"""sync reads usagekit's OpenAI client as record tables, encoded straight from the columns.

What it stores must be exactly what the record path stores: the same files, table by table, row
by row (series ids, record ids, quantities as text, extras, run ids, snapshots, sync runs), for
the same data. The sandbox serves the same world to both paths over loopback; the record path
is forced by hiding the client's columnar stream from sync. Tables built in the other ways the
columnar form allows (quantities that are not plain ints, per-row attributes, groups whose rows
are not in one run, ids repeated across pages) are compared on their own.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import usagekit
from usagekit import ConfigError, StoreError, UsageRecord
from usagekit._collect import _tables_of
from usagekit._core.table import RecordTable
from usagekit._store import sync as sync_module
from usagekit._store._session import SyncSession
from usagekit._store.store import Store
from usagekit._store.sync import sync
from usagekit.sandbox import Sandbox, serve

from ._fakes import BASE, HOUR, current_period, openai_like, rows
from .test_schema import odd_records

UTC = timezone.utc
NOW = datetime(2026, 6, 20, 14, 37, 11, tzinfo=UTC)  # mid-day, mid-hour
SINCE = datetime(2026, 6, 8, 5, 17, tzinfo=UTC)
LATER = NOW + timedelta(days=1, hours=3, minutes=8)
TABLES = ("series", "records", "snapshots", "snapshot_records", "sync_runs")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with serve(seed=31, now=NOW, history_days=20) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.reset()
    sandbox.set_now(NOW)
    yield sandbox
    sandbox.set_now(NOW)
    sandbox.reset()
    assert sandbox.stats.internal_errors == []


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every usagekit table of a store file, in key order."""
    conn = sqlite3.connect(path)
    try:
        return {
            name: conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2, 3").fetchall()
            for name in TABLES
        }
    finally:
        conn.close()


class Paths:
    """Counts which path sync took: the columnar one, or records() (forced with ``records``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, records: bool) -> None:
        self.tables = 0
        write_tables = SyncSession._write_tables

        def counted(session: SyncSession, tables: Any, *, batch_size: int) -> None:
            self.tables += 1
            write_tables(session, tables, batch_size=batch_size)

        monkeypatch.setattr(SyncSession, "_write_tables", counted)
        if records:
            monkeypatch.setattr(sync_module, "_tables_of", lambda client: None)


def history(sb: Sandbox, path: Path, batch_size: int) -> list[usagekit.ProviderSync]:
    """Three syncs of the sandbox's OpenAI org: a back-fill from inside a day, an incremental
    one after the world moved on (open buckets re-fetched, grown), a lookback one."""
    entries = []
    with Store(path) as store, sb.openai_client() as client:
        with usagekit.pin_clock(NOW):
            entries += sync(store, [client], since=SINCE, now=NOW, batch_size=batch_size).providers
        sb.set_now(LATER)
        with usagekit.pin_clock(LATER):
            entries += sync(store, [client], now=LATER, batch_size=batch_size).providers
            again = sync(store, [client], now=LATER, lookback=timedelta(hours=30), batch_size=7)
            entries += again.providers
    return entries


@pytest.mark.parametrize("batch_size", [20_000, 13])
def test_the_columnar_path_stores_exactly_what_the_record_path_stores(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    with sb.openai_client() as client:
        assert _tables_of(client) is not None  # usagekit's own client: read as tables
    with monkeypatch.context() as patch:
        forced = Paths(patch, records=True)
        by_records = history(sb, tmp_path / "records.sqlite", batch_size)
    sb.set_now(NOW)
    with monkeypatch.context() as patch:
        chosen = Paths(patch, records=False)
        by_tables = history(sb, tmp_path / "tables.sqlite", batch_size)
    assert forced.tables == 0 and chosen.tables == 3
    assert all(entry.ok for entry in by_tables), [entry.error for entry in by_tables]
    assert [(e.written, e.removed, e.start) for e in by_tables] == [
        (e.written, e.removed, e.start) for e in by_records
    ]
    assert by_tables[0].written > 1000 and by_tables[1].written > 0
    expected, found = dump(tmp_path / "records.sqlite"), dump(tmp_path / "tables.sqlite")
    for name in TABLES:
        assert found[name] == expected[name], name
    sources = {row[3] for row in found["series"]}  # series_id, key, provider, source, ...
    assert {"completions", "costs"} <= sources  # ints and Decimals, with and without extras
    assert any(row[5] is not None for row in found["records"])  # costs' own attributes


def test_a_snapshot_written_from_tables_is_the_one_written_from_records(
    sb: Sandbox, tmp_path: Path
) -> None:
    """The session's table path keeps snapshots too (sync keeps them for current-period
    providers; OpenAI is not one, so the session is driven by hand)."""
    for name in ("records", "tables"):
        with Store(tmp_path / f"{name}.sqlite") as store, sb.openai_client() as client:
            with store.begin_sync("openai", NOW, since=SINCE) as session:
                session.open_snapshot(NOW)
                if name == "tables":
                    session._write_tables(client._record_tables(SINCE, NOW), batch_size=9)
                else:
                    session.write_stream(client.records(SINCE, NOW), batch_size=9)
                session.commit()
            (snapshot,) = store.snapshots()
            assert len(snapshot.records) == store.count() > 0
    assert dump(tmp_path / "tables.sqlite") == dump(tmp_path / "records.sqlite")


def test_anthropic_written_from_tables_is_what_its_records_write(
    sb: Sandbox, tmp_path: Path
) -> None:
    """Anthropic's client is read in columns by sync too (its tables are not de-duplicated,
    hold Decimal costs and Claude Code rows): the same rows as from its records."""
    with sb.anthropic_client() as client:
        assert _tables_of(client) is not None
    for name in ("records", "tables"):
        with Store(tmp_path / f"{name}.sqlite") as store, sb.anthropic_client() as client:
            with store.begin_sync("anthropic", NOW, since=SINCE) as session:
                if name == "tables":
                    session._write_tables(client._record_tables(SINCE, NOW), batch_size=7)
                else:
                    session.write_stream(client.records(SINCE, NOW), batch_size=7)
                session.commit()
            assert store.count() > 100
    found = dump(tmp_path / "tables.sqlite")
    assert found == dump(tmp_path / "records.sqlite")
    sources = {row[3] for row in found["series"]}
    assert {"messages", "cost_report", "claude_code"} <= sources, sources


# ------------------------------------------------------------------ tables of every shape


def write_both(tmp_path: Path, tables: list[RecordTable], batch_size: int) -> None:
    """Write the tables through a sync session's table path and their records through the
    record path, into two stores: they must end the same."""
    paths = []
    for name in ("records", "tables"):
        path = tmp_path / f"{name}.sqlite"
        path.unlink(missing_ok=True)
        with Store(path) as store:
            session = store.begin_sync("openai", NOW)
            if name == "tables":
                session._write_tables(iter(tables), batch_size=batch_size)
            else:
                stream = (record for table in tables for record in table)
                session.write_stream(stream, batch_size=batch_size)
            session.commit()
            assert session.written == sum(len(table) for table in tables)
        paths.append(path)
    expected, found = dump(paths[0]), dump(paths[1])
    for name in TABLES:
        assert found[name] == expected[name], name


def shaped(seed: int, parts: int) -> list[RecordTable]:
    """openai_like records and odd ones (Decimals, attributes outside the id, levels), in a
    random order, cut into tables of each kind: plain, unique (merged: repeated ids kept once,
    a group's rows then not in one run), and one repeating ids of another with new values."""
    data = openai_like(BASE + timedelta(hours=30)) + odd_records()
    data += current_period("openai", BASE + HOUR, "2.5")
    rng = random.Random(seed)
    rng.shuffle(data)
    cuts = sorted(rng.sample(range(1, len(data)), parts - 1)) if parts > 1 else []
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    tables = []
    for number, piece in enumerate(pieces):
        if number % 3 == 1:  # repeats inside the table: merged, one record per id
            piece = piece + [r.model_copy(update={"quantity": r.quantity + 1}) for r in piece[::4]]
            piece.append(piece[0].model_copy(update={"metric": "late", "unit": "late"}))
            tables.append(RecordTable.from_records(piece, unique=True))
        else:
            tables.append(RecordTable.from_records(piece))
    again = [r.model_copy(update={"quantity": r.quantity * 3}) for r in data[::5]]
    tables.append(RecordTable.from_records(again))  # ids stored before: the last value rules
    return tables


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32), parts=st.integers(1, 6), size=st.integers(1, 60))
def test_tables_of_every_shape_store_what_their_records_store(
    tmp_path: Path, seed: int, parts: int, size: int
) -> None:
    write_both(tmp_path, shaped(seed, parts), size)


@pytest.mark.parametrize("seed", [3, 1729])
def test_upserting_a_table_stores_what_upserting_its_records_stores(
    tmp_path: Path, seed: int
) -> None:
    merged = RecordTable()
    for table in shaped(seed, 4):
        merged.extend(table)  # one record per id, the last value of each
    for name, records in (("records", list(merged)), ("tables", merged)):
        with Store(tmp_path / f"{name}.sqlite") as store:
            assert store.upsert(records, batch_size=17) == len(merged)
    assert dump(tmp_path / "tables.sqlite") == dump(tmp_path / "records.sqlite")


def test_a_report_is_upserted_from_its_columns(tmp_path: Path) -> None:
    report = usagekit.UsageReport.from_records(openai_like(BASE + 5 * HOUR))
    assert isinstance(report.records, RecordTable)
    with Store(tmp_path / "usage.sqlite") as store:
        assert store.upsert(report.records) == len(report.records)
        assert sorted(r.id for r in store.records()) == sorted(r.id for r in report.records)


def test_a_group_whose_rows_are_not_in_one_run_is_stored_as_its_records(tmp_path: Path) -> None:
    data = openai_like(BASE + 3 * HOUR)
    table = RecordTable.from_records(data[:6], unique=True)
    table.extend(RecordTable.from_records(data[6:]))
    late = data[0].model_copy(update={"metric": "reasoning_tokens", "quantity": 7})
    table.extend(RecordTable.from_records([late]))  # a new measure of the first group, last
    with pytest.raises(ValueError, match="not in runs"):
        list(table.group_spans())
    extra = data[1].model_copy(update={"attributes": {"quantity": "3", "quantity_unit": "x"}})
    merged = RecordTable.from_records([data[0], extra, *data[2:]])
    assert merged.row_attributes()  # a row whose attributes differ from its group's
    write_both(tmp_path, [table, merged, RecordTable()], 4)


# ------------------------------------------------------------------ refusals and failures


def test_tables_of_another_provider_or_not_tables_are_config_errors(tmp_path: Path) -> None:
    with Store(tmp_path / "usage.sqlite") as store:
        session = store.begin_sync("basedash", NOW)
        tables = [RecordTable.from_records(openai_like(BASE + HOUR))]
        with pytest.raises(ConfigError, match="records of 'basedash' expected"):
            session._write_tables(tables, batch_size=5)
        with pytest.raises(ConfigError, match="record tables expected, got UsageRecord"):
            session._write_tables(openai_like(BASE + HOUR), batch_size=5)
        assert store.count() == 0 and session.written == 0


def test_a_full_disk_on_the_columnar_path_keeps_the_earlier_batches(
    sb: Sandbox, tmp_path: Path
) -> None:
    path, whole = tmp_path / "usage.sqlite", tmp_path / "whole.sqlite"
    count = "PRAGMA page_count"
    with Store(whole) as store, sb.openai_client() as client, usagekit.pin_clock(NOW):
        empty = store._conn.execute(count).fetchone()[0]
        assert sync(store, [client], since=SINCE, now=NOW).ok
        needed = store._conn.execute(count).fetchone()[0] - empty
    with Store(path) as store, sb.openai_client() as client, usagekit.pin_clock(NOW):
        pages = store._conn.execute(count).fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages + needed // 2}")  # nearly full
        result = sync(store, [client], since=SINCE, now=NOW, batch_size=50)
        (failure,) = result.failures
        assert isinstance(failure.exception, StoreError) and failure.exception.reason == "full"
        kept = store.count()
        assert 0 < kept == failure.written and kept % 50 == 0  # whole batches
        store._conn.execute("PRAGMA max_page_count = 1000000")
        assert sync(store, [client], now=NOW).ok  # resumes where the failed run started
    assert rows(str(path)) == rows(str(whole))


def test_a_read_only_store_is_refused_before_the_columnar_fetch(
    sb: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "usage.sqlite"
    Store(path).close()
    sb.reset_stats()
    with (
        Store(path, read_only=True) as store,
        sb.openai_client() as client,
        pytest.raises(StoreError, match="read-only") as caught,
    ):
        sync(store, [client], since=SINCE)
    assert caught.value.reason == "read_only"
    assert sum(sb.stats.requests.values()) == 0


def test_a_record_of_a_session_seen_twice_is_looked_up_again_after_its_series_settled(
    tmp_path: Path,
) -> None:
    """Two writes of one session naming the same new series, the first ending in a part
    batch: the second must use the series' stored id (it once named the provisional one)."""
    data = openai_like(BASE + 3 * HOUR)
    for name in ("records", "tables"):
        with Store(tmp_path / f"{name}.sqlite") as store:
            session = store.begin_sync("openai", NOW)
            for part in (data[:3], data[3:]):
                if name == "tables":
                    session._write_tables([RecordTable.from_records(part)], batch_size=5)
                else:
                    session.write_stream(part, batch_size=5)
            session.commit()
            assert store.count() == len(data)
    assert dump(tmp_path / "tables.sqlite") == dump(tmp_path / "records.sqlite")


def test_a_decimal_quantity_is_stored_as_its_text(tmp_path: Path) -> None:
    record = UsageRecord(
        provider="openai",
        source="costs",
        start=BASE,
        end=BASE + HOUR,
        metric="cost",
        unit="USD",
        quantity=Decimal("5.000"),
    )
    with Store(tmp_path / "usage.sqlite") as store:
        session = store.begin_sync("openai", NOW)
        session._write_tables([RecordTable.from_records([record])], batch_size=1)
        session.commit()
        (stored,) = store.records()
    assert str(stored.quantity) == "5.000" and stored.id == record.id
