"""An embedded record store on SQLite: usage history kept in one file.

One table holds the records keyed by record id (with its start first, so rows lie in time
order), so writing the same fact twice keeps one row and a corrected quantity replaces the old
one; what the records of one series share is stored once, in a second table. Quantities are
stored as TEXT (exact to the ``Decimal``), times as integer microseconds since the epoch, UTC,
ids as their 24 bytes. Records are written in large transactions (20,000 by default), encoded
as they stream in (memory holds one batch's rows). A second pair of tables keeps
snapshots: every fetch of a current-period provider (Basedash, Unsiloed report only the current
billing period) with its fetch time, so a period's history can be read back and charted.

The database runs in WAL mode with a busy timeout, and every write is a ``BEGIN IMMEDIATE``
transaction, so several processes (two cron jobs, a sync and a report) can use one file at once.
A :class:`Store` object itself belongs to one thread; open one per thread. (A sync of a columnar
client lends the connection to its writer thread for the length of the fetch, see
:class:`~._writer.BatchWriter`, and takes it back before it returns: the connection is opened
for use from any thread, and used from one at a time.)

A new store is built under a temporary name beside its path and linked into place complete, so
a file at the path is always a whole store (never a half-initialised one another process could
trip over). An existing file is used only if it is a usagekit store (or an empty SQLite
database); anything else (a zero-byte file, a damaged file, another application's database) is
refused with a :class:`~usagekit.StoreError`. Without write access to the file or its directory
the store opens read-only: reading works, writing raises. Every SQLite failure is a
:class:`~usagekit.StoreError` whose message says what to do.

The parts: ``_schema`` (the tables, what a store file is), ``_files`` (opening and creating the
file), ``_rows`` (the row codec both ways), ``_columns`` (the same rows
encoded from record tables' columns), ``_series`` (the shared part of a series' rows),
``_query`` (filters, bounded reads), ``_session`` (a sync run, :class:`SyncSession`),
``_batch`` (a transaction's rows as columns, the write statements), ``_writer`` (a sync's
writer thread),
``_legacy`` and ``_migrate`` (stores of schema 1: read, migrated) and ``_errors`` (SQLite
failures as StoreError).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._core.clock import TimeLike, as_utc, resolve_window
from .._core.errors import ConfigError, StoreError
from .._core.records import UsageRecord
from .._core.table import RecordTable
from ._batch import ROW_COLUMNS, Batch, write_batch
from ._columns import table_batches
from ._errors import store_error
from ._files import open_store
from ._legacy import LEGACY_COLUMN_LIST, decode_legacy
from ._query import FILTERS, bucket_lengths, check_text, in_series, provider_spans, where_clause
from ._rows import (
    DEFAULT_BATCH_SIZE,
    Row,
    RowEncoder,
    check_batch_size,
    decode_rows,
    from_micros,
)
from ._schema import SCHEMA_VERSION
from ._series import SeriesCache, SeriesInfo, SeriesPlan
from ._session import (
    Snapshot,
    SyncSession,
    close_snapshot,
    drop_snapshot,
    insert_snapshot,
    plan_run,
    read_snapshots,
)
from ._writer import BatchWriter, check_thread, checked_rows, write_batches

if TYPE_CHECKING:
    from .._report import UsageReport

__all__ = ["DEFAULT_BATCH_SIZE", "FILTERS", "SCHEMA_VERSION", "Snapshot", "Store", "SyncSession"]


class Store:
    """Usage records (and snapshots of current-period fetches) in one SQLite file.

    Example:
        ```python
        with usagekit.Store("usage.sqlite") as store:
            store.upsert(client.records(start="2026-11-01"))
            for record in store.records(start="2026-11-01", provider="openai", model="gpt-4o"):
                ...
        ```

    A missing file is created, complete, under a temporary name beside it and then linked into
    place. An existing file must be a usagekit store (or an empty SQLite database, which is
    initialised); a zero-byte file, a damaged file or another application's database is
    refused, never taken over. Without write access to the file or its directory the store
    opens read-only (``read_only=None``): reading works, writing raises
    :class:`~usagekit.StoreError`. A store belongs to the thread that opened it: every method
    raises :class:`~usagekit.ConfigError` on another thread (open one per thread).

    Args:
        path: The database file (created if missing, unless ``read_only``), or ``":memory:"``.
        timeout: Seconds to wait for another writer's lock before giving up.
        read_only: True to open for reading only (the file must exist; nothing is ever
            written, even with write access); False to require write access; None (default)
            for read-write when the file and its directory are writable, else read-only.

    Raises:
        ConfigError: A bad argument (a timeout that is not a non-negative number, a path that
            is not a path).
        StoreError: The file cannot be used as a store; ``reason`` says why (``"empty_file"``,
            ``"not_a_store"``, ``"damaged"``, ``"newer_schema"``, ``"missing"``,
            ``"read_only"``, ``"locked"``, ``"cannot_open"``, ...) and the message what to do.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        read_only: bool | None = None,
    ) -> None:
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout < 0
        ):
            raise ConfigError(f"timeout must be a non-negative number of seconds, got {timeout!r}")
        if read_only is not None and not isinstance(read_only, bool):
            raise ConfigError(f"read_only must be True, False or None, got {read_only!r}")
        try:
            self.path = os.fspath(path)
        except TypeError:
            raise ConfigError(f"path must be a file path, got {type(path).__name__}") from None
        if not isinstance(self.path, str):
            raise ConfigError(f"path must be a str path, got {type(self.path).__name__}")
        self._timeout = float(timeout)
        self._closed = False
        opened = open_store(self.path, timeout=self._timeout, read_only=read_only)
        self._conn, self._read_only = opened.conn, opened.read_only
        self._legacy = opened.version < SCHEMA_VERSION  # an older usagekit's, read-only
        self._series = SeriesCache()
        self._writer: BatchWriter[Any] | None = None  # while a sync's writer thread owns it
        self._owner = threading.current_thread()  # the thread it belongs to (check_thread)

    # ----------------------------------------------------------------------------------------
    # Lifecycle

    @property
    def read_only(self) -> bool:
        """Whether the store was opened for reading only (writing then raises StoreError)."""
        return self._read_only

    def close(self) -> None:
        """Close the connection; the store can't be used afterwards.

        Raises:
            ConfigError: Called from a thread the store does not belong to.
            StoreError: SQLite failed to close the file.
        """
        self._check_thread()
        self._closed = True
        try:
            self._conn.close()
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "close") from None

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
        return (
            f"Store({self.path!r}, read_only=True)" if self._read_only else f"Store({self.path!r})"
        )

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn a SQLite failure while reading into a StoreError."""
        self._check_thread()
        try:
            yield
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "read") from None

    def _layout(self) -> bool:
        """Whether the file holds an older usagekit's tables (read-only, read as they are);
        checked again before each read of such a file, which a writer may migrate meanwhile."""
        if self._legacy:
            with self._reading():
                version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
            self._legacy = version < SCHEMA_VERSION
        return self._legacy

    def _series_of(self, series_id: int) -> SeriesInfo:
        return self._series.info(self._conn, series_id, self._check_thread)

    def _check_thread(self) -> None:
        check_thread(self.path, self._owner, self._writer)

    def _check_writable(self) -> None:
        """Raise StoreError at once when the store is closed or open read-only."""
        self._check_thread()
        if self._closed:
            raise StoreError(
                f"the store {self.path!r} is closed; open a new Store",
                path=self.path,
                reason="closed",
            )
        if self._read_only:
            raise StoreError(
                f"cannot write to the store {self.path!r}: it is open read-only (no write "
                "access to the file or its directory, or read_only=True); writing needs write "
                "access to both",
                path=self.path,
                reason="read_only",
            )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one ``BEGIN IMMEDIATE`` transaction: all of it or none of it.

        Raises:
            StoreError: The store is read-only, or SQLite failed (the transaction is rolled
                back).
        """
        self._check_writable()
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "write to") from None

    # ----------------------------------------------------------------------------------------
    # Records

    def upsert(
        self, records: Iterable[UsageRecord], *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> int:
        """Write records, keyed by id: a new id is inserted, a known one gets the new quantity.

        Records are streamed in batches of ``batch_size``, each its own transaction: memory
        stays bounded whatever the input's size, and a failure keeps every batch before it.
        A report's records (``report.records``) are written from their columns, without
        building a record each: the same rows.

        Args:
            records: The records (any iterable, consumed once).
            batch_size: Records per transaction.

        Returns:
            How many records were written (inserted or replaced).

        Raises:
            ConfigError: An item is not a :class:`~usagekit.UsageRecord`, or a bad batch size.
            StoreError: The store is read-only, locked past the timeout, full or damaged (the
                failed batch is rolled back; the batches before it are kept).
        """
        size = check_batch_size(batch_size)
        encoder = RowEncoder(self._writing_series())
        if isinstance(records, RecordTable):  # a report's records: encoded from the columns
            return self._write_batches(table_batches(encoder, (records,), size), encoder)
        return self._write_batches(encoder.batches(records, size), encoder)

    def _writing_series(self) -> SeriesCache:
        """The series cache, loaded, for a writer (raises StoreError when it cannot be)."""
        self._check_writable()
        with self._reading():
            self._series.load(self._conn)
        return self._series

    def _write_batches(
        self,
        batches: Iterable[Batch],
        encoder: RowEncoder,
        *,
        snapshot_id: int | None = None,
        upsert: bool = True,
        overlap: bool = False,
        committed: Callable[[int], None] | None = None,
    ) -> int:
        """Write each batch of an encoder's in a transaction of its own (see
        :func:`~._writer.write_batches`), kept in the snapshot ``snapshot_id`` and/or upserted,
        with ``overlap`` on a writer thread; ``committed`` is told each batch's row count.

        Returns:
            How many rows were written.

        Raises:
            ConfigError: What the encoding refuses (the batches before it are kept).
            StoreError: The store is read-only, or SQLite failed (the batch is rolled back;
                the batches before it are kept).
        """

        def write(batch: Batch, plan: SeriesPlan) -> None:
            with self._write() as conn:
                plan.apply(conn)
                batch.series = plan.resolve(batch.series)
                write_batch(conn, batch, snapshot_id, upsert=upsert)

        if overlap:
            self._check_writable()
        return write_batches(
            self._series,
            batches,
            encoder,
            write,
            interrupt=self._conn.interrupt if overlap else None,
            lend=self._lend,
            committed=committed,
        )

    def _lend(self, writer: BatchWriter[Any] | None) -> None:
        """Lend the connection to a writer thread (None: take it back)."""
        self._writer = writer

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
            StoreError: While iterating, SQLite failed to read (a damaged file, an I/O error).
        """
        legacy = self._layout()
        where, params = where_clause(start, end, filters, legacy=legacy)
        columns = LEGACY_COLUMN_LIST if legacy else ROW_COLUMNS
        query = f"SELECT {columns} FROM records{where} ORDER BY start_us, id"
        return self._stream(query, params, legacy=legacy)

    def _stream(self, query: str, params: Sequence[Any], *, legacy: bool) -> Iterator[UsageRecord]:
        with self._reading():
            cursor = self._conn.execute(query, params)
            try:  # the thread checked again before each read, wherever the caller resumes it
                yield from self._decoded(checked_rows(cursor, self._check_thread), legacy=legacy)
            finally:
                cursor.close()

    def _decoded(self, rows: Iterable[Row], *, legacy: bool) -> Iterator[UsageRecord]:
        """The records of rows read, a malformed row a StoreError."""
        try:
            if legacy:
                yield from decode_legacy(rows)
            else:
                yield from decode_rows(rows, self._series_of)
        except ConfigError:  # the thread check of the rows' reads (a ValueError too)
            raise
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            raise StoreError(
                f"the store {self.path!r} holds a row usagekit cannot read ({type(exc).__name__}"
                f": {exc}); another program changed it: restore it from a backup",
                path=self.path,
                reason="damaged",
            ) from None

    def count(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        **filters: str | Sequence[str] | None,
    ) -> int:
        """Return how many stored records :meth:`records` would yield for the same arguments.

        Raises:
            ConfigError: A bad window or an unknown filter.
            StoreError: SQLite failed to read.
        """
        where, params = where_clause(start, end, filters, legacy=self._layout())
        with self._reading():
            row = self._conn.execute(f"SELECT COUNT(*) FROM records{where}", params).fetchone()
        return int(row[0])

    def _holds(self, provider: str) -> bool:
        """Whether any record of the provider is stored."""
        with self._reading():
            found = self._conn.execute(
                f"SELECT 1 FROM records WHERE {in_series('provider = ?')} LIMIT 1", (provider,)
            ).fetchone()
        return found is not None

    def spans(self) -> dict[str, tuple[datetime, datetime]]:
        """What the store holds per provider: the earliest record start and latest record end.

        Returns:
            ``{provider: (start, end)}``, sorted by provider.

        Raises:
            StoreError: SQLite failed to read.
        """
        with self._reading():
            rows = provider_spans(self._conn, legacy=self._layout())
        return {str(p): (from_micros(int(a)), from_micros(int(b))) for p, a, b in rows}

    def report(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        allocate: bool = False,
        **filters: str | Sequence[str] | None,
    ) -> UsageReport:
        """The stored records of a window as a :class:`~usagekit.UsageReport`.

        Args:
            start: Window start; None for the first of this month, UTC.
            end: Window end (exclusive); None for now.
            allocate: Return the allocated report (see :meth:`usagekit.UsageReport.allocate`):
                each stored cost split exactly over the stored usage that explains it.
            **filters: As for :meth:`records`.

        Returns:
            The report, with one status per stored provider saying what its records cover.

        Raises:
            ConfigError: A bad window or an unknown filter.
            StoreError: SQLite failed to read.
        """
        from .._collect import coverage_status
        from .._core.clock import month_start, utcnow
        from .._core.coverage import span_text
        from .._report import UsageReport

        window = resolve_window(start, end, default_start=month_start())
        records = list(self.records(window.start, window.end, **filters))
        by_provider: dict[str, list[UsageRecord]] = {}
        for record in records:
            by_provider.setdefault(record.provider, []).append(record)
        wanted = filters.get("provider")
        chosen = None if wanted is None else {wanted} if isinstance(wanted, str) else set(wanted)
        statuses = []
        for provider, (first, last) in self.spans().items():  # every stored provider
            if chosen is not None and provider not in chosen:
                continue
            kept = by_provider.get(provider, [])
            status = coverage_status(provider, kept, window.start, window.end)
            if not kept:  # say what is stored instead, so that none is silently missing
                held = span_text(first, last)
                note = f"nothing stored in this window (the store holds {held})"
                status = dataclasses.replace(status, note=note)
            statuses.append(status)
        report = UsageReport.from_records(
            records, statuses=statuses, start=window.start, end=window.end, as_of=utcnow()
        )
        return report.allocate() if allocate else report

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
            StoreError: The store is read-only, locked past the timeout, full or damaged.
        """
        name = check_text(provider, "provider")
        size = check_batch_size(batch_size)
        encoder = RowEncoder(self._writing_series(), provider=name)
        snapshot_id = self._open_snapshot(name, fetched_at)
        try:
            batches = encoder.batches(records, size)
            self._write_batches(batches, encoder, snapshot_id=snapshot_id, upsert=False)
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

        Raises:
            StoreError: SQLite failed to read.
        """
        return read_snapshots(self, provider, start, end)

    def _open_snapshot(self, provider: str, fetched_at: TimeLike) -> int:
        """Start an (invisible until closed) snapshot and return its id."""
        moment = as_utc(fetched_at, name="fetched_at")
        with self._write() as conn:
            return insert_snapshot(conn, provider, moment)

    def _close_snapshot(self, snapshot_id: int) -> None:
        with self._write() as conn:
            close_snapshot(conn, snapshot_id)

    def _drop_snapshot(self, snapshot_id: int) -> None:
        with self._write() as conn:
            drop_snapshot(conn, snapshot_id)

    # ----------------------------------------------------------------------------------------
    # Sync runs

    def begin_sync(
        self, provider: str, started_at: TimeLike, *, since: TimeLike | None = None
    ) -> SyncSession:
        """Start a sync run of one provider: decide where its fetch starts, record it unfinished.

        What :func:`usagekit.sync` does per provider, for a caller driving a fetch itself.
        The fetch starts at the provider's watermark (see :func:`usagekit.sync`): the start of
        the latest stored bucket of each source, sharpened by the last finished run; no later
        than an unfinished previous run started; no later than ``since``; and moved back to the
        start of a stored bucket it falls inside.

        Args:
            provider: The provider to sync.
            started_at: The run's fetch time.
            since: Start no later than this.

        Returns:
            The session: write the fetched records with it, then commit it (or use it as a
            context manager, which records a failure).

        Raises:
            ConfigError: A bad argument.
            StoreError: The store is read-only, locked past the timeout, full or damaged.
        """
        name = check_text(provider, "provider")
        started = as_utc(started_at, name="started_at")
        since_dt = None if since is None else as_utc(since, name="since")
        with self._write() as conn:
            run_id, start = plan_run(conn, name, since_dt, started)
        return SyncSession(self, name, run_id, start)

    def _bucket_lengths(self, provider: str, *, sample: int = 500) -> dict[str, timedelta]:
        """Per source of the provider, the most common length of its latest stored buckets
        (see :meth:`SyncSession.bucket_lengths`)."""
        with self._reading():
            return bucket_lengths(self._conn, provider, sample=sample)
