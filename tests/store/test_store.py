"""Store: exact round trips, idempotent upserts, filters, snapshots, streaming."""

from __future__ import annotations

import sqlite3
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import usagekit
from usagekit import ConfigError, UsageRecord
from usagekit._store.store import Store

UTC = timezone.utc
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def make(**fields: Any) -> UsageRecord:
    base: dict[str, Any] = {
        "provider": "openai",
        "source": "completions",
        "start": T0,
        "end": T0 + timedelta(hours=1),
        "metric": "input_tokens",
        "quantity": Decimal(10),
        "unit": "tokens",
    }
    base.update(fields)
    return UsageRecord(**base)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "usage.sqlite") as opened:
        yield opened


EXACT = [
    make(quantity=Decimal("0.000000000000000000000000000001")),
    make(metric="cost", unit="USD", quantity=Decimal("1.50")),  # trailing zero kept
    make(metric="cost", unit="EUR", quantity=Decimal("-3.1E+2")),
    make(quantity=Decimal(2**80), model="gpt-4o", project_id="proj_1"),
    make(
        start=datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        end=datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        quantity=Decimal("7"),
    ),
    make(
        kind="level",
        metric="usage_bytes",
        unit="bytes",
        organization_id="org",
        user_id="u",
        user_email="a@example.com",
        api_key_id="key_1",
        line_item="gpt-4o, input",
        attributes={"batch": "true", "ünïcode": "✓", "quote": "'\"", "empty": ""},
    ),
]


def test_round_trip_is_exact(store: Store) -> None:
    assert store.upsert(EXACT) == len(EXACT)
    back = {record.id: record for record in store.records()}
    assert len(back) == len(EXACT)
    for original in EXACT:
        copy = back[original.id]
        assert copy == original
        assert str(copy.quantity) == str(original.quantity)  # the same digits and exponent
        assert copy.start.tzinfo == UTC and copy.start == original.start


quantities = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d.adjusted()) < 10_000
)
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    quantity=quantities,
    micros=st.integers(-(10**15), 10**16),
    length=st.integers(1, 10**12),
    model=st.none() | texts,
    attributes=st.dictionaries(texts, texts, max_size=4),
)
def test_round_trip_any_record(
    tmp_path: Path,
    quantity: Decimal,
    micros: int,
    length: int,
    model: str | None,
    attributes: dict[str, str],
) -> None:
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    original = make(
        quantity=quantity,
        start=start,
        end=start + timedelta(microseconds=length),
        model=model,
        attributes=attributes,
    )
    with Store(tmp_path / "hypothesis.sqlite") as store:
        store.upsert([original])
        (copy,) = store.records(provider="openai", model=model)
        assert copy == original and str(copy.quantity) == str(original.quantity)
        with store._write() as conn:
            conn.execute("DELETE FROM records")


def test_upsert_twice_is_one_row_and_a_correction_replaces(store: Store) -> None:
    first = make(quantity=Decimal(10))
    store.upsert([first])
    store.upsert([first])
    assert store.count() == 1
    corrected = make(quantity=Decimal("10.5"))
    assert corrected.id == first.id
    store.upsert([corrected, make(model="o3")])
    assert store.count() == 2
    assert [r.quantity for r in store.records(model=None)] == [Decimal("10.5")]
    # OpenAI costs' own quantity attribute is a measure: its correction replaces too.
    for billed in ("1", "2"):
        attributes = {"quantity": billed, "quantity_unit": "tokens"}
        store.upsert([make(metric="cost", unit="USD", attributes=attributes)])
    (again,) = store.records(metric="cost")
    assert again.attributes["quantity"] == "2"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, ["a", "b", "c"]),
        ("2026-05-01T01:00Z", None, ["b", "c"]),  # "a" ends exactly at the window start
        ("2026-05-01T00:59Z", None, ["a", "b", "c"]),
        (None, "2026-05-01T02:00Z", ["a", "b"]),  # "c" starts exactly at the window end
        ("2026-05-01T01:30Z", "2026-05-01T01:31Z", ["b"]),  # inside a longer record
        ("2026-05-02", "2026-05-03", []),
    ],
)
def test_window_selects_by_overlap(
    store: Store, start: str | None, end: str | None, expected: list[str]
) -> None:
    store.upsert(
        [
            make(model="a", start=T0, end=T0 + timedelta(hours=1)),
            make(model="b", start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2)),
            make(model="c", start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=3)),
        ]
    )
    assert [r.model for r in store.records(start, end)] == expected
    assert store.count(start, end) == len(expected)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"provider": "openai"}, 3),
        ({"provider": "basedash"}, 1),
        ({"provider": ["openai", "basedash"]}, 4),
        ({"provider": ()}, 0),
        ({"source": "costs", "metric": "cost"}, 1),
        ({"model": "gpt-4o"}, 2),
        ({"model": None}, 2),
        ({"model": "gpt-4o", "project_id": "p2"}, 1),
        ({"unit": "USD"}, 2),
        ({"kind": "level"}, 0),
    ],
)
def test_filters(store: Store, filters: dict[str, Any], expected: int) -> None:
    store.upsert(
        [
            make(model="gpt-4o", project_id="p1"),
            make(model="gpt-4o", project_id="p2"),
            make(source="costs", metric="cost", unit="USD"),
            make(provider="basedash", source="ai_usage", metric="cost", unit="USD"),
        ]
    )
    assert len(list(store.records(**filters))) == expected == store.count(**filters)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"colour": "red"}, "unknown filter"),
        ({"quantity": "1"}, "unknown filter"),
        ({"model": 3}, "must be a string"),
        ({"model": ["a", 3]}, "must be a string"),
        ({"start": "2026-05-02", "end": "2026-05-01"}, "start must be before end"),
        ({"start": "whenever"}, "ISO-8601"),
    ],
)
def test_bad_queries_are_config_errors(store: Store, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        store.records(**kwargs)  # checked at once, not when iteration starts
    with pytest.raises(ConfigError, match=message):
        store.count(**kwargs)


def test_writing_while_reading(store: Store) -> None:
    store.upsert(make(model=str(n)) for n in range(50))
    for seen, record in enumerate(store.records(), start=1):
        store.upsert([make(model=record.model, quantity=record.quantity + seen)])
    assert store.count() == 50
    assert sum(r.quantity for r in store.records()) == 50 * 10 + sum(range(1, 51))


def test_upsert_refuses_what_is_not_a_record(store: Store) -> None:
    with pytest.raises(ConfigError, match="UsageRecord"):
        store.upsert([make(), {"metric": "cost"}])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="batch_size"):
        store.upsert([make()], batch_size=0)
    assert store.count() == 0  # the first batch never reached the database


def test_a_failing_stream_keeps_the_batches_before_it(store: Store) -> None:
    def stream() -> Iterator[UsageRecord]:
        for hour in range(25):
            yield make(start=T0 + timedelta(hours=hour), end=T0 + timedelta(hours=hour + 1))
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        store.upsert(stream(), batch_size=10)
    assert store.count() == 20


def test_upsert_and_read_stream_in_bounded_memory(tmp_path: Path) -> None:
    total = 6_000

    def generate() -> Iterator[UsageRecord]:
        for index in range(total):
            start = T0 + timedelta(minutes=index)
            yield UsageRecord.trusted(
                provider="openai",
                source="completions",
                start=start,
                end=start + timedelta(minutes=1),
                metric="input_tokens",
                quantity=Decimal(index),
                unit="tokens",
                model="gpt-4o",
            )

    def peak(work: Any) -> int:
        tracemalloc.start()
        try:
            work()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    held = peak(lambda: list(generate()))  # what holding every record costs
    with Store(tmp_path / "big.sqlite") as store:
        writing = peak(lambda: store.upsert(generate(), batch_size=200))
        reading = peak(lambda: sum(1 for _ in store.records(model="gpt-4o")))
        assert store.count() == total
    assert writing < held / 5, (writing, held)
    assert reading < held / 5, (reading, held)


def test_snapshots_keep_every_fetch(store: Store) -> None:
    period = {"start": T0, "end": T0 + timedelta(days=31), "metric": "cost", "unit": "USD"}
    fetches = [
        ("2026-05-02T06:00Z", "4.10"),
        ("2026-05-03T06:00Z", "9.35"),
        ("2026-05-04T06:00Z", "15.00"),
    ]
    for fetched_at, spent in fetches:
        records = [make(provider="basedash", source="ai_usage", quantity=Decimal(spent), **period)]
        store.add_snapshot("basedash", fetched_at, records)
    store.add_snapshot(
        "unsiloed",
        "2026-05-03T07:00Z",
        [make(provider="unsiloed", source="usage", metric="credits_used", unit="credits")],
    )

    history = list(store.snapshots("basedash"))
    assert [(s.fetched_at.isoformat(), str(s.records[0].quantity)) for s in history] == [
        ("2026-05-02T06:00:00+00:00", "4.10"),
        ("2026-05-03T06:00:00+00:00", "9.35"),
        ("2026-05-04T06:00:00+00:00", "15.00"),
    ]
    assert len({s.snapshot_id for s in history}) == 3
    assert [s.provider for s in store.snapshots()] == [
        "basedash",
        "basedash",
        "unsiloed",
        "basedash",
    ]
    window = store.snapshots(start="2026-05-03", end="2026-05-04T06:00Z")
    assert [s.provider for s in window] == ["basedash", "unsiloed"]
    assert store.count() == 0  # snapshots do not write the records table


def test_a_failed_snapshot_leaves_nothing(store: Store) -> None:
    def broken() -> Iterator[UsageRecord]:
        yield make(provider="basedash")
        raise RuntimeError("fetch failed")

    with pytest.raises(RuntimeError):
        store.add_snapshot("basedash", T0, broken(), batch_size=1)
    with pytest.raises(ConfigError, match="records of 'basedash' expected"):
        store.add_snapshot("basedash", T0, [make(provider="openai")])
    with pytest.raises(ConfigError, match="provider must be"):
        store.add_snapshot("", T0, [])
    assert list(store.snapshots()) == []
    with store._write() as conn:
        assert conn.execute("SELECT COUNT(*) FROM snapshot_records").fetchone() == (0,)


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    with Store(path) as store:
        store.upsert(EXACT)
    with Store(str(path)) as store:
        assert sorted(r.id for r in store.records()) == sorted(r.id for r in EXACT)
        assert store._conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert repr(Store(path)) == f"Store({str(path)!r})"


def test_a_closed_store_cannot_be_used(tmp_path: Path) -> None:
    store = Store(tmp_path / "usage.sqlite")
    store.close()
    with pytest.raises(usagekit.StoreError, match="closed"):
        store.count()


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the tables you are looking for" * 100)
    with pytest.raises(usagekit.StoreError, match="not a SQLite database") as caught:
        Store(path)
    assert caught.value.reason == "not_a_store"


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(usagekit.StoreError, match="schema version 99") as caught:
        Store(path)
    assert caught.value.reason == "newer_schema"


@pytest.mark.parametrize("timeout", [-1, "soon", True])
def test_bad_timeout(tmp_path: Path, timeout: Any) -> None:
    with pytest.raises(ConfigError, match="timeout"):
        Store(tmp_path / "x.sqlite", timeout=timeout)


@pytest.mark.parametrize(
    ("path", "timeout"), [(None, 1.0), (":memory:", float("nan")), (":memory:", float("inf"))]
)
def test_bad_store_arguments_are_config_errors(path: object, timeout: float) -> None:
    with pytest.raises(usagekit.ConfigError):
        usagekit.Store(path, timeout=timeout)  # type: ignore[arg-type]
