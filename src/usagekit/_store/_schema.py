"""The store's tables, how a file is recognised as a store, and how its schema is brought up.

A file is a usagekit store when its ``application_id`` is usagekit's (or 0, for stores made
before it was set) and its usagekit tables have their columns; an empty SQLite database may
become one; anything else is another application's and is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from .._core.errors import StoreError
from .._core.records import DIMENSIONS
from ._rows import RECORD_COLUMNS

__all__ = ["HEADER", "SCHEMA_VERSION", "Schema", "create_schema", "inspect", "needs_schema"]

SCHEMA_VERSION = 1
"""The schema this version writes; a file with a newer one is refused."""

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

_APPLICATION_ID = 0x75736B74
"""``PRAGMA application_id`` of a usagekit store ("uskt"); stores made before it have 0."""

HEADER = b"SQLite format 3\x00"
"""The first bytes of every SQLite database file."""

_TABLE_COLUMNS: Mapping[str, frozenset[str]] = {
    "records": frozenset({*RECORD_COLUMNS, "run_id"}),
    "snapshots": frozenset({"snapshot_id", "provider", "fetched_at_us", "complete"}),
    "snapshot_records": frozenset({"snapshot_id", *RECORD_COLUMNS}),
    "sync_runs": frozenset(
        {"run_id", "provider", "fetch_start_us", "started_at_us", "finished", "error"}
    ),
}
"""The columns each usagekit table must have: a table of that name without them is foreign."""


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
        if kind == "table" and name in _TABLE_COLUMNS
    }
    foreign = tuple(sorted(name for _, name, table in objects if table not in _TABLE_COLUMNS))
    return Schema(version, application_id, tables, foreign)


def create_schema(conn: sqlite3.Connection) -> None:
    """Create usagekit's tables that are missing (in the caller's transaction)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")


def needs_schema(schema: Schema, *, path: str, writable: bool) -> bool:
    """Whether usagekit's tables must be created; raise if the file is not a store.

    Args:
        schema: What the file holds.
        path: The store's file, for messages.
        writable: Whether the file is open for writing (an empty database is refused if not).

    Returns:
        True when tables are missing or the schema is older than :data:`SCHEMA_VERSION`.

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
        return True  # an empty SQLite database: nothing of anyone's to harm
    for name, columns in schema.tables.items():
        if _TABLE_COLUMNS[name] - columns:
            found = ", ".join(sorted(columns)[:8]) + (", ..." if len(columns) > 8 else "")
            raise StoreError(
                f"{path!r} has a table {name!r} that is not usagekit's (its columns are "
                f"{found}): it is another application's database; pass a new path to "
                "create a store",
                path=path,
                reason="not_a_store",
            )
    return len(schema.tables) < len(_TABLE_COLUMNS) or schema.version < SCHEMA_VERSION
