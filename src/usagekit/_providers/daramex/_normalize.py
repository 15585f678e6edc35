"""Daramex's normalization: ``time-series`` buckets -> :class:`UsageRecord`.

Buckets become token and cost records, per series key and with the unattributed rest of each
bucket, so that records add up to the bucket totals. A bucket ends where the next one starts
in the response's zone (:mod:`usagekit._core.calendar`), clipped to the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast
from zoneinfo import ZoneInfo

from ..._core.calendar import Granularity, bucket_next, load_zone
from ..._core.errors import ResponseValidationError
from ..._core.records import UsageRecord
from ..._core.wire import exact_sum
from ._info import INFO
from ._models import DaramexBucket, DaramexTimeSeries
from ._requests import SOURCE, RecordsPlan, iso_z

__all__ = ["next_bucket_start", "plan_records", "time_series_records"]

_PROVIDER = INFO.name


def next_bucket_start(start: datetime, granularity: str, zone: ZoneInfo) -> datetime | None:
    """Return where the bucket that starts at ``start`` ends: the next bucket's start in ``zone``.

    Hours are one hour later. Days, weeks and months end at local midnight of the next day,
    of the day a week later, or of the first of the next month, so a day is 23 or 25 hours
    long across a DST change.

    Args:
        start: The bucket start, aware.
        granularity: ``hour``, ``day``, ``week`` or ``month``.
        zone: The zone buckets are aligned to.

    Returns:
        The end, aware UTC and after ``start``; None when it is beyond the datetime range.
    """
    try:
        end = bucket_next(start, cast(Granularity, granularity), zone)
    except (OverflowError, ValueError):
        return None
    return end if end > start else None


@dataclass(frozen=True)
class _Merged:
    start: datetime
    tokens: int
    cost: Decimal
    series: dict[str, tuple[int, Decimal]] | None


def _unique_buckets(buckets: list[DaramexBucket]) -> list[_Merged]:
    """One entry per bucket start (so no two records share an id), oldest first.

    A bucket the server repeats with the same figures is an exact duplicate and dropped; the
    same start with other figures is refused: one of them is wrong, and neither summing them
    nor keeping one would be safe.

    Raises:
        ResponseValidationError: A bucket start repeated with different figures.
    """
    unique: dict[datetime, _Merged] = {}
    for index, bucket in enumerate(buckets):
        series = (
            None
            if bucket.series is None
            else {k: (v.total_tokens, v.total_cost_usd) for k, v in bucket.series.items()}
        )
        entry = _Merged(bucket.bucket, bucket.total_tokens, bucket.total_cost_usd, series)
        seen = unique.get(bucket.bucket)
        if seen is None:
            unique[bucket.bucket] = entry
        elif seen != entry:
            raise ResponseValidationError(
                f"the bucket {iso_z(bucket.bucket)} came twice with different figures; "
                "refusing to sum or to pick one",
                provider=_PROVIDER,
                endpoint="time_series",
                field=f"buckets.{index}",
            )
    return [unique[start] for start in sorted(unique)]


def time_series_records(
    series: DaramexTimeSeries,
    *,
    org_id: str,
    start: datetime,
    end: datetime,
    source: str,
    group_by: str,
    zone: ZoneInfo,
    clip_end: bool = True,
) -> list[UsageRecord]:
    """Normalize a ``time-series`` response into token and cost records.

    For each bucket: one ``total_tokens`` record (unit ``tokens``) and one ``cost`` record
    (unit ``USD``) per series key (``model`` for ``group_by="model"``,
    ``attributes["action"]`` for ``"action"``), plus, per metric, the rest of the bucket's
    total the series do not account for (``attributes["unattributed"] == "true"``, either
    sign). With ``group_by="none"`` the bucket totals are the records. Each interval is the
    bucket clipped to the window: ``[max(bucket, start), min(next bucket start, end))``.
    Buckets outside the window are dropped; for the others the records of each metric sum to
    the bucket totals.

    Args:
        series: The validated response.
        org_id: The organization (``organization_id`` of every record).
        start: The window start sent as ``from``.
        end: The window end sent as ``to``.
        source: The token pool requested (``attributes["token_source"]``).
        group_by: The breakdown requested.
        zone: The requested zone; the response's own ``timezone`` wins when it is valid.
        clip_end: Cut the last bucket at ``end``. False when the caller gave no end (``end``
            is then just "now"): the open bucket keeps its natural end, like OpenAI's current
            bucket, so fetching it again gives the same record ids and replaces the figures
            instead of adding a record beside them.

    Returns:
        The records, bucket by bucket, oldest first.

    Raises:
        ResponseValidationError: A bucket start repeated with different figures (an exact
            repeat is dropped: no two records share an id, nothing is summed twice).
    """
    aligned = load_zone(series.timezone) or zone
    buckets = _unique_buckets(series.buckets)
    records: list[UsageRecord] = []

    def emit(
        first: datetime,
        last: datetime,
        tokens: int,
        cost: Decimal,
        *,
        model: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        for metric, quantity, unit in (
            ("total_tokens", Decimal(tokens), "tokens"),
            ("cost", cost, "USD"),
        ):
            records.append(
                UsageRecord.trusted(
                    provider=_PROVIDER,
                    source=SOURCE,
                    start=first,
                    end=last,
                    metric=metric,
                    quantity=quantity,
                    unit=unit,
                    organization_id=org_id,
                    model=model,
                    attributes={"token_source": source, **(extra or {})},
                )
            )

    for index, bucket in enumerate(buckets):
        bucket_end = next_bucket_start(bucket.start, series.granularity, aligned)
        if index + 1 < len(buckets):
            following = buckets[index + 1].start
            bucket_end = following if bucket_end is None else min(bucket_end, following)
        first = max(bucket.start, start)
        if bucket_end is None or clip_end:
            last = end if bucket_end is None else min(bucket_end, end)
        else:
            last = bucket_end
        if last <= first:
            continue
        if group_by == "none":
            emit(first, last, bucket.tokens, bucket.cost)
            continue
        parts = bucket.series or {}
        for key, (tokens, cost) in parts.items():
            if group_by == "model":
                emit(first, last, tokens, cost, model=key)
            else:
                emit(first, last, tokens, cost, extra={"action": key})
        rest_tokens = bucket.tokens - sum(tokens for tokens, _ in parts.values())
        rest_cost = exact_sum((cost.copy_negate() for _, cost in parts.values()), bucket.cost)
        for metric, quantity, unit in (
            ("total_tokens", Decimal(rest_tokens), "tokens"),
            ("cost", rest_cost, "USD"),
        ):
            if quantity != 0:
                records.append(
                    UsageRecord.trusted(
                        provider=_PROVIDER,
                        source=SOURCE,
                        start=first,
                        end=last,
                        metric=metric,
                        quantity=quantity,
                        unit=unit,
                        organization_id=org_id,
                        attributes={"token_source": source, "unattributed": "true"},
                    )
                )
    return records


def plan_records(plan: RecordsPlan, series: DaramexTimeSeries, org_id: str) -> list[UsageRecord]:
    """Normalize the answer to a :class:`RecordsPlan` (see :func:`time_series_records`).

    Args:
        plan: The plan the request was sent for.
        series: The validated response.
        org_id: The organization.

    Returns:
        The records, oldest first.

    Raises:
        ResponseValidationError: A bucket start repeated with different figures.
    """
    return time_series_records(
        series,
        org_id=org_id,
        start=plan.start,
        end=plan.end,
        source=plan.source,
        group_by=plan.group_by,
        zone=plan.zone,
        clip_end=not plan.open_ended,
    )
