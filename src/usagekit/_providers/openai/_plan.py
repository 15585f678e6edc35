"""What ``records()`` asks each endpoint for: sources, grouping, whole buckets and page size.

:func:`plan_records` validates one ``records()`` call and describes the first request of each
endpoint it reads (the page walk, :mod:`._async_walk`, follows their cursors). Nothing here does
I/O; both clients use it as is.

Page size is chosen, not maximal: a page of an endpoint grouped by any field is sized for
:data:`RECORDS_PAGE_RESULTS` results on the assumption that a bucket holds up to
:data:`GROUPED_RESULTS_PER_BUCKET` groups, so that one page stays a few MB whatever the bucket
width (at ``1m``, the largest page, 1440 buckets, of a busy organization is hundreds of MB). An
ungrouped bucket holds one result, so ungrouped pages stay the largest the width allows. The
typed endpoint methods (``client.usage.completions(..., limit=...)``) are unchanged: their
``limit`` is the caller's, the cap when None.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..._core.clock import TimeLike, as_utc, month_start, open_window_is_empty, utcnow
from ..._core.errors import ConfigError
from ..._core.transport import RequestSpec
from ._requests import (
    ENDPOINTS,
    ENDPOINTS_BY_NAME,
    SOURCE_NAMES,
    USAGE_LIMITS,
    Endpoint,
    _choices,
    _strings,
    _unique,
    prepare,
    whole_buckets,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "GROUPED_RESULTS_PER_BUCKET",
    "RECORDS_PAGE_RESULTS",
    "check_concurrency",
    "plan_records",
    "records_page_size",
    "resolve_group_by",
    "resolve_sources",
]

RECORDS_PAGE_RESULTS = 2_000
"""The results one ``records()`` page is sized for (a few MB of page and records)."""

GROUPED_RESULTS_PER_BUCKET = 64
"""The results a bucket is assumed to hold when grouped by any field (project, user, key,
model, line item...), at every width: a busy organization's breakdown. With
:data:`RECORDS_PAGE_RESULTS` this makes grouped pages 31 buckets long at every width."""

DEFAULT_CONCURRENCY = 11
"""Endpoints ``records()`` reads at once by default: all 11, so that a walk over every
endpoint takes about as long as its longest endpoint (each endpoint has one request in flight
at a time, all sharing one connection pool and rate limiter)."""


def records_page_size(endpoint: Endpoint[Any], bucket_width: str, group_by: Sequence[str]) -> int:
    """The ``limit`` (buckets per page) ``records()`` sends to one endpoint.

    ``max(1, min(cap, RECORDS_PAGE_RESULTS // expected))``, where ``cap`` is the largest limit
    of the width and ``expected`` the results a bucket is assumed to hold: 1 without grouping,
    :data:`GROUPED_RESULTS_PER_BUCKET` when grouped by any field. So: 31 buckets a page when
    grouped (at ``1d``, ``1h``, ``1m`` and for costs); the cap (31, 168, 1440; 180 for costs)
    when not.

    Args:
        endpoint: The endpoint read.
        bucket_width: Its bucket width (one it accepts).
        group_by: The fields it is grouped by.

    Returns:
        The limit, between 1 and the width's cap.
    """
    cap = endpoint.limits[bucket_width]
    expected = GROUPED_RESULTS_PER_BUCKET if group_by else 1
    return max(1, min(cap, RECORDS_PAGE_RESULTS // expected))


def check_concurrency(concurrency: Any) -> int:
    """Validate ``records(concurrency=...)``.

    Args:
        concurrency: Endpoints to read at once; 1 reads them one after another.

    Returns:
        The value.

    Raises:
        ConfigError: Not an integer of at least 1.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise ConfigError(
            f"openai records: concurrency must be an integer >= 1, got {type(concurrency).__name__}"
        )
    if concurrency < 1:
        raise ConfigError(f"openai records: concurrency must be >= 1, got {concurrency}")
    return concurrency


def resolve_sources(sources: Sequence[str] | str | None) -> tuple[Endpoint[Any], ...]:
    """Return the endpoints named by ``records(sources=...)``, in table order.

    Raises:
        ConfigError: An unknown name (the message lists the known ones), or an empty list.
    """
    if sources is None:
        return ENDPOINTS
    names = _strings(sources, name="sources", where="openai records")
    for name in names:
        if name not in ENDPOINTS_BY_NAME:
            raise ConfigError(
                f"openai records: unknown source {name!r}; known sources are "
                f"{_choices(SOURCE_NAMES)}"
            )
    wanted = set(names)
    return tuple(ep for ep in ENDPOINTS if ep.name in wanted)


def resolve_group_by(
    endpoints: Sequence[Endpoint[Any]], group_by: Sequence[str] | str | None
) -> dict[str, tuple[str, ...]]:
    """Return, per endpoint name, the ``group_by`` fields ``records()`` sends.

    None means every field the endpoint supports (the finest breakdown; totals are unchanged).
    A list is intersected with each endpoint's fields, since ``records()`` spans endpoints that
    support different fields; an empty list means no grouping.

    Raises:
        ConfigError: A field that none of the endpoints supports.
    """
    if group_by is None:
        return {ep.name: ep.group_by for ep in endpoints}
    wanted = _strings(group_by, name="group_by", where="openai records", allow_empty=True)
    supported = {name for ep in endpoints for name in ep.group_by}
    for name in wanted:
        if name not in supported:
            raise ConfigError(
                f"openai records: cannot group by {name!r}; the selected sources support "
                f"{_choices(sorted(supported))}"
            )
    return {ep.name: tuple(f for f in _unique(wanted) if f in ep.group_by) for ep in endpoints}


def plan_records(
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    sources: Sequence[str] | str | None,
    bucket_width: str,
    group_by: Sequence[str] | str | None,
    now: datetime | None = None,
) -> tuple[tuple[Endpoint[Any], RequestSpec], ...]:
    """Validate a ``records()`` call and describe the first request of each endpoint it reads.

    Costs only exist per day: they are always read at ``1d``, whatever ``bucket_width`` says
    (each record carries its own interval). Each request's ``limit`` is
    :func:`records_page_size`'s (31 buckets a page when grouped, the width's cap when not), so
    a page stays a few MB at any width. Each request covers whole buckets (see
    :func:`~usagekit._providers.openai._requests.whole_buckets`), so every record is a whole
    bucket and fetching a span again gives the same records.

    Args:
        start: Window start; None for midnight UTC of the first day of the current month.
        end: Window end (exclusive); None for up to now.
        sources: Endpoint names; None for all 11.
        bucket_width: ``"1m"``, ``"1h"`` or ``"1d"`` for the usage endpoints.
        group_by: See :func:`resolve_group_by`.
        now: The current time (tests); None for the clock.

    Returns:
        ``(endpoint, request)`` pairs, in table order.

    Raises:
        ConfigError: An unknown source, width or group_by field, or a malformed window.
    """
    if not isinstance(bucket_width, str) or bucket_width not in USAGE_LIMITS:
        raise ConfigError(
            f"openai records: bucket_width must be one of {_choices(USAGE_LIMITS)}, "
            f"got {bucket_width!r}"
        )
    endpoints = resolve_sources(sources)
    fields = resolve_group_by(endpoints, group_by)
    current = utcnow() if now is None else now
    default_start = month_start(current)
    begin = default_start if start is None else as_utc(start, name="start")
    if end is None and open_window_is_empty(begin, current):
        return ()  # "up to now" from an instant not yet passed: an empty window, no request
    plan: list[tuple[Endpoint[Any], RequestSpec]] = []
    for endpoint in endpoints:
        width = "1d" if endpoint.is_costs else bucket_width
        request = prepare(
            endpoint,
            *whole_buckets(start, end, width=width, default_start=default_start),
            bucket_width=width,
            group_by=fields[endpoint.name],
            limit=records_page_size(endpoint, width, fields[endpoint.name]),
            filters={},
            default_start=default_start,
        )
        plan.append((endpoint, request))
    return tuple(plan)
