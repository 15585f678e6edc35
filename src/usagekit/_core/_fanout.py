"""Bounded concurrency for walks of independent requests: one small primitive per twin.

A walk (OpenAI's endpoints, OpenRouter's and Anthropic's days) is written once, async, and
``scripts/unasync.py`` generates its sync twin. It needs few verbs: start a call
(:meth:`AsyncFanout.start`), see whether it has ended (:meth:`AsyncFanout.done`), wait for its
result (:meth:`AsyncFanout.result`) and, when the walk ends however it ends, cancel what is
still under way and wait for it to be gone (leaving the ``with`` block). The common case,
"fetch these items at most ``limit`` at once and hand the answers back in item order", is
written once on top of these verbs (:func:`usagekit._core._async_ordered.async_in_order`,
generated twin :func:`usagekit._core._ordered.in_order`). The two primitives differ only in
what runs a call, which is why they are the one pair written by hand:

* :class:`AsyncFanout` runs each call as an ``asyncio`` task on the running loop, sharing the
  async client's one ``httpx.AsyncClient``; leaving the block cancels the tasks and awaits them
  (so no "Task was destroyed" warning, no exception left unretrieved);
* :class:`Fanout` runs each call in a bounded thread pool, sharing the sync client's one
  ``httpx.Client`` (which may be shared between threads), each call in a copy of the caller's
  context, so that context variables (coverage declarations for ``collect``, a pinned clock,
  the attempt deadline the sync transport publishes) behave as on the caller's thread. With a
  limit of 1 it starts no thread at all: each call runs on the caller's thread when its result
  is asked for, exactly a sequential walk. Leaving the block drops calls not started and waits
  for the running ones (each ends within its request's timeout and retries); on
  ``KeyboardInterrupt`` or ``SystemExit`` it does not wait, so that the caller gets control
  back at once.

Why threads for the sync twin rather than the event loop ``collect`` runs async clients on: a
sync client's transport is a sync ``httpx.Client``; driving its fetches on a loop would need an
async transport beside it (a second connection pool, its own settings, a loop thread that
outlives the client), and a sync request blocks a loop. A thread per in-flight request (at most
``limit``) uses the client's own transport, pool, rate limiter and retry policy as they are: the
rate limiter is locked (:class:`~usagekit.AdaptiveRateLimiter`), the retry loop is one
tenacity object per request, and the attempt deadline lives in the calling context.

Nothing here knows a provider: a provider chooses its own limit (and says why, from the API's
rate limits) and validates a user's with :func:`check_concurrency`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, ParamSpec, TypeAlias, TypeVar

from .errors import ConfigError

__all__ = ["AsyncFanout", "AsyncHandle", "Fanout", "Handle", "check_concurrency"]

T = TypeVar("T")
P = ParamSpec("P")

AsyncHandle: TypeAlias = asyncio.Task
"""A call under way in an :class:`AsyncFanout`."""

Handle: TypeAlias = Future
"""A call under way (or deferred, at a limit of 1) in a :class:`Fanout`."""


_SEND_TURNS = 8
"""Turns of the event loop a new task is given before :meth:`AsyncFanout.start` returns.

A task only runs when the loop gets control, and an async consumer doing CPU work between
pages (normalizing records) gives it none until it next waits: a request started then would
not be sent before the consumer has finished with every page already answered, and the walk
would lose the overlap it exists for. With these turns the request is on the wire first (on a
kept-alive connection, httpx 0.28 through usagekit's transport writes it within 4 turns; a new
connection takes longer, and is made in the first round, while the consumer waits anyway)."""


def check_concurrency(concurrency: Any, *, where: str) -> int:
    """Validate a user's ``concurrency=...`` (requests a walk may have in flight at once).

    Args:
        concurrency: The value given.
        where: The call, for the message (e.g. ``"openrouter records"``).

    Returns:
        The value.

    Raises:
        ConfigError: Not an integer of at least 1 (a ``bool`` is not one).
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise ConfigError(
            f"{where}: concurrency must be an integer >= 1, got {type(concurrency).__name__}"
        )
    if concurrency < 1:
        raise ConfigError(f"{where}: concurrency must be >= 1, got {concurrency}")
    return concurrency


def _check_limit(limit: int) -> int:
    if limit < 1:
        raise ValueError(f"a fanout runs at least one call at once, got limit={limit}")
    return limit


class AsyncFanout:
    """Runs up to ``limit`` coroutine calls at once as tasks; use it as ``async with``.

    Args:
        limit: The most calls under way at once.
    """

    def __init__(self, limit: int) -> None:
        self.limit = _check_limit(limit)
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> AsyncFanout:
        """Enter the block.

        Returns:
            The fanout itself.
        """
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Cancel every call still under way and wait until each has ended.

        Args:
            exc_type: The exception's type, if the block raised.
            exc: The exception, if the block raised.
            tb: Its traceback.
        """
        tasks = list(self._tasks)
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:  # retrieves every outcome: no warning about a task or an exception left behind
            await asyncio.gather(*tasks, return_exceptions=True)

    async def start(
        self, call: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> asyncio.Task[T]:
        """Start ``call(*args, **kwargs)`` as a task (in a copy of the current context), and
        give it a few turns of the loop (:data:`_SEND_TURNS`) to send its request.

        Args:
            call: The coroutine function.
            *args: Its positional arguments.
            **kwargs: Its keyword arguments.

        Returns:
            The handle to pass to :meth:`result`.

        Raises:
            RuntimeError: ``limit`` calls are already under way (a bug of the caller).
        """
        if len(self._tasks) >= self.limit:
            raise RuntimeError(f"a fanout of {self.limit} has no free slot")
        task = asyncio.create_task(call(*args, **kwargs))
        self._tasks.add(task)
        for _ in range(_SEND_TURNS):
            if task.done():
                break
            await asyncio.sleep(0)
        return task

    def done(self, handle: asyncio.Task[T]) -> bool:
        """Whether a call has ended (its :meth:`result` would not wait).

        Args:
            handle: What :meth:`start` returned.

        Returns:
            True once the call has returned or raised.
        """
        return handle.done()

    async def result(self, handle: asyncio.Task[T]) -> T:
        """Wait for a call's outcome; its slot is free afterwards.

        Args:
            handle: What :meth:`start` returned.

        Returns:
            The call's result.

        Raises:
            Exception: What the call raised.
        """
        try:
            return await handle
        finally:
            if handle.done():
                self._tasks.discard(handle)


class Fanout:
    """Runs up to ``limit`` calls at once in worker threads; use it as ``with``.

    Args:
        limit: The most calls under way at once; 1 runs each call on the caller's thread when
            its result is asked for (no thread is started).
    """

    def __init__(self, limit: int) -> None:
        self.limit = _check_limit(limit)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: set[Future[Any]] = set()
        self._deferred: dict[Future[Any], Callable[[], Any]] = {}

    def __enter__(self) -> Fanout:
        """Enter the block (starting the pool, for a limit above 1).

        Returns:
            The fanout itself.
        """
        if self.limit > 1:
            self._pool = ThreadPoolExecutor(self.limit, thread_name_prefix="usagekit-walk")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Drop the calls not started and wait for the running ones to end.

        Args:
            exc_type: The exception's type, if the block raised.
            exc: The exception, if the block raised.
            tb: Its traceback.
        """
        for future in self._futures:
            future.cancel()
        self._futures.clear()
        self._deferred.clear()
        if self._pool is not None:
            interrupted = exc_type is not None and issubclass(
                exc_type, (KeyboardInterrupt, SystemExit)
            )
            self._pool.shutdown(wait=not interrupted, cancel_futures=True)
            self._pool = None

    def start(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Start ``call(*args, **kwargs)`` in a worker (in a copy of the current context).

        Args:
            call: The function.
            *args: Its positional arguments.
            **kwargs: Its keyword arguments.

        Returns:
            The handle to pass to :meth:`result`.

        Raises:
            RuntimeError: ``limit`` calls are already under way, or the block is not entered.
        """
        if len(self._futures) >= self.limit:
            raise RuntimeError(f"a fanout of {self.limit} has no free slot")
        bound = functools.partial(call, *args, **kwargs)
        future: Future[T]
        if self._pool is not None:
            future = self._pool.submit(contextvars.copy_context().run, bound)
        elif self.limit == 1:
            future = Future()
            self._deferred[future] = bound
        else:
            raise RuntimeError("the fanout is used outside its with block")
        self._futures.add(future)
        return future

    def done(self, handle: Future[T]) -> bool:
        """Whether a call has ended (its :meth:`result` would not wait); a deferred call (a
        limit of 1) never has before its result is asked for.

        Args:
            handle: What :meth:`start` returned.

        Returns:
            True once the call has returned or raised.
        """
        return handle.done()

    def result(self, handle: Future[T]) -> T:
        """Wait for a call's outcome (running a deferred call now); its slot is free afterwards.

        Args:
            handle: What :meth:`start` returned.

        Returns:
            The call's result.

        Raises:
            Exception: What the call raised.
        """
        deferred = self._deferred.pop(handle, None)
        self._futures.discard(handle)
        if deferred is not None:
            return deferred()  # type: ignore[no-any-return]
        return handle.result()
