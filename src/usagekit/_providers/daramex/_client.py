"""Daramex: the org usage analytics endpoints of the AI Usage Dashboard.

Five read-only endpoints under ``/ai/org-usage``: ``time-series``, ``projection``,
``model-efficiency``, ``heatmap`` and ``cache-savings``, authenticated with a session JWT
(``Authorization: Bearer``) and the organization in ``x-org-id``. Both headers are credentials:
they are never sent to another origin.

Every argument is checked before a request is sent (``start < end``, the enumerations, the
limit, a real IANA time zone), and ``from``/``to`` are sent as ISO-8601 UTC with ``Z``.
``time-series`` buckets become token and cost records, per series key and with the
unattributed rest of each bucket, so that records add up to the bucket totals.

Everything that does no I/O is written once in this module; :class:`DaramexClient` and
:class:`AsyncDaramexClient` only differ in awaiting the transport.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypeAlias, cast, get_args

import httpx
from pydantic import BeforeValidator, Field, SecretStr

from ..._core.client import (
    AsyncClientBase,
    SyncClientBase,
    build_config,
    resolve_base_url,
    resolve_secret,
    resolve_setting,
)
from ..._core.clock import (
    TimeLike,
    as_utc,
    month_start,
    open_window_is_empty,
    resolve_window,
    utcnow,
)
from ..._core.errors import ConfigError, ResponseValidationError
from ..._core.records import UsageRecord
from ..._core.retry import RetryPolicy
from ..._core.transport import RequestSpec, TransportConfig, params_from
from ..._core.wire import Count, ExactDecimal, NonNegativeDecimal, UTCDateTime, WireModel, exact_sum

__all__ = [
    "AsyncDaramexClient",
    "DaramexAction",
    "DaramexBucket",
    "DaramexCacheSavings",
    "DaramexClient",
    "DaramexGranularity",
    "DaramexGroupBy",
    "DaramexHeatmap",
    "DaramexHeatmapCell",
    "DaramexModelEfficiency",
    "DaramexProjection",
    "DaramexProjectionInsufficientData",
    "DaramexProjectionOk",
    "DaramexSeriesValue",
    "DaramexSource",
    "DaramexTimeSeries",
]

PROVIDER = "daramex"
DEFAULT_BASE_URL = "https://api.daramex.app"
TOKEN_ENV = "DARAMEX_TOKEN"
ORG_ID_ENV = "DARAMEX_ORG_ID"
PREFIX = "/ai/org-usage"
_SOURCE = "time_series"
"""The ``source`` of every Daramex record."""

ERROR_HINTS: dict[int, str] = {
    400: "Daramex rejected the query parameters",
    401: f"missing or invalid session token (pass token=... or set {TOKEN_ENV})",
    403: ("the caller lacks read on ai.agent, or the token's organization does not match x-org-id"),
}

DaramexSource: TypeAlias = Literal["system", "byok", "all"]
"""Token pool: ``system`` (platform tokens), ``byok`` (the org's own provider keys), ``all``."""
DaramexGranularity: TypeAlias = Literal["hour", "day", "week", "month"]
"""Bucket width of ``time-series``."""
DaramexGroupBy: TypeAlias = Literal["action", "model", "none"]
"""Breakdown dimension of ``time-series``."""
DaramexAction: TypeAlias = Literal[
    "user_interaction",
    "guardrail_check",
    "title_generation",
    "rag_query_embedding",
    "document_indexing",
]
"""Token action types (filter of ``model-efficiency``, series keys of ``groupBy=action``)."""

SOURCES: tuple[str, ...] = get_args(DaramexSource)
GRANULARITIES: tuple[str, ...] = get_args(DaramexGranularity)
GROUP_BYS: tuple[str, ...] = get_args(DaramexGroupBy)
ACTIONS: tuple[str, ...] = get_args(DaramexAction)
LIMIT_RANGE = (1, 50)

_UTC = timezone.utc


# -- wire models ------------------------------------------------------------------------------


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


# Counts (tokens, executions) are non-negative integers, booleans rejected (``Count``). Money
# is exact at any precision and non-negative where Daramex documents ``>= 0`` (every cost and
# the savings); the projection's figures are a regression and may be negative.
Money = NonNegativeDecimal
"""A non-negative exact amount of USD."""
Latency = Annotated[float, BeforeValidator(_no_bool), Field(ge=0, allow_inf_nan=False)]
"""A finite, non-negative duration in milliseconds."""


class DaramexSeriesValue(WireModel):
    """One series key's share of a bucket.

    Attributes:
        total_tokens: Tokens (``totalTokens``).
        total_cost_usd: Cost in USD, exact (``totalCostUsd``).
    """

    total_tokens: Count = Field(alias="totalTokens")
    total_cost_usd: Money = Field(alias="totalCostUsd")


class DaramexBucket(WireModel):
    """One time bucket of ``time-series``.

    Attributes:
        bucket: Bucket start, aware UTC.
        total_tokens: Tokens across all series in the bucket (``totalTokens``).
        total_cost_usd: Cost in USD, exact (``totalCostUsd``).
        series: Per action name or model id, when grouped; None when ``groupBy=none``.
    """

    bucket: UTCDateTime
    total_tokens: Count = Field(alias="totalTokens")
    total_cost_usd: Money = Field(alias="totalCostUsd")
    series: dict[str, DaramexSeriesValue] | None = None


class DaramexTimeSeries(WireModel):
    """The ``time-series`` response.

    Attributes:
        granularity: The effective bucket width (derived by the server when not requested).
        timezone: The IANA zone buckets are aligned to.
        buckets: The buckets, oldest first.
    """

    granularity: DaramexGranularity
    timezone: str
    buckets: list[DaramexBucket]

    @property
    def total_tokens(self) -> int:
        """Tokens summed over every bucket."""
        return sum(bucket.total_tokens for bucket in self.buckets)

    @property
    def total_cost_usd(self) -> Decimal:
        """Cost summed over every bucket, exact."""
        return exact_sum(bucket.total_cost_usd for bucket in self.buckets)


class DaramexProjectionOk(WireModel):
    """A month-end projection (``status == "ok"``).

    Attributes:
        status: ``"ok"``.
        actual: Cost already incurred in the window, USD.
        projected: Projected end-of-period total, USD.
        lower_bound: Lower bound of the prediction interval, USD (``lowerBound``).
        upper_bound: Upper bound of the prediction interval, USD (``upperBound``).
        confidence_pct: Confidence of the interval in percent (``confidencePct``, 80).
    """

    status: Literal["ok"]
    actual: ExactDecimal
    projected: ExactDecimal
    lower_bound: ExactDecimal = Field(alias="lowerBound")
    upper_bound: ExactDecimal = Field(alias="upperBound")
    confidence_pct: Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=100)] = Field(
        alias="confidencePct"
    )


class DaramexProjectionInsufficientData(WireModel):
    """Too few daily data points to project (``status == "insufficient_data"``).

    Attributes:
        status: ``"insufficient_data"``.
        min_days_required: Daily data points required (``minDaysRequired``, 7).
        days_available: Distinct days with data in the window (``daysAvailable``).
    """

    status: Literal["insufficient_data"]
    min_days_required: Count = Field(alias="minDaysRequired")
    days_available: Count = Field(alias="daysAvailable")


DaramexProjection: TypeAlias = Annotated[
    DaramexProjectionOk | DaramexProjectionInsufficientData, Field(discriminator="status")
]
"""The ``projection`` response: a union discriminated on ``status``."""


class _ProjectionStatus(WireModel):
    """Decoded first, so that a bad field is named by its JSON path (``lowerBound``), not by
    the union's tag too (``ok.lowerBound``), as the discriminated union would."""

    status: Literal["ok", "insufficient_data"]


_PROJECTION_TYPES: dict[str, type[WireModel]] = {
    "ok": DaramexProjectionOk,
    "insufficient_data": DaramexProjectionInsufficientData,
}


class DaramexModelEfficiency(WireModel):
    """One model's aggregates in ``model-efficiency``.

    Attributes:
        model_id: The AI Gateway model id (``modelId``).
        avg_latency_ms: Average latency in ms, or None when there is no latency data (never 0
            in its place).
        p95_latency_ms: 95th-percentile latency in ms, or None when there is no latency data.
        total_cost_usd: Cost in USD, exact (``totalCostUsd``).
        total_tokens: Tokens (``totalTokens``).
        executions_count: Executions (``executionsCount``).
    """

    model_id: str = Field(alias="modelId")
    avg_latency_ms: Latency | None = Field(default=None, alias="avgLatencyMs")
    p95_latency_ms: Latency | None = Field(default=None, alias="p95LatencyMs")
    total_cost_usd: Money = Field(alias="totalCostUsd")
    total_tokens: Count = Field(alias="totalTokens")
    executions_count: Count = Field(alias="executionsCount")


class DaramexHeatmapCell(WireModel):
    """One (day of week, hour) cell of ``heatmap``.

    Attributes:
        day_of_week: 0 = Sunday ... 6 = Saturday (``dayOfWeek``).
        hour: Wall-clock hour 0-23 in the response's time zone.
        total_tokens: Tokens (``totalTokens``).
        total_cost_usd: Cost in USD, exact (``totalCostUsd``).
    """

    day_of_week: Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=6)] = Field(
        alias="dayOfWeek"
    )
    hour: Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=23)]
    total_tokens: Count = Field(alias="totalTokens")
    total_cost_usd: Money = Field(alias="totalCostUsd")


class DaramexHeatmap(WireModel):
    """The ``heatmap`` response: sparse cells, with the dense 7 x 24 grid on demand.

    Attributes:
        timezone: The IANA zone hours are bucketed in.
        cells: The cells with non-zero usage only.
    """

    timezone: str
    cells: list[DaramexHeatmapCell]

    def _sums(self) -> dict[tuple[int, int], tuple[int, Decimal]]:
        sums: dict[tuple[int, int], tuple[int, Decimal]] = {}
        for cell in self.cells:
            key = (cell.day_of_week, cell.hour)
            tokens, cost = sums.get(key, (0, Decimal(0)))
            sums[key] = (tokens + cell.total_tokens, exact_sum((cost, cell.total_cost_usd)))
        return sums

    def dense_cells(self) -> list[DaramexHeatmapCell]:
        """Return all 168 cells, Sunday 00h first, absent ones filled with zeros.

        Returns:
            Cells ordered by day of week (0 = Sunday), then hour; a cell listed twice by the
            server is summed.
        """
        sums = self._sums()
        cells = []
        for day in range(7):
            for hour in range(24):
                tokens, cost = sums.get((day, hour), (0, Decimal(0)))
                cells.append(
                    DaramexHeatmapCell.model_validate(
                        {
                            "dayOfWeek": day,
                            "hour": hour,
                            "totalTokens": tokens,
                            "totalCostUsd": cost,
                        }
                    )
                )
        return cells

    def token_grid(self) -> list[list[int]]:
        """Return tokens as a dense grid: ``grid[day_of_week][hour]``, 0 = Sunday, zeros filled."""
        sums = self._sums()
        return [
            [sums.get((day, hour), (0, Decimal(0)))[0] for hour in range(24)] for day in range(7)
        ]

    def cost_grid(self) -> list[list[Decimal]]:
        """Return USD cost as a dense grid: ``grid[day_of_week][hour]``, 0 = Sunday."""
        sums = self._sums()
        return [
            [sums.get((day, hour), (0, Decimal(0)))[1] for hour in range(24)] for day in range(7)
        ]


class DaramexCacheSavings(WireModel):
    """The ``cache-savings`` response.

    Attributes:
        estimated_savings_usd: Estimated savings from prompt-cache reads, USD, exact; partial
            when ``skipped_models_count > 0``.
        hit_rate: Cache reads over input tokens, 0 to 1.
        total_cache_read_tokens: Tokens served from the prompt cache.
        total_input_tokens: Input tokens (cache reads included).
        skipped_models_count: Models left out of the estimate for lack of pricing.
    """

    estimated_savings_usd: Money = Field(alias="estimatedSavingsUsd")
    hit_rate: Annotated[ExactDecimal, Field(ge=0, le=1)] = Field(alias="hitRate")
    total_cache_read_tokens: Count = Field(alias="totalCacheReadTokens")
    total_input_tokens: Count = Field(alias="totalInputTokens")
    skipped_models_count: Count = Field(alias="skippedModelsCount")


# -- arguments --------------------------------------------------------------------------------


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ConfigError(f"{PROVIDER}: {name} must be one of {options}; got {value!r}")
    return value


def _limit(value: object) -> int:
    low, high = LIMIT_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"{PROVIDER}: limit must be an integer from {low} to {high}; got {value!r}"
        )
    return value


_NOT_ZONES = frozenset({"localtime", "posixrules"})
"""Files of a zoneinfo directory that are not IANA zone names."""


@functools.lru_cache(maxsize=512)
def _load_zone(name: str) -> zoneinfo.ZoneInfo | None:
    if name in _NOT_ZONES or name.startswith(("posix/", "right/")):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def check_timezone(name: object) -> zoneinfo.ZoneInfo:
    """Return the IANA time zone of that name.

    Args:
        name: A zone name such as ``"America/Mexico_City"`` or ``"UTC"``.

    Returns:
        The zone.

    Raises:
        ConfigError: Not a string, or not a zone of the IANA database.
    """
    zone = _load_zone(name) if isinstance(name, str) and name else None
    if zone is None:
        raise ConfigError(
            f"{PROVIDER}: timezone must be an IANA time zone name such as 'UTC' or "
            f"'America/Mexico_City'; got {name!r}"
        )
    return zone


def iso_z(moment: datetime) -> str:
    """Format an aware datetime as ISO-8601 UTC with ``Z`` (fractions only when present)."""
    moment = moment.astimezone(_UTC)
    if moment.microsecond == 0:
        spec = "seconds"
    elif moment.microsecond % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _window(start: TimeLike, end: TimeLike) -> tuple[datetime, datetime]:
    if start is None or end is None:
        raise ConfigError(f"{PROVIDER}: start and end are both required")
    window = resolve_window(start, end)
    return window.start, cast(datetime, window.end)  # end was given, so it is set


def _window_params(start: datetime, end: datetime, source: object) -> dict[str, str]:
    return {"from": iso_z(start), "to": iso_z(end), "source": _choice("source", source, SOURCES)}


def time_series_spec(
    start: TimeLike,
    end: TimeLike,
    *,
    source: str = "all",
    granularity: str | None = None,
    group_by: str = "none",
    timezone: str = "UTC",
) -> RequestSpec:
    """Check the arguments of ``time-series`` and describe the request.

    Raises:
        ConfigError: A malformed window, ``start >= end``, an unknown enumeration value or
            time zone.
    """
    first, last = _window(start, end)
    params = _window_params(first, last, source)
    if granularity is not None:
        params["granularity"] = _choice("granularity", granularity, GRANULARITIES)
    params["groupBy"] = _choice("group_by", group_by, GROUP_BYS)
    check_timezone(timezone)
    params["timezone"] = timezone
    return RequestSpec(f"{PREFIX}/time-series", "time_series", params_from(**params))


def projection_spec(start: TimeLike, end: TimeLike, *, source: str = "all") -> RequestSpec:
    """Check the arguments of ``projection`` and describe the request.

    Raises:
        ConfigError: A malformed window, ``start >= end`` or an unknown source.
    """
    params = _window_params(*_window(start, end), source)
    return RequestSpec(f"{PREFIX}/projection", "projection", params_from(**params))


def model_efficiency_spec(
    start: TimeLike,
    end: TimeLike,
    *,
    source: str = "all",
    action: str | None = None,
    limit: int = 20,
) -> RequestSpec:
    """Check the arguments of ``model-efficiency`` and describe the request.

    Raises:
        ConfigError: A malformed window, ``start >= end``, an unknown source or action, or a
            limit outside 1 to 50.
    """
    params = _window_params(*_window(start, end), source)
    if action is not None:
        params["action"] = _choice("action", action, ACTIONS)
    params["limit"] = str(_limit(limit))
    return RequestSpec(f"{PREFIX}/model-efficiency", "model_efficiency", params_from(**params))


def heatmap_spec(
    start: TimeLike, end: TimeLike, *, source: str = "all", timezone: str = "UTC"
) -> RequestSpec:
    """Check the arguments of ``heatmap`` and describe the request.

    Raises:
        ConfigError: A malformed window, ``start >= end``, an unknown source or time zone.
    """
    params = _window_params(*_window(start, end), source)
    check_timezone(timezone)
    params["timezone"] = timezone
    return RequestSpec(f"{PREFIX}/heatmap", "heatmap", params_from(**params))


def cache_savings_spec(start: TimeLike, end: TimeLike, *, source: str = "system") -> RequestSpec:
    """Check the arguments of ``cache-savings`` and describe the request.

    Raises:
        ConfigError: A malformed window, ``start >= end`` or an unknown source.
    """
    params = _window_params(*_window(start, end), source)
    return RequestSpec(f"{PREFIX}/cache-savings", "cache_savings", params_from(**params))


# -- normalization ----------------------------------------------------------------------------


def next_bucket_start(
    start: datetime, granularity: str, zone: zoneinfo.ZoneInfo
) -> datetime | None:
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
        if granularity == "hour":
            return (start + timedelta(hours=1)).astimezone(_UTC)
        local = start.astimezone(zone).date()
        if granularity == "day":
            following = local + timedelta(days=1)
        elif granularity == "week":
            following = local + timedelta(days=7)
        else:
            following = date(local.year + local.month // 12, local.month % 12 + 1, 1)
        end = datetime(following.year, following.month, following.day, tzinfo=zone)
        end = end.astimezone(_UTC)
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
                provider=PROVIDER,
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
    zone: zoneinfo.ZoneInfo,
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
    aligned = _load_zone(series.timezone) or zone
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
                    provider=PROVIDER,
                    source=_SOURCE,
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
                        provider=PROVIDER,
                        source=_SOURCE,
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


def granularity_for(length: timedelta | None) -> DaramexGranularity:
    """Return the granularity whose buckets are ``length`` long (``day`` for None).

    Day, week and month buckets start at local midnight, so they are 23 to 25 hours, 7 days
    give or take an hour, and 28 to 31 days long.

    Args:
        length: The usual length of the stored buckets, or None when nothing is stored.

    Returns:
        ``hour``, ``day``, ``week`` or ``month``.
    """
    if length is None:
        return "day"
    if length <= timedelta(hours=1):
        return "hour"
    if length <= timedelta(hours=25):
        return "day"
    if length <= timedelta(days=7, hours=1):
        return "week"
    return "month"


@dataclass(frozen=True)
class _RecordsPlan:
    spec: RequestSpec | None  # None: an open window that has not begun, nothing to ask
    start: datetime
    end: datetime
    source: str
    group_by: str
    zone: zoneinfo.ZoneInfo
    open_ended: bool


def records_plan(
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    source: str,
    granularity: str | None,
    group_by: str,
    timezone: str,
    now: datetime | None = None,
) -> _RecordsPlan:
    """Check the arguments of ``records`` and plan its request.

    A None ``start`` means 00:00 UTC on the first of the current UTC month; a None ``end``
    means now.

    Raises:
        ConfigError: A malformed window, ``start >= end``, an unknown enumeration value or
            time zone.
    """
    current = utcnow() if now is None else now
    first = month_start(current) if start is None else as_utc(start, name="start")
    last = current if end is None else as_utc(end, name="end")
    if end is None and open_window_is_empty(first, current):
        # "up to now" from an instant not yet passed (the first second of a month): an empty
        # window, not an error; the arguments are still checked
        time_series_spec(
            first,
            first + timedelta(days=1),
            source=source,
            granularity=granularity,
            group_by=group_by,
            timezone=timezone,
        )
        return _RecordsPlan(None, first, first, source, group_by, check_timezone(timezone), True)
    spec = time_series_spec(
        first, last, source=source, granularity=granularity, group_by=group_by, timezone=timezone
    )
    return _RecordsPlan(
        spec, first, last, source, group_by, check_timezone(timezone), open_ended=end is None
    )


def _plan_records(plan: _RecordsPlan, series: DaramexTimeSeries, org_id: str) -> list[UsageRecord]:
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


# -- clients ----------------------------------------------------------------------------------


def _config(
    token: str | SecretStr | None,
    org_id: str,
    base_url: str | httpx.URL | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
) -> TransportConfig:
    secret = resolve_secret(token, TOKEN_ENV, provider=PROVIDER, argument="token")
    return build_config(
        provider=PROVIDER,
        base_url=resolve_base_url(base_url, "DARAMEX_BASE_URL", DEFAULT_BASE_URL),
        credentials={
            "Authorization": SecretStr(f"Bearer {secret.get_secret_value()}"),
            "x-org-id": SecretStr(org_id),
        },
        timeout=timeout,
        max_retries=max_retries,
        retry=retry,
        error_hints=ERROR_HINTS,
    )


class _DaramexMixin:
    """What both Daramex clients share."""

    provider: ClassVar[str] = PROVIDER
    _org_id: str

    @property
    def org_id(self) -> str:
        """The organization sent as ``x-org-id``."""
        return self._org_id


def _projection_type(status: _ProjectionStatus) -> type[WireModel]:
    return _PROJECTION_TYPES[status.status]


class DaramexClient(_DaramexMixin, SyncClientBase):
    """Synchronous Daramex org usage analytics client.

    Args:
        token: A session JWT; defaults to ``DARAMEX_TOKEN``.
        org_id: The organization, sent as ``x-org-id``; defaults to ``DARAMEX_ORG_ID``.
        base_url: The API's base URL; default ``DARAMEX_BASE_URL`` if set, else the public API.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.Client`` to use; the caller then closes it.

    Raises:
        ConfigError: No token or organization (the message names the variable to set), or a
            malformed option.
    """

    def __init__(
        self,
        token: str | SecretStr | None = None,
        *,
        org_id: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._org_id = resolve_setting(org_id, ORG_ID_ENV, provider=PROVIDER, argument="org_id")
        config = _config(token, self._org_id, base_url, timeout, max_retries, retry)
        super().__init__(config, http_client=http_client)

    def time_series(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        granularity: DaramexGranularity | None = None,
        group_by: DaramexGroupBy = "none",
        timezone: str = "UTC",
    ) -> DaramexTimeSeries:
        """Get token consumption and cost in time buckets, optionally broken down.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            granularity: ``hour``, ``day``, ``week`` or ``month``; None lets the server pick
                from the window's length.
            group_by: ``action``, ``model`` or ``none``.
            timezone: IANA zone buckets are aligned to.

        Returns:
            The typed response.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
        """
        spec = time_series_spec(
            start, end, source=source, granularity=granularity, group_by=group_by, timezone=timezone
        )
        return self._transport.request(spec, DaramexTimeSeries)

    def projection(
        self, start: TimeLike, end: TimeLike, *, source: DaramexSource = "all"
    ) -> DaramexProjectionOk | DaramexProjectionInsufficientData:
        """Project the period-end cost from daily spend.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.

        Returns:
            :class:`DaramexProjectionOk`, or :class:`DaramexProjectionInsufficientData` when
            fewer than the required days have data.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
            ResponseValidationError: An unknown ``status`` or a malformed body.
        """
        spec = projection_spec(start, end, source=source)
        response = self._transport.send(spec)
        status = self._transport.decode(spec, response, _ProjectionStatus)
        result: DaramexProjectionOk | DaramexProjectionInsufficientData = self._transport.decode(
            spec, response, _projection_type(status)
        )
        return result

    def model_efficiency(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        action: DaramexAction | None = None,
        limit: int = 20,
    ) -> list[DaramexModelEfficiency]:
        """Get cost, tokens and latency of the top models by cost.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            action: Only this action type; None for all.
            limit: How many models, 1 to 50.

        Returns:
            The models, by cost descending; latencies are None when unknown.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
        """
        spec = model_efficiency_spec(start, end, source=source, action=action, limit=limit)
        result: list[DaramexModelEfficiency] = self._transport.request(
            spec, list[DaramexModelEfficiency]
        )
        return result

    def heatmap(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        timezone: str = "UTC",
    ) -> DaramexHeatmap:
        """Get tokens and cost by day of week and hour of day.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            timezone: IANA zone hours are bucketed in.

        Returns:
            The sparse heatmap; :meth:`DaramexHeatmap.token_grid` gives the dense grid.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
        """
        spec = heatmap_spec(start, end, source=source, timezone=timezone)
        return self._transport.request(spec, DaramexHeatmap)

    def cache_savings(
        self, start: TimeLike, end: TimeLike, *, source: DaramexSource = "system"
    ) -> DaramexCacheSavings:
        """Get prompt-cache savings, hit rate and token counts.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool; ``system`` by default (BYOK has no cache metrics).

        Returns:
            The typed response.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
        """
        spec = cache_savings_spec(start, end, source=source)
        return self._transport.request(spec, DaramexCacheSavings)

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        source: DaramexSource = "all",
        granularity: DaramexGranularity | None = None,
        group_by: DaramexGroupBy = "model",
        timezone: str = "UTC",
    ) -> Iterator[UsageRecord]:
        """Iterate token and cost records of ``time-series`` (see :func:`time_series_records`).

        Arguments are checked at once; the request is sent when iteration starts.

        Args:
            start: Window start; None for the start of the current UTC month.
            end: Window end; None for now.
            source: Token pool: ``system``, ``byok`` or ``all``.
            granularity: Bucket width; None lets the server pick.
            group_by: ``model`` (default), ``action`` or ``none``.
            timezone: IANA zone buckets are aligned to.

        Returns:
            An iterator of records whose sum per metric equals the buckets' totals.

        Raises:
            ConfigError: An invalid argument.
        """
        plan = records_plan(
            start, end, source=source, granularity=granularity, group_by=group_by, timezone=timezone
        )
        return self._iter_records(plan)

    def sync_records(
        self, start: TimeLike | None, *, bucket_lengths: Mapping[str, timedelta]
    ) -> Iterator[UsageRecord]:
        """The records :func:`usagekit.sync` fetches: :meth:`records` from ``start`` up to now,
        at the granularity the store already holds.

        Left to itself the server picks the granularity from the window's length (hours up to
        7 days): a short re-fetch of days stored as daily buckets would come back hourly and
        stand beside them. So the granularity is pinned: the one whose buckets are
        ``bucket_lengths["time_series"]`` long, and ``day`` for a store without any.

        Args:
            start: Window start; None for the start of the current UTC month.
            bucket_lengths: Per source, the usual length of the stored buckets.

        Returns:
            An iterator of records, as :meth:`records` gives.

        Raises:
            ConfigError: An invalid argument.
        """
        return self.records(start, granularity=granularity_for(bucket_lengths.get(_SOURCE)))

    def _iter_records(self, plan: _RecordsPlan) -> Iterator[UsageRecord]:
        if plan.spec is None:
            return
        series = self._transport.request(plan.spec, DaramexTimeSeries)
        yield from _plan_records(plan, series, self._org_id)


class AsyncDaramexClient(_DaramexMixin, AsyncClientBase):
    """Asynchronous Daramex org usage analytics client; the twin of :class:`DaramexClient`.

    Args:
        token: A session JWT; defaults to ``DARAMEX_TOKEN``.
        org_id: The organization, sent as ``x-org-id``; defaults to ``DARAMEX_ORG_ID``.
        base_url: The API's base URL; default ``DARAMEX_BASE_URL`` if set, else the public API.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.AsyncClient`` to use; the caller then closes it.

    Raises:
        ConfigError: No token or organization (the message names the variable to set), or a
            malformed option.
    """

    def __init__(
        self,
        token: str | SecretStr | None = None,
        *,
        org_id: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._org_id = resolve_setting(org_id, ORG_ID_ENV, provider=PROVIDER, argument="org_id")
        config = _config(token, self._org_id, base_url, timeout, max_retries, retry)
        super().__init__(config, http_client=http_client)

    async def time_series(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        granularity: DaramexGranularity | None = None,
        group_by: DaramexGroupBy = "none",
        timezone: str = "UTC",
    ) -> DaramexTimeSeries:
        """Get token consumption and cost in time buckets (see :meth:`DaramexClient.time_series`).

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            granularity: ``hour``, ``day``, ``week`` or ``month``; None lets the server pick.
            group_by: ``action``, ``model`` or ``none``.
            timezone: IANA zone buckets are aligned to.

        Returns:
            The typed response.

        Raises:
            ConfigError: An invalid argument (before any request).
            APIError: 400, 401 or 403 (see :meth:`DaramexClient.time_series`).
        """
        spec = time_series_spec(
            start, end, source=source, granularity=granularity, group_by=group_by, timezone=timezone
        )
        return await self._transport.request(spec, DaramexTimeSeries)

    async def projection(
        self, start: TimeLike, end: TimeLike, *, source: DaramexSource = "all"
    ) -> DaramexProjectionOk | DaramexProjectionInsufficientData:
        """Project the period-end cost from daily spend (see :meth:`DaramexClient.projection`).

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.

        Returns:
            :class:`DaramexProjectionOk` or :class:`DaramexProjectionInsufficientData`.

        Raises:
            ConfigError: An invalid argument (before any request).
            APIError: 400, 401 or 403.
            ResponseValidationError: An unknown ``status`` or a malformed body.
        """
        spec = projection_spec(start, end, source=source)
        response = await self._transport.send(spec)
        status = self._transport.decode(spec, response, _ProjectionStatus)
        result: DaramexProjectionOk | DaramexProjectionInsufficientData = self._transport.decode(
            spec, response, _projection_type(status)
        )
        return result

    async def model_efficiency(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        action: DaramexAction | None = None,
        limit: int = 20,
    ) -> list[DaramexModelEfficiency]:
        """Get cost, tokens and latency of the top models by cost.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            action: Only this action type; None for all.
            limit: How many models, 1 to 50.

        Returns:
            The models, by cost descending; latencies are None when unknown.

        Raises:
            ConfigError: An invalid argument (before any request).
            APIError: 400, 401 or 403.
        """
        spec = model_efficiency_spec(start, end, source=source, action=action, limit=limit)
        result: list[DaramexModelEfficiency] = await self._transport.request(
            spec, list[DaramexModelEfficiency]
        )
        return result

    async def heatmap(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        timezone: str = "UTC",
    ) -> DaramexHeatmap:
        """Get tokens and cost by day of week and hour of day.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            timezone: IANA zone hours are bucketed in.

        Returns:
            The sparse heatmap; :meth:`DaramexHeatmap.token_grid` gives the dense grid.

        Raises:
            ConfigError: An invalid argument (before any request).
            APIError: 400, 401 or 403.
        """
        spec = heatmap_spec(start, end, source=source, timezone=timezone)
        return await self._transport.request(spec, DaramexHeatmap)

    async def cache_savings(
        self, start: TimeLike, end: TimeLike, *, source: DaramexSource = "system"
    ) -> DaramexCacheSavings:
        """Get prompt-cache savings, hit rate and token counts.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool; ``system`` by default (BYOK has no cache metrics).

        Returns:
            The typed response.

        Raises:
            ConfigError: An invalid argument (before any request).
            APIError: 400, 401 or 403.
        """
        spec = cache_savings_spec(start, end, source=source)
        return await self._transport.request(spec, DaramexCacheSavings)

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        source: DaramexSource = "all",
        granularity: DaramexGranularity | None = None,
        group_by: DaramexGroupBy = "model",
        timezone: str = "UTC",
    ) -> AsyncIterator[UsageRecord]:
        """Iterate token and cost records: ``async for record in client.records()``.

        Arguments are checked at once; the request is sent when iteration starts.

        Args:
            start: Window start; None for the start of the current UTC month.
            end: Window end; None for now.
            source: Token pool: ``system``, ``byok`` or ``all``.
            granularity: Bucket width; None lets the server pick.
            group_by: ``model`` (default), ``action`` or ``none``.
            timezone: IANA zone buckets are aligned to.

        Returns:
            An async generator of records whose sum per metric equals the buckets' totals.

        Raises:
            ConfigError: An invalid argument.
        """
        plan = records_plan(
            start, end, source=source, granularity=granularity, group_by=group_by, timezone=timezone
        )
        return self._iter_records(plan)

    async def _iter_records(self, plan: _RecordsPlan) -> AsyncIterator[UsageRecord]:
        if plan.spec is None:
            return
        series = await self._transport.request(plan.spec, DaramexTimeSeries)
        for record in _plan_records(plan, series, self._org_id):
            yield record
