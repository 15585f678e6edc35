"""Bringing a version-1 store (an older usagekit's) to the current schema, losing nothing.

All in the caller's write transaction, so a failure (a full disk, a damaged row, a crash)
leaves the file exactly as it was: the old tables are renamed aside, the current ones created,
every row copied through the same encoder a write uses (its record's id, quantity, attributes
and sync run kept), and the old tables dropped. Snapshots, their records and the sync runs are
kept as they were.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator

from .._core.errors import ConfigError, StoreError
from ._batch import SNAPSHOT_INSERT, upsert_rows
from ._legacy import LEGACY_COLUMN_LIST, decode_legacy
from ._rows import DEFAULT_BATCH_SIZE, Row, RowEncoder
from ._schema import Schema, create_schema
from ._series import SeriesCache

__all__ = ["migrate"]

_ASIDE = "_usagekit_{}_v1"


def migrate(conn: sqlite3.Connection, schema: Schema, *, path: str) -> None:
    """Migrate a version-1 store to the current schema, in the caller's transaction.

    Args:
        conn: The store's connection, in a ``BEGIN IMMEDIATE`` transaction.
        schema: What the file holds (version 1).
        path: The store's file, for messages.

    Raises:
        StoreError: A row the old layout holds cannot be read (``"damaged"``); the caller rolls
            back, leaving the file as it was.
        sqlite3.Error: SQLite failed (the caller rolls back).
    """
    moved = [name for name in ("records", "snapshot_records") if name in schema.tables]
    for name in moved:
        conn.execute(f'ALTER TABLE "{name}" RENAME TO "{_ASIDE.format(name)}"')
    create_schema(conn)
    series = SeriesCache()
    try:
        if "records" in moved:
            _copy(conn, series, "records", "run_id")
        if "snapshot_records" in moved:
            _copy(conn, series, "snapshot_records", "snapshot_id")
    except (ValueError, TypeError, KeyError, ArithmeticError, ConfigError) as exc:
        raise StoreError(
            f"cannot upgrade the store {path!r} to this usagekit's schema: it holds a row "
            f"usagekit cannot read ({type(exc).__name__}: {exc}); nothing was changed. Another "
            "program changed it: restore it from a backup",
            path=path,
            reason="damaged",
        ) from None
    for name in moved:
        conn.execute(f'DROP TABLE "{_ASIDE.format(name)}"')


def _copy(conn: sqlite3.Connection, series: SeriesCache, table: str, extra: str) -> None:
    """Copy the rows of an old table, with the value of its column ``extra`` (a row's run, or
    a snapshot record's snapshot) kept alongside."""
    cursor = conn.execute(f'SELECT {LEGACY_COLUMN_LIST}, {extra} FROM "{_ASIDE.format(table)}"')
    kept: deque[object] = deque()

    def rows() -> Iterator[Row]:
        for row in cursor:
            kept.append(row[-1])
            yield row[:-1]

    pop = kept.popleft
    encoder = RowEncoder(series)
    for batch in encoder.batches(decode_legacy(rows()), DEFAULT_BATCH_SIZE):
        plan = series.plan(encoder.take_lengths())
        plan.apply(conn)
        series.settle(plan, True)  # this cache ends with the migration: committed or not, unused
        batch.series = plan.resolve(batch.series)
        if extra == "run_id":
            upsert_rows(conn, [(*row, pop()) for row in batch.rows()])
        else:
            conn.executemany(SNAPSHOT_INSERT, [(pop(), *row) for row in batch.rows()])
