"""time_series: buckets aligned in an IANA zone, right across daylight-saving changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usagekit import ConfigError
from usagekit.analytics import GRANULARITIES, time_series

from ._helpers import DAY, HOUR, UTC, at, hourly, record

NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("zone", "granularity", "first", "last", "expected"),
    [
        pytest.param(
            NEW_YORK,
            "day",
            "2026-03-07T05:00Z",
            "2026-03-10T04:00Z",
            [
                ("2026-03-07T00:00:00-05:00", 24),
                ("2026-03-08T00:00:00-05:00", 23),  # spring forward: a 23-hour day
                ("2026-03-09T00:00:00-04:00", 24),
            ],
            id="new-york-spring-forward-days",
        ),
        pytest.param(
            NEW_YORK,
            "day",
            "2026-10-31T04:00Z",
            "2026-11-03T05:00Z",
            [
                ("2026-10-31T00:00:00-04:00", 24),
                ("2026-11-01T00:00:00-04:00", 25),  # fall back: a 25-hour day
                ("2026-11-02T00:00:00-05:00", 24),
            ],
            id="new-york-fall-back-days",
        ),
        pytest.param(
            NEW_YORK,
            "hour",
            "2026-11-01T04:00Z",
            "2026-11-01T09:00Z",
            [
                ("2026-11-01T00:00:00-04:00", 1),
                ("2026-11-01T01:00:00-04:00", 1),
                ("2026-11-01T01:00:00-05:00", 1),  # the repeated hour is a bucket of its own
                ("2026-11-01T02:00:00-05:00", 1),
                ("2026-11-01T03:00:00-05:00", 1),
            ],
            id="new-york-fall-back-hours",
        ),
        pytest.param(
            NEW_YORK,
            "hour",
            "2026-03-08T05:00Z",
            "2026-03-08T09:00Z",
            [
                ("2026-03-08T00:00:00-05:00", 1),
                ("2026-03-08T01:00:00-05:00", 1),
                ("2026-03-08T03:00:00-04:00", 1),  # 02:00 never happened
                ("2026-03-08T04:00:00-04:00", 1),
            ],
            id="new-york-spring-forward-hours",
        ),
        pytest.param(
            "Europe/Berlin",
            "week",
            "2026-03-22T23:00Z",
            "2026-04-05T22:00Z",
            [
                ("2026-03-23T00:00:00+01:00", 167),  # the week of the change is an hour short
                ("2026-03-30T00:00:00+02:00", 168),
            ],
            id="berlin-weeks-start-on-monday",
        ),
        pytest.param(
            NEW_YORK,
            "month",
            "2026-03-01T05:00Z",
            "2026-04-01T04:00Z",
            [("2026-03-01T00:00:00-05:00", 31 * 24 - 1)],
            id="new-york-march",
        ),
        pytest.param(
            "Asia/Kolkata",
            "hour",
            "2026-01-01T04:30Z",
            "2026-01-01T07:30Z",
            [
                ("2026-01-01T10:00:00+05:30", 1),
                ("2026-01-01T11:00:00+05:30", 1),
                ("2026-01-01T12:00:00+05:30", 1),
            ],
            id="kolkata-half-hour-offset",
        ),
    ],
)
def test_buckets_follow_the_zone_calendar(
    zone: str, granularity: Any, first: str, last: str, expected: list[tuple[str, int]]
) -> None:
    records = list(hourly(first, last, quantity=1))
    series = time_series(records, granularity=granularity, timezone=zone)

    assert series.granularity == granularity and series.timezone == zone
    got = [
        (bucket.start.astimezone(ZoneInfo(zone)).isoformat(), bucket.end - bucket.start)
        for bucket in series.buckets
    ]
    assert got == [(local, timedelta(hours=hours)) for local, hours in expected]
    # One token per real hour: a bucket holds exactly as many tokens as it has hours.
    assert [bucket.tokens for bucket in series.buckets] == [Decimal(h) for _, h in expected]
    assert all(bucket.start.tzinfo == UTC for bucket in series.buckets)


def test_cost_on_the_short_and_long_days_in_new_york() -> None:
    records = [
        record("2026-03-08T06:00Z", metric="cost", quantity="0.10"),  # 01:00 EST, Mar 8
        record("2026-03-09T03:00Z", metric="cost", quantity="0.20"),  # 23:00 EDT, Mar 8
        record("2026-03-09T04:00Z", metric="cost", quantity="0.40"),  # 00:00 EDT, Mar 9
        record("2026-11-01T05:00Z", metric="cost", quantity="1"),  # 01:00 EDT, Nov 1
        record("2026-11-01T06:00Z", metric="cost", quantity="2"),  # 01:00 EST, Nov 1
        record("2026-11-02T04:00Z", metric="cost", quantity="4"),  # 23:00 EST, Nov 1
    ]
    series = time_series(
        records,
        granularity="day",
        timezone=NEW_YORK,
        start="2026-03-08T05:00Z",
        end="2026-11-02T05:00Z",
    )
    by_day = {b.start.astimezone(ZoneInfo(NEW_YORK)).date().isoformat(): b for b in series.buckets}
    assert by_day["2026-03-08"].cost == {"USD": Decimal("0.30")}
    assert by_day["2026-03-09"].cost == {"USD": Decimal("0.40")}
    assert by_day["2026-11-01"].cost == {"USD": Decimal("7")}
    assert len(series.buckets) == 239  # every local day from Mar 8 to Nov 1, empty ones too
    assert sum(bool(b.cost) for b in series.buckets) == 3


@pytest.mark.parametrize(
    ("zone", "granularity", "start", "end", "message"),
    [
        (NEW_YORK, "day", "2026-03-08T00:00Z", "2026-03-09T00:00Z", "crosses the day boundary"),
        ("UTC", "hour", "2026-03-08T00:00Z", "2026-03-09T00:00Z", "can't be split"),
        ("UTC", "month", "2026-03-31T00:00Z", "2026-04-02T00:00Z", "month boundary"),
        ("Asia/Kolkata", "hour", "2026-01-01T04:00Z", "2026-01-01T05:00Z", "hour boundary"),
    ],
)
def test_a_record_coarser_than_its_bucket_is_refused(
    zone: str, granularity: Any, start: str, end: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        time_series([record(start, end)], granularity=granularity, timezone=zone)


def test_a_utc_day_is_fine_by_the_day_in_utc() -> None:
    series = time_series([record("2026-03-08T00:00Z", "2026-03-09T00:00Z")], granularity="day")
    assert [b.tokens for b in series.buckets] == [Decimal(1)]


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (timedelta(hours=1), "hour"),
        (timedelta(days=7), "hour"),
        (timedelta(days=7, hours=1), "day"),
        (timedelta(days=90), "day"),
        (timedelta(days=90, hours=1), "week"),
        (timedelta(days=365), "week"),
        (timedelta(days=366), "month"),
    ],
)
def test_granularity_is_derived_from_the_window_like_daramex(
    length: timedelta, expected: str
) -> None:
    start = at("2026-01-05T00:00Z")
    series = time_series([], start=start, end=start + length)
    assert series.granularity == expected
    assert series.buckets[0].start <= start < series.buckets[0].end
    assert series.buckets[-1].start < start + length <= series.buckets[-1].end


def test_without_a_window_the_records_span_decides() -> None:
    records = [record("2026-01-01T00:00Z"), record("2026-01-10T00:00Z")]
    series = time_series(records)
    assert series.granularity == "day"
    assert len(series.buckets) == 10  # dense: the empty days in between are there
    assert [b.tokens for b in series.buckets] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert time_series([]).buckets == ()


def test_the_window_selects_records_by_overlap_and_pads_with_empty_buckets() -> None:
    records = list(hourly("2026-01-01T00:00Z", "2026-01-03T00:00Z", quantity=2))
    series = time_series(
        records, granularity="day", start="2025-12-31T12:00Z", end="2026-01-02T06:00Z"
    )
    assert [b.start.date().isoformat() for b in series.buckets] == [
        "2025-12-31",
        "2026-01-01",
        "2026-01-02",
    ]
    assert [b.tokens for b in series.buckets] == [0, 48, 12]


def test_only_whole_token_metrics_count_and_levels_are_skipped() -> None:
    start = "2026-02-02T10:00Z"
    records = [
        record(start, metric="input_tokens", quantity=100),
        record(start, metric="output_tokens", quantity=50),
        record(start, metric="input_cached_tokens", quantity=40),  # part of input_tokens
        record(start, metric="input_audio_tokens", quantity=5),  # part of input_tokens
        record(start, metric="num_model_requests", quantity=3, unit="requests"),
        record(start, metric="input_tokens", quantity=7, unit="1000_tokens"),  # not tokens
        record(start, metric="total_tokens", quantity=1000, kind="level"),  # a level
        # A source that reports total_tokens: its input/output are not added on top.
        record(start, provider="daramex", source="time_series", metric="total_tokens", quantity=70),
        record(start, provider="daramex", source="time_series", metric="input_tokens", quantity=30),
        record(start, metric="cost", quantity="1.5"),
        record(start, metric="cost", quantity="0.25"),
        record(start, metric="cost", quantity="2", unit="EUR"),
        record(start, metric="cost", quantity="9", unit="EUR", kind="level"),
    ]
    (bucket,) = time_series(records, granularity="hour").buckets
    assert bucket.tokens == Decimal(220)
    assert bucket.cost == {"EUR": Decimal(2), "USD": Decimal("1.75")}
    assert bucket.series == {}


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("model", {"gpt-4o": (3, "0.3"), "o3": (5, "0.5"), None: (0, "0.7")}),
        ("provider", {"openai": (8, "0.8"), "basedash": (0, "0.7")}),
        ("project_id", {"p1": (3, "0.3"), None: (5, "1.2")}),
        ("attributes.batch", {"true": (5, "0.5"), None: (3, "1.0")}),
    ],
)
def test_group_by_breaks_every_bucket_down(
    group_by: str, expected: dict[str | None, tuple[int, str]]
) -> None:
    start = "2026-02-02T10:00Z"
    records = [
        record(start, quantity=3, model="gpt-4o", project_id="p1"),
        record(start, metric="cost", quantity="0.3", model="gpt-4o", project_id="p1"),
        record(start, quantity=5, model="o3", attributes={"batch": "true"}),
        record(start, metric="cost", quantity="0.5", model="o3", attributes={"batch": "true"}),
        record(start, "2026-02-02T10:30Z", metric="cost", quantity="0.7", provider="basedash"),
    ]
    (bucket,) = time_series(records, granularity="hour", group_by=group_by).buckets
    got = {key: (int(t.tokens), str(t.cost["USD"])) for key, t in bucket.series.items()}
    assert got == expected
    assert bucket.tokens == 8 and bucket.cost == {"USD": Decimal("1.5")}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "unknown IANA time zone"),
        ({"timezone": ""}, "timezone must be"),
        ({"granularity": "minute"}, "granularity must be one of"),
        ({"group_by": "quantity"}, "group_by must be"),
        ({"group_by": "attributes."}, "group_by must be"),
        ({"start": "2026-01-02", "end": "2026-01-01"}, "start must be before end"),
        ({"start": "not a date"}, "ISO-8601"),
    ],
)
def test_bad_arguments_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        time_series([record("2026-01-01T00:00Z")], **kwargs)


def test_items_that_are_not_records_are_refused() -> None:
    with pytest.raises(ConfigError, match="UsageRecord"):
        time_series([{"metric": "cost"}])  # type: ignore[list-item]


def test_too_many_buckets_are_refused() -> None:
    with pytest.raises(ConfigError, match="coarser granularity"):
        time_series([], granularity="hour", start="1900-01-01", end="2100-01-01")


ZONES = [
    "UTC",
    NEW_YORK,
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",  # +12:45, changing by an hour at 02:45
    "America/Santiago",
]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    granularity=st.sampled_from(GRANULARITIES),
    offsets=st.lists(st.integers(0, 24 * 400), min_size=1, max_size=40),
    day=st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2030, 1, 1).date()),
)
def test_every_local_hour_lands_in_the_one_bucket_containing_it(
    zone: str, granularity: Any, offsets: list[int], day: Any
) -> None:
    tz = ZoneInfo(zone)
    base = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    records = [record(base + n * HOUR, quantity=n + 1) for n in sorted(set(offsets))]
    series = time_series(records, granularity=granularity, timezone=zone)

    assert sum(b.tokens for b in series.buckets) == sum(r.quantity for r in records)
    for before, after in zip(series.buckets, series.buckets[1:], strict=False):
        assert before.end == after.start
    for bucket in series.buckets:
        local = bucket.start.astimezone(tz)
        assert (local.minute, local.second) == (0, 0) or zone == "America/Santiago"
        if granularity != "hour":
            assert local.hour == 0 or zone == "America/Santiago"  # Santiago skips a midnight
        if granularity == "week":
            assert local.weekday() == 0
        if granularity == "month":
            assert local.day == 1
    for rec in records:
        (home,) = [b for b in series.buckets if b.start <= rec.start < b.end]
        assert rec.end <= home.end
        if granularity == "day":
            assert home.start.astimezone(tz).date() == rec.start.astimezone(tz).date()


def test_a_day_without_its_midnight_starts_when_the_clock_jumps() -> None:
    # Santiago springs forward at 24:00 on 2026-09-05: 2026-09-06 starts at 01:00 local.
    zone = "America/Santiago"
    records = list(hourly("2026-09-05T04:00Z", "2026-09-07T03:00Z"))
    series = time_series(records, granularity="day", timezone=zone)
    got = [(b.start.astimezone(ZoneInfo(zone)).isoformat(), b.tokens) for b in series.buckets]
    assert got == [
        ("2026-09-05T00:00:00-04:00", Decimal(24)),
        ("2026-09-06T01:00:00-03:00", Decimal(23)),
    ]
    assert series.buckets[1].end - series.buckets[1].start == DAY - HOUR
