"""The row encoder: what one result's records share is computed once, yet every record comes
back exactly as written, in any order, whatever its id, through failures and other writers."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usagekit import ConfigError, StoreError, UsageRecord
from usagekit._store.store import Store

from ._fakes import BASE, HOUR, current_period, openai_like, orphans
from .test_schema import exact, odd_records, sorted_attributes

UNTIL = BASE + timedelta(days=1, hours=3)


def records() -> list[UsageRecord]:
    return openai_like(UNTIL) + odd_records() + current_period("openai", UNTIL, "2.5")


def forged(record: UsageRecord, **fields: Any) -> UsageRecord:
    """A record built bypassing validation: its id need not be the one its fields give."""
    return UsageRecord.model_construct(**{**record.__dict__, **fields})


def series_rows(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    try:
        (total,) = conn.execute("SELECT COUNT(*) FROM series").fetchone()
        (distinct,) = conn.execute("SELECT COUNT(DISTINCT key) FROM series").fetchone()
        assert orphans(conn) == 0
        return int(total), int(distinct)
    finally:
        conn.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32), size=st.integers(1, 40))
def test_any_order_and_batch_size_gives_back_every_record(
    tmp_path: Path, seed: int, size: int
) -> None:
    data = records()
    random.Random(seed).shuffle(data)  # results' records no longer consecutive
    path = tmp_path / f"{seed}-{size}.sqlite"
    with Store(path) as store:
        assert store.upsert(data, batch_size=size) == len(data)
        assert exact(store.records()) == exact(sorted_attributes(data))
        assert [r.id for r in store.records()] == [
            r.id for r in sorted(data, key=lambda r: (r.start, r.id))
        ]
    path.unlink()


def test_a_record_whose_id_its_fields_do_not_give_keeps_both(tmp_path: Path) -> None:
    """Such a record (made bypassing validation, or kept as stored by an older usagekit) is
    written as given, and changes nothing of the records around it."""
    data = openai_like(BASE + 2 * HOUR)
    odd = forged(data[1], id="ab" * 24, model="not-in-the-id")
    twin = forged(data[2], quantity=Decimal("99"))  # a real id, another record's figure
    # a result's prefix, a metric of its own: nothing of the result's is taken for it
    cuckoo = forged(data[0], id=data[0].id[:32] + "ef" * 8, model="other", metric="m", unit="u")
    stream = [odd, *data[:3], cuckoo, twin, *data[3:], forged(data[0], id="cd" * 24)]
    with Store(tmp_path / "usage.sqlite") as store:
        store.upsert(stream)
        back = {r.id: r for r in store.records()}
    assert len(back) == len(data) + 3
    assert exact([back["ab" * 24]]) == exact([odd])
    assert exact([back[cuckoo.id]]) == exact([cuckoo])
    assert back["cd" * 24].model == data[0].model and back["cd" * 24].metric == data[0].metric
    expected = [twin if r.id == twin.id else r for r in data]
    assert exact(back[r.id] for r in data) == exact(expected)  # the same id: the later figure


@pytest.mark.parametrize(
    "bad_id",
    ["AB" * 24, "ab" * 23, "ab" * 25, "zz" * 24, "ab " * 16, ""],
    ids=["upper-case", "short", "long", "not-hex", "spaces", "empty"],
)
def test_an_id_that_is_not_48_lower_case_hex_is_refused(tmp_path: Path, bad_id: str) -> None:
    data = openai_like(BASE + HOUR)
    with Store(tmp_path / "usage.sqlite") as store:
        with pytest.raises(ConfigError, match="48 lower-case hex"):
            store.upsert([*data, forged(data[0], id=bad_id)], batch_size=len(data) + 1)
        assert store.count() == 0  # nothing of that batch


def test_a_rolled_back_batch_leaves_no_series_behind(tmp_path: Path) -> None:
    """A batch naming series not stored yet fails (a full disk): the series it would have
    stored are forgotten, so the next write stores them again rather than naming ids that
    were never committed."""
    path = tmp_path / "usage.sqlite"
    data = records()
    with Store(path) as store:
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages + 1}")
        with pytest.raises(StoreError, match="full"):
            store.upsert(data)
        assert store.count() == 0
        store._conn.execute("PRAGMA max_page_count = 1000000")
        store.upsert(data)
        assert exact(store.records()) == exact(sorted_attributes(data))
    assert series_rows(path)[0] == series_rows(path)[1]


def test_two_writers_meeting_new_series_store_each_once(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    first, second = openai_like(UNTIL), odd_records()
    with Store(path) as one, Store(path) as other:
        one.upsert([])  # both have read the (empty) series table
        other.upsert([])
        one.upsert(first[:100])
        other.upsert(first)  # meets the series the other writer stored meanwhile
        one.upsert(second)
        other.upsert(second)
        for store in (one, other):
            assert exact(store.records()) == exact(sorted_attributes(first + second))
    total, distinct = series_rows(path)
    assert total == distinct


def test_a_reader_sees_series_another_writer_added(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    with Store(path) as writer, Store(path, read_only=True) as reader:
        writer.upsert(openai_like(UNTIL))
        assert reader.count() == len(openai_like(UNTIL))
        assert len(list(reader.records())) == reader.count()  # its series are now known
        writer.upsert(odd_records())
        assert exact(reader.records(metric=["x", "usage_bytes"])) == exact(
            sorted_attributes([r for r in odd_records() if r.metric in ("x", "usage_bytes")])
        )


def test_a_row_naming_a_missing_series_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    with Store(path) as store:
        store.upsert(openai_like(UNTIL))
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE records SET series_id = 9999 WHERE start_us = (SELECT MAX(start_us) FROM records)"
    )
    conn.commit()
    conn.close()
    with Store(path) as store, pytest.raises(StoreError, match="cannot read") as caught:
        list(store.records())
    assert caught.value.reason == "damaged"


def test_a_session_writes_a_stream_in_batches(tmp_path: Path) -> None:
    data = openai_like(UNTIL)

    def stream() -> Iterator[UsageRecord]:
        yield from data[:25]
        raise RuntimeError("the provider went away")

    with Store(tmp_path / "usage.sqlite") as store:
        session = store.begin_sync("openai", UNTIL, since=BASE)
        with pytest.raises(RuntimeError), session:
            session.write_stream(stream(), batch_size=10)
        assert session.written == 20 == store.count()  # whole batches only
        session = store.begin_sync("openai", UNTIL)
        assert session.start == BASE  # no later than the failed run started
        session.write_stream(iter(data), batch_size=7)
        session.write([])
        assert session.written == len(data)
        assert session.commit() == 0
        with pytest.raises(ConfigError, match="batch_size"):
            store.begin_sync("openai", UNTIL).write_stream(data, batch_size=0)
        assert exact(store.records()) == exact(data)


def brute(data: list[UsageRecord], start: Any, end: Any, model: Any) -> list[str]:
    """What a window and a model filter select, by definition: overlap, equality."""
    return [
        r.id
        for r in sorted(data, key=lambda r: (r.start, r.id))
        if r.end > start and r.start < end and (model == "any" or r.model == model)
    ]


lengths = st.sampled_from([1, 60, 3600, 86_400, 31 * 86_400, 400 * 86_400])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spans=st.lists(
        st.tuples(st.integers(0, 90 * 86_400), lengths, st.sampled_from([None, "a", "b"])),
        min_size=1,
        max_size=40,
    ),
    windows=st.lists(st.tuples(st.integers(-86_400, 100 * 86_400), lengths), max_size=6),
    size=st.integers(1, 10),
    model=st.sampled_from(["any", None, "a", "b"]),
)
def test_windows_and_spans_find_every_overlapping_record(
    tmp_path: Path,
    spans: list[tuple[int, int, str | None]],
    windows: list[tuple[int, int]],
    size: int,
    model: str | None,
) -> None:
    """Whatever the records' lengths (a year-long one beside seconds), written in any
    batches, a window gives exactly the records overlapping it and spans the true extent."""
    second = timedelta(seconds=1)
    data = list(
        {
            r.id: r
            for r in (
                UsageRecord(
                    provider="openai",
                    source="costs" if length > 86_400 else "completions",
                    start=BASE + offset * second,
                    end=BASE + (offset + length) * second,
                    metric="cost",
                    unit="USD",
                    quantity=Decimal(index),
                    model=name,
                )
                for index, (offset, length, name) in enumerate(spans)
            )
        }.values()
    )
    path = tmp_path / "windows.sqlite"
    with Store(path) as store:
        for index in range(0, len(data), size):  # each batch may lengthen some series
            store.upsert(data[index : index + size])
        filters = {} if model == "any" else {"model": model}
        for offset, length in windows:
            start, end = BASE + offset * second, BASE + (offset + length) * second
            found = [r.id for r in store.records(start, end, **filters)]
            assert found == brute(data, start, end, model)
            assert store.count(start, end, **filters) == len(found)
        assert store.spans() == {"openai": (min(r.start for r in data), max(r.end for r in data))}
    path.unlink()


def test_a_rolled_back_batch_does_not_leave_a_longest_interval_behind(tmp_path: Path) -> None:
    """The longest interval a failed batch would have recorded is forgotten with it: the next
    write records it again, so a window still finds the long record."""
    path = tmp_path / "usage.sqlite"
    hourly = openai_like(UNTIL)
    long = UsageRecord(
        provider="openai",
        source="completions",
        start=BASE,
        end=BASE + timedelta(days=400),
        metric="input_tokens",
        unit="tokens",
        quantity=Decimal(5),
        model="gpt-4o",
    )
    with Store(path) as store:
        store.upsert(hourly)
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError, match="full"):
            store.upsert([long, *openai_like(UNTIL + timedelta(days=30), since=UNTIL)])
        store._conn.execute("PRAGMA max_page_count = 1000000")
        store.upsert([long])
        later = BASE + timedelta(days=300)
        assert [r.id for r in store.records(later, later + HOUR)] == [long.id]
        assert store.spans()["openai"][1] == long.end


def test_many_rows_to_a_statement_upsert_as_one_at_a_time(tmp_path: Path) -> None:
    """Rows go to SQLite many to a statement; a record met twice in one statement, or again
    in a later one, ends with its last figure, and a run never overwrites a newer run's."""
    data = openai_like(BASE + 36 * HOUR)  # 218 records: two full statements and a rest
    assert len(data) == 218

    def figures(offset: int) -> list[UsageRecord]:
        return [r.model_copy(update={"quantity": r.quantity + offset}) for r in data]

    stream = [*figures(1)[:150], *figures(2)[:60], *figures(3)]  # repeats in and across
    with Store(tmp_path / "usage.sqlite") as store:
        assert store.upsert(stream, batch_size=1000) == len(stream)
        assert exact(store.records()) == exact(figures(3))
        older = store.begin_sync("openai", UNTIL)
        newer = store.begin_sync("openai", UNTIL)
        newer.write_stream(figures(4)[:180], batch_size=1000)
        older.write_stream(figures(5), batch_size=1000)  # started first: loses where both wrote
        assert exact(store.records()) == exact(figures(4)[:180] + figures(5)[180:])


@pytest.mark.parametrize("sizes", [(4000, 100), (100,), ()])
def test_long_statements_upsert_as_one_row_at_a_time(
    monkeypatch: pytest.MonkeyPatch, sizes: tuple[int, ...]
) -> None:
    """Rows are upserted up to 4,000 to a statement (100 where SQLite's limit is the oldest
    one): a row meeting an earlier one of the same batch, in its statement or another, ends as
    if the rows had been written one by one (the newest run's value)."""
    from usagekit._store import _batch
    from usagekit._store._schema import create_schema

    rng = random.Random(7)
    keys = [(1_000 + n // 300, rng.randbytes(24)) for n in range(8_213)]
    rows = [(start, key, start + 9, 1, str(n), None, n % 3 or None) for n, (start, key) in
            enumerate(keys)]  # fmt: skip
    for at in (0, 99, 100, 3_999, 4_000, 4_099, 8_150, 8_212):  # repeats across every boundary
        start, key = keys[rng.randrange(len(keys))]
        rows[at] = (start, key, start + 9, 1, f"again {at}", '{"quantity":"1"}', rng.choice([1, 2]))

    def stored(write: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        create_schema(conn)
        write(conn)
        found = conn.execute("SELECT * FROM records ORDER BY start_us, id").fetchall()
        conn.close()
        return found

    expected = stored(lambda conn: conn.executemany(_batch.UPSERT, rows))
    monkeypatch.setattr(_batch, "_chunks", lambda conn: sizes)
    assert stored(lambda conn: _batch.upsert_rows(conn, rows)) == expected
    assert len(expected) < len(rows)
