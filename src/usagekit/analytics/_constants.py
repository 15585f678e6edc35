"""The analyses' vocabulary: the literal types of their arguments and results, and their
constants."""

from __future__ import annotations

from typing import Literal, get_args

from .._core.records import DIMENSIONS

__all__ = [
    "CONFIDENCE_PCT",
    "COST_METRIC",
    "GRANULARITIES",
    "GROUP_BY_FIELDS",
    "MAX_BUCKETS",
    "MIN_PROJECTION_DAYS",
    "PROJECTION_METHODS",
    "REQUEST_METRICS",
    "TOKEN_UNIT",
    "TOTAL_TOKENS",
    "WEEKLY_MIN_DAYS",
    "FittedModel",
    "Granularity",
    "Period",
    "ProjectionMethod",
]

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
