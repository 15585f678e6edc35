"""Fetch every client's records concurrently into one :class:`UsageReport`.

Sync clients each run in a worker thread; async clients run together on one event loop (the
caller's, for :func:`acollect`; for :func:`collect`, one long-lived loop of usagekit's own in a
background thread, so that it also works inside Jupyter, where a loop is already running, and so
that an async client's pooled connections stay usable from one call to the next). One provider
failing never loses the others: its error, and whatever arrived before it, are kept in the
report's failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._core.clock import TimeLike, month_start, resolve_window, utcnow
from ._core.coverage import Coverage, capture, span_text
from ._core.records import UsageRecord
from ._core.source import AsyncRecordSource, RecordSource, is_async_client
from ._core.table import G_END, G_START, RecordTable

if TYPE_CHECKING:  # the report (and the analytics it offers) is imported when first needed
    from ._report import ProviderStatus, UsageReport

__all__ = [
    "AsyncRecordSource",
    "Progress",
    "RecordSource",
    "acollect",
    "collect",
]


@dataclass(frozen=True)
class Progress:
    """A progress event, passed to ``on_progress``.

    Attributes:
        provider: The provider concerned.
        event: ``"started"``, ``"records"`` (more records arrived), ``"done"`` or ``"failed"``.
        records: Records received so far from this provider.
        error: The reason, for ``"failed"``.
    """

    provider: str
    event: str
    records: int
    error: str | None = None


ProgressCallback = Callable[[Progress], None]
_PROGRESS_EVERY = 500
_TABLE_ROWS = 4096  # records that arrive one by one are packed into tables this big


@dataclass
class _Outcome:
    provider: str
    records: list[RecordTable]
    seconds: float
    error: BaseException | None = None
    declared: Sequence[Coverage] = ()


_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _background_loop() -> asyncio.AbstractEventLoop:
    """The event loop that :func:`collect` runs async clients on, started once, on demand."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="usagekit-loop", daemon=True).start()
            _loop = loop
        return _loop


def _provider(client: object) -> str:
    return str(getattr(client, "provider", type(client).__name__))


class _Tracker:
    """Counts records per provider and reports progress (thread-safe enough: one per client)."""

    def __init__(self, provider: str, callback: ProgressCallback | None) -> None:
        self.provider = provider
        self.callback = callback
        self.count = 0

    def emit(self, event: str, error: str | None = None) -> None:
        if self.callback is not None:
            self.callback(Progress(self.provider, event, self.count, error))

    def add(self, count: int = 1) -> None:
        before = self.count
        self.count += count
        if self.count // _PROGRESS_EVERY > before // _PROGRESS_EVERY:
            self.emit("records")


class _Fetch:
    """One provider's fetch under way: its records, its progress and, at the end, its outcome."""

    outcome: _Outcome

    def __init__(self, client: Any, on_progress: ProgressCallback | None) -> None:
        self.tracker = _Tracker(_provider(client), on_progress)
        self.records: list[RecordTable] = []
        self.pending: list[UsageRecord] = []
        self.began = time.monotonic()

    def add(self, record: UsageRecord) -> None:
        """Keep one record that arrived (packed into a table every few thousand)."""
        self.pending.append(record)
        if len(self.pending) >= _TABLE_ROWS:
            self.flush()
        self.tracker.add()

    def add_table(self, table: RecordTable) -> None:
        """Keep the records of one page that arrived as a table."""
        self.flush()
        if len(table):
            self.records.append(table)
            self.tracker.add(len(table))

    def flush(self) -> None:
        """Pack the records that arrived one by one into a table."""
        if self.pending:
            self.records.append(RecordTable.from_records(self.pending))
            self.pending = []

    def end(self, error: Exception | None, declared: Sequence[Coverage]) -> None:
        """Report the end of the fetch and keep its outcome.

        Args:
            error: Why the fetch failed, or None when it completed.
            declared: What the provider said about its span while fetching.
        """
        self.flush()
        if error is None:
            self.tracker.emit("done")
        else:
            self.tracker.emit("failed", f"{type(error).__name__}: {error}")
        seconds = time.monotonic() - self.began
        self.outcome = _Outcome(self.tracker.provider, self.records, seconds, error, declared)


@contextlib.contextmanager
def _fetching(client: Any, on_progress: ProgressCallback | None) -> Iterator[_Fetch]:
    """Run the block as one provider's fetch, for :func:`_drain` and :func:`_adrain`.

    The provider's coverage declarations are captured, and an exception of the block is kept in
    the outcome, not raised: one provider's failure must not lose the others.

    Args:
        client: The provider's client.
        on_progress: The progress callback, if any.

    Yields:
        The fetch, to add records to; its ``outcome`` is set when the block ends.
    """
    fetch = _Fetch(client, on_progress)
    fetch.tracker.emit("started")
    with capture() as declared:
        try:
            yield fetch
        except Exception as exc:
            fetch.end(exc, declared)
            return
    fetch.end(None, declared)


def _tables_of(client: Any) -> Any:
    """The client's page-by-page columnar stream, when it is usagekit's own for ``records``.

    Only a class that defines ``_record_tables`` beside its ``records`` has one: a subclass
    that overrides ``records``, a wrapper or a mock is read through ``records`` itself.
    """
    for klass in type(client).__mro__:
        if "_record_tables" in klass.__dict__:
            if getattr(type(client), "records", None) is not klass.__dict__.get("records"):
                return None
            return client._record_tables
    return None


def _drain(
    client: Any, start: datetime, end: datetime | None, on_progress: ProgressCallback | None
) -> _Outcome:
    with _fetching(client, on_progress) as fetch:
        tables = _tables_of(client)
        if tables is not None:
            for table in tables(start, end):
                fetch.add_table(table)
        else:
            for record in client.records(start, end):
                fetch.add(record)
    return fetch.outcome


async def _adrain(
    client: Any, start: datetime, end: datetime | None, on_progress: ProgressCallback | None
) -> _Outcome:
    with _fetching(client, on_progress) as fetch:
        tables = _tables_of(client)
        if tables is not None:
            async for table in tables(start, end):
                fetch.add_table(table)
        else:
            async for record in client.records(start, end):
                fetch.add(record)
    return fetch.outcome


def _status(outcome: _Outcome, start: datetime, end: datetime | None) -> ProviderStatus:
    """The outcome as a status that says which span the provider's data really covers."""
    return _coverage(
        outcome.provider,
        sum(len(table) for table in outcome.records),
        [_table_span(table) for table in outcome.records if len(table)],
        start,
        end,
        seconds=outcome.seconds,
        error=outcome.error,
        declared=outcome.declared,
    )


def _table_span(table: RecordTable) -> tuple[datetime, datetime]:
    groups = table.groups()
    return min(g[G_START] for g in groups), max(g[G_END] for g in groups)


def coverage_status(
    provider: str,
    records: Sequence[UsageRecord],
    start: datetime,
    end: datetime | None,
    *,
    seconds: float = 0.0,
    error: BaseException | None = None,
    declared: Sequence[Coverage] = (),
) -> ProviderStatus:
    """A provider's status, saying which span its records really cover against the window.

    Args:
        provider: The provider.
        records: Its records.
        start: The window's start.
        end: The window's end, or None for up to now.
        seconds: Time spent fetching.
        error: Why it failed, if it did.
        declared: What the provider said about its span while fetching.

    Returns:
        The status, with ``covered_start``/``covered_end`` and a ``note`` when they differ
        from the window.
    """
    if isinstance(records, RecordTable):
        spans = [_table_span(records)] if len(records) else []
    else:
        spans = [(r.start, r.end) for r in records]
    return _coverage(
        provider,
        len(records),
        spans,
        start,
        end,
        seconds=seconds,
        error=error,
        declared=declared,
    )


def _coverage(
    provider: str,
    records: int,
    spans: list[tuple[datetime, datetime]],
    start: datetime,
    end: datetime | None,
    *,
    seconds: float,
    error: BaseException | None,
    declared: Sequence[Coverage],
) -> ProviderStatus:
    from ._report import ProviderStatus

    spans = [(c.start, c.end) for c in declared] + spans
    covered_start = min((s for s, _ in spans), default=None)
    covered_end = max((e for _, e in spans), default=None)
    notes = list(dict.fromkeys(c.note for c in declared))
    if not notes and records and covered_start is not None and covered_end is not None:
        before = covered_start < start
        after = end is not None and covered_end > end
        if before or after:
            notes.append(
                f"its figures cover {span_text(covered_start, covered_end)}, more than the "
                "window: whole buckets the provider does not split"
            )
    if not notes and not records and error is None:
        notes.append("no data in this window")
    return ProviderStatus(
        provider,
        0 if error is not None else records,
        seconds,
        None if error is None else f"{type(error).__name__}: {error}",
        covered_start,
        covered_end,
        "; ".join(notes) if notes else None,
    )


def _report(outcomes: Sequence[_Outcome], start: datetime, end: datetime | None) -> UsageReport:
    from ._report import ProviderFailure, UsageReport

    failures = [
        ProviderFailure(o.provider, o.error, tuple(r for table in o.records for r in table))
        for o in outcomes
        if o.error is not None
    ]
    statuses = [_status(o, start, end) for o in outcomes]
    kept = RecordTable()
    for outcome in outcomes:
        if outcome.error is None:
            for table in outcome.records:
                kept.extend(table)
    return UsageReport.from_records(
        kept, failures=failures, statuses=statuses, start=start, end=end, as_of=utcnow()
    )


def _window(start: TimeLike | None, end: TimeLike | None) -> tuple[datetime, datetime | None]:
    window = resolve_window(start, end, default_start=month_start())
    return window.start, window.end


def collect(
    clients: Iterable[Any],
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    allocate: bool = False,
) -> UsageReport:
    """Fetch every client's records concurrently and return them as one report.

    Works from a plain script and from a Jupyter cell. The wall time is close to that of the
    slowest provider, not the sum.

    Args:
        clients: Sync and/or async provider clients (anything with ``provider`` and
            ``records(start, end)``), in any mix.
        start: Window start in any accepted form; default the first of this month, UTC.
        end: Window end; default now.
        on_progress: Called with a :class:`Progress` event as providers start, stream and end
            (from worker threads).
        allocate: Return :meth:`UsageReport.allocate` of the report: each cost split exactly
            over the usage that explains it (per user, API key and model).

    Returns:
        The report: records of the providers that succeeded, and failures with their partial
        records.

    Raises:
        ConfigError: A malformed window, before any request.
    """
    begin, finish = _window(start, end)
    clients = list(clients)
    sync_clients = [(i, c) for i, c in enumerate(clients) if not is_async_client(c)]
    async_clients = [(i, c) for i, c in enumerate(clients) if is_async_client(c)]
    outcomes: dict[int, _Outcome] = {}

    async def run_async() -> list[_Outcome]:
        return list(
            await asyncio.gather(
                *(_adrain(c, begin, finish, on_progress) for _, c in async_clients)
            )
        )

    workers = max(1, len(sync_clients))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="usagekit-collect")
    async_future = None
    try:
        futures = {i: pool.submit(_drain, c, begin, finish, on_progress) for i, c in sync_clients}
        if async_clients:
            async_future = asyncio.run_coroutine_threadsafe(run_async(), _background_loop())
        for i, future in futures.items():
            outcomes[i] = future.result()
        if async_future is not None:
            for (i, _), outcome in zip(async_clients, async_future.result(), strict=True):
                outcomes[i] = outcome
    except BaseException:  # Ctrl-C: return to the caller now, not when slow requests end
        if async_future is not None:
            async_future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    report = _report([outcomes[i] for i in range(len(clients))], begin, finish)
    return report.allocate() if allocate else report


async def acollect(
    clients: Iterable[Any],
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    allocate: bool = False,
) -> UsageReport:
    """The async form of :func:`collect`: ``report = await usagekit.acollect(clients)``.

    Async clients run on the current event loop; sync clients run in worker threads.

    Args:
        clients: Sync and/or async provider clients, in any mix.
        start: Window start; default the first of this month, UTC.
        end: Window end; default now.
        on_progress: Called with a :class:`Progress` event as providers start, stream and end.
        allocate: Return the allocated report (see :func:`collect`).

    Returns:
        The report.

    Raises:
        ConfigError: A malformed window, before any request.
    """
    begin, finish = _window(start, end)
    loop = asyncio.get_running_loop()
    clients = list(clients)
    tasks = [
        _adrain(c, begin, finish, on_progress)
        if is_async_client(c)
        else loop.run_in_executor(None, _drain, c, begin, finish, on_progress)
        for c in clients
    ]
    outcomes: list[_Outcome] = list(await asyncio.gather(*tasks))
    report = _report(outcomes, begin, finish)
    return report.allocate() if allocate else report
