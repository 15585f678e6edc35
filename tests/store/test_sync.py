"""sync: incremental, idempotent, resumable, with snapshots of current-period providers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import usagekit
from usagekit import ConfigError, UsageRecord
from usagekit._store.store import Store
from usagekit._store.sync import CURRENT_PERIOD_PROVIDERS, SyncClient, sync

from ._fakes import BASE, DAY, HOUR, FakeClient, current_period, openai_like, rows

UNTIL = BASE + 2 * DAY + 5 * HOUR + timedelta(minutes=30)
LATER = BASE + 3 * DAY + 2 * HOUR + timedelta(minutes=15)


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "usage.sqlite")


def expected_rows(records: list[UsageRecord], tmp_path: Path) -> set[tuple[Any, ...]]:
    """The rows a store holds after a plain upsert of ``records``: the reference state."""
    reference = str(tmp_path / "reference.sqlite")
    with Store(reference) as store:
        with store._write() as conn:
            conn.execute("DELETE FROM records")
        store.upsert(records)
    return rows(reference)


def test_sync_twice_gives_no_duplicates(path: str, tmp_path: Path) -> None:
    data = openai_like(UNTIL)
    client = FakeClient("openai", data)
    with Store(path) as store:
        first = sync(store, [client], since=BASE, now=UNTIL)
        second = sync(store, [client], now=UNTIL + timedelta(minutes=1))
        assert store.count() == len(data)
    assert first.ok and second.ok
    assert first.written == len(data)
    assert rows(path) == expected_rows(data, tmp_path)
    # The second fetch starts at the open daily cost bucket, not at the beginning.
    assert client.calls == [(BASE, None), (BASE + 2 * DAY, None)]
    assert second.providers[0].start == BASE + 2 * DAY
    assert second.written == sum(r.end > BASE + 2 * DAY for r in data)


def test_growing_data_refetches_the_open_buckets(path: str, tmp_path: Path) -> None:
    cutoff = [UNTIL]
    client = FakeClient("openai", lambda: openai_like(cutoff[0]))
    with Store(path) as store:
        sync(store, [client], since=BASE, now=UNTIL)
        cutoff[0] = LATER
        result = sync(store, [client], now=LATER)
    assert result.ok and result.providers[0].start == BASE + 2 * DAY
    assert rows(path) == expected_rows(openai_like(LATER), tmp_path)
    partial = {r.id: r.quantity for r in openai_like(UNTIL)}
    final = {r.id: r.quantity for r in openai_like(LATER)}
    assert any(partial[key] != final[key] for key in partial)  # the open buckets did change


def moving_end(until: datetime) -> list[UsageRecord]:
    """Daramex-like: hourly buckets, the last one clipped at the fetch time."""
    records = []
    moment = BASE
    while moment < until:
        end = min(moment + HOUR, until)
        records.append(
            UsageRecord.trusted(
                provider="daramex",
                source="time_series",
                start=moment,
                end=end,
                metric="total_tokens",
                quantity=Decimal(int((end - moment) / timedelta(minutes=1))),
                unit="tokens",
            )
        )
        moment += HOUR
    return records


def test_a_partial_bucket_whose_end_moves_is_replaced(path: str, tmp_path: Path) -> None:
    first_cut = BASE + 10 * HOUR + timedelta(minutes=30)
    second_cut = BASE + 12 * HOUR + timedelta(minutes=15)
    cutoff = [first_cut]
    client = FakeClient("daramex", lambda: moving_end(cutoff[0]))
    with Store(path) as store:
        sync(store, [client], since=BASE, now=first_cut)
        cutoff[0] = second_cut
        result = sync(store, [client], now=second_cut)
        tokens = sum(r.quantity for r in store.records())
    assert result.providers[0].start == BASE + 10 * HOUR
    assert result.providers[0].removed == 1  # [10:00, 10:30) gave way to [10:00, 11:00)
    assert str(result) == (
        "daramex: 3 records written, fetched from 2026-05-01T10:00:00+00:00, 1 stale removed"
    )
    assert rows(path) == expected_rows(moving_end(second_cut), tmp_path)
    assert tokens == 12 * 60 + 15


def test_a_failing_provider_keeps_what_it_wrote_and_does_not_stop_others(
    path: str, tmp_path: Path
) -> None:
    data = openai_like(UNTIL)
    broken = FakeClient("openai", data, fail_after=25)
    basedash = FakeClient("basedash", current_period("basedash", UNTIL, "3.50"))
    with Store(path) as store:
        result = sync(store, [broken, basedash], since=BASE, now=UNTIL, batch_size=10)
        assert store.count(provider="openai") == 20  # two committed batches of ten
        assert store.count(provider="basedash") == 2
    assert not result.ok
    assert str(result).splitlines() == [
        "openai: failed after 20 records (RuntimeError: openai went away after 25 records)",
        "basedash: 2 records written, fetched from 2026-05-01T00:00:00+00:00, snapshot 1 kept",
    ]
    (failure,) = result.failures
    assert failure.provider == "openai" and failure.written == 20
    assert failure.error == "RuntimeError: openai went away after 25 records"
    assert isinstance(failure.exception, RuntimeError)
    assert broken.closed == 1

    healthy = FakeClient("openai", data)
    with Store(path) as store:
        again = sync(store, [healthy], now=UNTIL + timedelta(minutes=5), batch_size=10)
    assert again.ok
    assert healthy.calls == [(BASE, None)]  # resumes from the failed run's start
    assert rows(path) == expected_rows(data + current_period("basedash", UNTIL, "3.50"), tmp_path)


def test_current_period_fetches_are_kept_as_snapshots(path: str) -> None:
    spent = ["1.25", "2.50", "4.00"]
    fetched = [BASE + DAY, BASE + 2 * DAY, BASE + 3 * DAY]
    with Store(path) as store:
        for moment, amount in zip(fetched, spent, strict=True):
            client = FakeClient("basedash", current_period("basedash", moment, amount))
            result = sync(store, [client], now=moment)
            assert result.providers[0].snapshot_id is not None
        failing = FakeClient("basedash", current_period("basedash", BASE, "9.99"), fail_after=1)
        assert not sync(store, [failing], now=BASE + 4 * DAY, batch_size=1).ok
        unsiloed = FakeClient("unsiloed", current_period("unsiloed", BASE, "7"))
        openai = FakeClient("openai", openai_like(BASE + HOUR))
        mixed = sync(store, [unsiloed, openai], since=BASE, now=BASE + 5 * DAY)
        history = list(store.snapshots("basedash"))
        assert [p.snapshot_id is None for p in mixed.providers] == [False, True]
        assert [s.provider for s in store.snapshots()] == ["basedash"] * 3 + ["unsiloed"]
    assert [s.fetched_at for s in history] == fetched  # no snapshot of the failed fetch
    assert [[str(r.quantity) for r in s.records] for s in history] == [[a, a] for a in spent]


def test_since_backfills_but_never_leaves_a_gap(path: str) -> None:
    data = openai_like(UNTIL)
    client = FakeClient("openai", data)
    with Store(path) as store:
        sync(store, [client], since=BASE + DAY, now=UNTIL)
        assert store.count() == sum(r.end > BASE + DAY for r in data)
        sync(store, [client], since=BASE, now=UNTIL)  # earlier than the watermark
        assert store.count() == len(data)
        sync(store, [client], since=UNTIL + DAY, now=UNTIL)  # later: the watermark wins
    assert [call[0] for call in client.calls] == [BASE + DAY, BASE, BASE + 2 * DAY]


def test_an_idle_source_does_not_drag_the_fetch_back(path: str) -> None:
    long_ago = BASE - 100 * DAY
    image = UsageRecord.trusted(
        provider="openai",
        source="images",
        start=long_ago,
        end=long_ago + HOUR,
        metric="images",
        quantity=Decimal(3),
        unit="images",
    )
    client = FakeClient("openai", lambda: [image, *openai_like(cutoff[0])])
    cutoff = [UNTIL]
    with Store(path) as store:
        sync(store, [client], since=long_ago, now=UNTIL)
        for day in range(1, 4):
            cutoff[0] = UNTIL + day * DAY
            assert sync(store, [client], now=cutoff[0]).ok
        assert store.count(source="images") == 1
        assert store.count() == 1 + len(openai_like(cutoff[0]))
    assert [call[0] for call in client.calls] == [
        long_ago,
        long_ago + HOUR,  # the images bucket was complete when fetched: only what follows
        BASE + 3 * DAY,  # images idle since the last fetch began: left out
        BASE + 4 * DAY,
    ]


def test_nothing_stored_and_no_since_uses_the_client_default(path: str) -> None:
    client = FakeClient("openai", openai_like(BASE + 2 * HOUR))
    with Store(path) as store:
        assert sync(store, [client]).ok
        assert sync(store, [client]).ok
    assert client.calls[0] == (None, None)
    assert client.calls[1][0] is not None


class AsyncClient:
    provider = "openai"

    def records(self, start: Any = None, end: Any = None) -> Any:
        async def stream() -> Any:
            yield None

        return stream()


class NoProvider:
    def records(self, start: Any = None, end: Any = None) -> Iterator[UsageRecord]:
        return iter(())


def test_an_async_client_fails_clearly(path: str) -> None:
    with Store(path) as store:
        result = sync(store, [AsyncClient()])
    (failure,) = result.failures
    assert failure.error is not None and "async" in failure.error


class GivesNothing:
    provider = "basedash"

    def records(self, start: Any = None, end: Any = None) -> Any:
        return None


def test_a_client_whose_records_are_not_iterable_fails_clearly(path: str) -> None:
    with Store(path) as store:
        result = sync(store, [GivesNothing()])
        assert store.count() == 0
    (failure,) = result.failures
    assert not result.ok and isinstance(failure.exception, ConfigError)
    assert failure.error is not None and "not an iterable of records" in failure.error


@pytest.mark.parametrize(
    ("clients", "kwargs", "message"),
    [
        ([NoProvider()], {}, "non-empty str attribute 'provider'"),
        ([FakeClient("openai", []), FakeClient("openai", [])], {}, "one client per provider"),
        ([FakeClient("openai", [])], {"since": "then"}, "ISO-8601"),
        ([FakeClient("openai", [])], {"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_arguments_are_config_errors(
    path: str, clients: list[Any], kwargs: dict[str, Any], message: str
) -> None:
    with Store(path) as store, pytest.raises(ConfigError, match=message):
        sync(store, clients, **kwargs)


def test_a_record_of_another_provider_fails_that_provider(path: str) -> None:
    liar = FakeClient("basedash", openai_like(BASE + HOUR))
    with Store(path) as store:
        result = sync(store, [liar], since=BASE)
        assert store.count() == 0 and list(store.snapshots()) == []
    assert result.failures[0].error is not None
    assert "records of 'basedash' expected" in result.failures[0].error


def _clients_as_protocol(
    openai: usagekit.OpenAIClient,
    basedash: usagekit.BasedashClient,
    unsiloed: usagekit.UnsiloedClient,
    daramex: usagekit.DaramexClient,
) -> list[SyncClient]:
    """Type-checked by mypy: usagekit's own sync clients fit the protocol sync() takes."""
    return [openai, basedash, unsiloed, daramex]


def test_usagekit_clients_fit_the_protocol() -> None:
    names = {
        usagekit.OpenAIClient.provider,
        usagekit.BasedashClient.provider,
        usagekit.UnsiloedClient.provider,
        usagekit.DaramexClient.provider,
    }
    assert names == {"openai", "basedash", "unsiloed", "daramex"}
    assert names >= CURRENT_PERIOD_PROVIDERS


class Interrupted:
    """A current-period provider whose fetch is interrupted (Ctrl-C) after one record."""

    provider = "basedash"

    def records(self, start: Any = None, end: Any = None) -> Iterator[UsageRecord]:
        yield current_period("basedash", UNTIL, "1.00")[0]
        raise KeyboardInterrupt


def test_an_interrupted_sync_re_raises_and_leaves_no_unfinished_snapshot(path: str) -> None:
    import sqlite3

    with Store(path) as store, pytest.raises(KeyboardInterrupt):
        sync(store, [Interrupted()], now=UNTIL, batch_size=1)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM snapshots").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM snapshot_records").fetchone() == (0,)


def test_lookback_picks_up_late_revisions_of_closed_buckets(path: str) -> None:
    data = openai_like(UNTIL)
    closed = data[0]  # a bucket long closed at the first sync
    current: dict[str, list[UsageRecord]] = {"records": data}
    client = FakeClient("openai", lambda: current["records"])
    revised = [
        r.model_copy(update={"quantity": r.quantity + 1}) if r.id == closed.id else r for r in data
    ]
    with Store(path) as store:
        sync(store, [client], since=BASE, now=UNTIL)
        current["records"] = revised  # the provider finalises an old figure

        sync(store, [client], now=LATER)  # only open buckets are fetched again
        (kept,) = (r for r in store.records(provider="openai") if r.id == closed.id)
        assert kept.quantity == closed.quantity

        sync(store, [client], now=LATER, lookback=LATER - BASE)
        (fixed,) = (r for r in store.records(provider="openai") if r.id == closed.id)
        assert fixed.quantity == closed.quantity + 1
        assert store.count(provider="openai") == len(data)  # replaced, nothing duplicated
    with Store(path) as store, pytest.raises(ConfigError, match="lookback"):
        sync(store, [client], lookback=-DAY)


@pytest.mark.parametrize(
    ("kwargs", "fetched_from"),
    [
        ({"lookback": timedelta(days=1, hours=3, minutes=20)}, BASE + DAY),  # inside day 2
        ({"since": BASE + DAY + timedelta(hours=7, minutes=13)}, BASE + DAY),
        ({"since": BASE + timedelta(seconds=1)}, BASE),
        ({"since": BASE + DAY}, BASE + DAY),  # on a boundary: stays
    ],
)
def test_a_start_inside_a_stored_bucket_moves_to_the_bucket_start(
    path: str, tmp_path: Path, kwargs: dict[str, Any], fetched_from: datetime
) -> None:
    """Re-fetching from inside a bucket would bring back that bucket cut at the start, under
    its own id or beside it: either way history would change."""
    data = openai_like(UNTIL)
    client = FakeClient("openai", data)
    with Store(path) as store:
        assert sync(store, [client], since=BASE, now=UNTIL).ok
        result = sync(store, [client], now=UNTIL, **kwargs)
        assert result.ok and result.providers[0].start == fetched_from
        assert result.providers[0].removed == 0
    assert client.calls[-1] == (fetched_from, None)
    assert rows(path) == expected_rows(data, tmp_path)


class InStoredBuckets(FakeClient):
    """A client with ``sync_records``: told the stored bucket lengths, serves that grain."""

    def __init__(self) -> None:
        super().__init__("daramex", [])
        self.hints: list[dict[str, timedelta]] = []

    def sync_records(self, start: datetime | None, *, bucket_lengths: Any) -> Iterator[UsageRecord]:
        self.hints.append(dict(bucket_lengths))
        width = bucket_lengths.get("time_series", DAY)
        self._source = _grain(width, UNTIL)
        return self.records(start)


def _grain(width: timedelta, until: datetime) -> list[UsageRecord]:
    records = []
    moment = BASE
    while moment < until:
        records.append(
            UsageRecord.trusted(
                provider="daramex",
                source="time_series",
                start=moment,
                end=moment + width,
                metric="total_tokens",
                quantity=Decimal(int(width / HOUR)),
                unit="tokens",
            )
        )
        moment += width
    return records


def test_a_client_with_sync_records_is_told_the_stored_bucket_lengths(path: str) -> None:
    client = InStoredBuckets()
    with Store(path) as store:
        assert sync(store, [client], since=BASE, now=UNTIL).ok
        assert sync(store, [client], now=UNTIL, lookback=timedelta(hours=30)).ok
        assert store._bucket_lengths("daramex") == {"time_series": DAY}
        assert store._bucket_lengths("openai") == {}
        lengths = {r.end - r.start for r in store.records()}
    assert client.hints == [{}, {"time_series": DAY}]
    assert lengths == {DAY}
