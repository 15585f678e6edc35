"""SQLite failures as :class:`~usagekit.StoreError` (saying what to do), and busy retries."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from .._core.errors import StoreError

__all__ = ["BUSY_CODES", "retry_busy", "sqlite_code", "store_error"]

BUSY_CODES = frozenset({5, 6})
"""``SQLITE_BUSY``, ``SQLITE_LOCKED`` (and their extended codes)."""

_T = TypeVar("_T")


def sqlite_code(exc: BaseException) -> int | None:
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
    code = sqlite_code(exc)
    where = f"the store {path!r}"
    if isinstance(exc, sqlite3.ProgrammingError) and "closed" in detail:
        return StoreError(f"{where} is closed; open a new Store", path=path, reason="closed")
    if code in BUSY_CODES:
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


def retry_busy(action: Callable[[], _T], timeout: float) -> _T:
    """Run ``action``, again while SQLite says busy, for up to ``timeout`` seconds.

    The busy timeout covers most waits, but SQLite skips the busy handler where waiting could
    deadlock, such as a change of journal mode while another connection writes: those return
    ``SQLITE_BUSY`` at once.

    Args:
        action: What to run.
        timeout: Seconds to keep trying.

    Returns:
        What ``action`` returned.

    Raises:
        sqlite3.OperationalError: Still busy at the deadline, or another failure.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if sqlite_code(exc) not in BUSY_CODES or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
