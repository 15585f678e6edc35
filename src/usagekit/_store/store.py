"""An embedded record store on SQLite: usage history kept in one file.

One table holds the records keyed by record id, so writing the same fact twice keeps one row and
a corrected quantity replaces the old one. Quantities are stored as TEXT (exact to the
``Decimal``), times as integer microseconds since the epoch, UTC. A second pair of tables keeps
snapshots: every fetch of a current-period provider (Basedash, Unsiloed report only the current
billing period) with its fetch time, so a period's history can be read back and charted.

The database runs in WAL mode with a busy timeout, and every write is a ``BEGIN IMMEDIATE``
transaction, so several processes (two cron jobs, a sync and a report) can use one file at once.
A :class:`Store` object itself belongs to one thread; open one per thread.

A new store is built under a temporary name beside its path and linked into place complete, so
a file at the path is always a whole store (never a half-initialised one another process could
trip over). An existing file is used only if it is a usagekit store (or an empty SQLite
database); anything else (a zero-byte file, a damaged file, another application's database) is
refused with a :class:`~usagekit.StoreError`. Without write access to the file or its directory
the store opens read-only: reading works, writing raises. Every SQLite failure is a
:class:`~usagekit.StoreError` whose message says what to do.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .._core.clock import TimeLike, as_utc, resolve_window
from .._core.errors import ConfigError, StoreError
from .._core.records import DIMENSIONS, UsageRecord

if TYPE_CHECKING:
    from .._report import UsageReport

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

_APPLICATION_ID = 0x75736B74
"""``PRAGMA application_id`` of a usagekit store ("uskt"); stores made before it have 0."""

_HEADER = b"SQLite format 3\x00"

_TABLE_COLUMNS: Mapping[str, frozenset[str]] = {
    "records": frozenset({*_RECORD_COLUMNS, "run_id"}),
    "snapshots": frozenset({"snapshot_id", "provider", "fetched_at_us", "complete"}),
    "snapshot_records": frozenset({"snapshot_id", *_RECORD_COLUMNS}),
    "sync_runs": frozenset(
        {"run_id", "provider", "fetch_start_us", "started_at_us", "finished", "error"}
    ),
}
"""The columns each usagekit table must have: a table of that name without them is foreign."""

_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)

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


_T = TypeVar("_T")


def _sqlite_code(exc: BaseException) -> int | None:
    """The primary SQLite result code of an exception (``SQLITE_BUSY`` is 5), if it has one."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def store_error(path: str, exc: BaseException, doing: str) -> StoreError:
    """Translate a SQLite failure into a :class:`~usagekit.StoreError` that says what to do.

    Args:
        path: The store's file.
        exc: The ``sqlite3`` exception.
        doing: What was being done, as a verb phrase (``"read"``, ``"write to"``, ``"open"``).

    Returns:
        The error to raise, its ``reason`` set from SQLite's result code.
    """
    detail = str(exc) or type(exc).__name__
    code = _sqlite_code(exc)
    where = f"the store {path!r}"
    if isinstance(exc, sqlite3.ProgrammingError) and "closed" in detail:
        return StoreError(f"{where} is closed; open a new Store", path=path, reason="closed")
    if code in _BUSY_CODES:
        return StoreError(
            f"cannot {doing} {where}: another process kept it locked past the timeout "
            f"({detail}); run again when the other sync has finished, or open the Store with "
            "a longer timeout",
            path=path,
            reason="locked",
        )
    if code == 8:  # SQLITE_READONLY and its extended codes
        return StoreError(
            f"cannot {doing} {where}: it is read-only here ({detail}); writing needs write "
            "access to the file and to its directory (SQLite keeps its -wal and -shm files "
            "beside it)",
            path=path,
            reason="read_only",
        )
    if code in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
        return StoreError(
            f"{where} is damaged ({detail}); restore it from a backup, or save what is left "
            f"into a new file with: sqlite3 {path} .recover | sqlite3 recovered.sqlite",
            path=path,
            reason="damaged",
        )
    if code == 13:  # SQLITE_FULL
        return StoreError(
            f"cannot {doing} {where}: the disk or a file size limit is full ({detail}); free "
            "some space and run again (the failed transaction left nothing behind)",
            path=path,
            reason="full",
        )
    if code in (3, 14):  # SQLITE_PERM, SQLITE_CANTOPEN
        return StoreError(
            f"cannot open {where} ({detail}); check that the file and its directory exist and "
            "that you may read them",
            path=path,
            reason="cannot_open",
        )
    if code == 10:  # SQLITE_IOERR
        return StoreError(
            f"cannot {doing} {where}: disk I/O error ({detail}); check the disk and the file's "
            "permissions, then run again",
            path=path,
            reason="io",
        )
    if "no such table" in detail or "no such column" in detail:
        return StoreError(
            f"{where} lacks usagekit's tables or columns ({detail}): another program changed "
            "it; restore it from a backup",
            path=path,
            reason="damaged",
        )
    return StoreError(
        f"cannot {doing} {where}: SQLite failed ({detail})", path=path, reason="error"
    )


def _retry_busy(action: Callable[[], _T], timeout: float) -> _T:
    """Run ``action``, again while SQLite says busy, for up to ``timeout`` seconds.

    The busy timeout covers most waits, but SQLite skips the busy handler where waiting could
    deadlock, such as a change of journal mode while another connection writes: those return
    ``SQLITE_BUSY`` at once.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if _sqlite_code(exc) not in _BUSY_CODES or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


@dataclass(frozen=True)
class _Schema:
    """What a database file holds, read before anything is written to it."""

    version: int
    application_id: int
    tables: Mapping[str, frozenset[str]]
    """usagekit's tables present, with their columns."""
    foreign: tuple[str, ...]
    """Every other schema object (tables, indexes, views, triggers) by name."""


def _inspect(conn: sqlite3.Connection) -> _Schema:
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
    return _Schema(version, application_id, tables, foreign)


def _create_schema(conn: sqlite3.Connection) -> None:
    """Create usagekit's tables that are missing (in the caller's transaction)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")


def _publish(temp: str, path: str) -> None:
    """Put the complete new store ``temp`` at ``path``, unless a file got there first."""
    try:
        os.link(temp, path)
    except FileExistsError:
        return  # another process created the store first: that one is used
    except OSError:  # a file system without hard links (some network and FUSE ones)
        if not os.path.lexists(path):
            os.replace(temp, path)


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

    A missing file is created, complete, under a temporary name beside it and then linked into
    place. An existing file must be a usagekit store (or an empty SQLite database, which is
    initialised); a zero-byte file, a damaged file or another application's database is
    refused, never taken over. Without write access to the file or its directory the store
    opens read-only (``read_only=None``): reading works, writing raises
    :class:`~usagekit.StoreError`.

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
        self._read_only = False
        self._closed = False
        self._conn = self._open(read_only)

    # ----------------------------------------------------------------------------------------
    # Opening

    def _open(self, read_only: bool | None) -> sqlite3.Connection:
        """Open the file as asked, creating it first when it is missing."""
        if self.path == ":memory:":
            if read_only:
                raise ConfigError("a ':memory:' store cannot be read-only")
            return self._open_rw(self.path)
        info = self._stat()
        if info is None:
            if read_only:
                raise StoreError(
                    f"there is no store at {self.path!r} to read; create one with "
                    "usagekit.sync(...) or `usagekit sync --db PATH`",
                    path=self.path,
                    reason="missing",
                )
            self._create()
            info = self._stat()
            if info is None:
                raise StoreError(
                    f"cannot create the store {self.path!r}: a broken symbolic link is in the "
                    "way; remove it or pass another path",
                    path=self.path,
                    reason="cannot_open",
                )
        self._check_file(info)
        writable = read_only is not True and self._writable()
        if read_only is False and not writable:
            raise StoreError(
                f"cannot open the store {self.path!r} for writing: writing needs write access "
                "to the file and to its directory (SQLite keeps its -wal and -shm files beside "
                "it)",
                path=self.path,
                reason="read_only",
            )
        if writable:
            try:
                return self._open_rw(self.path)
            except StoreError as exc:
                # The access check said writable, SQLite could not write (an ACL, a mount)
                if exc.reason != "read_only" or read_only is False:
                    raise
        return self._open_ro()

    def _stat(self) -> os.stat_result | None:
        try:
            return os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(
                f"cannot open the store {self.path!r}: {exc.strerror or exc}",
                path=self.path,
                reason="cannot_open",
            ) from None

    def _writable(self) -> bool:
        directory = os.path.dirname(os.path.abspath(self.path))
        return os.access(self.path, os.W_OK) and os.access(directory, os.W_OK)

    def _check_file(self, info: os.stat_result) -> None:
        """Refuse what is not a SQLite file before SQLite sees it (SQLite would take over an
        empty file, and says "not a database" only at the first read)."""
        if stat.S_ISDIR(info.st_mode):
            raise StoreError(
                f"{self.path!r} is a directory; pass the path of a store file in it, such as "
                f"{os.path.join(self.path, 'usage.sqlite')!r}",
                path=self.path,
                reason="not_a_store",
            )
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(
                f"{self.path!r} is not a regular file, so not a usagekit store",
                path=self.path,
                reason="not_a_store",
            )
        if info.st_size == 0:
            raise StoreError(
                f"{self.path!r} is an empty file, not a usagekit store; usagekit creates its "
                "stores itself and never takes over a file it did not make: delete the file "
                "(if nothing else needs it) or pass a path where no file exists",
                path=self.path,
                reason="empty_file",
            )
        try:
            with open(self.path, "rb") as handle:
                header = handle.read(len(_HEADER))
        except OSError as exc:
            raise StoreError(
                f"cannot read the store {self.path!r}: {exc.strerror or exc}",
                path=self.path,
                reason="cannot_open",
            ) from None
        if header != _HEADER:
            raise StoreError(
                f"{self.path!r} is not a SQLite database, so not a usagekit store (if it was "
                "one, it is damaged: restore it from a backup); pass the path of a store, or a "
                "path where no file exists to create one",
                path=self.path,
                reason="not_a_store",
            )

    def _create(self) -> None:
        """Build a new store under a temporary name beside ``path``, then link it into place.

        A file at ``path`` is therefore always a complete store, which is how a zero-byte
        file is known not to be one, and why two processes creating one store at once never
        see each other's half-made file (the loser of the race uses the winner's store).
        """
        directory = os.path.dirname(os.path.abspath(self.path))
        temp = os.path.join(
            directory, f".{os.path.basename(self.path)}.{secrets.token_hex(6)}.creating"
        )
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileNotFoundError:
            raise StoreError(
                f"cannot create the store {self.path!r}: the directory {directory!r} does not "
                "exist; create it first",
                path=self.path,
                reason="cannot_open",
            ) from None
        except OSError as exc:
            denied = exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
            raise StoreError(
                f"cannot create the store {self.path!r}: {exc.strerror or exc} in "
                f"{directory!r}; creating a store needs write access to its directory",
                path=self.path,
                reason="read_only" if denied else "cannot_open",
            ) from None
        try:
            conn = sqlite3.connect(temp, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                _create_schema(conn)
                conn.execute("COMMIT")
            finally:
                conn.close()  # checkpoints and removes the temporary -wal and -shm files
            _publish(temp, self.path)
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "create") from None
        except OSError as exc:
            raise StoreError(
                f"cannot create the store {self.path!r}: {exc.strerror or exc}",
                path=self.path,
                reason="cannot_open",
            ) from None
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with suppress(OSError):
                    os.unlink(temp + suffix)

    def _connect(self, target: str, *, uri: bool = False) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(target, timeout=self._timeout, isolation_level=None, uri=uri)
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "open") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_rw(self, target: str) -> sqlite3.Connection:
        conn = self._connect(target)
        try:
            _retry_busy(lambda: self._prepare(conn, writable=True), self._timeout)
        except sqlite3.Error as exc:
            conn.close()
            raise store_error(self.path, exc, "open") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_ro(self) -> sqlite3.Connection:
        """Open for reading only: ``mode=ro``, else (a WAL file in a directory that cannot be
        written, where SQLite cannot make its -shm index) ``immutable=1``, which reads the
        file as it is on disk; refused when a -wal or -journal file holds changes it would
        miss."""
        uri = Path(os.path.abspath(self.path)).as_uri() + "?mode=ro"
        try:
            conn = self._read_connection(uri)
        except sqlite3.OperationalError as exc:
            if _sqlite_code(exc) not in (8, 14):
                raise store_error(self.path, exc, "open") from None
            for suffix in ("-wal", "-journal"):
                pending = self.path + suffix
                with suppress(OSError):
                    if os.path.getsize(pending) > 0:
                        raise StoreError(
                            f"the store {self.path!r} has changes in {pending!r} that SQLite "
                            "can only read with write access to the directory; open the store "
                            "once with write access (any sync or report by its owner merges "
                            "them), or copy both files to a directory you may write",
                            path=self.path,
                            reason="read_only",
                        ) from None
            try:
                conn = self._read_connection(uri + "&immutable=1")
            except sqlite3.Error as again:
                raise store_error(self.path, again, "open") from None
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "open") from None
        self._read_only = True
        return conn

    def _read_connection(self, uri: str) -> sqlite3.Connection:
        conn = self._connect(uri, uri=True)
        try:
            _retry_busy(lambda: self._prepare(conn, writable=False), self._timeout)
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection, *, writable: bool) -> None:
        """Check what the file holds and, when writable, bring it to this version's schema.

        Nothing is written to a file that is already a current store: opening one takes no
        lock, so a read-only copy opens too, and opening never waits for a writer.
        """
        if not self._needs_schema(_inspect(conn), writable=writable) or not writable:
            self._set_journal(conn, writable=writable)
            return
        self._set_journal(conn, writable=True)
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Checked again under the lock: another process may have been doing the same.
            if self._needs_schema(_inspect(conn), writable=True):
                _create_schema(conn)
            conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _set_journal(conn: sqlite3.Connection, *, writable: bool) -> None:
        if not writable:
            return
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL never corrupts and loses nothing when the process dies; only
        # an OS crash or power cut may roll back the last commits (a sync then re-fetches).
        conn.execute("PRAGMA synchronous = NORMAL")

    def _needs_schema(self, schema: _Schema, *, writable: bool) -> bool:
        """Whether usagekit's tables must be created; raise if the file is not a store."""
        path = self.path
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

    # ----------------------------------------------------------------------------------------
    # Lifecycle

    @property
    def read_only(self) -> bool:
        """Whether the store was opened for reading only (writing then raises StoreError)."""
        return self._read_only

    def close(self) -> None:
        """Close the connection; the store can't be used afterwards.

        Raises:
            StoreError: SQLite failed to close the file.
        """
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
        try:
            yield
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "read") from None

    def _check_writable(self) -> None:
        """Raise StoreError at once when the store is closed or open read-only."""
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
        size = _batch_size(batch_size)
        self._check_writable()
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
            StoreError: While iterating, SQLite failed to read (a damaged file, an I/O error).
        """
        where, params = _where(start, end, filters)
        return self._stream(
            f"SELECT {_COLUMN_LIST} FROM records{where} ORDER BY start_us, id", params
        )

    def _stream(self, query: str, params: Sequence[Any]) -> Iterator[UsageRecord]:
        with self._reading():
            cursor = self._conn.execute(query, params)
            try:
                for row in cursor:
                    yield self._decode(row)
            finally:
                cursor.close()

    def _decode(self, row: Row) -> UsageRecord:
        try:
            return _decode(row)
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
        where, params = _where(start, end, filters)
        with self._reading():
            row = self._conn.execute(f"SELECT COUNT(*) FROM records{where}", params).fetchone()
        return int(row[0])

    def spans(self) -> dict[str, tuple[datetime, datetime]]:
        """What the store holds per provider: the earliest record start and latest record end.

        Returns:
            ``{provider: (start, end)}``, sorted by provider.

        Raises:
            StoreError: SQLite failed to read.
        """
        with self._reading():
            rows = self._conn.execute(
                "SELECT provider, MIN(start_us), MAX(end_us) FROM records "
                "GROUP BY provider ORDER BY provider"
            ).fetchall()
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
        name = _text(provider, "provider")
        size = _batch_size(batch_size)
        self._check_writable()
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

        Raises:
            StoreError: SQLite failed to read.
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
        with self._reading():
            heads = self._conn.execute(
                "SELECT snapshot_id, provider, fetched_at_us FROM snapshots WHERE "
                + " AND ".join(clauses)
                + " ORDER BY fetched_at_us, snapshot_id",
                params,
            ).fetchall()
        for snapshot_id, snapshot_provider, fetched_at_us in heads:
            with self._reading():
                rows = self._conn.execute(
                    f"SELECT {_COLUMN_LIST} FROM snapshot_records WHERE snapshot_id = ? "
                    "ORDER BY start_us, id",
                    (snapshot_id,),
                ).fetchall()
            yield Snapshot(
                snapshot_id=snapshot_id,
                provider=snapshot_provider,
                fetched_at=from_micros(fetched_at_us),
                records=tuple(self._decode(row) for row in rows),
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

        A start inside a stored bucket (a ``since`` or a lookback that is not on a bucket
        boundary) moves back to that bucket's start: what is fetched again then replaces whole
        stored buckets, never a stored figure by one of part of its bucket.
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
            if start is not None:
                start = _bucket_start(conn, provider, start)
            cursor = conn.execute(
                "INSERT INTO sync_runs (provider, fetch_start_us, started_at_us) VALUES (?, ?, ?)",
                (provider, start, to_micros(started_at)),
            )
        assert cursor.lastrowid is not None
        return _SyncPlan(cursor.lastrowid, None if start is None else from_micros(start))

    def _bucket_lengths(self, provider: str, *, sample: int = 500) -> dict[str, timedelta]:
        """Per source of the provider, the most common length of its latest stored buckets.

        A client whose bucket width depends on the request fetches in these lengths (see
        :class:`usagekit.SyncClient`), so that a re-fetch replaces the stored buckets.
        """
        lengths: dict[str, timedelta] = {}
        with self._reading():
            sources = self._conn.execute(
                "SELECT DISTINCT source FROM records WHERE provider = ?", (provider,)
            ).fetchall()
            for (source,) in sources:
                counts: dict[int, int] = {}
                for (length,) in self._conn.execute(
                    "SELECT end_us - start_us FROM records WHERE provider = ? AND source = ? "
                    "ORDER BY start_us DESC LIMIT ?",
                    (provider, source, sample),
                ):
                    counts[length] = counts.get(length, 0) + 1
                if counts:
                    usual = max(counts, key=lambda length: (counts[length], length))
                    lengths[source] = timedelta(microseconds=usual)
        return lengths

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


def _bucket_start(conn: sqlite3.Connection, provider: str, moment: int) -> int:
    """Return ``moment`` (microseconds), or the start of the earliest stored bucket of the
    provider that contains it (any source), if one does."""
    start = moment
    sources = conn.execute("SELECT DISTINCT source FROM records WHERE provider = ?", (provider,))
    for (source,) in sources.fetchall():
        (latest,) = conn.execute(
            "SELECT MAX(start_us) FROM records WHERE provider = ? AND source = ? AND start_us < ?",
            (provider, source, moment),
        ).fetchone()
        if latest is None:
            continue
        (end,) = conn.execute(
            "SELECT MAX(end_us) FROM records WHERE provider = ? AND source = ? AND start_us = ?",
            (provider, source, latest),
        ).fetchone()
        if end > moment:
            start = min(start, int(latest))
    return start


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
