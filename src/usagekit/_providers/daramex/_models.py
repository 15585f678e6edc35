"""Daramex's wire models: the five endpoints' responses, validated as they arrive.

Counts (tokens, executions) are non-negative integers, booleans rejected (``Count``). Money is
exact at any precision and non-negative where Daramex documents ``>= 0`` (every cost and the
savings); the projection's figures are a regression and may be negative.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import BeforeValidator, Field

from ..._core.wire import Count, ExactDecimal, NonNegativeDecimal, UTCDateTime, WireModel, exact_sum

__all__ = [
    "ACTIONS",
    "GRANULARITIES",
    "GROUP_BYS",
    "SOURCES",
    "DaramexAction",
    "DaramexBucket",
    "DaramexCacheSavings",
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
    "Latency",
    "Money",
    "ProjectionStatus",
    "projection_type",
]

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
"""The values of :data:`DaramexSource`."""
GRANULARITIES: tuple[str, ...] = get_args(DaramexGranularity)
"""The values of :data:`DaramexGranularity`."""
GROUP_BYS: tuple[str, ...] = get_args(DaramexGroupBy)
"""The values of :data:`DaramexGroupBy`."""
ACTIONS: tuple[str, ...] = get_args(DaramexAction)
"""The values of :data:`DaramexAction`."""


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


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


class ProjectionStatus(WireModel):
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


def projection_type(status: ProjectionStatus) -> type[WireModel]:
    """Return the model of a ``projection`` body with that ``status``.

    Args:
        status: The decoded status.

    Returns:
        :class:`DaramexProjectionOk` or :class:`DaramexProjectionInsufficientData`.
    """
    return _PROJECTION_TYPES[status.status]
