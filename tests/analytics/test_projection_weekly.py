"""projection: day-of-week models, the partial current day, the fallback, the honest lower bound.

Every test pins usagekit's clock (``pin_clock``): with ``now=None`` the clock decides whether the
last day with records is partial, and no test may depend on today's date.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usagekit import ConfigError, pin_clock
from usagekit.analytics import (
    PROJECTION_METHODS,
    WEEKLY_MIN_DAYS,
    FittedModel,
    Projection,
    budget,
    projection,
)

from ._helpers import UTC, daily_records, record

MONDAY = date(2026, 4, 6)
CLOCK = "2031-06-15T12:00Z"
"""Where the clock stands unless a test moves it: years after every record."""
T_90_5 = 1.475884048824355  # Student t, 0.90 quantile, 5 degrees of freedom (scipy.stats.t.ppf)


@pytest.fixture(autouse=True)
def _clock_far_from_the_data() -> Iterator[None]:
    with pin_clock(CLOCK):
        yield


def _f(value: Decimal | None) -> float:
    assert isinstance(value, Decimal)
    return float(value)


def _spend(values: Sequence[float | int | None]) -> list[str | None]:
    return [None if v is None else repr(v) for v in values]


# --------------------------------------------------------------------------------------------
# Exact values, computed by hand


def test_a_perfect_line_is_projected_exactly() -> None:
    # 2, 3, ..., 8 on Apr 6-12; Apr 13, 14, 15 follow the line: 9 + 10 + 11 = 30.
    result = projection(
        daily_records(_spend(range(2, 9)), first=MONDAY), period_end="2026-04-16", method="linear"
    )
    assert (result.actual, result.remaining_days, result.fitted_days) == (Decimal(35), 3, 7)
    assert result.projected == result.lower == result.upper == Decimal("65.000000")
    assert result.slope == pytest.approx(1.0) and result.intercept == pytest.approx(2.0)


def test_the_line_with_residuals_by_hand() -> None:
    # y = 2 4 3 5 4 6 5 at x = 0..6: x mean 3, Sxx 28, Sxy 14, so b = 1/2, a = 29/7 - 3/2.
    # Residuals -9/14 (x4) and +12/14 (x3): SSE = 27/7, s^2 = SSE / 5 = 27/35.
    # Days to predict x = 7, 8, 9: S = 3a + 24b = 279/14.
    # Variance of the sum: s^2 (3 + 3^2/7 + (4 + 5 + 6)^2/28) = s^2 * 345/28.
    a = Fraction(29, 7) - Fraction(3, 2)
    remaining = 3 * a + 24 * Fraction(1, 2)
    assert remaining == Fraction(279, 14)
    half = T_90_5 * math.sqrt(Fraction(27, 35) * Fraction(345, 28))
    result = projection(
        daily_records(_spend([2, 4, 3, 5, 4, 6, 5]), first=MONDAY),
        period_end="2026-04-16",
        method="linear",
    )
    assert result.actual == 29 and result.method == "linear"
    assert _f(result.projected) == pytest.approx(29 + float(remaining), abs=1e-6)
    assert _f(result.lower) == pytest.approx(29 + float(remaining) - half, abs=1e-6)
    assert _f(result.upper) == pytest.approx(29 + float(remaining) + half, abs=1e-6)


def test_a_weekend_offset_by_hand() -> None:
    # One week, Mon-Fri 10, Sat-Sun 4: level 10, trend 0, weekend -6, a perfect fit.
    # Apr 13-30: 14 weekdays and 4 weekend days: 140 + 16 = 156 more.
    result = projection(
        daily_records(_spend([10, 10, 10, 10, 10, 4, 4]), first=MONDAY), period_end="2026-05-01"
    )
    assert result.method == "weekend" and result.actual == 58
    assert result.projected == result.lower == result.upper == Decimal("214.000000")
    assert result.weekday_effects == pytest.approx([12 / 7] * 5 + [-30 / 7] * 2)
    assert result.slope == pytest.approx(0.0, abs=1e-12)
    assert result.intercept == pytest.approx(10.0)


def test_weekday_effects_and_a_trend_by_hand() -> None:
    # Two weeks of pattern[weekday] + x/2 (x = 0 on Monday Apr 6).
    pattern = [10, 11, 12, 13, 14, 3, 2]
    spend = [pattern[i % 7] + i / 2 for i in range(14)]
    result = projection(daily_records(_spend(spend), first=MONDAY), period_end="2026-05-01")
    # Apr 20-30 is x = 14..24, Mon-Sun then Mon-Thu: 65 + 46 = 111, trend (14 + ... + 24)/2.
    actual = 2 * 65 + Fraction(sum(range(14)), 2)
    assert result.method == "weekly" and result.actual == actual == Fraction(351, 2)
    assert result.remaining_days == 11 and result.fitted_days == 14
    assert result.projected == result.lower == result.upper == Decimal("391.000000")
    assert result.slope == pytest.approx(0.5) and result.intercept == pytest.approx(10.0)
    assert result.weekday_effects == pytest.approx([p - 65 / 7 for p in pattern])


def test_money_is_actual_plus_an_estimate_quantized_to_a_millionth() -> None:
    result = projection(
        daily_records(["1"] * 6 + ["1.0000004"], first=MONDAY), period_end="2026-04-14"
    )
    assert result.actual == Decimal("7.0000004")  # exact
    assert result.projected is not None and result.upper is not None
    estimate = result.projected - result.actual
    assert estimate == estimate.quantize(Decimal("0.000001"))
    assert result.upper - result.actual == (result.upper - result.actual).quantize(
        Decimal("0.000001")
    )


# --------------------------------------------------------------------------------------------
# The model chosen: the fallback


@pytest.mark.parametrize(
    ("days", "method", "fitted"),
    [
        pytest.param(7, "weekly", "weekend", id="one-week-weekend-offset"),
        pytest.param(WEEKLY_MIN_DAYS - 1, "weekly", "weekend", id="13-days-still-weekend"),
        pytest.param(WEEKLY_MIN_DAYS, "weekly", "weekly", id="14-days-weekday-effects"),
        pytest.param(40, "weekly", "weekly", id="40-days"),
        pytest.param(7, "linear", "linear", id="linear-asked-7"),
        pytest.param(40, "linear", "linear", id="linear-asked-40"),
    ],
)
def test_the_model_depends_on_the_complete_days(
    days: int, method: Any, fitted: FittedModel
) -> None:
    spend = [10 + (i % 7 < 5) * 20 + (i * 7919 % 13) / 4 for i in range(days)]
    result = projection(
        daily_records(_spend(spend), first=MONDAY), period_end="2026-06-01", method=method
    )
    assert result.status == "ok" and result.method == fitted and result.fitted_days == days
    assert (result.weekday_effects is None) == (fitted == "linear")
    if result.weekday_effects is not None:
        assert sum(result.weekday_effects) == pytest.approx(0.0, abs=1e-9)
    fewer = projection(daily_records(_spend(spend[:6]), first=MONDAY), method=method)
    assert fewer.status == "insufficient_data" and fewer.method is None


def test_the_default_method_is_weekly() -> None:
    assert PROJECTION_METHODS[0] == "weekly"
    spend = _spend([30, 31, 29, 32, 30, 5, 4] * 3)
    records = daily_records(spend, first=MONDAY)
    assert projection(records) == projection(records, method="weekly")
    assert projection(records).method == "weekly"


@pytest.mark.parametrize("method", ["", "Weekly", "seasonal", 1, None])
def test_an_unknown_method_is_a_config_error(method: Any) -> None:
    with pytest.raises(ConfigError, match="method must be one of weekly, linear"):
        projection(daily_records(_spend([1] * 7)), method=method)


def test_weekday_effects_lower_the_error_on_a_weekly_pattern() -> None:
    # Three weeks of strong weekday/weekend swings; the rest of the month follows the pattern.
    pattern = [30, 34, 33, 31, 28, 6, 5]
    first = date(2026, 6, 1)  # a Monday
    truth = [pattern[i % 7] for i in range(30)]  # June
    known = truth[:21]
    true_total = sum(truth)
    records = daily_records(_spend(known), first=first)
    weekly = projection(records, period_end="2026-07-01")
    linear = projection(records, period_end="2026-07-01", method="linear")
    assert abs(_f(weekly.projected) - true_total) < 1e-6
    assert abs(_f(linear.projected) - true_total) > 5


# --------------------------------------------------------------------------------------------
# The partial current day


def test_the_partial_day_is_left_out_of_the_fit_but_counts_as_spent() -> None:
    week = _spend([10, 12, 11, 13, 12, 4, 5])
    with_morning = daily_records([*week, "3.5"], first=MONDAY)  # Monday Apr 13, 00:00 and 05:00
    without = daily_records(week, first=MONDAY)
    now = "2026-04-13T12:00Z"
    seen = projection(with_morning, now=now, period_end="2026-05-01")
    nothing_yet = projection(without, now=now, period_end="2026-05-01")
    assert seen.partial_day == nothing_yet.partial_day == date(2026, 4, 13)
    assert seen.partial_remaining == nothing_yet.partial_remaining == 0.5
    assert seen.fitted_days == nothing_yet.fitted_days == 7
    assert (seen.slope, seen.intercept) == (nothing_yet.slope, nothing_yet.intercept)
    assert seen.actual == nothing_yet.actual + Decimal("3.5")
    assert nothing_yet.projected is not None
    assert seen.projected == nothing_yet.projected + Decimal("3.5")  # the same forecast
    assert seen.days_available == 8 and nothing_yet.days_available == 7


def test_the_rest_of_the_partial_day_is_predicted_by_its_share() -> None:
    week = daily_records(_spend([10, 10, 10, 10, 10, 4, 4]), first=MONDAY)  # a perfect fit
    # Monday Apr 13 at 06:00: 3/4 of a 10 day to come, then Tuesday, Wednesday.
    result = projection(week, now="2026-04-13T06:00Z", period_end="2026-04-16")
    assert result.partial_remaining == 0.75 and result.remaining_days == 2
    assert result.projected == Decimal(58 + 7.5 + 20)
    # period_end inside the partial day: only the part before it.
    cut = projection(week, now="2026-04-13T06:00Z", period_end="2026-04-13T18:00Z")
    assert cut.partial_remaining == 0.5 and cut.remaining_days == 0
    assert cut.projected == Decimal(58 + 5)
    # now at midnight: the whole day is to come, and it is not a day of zero spend.
    midnight = projection(week, now="2026-04-13T00:00Z", period_end="2026-04-14")
    assert midnight.partial_day == date(2026, 4, 13) and midnight.partial_remaining == 1.0
    assert midnight.fitted_days == 7 and midnight.projected == Decimal(68)


def test_the_partial_day_is_a_local_day() -> None:
    zone = "America/New_York"
    week = daily_records(_spend([10, 10, 10, 10, 10, 4, 4]), first=MONDAY, zone=zone)
    # 16:00 UTC is noon in New York (EDT): half of Monday Apr 13 to come.
    result = projection(
        week, now="2026-04-13T16:00Z", period_end="2026-04-14T04:00Z", timezone=zone
    )
    assert result.partial_day == date(2026, 4, 13) and result.partial_remaining == 0.5
    assert result.projected == Decimal(63)


@pytest.mark.parametrize(
    ("clock", "partial"),
    [
        pytest.param("2026-04-13T18:00Z", date(2026, 4, 13), id="clock-on-the-last-day"),
        pytest.param("2026-04-14T00:00Z", None, id="clock-the-next-midnight"),
        pytest.param("2026-04-20T09:00Z", None, id="clock-a-week-later"),
        pytest.param("2026-03-01T09:00Z", None, id="clock-before-the-data"),
    ],
)
def test_without_now_the_pinned_clock_says_whether_the_last_day_is_partial(
    clock: str, partial: date | None
) -> None:
    records = daily_records(_spend([10, 12, 11, 13, 12, 4, 5, 11]), first=MONDAY)
    with pin_clock(clock):
        result = projection(records, period_end="2026-05-01")
    assert result.partial_day == partial
    assert result.fitted_days == (7 if partial else 8)  # no day of zero spend is added
    if partial is not None:
        assert result.partial_remaining == 0.25
        assert result == projection(records, period_end="2026-05-01", now=clock)


# --------------------------------------------------------------------------------------------
# The lower bound


def test_a_mid_month_lower_bound_is_not_stuck_at_the_spend_so_far() -> None:
    steady = _spend([20.5, 21, 19.5, 20, 21.5, 8, 7.5, 21, 20, 20.5, 19, 22, 7, 8.5])
    records = daily_records([*steady, "6"], first=MONDAY)  # and Monday Apr 20's morning
    result = projection(records, now="2026-04-20T09:00Z")
    assert result.status == "ok" and result.period_end == datetime(2026, 5, 1, tzinfo=UTC)
    assert result.lower is not None and result.upper is not None
    assert result.projected is not None
    assert result.actual < result.lower < result.projected < result.upper


def test_the_lower_bound_is_floored_at_the_actual_only_because_spend_is_not_negative() -> None:
    falling = _spend([40, 30, 38, 22, 31, 12, 10, 19, 8, 14])  # Apr 6-15, falling fast
    result = projection(daily_records(falling, first=MONDAY), period_end="2026-04-18")
    # Apr 16 and 17: a small predicted spend with an interval reaching below zero.
    assert result.actual == 224 and result.lower == result.actual
    assert result.projected is not None and result.upper is not None
    assert result.actual < result.projected < result.upper
    later = projection(daily_records(falling, first=MONDAY), period_end="2026-04-22")
    assert later.projected == later.lower == later.actual  # the line is below zero by then
    assert later.upper is not None and later.upper > later.actual


def test_the_interval_matches_statsmodels_for_weekday_effects_and_a_partial_day() -> None:
    np = pytest.importorskip("numpy")
    sm = pytest.importorskip("statsmodels.api")
    stats = pytest.importorskip("scipy.stats")
    ys = [31.2, 35.0, 29.8, 33.1, 27.4, 7.9, 5.2, 33.6, 36.9, 30.3, 36.2, 30.0, 9.1, 4.4]
    ys += [38.0, 35.5, 32.9]
    records = daily_records([*_spend(ys), "9.25"], first=MONDAY)
    result = projection(records, now="2026-04-23T18:00Z", period_end="2026-05-01")
    n = len(ys)
    x = np.arange(n + 8, dtype=float)
    weekday = (x.astype(int)) % 7
    dummies = np.column_stack([(weekday == k).astype(float) for k in range(1, 7)])
    design = np.column_stack([np.ones(n + 8), x, dummies])
    fit = sm.OLS(np.asarray(ys), design[:n]).fit()
    weights = np.array([0.25] + [1.0] * 7)  # the rest of Thursday Apr 23, then Apr 24-30
    c = weights @ design[n:]
    remaining = float(c @ fit.params)
    variance = float(weights.sum()) * fit.scale + float(c @ fit.cov_params() @ c)
    half = stats.t.ppf(0.9, fit.df_resid) * math.sqrt(variance)
    actual = sum(ys) + 9.25
    assert result.method == "weekly" and fit.df_resid == n - 8
    assert (_f(result.projected), _f(result.lower), _f(result.upper)) == pytest.approx(
        (actual + remaining, actual + remaining - half, actual + remaining + half), abs=1e-6
    )


def test_budget_projects_with_the_weekly_model() -> None:
    records = daily_records(_spend([30, 31, 29, 32, 30, 5, 4] * 2 + [30]), first=MONDAY)
    check = budget(records, limit=500, now="2026-04-21T12:00Z")
    assert check.projection.method == "weekly" and check.projection.partial_day == date(2026, 4, 21)
    assert check.projection == projection(records, period_end="2026-05-01", now="2026-04-21T12:00Z")
    assert check.projected == check.projection.projected and check.over_budget


# --------------------------------------------------------------------------------------------
# Properties


amounts = st.one_of(
    st.none(),
    st.decimals(min_value=-5, max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spend=st.lists(amounts, max_size=50),
    now_hours=st.one_of(st.none(), st.integers(min_value=-48, max_value=24 * 60)),
    end_days=st.one_of(st.none(), st.integers(min_value=-5, max_value=70)),
    method=st.sampled_from(PROJECTION_METHODS),
    zone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]),
)
def test_projection_never_raises_and_its_interval_holds(
    spend: list[Decimal | None],
    now_hours: int | None,
    end_days: int | None,
    method: Any,
    zone: str,
) -> None:
    records = daily_records([None if a is None else str(a) for a in spend], first=MONDAY, zone=zone)
    start = datetime(2026, 4, 6, tzinfo=UTC)
    now = None if now_hours is None else start + timedelta(hours=now_hours)
    end = None if end_days is None else start + timedelta(days=end_days)
    result: Projection = projection(records, now=now, period_end=end, method=method, timezone=zone)
    assert result.actual == sum((a for a in spend if a is not None), Decimal(0))
    if result.status == "insufficient_data":
        assert result.projected is None and result.days_available < 7
        return
    assert result.lower is not None and result.projected is not None and result.upper is not None
    assert result.actual <= result.lower <= result.projected <= result.upper
    assert 0.0 <= result.partial_remaining <= 1.0
    assert result.method in ("linear", "weekend", "weekly")
    if method == "linear":
        assert result.method == "linear"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=7, max_size=40))
def test_a_constant_multiple_scales_the_projection(values: list[int]) -> None:
    base = projection(daily_records(_spend(values), first=MONDAY), period_end="2026-06-01")
    tenfold = projection(
        daily_records(_spend([10 * v for v in values]), first=MONDAY), period_end="2026-06-01"
    )
    assert base.projected is not None and tenfold.projected is not None
    assert float(tenfold.projected) == pytest.approx(10 * float(base.projected), rel=1e-9, abs=1e-4)
    assert base.method == tenfold.method


def test_odd_but_valid_records_are_projected() -> None:
    zeros = projection(daily_records(["0"] * 20, first=MONDAY), period_end="2026-05-01")
    assert zeros.projected == zeros.lower == zeros.upper == 0
    credits = projection(
        daily_records(["-1"] * 3 + ["2"] * 5, first=MONDAY), period_end="2026-05-01"
    )
    assert credits.actual == 7 and credits.lower is not None and credits.lower >= 7
    hourly_today = [
        record(f"2026-04-13T{h:02d}:00Z", metric="cost", quantity="0.5") for h in range(9)
    ]
    mixed = projection(
        [*daily_records(_spend([3] * 7), first=MONDAY), *hourly_today], now="2026-04-13T09:30Z"
    )
    assert mixed.actual == Decimal("25.5") and mixed.partial_day == date(2026, 4, 13)
