"""Opening a store's file: the checks before SQLite sees it, creation, read-write or read-only.

A new store is built under a temporary name beside its path and linked into place complete, so
a file at the path is always a whole store (never a half-initialised one another process could
trip over). An existing file is used only if it is a usagekit store (or an empty SQLite
database); anything else is refused with a :class:`~usagekit.StoreError`. Without write access
to the file or its directory the store opens read-only.
"""

from __future__ import annotations

import errno
import os
import secrets
import sqlite3
import stat
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from .._core.errors import ConfigError, StoreError
from ._errors import retry_busy, sqlite_code, store_error
from ._migrate import migrate
from ._schema import HEADER, SCHEMA_VERSION, create_schema, inspect, plan

__all__ = ["PAGE_SIZE", "Opened", "open_store"]

PAGE_SIZE = 8192
"""The page size of a new store's file, in bytes: rows of about 64 bytes and keys of 32 fill
8 KB pages with half the page headers, cells and B-tree levels of SQLite's default 4 KB, and
a sync writes a tenth to a quarter faster. An existing file keeps its own (SQLite cannot change
it in WAL mode)."""


@dataclass(frozen=True)
class Opened:
    """An opened store file.

    Attributes:
        conn: The connection.
        read_only: Whether it was opened read-only.
        version: The schema version of its tables: the current one, or 1 for a store of an
            older usagekit opened read-only (read as it is).
    """

    conn: sqlite3.Connection
    read_only: bool
    version: int


def open_store(path: str, *, timeout: float, read_only: bool | None) -> Opened:
    """Open the file as asked, creating it first when it is missing.

    A store of an older usagekit opened for writing is migrated to the current schema (in one
    transaction: all of it or nothing).

    Args:
        path: The database file, or ``":memory:"``.
        timeout: Seconds to wait for another writer's lock.
        read_only: True for reading only, False to require write access, None for read-write
            when the file and its directory are writable, else read-only.

    Returns:
        The opened file.

    Raises:
        ConfigError: A read-only ``":memory:"`` store.
        StoreError: The file cannot be used as a store (see :class:`~usagekit.Store`).
    """
    return _Opening(path, timeout).open(read_only)


class _Opening:
    """One opening of a store's file: its path and lock timeout, and the steps."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout

    def open(self, read_only: bool | None) -> Opened:
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
                header = handle.read(len(HEADER))
        except OSError as exc:
            raise StoreError(
                f"cannot read the store {self.path!r}: {exc.strerror or exc}",
                path=self.path,
                reason="cannot_open",
            ) from None
        if header != HEADER:
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
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before anything is written
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                create_schema(conn)
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
            conn = sqlite3.connect(
                target,
                timeout=self.timeout,
                isolation_level=None,
                uri=uri,
                # used from one thread at a time: a sync's writer thread borrows it (._writer)
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "open") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_rw(self, target: str) -> Opened:
        conn = self._connect(target)
        try:
            version = retry_busy(lambda: self._prepare(conn, writable=True), self.timeout)
        except sqlite3.Error as exc:
            conn.close()
            raise store_error(self.path, exc, "open") from None
        except BaseException:
            conn.close()
            raise
        return Opened(conn, False, version)

    def _open_ro(self) -> Opened:
        """Open for reading only: ``mode=ro``, else (a WAL file in a directory that cannot be
        written, where SQLite cannot make its -shm index) ``immutable=1``, which reads the
        file as it is on disk; refused when a -wal or -journal file holds changes it would
        miss."""
        uri = Path(os.path.abspath(self.path)).as_uri() + "?mode=ro"
        try:
            return self._read_connection(uri)
        except sqlite3.OperationalError as exc:
            if sqlite_code(exc) not in (8, 14):
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
                return self._read_connection(uri + "&immutable=1")
            except sqlite3.Error as again:
                raise store_error(self.path, again, "open") from None
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "open") from None

    def _read_connection(self, uri: str) -> Opened:
        conn = self._connect(uri, uri=True)
        try:
            version = retry_busy(lambda: self._prepare(conn, writable=False), self.timeout)
        except BaseException:
            conn.close()
            raise
        return Opened(conn, True, version)

    def _prepare(self, conn: sqlite3.Connection, *, writable: bool) -> int:
        """Check what the file holds and, when writable, bring it to this version's schema.

        Nothing is written to a file that is already a current store: opening one takes no
        lock, so a read-only copy opens too, and opening never waits for a writer. A store of
        an older usagekit is migrated, in one transaction, when opened for writing, and read
        as it is otherwise.

        Returns:
            The schema version of the file's tables once prepared.
        """
        found = plan(inspect(conn), path=self.path, writable=writable)
        if not found.upgrade or not writable:
            _set_journal(conn, writable=writable)
            return found.version
        _set_journal(conn, writable=True)
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Checked again under the lock: another process may have been doing the same.
            schema = inspect(conn)
            again = plan(schema, path=self.path, writable=True)
            if again.upgrade:
                if again.version == 1:
                    migrate(conn, schema, path=self.path)
                else:
                    create_schema(conn)
            conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return SCHEMA_VERSION


def _set_journal(conn: sqlite3.Connection, *, writable: bool) -> None:
    if not writable:
        return
    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL never corrupts and loses nothing when the process dies; only
    # an OS crash or power cut may roll back the last commits (a sync then re-fetches).
    conn.execute("PRAGMA synchronous = NORMAL")


def _publish(temp: str, path: str) -> None:
    """Put the complete new store ``temp`` at ``path``, unless a file got there first."""
    try:
        os.link(temp, path)
    except FileExistsError:
        return  # another process created the store first: that one is used
    except OSError:  # a file system without hard links (some network and FUSE ones)
        if not os.path.lexists(path):
            os.replace(temp, path)
