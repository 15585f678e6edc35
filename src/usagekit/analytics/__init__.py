"""Analytics over any provider's records: time series, projection, heatmap, efficiency, budget.

Every function here is a pure function over an iterable of :class:`~usagekit.UsageRecord`, so
the same answers Daramex's analytics endpoints give for Daramex's own data can be had locally
for OpenAI, Basedash, Unsiloed and Daramex records together, or for records read back from a
:class:`~usagekit.Store`.

What is counted:

* **Tokens** are the whole-token metrics of :data:`TOKEN_METRICS` (``input_tokens``,
  ``output_tokens``, ``total_tokens``; the one constant ``usagekit.TOKEN_METRICS``) with unit
  ``"tokens"``. Breakdown metrics (OpenAI's ``input_cached_tokens``, ``input_audio_tokens``,
  ...) are parts of ``input_tokens``/``output_tokens`` and are never added to them. Where a
  ``(provider, source)`` reports ``total_tokens`` (Daramex), that figure is used for it and
  any ``input_tokens``/``output_tokens`` it also reports are not added on top; otherwise its
  tokens are ``input_tokens + output_tokens``.
* **Cost** is the metric ``"cost"``, kept per currency (``{"USD": Decimal(...)}``): amounts in
  different currencies are never added. Functions that need a single figure (projection,
  model efficiency, budget) take a ``currency`` argument, default the only currency present,
  and refuse records in several currencies without one.
* **Levels** (``kind="level"``, a stock such as bytes stored) are skipped: summing a level over
  time is meaningless.

Records are never split. A record is put in the time bucket (or heatmap cell) that contains
its start; a record that does not fit in that bucket (a daily record asked for by the hour, a
UTC day looked at in another time zone) raises :class:`~usagekit.ConfigError` rather than being
spread over buckets by a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation, localcontext
from typing import Generic, Literal, TypeVar, cast, get_args
from zoneinfo import ZoneInfo

from .._core.clock import TimeLike, as_utc, resolve_window, utcnow
from .._core.errors import ConfigError
from .._core.records import DIMENSIONS, FLOW, TOKEN_METRICS, UsageRecord

_ZERO = Decimal(0)
_MICRO = Decimal("0.000001")
_LONGEST_DAY = timedelta(hours=25)  # a local day on a fall-back change

__all__ = [
    "CONFIDENCE_PCT",
    "GRANULARITIES",
    "GROUP_BY_FIELDS",
    "MAX_BUCKETS",
    "MIN_PROJECTION_DAYS",
    "PROJECTION_METHODS",
    "REQUEST_METRICS",
    "WEEKLY_MIN_DAYS",
    "TOKEN_METRICS",
    "Budget",
    "Bucket",
    "Granularity",
    "Heatmap",
    "HeatmapCell",
    "ModelEfficiency",
    "FittedModel",
    "Period",
    "Projection",
    "ProjectionMethod",
    "TimeSeries",
    "Totals",
    "budget",
    "heatmap",
    "model_efficiency",
    "projection",
    "t_quantile",
    "time_series",
]

UTC = timezone.utc

Granularity = Literal["hour", "day", "week", "month"]
"""Width of a time-series bucket. Weeks start on Monday (ISO 8601); all widths are aligned in
the requested time zone."""

GRANULARITIES: tuple[Granularity, ...] = get_args(Granularity)
"""The accepted granularities, finest first."""

Period = Literal["day", "week", "month"]
"""The period of a :func:`budget`."""

TOTAL_TOKENS = "total_tokens"
TOKEN_UNIT = "tokens"
COST_METRIC = "cost"

REQUEST_METRICS: frozenset[str] = frozenset({"num_model_requests", "executions"})
"""Metrics counted as model requests by :func:`model_efficiency`: OpenAI's
``num_model_requests`` and Daramex's ``executions`` (one row per model execution). OpenAI's
``num_requests`` (web and file search tool calls) counts tool calls, not model requests, and is
left out."""

GROUP_BY_FIELDS: tuple[str, ...] = ("provider", "source", *DIMENSIONS)
"""Record fields :func:`time_series` can group by; ``"attributes.<key>"`` groups by an
attribute."""

MIN_PROJECTION_DAYS = 7
"""The fewest days with cost data a :func:`projection` needs (as Daramex's)."""

CONFIDENCE_PCT = 80
"""The confidence of the projection's prediction interval, in percent."""

ProjectionMethod = Literal["weekly", "linear"]
"""How :func:`projection` models daily spend: ``"weekly"`` (the default: a trend plus
day-of-week effects, as many as the observed days allow) or ``"linear"`` (the plain
least-squares line, usagekit's method before day-of-week effects, kept for comparison)."""

FittedModel = Literal["weekly", "weekend", "linear"]
"""The model a :class:`Projection` was fitted with: ``"weekly"`` (level, trend and an offset
for each weekday but Monday), ``"weekend"`` (level, trend and one offset shared by Saturday and
Sunday) or ``"linear"`` (level and trend); see :func:`projection`."""

PROJECTION_METHODS: tuple[ProjectionMethod, ...] = get_args(ProjectionMethod)
"""The accepted projection methods, the default first."""

WEEKLY_MIN_DAYS = 14
"""The fewest complete days on which the ``"weekly"`` projection fits an offset for every
weekday: two of each weekday, so that the 8 parameters (level, trend, 6 weekday offsets) leave
6 degrees of freedom for the residual variance. With fewer it fits one weekend offset (3
parameters) when the days include both weekdays and weekend days, else the plain line."""

MAX_BUCKETS = 500_000
"""The most buckets a :func:`time_series` will produce; a finer request is refused."""

_HOUR = timedelta(hours=1)

K = TypeVar("K", bound=Hashable)
J = TypeVar("J", bound=Hashable)


# --------------------------------------------------------------------------------------------
# Result types


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


# --------------------------------------------------------------------------------------------
# Argument checks


def _zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ConfigError(f"timezone must be an IANA zone name such as 'UTC', got {name!r}")
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise ConfigError(f"unknown IANA time zone {name!r}") from None


def _granularity(value: object) -> Granularity:
    if value not in GRANULARITIES:
        raise ConfigError(f"granularity must be one of {', '.join(GRANULARITIES)}, got {value!r}")
    return value


def _currency(value: object) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise ConfigError(f"currency must be an ISO 4217 code such as 'USD', got {value!r}")
    return value.upper()


def _group_getter(group_by: object) -> Callable[[UsageRecord], str | None] | None:
    if group_by is None:
        return None
    if isinstance(group_by, str):
        if group_by in GROUP_BY_FIELDS:
            return lambda record: cast("str | None", getattr(record, group_by))
        if group_by.startswith("attributes.") and len(group_by) > len("attributes."):
            key = group_by[len("attributes.") :]
            return lambda record: record.attributes.get(key)
    raise ConfigError(
        f"group_by must be None, one of {', '.join(GROUP_BY_FIELDS)} or 'attributes.<key>', "
        f"got {group_by!r}"
    )


def _check_record(record: object) -> UsageRecord:
    if not isinstance(record, UsageRecord):
        raise ConfigError(f"records must be UsageRecord objects, got {type(record).__name__}")
    return record


# --------------------------------------------------------------------------------------------
# Tallies


class _Tally(Generic[K]):
    """Sums tokens, cost and requests per key, applying the :data:`TOKEN_METRICS` rules."""

    def __init__(self) -> None:
        self.io: dict[K, dict[tuple[str, str], Decimal]] = {}
        self.total: dict[K, dict[tuple[str, str], Decimal]] = {}
        self.cost: dict[K, dict[str, Decimal]] = {}
        self.requests: dict[K, Decimal] = {}
        self.with_total: set[tuple[str, str]] = set()
        self.keys: dict[K, None] = {}

    @staticmethod
    def relevant(record: UsageRecord, *, requests: bool = False) -> bool:
        """Return whether ``record`` contributes tokens, cost (or requests) to a tally."""
        if record.kind != FLOW:
            return False
        if record.metric == COST_METRIC:
            return True
        if record.metric in TOKEN_METRICS:
            return record.unit == TOKEN_UNIT
        return requests and record.metric in REQUEST_METRICS

    def add(self, key: K, record: UsageRecord) -> None:
        """Add a record that :meth:`relevant` accepted."""
        self.keys[key] = None
        metric = record.metric
        if metric == COST_METRIC:
            slot = self.cost.setdefault(key, {})
            slot[record.unit] = slot.get(record.unit, Decimal(0)) + record.quantity
        elif metric in TOKEN_METRICS:
            origin = (record.provider, record.source)
            if metric == TOTAL_TOKENS:
                self.with_total.add(origin)
                target = self.total.setdefault(key, {})
            else:
                target = self.io.setdefault(key, {})
            target[origin] = target.get(origin, Decimal(0)) + record.quantity
        else:
            self.requests[key] = self.requests.get(key, Decimal(0)) + record.quantity

    def merge(self, key: K, other: _Tally[J], other_key: J) -> None:
        """Add everything ``other`` holds under ``other_key`` to ``key``."""
        self.keys[key] = None
        self.with_total |= other.with_total
        for mine, theirs in ((self.io, other.io), (self.total, other.total)):
            source = theirs.get(other_key)
            if source:
                target = mine.setdefault(key, {})
                for origin, amount in source.items():
                    target[origin] = target.get(origin, Decimal(0)) + amount
        cost = other.cost.get(other_key)
        if cost:
            slot = self.cost.setdefault(key, {})
            for currency, amount in cost.items():
                slot[currency] = slot.get(currency, Decimal(0)) + amount
        if other_key in other.requests:
            self.requests[key] = self.requests.get(key, Decimal(0)) + other.requests[other_key]

    def tokens(self, key: K) -> Decimal:
        """Whole tokens under ``key``: ``total_tokens`` where reported, else input + output."""
        result = sum(self.total.get(key, {}).values(), Decimal(0))
        for origin, amount in self.io.get(key, {}).items():
            if origin not in self.with_total:
                result += amount
        return result

    def totals(self, key: K) -> Totals:
        """Tokens and cost under ``key``."""
        return Totals(self.tokens(key), dict(sorted(self.cost.get(key, {}).items())))

    def currencies(self) -> set[str]:
        """Every currency seen."""
        return {currency for slot in self.cost.values() for currency in slot}


def _pick_currency(currencies: Iterable[str], requested: str | None) -> str | None:
    if requested is not None:
        return _currency(requested)
    found = sorted(set(currencies))
    if len(found) > 1:
        raise ConfigError(
            f"the records carry costs in several currencies ({', '.join(found)}); "
            "pass currency=... to choose one"
        )
    return found[0] if found else None


# --------------------------------------------------------------------------------------------
# Buckets in a time zone


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    # A midnight that does not exist (a spring-forward at 00:00) resolves, with fold=0, to the
    # instant of the transition: the first moment of that local day.
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _floor(moment: datetime, granularity: Granularity, zone: tzinfo) -> datetime:
    """Return the UTC start of the bucket of ``granularity`` in ``zone`` containing ``moment``."""
    local = moment.astimezone(zone)
    if granularity == "hour":
        # The last time the local clock showed a whole hour: real hours, so the two 01:00 hours
        # of a fall-back night are two buckets and a zone offset by 30 minutes is respected.
        return moment - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )
    day = local.date()
    if granularity == "week":
        day -= timedelta(days=day.weekday())
    elif granularity == "month":
        day = day.replace(day=1)
    return _local_midnight(day, zone)


def _next(start: datetime, granularity: Granularity, zone: tzinfo) -> datetime:
    """Return the UTC end of the bucket that starts at ``start``."""
    if granularity == "hour":
        return start + _HOUR
    day = start.astimezone(zone).date()
    if granularity == "day":
        day += timedelta(days=1)
    elif granularity == "week":
        day += timedelta(days=7)
    else:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return _local_midnight(day, zone)


class _Placer:
    """Puts record intervals in buckets, refusing any interval that would have to be split."""

    def __init__(self, granularity: Granularity, zone: ZoneInfo) -> None:
        self.granularity = granularity
        self.zone = zone
        self._cache: dict[tuple[datetime, datetime], datetime] = {}

    def __call__(self, start: datetime, end: datetime) -> datetime:
        key = (start, end)
        bucket = self._cache.get(key)
        if bucket is None:
            bucket = _floor(start, self.granularity, self.zone)
            limit = _next(bucket, self.granularity, self.zone)
            if end > limit:
                raise ConfigError(
                    f"a record from {start.isoformat()} to {end.isoformat()} crosses the "
                    f"{self.granularity} boundary at {limit.astimezone(self.zone).isoformat()} "
                    f"in {self.zone.key}; a record can't be split, so use a coarser granularity "
                    "or records at least as fine as it"
                )
            self._cache[key] = bucket
        return bucket


def _derive_granularity(span: timedelta) -> Granularity:
    """Derive a granularity from a window's length, as Daramex does."""
    if span <= timedelta(days=7):
        return "hour"
    if span <= timedelta(days=90):
        return "day"
    if span <= timedelta(days=365):
        return "week"
    return "month"


def _window(
    start: TimeLike | None, end: TimeLike | None
) -> tuple[datetime | None, datetime | None]:
    if start is None:
        return None, None if end is None else as_utc(end, name="end")
    window = resolve_window(start, end)
    return window.start, window.end


# --------------------------------------------------------------------------------------------
# Time series


_Interval = tuple[datetime, datetime, str | None]


def _by_interval(
    records: Iterable[UsageRecord],
    *,
    group: Callable[[UsageRecord], str | None] | None,
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> _Tally[_Interval]:
    """Sum the relevant records overlapping ``window`` per (start, end, group value)."""
    w_start, w_end = window
    tally: _Tally[_Interval] = _Tally()
    for item in records:
        record = _check_record(item)
        if not _Tally.relevant(record):
            continue
        if (w_start is not None and record.end <= w_start) or (
            w_end is not None and record.start >= w_end
        ):
            continue
        tally.add((record.start, record.end, None if group is None else group(record)), record)
    return tally


def time_series(
    records: Iterable[UsageRecord],
    *,
    granularity: Granularity | None = None,
    timezone: str = "UTC",
    group_by: str | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
) -> TimeSeries:
    """Return tokens and cost per time bucket aligned in ``timezone``.

    Buckets follow the zone's calendar: a day bucket is a local day (23 or 25 hours on a
    daylight-saving change), a week starts on local Monday, a month on the local first; hour
    buckets are real hours (the repeated hour of a fall-back night is two buckets, the skipped
    hour of a spring-forward night none).

    Args:
        records: The records; levels and metrics other than tokens and cost are ignored.
        granularity: ``"hour"``, ``"day"``, ``"week"`` or ``"month"``; None derives it from the
            window's length as Daramex does: up to 7 days hour, up to 90 days day, up to 365
            days week, beyond that month.
        timezone: The IANA zone the buckets are aligned in.
        group_by: None, a field of :data:`GROUP_BY_FIELDS` (``"model"``, ``"provider"``,
            ``"project_id"``, ...) or ``"attributes.<key>"``, to break every bucket down.
        start: Window start; records ending at or before it are left out. None: the earliest
            record start.
        end: Window end (exclusive); records starting at or after it are left out. None: the
            latest record end.

    Returns:
        The series, every bucket from the one containing the window start to the one
        containing the last moment before its end, empty buckets included. Records are taken
        whole when they overlap the window, so the first and last buckets may reach beyond it.

    Raises:
        ConfigError: A bad argument, or a record that does not fit in one bucket (it can't be
            split: choose a coarser granularity).
    """
    zone = _zone(timezone)
    if granularity is not None:
        granularity = _granularity(granularity)
    group = _group_getter(group_by)
    w_start, w_end = _window(start, end)
    cells = _by_interval(records, group=group, window=(w_start, w_end))

    if cells.keys:
        span_start = w_start or min(key[0] for key in cells.keys)
        span_end = w_end or max(key[1] for key in cells.keys)
    elif w_start is not None and w_end is not None:
        span_start, span_end = w_start, w_end
    else:
        return TimeSeries(granularity or "hour", timezone, group_by, ())
    if span_start >= span_end:
        return TimeSeries(granularity or "hour", timezone, group_by, ())
    chosen = granularity or _derive_granularity(span_end - span_start)

    place = _Placer(chosen, zone)
    buckets: _Tally[tuple[datetime, str | None]] = _Tally()
    for key in cells.keys:
        buckets.merge((place(key[0], key[1]), key[2]), cells, key)
    by_bucket: dict[datetime, list[str | None]] = {}
    for bucket_start, group_value in buckets.keys:
        by_bucket.setdefault(bucket_start, []).append(group_value)

    grid: list[tuple[datetime, datetime]] = []
    bucket_start = _floor(span_start, chosen, zone)
    while bucket_start < span_end:
        if len(grid) >= MAX_BUCKETS:
            raise ConfigError(
                f"{chosen} buckets over this window would be more than {MAX_BUCKETS}; "
                "choose a coarser granularity or a shorter window"
            )
        bucket_end = _next(bucket_start, chosen, zone)
        grid.append((bucket_start, bucket_end))
        bucket_start = bucket_end
    off_grid = set(by_bucket) - {bucket for bucket, _ in grid}
    if off_grid:
        # Only where a zone's clock shifts by less than an hour (Lord Howe's 30 minutes).
        raise ConfigError(
            f"{zone.key}'s {chosen} boundaries shift by a fraction of an hour in this window, "
            "so records can't be bucketed consistently; choose a coarser granularity"
        )

    result: list[Bucket] = []
    for bucket_start, bucket_end in grid:
        groups = by_bucket.get(bucket_start, [])
        tokens = Decimal(0)
        cost: dict[str, Decimal] = {}
        series: dict[str | None, Totals] = {}
        for group_value in groups:
            totals = buckets.totals((bucket_start, group_value))
            tokens += totals.tokens
            for currency, amount in totals.cost.items():
                cost[currency] = cost.get(currency, Decimal(0)) + amount
            if group is not None:
                series[group_value] = totals
        result.append(
            Bucket(
                start=bucket_start,
                end=bucket_end,
                tokens=tokens,
                cost=dict(sorted(cost.items())),
                series=series,
            )
        )
    return TimeSeries(chosen, timezone, group_by, tuple(result))


# --------------------------------------------------------------------------------------------
# Student's t quantile (no scipy at run time)


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Evaluate the continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    """Return the regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def _t_cdf(value: float, df: float) -> float:
    """Return P(T <= value) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + value * value))
    return 1.0 - tail if value > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """Return the ``p`` quantile of Student's t distribution with ``df`` degrees of freedom.

    The CDF is ``1 - I_x(df/2, 1/2) / 2`` with ``x = df / (df + t^2)`` (``I`` the regularized
    incomplete beta function, evaluated by its continued fraction); the quantile is found by
    bisection on that CDF, to an absolute accuracy far better than 1e-6.

    Args:
        p: The probability, strictly between 0 and 1.
        df: The degrees of freedom, positive.

    Returns:
        ``t`` such that ``P(T <= t) = p``.

    Raises:
        ConfigError: ``p`` or ``df`` out of range.
    """
    if not (0.0 < p < 1.0) or not (df > 0.0) or not math.isfinite(df):
        raise ConfigError(f"t_quantile needs 0 < p < 1 and df > 0, got p={p!r}, df={df!r}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if _t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


# --------------------------------------------------------------------------------------------
# Projection


def _daily_cost(
    records: Iterable[UsageRecord], zone: ZoneInfo, currency: str | None
) -> tuple[str | None, dict[date, Decimal], Decimal]:
    """Return the chosen currency, the cost per local day of every day with cost records, and
    the cost of records that do not fit in one local day (a whole billing period, say)."""
    cells = _by_interval(records, group=None)
    chosen = _pick_currency(cells.currencies(), currency)
    place = _Placer("day", zone)
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


def _invert(matrix: list[list[float]]) -> list[list[float]] | None:
    """Return the inverse of a small symmetric positive semi-definite matrix (Gauss-Jordan with
    partial pivoting), or None when it is singular to working precision."""
    size = len(matrix)
    scale = max((abs(matrix[i][i]) for i in range(size)), default=0.0)
    if not (scale > 0.0) or not math.isfinite(scale):
        return None
    work = [[*row, *(1.0 if i == j else 0.0 for j in range(size))] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda row: abs(work[row][column]))
        if abs(work[pivot][column]) <= 1e-12 * scale:
            return None
        work[column], work[pivot] = work[pivot], work[column]
        head = work[column]
        factor = head[column]
        for index in range(2 * size):
            head[index] /= factor
        for row in range(size):
            if row != column and work[row][column] != 0.0:
                ratio = work[row][column]
                target = work[row]
                for index in range(2 * size):
                    target[index] -= ratio * head[index]
    return [row[size:] for row in work]


@dataclass(frozen=True)
class _Fit:
    """An ordinary least-squares fit: coefficients, ``(X'X)^-1``, residual variance, df."""

    beta: tuple[float, ...]
    inverse: tuple[tuple[float, ...], ...]
    variance: float
    df: int


def _least_squares(rows: list[list[float]], ys: list[float]) -> _Fit | None:
    """Fit ``y = X beta`` by least squares; None when ``X`` is rank deficient or leaves no
    degree of freedom for the residual variance."""
    size = len(rows[0])
    df = len(rows) - size
    if df < 1:
        return None
    gram = [[0.0] * size for _ in range(size)]
    moment = [0.0] * size
    for row, y in zip(rows, ys, strict=True):
        for i, value in enumerate(row):
            if value != 0.0:
                moment[i] += value * y
                for j in range(size):
                    gram[i][j] += value * row[j]
    inverse = _invert(gram)
    if inverse is None:
        return None
    beta = [sum(a * b for a, b in zip(line, moment, strict=True)) for line in inverse]
    sse = sum(
        (y - sum(b * v for b, v in zip(beta, row, strict=True))) ** 2
        for row, y in zip(rows, ys, strict=True)
    )
    return _Fit(tuple(beta), tuple(tuple(line) for line in inverse), sse / df, df)


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
    zone = _zone(timezone)
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
        end_dt = _local_midnight(date(last.year + last.month // 12, last.month % 12 + 1, 1), zone)

    # The days to predict, as (day index, weight): the rest of a partial day, then whole days.
    future: list[tuple[int, float]] = []
    partial_day: date | None = None
    partial_remaining = 0.0
    fit_last = last
    if today == last:
        partial_day, fit_last = today, today - timedelta(days=1)
        day_start = _local_midnight(today, zone)
        day_end = _local_midnight(today + timedelta(days=1), zone)
        left = min(day_end, end_dt) - max(moment, day_start)
        partial_remaining = min(1.0, max(0.0, left / (day_end - day_start)))
        if partial_remaining > 0.0:
            future.append(((today - first).days, partial_remaining))
    day = last + timedelta(days=1)
    while _local_midnight(day, zone) < end_dt:
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
        fit = _least_squares([design(i, fitted) for i in range(n)], ys)
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


# --------------------------------------------------------------------------------------------
# Heatmap


def heatmap(records: Iterable[UsageRecord], *, timezone: str = "UTC") -> Heatmap:
    """Return tokens and cost by day of week (0 = Sunday) and hour of day in ``timezone``.

    Each record is put in the cell of the local hour containing its start; the two 01:00 hours
    of a fall-back night both land in hour 1.

    Args:
        records: Hourly or finer records (levels and other metrics are ignored).
        timezone: The IANA zone of the wall-clock hours.

    Returns:
        The heatmap.

    Raises:
        ConfigError: A bad zone, or a record longer than the local hour it starts in (a daily
            record can't be spread over hours).
    """
    zone = _zone(timezone)
    place = _Placer("hour", zone)
    cells: dict[tuple[datetime, datetime], tuple[int, int]] = {}
    tally: _Tally[tuple[int, int]] = _Tally()
    for item in records:
        record = _check_record(item)
        if not _Tally.relevant(record):
            continue
        interval = (record.start, record.end)
        cell = cells.get(interval)
        if cell is None:
            local = place(record.start, record.end).astimezone(zone)
            cell = cells[interval] = ((local.weekday() + 1) % 7, local.hour)
        tally.add(cell, record)
    result: list[HeatmapCell] = []
    for day_of_week, hour in sorted(tally.keys):
        totals = tally.totals((day_of_week, hour))
        if totals.tokens or any(totals.cost.values()):
            result.append(HeatmapCell(day_of_week, hour, totals.tokens, totals.cost))
    return Heatmap(timezone, tuple(result))


# --------------------------------------------------------------------------------------------
# Model efficiency


def model_efficiency(
    records: Iterable[UsageRecord], *, limit: int = 20, currency: str | None = None
) -> list[ModelEfficiency]:
    """Return per-model cost, tokens, requests and cost per million tokens, by cost descending.

    Only records with a ``model`` dimension count (OpenAI's costs endpoint has none: its cost
    is not attributed to models here).

    Args:
        records: The records.
        limit: The most models to return (at least 1).
        currency: The currency of the costs; None: the only one present.

    Returns:
        At most ``limit`` entries, by cost descending, then by model name.

    Raises:
        ConfigError: A bad ``limit``, or costs in several currencies without ``currency``.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"limit must be a positive integer, got {limit!r}")
    tally: _Tally[str] = _Tally()
    for item in records:
        record = _check_record(item)
        if record.model is not None and _Tally.relevant(record, requests=True):
            tally.add(record.model, record)
    chosen = _pick_currency(tally.currencies(), currency)
    million = Decimal(1_000_000)
    entries: list[ModelEfficiency] = []
    for model in tally.keys:
        cost = tally.cost.get(model, {}).get(chosen, Decimal(0)) if chosen else Decimal(0)
        tokens = tally.tokens(model)
        entries.append(
            ModelEfficiency(
                model=model,
                currency=chosen,
                cost=cost,
                tokens=tokens,
                requests=tally.requests.get(model, Decimal(0)),
                cost_per_million_tokens=cost * million / tokens if tokens else None,
            )
        )
    entries.sort(key=lambda entry: (-entry.cost, entry.model))
    return entries[:limit]


# --------------------------------------------------------------------------------------------
# Budget


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
    zone = _zone(timezone)
    if period not in get_args(Period):
        raise ConfigError(f"period must be one of {', '.join(get_args(Period))}, got {period!r}")
    limit_amount = _amount(limit, name="limit")
    now_dt = utcnow() if now is None else as_utc(now, name="now")
    period_start = _floor(now_dt, period, zone)
    period_end = _next(period_start, period, zone)
    place = _Placer(period, zone)
    in_period: list[UsageRecord] = []
    for item in records:
        record = _check_record(item)
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
