"""Daramex org-usage analytics under ``/ai/org-usage/``.

Endpoints: ``time-series``, ``projection``, ``model-efficiency``, ``heatmap``, ``cache-savings``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...._core.calendar import Granularity, bucket_floor, bucket_next
from ....analytics import t_quantile
from ..._catalog import DARAMEX_ACTIONS, DARAMEX_MODELS, MILLION, DaramexOrg
from ..._http import HttpError, Provider, Request, Response, json_response, retry_after_seconds
from ..._rows import DaramexEvent
from ..._util import UTC, iso_z, money, next_month, parse_iso8601, quantize_money, to_unix

__all__ = [
    "ENDPOINTS",
    "DaramexProvider",
    "bucket_starts",
    "project_month_end",
]

_SOURCES = ("system", "byok", "all")
_GRANULARITIES = ("hour", "day", "week", "month")
_GROUPS = ("action", "model", "none")
_MAX_BUCKETS = 10_000
_MIN_DAYS = 7
_CONFIDENCE = 0.80
ENDPOINTS = ("time-series", "projection", "model-efficiency", "heatmap", "cache-savings")


# --------------------------------------------------------------------------------------------
# Time buckets in a zone


def bucket_starts(
    start: datetime, end: datetime, granularity: str, tz: ZoneInfo, limit: int = _MAX_BUCKETS
) -> list[datetime]:
    """Starts (UTC) of the buckets that cover ``[start, end)``, aligned in ``tz``.

    Day, week (Monday) and month buckets start at local midnight, so across a DST change a
    day bucket lasts 23 or 25 hours; hour buckets start on local hours (``:30`` UTC in
    Asia/Kolkata), and the repeated hour of a fall-back is its own bucket (the calendar's
    ``"wall"`` hours, see :mod:`usagekit._core.calendar`).

    Args:
        start: Window start.
        end: Window end (exclusive).
        granularity: ``hour``, ``day``, ``week`` or ``month``.
        tz: Zone to align in.
        limit: Most buckets to produce.

    Returns:
        Bucket starts, oldest first.

    Raises:
        ValueError: If more than ``limit`` buckets would be needed.
    """
    width = cast(Granularity, granularity)
    starts = [bucket_floor(start, width, tz, hours="wall")]
    while True:
        following = bucket_next(starts[-1], width, tz, hours="wall")
        if following >= end:
            return starts
        if len(starts) >= limit:
            raise ValueError(f"more than {limit} {granularity} buckets")
        starts.append(following)


# --------------------------------------------------------------------------------------------
# Projection


def _month_end(day: date) -> date:
    return next_month(day) - timedelta(days=1)


def project_month_end(
    daily: Mapping[date, Decimal], first_day: date, last_observed: date, month_of: date
) -> dict[str, object]:
    """Project month-end spend by ordinary least squares on daily spend.

    Let the observations be the ``n`` days that have data, ``x_i`` each day's offset from
    ``first_day`` and ``y_i`` its spend. The fit is ``y = a + b x`` with
    ``b = Sxy / Sxx`` and ``a = mean(y) - b mean(x)``, residual variance
    ``s^2 = SSE / (n - 2)``. The future days are ``r = last_observed + 1`` through the last day
    of ``month_of``'s month (``m`` days). Then

    * ``actual`` = the sum of all observed spend;
    * ``S`` = the sum of ``a + b x_r`` over the future days;
    * ``projected`` = ``actual + max(S, 0)``;
    * the 80 % prediction interval of the future total is ``S +- t * s * sqrt(m + m^2 / n +
      (sum_r (x_r - mean(x)))^2 / Sxx)`` with ``t`` the 90th percentile of Student's t with
      ``n - 2`` degrees of freedom (the variance of the sum of ``m`` new observations around the
      sum of the fitted line), and ``lowerBound``/``upperBound`` are ``actual`` plus its ends,
      each at least 0.

    Fewer than 7 days with data gives the ``insufficient_data`` sentinel instead.

    Args:
        daily: Spend per day that has data.
        first_day: The first day of the window (``x = 0``).
        last_observed: The last day of the window that can have data.
        month_of: A day in the month to project to the end of.

    Returns:
        The response body.
    """
    if len(daily) < _MIN_DAYS:
        return {
            "status": "insufficient_data",
            "minDaysRequired": _MIN_DAYS,
            "daysAvailable": len(daily),
        }
    xs = [float((day - first_day).days) for day in daily]
    ys = [float(value) for value in daily.values()]
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    sse = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    sigma = math.sqrt(sse / (n - 2))
    future = []
    day = last_observed + timedelta(days=1)
    end = _month_end(month_of)
    while day <= end:
        future.append(float((day - first_day).days))
        day += timedelta(days=1)
    m = len(future)
    expected = sum(intercept + slope * x for x in future)
    spread = sum(x - mean_x for x in future)
    margin = 0.0
    if m:
        t = t_quantile(0.5 + _CONFIDENCE / 2.0, n - 2)
        margin = t * sigma * math.sqrt(m + m * m / n + spread * spread / sxx)
    actual = float(sum(daily.values(), Decimal(0)))
    return {
        "status": "ok",
        "actual": round(actual, 6),
        "projected": round(actual + max(expected, 0.0), 6),
        "lowerBound": round(actual + max(expected - margin, 0.0), 6),
        "upperBound": round(actual + max(expected + margin, 0.0), 6),
        "confidencePct": round(_CONFIDENCE * 100),
    }


def _percentile_cont(values: Sequence[float], fraction: float) -> float:
    """PostgreSQL ``percentile_cont``: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --------------------------------------------------------------------------------------------
# The provider


class DaramexProvider(Provider):
    """Daramex's org-usage analytics API."""

    name = "daramex"
    prefix = "/ai/"

    def endpoint(self, path: str) -> str | None:
        """The analytics endpoint name (``time-series``, ``projection``, ...)."""
        head, _, name = path.rstrip("/").rpartition("/")
        return name if head == "/ai/org-usage" and name in ENDPOINTS else None

    def error(self, status: int, message: str | None = None) -> Response:
        """A NestJS-style ``{"statusCode", "message", "error"}`` error."""
        reason = self.reason(status)
        return json_response(
            status, {"statusCode": status, "message": message or reason, "error": reason}
        )

    def not_found(self, method: str, path: str) -> Response:
        """NestJS's answer to an unknown route."""
        return self.error(404, f"Cannot {method} {path}")

    def method_not_allowed(self, method: str, path: str) -> Response:
        """NestJS answers a wrong method on a known path as an unknown route."""
        return self.not_found(method, path)

    def rate_limited(self, wait_ms: int) -> Response:
        """429 with a ``Retry-After`` header (seconds, fractional)."""
        response = self.error(429, "ThrottlerException: Too Many Requests")
        response.headers.append(("Retry-After", retry_after_seconds(wait_ms)))
        return response

    def _bad(self, message: str) -> HttpError:
        return HttpError(self.error(400, message))

    def _org(self, request: Request) -> DaramexOrg:
        token = self.bearer(request)
        org = next((o for o in self.data.catalog.daramex_orgs if o.token == token), None)
        if token is None or org is None:
            raise HttpError(self.error(401, "Unauthorized"))
        wanted = request.header("x-org-id")
        if wanted is not None and wanted.strip() != org.id:
            raise HttpError(self.error(403, "Forbidden resource"))
        return org

    def _one(self, request: Request, name: str) -> str | None:
        values = request.query.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise self._bad(f"{name} must be a single value")
        return values[0]

    def _choice(self, request: Request, name: str, choices: Sequence[str], default: str) -> str:
        value = self._one(request, name)
        if value is None:
            return default
        if value not in choices:
            raise self._bad(f"{name} must be one of the following values: {', '.join(choices)}")
        return value

    def _zone(self, request: Request) -> tuple[str, ZoneInfo]:
        name = self._one(request, "timezone") or "UTC"
        try:
            return name, ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self._bad(f"timezone must be a valid IANA time zone, got '{name}'") from None

    def handle(self, endpoint: str, request: Request) -> Response:
        """Answer one of the five analytics endpoints."""
        org = self._org(request)
        bounds = []
        for name in ("from", "to"):
            text = self._one(request, name)
            if text is None:
                raise self._bad(f"{name} must be a valid ISO 8601 date string")
            try:
                bounds.append(parse_iso8601(text))
            except ValueError:
                raise self._bad(f"{name} must be a valid ISO 8601 date string") from None
        start, end = bounds
        if start >= end:
            raise self._bad("from must be earlier than to")
        default_source = "system" if endpoint == "cache-savings" else "all"
        source = self._choice(request, "source", _SOURCES, default_source)
        events = self.data.daramex_events(start, end, org_id=org.id, source=source)
        if endpoint == "time-series":
            return self._time_series(request, start, end, events)
        if endpoint == "projection":
            return self._projection(start, end, events)
        if endpoint == "model-efficiency":
            return self._model_efficiency(request, events)
        if endpoint == "heatmap":
            return self._heatmap(request, events)
        return self._cache_savings(events)

    def _time_series(
        self, request: Request, start: datetime, end: datetime, events: list[DaramexEvent]
    ) -> Response:
        requested = self._choice(request, "granularity", (*_GRANULARITIES, "auto"), "auto")
        group_by = self._choice(request, "groupBy", _GROUPS, "none")
        zone_name, zone = self._zone(request)
        granularity = requested
        if requested == "auto":
            span = end - start
            if span <= timedelta(days=7):
                granularity = "hour"
            elif span <= timedelta(days=90):
                granularity = "day"
            elif span <= timedelta(days=365):
                granularity = "week"
            else:
                granularity = "month"
        try:
            starts = bucket_starts(start, end, granularity, zone)
        except ValueError:
            raise self._bad(
                f"the window needs more than {_MAX_BUCKETS} {granularity} buckets: "
                "use a coarser granularity"
            ) from None
        edges = [to_unix(s) for s in starts]
        tokens = [0] * len(starts)
        costs = [Decimal(0)] * len(starts)
        series: list[dict[str, list[int | Decimal]]] = [{} for _ in starts]
        for event in events:
            index = bisect.bisect_right(edges, event.ts) - 1
            tokens[index] += event.total_tokens
            costs[index] += event.cost_usd
            if group_by != "none":
                key = event.action if group_by == "action" else event.model
                cell = series[index].setdefault(key, [0, Decimal(0)])
                cell[0] += event.total_tokens
                cell[1] += event.cost_usd
        buckets = []
        for i, bucket_start in enumerate(starts):
            bucket: dict[str, object] = {
                "bucket": iso_z(bucket_start),
                "totalTokens": tokens[i],
                "totalCostUsd": money(costs[i]),
            }
            if group_by != "none":
                bucket["series"] = {
                    key: {"totalTokens": int(cell[0]), "totalCostUsd": money(Decimal(cell[1]))}
                    for key, cell in sorted(series[i].items())
                }
            buckets.append(bucket)
        body = {"granularity": granularity, "timezone": zone_name, "buckets": buckets}
        return json_response(200, body)

    def _projection(self, start: datetime, end: datetime, events: list[DaramexEvent]) -> Response:
        daily: dict[date, Decimal] = {}
        for event in events:
            day = datetime.fromtimestamp(event.ts, UTC).date()
            daily[day] = daily.get(day, Decimal(0)) + event.cost_usd
        last_instant = end - timedelta(microseconds=1)
        observed_until = min(last_instant, self.data.now()).date()
        body = project_month_end(
            dict(sorted(daily.items())),
            start.date(),
            max(observed_until, start.date()),
            last_instant.date(),
        )
        return json_response(200, body)

    def _model_efficiency(self, request: Request, events: list[DaramexEvent]) -> Response:
        action = self._one(request, "action")
        if action is not None and action not in DARAMEX_ACTIONS:
            raise self._bad(
                "action must be one of the following values: " + ", ".join(DARAMEX_ACTIONS)
            )
        text = self._one(request, "limit")
        limit = 20
        if text is not None:
            try:
                limit = int(text)
            except ValueError:
                raise self._bad("limit must be an integer number") from None
            if not 1 <= limit <= 50:
                raise self._bad("limit must not be less than 1 and not be greater than 50")
        per_model: dict[str, tuple[Decimal, int, int, list[float]]] = {}
        for event in events:
            if action is not None and event.action != action:
                continue
            cost, tokens, count, latencies = per_model.get(event.model, (Decimal(0), 0, 0, []))
            if event.latency_ms is not None:
                latencies.append(event.latency_ms)
            per_model[event.model] = (
                cost + event.cost_usd,
                tokens + event.total_tokens,
                count + 1,
                latencies,
            )
        ranked = sorted(per_model.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
        body = [
            {
                "modelId": model,
                "avgLatencyMs": round(sum(lat) / len(lat), 1) if lat else None,
                "p95LatencyMs": round(_percentile_cont(lat, 0.95), 1) if lat else None,
                "totalCostUsd": money(cost),
                "totalTokens": tokens,
                "executionsCount": count,
            }
            for model, (cost, tokens, count, lat) in ranked
        ]
        return json_response(200, body)

    def _heatmap(self, request: Request, events: list[DaramexEvent]) -> Response:
        zone_name, zone = self._zone(request)
        cells: dict[tuple[int, int], tuple[int, Decimal]] = {}
        for event in events:
            local = datetime.fromtimestamp(event.ts, zone)
            key = ((local.weekday() + 1) % 7, local.hour)  # 0 = Sunday
            tokens, cost = cells.get(key, (0, Decimal(0)))
            cells[key] = (tokens + event.total_tokens, cost + event.cost_usd)
        body = {
            "timezone": zone_name,
            "cells": [
                {"dayOfWeek": dow, "hour": hour, "totalTokens": tokens, "totalCostUsd": money(cost)}
                for (dow, hour), (tokens, cost) in sorted(cells.items())
                if tokens > 0
            ],
        }
        return json_response(200, body)

    def _cache_savings(self, events: list[DaramexEvent]) -> Response:
        savings = Decimal(0)
        cache_read = 0
        total_input = 0
        skipped: set[str] = set()
        for event in events:
            cache_read += event.cache_read_tokens
            total_input += event.total_input_tokens
            model = DARAMEX_MODELS[event.model]
            if not model.priced:
                skipped.add(model.id)
                continue
            savings += quantize_money(
                event.cache_read_tokens * (model.input - model.cache_read) / MILLION
            )
        body = {
            "estimatedSavingsUsd": money(savings),
            "hitRate": cache_read / total_input if total_input else 0.0,
            "totalCacheReadTokens": cache_read,
            "totalInputTokens": total_input,
            "skippedModelsCount": len(skipped),
        }
        return json_response(200, body)
