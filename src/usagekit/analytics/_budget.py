"""Spend against a budget for the current period: :func:`budget`."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import get_args

from .._core.clock import TimeLike, as_utc, utcnow
from .._core.errors import ConfigError
from .._core.records import FLOW, UsageRecord
from ._calendar import bucket_floor, bucket_next, check_zone
from ._constants import COST_METRIC, Period
from ._projection import projection
from ._results import Budget
from ._tally import Placer, check_record

__all__ = ["budget"]


def _amount(value: object, *, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise ConfigError(f"{name} must be a number, got {type(value).__name__}")
    try:
        amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"{name} must be a finite, non-negative amount, got {value!r}")
    return amount


def budget(
    records: Iterable[UsageRecord],
    *,
    limit: Decimal | int | float | str,
    period: Period = "month",
    now: TimeLike | None = None,
    timezone: str = "UTC",
    currency: str | None = None,
) -> Budget:
    """Check spend against a budget for the period containing ``now``, for a cron job.

    The spend so far is the cost of the records in the period; the projected spend is
    :func:`projection` of those records to the period end, or the spend so far when there are
    fewer than :data:`MIN_PROJECTION_DAYS` days of data.

    Args:
        records: The records (any span; only cost records in the current period count).
        limit: The budget for the period, in ``currency``.
        period: ``"day"``, ``"week"`` (from Monday) or ``"month"``, in ``timezone``.
        now: The current moment; None: the clock.
        timezone: The IANA zone of the period's calendar.
        currency: The currency of the budget; None: the only one present.

    Returns:
        The budget check; ``over_budget`` says whether the projection breaks the budget.

    Raises:
        ConfigError: A bad argument, costs in several currencies without ``currency``, or a
            cost record straddling the period's start or end.
    """
    zone = check_zone(timezone)
    if period not in get_args(Period):
        raise ConfigError(f"period must be one of {', '.join(get_args(Period))}, got {period!r}")
    limit_amount = _amount(limit, name="limit")
    now_dt = utcnow() if now is None else as_utc(now, name="now")
    period_start = bucket_floor(now_dt, period, zone)
    period_end = bucket_next(period_start, period, zone)
    place = Placer(period, zone)
    in_period: list[UsageRecord] = []
    for item in records:
        record = check_record(item)
        if record.metric != COST_METRIC or record.kind != FLOW:
            continue
        if record.end <= period_start or record.start >= period_end:
            continue
        place(record.start, record.end)
        in_period.append(record)
    result = projection(
        in_period, period_end=period_end, now=now_dt, timezone=timezone, currency=currency
    )
    spent = result.actual
    projected = result.projected if result.projected is not None else spent
    return Budget(
        period=period,
        period_start=period_start,
        period_end=period_end,
        currency=result.currency,
        limit=limit_amount,
        spent=spent,
        projected=projected,
        over_budget=projected > limit_amount,
        exceeded=spent > limit_amount,
        remaining=limit_amount - spent,
        projection=result,
    )
