"""The write statements of ``records`` rows, and one transaction's rows as columns (:class:`Batch`).

A :class:`Batch` holds the rows of ``records`` an encoder made for one transaction, column by
column: ``(start_us, id, end_us, series_id, quantity, attributes)`` of each row and the one run
id they all carry. :func:`write_batch` writes it, up to 4,000 rows to a statement.

What makes a row cheap to write is what Python's ``sqlite3`` does before SQLite sees it: an
``int``, ``str`` or ``bytearray`` is bound as it is, while ``bytes`` and ``None`` go through its
adapter lookup first (several times the cost of the row's other values together). So ids are
``bytearray`` (stored as the same BLOB), a column that is NULL on every row of a statement (the
attributes of plain usage rows, the run of a plain upsert) is written as the literal ``NULL``,
and a quantity that is a plain int is bound as the int: the column's TEXT affinity stores it as
its decimal text, exactly the text ``str()`` gives, without a Python string per row.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from itertools import chain, repeat
from typing import Any

__all__ = ["ROW_COLUMNS", "SNAPSHOT_INSERT", "UPSERT", "Batch", "Row", "upsert_rows", "write_batch"]

ROW_COLUMNS = "start_us, id, end_us, series_id, quantity, attributes"
"""The columns of a record row, as :func:`~._rows.decode_rows` reads them."""

# The newest fetch wins: a row written by a sync run is not overwritten by a run that started
# before it (two syncs at once), so its run id always names the newest run that wrote it.
_ON_CONFLICT = (
    " ON CONFLICT (start_us, id) DO UPDATE SET quantity = excluded.quantity, "
    "attributes = excluded.attributes, run_id = excluded.run_id "
    "WHERE excluded.run_id IS NULL OR run_id IS NULL OR excluded.run_id >= run_id"
)
_VALUES = "(?, ?, ?, ?, ?, ?, ?)"
UPSERT = f"INSERT INTO records ({ROW_COLUMNS}, run_id) VALUES {_VALUES}{_ON_CONFLICT}"
"""Write a row ``(start_us, id, end_us, series_id, quantity, attributes, run_id)`` keyed by
its start and id: a record's id determines its start, so the pair is as unique as the id, and
keeps rows in time order on disk."""

SNAPSHOT_INSERT = (
    f"INSERT OR REPLACE INTO snapshot_records (snapshot_id, {ROW_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
"""Keep a row in a snapshot: ``(snapshot_id, *row[:6])``."""

_CHUNKS = (4000, 100)
"""Rows per statement, largest first: one statement for many rows saves most of the
per-statement cost of a row, and SQLite runs a statement without holding Python's GIL, so the
caller's other threads (the next page's fetch and decoding) run meanwhile. 4,000 rows is at
most 28,000 parameters (SQLite's limit is 32,766 since 3.32); 100 rows, 700, fit the oldest
limit, 999. A size over the connection's limit is not used."""

_LIMIT_VARIABLE_NUMBER = 9
"""``sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER`` (named by Python 3.11 and later)."""

Row = tuple[Any, ...]
"""One row of a table."""


def _chunks(conn: sqlite3.Connection) -> tuple[int, ...]:
    """The sizes of :data:`_CHUNKS` whose parameters fit the connection's limit."""
    limit = getattr(conn, "getlimit", None)  # Python 3.11 and later
    most = limit(_LIMIT_VARIABLE_NUMBER) if callable(limit) else 999
    return tuple(size for size in _CHUNKS if 7 * size <= most)


@functools.lru_cache(maxsize=len(_CHUNKS))
def _upsert_many(rows: int) -> str:
    """:data:`UPSERT` of ``rows`` rows in one statement."""
    return (
        f"INSERT INTO records ({ROW_COLUMNS}, run_id) VALUES "
        + ", ".join([_VALUES] * rows)
        + _ON_CONFLICT
    )


def upsert_rows(conn: sqlite3.Connection, rows: list[Row]) -> None:
    """Upsert rows (:data:`UPSERT`'s parameters each, every row its own run), as many to a
    statement as :data:`_CHUNKS` allow; a row meeting one before it in the same statement is
    upserted over it, as one at a time."""
    done = 0
    for size in _chunks(conn):
        whole = done + (len(rows) - done) // size * size
        if whole > done:
            flat = list(chain.from_iterable(rows[done:whole]))
            width = 7 * size
            statement = _upsert_many(size)
            conn.executemany(statement, [flat[i : i + width] for i in range(0, len(flat), width)])
            done = whole
    if done < len(rows):
        conn.executemany(UPSERT, rows[done:])


class Batch:
    """The rows of one transaction, column by column (each a list, one item a row).

    Args:
        run_id: The sync run every row carries (None: not a sync).

    Attributes:
        starts: Each row's ``start_us``.
        ids: Each row's id, 24 bytes (``bytearray``, or ``bytes``).
        ends: Each row's ``end_us``.
        series: Each row's ``series_id`` (negative: provisional, see
            :class:`~._series.SeriesCache`).
        quantities: Each row's quantity: its text, or a plain ``int`` (stored as its text).
        attributes: Each row's own attributes as JSON text, or None.
        run_id: The run every row carries.
    """

    __slots__ = ("attributes", "ends", "ids", "quantities", "run_id", "series", "starts")

    def __init__(self, run_id: int | None = None) -> None:
        self.run_id = run_id
        self.starts: list[int] = []
        self.ids: list[bytes | bytearray] = []
        self.ends: list[int] = []
        self.series: list[int] = []
        self.quantities: list[int | str] = []
        self.attributes: list[str | None] = []

    @classmethod
    def of_rows(cls, rows: Sequence[Sequence[Any]], run_id: int | None) -> Batch:
        """The batch of rows ``(start_us, id, end_us, series_id, quantity, attributes, ...)``.

        Args:
            rows: The rows (items past the sixth are ignored).
            run_id: The run every row carries.

        Returns:
            The batch.
        """
        batch = cls(run_id)
        if rows:
            columns = list(zip(*rows, strict=True))
            batch.starts, batch.ids, batch.ends = (
                list(columns[0]),
                list(columns[1]),
                list(columns[2]),
            )
            batch.series, batch.quantities, batch.attributes = (
                list(columns[3]),
                list(columns[4]),
                list(columns[5]),
            )
        return batch

    def __len__(self) -> int:
        return len(self.starts)

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows as tuples ``(start_us, id, end_us, series_id, quantity, attributes)``."""
        return list(
            zip(
                self.starts,
                self.ids,
                self.ends,
                self.series,
                self.quantities,
                self.attributes,
                strict=True,
            )
        )


@functools.lru_cache(maxsize=4 * (len(_CHUNKS) + 1))
def _upsert(rows: int, attributes: bool, run: bool) -> str:
    """The upsert of ``rows`` rows in one statement, the attributes and the run bound per
    row or the literal NULL."""
    values = "(?, ?, ?, ?, ?, " + ("?" if attributes else "NULL") + (", ?)" if run else ", NULL)")
    return (
        f"INSERT INTO records ({ROW_COLUMNS}, run_id) VALUES "
        + ", ".join([values] * rows)
        + _ON_CONFLICT
    )


def _parameters(batch: Batch, first: int, end: int) -> tuple[str, list[Any]]:
    """The statement writing rows ``[first, end)`` of a batch, and its parameters."""
    count = end - first
    attributes = batch.attributes[first:end]
    bound = attributes.count(None) != count
    run = batch.run_id is not None
    width = 5 + bound + run
    flat: list[Any] = [None] * (width * count)
    flat[0::width] = batch.starts[first:end]
    flat[1::width] = batch.ids[first:end]
    flat[2::width] = batch.ends[first:end]
    flat[3::width] = batch.series[first:end]
    flat[4::width] = batch.quantities[first:end]
    if bound:
        flat[5::width] = attributes
    if run:
        flat[width - 1 :: width] = [batch.run_id] * count
    return _upsert(count, bound, run), flat


def write_batch(
    conn: sqlite3.Connection,
    batch: Batch,
    snapshot_id: int | None = None,
    *,
    upsert: bool = True,
) -> None:
    """Write a batch in the caller's write transaction: kept in a snapshot and/or upserted,
    as many rows to a statement as :data:`_CHUNKS` allow; a row meeting one before it in the
    same statement is upserted over it, as one at a time. Its series must be real (see
    :meth:`~._series.SeriesPlan.apply`).

    Args:
        conn: The store's connection, in a write transaction.
        batch: The rows.
        snapshot_id: Also keep the rows in this snapshot.
        upsert: Upsert the rows into ``records``.
    """
    total = len(batch)
    if snapshot_id is not None:
        conn.executemany(
            SNAPSHOT_INSERT,
            zip(
                repeat(snapshot_id),
                batch.starts,
                batch.ids,
                batch.ends,
                batch.series,
                batch.quantities,
                batch.attributes,
            ),
        )
    if not upsert:
        return
    done = 0
    for size in _chunks(conn):
        while total - done >= size:
            conn.execute(*_parameters(batch, done, done + size))
            done += size
    while done < total:  # the last few rows, one statement each
        conn.execute(*_parameters(batch, done, done + 1))
        done += 1
