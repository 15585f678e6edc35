"""Writing a stream's batches on a thread of its own while the caller's thread fetches the next.

Python's ``sqlite3`` releases the GIL while SQLite runs a statement, so a sync whose SQLite work
runs on a writer thread hides most of it behind the fetch, decoding and encoding of the next
pages on the caller's thread. :class:`BatchWriter` is that thread:

* **bounded**: at most ``depth`` encoded batches wait for it (a slow disk makes the caller
  wait before it encodes more: memory holds a few batches, whatever the stream);
* **in order, one transaction a batch**, exactly as the caller would write them one after the
  other; the first failure stops it: the batches queued after it are never written;
* **one thread at a time**: while it runs it alone uses the store's connection; the caller
  only encodes, and :meth:`close` always joins the thread (an error, an interrupt, a consumer
  that stops early), so no thread outlives the call that started it;
* **errors as they are**: what a batch's transaction raises (a :class:`~usagekit.StoreError`
  for every SQLite failure) is raised on the caller's thread, by the next :meth:`submit` or
  :meth:`drain`, or by :meth:`close`, never lost.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from .._core.errors import ConfigError
from ._batch import Batch
from ._rows import RowEncoder
from ._series import SeriesCache, SeriesPlan

__all__ = ["BatchWriter", "check_thread", "checked_rows", "write_batches"]

_Job = TypeVar("_Job")


class BatchWriter(Generic[_Job]):
    """A thread writing jobs one after the other, at most ``depth`` of them waiting.

    Use it as a context manager: leaving the block joins the thread. On a normal exit or an
    :class:`Exception`, the jobs submitted are written first (as the caller, writing them one
    after the other, would have before reaching that point); on any other exception (an
    interrupt, a generator closed) the jobs still waiting are dropped and the one being written
    is interrupted (SQLite rolls it back), so the caller stops at once.

    Args:
        write: Writes one job (one transaction); runs on the writer thread.
        interrupt: Stops the job being written (``sqlite3.Connection.interrupt``, which may be
            called from any thread).
        depth: Jobs that may wait for the writer.

    Attributes:
        done: Each job the writer ended, in order, and whether it was written (committed).
    """

    def __init__(
        self,
        write: Callable[[_Job], None],
        interrupt: Callable[[], None],
        *,
        depth: int = 2,
    ) -> None:
        self._write = write
        self._interrupt = interrupt
        self._depth = depth
        self._cond = threading.Condition()
        self._waiting: deque[_Job] = deque()
        self._busy = False
        self._stopping = False
        self._dropping = False
        self._error: BaseException | None = None
        self.done: deque[tuple[_Job, bool]] = deque()
        self._thread = threading.Thread(target=self._run, name="usagekit-store-writer", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the caller's thread

    def submit(self, job: _Job) -> None:
        """Queue a job, waiting while ``depth`` jobs wait already.

        Args:
            job: What the writer's ``write`` is called with, in turn.

        Raises:
            BaseException: What a job before it raised (then it is not queued).
        """
        with self._cond:
            while len(self._waiting) >= self._depth and self._error is None:
                self._cond.wait()
            self._raise()
            self._waiting.append(job)
            self._cond.notify_all()

    def drain(self) -> None:
        """Wait until every job submitted is written.

        Raises:
            BaseException: What a job raised.
        """
        with self._cond:
            while (self._waiting or self._busy) and self._error is None:
                self._cond.wait()
            self._raise()

    def close(self, *, drop: bool = False) -> None:
        """Stop the thread and join it (what it was given is then all in :attr:`done`).

        Args:
            drop: Drop the jobs still waiting and interrupt the one being written, instead of
                writing them all first.
        """
        with self._cond:
            self._stopping = True
            if drop:
                self._dropping = True
                if self._busy:
                    self._interrupt()
            self._cond.notify_all()
        interrupted: BaseException | None = None
        while True:
            try:
                self._thread.join()
                break
            except BaseException as exc:  # another Ctrl-C while joining: stop sooner
                interrupted = interrupted or exc
                with self._cond:
                    self._dropping = True
                    if self._busy:
                        self._interrupt()
        if interrupted is not None:
            raise interrupted

    def on_thread(self) -> bool:
        """Whether the caller runs on the writer's thread."""
        return threading.current_thread() is self._thread

    @property
    def error(self) -> BaseException | None:
        """What a job raised, if one did (the writer then wrote nothing more)."""
        return self._error

    def __enter__(self) -> BatchWriter[_Job]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(drop=exc is not None and not isinstance(exc, Exception))

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    # ------------------------------------------------------------------ the writer's thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._stopping:
                    self._cond.wait()
                if not self._waiting:
                    return
                job = self._waiting.popleft()
                skip = self._dropping or self._error is not None
                self._busy = not skip
                self._cond.notify_all()
            written, failure = False, None
            if not skip:
                try:
                    self._write(job)
                    written = True
                except BaseException as exc:  # raised on the caller's thread
                    failure = exc
            with self._cond:
                self._busy = False
                if failure is not None and self._error is None and not self._dropping:
                    self._error = failure
                self.done.append((job, written))
                self._cond.notify_all()


def write_batches(
    series: SeriesCache,
    batches: Iterable[Batch],
    encoder: RowEncoder,
    write: Callable[[Batch, SeriesPlan], None],
    *,
    interrupt: Callable[[], None] | None = None,
    lend: Callable[[BatchWriter[Any] | None], None] = lambda writer: None,
    committed: Callable[[int], None] | None = None,
) -> int:
    """Write each batch of an encoder's (as it gives them) in a transaction of its own.

    Each batch's series are planned here (:meth:`SeriesCache.plan`), applied by ``write`` in
    its transaction and settled here once it ended. With ``interrupt``, the transactions run
    on a :class:`BatchWriter` thread while this thread takes the next batches: the same
    transactions in the same order, the stream consumed and encoded here, at most two batches
    waiting. A batch naming series not stored yet is written before the next is encoded (it
    gives them their ids). The stream and the writer may fail in either order: what happened
    first in the stream wins, as one after the other would have it, so a failed write is
    raised even when the stream failed after it, and the batches before a failure of the
    stream are written.

    Args:
        series: The store's series cache.
        batches: The encoder's batches.
        encoder: Their encoder.
        write: Writes one batch with its plan, in one transaction.
        interrupt: Stops the transaction being written, from another thread
            (``sqlite3.Connection.interrupt``); None: write one batch after the other here.
        lend: Told the writer while it owns the connection, then None.
        committed: Called with each batch's row count once it committed, in order.

    Returns:
        How many rows were written.

    Raises:
        ConfigError: What the encoding refuses (nothing of its batch is written; the batches
            before it are kept).
        StoreError: SQLite failed (the batch is rolled back; the batches before it are kept).
    """
    total = 0

    def settle(job: tuple[Batch, SeriesPlan], written: bool) -> None:
        nonlocal total
        series.settle(job[1], written)
        if written:
            total += len(job[0])
            if committed is not None:
                committed(len(job[0]))

    writer: BatchWriter[tuple[Batch, SeriesPlan]] | None = None
    if interrupt is not None:
        try:
            writer = BatchWriter(lambda job: write(*job), interrupt)
        except RuntimeError:  # no thread to be had (an interpreter at its limit): one by one
            writer = None
    if writer is None:
        try:
            for batch in batches:
                job, written = (batch, series.plan(encoder.take_lengths())), False
                try:
                    write(*job)
                    written = True
                finally:
                    settle(job, written)
        except BaseException:
            series.discard()
            raise
        return total
    ended = False
    try:
        lend(writer)
        with writer:
            for batch in batches:
                plan = series.plan(encoder.take_lengths())
                writer.submit((batch, plan))
                if plan.pending:  # its series' ids, before the next batch names them
                    writer.drain()
                while writer.done:
                    settle(*writer.done.popleft())
            writer.drain()
        ended = True
    except Exception:
        if writer.error is not None:  # a write failed before the stream did
            raise writer.error from None
        raise
    finally:
        lend(None)
        try:
            writer.close(drop=True)  # joined already unless interrupted before ``with``
        finally:  # even when a second Ctrl-C interrupts the join
            while writer.done:
                settle(*writer.done.popleft())
            if not ended:
                series.discard()
    return total


def checked_rows(cursor: sqlite3.Cursor, check: Callable[[], None]) -> Iterator[Any]:
    """A cursor's rows, ``check()`` called before each read of the next few thousand (so that
    a generator resumed on another thread is refused there).

    Args:
        cursor: The cursor of an executed query.
        check: Raises when the calling thread may not use the connection.

    Yields:
        The rows, in order.
    """
    while True:
        check()
        rows = cursor.fetchmany(2048)
        if not rows:
            return
        yield from rows


def check_thread(path: str, owner: threading.Thread, writer: BatchWriter[Any] | None) -> None:
    """Refuse a store's connection to any thread but its own (once that thread has ended, any
    thread may use it, one at a time), or, while a sync's writer thread holds it, to any thread
    but that one.

    Args:
        path: The store's file, for the message.
        owner: The thread that opened the store.
        writer: The writer the connection is lent to, if any.

    Raises:
        ConfigError: The calling thread may not use the connection now.
    """
    if writer is not None:
        if not writer.on_thread():
            raise ConfigError(
                f"the store {path!r} is being written by a sync on its writer thread; a Store "
                "belongs to one thread at a time: open another Store to read meanwhile"
            )
    elif threading.current_thread() is not owner and owner.is_alive():
        raise ConfigError(
            f"the store {path!r} belongs to the thread that opened it; a Store is used from "
            "one thread: open a Store in each thread (they can share the file)"
        )
