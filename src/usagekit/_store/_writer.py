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

import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

__all__ = ["BatchWriter"]

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
