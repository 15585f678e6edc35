"""Spend projected to the end of a period: :func:`projection`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, localcontext
from zoneinfo import ZoneInfo

from .._core.clock import TimeLike, as_utc, utcnow
from .._core.errors import ConfigError
from .._core.records import UsageRecord
from ._calendar import check_zone, local_midnight
from ._constants import (
    CONFIDENCE_PCT,
    MIN_PROJECTION_DAYS,
    PROJECTION_METHODS,
    WEEKLY_MIN_DAYS,
    FittedModel,
    ProjectionMethod,
)
from ._results import Projection
from ._stats import least_squares, t_quantile
from ._tally import Placer, by_interval, pick_currency

__all__ = ["projection"]

_ZERO = Decimal(0)
_MICRO = Decimal("0.000001")
_LONGEST_DAY = timedelta(hours=25)  # a local day on a fall-back change


def _daily_cost(
    records: Iterable[UsageRecord], zone: ZoneInfo, currency: str | None
) -> tuple[str | None, dict[date, Decimal], Decimal]:
    """Return the chosen currency, the cost per local day of every day with cost records, and
    the cost of records that do not fit in one local day (a whole billing period, say)."""
    cells = by_interval(records, group=None)
    chosen = pick_currency(cells.currencies(), currency)
    place = Placer("day", zone)
    daily: dict[date, Decimal] = {}
    unplaced = Decimal(0)
    for key in cells.keys:
        amount = cells.cost.get(key, {}).get(chosen) if chosen is not None else None
        if amount is None:
            continue
        try:
            day = place(key[0], key[1]).astimezone(zone).date()
        except ConfigError:
            if key[1] - key[0] <= _LONGEST_DAY:
                raise  # a day-sized record misaligned with the zone's days: refuse, don't guess
            unplaced += amount  # longer than a day: spent, but not put on a day, not invented
            continue
        daily[day] = daily.get(day, Decimal(0)) + amount
    return chosen, daily, unplaced


def _method(value: object) -> ProjectionMethod:
    if value not in PROJECTION_METHODS:
        raise ConfigError(f"method must be one of {', '.join(PROJECTION_METHODS)}, got {value!r}")
    return value


def projection(
    records: Iterable[UsageRecord],
    *,
    period_end: TimeLike | None = None,
    now: TimeLike | None = None,
    timezone: str = "UTC",
    currency: str | None = None,
    method: ProjectionMethod = "weekly",
) -> Projection:
    """Project the total cost at the end of a period from daily spend, with an 80 % interval.

    Days. Daily spend ``y`` is the cost per calendar day in ``timezone``. The observed days run
    from the first day with cost records to the last (or, when ``now`` is given and later, to
    the day containing it; a day in between without records counts as 0).

    The partial day. When the last observed day is the day containing ``now`` (with
    ``now=None``: the day containing usagekit's clock, :func:`usagekit.utcnow`, which
    :func:`usagekit.pin_clock` pins), it is not over: it is left out of the fit (a half-spent
    day would drag the fit down), its spend so far counts in ``actual``, and the part of it
    still to come (``partial_remaining``, a fraction of its real length: spend is assumed
    spread evenly over the day's hours) is predicted with the days after it. ``now=None`` never
    adds days without records after the last record (a report of an earlier month is
    projected as it stands).

    Model. The complete days, indexed ``x = 0, 1, ..., n-1``, are fitted by ordinary least
    squares:

    * ``method="weekly"`` (the default), because real spend swings between weekdays and
      weekends: with at least :data:`WEEKLY_MIN_DAYS` complete days ``y = a + b x + d[weekday]``,
      a trend plus an offset for each weekday but Monday (``p = 8`` parameters, the
      ``"weekly"`` model); with fewer, ``y = a + b x + w [Saturday or Sunday]``, one weekend
      offset (``p = 3``, the ``"weekend"`` model), when those days include both weekdays and
      weekend days;
    * otherwise (``method="linear"``, or no weekend day or only weekend days to fit) the
      plain line ``y = a + b x`` (``p = 2``, the ``"linear"`` model), the method Daramex's
      server-side projection uses and usagekit's own did before.

    ``Projection.method`` says which model was fitted. The weekday is the local one in
    ``timezone``.

    Interval. With ``c`` the sum over the days to predict of weight times design row (weight
    1 for a whole day, ``partial_remaining`` for the rest of the partial day), the predicted
    remaining spend is ``S = c . beta`` and the variance of its prediction error is
    ``s^2 (sum(weights) + c' (X'X)^-1 c)``: the residual variance ``s^2 = SSE / (n - p)`` of
    each remaining day (independent errors) plus the uncertainty of the fitted parameters.
    The remaining spend's 80 % interval is ``S +- t(0.90, n - p) * sqrt(variance)``, ``t`` the
    Student t quantile (:func:`t_quantile`), and

    * ``projected = actual + max(0, S)``,
    * ``lower = actual + max(0, S - half_width)``, ``upper = actual + max(0, S + half_width)``.

    The floor at 0 is the only adjustment, and it is there because costs are non-negative:
    spend still to come cannot be negative, so the total cannot end below what is already
    spent (a credit can make a day's spend negative; the floor stands: credits to come are not
    predicted). ``lower == actual`` therefore means that the interval of the remaining spend
    reaches 0, not that the total is known. The estimates are quantized to a millionth
    (half-even) and added to the exact ``actual``.

    A cost record longer than one local day (Basedash reports a whole billing period in one
    record) cannot be put on a day: it counts in ``actual`` as spent and in ``unplaced``, but
    it is not fitted, and its provider's future spend is not projected (nothing is invented).

    Args:
        records: The cost records of the period to project (other metrics are ignored).
        period_end: Exclusive end of the period; a day starting before it is a day to predict.
            None: the first day of the month after the last observed day, at local midnight.
        now: The current moment: the observed days run at least to the day containing it, and
            that day is partial. None: the clock only says whether the last day with records
            is partial.
        timezone: The IANA zone of the calendar days (and of the weekdays).
        currency: The currency to project; None: the only one present.
        method: ``"weekly"`` (default) or ``"linear"``, see :data:`ProjectionMethod`.

    Returns:
        The projection; ``status == "insufficient_data"`` (and no estimates) when fewer than
        :data:`MIN_PROJECTION_DAYS` days have cost records.

    Raises:
        ConfigError: A bad argument, costs in several currencies without ``currency``, or
            daily costs too large for the arithmetic (beyond about 1e150).
    """
    zone = check_zone(timezone)
    wanted = _method(method)
    end_dt = None if period_end is None else as_utc(period_end, name="period_end")
    now_dt = None if now is None else as_utc(now, name="now")
    chosen, daily, unplaced = _daily_cost(records, zone, currency)
    actual = sum(daily.values(), unplaced)
    days_available = len(daily)

    def insufficient() -> Projection:
        return Projection(
            status="insufficient_data",
            currency=chosen,
            actual=actual,
            days_available=days_available,
            min_days_required=MIN_PROJECTION_DAYS,
            period_end=end_dt,
            remaining_days=0,
            projected=None,
            lower=None,
            upper=None,
            unplaced=unplaced,
        )

    if days_available < MIN_PROJECTION_DAYS:
        return insufficient()

    first = min(daily)
    last = max(daily)
    moment = utcnow() if now_dt is None else now_dt
    today = moment.astimezone(zone).date()
    if now_dt is not None:
        last = max(last, today)
    if end_dt is None:
        end_dt = local_midnight(date(last.year + last.month // 12, last.month % 12 + 1, 1), zone)

    # The days to predict, as (day index, weight): the rest of a partial day, then whole days.
    future: list[tuple[int, float]] = []
    partial_day: date | None = None
    partial_remaining = 0.0
    fit_last = last
    if today == last:
        partial_day, fit_last = today, today - timedelta(days=1)
        day_start = local_midnight(today, zone)
        day_end = local_midnight(today + timedelta(days=1), zone)
        left = min(day_end, end_dt) - max(moment, day_start)
        partial_remaining = min(1.0, max(0.0, left / (day_end - day_start)))
        if partial_remaining > 0.0:
            future.append(((today - first).days, partial_remaining))
    day = last + timedelta(days=1)
    while local_midnight(day, zone) < end_dt:
        future.append(((day - first).days, 1.0))
        day += timedelta(days=1)
    remaining_days = len(future) - (1 if partial_remaining > 0.0 else 0)

    n = (fit_last - first).days + 1
    ys: list[float] = []
    for index in range(n):
        value = float(daily.get(first + timedelta(days=index), _ZERO))
        if not math.isfinite(value) or abs(value) > 1e150:
            raise ConfigError("the projection overflowed: the daily costs are too large")
        ys.append(value)
    centre = (n - 1) / 2.0
    spread = max(1.0, n / 2.0)  # the trend column stays within [-1, 1]: well conditioned
    first_weekday = first.weekday()

    def design(index: int, model: FittedModel) -> list[float]:
        row = [1.0, (index - centre) / spread]
        weekday = (first_weekday + index) % 7
        if model == "weekly":
            row.extend(1.0 if weekday == k else 0.0 for k in range(1, 7))
        elif model == "weekend":
            row.append(1.0 if weekday >= 5 else 0.0)
        return row

    models: list[FittedModel] = ["linear"]
    if wanted == "weekly":
        weekends = sum((first_weekday + i) % 7 >= 5 for i in range(n))
        if n >= WEEKLY_MIN_DAYS:
            models.insert(0, "weekly")
        if weekends and weekends < n:
            models.insert(-1, "weekend")
    for fitted in models:
        fit = least_squares([design(i, fitted) for i in range(n)], ys)
        if fit is not None:
            break
    else:  # cannot happen with 7 days of data, at most one of them partial
        return insufficient()
    size = len(fit.beta)

    c = [0.0] * size
    for index, weight in future:
        for k, value in enumerate(design(index, fitted)):
            c[k] += weight * value
    predicted = sum(a * b for a, b in zip(c, fit.beta, strict=True))
    quadratic = sum(c[i] * fit.inverse[i][j] * c[j] for i in range(size) for j in range(size))
    weights = sum(weight for _, weight in future)
    variance = fit.variance * (weights + max(0.0, quadratic)) if future else 0.0
    half_width = t_quantile(0.5 + CONFIDENCE_PCT / 200.0, fit.df) * math.sqrt(variance)

    if fitted == "weekly":
        offsets = [0.0, *fit.beta[2:]]
    elif fitted == "weekend":
        offsets = [0.0] * 5 + [fit.beta[2]] * 2
    else:
        offsets = [0.0] * 7
    mean_offset = sum(offsets) / 7.0
    slope = fit.beta[1] / spread
    intercept = fit.beta[0] - slope * centre + offsets[first_weekday]

    def money(estimate: float) -> Decimal:
        """``actual`` (exact) plus an estimated amount rounded to a millionth, never below it."""
        if not math.isfinite(estimate):
            raise ConfigError("the projection overflowed: the daily costs are too large")
        with localcontext() as context:
            context.prec = 120  # quantize exactly, however large the amounts
            return actual + max(_ZERO, Decimal(repr(estimate)).quantize(_MICRO))

    return Projection(
        status="ok",
        currency=chosen,
        actual=actual,
        days_available=days_available,
        min_days_required=MIN_PROJECTION_DAYS,
        period_end=end_dt,
        remaining_days=remaining_days,
        projected=money(predicted),
        lower=money(predicted - half_width),
        upper=money(predicted + half_width),
        slope=slope,
        intercept=intercept,
        unplaced=unplaced,
        method=fitted,
        fitted_days=n,
        partial_day=partial_day,
        partial_remaining=partial_remaining,
        weekday_effects=None if fitted == "linear" else tuple(o - mean_offset for o in offsets),
    )
