"""projection: OLS on daily spend with an 80 % prediction interval, checked against statsmodels.

The plain line (``method="linear"``) and the arguments; the day-of-week models and the partial
day are in ``test_projection_weekly.py``. usagekit's clock is pinned far from the data in every
test here, so that ``now=None`` never finds a partial day, whatever today's date.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from usagekit import ConfigError, pin_clock
from usagekit.analytics import CONFIDENCE_PCT, MIN_PROJECTION_DAYS, projection, t_quantile

from ._helpers import UTC, daily_records, record

np = pytest.importorskip("numpy")
sm = pytest.importorskip("statsmodels.api")
stats = pytest.importorskip("scipy.stats")

CLOCK = "2031-06-15T12:00Z"
"""Where usagekit's clock stands in these tests: years after every record."""


@pytest.fixture(autouse=True)
def _clock_far_from_the_data() -> Iterator[None]:
    with pin_clock(CLOCK):
        yield


def _f(value: Decimal | None) -> float:
    """A projected amount (exact Decimal, rounded to a millionth) as a float for approx."""
    assert isinstance(value, Decimal)
    return float(value)


def reference(ys: Sequence[float], future: Sequence[float]) -> tuple[float, float, float]:
    """The projected sum and its 80 % interval, from statsmodels' fit and scipy's t."""
    xs = np.arange(len(ys), dtype=float)
    fit = sm.OLS(np.asarray(ys, dtype=float), sm.add_constant(xs)).fit()
    c = np.array([len(future), float(np.sum(future))])
    predicted = float(c @ fit.params)
    variance = len(future) * fit.scale + float(c @ fit.cov_params() @ c)
    half = stats.t.ppf(0.5 + CONFIDENCE_PCT / 200, fit.df_resid) * math.sqrt(variance)
    actual = float(np.sum(ys))
    return actual + predicted, actual + predicted - half, actual + predicted + half


SPEND = ["1.10", "1.35", "0.90", "1.80", "2.05", "1.70", "2.40", "2.10", "2.95", "2.60", "3.10"]


@pytest.mark.parametrize(
    ("spend", "period_end", "remaining"),
    [
        pytest.param(SPEND, "2026-05-01", 19, id="to-month-end"),
        pytest.param(SPEND, "2026-04-13", 1, id="one-day-left"),
        pytest.param(SPEND[:7], None, 23, id="seven-days-default-period"),
        pytest.param(
            ["3", None, "2.5", "4", None, "5", "4.5", "6", None, "7"], "2026-04-20", 9, id="gaps"
        ),
    ],
)
def test_projection_matches_statsmodels(
    spend: list[str | None], period_end: str | None, remaining: int
) -> None:
    result = projection(daily_records(spend), period_end=period_end, method="linear")

    ys = [float(amount or 0) for amount in spend]
    future = [float(len(ys) + j) for j in range(remaining)]
    projected, lower, upper = reference(ys, future)
    assert result.status == "ok"
    assert result.remaining_days == remaining
    assert result.actual == sum((Decimal(a) for a in spend if a), Decimal(0))
    assert result.days_available == sum(a is not None for a in spend)
    assert _f(result.projected) == pytest.approx(projected, rel=1e-9, abs=1e-6)
    assert _f(result.lower) == pytest.approx(lower, rel=1e-9, abs=1e-6)
    assert _f(result.upper) == pytest.approx(upper, rel=1e-9, abs=1e-6)
    assert result.confidence_pct == 80 and result.currency == "USD"
    assert result.method == "linear" and result.weekday_effects is None
    assert result.partial_day is None and result.partial_remaining == 0.0


def test_one_day_ahead_is_statsmodels_prediction_interval() -> None:
    result = projection(daily_records(SPEND), period_end="2026-04-13", method="linear")
    xs = np.arange(len(SPEND), dtype=float)
    fit = sm.OLS(np.asarray([float(a) for a in SPEND]), sm.add_constant(xs)).fit()
    frame = fit.get_prediction(np.array([[1.0, float(len(SPEND))]])).summary_frame(alpha=0.2)
    actual = sum(float(a) for a in SPEND)
    assert _f(result.projected) == pytest.approx(actual + frame["mean"].iloc[0], rel=1e-9, abs=1e-6)
    assert _f(result.lower) == pytest.approx(
        actual + frame["obs_ci_lower"].iloc[0], rel=1e-9, abs=1e-6
    )
    assert _f(result.upper) == pytest.approx(
        actual + frame["obs_ci_upper"].iloc[0], rel=1e-9, abs=1e-6
    )


def test_days_are_calendar_days_of_the_zone() -> None:
    zone = "America/New_York"
    # March 2026 in New York, across the spring-forward day; default period end is April 1st.
    result = projection(
        daily_records(SPEND, first=date(2026, 3, 3), zone=zone),
        timezone=zone,
        now=None,
        method="linear",
    )
    assert result.period_end == datetime(2026, 4, 1, 4, tzinfo=UTC)  # midnight EDT
    assert result.remaining_days == 31 - 2 - len(SPEND)
    ys = [float(a) for a in SPEND]
    future = [float(len(ys) + j) for j in range(result.remaining_days)]
    assert _f(result.projected) == pytest.approx(reference(ys, future)[0], rel=1e-9, abs=1e-6)
    utc_days = [record("2026-03-03T00:00Z", "2026-03-04T00:00Z", metric="cost", quantity=1)]
    assert projection(utc_days).days_available == 1
    with pytest.raises(ConfigError, match="crosses the day boundary"):
        projection(utc_days, timezone=zone)


def test_now_extends_the_observed_days_with_zero_spend() -> None:
    result = projection(
        daily_records(SPEND), now="2026-04-14T08:00Z", period_end="2026-04-20", method="linear"
    )
    ys = [float(a) for a in SPEND] + [0.0, 0.0]  # Apr 12, 13: complete days without spend
    # Apr 14 is partial (8 of 24 hours gone): left out of the fit, two thirds of it predicted.
    xs = np.arange(len(ys), dtype=float)
    fit = sm.OLS(np.asarray(ys), sm.add_constant(xs)).fit()
    weights = [2 / 3, 1, 1, 1, 1, 1]  # the rest of Apr 14, then Apr 15 .. 19
    c = np.array([sum(weights), sum(w * (len(ys) + j) for j, w in enumerate(weights))])
    predicted = float(c @ fit.params)
    half = stats.t.ppf(0.9, fit.df_resid) * math.sqrt(
        sum(weights) * fit.scale + float(c @ fit.cov_params() @ c)
    )
    actual = sum(float(a) for a in SPEND)
    assert result.remaining_days == 5 and result.fitted_days == 13
    assert result.partial_day == date(2026, 4, 14)
    assert result.partial_remaining == pytest.approx(2 / 3)
    assert (_f(result.projected), _f(result.lower), _f(result.upper)) == pytest.approx(
        (actual + predicted, actual + max(0.0, predicted - half), actual + predicted + half),
        rel=1e-9,
        abs=1e-6,
    )


@pytest.mark.parametrize("days", [0, 1, MIN_PROJECTION_DAYS - 1])
def test_fewer_than_seven_days_is_insufficient_data(days: int) -> None:
    result = projection(daily_records(SPEND[:days]))
    assert result.status == "insufficient_data"
    assert result.min_days_required == 7 and result.days_available == days
    assert result.projected is None and result.lower is None and result.upper is None
    assert result.actual == sum((Decimal(a) for a in SPEND[:days]), Decimal(0))


def test_spread_over_more_days_still_counts_days_with_data() -> None:
    spend: list[str | None] = ["1", None, "1", None, "1", None, "1", None, "1", None, "1"]
    assert projection(daily_records(spend)).status == "insufficient_data"
    assert projection(daily_records([*spend, "1"])).status == "ok"


def test_a_falling_trend_never_projects_below_the_actual() -> None:
    spend = ["9", "8", "7", "6", "5", "4", "3", "2", "1"]
    result = projection(daily_records(spend), period_end="2026-05-01", method="linear")
    assert result.status == "ok" and result.slope == pytest.approx(-1.0)
    assert result.projected == result.lower == result.actual
    assert result.upper is not None and result.upper >= result.actual


def test_no_days_left_projects_the_actual() -> None:
    result = projection(daily_records(SPEND), period_end="2026-04-11T10:00Z")
    assert result.remaining_days == 0
    assert result.projected == result.lower == result.upper == result.actual


def test_currencies_are_never_mixed() -> None:
    euros = record("2026-04-02T00:00Z", metric="cost", quantity=5, unit="EUR")
    records = [*daily_records(SPEND), euros]
    with pytest.raises(ConfigError, match="several currencies"):
        projection(records)
    assert projection(records, currency="eur").status == "insufficient_data"
    assert projection(records, currency="USD").actual == sum(Decimal(a) for a in SPEND)
    with pytest.raises(ConfigError, match="ISO 4217"):
        projection(records, currency="dollars")


def test_token_records_do_not_matter() -> None:
    tokens = [record("2026-04-01T00:00Z", "2026-04-03T00:00Z", metric="input_tokens")]
    assert projection(daily_records(SPEND) + tokens) == projection(daily_records(SPEND))


@pytest.mark.parametrize("df", [1, 2, 3, 5, 7.5, 10, 30, 100, 1000, 1e6])
@pytest.mark.parametrize("p", [0.001, 0.1, 0.25, 0.5, 0.8, 0.9, 0.95, 0.975, 0.999, 0.999999])
def test_t_quantile_matches_scipy(p: float, df: float) -> None:
    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), abs=1e-8, rel=1e-9)


@pytest.mark.parametrize(("p", "df"), [(0.0, 5), (1.0, 5), (0.5, 0), (0.9, -1), (0.9, math.inf)])
def test_t_quantile_rejects_bad_arguments(p: float, df: float) -> None:
    with pytest.raises(ConfigError):
        t_quantile(p, df)


def test_bad_arguments_are_config_errors() -> None:
    records = daily_records(SPEND)
    bad: list[dict[str, Any]] = [
        {"period_end": "soon"},
        {"now": "later"},
        {"timezone": "Nowhere/Land"},
        {"currency": 840},
        {"method": "seasonal"},
        {"method": None},
    ]
    for kwargs in bad:
        with pytest.raises(ConfigError):
            projection(records, **kwargs)


def test_a_whole_billing_period_counts_as_spent_but_is_not_fitted() -> None:
    days = daily_records(SPEND)
    period = record("2026-04-01T00:00Z", "2026-05-01T00:00Z", metric="cost", quantity="40.5")
    with_period = projection([*days, period])
    alone = projection(days)
    assert with_period.unplaced == Decimal("40.5") and alone.unplaced == 0
    assert with_period.actual == alone.actual + Decimal("40.5")
    assert with_period.projected == alone.projected + Decimal("40.5")  # trend unchanged
    assert with_period.days_available == alone.days_available
