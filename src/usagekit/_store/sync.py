"""Incremental sync: fetch what is new from each provider into a :class:`~usagekit.Store`.

Safe to run from cron. Every batch (``batch_size`` records, 20,000 by default) is its own
transaction, so a crash or a provider failure loses nothing already written, and the next run
starts where the store says it must; one provider failing does not stop the others; two
syncs at once serialize their writes (WAL, a busy timeout and ``BEGIN IMMEDIATE``) and upsert
by record id, so they cannot duplicate or corrupt anything.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from .._collect import _tables_of
from .._core.clock import TimeLike, as_utc, utcnow
from .._core.errors import ConfigError, StoreError
from .._core.records import UsageRecord
from .._core.source import is_async_client
from .._providers import PROVIDERS
from ._rows import DEFAULT_BATCH_SIZE, check_batch_size
from ._session import SyncSession
from .store import Store

__all__ = ["CURRENT_PERIOD_PROVIDERS", "ProviderSync", "SyncClient", "SyncResult", "sync"]

CURRENT_PERIOD_PROVIDERS: frozenset[str] = frozenset(
    name for name, info in PROVIDERS.items() if info.current_period
)
"""Providers that report only the current billing period: every fetch of theirs is also kept as
a snapshot, since nobody else keeps their history."""


class SyncClient(Protocol):
    """What :func:`sync` needs of a client: a provider name and a record stream.

    Every usagekit sync client (``OpenAIClient``, ``BasedashClient``, ...) fits.

    A client may also have a method ``sync_records(start, *, bucket_lengths)``, which
    :func:`sync` then calls instead of ``records(start=start)`` with, per source, the usual
    length of the buckets already stored (empty when nothing is): a client whose bucket width
    depends on the request (Daramex picks hours for a short window, days for a longer one)
    uses it to fetch in the buckets the store holds, so that a re-fetch replaces them instead
    of adding finer buckets beside them.
    """

    @property
    def provider(self) -> str:
        """The provider's name (a class attribute on usagekit's clients)."""
        ...

    def records(
        self, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> Iterable[UsageRecord]:
        """Return the provider's records overlapping ``[start, end)``."""
        ...


@dataclass(frozen=True)
class ProviderSync:
    """What a sync did for one provider.

    Attributes:
        provider: The provider.
        start: Where the fetch started (None: the client's default window).
        written: Records written (new or replaced).
        removed: Stale stored records deleted because the complete fetch superseded them (a
            partial bucket whose end moved, a group no longer reported).
        snapshot_id: The snapshot kept for a current-period provider, else None.
        error: ``"ErrorType: message"`` when the provider failed, else None. Records written
            before the failure are kept, and the next sync fetches again from ``start``.
        exception: The exception itself, when the provider failed.
    """

    provider: str
    start: datetime | None
    written: int
    removed: int = 0
    snapshot_id: int | None = None
    error: str | None = None
    exception: Exception | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the provider was synced completely."""
        return self.error is None

    def __str__(self) -> str:
        since = "its default window" if self.start is None else self.start.isoformat()
        if self.error is not None:
            return f"{self.provider}: failed after {self.written:,} records ({self.error})"
        text = f"{self.provider}: {self.written:,} records written, fetched from {since}"
        if self.removed:
            text += f", {self.removed:,} stale removed"
        if self.snapshot_id is not None:
            text += f", snapshot {self.snapshot_id} kept"
        return text


@dataclass(frozen=True)
class SyncResult:
    """The outcome of :func:`sync`.

    Attributes:
        fetched_at: The moment the sync recorded as its fetch time.
        providers: One entry per client, in the order given.
    """

    fetched_at: datetime
    providers: tuple[ProviderSync, ...]

    @property
    def ok(self) -> bool:
        """Whether every provider was synced completely."""
        return all(entry.ok for entry in self.providers)

    @property
    def failures(self) -> tuple[ProviderSync, ...]:
        """The providers that failed."""
        return tuple(entry for entry in self.providers if not entry.ok)

    @property
    def written(self) -> int:
        """Records written over all providers."""
        return sum(entry.written for entry in self.providers)

    def __str__(self) -> str:
        """One line per provider, for a person or a cron log."""
        return "\n".join(str(entry) for entry in self.providers)


def _provider_of(client: object) -> str:
    provider = getattr(client, "provider", None)
    if not isinstance(provider, str) or not provider:
        raise ConfigError(
            f"a sync client needs a non-empty str attribute 'provider'; "
            f"{type(client).__name__} has {provider!r}"
        )
    records = getattr(client, "records", None)
    if not callable(records):
        raise ConfigError(
            f"a sync client needs a records() method; {type(client).__name__} has none"
        )
    if is_async_client(client):
        raise ConfigError(
            f"the {provider} client is async; sync() needs the sync client of the provider"
        )
    return provider


def sync(
    store: Store,
    clients: Iterable[SyncClient],
    *,
    since: TimeLike | None = None,
    now: TimeLike | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lookback: timedelta | None = None,
) -> SyncResult:
    """Fetch each client's new records into ``store``, incrementally.

    Per provider the fetch starts at its watermark: the start of the latest stored bucket of
    each source, which may have been partial when fetched and is fetched again and replaced
    (upsert by record id); the earliest over the provider's sources is used (buckets fetched
    after they closed are not fetched again, idle sources are left out; see
    :meth:`Store.begin_sync`). If the provider's previous sync did not finish (a crash, a
    failure), the fetch starts no later than that one did, so the store ends as if it had
    never been interrupted. With nothing stored yet the fetch starts at ``since`` (None: the
    client's own default window); a ``since`` earlier than the watermark back-fills.

    A completed fetch is the provider's truth for the window it covered: stored records of
    the sources it returned, starting at or after its first record of that source, that it
    did not write again are deleted as stale (a partial bucket whose end moved with the fetch
    time, as Daramex's does). Current-period providers are exempt: they forget past periods.

    usagekit's own OpenAI and Anthropic clients are read page by page in columns (their
    ``_record_tables``, the pages their ``records()`` build records from), and rows are encoded
    straight from them: the same rows as from their records, without a record object each.
    Their batches are written on a writer thread while this thread fetches the next pages
    (SQLite runs without holding the GIL): at most two batches wait for it, each still its own
    transaction in order, every failure still this provider's, and the thread is joined before
    the provider's entry is made, whatever happened. Every other client (and a subclass
    overriding ``records``) is read through ``records()``, one batch after the other.

    Records of a current-period provider (:data:`CURRENT_PERIOD_PROVIDERS`) are also kept as
    a snapshot of this fetch (see :meth:`Store.snapshots`); a failed fetch leaves no snapshot.

    A re-fetch never rewrites history: a start that falls inside a stored bucket (a ``since``
    or a ``lookback`` off a bucket boundary) moves back to that bucket's start, clients fetch
    whole buckets (OpenAI's ``records`` aligns its window to the bucket width), and a client
    with ``sync_records`` fetches in the buckets already stored (Daramex: the stored
    granularity, ``day`` for a new store), so a span fetched again replaces exactly what it
    fetched before.

    Args:
        store: The store to write to.
        clients: Objects with a ``provider`` name and ``records(start=None, end=None)``
            returning an iterable of records (sync clients; one per provider).
        since: Where to start a provider with nothing stored, or an earlier point to
            back-fill from.
        now: The fetch time recorded for snapshots and runs; None: the clock.
        batch_size: Records per transaction.
        lookback: For a provider with records stored, also fetch again everything since
            ``now - lookback``, so that late revisions of closed buckets (OpenAI's costs are
            finalised hours later) replace the figures stored before; None: only the open
            buckets are fetched again.

    Returns:
        What was written per provider, with the failures.

    Raises:
        ConfigError: A client without ``provider``/``records``, two clients of one provider,
            an async client, or a bad argument. Provider failures are not raised; they are in
            the result (a store failure while a provider is written, such as a full disk, is
            that provider's failure).
        StoreError: The store is read-only (before anything is fetched), or cannot be read.
    """
    client_list = list(clients)
    providers = [_provider_of(client) for client in client_list]
    duplicates = sorted({name for name in providers if providers.count(name) > 1})
    if duplicates:
        raise ConfigError(f"one client per provider; got several for {', '.join(duplicates)}")
    since_dt = None if since is None else as_utc(since, name="since")
    fetched_at = utcnow() if now is None else as_utc(now, name="now")
    size = check_batch_size(batch_size)
    if lookback is not None and (not isinstance(lookback, timedelta) or lookback < timedelta(0)):
        raise ConfigError(f"lookback must be a non-negative timedelta, got {lookback!r}")
    if store.read_only:
        raise StoreError(
            f"cannot sync into the store {store.path!r}: it is open read-only; sync needs write "
            "access to the file and to its directory",
            path=store.path,
            reason="read_only",
        )

    def start_for(provider: str) -> datetime | None:
        if lookback is None or not store._holds(provider):
            return since_dt
        revisit = fetched_at - lookback  # an earlier since re-fetches (see above)
        return revisit if since_dt is None else min(since_dt, revisit)

    return SyncResult(
        fetched_at=fetched_at,
        providers=tuple(
            _sync_one(store, client, provider, start_for(provider), fetched_at, size)
            for client, provider in zip(client_list, providers, strict=True)
        ),
    )


def _close(stream: object) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()


def _fetch(
    session: SyncSession, client: SyncClient
) -> tuple[Iterable[UsageRecord] | None, Iterable[object] | None]:
    """Start the client's fetch: ``sync_records`` (in the stored buckets) when it has one,
    else the pages of usagekit's own columnar stream when it has one (see
    :func:`usagekit._collect._tables_of`: the class defining ``_record_tables`` also defines
    the ``records`` in use), else ``records``.

    Returns:
        The stream of records, or (the other one None) the stream of record tables.
    """
    in_stored_buckets = getattr(client, "sync_records", None)
    if callable(in_stored_buckets):
        lengths: Mapping[str, timedelta] = session.bucket_lengths()
        stream: Iterable[UsageRecord] = in_stored_buckets(session.start, bucket_lengths=lengths)
        return stream, None
    tables = _tables_of(client)
    if tables is not None:
        pages: Iterable[object] = tables(session.start, None)
        return None, pages
    return client.records(start=session.start, end=None), None


def _sync_one(
    store: Store,
    client: SyncClient,
    provider: str,
    since: datetime | None,
    fetched_at: datetime,
    batch_size: int,
) -> ProviderSync:
    session: SyncSession | None = None
    current_period = provider in CURRENT_PERIOD_PROVIDERS
    try:
        session = store.begin_sync(provider, fetched_at, since=since)
        # Leaving the block with an exception records the failure: the run stays unfinished,
        # so the next sync starts no later than this one did, and its snapshot is dropped.
        with session:
            if current_period:
                session.open_snapshot(fetched_at)
            records, tables = _fetch(session, client)
            stream = records if tables is None else tables
            if inspect.isawaitable(stream) or hasattr(stream, "__aiter__"):
                _close(stream)
                raise ConfigError(
                    f"the {provider} client is async; sync() needs the sync client of the provider"
                )
            try:
                if tables is not None:  # the same rows, encoded from the pages' columns
                    session._write_tables(tables, batch_size=batch_size)
                elif records is None or not hasattr(records, "__iter__"):
                    raise ConfigError(
                        f"the {provider} client's records() gave {type(records).__name__}, "
                        "not an iterable of records"
                    )
                else:
                    session.write_stream(records, batch_size=batch_size)
            finally:
                _close(stream)
            # A current-period provider forgets past periods: its fetch supersedes nothing.
            removed = session.commit(supersede=not current_period)
    except Exception as exc:  # the provider's failure (an interruption is raised)
        return ProviderSync(
            provider=provider,
            start=None if session is None else session.start,
            written=0 if session is None else session.written,
            error=f"{type(exc).__name__}: {exc}",
            exception=exc,
        )
    return ProviderSync(
        provider=provider,
        start=session.start,
        written=session.written,
        removed=removed,
        snapshot_id=session.snapshot_id,
    )
