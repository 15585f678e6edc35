"""``parse_iso_day``: the one reading of a day sent as a date or a date-time."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from usagekit._core.wire import _MOMENTS, _MOMENTS_HELD, _from_unix, parse_iso_day
from usagekit._providers.anthropic._models import parse_report_day
from usagekit._providers.openrouter._models import parse_activity_date
from usagekit._providers.unsiloed._models import parse_billed_date

PARSERS = [parse_iso_day, parse_report_day, parse_activity_date, parse_billed_date]

ACCEPTED: list[tuple[Any, date]] = [
    ("2026-09-01", date(2026, 9, 1)),
    ("  2026-09-01\n", date(2026, 9, 1)),
    ("2026-09-01T00:00:00Z", date(2026, 9, 1)),
    ("2026-09-01 00:00:00", date(2026, 9, 1)),
    ("2026-09-01T23:30:00-02:00", date(2026, 9, 2)),
    ("2026-09-01T01:00:00+02:00", date(2026, 8, 31)),
    ("2026-09-01T12:00:00.123456", date(2026, 9, 1)),
    ("20260901T000000Z", date(2026, 9, 1)),
    (date(2026, 9, 1), date(2026, 9, 1)),
    (datetime(2026, 9, 1, 23, 0), date(2026, 9, 1)),
    (datetime(2026, 9, 1, 23, 0, tzinfo=timezone(timedelta(hours=-2))), date(2026, 9, 2)),
]

REFUSED: list[tuple[Any, str]] = [
    ("", "not an ISO-8601 date: ''"),
    ("2026-13-01", "not an ISO-8601 date: '2026-13-01'"),
    ("2026-09-01T25:00:00", "not an ISO-8601 date: '2026-09-01T25:00:00'"),
    ("yesterday", "not an ISO-8601 date: 'yesterday'"),
    ("x" * 60, f"not an ISO-8601 date: {'x' * 40!r}"),
    (1767225600, "must be an ISO-8601 date string, got int"),
    (1.5, "must be an ISO-8601 date string, got float"),
    (None, "must be an ISO-8601 date string, got NoneType"),
    (True, "must be an ISO-8601 date string, got bool"),
    (["2026-09-01"], "must be an ISO-8601 date string, got list"),
]

OUT_OF_RANGE = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-02:00"]


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(("value", "expected"), ACCEPTED)
def test_accepted(parse: Any, value: Any, expected: date) -> None:
    day = parse(value)
    assert day == expected
    assert type(day) is date


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(("value", "message"), REFUSED)
def test_refused(parse: Any, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse(value)


@pytest.mark.parametrize(
    "parse", [parse_iso_day, parse_activity_date, parse_billed_date, parse_report_day]
)
@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_day_beyond_the_calendar_is_invalid(parse: Any, value: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(f'date out of range: {value}')}$"):
        parse(value)


# -- unix seconds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=timezone.utc)),
        (1_748_736_000, datetime(2025, 6, 1, tzinfo=timezone.utc)),
        (-86_400, datetime(1969, 12, 31, tzinfo=timezone.utc)),
        (1_748_736_000.5, datetime(2025, 6, 1, 0, 0, 0, 500_000, tzinfo=timezone.utc)),
    ],
)
def test_unix_seconds_are_aware_utc_the_same_each_time(value: Any, expected: datetime) -> None:
    first, again = _from_unix(value), _from_unix(value)
    assert first == again == expected and first.tzinfo is timezone.utc
    if type(value) is int:  # converted once, then shared
        assert again is first and _MOMENTS[value] is first


def test_unix_seconds_past_the_kept_moments_are_still_converted() -> None:
    base = 1_700_000_000
    moments = [_from_unix(base + 3_600 * hour) for hour in range(3 * _MOMENTS_HELD)]
    assert len(_MOMENTS) <= _MOMENTS_HELD
    start = datetime.fromtimestamp(base, timezone.utc)
    assert moments == [start + timedelta(hours=hour) for hour in range(3 * _MOMENTS_HELD)]
    assert _from_unix(base) == start  # converted again after its entry was dropped


@pytest.mark.parametrize("value", [10**20, -(10**20), 2**63])
def test_unix_seconds_out_of_range_are_refused_and_never_kept(value: int) -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="unix time out of range"):
            _from_unix(value)
    assert value not in _MOMENTS


def test_a_bool_is_left_for_pydantic_to_refuse() -> None:
    assert _from_unix(True) is True and True not in _MOMENTS
