"""The shared calendar: IANA zone names, and hour/day/week/month buckets, right across DST."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta, timezone

import pytest

from usagekit._core.calendar import (
    GRANULARITIES,
    Granularity,
    HourRule,
    bucket_floor,
    bucket_next,
    load_zone,
    local_midnight,
)

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# (zone, granularity, moment, bucket start, bucket end), every instant in UTC
BUCKETS: list[tuple[str, Granularity, str, str, str]] = [
    # plain UTC
    ("UTC", "hour", "2026-03-08T07:42:10.5Z", "2026-03-08T07:00Z", "2026-03-08T08:00Z"),
    ("UTC", "hour", "2026-03-08T07:00Z", "2026-03-08T07:00Z", "2026-03-08T08:00Z"),
    ("UTC", "day", "2026-03-08T23:59:59.999999Z", "2026-03-08T00:00Z", "2026-03-09T00:00Z"),
    # month ends, Feb 29, the year's turn
    ("UTC", "month", "2026-01-31T23:00Z", "2026-01-01T00:00Z", "2026-02-01T00:00Z"),
    ("UTC", "month", "2026-02-15T00:00Z", "2026-02-01T00:00Z", "2026-03-01T00:00Z"),
    ("UTC", "month", "2028-02-29T12:00Z", "2028-02-01T00:00Z", "2028-03-01T00:00Z"),
    ("UTC", "day", "2028-02-29T12:00Z", "2028-02-29T00:00Z", "2028-03-01T00:00Z"),
    ("UTC", "day", "2026-02-28T12:00Z", "2026-02-28T00:00Z", "2026-03-01T00:00Z"),
    ("UTC", "month", "2026-12-31T23:59Z", "2026-12-01T00:00Z", "2027-01-01T00:00Z"),
    ("UTC", "month", "2026-04-30T10:00Z", "2026-04-01T00:00Z", "2026-05-01T00:00Z"),
    # weeks start on Monday (2026-03-01 is a Sunday, 2026-03-02 a Monday)
    ("UTC", "week", "2026-03-01T12:00Z", "2026-02-23T00:00Z", "2026-03-02T00:00Z"),
    ("UTC", "week", "2026-03-02T00:00Z", "2026-03-02T00:00Z", "2026-03-09T00:00Z"),
    ("UTC", "week", "2026-12-31T00:00Z", "2026-12-28T00:00Z", "2027-01-04T00:00Z"),
    ("UTC", "week", "2028-02-29T00:00Z", "2028-02-28T00:00Z", "2028-03-06T00:00Z"),
    # New York: spring forward 2026-03-08 02:00 EST -> 03:00 EDT, a 23-hour day
    ("America/New_York", "day", "2026-03-08T12:00Z", "2026-03-08T05:00Z", "2026-03-09T04:00Z"),
    ("America/New_York", "hour", "2026-03-08T07:30Z", "2026-03-08T07:00Z", "2026-03-08T08:00Z"),
    # a week across the change is 167 hours
    ("America/New_York", "week", "2026-03-04T12:00Z", "2026-03-02T05:00Z", "2026-03-09T04:00Z"),
    ("America/New_York", "month", "2026-03-31T12:00Z", "2026-03-01T05:00Z", "2026-04-01T04:00Z"),
    # fall back 2026-11-01 02:00 EDT -> 01:00 EST, a 25-hour day with two 01:00 hours
    ("America/New_York", "day", "2026-11-01T12:00Z", "2026-11-01T04:00Z", "2026-11-02T05:00Z"),
    ("America/New_York", "hour", "2026-11-01T05:30Z", "2026-11-01T05:00Z", "2026-11-01T06:00Z"),
    ("America/New_York", "hour", "2026-11-01T06:30Z", "2026-11-01T06:00Z", "2026-11-01T07:00Z"),
    # local midnight is the day's start, not UTC's: 23:59 in Tokyo is still March 31
    ("Asia/Tokyo", "day", "2026-03-31T14:59Z", "2026-03-30T15:00Z", "2026-03-31T15:00Z"),
    ("Asia/Tokyo", "day", "2026-03-31T15:00Z", "2026-03-31T15:00Z", "2026-04-01T15:00Z"),
    ("Asia/Tokyo", "month", "2026-03-31T15:00Z", "2026-03-31T15:00Z", "2026-04-30T15:00Z"),
    ("Asia/Tokyo", "week", "2026-03-01T15:00Z", "2026-03-01T15:00Z", "2026-03-08T15:00Z"),
    # west of UTC the local day starts late: Feb 29 in Los Angeles
    ("America/Los_Angeles", "day", "2028-03-01T07:00Z", "2028-02-29T08:00Z", "2028-03-01T08:00Z"),
    # zones offset by half and three quarters of an hour: hours start at :30 and :15 UTC
    ("Asia/Kolkata", "hour", "2026-01-01T00:15Z", "2025-12-31T23:30Z", "2026-01-01T00:30Z"),
    ("Asia/Kathmandu", "hour", "2026-01-01T00:00Z", "2025-12-31T23:15Z", "2026-01-01T00:15Z"),
    ("Asia/Kolkata", "day", "2026-01-01T00:15Z", "2025-12-31T18:30Z", "2026-01-01T18:30Z"),
    # Southern hemisphere: Sydney falls back on 2026-04-05 03:00 AEDT -> 02:00 AEST
    ("Australia/Sydney", "day", "2026-04-05T06:00Z", "2026-04-04T13:00Z", "2026-04-05T14:00Z"),
    # Santiago springs forward at midnight (2026-09-06 00:00 -> 01:00): the day starts at the
    # transition, and lasts 23 hours
    ("America/Santiago", "day", "2026-09-06T12:00Z", "2026-09-06T04:00Z", "2026-09-07T03:00Z"),
    # Samoa skipped 2011-12-30: Dec 29 ends at the midnight of Dec 31
    ("Pacific/Apia", "day", "2011-12-30T09:00Z", "2011-12-29T10:00Z", "2011-12-30T10:00Z"),
]


@pytest.mark.parametrize(("zone", "granularity", "moment", "start", "end"), BUCKETS)
def test_buckets(zone: str, granularity: Granularity, moment: str, start: str, end: str) -> None:
    tz = zoneinfo.ZoneInfo(zone)
    for hours in ("elapsed", "wall"):  # the rules agree wherever offsets change by whole hours
        floor = bucket_floor(at(moment), granularity, tz, hours=hours)
        assert floor == at(start)
        assert floor.tzinfo is UTC
        following = bucket_next(floor, granularity, tz, hours=hours)
        assert following == at(end)
        assert following.tzinfo is UTC


# Lord Howe's clock shifts by 30 minutes, where the two hour rules part.
LORD_HOWE: list[tuple[str, HourRule, str, str, str]] = [
    # spring forward 2026-10-04 02:00 +10:30 -> 02:30 +11
    ("floor", "elapsed", "2026-10-03T15:45Z", "2026-10-03T15:00Z", "clock back 45 real minutes"),
    ("floor", "wall", "2026-10-03T15:45Z", "2026-10-03T15:30Z", "02:00 is skipped: the change"),
    # fall back 2026-04-05 02:00 +11 -> 01:30 +10:30
    ("next", "elapsed", "2026-04-04T14:00Z", "2026-04-04T15:00Z", "one real hour later"),
    ("next", "wall", "2026-04-04T14:00Z", "2026-04-04T14:00Z", "01:00 again: no progress"),
    # 01:40 +10:30 goes back 40 minutes to 14:30Z, which is 01:30 +11 and goes back to 14:00Z:
    # a floor need not be its own floor (analytics refuses to bucket such records)
    ("floor", "elapsed", "2026-04-04T15:10Z", "2026-04-04T14:30Z", "40 real minutes back"),
    ("floor", "elapsed", "2026-04-04T14:30Z", "2026-04-04T14:00Z", "30 real minutes back"),
]


@pytest.mark.parametrize(("what", "hours", "moment", "expected", "why"), LORD_HOWE)
def test_hour_rules_part_where_a_zone_shifts_by_half_an_hour(
    what: str, hours: HourRule, moment: str, expected: str, why: str
) -> None:
    tz = zoneinfo.ZoneInfo("Australia/Lord_Howe")
    function = bucket_floor if what == "floor" else bucket_next
    assert function(at(moment), "hour", tz, hours=hours) == at(expected), why


@pytest.mark.parametrize(
    "zone", ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney"]
)
@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_every_moment_lies_in_its_bucket(zone: str, granularity: Granularity) -> None:
    tz = zoneinfo.ZoneInfo(zone)
    moment = at("2026-03-01T00:10Z")
    while moment < at("2026-04-10T00:00Z"):
        floor = bucket_floor(moment, granularity, tz)
        assert floor <= moment < bucket_next(floor, granularity, tz)
        assert bucket_floor(floor, granularity, tz) == floor
        moment += timedelta(minutes=50)


def test_the_input_zone_does_not_matter() -> None:
    tz = zoneinfo.ZoneInfo("Europe/Paris")
    utc = at("2026-10-25T01:30Z")  # 02:30 CET, after the fall-back
    elsewhere = utc.astimezone(timezone(timedelta(hours=9)))
    for granularity in GRANULARITIES:
        assert bucket_floor(elsewhere, granularity, tz) == bucket_floor(utc, granularity, tz)
        assert bucket_next(elsewhere, granularity, tz) == bucket_next(utc, granularity, tz)


def test_local_midnight() -> None:
    santiago = zoneinfo.ZoneInfo("America/Santiago")
    assert local_midnight(at("2026-09-06T12:00Z").date(), santiago) == at("2026-09-06T04:00Z")
    assert local_midnight(at("2026-09-05T12:00Z").date(), santiago) == at("2026-09-05T04:00Z")


def test_beyond_the_datetime_range_is_an_overflow() -> None:
    tz = zoneinfo.ZoneInfo("UTC")
    with pytest.raises(OverflowError):
        bucket_next(at("9999-12-01T00:00Z"), "month", tz)
    with pytest.raises(OverflowError):
        bucket_next(datetime(9999, 12, 31, 23, 30, tzinfo=UTC), "hour", tz)
    with pytest.raises(OverflowError):
        bucket_floor(datetime.max.replace(tzinfo=UTC), "day", zoneinfo.ZoneInfo("Asia/Tokyo"))


ZONE_NAMES: list[tuple[object, bool, bool]] = [
    # (name, loads with iana_only=True, loads with iana_only=False when the file exists)
    ("UTC", True, True),
    ("America/Mexico_City", True, True),
    ("Asia/Kathmandu", True, True),
    ("", False, False),
    (None, False, False),
    (3, False, False),
    (["UTC"], False, False),
    ("Mars/Olympus_Mons", False, False),
    ("GMT+25", False, False),
    ("../../etc/passwd", False, False),
    ("/etc/localtime", False, False),
    ("UTC\x00", False, False),
    ("America", False, False),  # a directory
    ("localtime", False, True),
    ("posixrules", False, True),
    ("posix/Europe/Paris", False, True),
    ("right/UTC", False, True),
]


@pytest.mark.parametrize(("name", "iana", "anything"), ZONE_NAMES)
def test_load_zone(name: object, iana: bool, anything: bool) -> None:
    zone = load_zone(name)
    assert (zone is not None) == iana
    if zone is not None:
        assert zone.key == name
    assert load_zone(name, iana_only=True) is zone
    loose = load_zone(name, iana_only=False)
    if iana:
        assert loose is zone
    elif not anything:
        assert loose is None
    else:  # the file may not be installed: then neither rule finds it
        try:
            exists = zoneinfo.ZoneInfo(str(name)) is not None
        except (KeyError, ValueError, OSError):
            exists = False
        assert (loose is not None) == exists
