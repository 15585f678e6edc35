"""The result types of the analyses (frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ._constants import CONFIDENCE_PCT, FittedModel, Granularity, Period

__all__ = [
    "Bucket",
    "Budget",
    "Heatmap",
    "HeatmapCell",
    "ModelEfficiency",
    "Projection",
    "TimeSeries",
    "Totals",
]

_ZERO = Decimal(0)


@dataclass(frozen=True)
class Totals:
    """Tokens and cost of a slice of records.

    Attributes:
        tokens: Whole tokens (see :data:`TOKEN_METRICS`), exact.
        cost: Cost per currency (upper-case ISO 4217 code to amount), exact; empty when none.
    """

    tokens: Decimal
    cost: Mapping[str, Decimal]


@dataclass(frozen=True)
class Bucket:
    """One bucket of a :class:`TimeSeries`.

    Attributes:
        start: Bucket start (inclusive), aware UTC like every usagekit time (so that
            ``end - start`` is the real length); ``start.astimezone(ZoneInfo(zone))`` shows the
            local midnight or hour it is aligned to.
        end: Bucket end (exclusive), aware UTC. A day bucket on a daylight-saving change is 23
            or 25 hours long.
        tokens: Whole tokens in the bucket.
        cost: Cost per currency in the bucket.
        series: Per group value, the bucket's totals; only groups with records in this bucket
            appear; empty when the series is not grouped.
    """

    start: datetime
    end: datetime
    tokens: Decimal
    cost: Mapping[str, Decimal]
    series: Mapping[str | None, Totals]


@dataclass(frozen=True)
class TimeSeries:
    """Tokens and cost per time bucket, oldest first, with no gaps.

    Attributes:
        granularity: The effective bucket width (derived from the window when not given).
        timezone: The IANA zone the buckets are aligned in.
        group_by: The grouping field, or None.
        buckets: Every bucket from the one containing the window's start to the one containing
            its end, including empty ones.
    """

    granularity: Granularity
    timezone: str
    group_by: str | None
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True)
class Projection:
    """A projection of the total cost at the end of a period.

    ``status`` is ``"ok"`` or ``"insufficient_data"``; in the latter case ``projected``,
    ``lower`` and ``upper`` are None and ``days_available < min_days_required``.

    Amounts are ``Decimal``: ``actual`` is exact; ``projected``, ``lower`` and ``upper`` are
    ``actual`` plus an estimate of the spend still to come, quantized to a millionth
    (``Decimal("0.000001")``, half-even) and never below 0 (see :func:`projection`).

    Attributes:
        status: ``"ok"`` or ``"insufficient_data"``.
        currency: The currency of every amount, or None when there is no cost at all.
        actual: Cost already incurred (the sum of every cost record given, the partial current
            day's included), exact.
        days_available: Days with at least one cost record (a partial current day included).
        min_days_required: Always :data:`MIN_PROJECTION_DAYS`.
        period_end: The exclusive end of the projected period (aware UTC), or None when not
            given and not derived (insufficient data).
        remaining_days: The whole days predicted (after the last observed day, before
            ``period_end``); the rest of a partial current day is ``partial_remaining``.
        projected: Projected total at ``period_end`` (``actual`` plus the predicted remaining
            spend).
        lower: Lower bound of the prediction interval of the total.
        upper: Upper bound of the prediction interval of the total.
        confidence_pct: Always :data:`CONFIDENCE_PCT`.
        slope: The fitted daily trend (currency per day per day), or None.
        intercept: The fitted spend of the first observed day (its weekday effect included),
            or None.
        unplaced: The part of ``actual`` from records longer than a day, which is counted as
            spent but not fitted or projected.
        method: The model fitted (:data:`FittedModel`), or None (insufficient data):
            ``"weekly"``, ``"weekend"`` (``method="weekly"`` asked for, fewer than
            :data:`WEEKLY_MIN_DAYS` complete days) or ``"linear"``.
        fitted_days: The complete days the model was fitted on (days without records in
            between count, as 0).
        partial_day: The local date of the current, partial day (left out of the fit; its
            spend so far is in ``actual``), or None when every observed day is complete.
        partial_remaining: The fraction (0 to 1) of the partial day still to come before
            ``period_end``, whose spend is predicted; 0.0 without a partial day.
        weekday_effects: The fitted offset of each weekday, Monday first, from their mean (they
            sum to 0; currency per day); None when ``method`` is ``"linear"`` or None.
    """

    status: Literal["ok", "insufficient_data"]
    currency: str | None
    actual: Decimal
    days_available: int
    min_days_required: int
    period_end: datetime | None
    remaining_days: int
    projected: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    confidence_pct: int = CONFIDENCE_PCT
    slope: float | None = None
    intercept: float | None = None
    unplaced: Decimal = _ZERO
    method: FittedModel | None = None
    fitted_days: int = 0
    partial_day: date | None = None
    partial_remaining: float = 0.0
    weekday_effects: tuple[float, ...] | None = None


@dataclass(frozen=True)
class HeatmapCell:
    """One (day of week, hour) cell of a :class:`Heatmap`.

    Attributes:
        day_of_week: 0 = Sunday ... 6 = Saturday (SQL ``EXTRACT(dow ...)`` semantics).
        hour: Wall-clock hour 0-23 in the heatmap's zone.
        tokens: Whole tokens in the cell.
        cost: Cost per currency in the cell.
    """

    day_of_week: int
    hour: int
    tokens: Decimal
    cost: Mapping[str, Decimal]


@dataclass(frozen=True)
class Heatmap:
    """Tokens and cost by day of week and hour of day.

    Attributes:
        timezone: The IANA zone of the hours.
        cells: The cells with non-zero tokens or cost, by day of week then hour (sparse, as
            Daramex's); :meth:`tokens_grid` and :meth:`cost_grid` give the full 7 x 24 grids.
    """

    timezone: str
    cells: tuple[HeatmapCell, ...]

    def tokens_grid(self) -> tuple[tuple[Decimal, ...], ...]:
        """Return tokens as 7 rows (0 = Sunday) of 24 hours, zeros where no cell."""
        return self._grid(lambda cell: cell.tokens)

    def cost_grid(self, currency: str) -> tuple[tuple[Decimal, ...], ...]:
        """Return the cost in ``currency`` as 7 rows (0 = Sunday) of 24 hours."""
        return self._grid(lambda cell: cell.cost.get(currency, Decimal(0)))

    def _grid(self, value: Callable[[HeatmapCell], Decimal]) -> tuple[tuple[Decimal, ...], ...]:
        grid = [[Decimal(0)] * 24 for _ in range(7)]
        for cell in self.cells:
            grid[cell.day_of_week][cell.hour] = value(cell)
        return tuple(tuple(row) for row in grid)


@dataclass(frozen=True)
class ModelEfficiency:
    """Cost, tokens and requests of one model.

    Attributes:
        model: The model dimension.
        currency: The currency of ``cost``, or None when there is no cost at all.
        cost: Total cost, exact.
        tokens: Whole tokens (see :data:`TOKEN_METRICS`).
        requests: Model requests (see :data:`REQUEST_METRICS`).
        cost_per_million_tokens: ``cost * 1_000_000 / tokens``, or None when tokens are 0.
    """

    model: str
    currency: str | None
    cost: Decimal
    tokens: Decimal
    requests: Decimal
    cost_per_million_tokens: Decimal | None


@dataclass(frozen=True)
class Budget:
    """A budget check for the current period.

    Attributes:
        period: ``"day"``, ``"week"`` or ``"month"``.
        period_start: Start of the period containing ``now`` (aware UTC; a local midnight in
            the budget's zone).
        period_end: End of that period (exclusive, aware UTC).
        currency: The currency, or None when there is no cost in the period.
        limit: The budget.
        spent: Cost so far in the period, exact.
        projected: Projected spend at the period end; ``spent`` itself when the projection has
            insufficient data.
        over_budget: Whether ``projected`` exceeds ``limit``.
        exceeded: Whether ``spent`` already exceeds ``limit``.
        remaining: ``limit - spent`` (negative once exceeded).
        projection: The projection behind ``projected``.
    """

    period: Period
    period_start: datetime
    period_end: datetime
    currency: str | None
    limit: Decimal
    spent: Decimal
    projected: Decimal
    over_budget: bool
    exceeded: bool
    remaining: Decimal
    projection: Projection
