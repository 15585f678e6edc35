"""The store's tables, how a file is recognised as a store, and what opening it must do.

A file is a usagekit store when its ``application_id`` is usagekit's (or 0, for stores made
before it was set) and its usagekit tables have the columns of its schema version; an empty
SQLite database may become one; anything else is another application's and is refused.

Schema versions:

* **2** (this version writes it): ``records`` is a ``WITHOUT ROWID`` table keyed by
  ``(start_us, id)``, the id as 24 bytes, rows in time order on disk (a sync appends, and a
  commit writes the pages of the rows it added, however large the file), with no other index;
  what the rows of one series share is in ``series`` (see :mod:`._series`).
* **1** (and 0, stores made before the version was set): one row per record with every field
  as a column, the id as hex text, two indexes. Opened for writing, such a file is migrated to
  2 in one transaction (see :mod:`._legacy`); opened read-only, it is read as it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from .._core.errors import StoreError
from ._legacy import LEGACY_TABLE_COLUMNS
from ._series import SERIES_COLUMNS

__all__ = ["HEADER", "SCHEMA_VERSION", "Plan", "Schema", "create_schema", "inspect", "plan"]

SCHEMA_VERSION = 2
"""The schema this version writes; a file with a newer one is refused."""

_DIMENSION_DDL = "".join(f"    {name} TEXT,\n" for name in SERIES_COLUMNS[5:-1])
_ROW_DDL = """    start_us INTEGER NOT NULL,
    id BLOB NOT NULL,
    end_us INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    quantity TEXT NOT NULL,
    attributes TEXT,"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS series (
    series_id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    source TEXT NOT NULL,
    metric TEXT NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
{_DIMENSION_DDL}    attributes TEXT NOT NULL,
    longest_us INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records (
{_ROW_DDL}
    run_id INTEGER,
    PRIMARY KEY (start_us, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    fetched_at_us INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS snapshots_fetched ON snapshots (provider, fetched_at_us);
CREATE TABLE IF NOT EXISTS snapshot_records (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (snapshot_id) ON DELETE CASCADE,
{_ROW_DDL}
    PRIMARY KEY (snapshot_id, start_us, id)
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

_APPLICATION_ID = 0x75736B74
"""``PRAGMA application_id`` of a usagekit store ("uskt"); stores made before it have 0."""

HEADER = b"SQLite format 3\x00"
"""The first bytes of every SQLite database file."""

_ROW_COLUMNS = frozenset({"start_us", "id", "end_us", "series_id", "quantity", "attributes"})
_TABLE_COLUMNS: Mapping[str, frozenset[str]] = {
    "series": frozenset({"series_id", "key", *SERIES_COLUMNS, "longest_us"}),
    "records": _ROW_COLUMNS | {"run_id"},
    "snapshots": frozenset({"snapshot_id", "provider", "fetched_at_us", "complete"}),
    "snapshot_records": _ROW_COLUMNS | {"snapshot_id"},
    "sync_runs": frozenset(
        {"run_id", "provider", "fetch_start_us", "started_at_us", "finished", "error"}
    ),
}
"""The columns each usagekit table must have: a table of that name without them is foreign."""
_NAMES = frozenset(_TABLE_COLUMNS) | frozenset(LEGACY_TABLE_COLUMNS)


@dataclass(frozen=True)
class Schema:
    """What a database file holds, read before anything is written to it.

    Attributes:
        version: Its ``user_version``.
        application_id: Its ``application_id``.
        tables: usagekit's tables present, with their columns.
        foreign: Every other schema object (tables, indexes, views, triggers) by name.
    """

    version: int
    application_id: int
    tables: Mapping[str, frozenset[str]]
    foreign: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """What opening a file finds and must do.

    Attributes:
        version: The schema its tables have: :data:`SCHEMA_VERSION`, 1 (an older usagekit's:
            read as it is, migrated when opened for writing), or 0 (no tables yet).
        upgrade: Whether opening for writing must create tables or migrate.
    """

    version: int
    upgrade: bool


def inspect(conn: sqlite3.Connection) -> Schema:
    """Read what the database of ``conn`` holds (nothing is written)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    objects = conn.execute(
        r"SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'"
    ).fetchall()
    tables = {
        name: frozenset(row[1] for row in conn.execute(f'PRAGMA table_info("{name}")'))
        for kind, name, _ in objects
        if kind == "table" and name in _NAMES
    }
    foreign = tuple(sorted(name for _, name, table in objects if table not in _NAMES))
    return Schema(version, application_id, tables, foreign)


def create_schema(conn: sqlite3.Connection) -> None:
    """Create usagekit's tables that are missing (in the caller's transaction)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")


def plan(schema: Schema, *, path: str, writable: bool) -> Plan:
    """What the file holds and what opening it must do; raise if the file is not a store.

    Args:
        schema: What the file holds.
        path: The store's file, for messages.
        writable: Whether the file is open for writing (an empty database is refused if not).

    Returns:
        The plan.

    Raises:
        StoreError: Another application's database (``"not_a_store"``), a newer schema
            (``"newer_schema"``), or an empty database opened read-only.
    """
    if schema.application_id not in (0, _APPLICATION_ID):
        raise StoreError(
            f"{path!r} is another application's SQLite database (application id "
            f"{schema.application_id:#x}), not a usagekit store; pass a new path to create "
            "a store",
            path=path,
            reason="not_a_store",
        )
    if schema.version > SCHEMA_VERSION:
        raise StoreError(
            f"the store {path!r} has schema version {schema.version}, newer than this "
            f"usagekit's {SCHEMA_VERSION}; upgrade usagekit",
            path=path,
            reason="newer_schema",
        )
    if "records" not in schema.tables:
        if schema.foreign or schema.tables:
            names = ", ".join([*schema.tables, *schema.foreign][:6])
            raise StoreError(
                f"{path!r} is another application's SQLite database (it holds {names}), "
                "not a usagekit store; usagekit keeps its history in a file of its own: "
                "pass a new path to create one",
                path=path,
                reason="not_a_store",
            )
        if not writable:
            raise StoreError(
                f"{path!r} is an empty SQLite database, not yet a usagekit store; open it "
                "once with write access to make it one",
                path=path,
                reason="not_a_store",
            )
        return Plan(0, True)  # an empty SQLite database: nothing of anyone's to harm
    version = SCHEMA_VERSION if schema.version == SCHEMA_VERSION else 1
    expected = _TABLE_COLUMNS if version == SCHEMA_VERSION else LEGACY_TABLE_COLUMNS
    for name, columns in schema.tables.items():
        wanted = expected.get(name)
        if wanted is None or wanted - columns:
            found = ", ".join(sorted(columns)[:8]) + (", ..." if len(columns) > 8 else "")
            raise StoreError(
                f"{path!r} has a table {name!r} that is not usagekit's (its columns are "
                f"{found}): it is another application's database; pass a new path to "
                "create a store",
                path=path,
                reason="not_a_store",
            )
    upgrade = version < SCHEMA_VERSION or len(schema.tables) < len(_TABLE_COLUMNS)
    return Plan(version, upgrade)
