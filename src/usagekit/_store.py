"""An embedded record store on SQLite: usage history kept in one file.

One table holds the records keyed by record id, so writing the same fact twice keeps one row and
a corrected quantity replaces the old one. Quantities are stored as TEXT (exact to the
``Decimal``), times as integer microseconds since the epoch, UTC. A second pair of tables keeps
snapshots: every fetch of a current-period provider (Basedash, Unsiloed report only the current
billing period) with its fetch time, so a period's history can be read back and charted.

The database runs in WAL mode with a busy timeout, and every write is a ``BEGIN IMMEDIATE``
transaction, so several processes (two cron jobs, a sync and a report) can use one file at once.
A :class:`Store` object itself belongs to one thread; open one per thread.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import TracebackType
from typing import Any

from ._errors import ConfigError
from ._records import DIMENSIONS, UsageRecord
from ._time import TimeLike, as_utc, resolve_window

__all__ = ["DEFAULT_BATCH_SIZE", "FILTERS", "SCHEMA_VERSION", "Snapshot", "Store"]

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

SCHEMA_VERSION = 1
"""The schema this version writes; a file with a newer one is refused."""

DEFAULT_BATCH_SIZE = 2000
"""Records written per transaction."""

FILTERS: tuple[str, ...] = ("provider", "source", "metric", "unit", "kind", *DIMENSIONS)
"""The keyword filters :meth:`Store.records` accepts."""

_RECORD_COLUMNS = (
    "id",
    "provider",
    "source",
    "start_us",
    "end_us",
    "metric",
    "quantity",
    "unit",
    "kind",
    *DIMENSIONS,
    "attributes",
)
_COLUMN_LIST = ", ".join(_RECORD_COLUMNS)
_PLACEHOLDERS = ", ".join("?" for _ in _RECORD_COLUMNS)
_FIELDS = tuple(name.removesuffix("_us") for name in _RECORD_COLUMNS)
"""The :class:`UsageRecord` field of each column, in column order."""
_DIMENSION_DDL = "".join(f"    {name} TEXT,\n" for name in DIMENSIONS)
_RECORD_DDL = f"""    provider TEXT NOT NULL,
    source TEXT NOT NULL,
    start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL,
    metric TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
{_DIMENSION_DDL}    attributes TEXT NOT NULL,"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS records (
    id TEXT NOT NULL UNIQUE,
{_RECORD_DDL}
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
{_RECORD_DDL}
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

# The newest fetch wins: a row written by a sync run is not overwritten by a run that started
# before it (two syncs at once), so its run id always names the newest run that wrote it.
_UPSERT = (
    f"INSERT INTO records ({_COLUMN_LIST}, run_id) VALUES ({_PLACEHOLDERS}, ?) "
    "ON CONFLICT (id) DO UPDATE SET quantity = excluded.quantity, "
    "attributes = excluded.attributes, run_id = excluded.run_id "
    "WHERE excluded.run_id IS NULL OR run_id IS NULL OR excluded.run_id >= run_id"
)
_SNAPSHOT_INSERT = (
    f"INSERT OR REPLACE INTO snapshot_records (snapshot_id, {_COLUMN_LIST}) "
    f"VALUES (?, {_PLACEHOLDERS})"
)

Row = tuple[Any, ...]


def to_micros(moment: datetime) -> int:
    """Return integer microseconds since the epoch for an aware datetime."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """Return the aware UTC datetime of integer microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=value)


def _encode(record: UsageRecord) -> Row:
    return (
        record.id,
        record.provider,
        record.source,
        to_micros(record.start),
        to_micros(record.end),
        record.metric,
        str(record.quantity),
        record.unit,
        record.kind,
        *record.dimensions(),
        json.dumps(record.attributes, sort_keys=True, separators=(",", ":"))
        if record.attributes
        else "{}",
    )


def _decode(row: Row) -> UsageRecord:
    # The id was computed by UsageRecord when the row was written; it is taken as stored
    # rather than hashed again (reading is the hot path of every report on the store).
    fields = dict(zip(_FIELDS, row, strict=True))
    fields["start"] = from_micros(fields["start"])
    fields["end"] = from_micros(fields["end"])
    fields["quantity"] = Decimal(fields["quantity"])
    attributes = fields["attributes"]
    fields["attributes"] = json.loads(attributes) if attributes != "{}" else {}
    return UsageRecord.model_construct(**fields)


def _batches(records: Iterable[object], size: int) -> Iterator[list[UsageRecord]]:
    batch: list[UsageRecord] = []
    for record in records:
        if not isinstance(record, UsageRecord):
            raise ConfigError(f"records must be UsageRecord objects, got {type(record).__name__}")
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _batch_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class Snapshot:
    """One kept fetch of a current-period provider.

    Attributes:
        snapshot_id: The snapshot's id in the store, increasing with each snapshot added.
        provider: The provider fetched.
        fetched_at: When the fetch was made (aware UTC).
        records: The records the fetch returned, by start then id.
    """

    snapshot_id: int
    provider: str
    fetched_at: datetime
    records: tuple[UsageRecord, ...]


@dataclass(frozen=True)
class _SyncPlan:
    """What :meth:`Store._begin_sync` decided: the run id and where to fetch from."""

    run_id: int
    start: datetime | None


class Store:
    """Usage records (and snapshots of current-period fetches) in one SQLite file.

    Example:
        ```python
        with usagekit.Store("usage.sqlite") as store:
            store.upsert(client.records(start="2026-11-01"))
            for record in store.records(start="2026-11-01", provider="openai", model="gpt-4o"):
                ...
        ```

    Args:
        path: The database file (created if missing), or ``":memory:"``.
        timeout: Seconds to wait for another writer's lock before giving up.

    Raises:
        ConfigError: The file is not a SQLite database, or was written by a newer usagekit.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout < 0
        ):
            raise ConfigError(f"timeout must be a non-negative number of seconds, got {timeout!r}")
        try:
            self.path = os.fspath(path)
        except TypeError:
            raise ConfigError(f"path must be a file path, got {type(path).__name__}") from None
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open the store {self.path!r}: {exc}") from None
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL never corrupts and loses nothing when the process dies; only
            # an OS crash or power cut may roll back the last commits (a sync then re-fetches).
            self._conn.execute("PRAGMA synchronous = NORMAL")
            with self._write():
                version = self._conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ConfigError(
                        f"the store {self.path!r} has schema version {version}, newer than this "
                        f"usagekit's {SCHEMA_VERSION}; upgrade usagekit"
                    )
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.OperationalError:
            # A lock held past the timeout, a read-only file: conditions, not configuration.
            self._conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ConfigError(f"{self.path!r} is not a usable usagekit store: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    # ----------------------------------------------------------------------------------------
    # Lifecycle

    def close(self) -> None:
        """Close the connection; the store can't be used afterwards."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.path!r})"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one ``BEGIN IMMEDIATE`` transaction: all of it or none of it."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # ----------------------------------------------------------------------------------------
    # Records

    def upsert(
        self, records: Iterable[UsageRecord], *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> int:
        """Write records, keyed by id: a new id is inserted, a known one gets the new quantity.

        Records are streamed in batches of ``batch_size``, each its own transaction: memory
        stays bounded whatever the input's size, and a failure keeps every batch before it.

        Args:
            records: The records (any iterable, consumed once).
            batch_size: Records per transaction.

        Returns:
            How many records were written (inserted or replaced).

        Raises:
            ConfigError: An item is not a :class:`~usagekit.UsageRecord`, or a bad batch size.
        """
        size = _batch_size(batch_size)
        written = 0
        for batch in _batches(records, size):
            self._write_batch(batch)
            written += len(batch)
        return written

    def _write_batch(
        self,
        batch: Sequence[UsageRecord],
        *,
        provider: str | None = None,
        snapshot_id: int | None = None,
        upsert: bool = True,
        run_id: int | None = None,
    ) -> None:
        """Write one batch in one transaction: upserted, and/or kept in a snapshot.

        ``run_id`` marks the upserted rows as written by that sync run.

        Raises:
            ConfigError: ``provider`` is given and a record is of another provider.
        """
        if provider is not None:
            for record in batch:
                if record.provider != provider:
                    raise ConfigError(
                        f"records of {provider!r} expected, got one of {record.provider!r}"
                    )
        rows = [_encode(record) for record in batch]
        with self._write() as conn:
            if snapshot_id is not None:
                conn.executemany(_SNAPSHOT_INSERT, [(snapshot_id, *row) for row in rows])
            if upsert:
                conn.executemany(_UPSERT, [(*row, run_id) for row in rows])

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        **filters: str | Sequence[str] | None,
    ) -> Iterator[UsageRecord]:
        """Yield stored records overlapping ``[start, end)``, by start then id, lazily.

        Args:
            start: Window start; records ending at or before it are left out.
            end: Window end (exclusive); records starting at or after it are left out.
            **filters: Field equality filters, any of :data:`FILTERS` (``provider="openai"``,
                ``model="gpt-4o"``); a list or tuple matches any of its values, None matches a
                missing dimension.

        Returns:
            An iterator of the records exactly as written, quantities to the last digit; rows
            are read as it is consumed, so any number of records fits in memory.

        Raises:
            ConfigError: A bad window or an unknown filter (at once, before any read).
        """
        where, params = _where(start, end, filters)
        return self._stream(
            f"SELECT {_COLUMN_LIST} FROM records{where} ORDER BY start_us, id", params
        )

    def _stream(self, query: str, params: Sequence[Any]) -> Iterator[UsageRecord]:
        cursor = self._conn.execute(query, params)
        try:
            for row in cursor:
                yield _decode(row)
        finally:
            cursor.close()

    def count(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        **filters: str | Sequence[str] | None,
    ) -> int:
        """Return how many stored records :meth:`records` would yield for the same arguments."""
        where, params = _where(start, end, filters)
        row = self._conn.execute(f"SELECT COUNT(*) FROM records{where}", params).fetchone()
        return int(row[0])

    # ----------------------------------------------------------------------------------------
    # Snapshots

    def add_snapshot(
        self,
        provider: str,
        fetched_at: TimeLike,
        records: Iterable[UsageRecord],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> int:
        """Keep one fetch of a provider with its fetch time.

        The snapshot becomes visible to :meth:`snapshots` only once all its records are
        written; if writing fails, nothing of it is kept. The records are not added to the
        records table (:func:`usagekit.sync` does both).

        Args:
            provider: The provider fetched; every record must be of it.
            fetched_at: When the fetch was made.
            records: The records the fetch returned.
            batch_size: Records per transaction.

        Returns:
            The snapshot's id.

        Raises:
            ConfigError: A bad argument, or a record of another provider.
        """
        name = _text(provider, "provider")
        size = _batch_size(batch_size)
        snapshot_id = self._open_snapshot(name, fetched_at)
        try:
            for batch in _batches(records, size):
                self._write_batch(batch, provider=name, snapshot_id=snapshot_id, upsert=False)
            self._close_snapshot(snapshot_id)
        except BaseException:
            self._drop_snapshot(snapshot_id)
            raise
        return snapshot_id

    def snapshots(
        self,
        provider: str | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> Iterator[Snapshot]:
        """Yield the kept snapshots fetched in ``[start, end)``, oldest first.

        Args:
            provider: Only this provider's snapshots; None for all.
            start: Earliest fetch time (inclusive).
            end: Latest fetch time (exclusive).

        Yields:
            Each complete snapshot with its records.
        """
        clauses = ["complete = 1"]
        params: list[Any] = []
        if provider is not None:
            clauses.append("provider = ?")
            params.append(_text(provider, "provider"))
        if start is not None:
            clauses.append("fetched_at_us >= ?")
            params.append(to_micros(as_utc(start, name="start")))
        if end is not None:
            clauses.append("fetched_at_us < ?")
            params.append(to_micros(as_utc(end, name="end")))
        heads = self._conn.execute(
            "SELECT snapshot_id, provider, fetched_at_us FROM snapshots WHERE "
            + " AND ".join(clauses)
            + " ORDER BY fetched_at_us, snapshot_id",
            params,
        ).fetchall()
        for snapshot_id, snapshot_provider, fetched_at_us in heads:
            rows = self._conn.execute(
                f"SELECT {_COLUMN_LIST} FROM snapshot_records WHERE snapshot_id = ? "
                "ORDER BY start_us, id",
                (snapshot_id,),
            ).fetchall()
            yield Snapshot(
                snapshot_id=snapshot_id,
                provider=snapshot_provider,
                fetched_at=from_micros(fetched_at_us),
                records=tuple(_decode(row) for row in rows),
            )

    def _open_snapshot(self, provider: str, fetched_at: TimeLike) -> int:
        """Start an (invisible until closed) snapshot and return its id."""
        moment = to_micros(as_utc(fetched_at, name="fetched_at"))
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO snapshots (provider, fetched_at_us) VALUES (?, ?)", (provider, moment)
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _close_snapshot(self, snapshot_id: int) -> None:
        with self._write() as conn:
            _close_snapshot(conn, snapshot_id)

    def _drop_snapshot(self, snapshot_id: int) -> None:
        with self._write() as conn:
            _drop_snapshot(conn, snapshot_id)

    # ----------------------------------------------------------------------------------------
    # Sync bookkeeping (used by usagekit.sync)

    def _begin_sync(self, provider: str, since: datetime | None, started_at: datetime) -> _SyncPlan:
        """Decide where a provider's fetch starts and record the run as unfinished.

        The watermark: per source of the provider, the start of its latest stored bucket, which
        may have been partial when fetched and so is fetched again; the fetch starts at the
        earliest of these. Knowing the last finished run (which fetched ``[F, T)``) sharpens
        it: every bucket of a source still open at ``T`` is fetched again (from the earliest
        of them); a source whose buckets had all closed by ``T`` was fetched complete, so only
        what follows its latest bucket is new; a source with no data after ``F`` is idle and
        left out (else one source used once, long ago, would drag every fetch back to it).
        With no source left, the fetch starts at ``F`` again. If the last run did not finish
        (a crash, a failure), the fetch starts no later than that run did, so whatever it
        missed is fetched. ``since`` moves the start earlier, never later.
        """
        with self._write() as conn:
            last_run = conn.execute(
                "SELECT fetch_start_us, finished FROM sync_runs WHERE provider = ? "
                "ORDER BY run_id DESC LIMIT 1",
                (provider,),
            ).fetchone()
            finished_run = conn.execute(
                "SELECT fetch_start_us, started_at_us FROM sync_runs "
                "WHERE provider = ? AND finished = 1 ORDER BY run_id DESC LIMIT 1",
                (provider,),
            ).fetchone()
            fetched_at = None if finished_run is None else finished_run[1]
            sources = conn.execute(
                "SELECT MAX(start_us), MAX(end_us), "
                "MIN(CASE WHEN end_us >= ? THEN start_us END) "
                "FROM records WHERE provider = ? GROUP BY source",
                (fetched_at, provider),
            ).fetchall()
            start = _watermark(sources, finished_run)
            if last_run is not None and not last_run[1]:
                interrupted = last_run[0]
                if interrupted is None:
                    start = None
                else:
                    start = interrupted if start is None else min(start, interrupted)
            if since is not None:
                since_us = to_micros(since)
                start = since_us if start is None else min(start, since_us)
            cursor = conn.execute(
                "INSERT INTO sync_runs (provider, fetch_start_us, started_at_us) VALUES (?, ?, ?)",
                (provider, start, to_micros(started_at)),
            )
        assert cursor.lastrowid is not None
        return _SyncPlan(cursor.lastrowid, None if start is None else from_micros(start))

    def _finish_sync(
        self,
        run_id: int,
        *,
        provider: str,
        superseded: Mapping[str, datetime],
        snapshot_id: int | None,
    ) -> int:
        """Mark a run finished, in one transaction with its clean-up.

        A completed fetch is the provider's whole truth for the window it covered: per source
        in ``superseded``, rows starting at or after the given moment that this run did not
        write, and that no later-started run wrote, are stale (a partial bucket whose end moved,
        a group that disappeared) and are deleted. Rows of other sources are left alone.

        Returns:
            How many stale rows were deleted.
        """
        removed = 0
        with self._write() as conn:
            for source, since in superseded.items():
                cursor = conn.execute(
                    "DELETE FROM records WHERE provider = ? AND source = ? AND start_us >= ? "
                    "AND (run_id IS NULL OR run_id < ?)",
                    (provider, source, to_micros(since), run_id),
                )
                removed += max(cursor.rowcount, 0)
            if snapshot_id is not None:
                _close_snapshot(conn, snapshot_id)
            conn.execute("UPDATE sync_runs SET finished = 1 WHERE run_id = ?", (run_id,))
        return removed

    def _fail_sync(self, run_id: int, error: str, snapshot_id: int | None) -> None:
        """Record a run's failure (it stays unfinished) and drop its partial snapshot."""
        with self._write() as conn:
            if snapshot_id is not None:
                _drop_snapshot(conn, snapshot_id)
            conn.execute("UPDATE sync_runs SET error = ? WHERE run_id = ?", (error, run_id))


def _watermark(
    sources: Sequence[tuple[int, int, int | None]], finished_run: tuple[int | None, int] | None
) -> int | None:
    """Return where the next fetch starts (see :meth:`Store._begin_sync`), in microseconds.

    Args:
        sources: Per source, the latest stored bucket start and end, and the earliest start of
            the buckets not closed before the last finished run's fetch time (None: none; a
            bucket ending exactly then counts as open, for a client that clips the last
            bucket at the fetch time).
        finished_run: The last finished run's fetch start (None: from the beginning) and
            fetch time, or None when no run has finished.
    """
    if finished_run is None:
        return min((latest_start for latest_start, _, _ in sources), default=None)
    fetch_start = finished_run[0]
    candidates = []
    for latest_start, latest_end, open_start in sources:
        if open_start is not None:  # still open when fetched: fetch it again
            candidates.append(min(open_start, latest_start))
        elif fetch_start is None or latest_end > fetch_start:  # fetched closed: what follows
            candidates.append(latest_end)
    return min(candidates) if candidates else fetch_start


def _close_snapshot(conn: sqlite3.Connection, snapshot_id: int) -> None:
    conn.execute("UPDATE snapshots SET complete = 1 WHERE snapshot_id = ?", (snapshot_id,))


def _drop_snapshot(conn: sqlite3.Connection, snapshot_id: int) -> None:
    conn.execute("DELETE FROM snapshot_records WHERE snapshot_id = ?", (snapshot_id,))
    conn.execute("DELETE FROM snapshots WHERE snapshot_id = ?", (snapshot_id,))


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _where(
    start: TimeLike | None, end: TimeLike | None, filters: dict[str, str | Sequence[str] | None]
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if start is None:
        start_dt, end_dt = None, None if end is None else as_utc(end, name="end")
    else:
        window = resolve_window(start, end)
        start_dt, end_dt = window.start, window.end
    if start_dt is not None:
        clauses.append("end_us > ?")
        params.append(to_micros(start_dt))
    if end_dt is not None:
        clauses.append("start_us < ?")
        params.append(to_micros(end_dt))
    for name, value in filters.items():
        if name not in FILTERS:
            raise ConfigError(f"unknown filter {name!r}; filters are {', '.join(FILTERS)}")
        if value is None:
            clauses.append(f"{name} IS NULL")
        elif isinstance(value, str):
            clauses.append(f"{name} = ?")
            params.append(value)
        elif isinstance(value, (list, tuple, set, frozenset)) and all(
            isinstance(item, str) for item in value
        ):
            if not value:
                clauses.append("0")
            else:
                clauses.append(f"{name} IN ({', '.join('?' for _ in value)})")
                params.extend(value)
        else:
            raise ConfigError(
                f"filter {name} must be a string, None or a list of strings, got {value!r}"
            )
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
