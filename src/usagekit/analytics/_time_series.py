"""Tokens and cost per time bucket: :func:`time_series`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from .._core.clock import TimeLike, as_utc, resolve_window
from .._core.errors import ConfigError
from .._core.records import UsageRecord
from ._calendar import bucket_floor, bucket_next, check_zone
from ._constants import GRANULARITIES, GROUP_BY_FIELDS, MAX_BUCKETS, Granularity
from ._results import Bucket, TimeSeries, Totals
from ._tally import Placer, Tally, by_interval

__all__ = ["time_series"]


def _granularity(value: object) -> Granularity:
    if value not in GRANULARITIES:
        raise ConfigError(f"granularity must be one of {', '.join(GRANULARITIES)}, got {value!r}")
    return value


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
    zone = check_zone(timezone)
    if granularity is not None:
        granularity = _granularity(granularity)
    group = _group_getter(group_by)
    w_start, w_end = _window(start, end)
    cells = by_interval(records, group=group, window=(w_start, w_end))

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

    place = Placer(chosen, zone)
    buckets: Tally[tuple[datetime, str | None]] = Tally()
    for key in cells.keys:
        buckets.merge((place(key[0], key[1]), key[2]), cells, key)
    by_bucket: dict[datetime, list[str | None]] = {}
    for bucket_start, group_value in buckets.keys:
        by_bucket.setdefault(bucket_start, []).append(group_value)

    grid: list[tuple[datetime, datetime]] = []
    bucket_start = bucket_floor(span_start, chosen, zone)
    while bucket_start < span_end:
        if len(grid) >= MAX_BUCKETS:
            raise ConfigError(
                f"{chosen} buckets over this window would be more than {MAX_BUCKETS}; "
                "choose a coarser granularity or a shorter window"
            )
        bucket_end = bucket_next(bucket_start, chosen, zone)
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
