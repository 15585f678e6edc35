"""A sync run in the store: where it starts, what it writes, how it ends (:class:`SyncSession`).

:func:`usagekit.sync` drives one session per provider through its public methods; the SQL of a
run (the ``sync_runs`` bookkeeping, the watermark, the clean-up of stale rows, the snapshot
rows) is all here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._core.clock import TimeLike, as_utc
from .._core.errors import ConfigError, StoreError
from .._core.records import UsageRecord
from ._batch import ROW_COLUMNS, Batch
from ._columns import table_batches
from ._legacy import LEGACY_COLUMN_LIST
from ._query import check_text, extent, in_series
from ._rows import RowEncoder, check_batch_size, from_micros, to_micros

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "Snapshot",
    "SyncSession",
    "close_snapshot",
    "drop_snapshot",
    "insert_snapshot",
    "plan_run",
    "read_snapshots",
]


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


class SyncSession:
    """One provider's sync run in a :class:`~usagekit.Store`, from its start to its end.

    Made by :meth:`Store.begin_sync`, which decided where the fetch starts and recorded the run
    as unfinished. Every :meth:`write` is its own transaction; :meth:`commit` finishes the run.
    As a context manager, leaving the block with an exception before :meth:`commit` records
    the failure (see :meth:`fail`) and lets the exception through. A run left unfinished, by a
    failure or a crash, makes the provider's next sync start no later than this one did.

    Attributes:
        provider: The provider synced.
        run_id: The run's id in the store.
        start: Where the fetch starts (None: the client's default window).
    """

    def __init__(self, store: Store, provider: str, run_id: int, start: datetime | None) -> None:
        self._store = store
        self.provider = provider
        self.run_id = run_id
        self.start = start
        self._snapshot_id: int | None = None
        self._written = 0
        self._encoder: RowEncoder | None = None
        self._ended = False

    @property
    def snapshot_id(self) -> int | None:
        """The snapshot this run keeps (see :meth:`open_snapshot`), else None."""
        return self._snapshot_id

    @property
    def written(self) -> int:
        """Records written so far by :meth:`write`."""
        return self._written

    def bucket_lengths(self, *, sample: int = 500) -> dict[str, timedelta]:
        """Per source of the provider, the most common length of its latest stored buckets.

        A client whose bucket width depends on the request fetches in these lengths (see
        :class:`usagekit.SyncClient`), so that a re-fetch replaces the stored buckets.

        Args:
            sample: How many of each source's latest buckets to count.

        Returns:
            ``{source: length}``; empty when nothing of the provider is stored.

        Raises:
            StoreError: SQLite failed to read.
        """
        return self._store._bucket_lengths(self.provider, sample=sample)

    def open_snapshot(self, fetched_at: TimeLike) -> int:
        """Keep what this run writes as a snapshot too, visible once the run is committed.

        Args:
            fetched_at: The fetch time the snapshot records.

        Returns:
            The snapshot's id.

        Raises:
            ConfigError: The session has ended, already has a snapshot, or a bad time.
            StoreError: The store is read-only, locked past the timeout, full or damaged.
        """
        self._check_open()
        if self._snapshot_id is not None:
            raise ConfigError(f"the {self.provider} sync session already keeps a snapshot")
        self._snapshot_id = self._store._open_snapshot(self.provider, fetched_at)
        return self._snapshot_id

    def write(self, batch: Sequence[UsageRecord]) -> None:
        """Write one batch in one transaction: upserted as this run's, and into its snapshot.

        What the batch covers (per source, its earliest start) is remembered for
        :meth:`commit`.

        Args:
            batch: Records of the session's provider.

        Raises:
            ConfigError: The session has ended, or a record is of another provider.
            StoreError: The store is read-only, locked past the timeout, full or damaged (the
                batch is rolled back; the batches before it are kept).
        """
        self.write_stream(batch, batch_size=max(len(batch), 1))

    def write_stream(self, records: Iterable[UsageRecord], *, batch_size: int) -> None:
        """Write a stream of records, each ``batch_size`` of them one transaction, as
        :meth:`write` does each batch; :attr:`written` counts the committed ones.

        Args:
            records: Records of the session's provider (any iterable, consumed once).
            batch_size: Records per transaction.

        Raises:
            ConfigError: The session has ended, a bad batch size, or a record is of another
                provider (nothing of its batch is written).
            StoreError: The store is read-only, locked past the timeout, full or damaged (the
                batch is rolled back; the batches before it are kept).
        """
        encoder = self._encoding()
        size = check_batch_size(batch_size)
        self._write_all(encoder.batches(records, size), encoder)

    def _write_tables(
        self, tables: Iterable[object], *, batch_size: int, overlap: bool = True
    ) -> None:
        """:meth:`write_stream` for the records of a stream of record tables (usagekit's own
        OpenAI clients' pages, see :func:`usagekit.sync`), encoded from their columns: the
        same rows in the same transactions as :meth:`write_stream` of their records.

        The stream is taken and encoded on this thread while a writer thread writes the
        batches (see :class:`~._writer.BatchWriter`): the fetch of the next pages overlaps
        SQLite's work. The stream must not use this session's store meanwhile (usagekit's
        clients never do).

        Args:
            tables: :class:`~usagekit._core.table.RecordTable` objects of the session's
                provider (any iterable, consumed once).
            batch_size: Records per transaction.
            overlap: Write on the writer thread; False: one batch after the other on this
                thread (the same transactions).

        Raises:
            ConfigError: The session has ended, a bad batch size, an item that is not a
                table, or records of another provider (nothing of their batch is written).
            StoreError: As :meth:`write_stream`.
        """
        encoder = self._encoding()
        size = check_batch_size(batch_size)
        self._write_all(table_batches(encoder, tables, size), encoder, overlap=overlap)

    def _encoding(self) -> RowEncoder:
        """The session's encoder (made on first use), once the session is checked open."""
        self._check_open()
        if self._encoder is None:
            self._encoder = RowEncoder(
                self._store._writing_series(), provider=self.provider, run_id=self.run_id
            )
        return self._encoder

    def _write_all(
        self, batches: Iterable[Batch], encoder: RowEncoder, *, overlap: bool = False
    ) -> None:
        self._store._write_batches(
            batches,
            encoder,
            snapshot_id=self._snapshot_id,
            overlap=overlap,
            committed=self._count,
        )

    def _count(self, written: int) -> None:
        self._written += written

    def commit(self, *, supersede: bool = True) -> int:
        """Finish the run, in one transaction with its clean-up and its snapshot's closing.

        A completed fetch is the provider's whole truth for the window it covered: with
        ``supersede``, per source written, rows starting at or after the source's first written
        record (or the run's start, if later) that this run did not write, and that no
        later-started run wrote, are stale (a partial bucket whose end moved, a group that
        disappeared) and are deleted. Rows of other sources are left alone.

        Args:
            supersede: Delete the stale rows; False for a provider that reports only its
                current period (its fetch supersedes nothing: it forgets past periods).

        Returns:
            How many stale rows were deleted.

        Raises:
            ConfigError: The session has ended.
            StoreError: The store is read-only, locked past the timeout, full or damaged
                (nothing of the commit is kept; the run stays unfinished).
        """
        self._check_open()
        first_start = {} if self._encoder is None else self._encoder.first_start
        floor = None if self.start is None else to_micros(self.start)
        superseded: Mapping[str, int] = (
            {
                source: seen if floor is None else max(seen, floor)
                for source, seen in first_start.items()
            }
            if supersede
            else {}
        )
        removed = 0
        with self._store._write() as conn:
            for source, since in superseded.items():
                cursor = conn.execute(
                    "DELETE FROM records WHERE start_us >= ? AND "
                    + in_series("provider = ? AND source = ?")
                    + " AND (run_id IS NULL OR run_id < ?)",
                    (since, self.provider, source, self.run_id),
                )
                removed += max(cursor.rowcount, 0)
            if self._snapshot_id is not None:
                close_snapshot(conn, self._snapshot_id)
            conn.execute("UPDATE sync_runs SET finished = 1 WHERE run_id = ?", (self.run_id,))
        self._ended = True
        return removed

    def fail(self, error: str) -> None:
        """Record the run's failure (it stays unfinished) and drop its partial snapshot.

        Args:
            error: What went wrong, kept with the run.

        Raises:
            ConfigError: The session has ended.
            StoreError: The store is read-only, locked past the timeout, full or damaged.
        """
        self._check_open()
        self._ended = True
        with self._store._write() as conn:
            if self._snapshot_id is not None:
                drop_snapshot(conn, self._snapshot_id)
            conn.execute("UPDATE sync_runs SET error = ? WHERE run_id = ?", (error, self.run_id))

    def __enter__(self) -> SyncSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or self._ended:
            return
        # Interrupted (Ctrl-C, SystemExit): the exception's type is what is kept.
        error = f"{type(exc).__name__}: {exc}" if isinstance(exc, Exception) else type(exc).__name__
        # The run stays unfinished whether or not this bookkeeping succeeds, so the next sync
        # starts no later than this one did; an unfinished snapshot is never shown.
        with suppress(StoreError, sqlite3.Error):
            self.fail(error)

    def __repr__(self) -> str:
        return (
            f"SyncSession(provider={self.provider!r}, run_id={self.run_id}, start={self.start!r})"
        )

    def _check_open(self) -> None:
        if self._ended:
            raise ConfigError(
                f"the {self.provider} sync session has ended (committed or failed); begin "
                "another with Store.begin_sync"
            )


def plan_run(
    conn: sqlite3.Connection, provider: str, since: datetime | None, started_at: datetime
) -> tuple[int, datetime | None]:
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

    A start inside a stored bucket (a ``since`` or a lookback that is not on a bucket
    boundary) moves back to that bucket's start: what is fetched again then replaces whole
    stored buckets, never a stored figure by one of part of its bucket.

    Args:
        conn: The store's connection, in the caller's write transaction.
        provider: The provider.
        since: The earliest point to fetch from, if any.
        started_at: The run's fetch time.

    Returns:
        The new run's id and where its fetch starts (None: the client's default window).
    """
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
    sources = []
    for (source,) in conn.execute(
        "SELECT DISTINCT source FROM series WHERE provider = ?", (provider,)
    ).fetchall():
        found = extent(conn, "provider = ? AND source = ?", (provider, source), open_at=fetched_at)
        if found is not None:
            sources.append(found[1:])
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
    if start is not None:
        start = _bucket_start(conn, provider, start)
    cursor = conn.execute(
        "INSERT INTO sync_runs (provider, fetch_start_us, started_at_us) VALUES (?, ?, ?)",
        (provider, start, to_micros(started_at)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid, None if start is None else from_micros(start)


def _watermark(
    sources: Sequence[tuple[int, int, int | None]], finished_run: tuple[int | None, int] | None
) -> int | None:
    """Return where the next fetch starts (see :func:`plan_run`), in microseconds.

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


def _bucket_start(conn: sqlite3.Connection, provider: str, moment: int) -> int:
    """Return ``moment`` (microseconds), or the start of the earliest stored bucket of the
    provider that contains it (any source), if one does."""
    start = moment
    sources = conn.execute("SELECT DISTINCT source FROM series WHERE provider = ?", (provider,))
    in_source = in_series("provider = ? AND source = ?")
    for (source,) in sources.fetchall():
        latest = conn.execute(
            f"SELECT start_us FROM records WHERE start_us < ? AND {in_source} "
            "ORDER BY start_us DESC LIMIT 1",
            (moment, provider, source),
        ).fetchone()
        if latest is None:
            continue
        (end,) = conn.execute(
            f"SELECT MAX(end_us) FROM records WHERE start_us = ? AND {in_source}",
            (latest[0], provider, source),
        ).fetchone()
        if end > moment:
            start = min(start, int(latest[0]))
    return start


def insert_snapshot(conn: sqlite3.Connection, provider: str, fetched_at: datetime) -> int:
    """Start an (invisible until closed) snapshot and return its id."""
    cursor = conn.execute(
        "INSERT INTO snapshots (provider, fetched_at_us) VALUES (?, ?)",
        (provider, to_micros(fetched_at)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def close_snapshot(conn: sqlite3.Connection, snapshot_id: int) -> None:
    """Make a snapshot visible: all its records are written."""
    conn.execute("UPDATE snapshots SET complete = 1 WHERE snapshot_id = ?", (snapshot_id,))


def drop_snapshot(conn: sqlite3.Connection, snapshot_id: int) -> None:
    """Delete a snapshot and its records."""
    conn.execute("DELETE FROM snapshot_records WHERE snapshot_id = ?", (snapshot_id,))
    conn.execute("DELETE FROM snapshots WHERE snapshot_id = ?", (snapshot_id,))


def read_snapshots(
    store: Store, provider: str | None, start: TimeLike | None, end: TimeLike | None
) -> Iterator[Snapshot]:
    """:meth:`Store.snapshots`: the complete snapshots fetched in ``[start, end)``, oldest
    first, each with its records.

    Args:
        store: The store to read.
        provider: Only this provider's snapshots (None: every provider's).
        start: Only snapshots fetched at or after this time (None: from the first).
        end: Only snapshots fetched before this time (None: to the last).

    Returns:
        The snapshots, lazily.

    Raises:
        ConfigError: A bad provider or time.
        StoreError: SQLite failed to read.
    """
    clauses = ["complete = 1"]
    params: list[Any] = []
    if provider is not None:
        clauses.append("provider = ?")
        params.append(check_text(provider, "provider"))
    if start is not None:
        clauses.append("fetched_at_us >= ?")
        params.append(to_micros(as_utc(start, name="start")))
    if end is not None:
        clauses.append("fetched_at_us < ?")
        params.append(to_micros(as_utc(end, name="end")))
    conn = store._conn
    with store._reading():
        heads = conn.execute(
            "SELECT snapshot_id, provider, fetched_at_us FROM snapshots WHERE "
            + " AND ".join(clauses)
            + " ORDER BY fetched_at_us, snapshot_id",
            params,
        ).fetchall()
    for snapshot_id, snapshot_provider, fetched_at_us in heads:
        legacy = store._layout()
        columns = LEGACY_COLUMN_LIST if legacy else ROW_COLUMNS
        with store._reading():
            rows = conn.execute(
                f"SELECT {columns} FROM snapshot_records WHERE snapshot_id = ? "
                "ORDER BY start_us, id",
                (snapshot_id,),
            ).fetchall()
            records = tuple(store._decoded(rows, legacy=legacy))
        yield Snapshot(
            snapshot_id=snapshot_id,
            provider=snapshot_provider,
            fetched_at=from_micros(fetched_at_us),
            records=records,
        )
