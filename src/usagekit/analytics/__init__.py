"""Analytics over any provider's records: time series, projection, heatmap, efficiency, budget.

Every function here is a pure function over an iterable of :class:`~usagekit.UsageRecord`, so
the same answers Daramex's analytics endpoints give for Daramex's own data can be had locally
for every provider's records together, or for records read back from a
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

from .._core.records import TOKEN_METRICS
from ._budget import budget
from ._constants import (
    CONFIDENCE_PCT,
    GRANULARITIES,
    GROUP_BY_FIELDS,
    MAX_BUCKETS,
    MIN_PROJECTION_DAYS,
    PROJECTION_METHODS,
    REQUEST_METRICS,
    WEEKLY_MIN_DAYS,
    FittedModel,
    Granularity,
    Period,
    ProjectionMethod,
)
from ._efficiency import model_efficiency
from ._heatmap import heatmap
from ._projection import projection
from ._results import (
    Bucket,
    Budget,
    Heatmap,
    HeatmapCell,
    ModelEfficiency,
    Projection,
    TimeSeries,
    Totals,
)
from ._stats import t_quantile
from ._time_series import time_series

__all__ = [
    "CONFIDENCE_PCT",
    "GRANULARITIES",
    "GROUP_BY_FIELDS",
    "MAX_BUCKETS",
    "MIN_PROJECTION_DAYS",
    "PROJECTION_METHODS",
    "REQUEST_METRICS",
    "TOKEN_METRICS",
    "WEEKLY_MIN_DAYS",
    "Bucket",
    "Budget",
    "FittedModel",
    "Granularity",
    "Heatmap",
    "HeatmapCell",
    "ModelEfficiency",
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
