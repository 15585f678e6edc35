"""The requests of Anthropic's three reports, described as data and validated before sending.

Array parameters go on the wire as ``key[]=value`` (``group_by[]=model&group_by[]=workspace_id``).
``bucket_width`` and ``limit`` are checked against what each width allows, ``group_by[]`` against
the documented fields (at most five), enumerated filters against their documented values: a
mistake is a :class:`~usagekit.ConfigError` naming what is accepted, never a 400 from the server.
Windows are widened to whole buckets (the API snaps them so anyway) and sent as RFC 3339.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ..._core.clock import (
    TimeLike,
    Window,
    as_utc,
    month_start,
    open_window_is_empty,
    resolve_window,
    utcnow,
)
from ..._core.coverage import declare
from ..._core.errors import BadRequestError, ConfigError
from ..._core.transport import RequestSpec

__all__ = [
    "ANTHROPIC_VERSION",
    "BUCKET_LIMITS",
    "CLAUDE_CODE_CONCURRENCY",
    "CLAUDE_CODE_LIMIT",
    "CLAUDE_CODE_PATH",
    "COST_GROUP_BY",
    "COST_LIMIT",
    "COST_PATH",
    "FAST_MODE_BETA",
    "MAX_GROUP_BY",
    "MESSAGES_FILTERS",
    "MESSAGES_GROUP_BY",
    "MESSAGES_PATH",
    "RECORDS_COST_GROUP_BY",
    "RECORDS_GROUP_BY",
    "SOURCES",
    "RecordsPlan",
    "api_headers",
    "check_group_by",
    "claude_code_days",
    "claude_code_spec",
    "cost_spec",
    "finished_days",
    "messages_spec",
    "plan_records",
    "rfc3339",
    "shorter_cost_span",
    "whole_buckets",
]

MESSAGES_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
CLAUDE_CODE_PATH = "/v1/organizations/usage_report/claude_code"

ANTHROPIC_VERSION = "2023-06-01"
"""The ``anthropic-version`` header sent on every request."""

FAST_MODE_BETA = "fast-mode-2026-02-01"
"""The ``anthropic-beta`` value the ``speed`` group and filter need."""

BUCKET_LIMITS: Mapping[str, tuple[int, int]] = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}
"""Per ``bucket_width``: the API's default and largest ``limit`` (buckets per page)."""

COST_LIMIT = 31
"""The most days of one cost report page."""
CLAUDE_CODE_CONCURRENCY = 4
"""The Claude Code days read at once by default (``claude_code_usage()`` and ``records()``).

The report answers one UTC day per request, so a year is 365 requests: one after another at a
distant API's latency that is minutes, 4 at once a quarter of it. Anthropic publishes no
numeric limit for the Admin API's reports: it says they support polling once a minute for
sustained use and that short bursts (paging) may go faster, and calls the Claude Code report
free to call; its Enterprise analytics API, the one report API with a published limit, allows
60 requests a minute per organization. A walk of a few requests at once is such a burst, and
a 429 is retried after its ``retry-after`` (by every one of the 4, sharing one retry policy
and, opted in, one adaptive rate limiter that learns the server's pace), so a low bound costs
little when the server is strict and keeps an organization's other Admin API users (the same
limits) from being crowded out."""

CLAUDE_CODE_LIMIT = 1000
"""The most records of one Claude Code page."""

MAX_GROUP_BY = 5
"""The most ``group_by[]`` fields the usage report accepts."""

MESSAGES_GROUP_BY: tuple[str, ...] = (
    "account_id",
    "api_key_id",
    "context_window",
    "inference_geo",
    "model",
    "service_account_id",
    "service_tier",
    "speed",
    "workspace_id",
)
"""The usage report's ``group_by[]`` values."""

COST_GROUP_BY: tuple[str, ...] = ("workspace_id", "description")
"""The cost report's ``group_by[]`` values."""

MESSAGES_FILTERS: Mapping[str, tuple[str, ...] | None] = {
    "api_key_ids": None,
    "workspace_ids": None,
    "models": None,
    "service_tiers": (
        "standard",
        "batch",
        "priority",
        "priority_on_demand",
        "flex",
        "flex_discount",
    ),
    "context_window": ("0-200k", "200k-1M"),
    "inference_geos": ("global", "us", "not_available"),
    "speeds": ("standard", "fast"),
    "account_ids": None,
    "service_account_ids": None,
}
"""The usage report's filters (sent as ``name[]``), with their allowed values when enumerated."""

_WIDTHS: Mapping[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_DAY = timedelta(days=1)


def _choices(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


def rfc3339(moment: datetime) -> str:
    """``2025-01-08T00:00:00Z`` (whole seconds, UTC)."""
    return f"{moment.astimezone(_UTC):%Y-%m-%dT%H:%M:%SZ}"


def _strings(value: Any, *, name: str, where: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) and i for i in items):
        raise ConfigError(f"{where}: {name} must be a string or a list of non-empty strings")
    return list(dict.fromkeys(items))


def whole_buckets(window: Window, width: str) -> tuple[datetime, datetime | None]:
    """Widen a window to whole buckets of ``width``: the start down, the end up.

    Args:
        window: The window asked for.
        width: ``"1m"``, ``"1h"`` or ``"1d"``.

    Returns:
        The aligned start and end (an open end stays None).
    """
    step = _WIDTHS[width]
    start = _EPOCH + (window.start - _EPOCH) // step * step
    if window.end is None:
        return start, None
    end = _EPOCH - ((_EPOCH - window.end) // step) * step
    return start, end


def _check_limit(limit: int | None, maximum: int, *, where: str, what: str) -> None:
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        detail = f" {what}" if what else ""
        raise ConfigError(f"{where}: limit must be an integer from 1 to {maximum}{detail}")


def api_headers(fast_mode: bool) -> dict[str, str]:
    """The headers, not secret, sent on every request.

    Args:
        fast_mode: Add ``anthropic-beta: fast-mode-2026-02-01`` (see :data:`FAST_MODE_BETA`).

    Returns:
        ``anthropic-version``, and ``anthropic-beta`` in fast mode.
    """
    headers = {"anthropic-version": ANTHROPIC_VERSION}
    if fast_mode:
        headers["anthropic-beta"] = FAST_MODE_BETA
    return headers


def check_group_by(
    group_by: Sequence[str] | str | None, allowed: Sequence[str], *, where: str
) -> tuple[str, ...]:
    """Validate ``group_by`` fields (duplicates dropped, order kept).

    Raises:
        ConfigError: An unknown field, or more than :data:`MAX_GROUP_BY`.
    """
    if group_by is None:
        return ()
    fields = _strings(group_by, name="group_by", where=where) if group_by else []
    for name in fields:
        if name not in allowed:
            raise ConfigError(
                f"{where}: cannot group by {name!r}; allowed fields are {_choices(allowed)}"
            )
    if len(fields) > MAX_GROUP_BY:
        raise ConfigError(f"{where}: at most {MAX_GROUP_BY} group_by fields, got {len(fields)}")
    return tuple(fields)


def messages_spec(
    start: TimeLike,
    end: TimeLike | None,
    *,
    bucket_width: str = "1d",
    limit: int | None = None,
    group_by: Sequence[str] | str | None = None,
    filters: Mapping[str, Any] | None = None,
    fast_mode: bool = False,
) -> RequestSpec:
    """Describe the first request of a usage report walk.

    Args:
        start: The window start (widened down to a whole bucket).
        end: The window end, exclusive (widened up), or None for the API's default.
        bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
        limit: Buckets per page; None for the largest the width allows.
        group_by: Fields of :data:`MESSAGES_GROUP_BY`, at most five.
        filters: Filters of :data:`MESSAGES_FILTERS` by name; None values are left out.
        fast_mode: Whether the client sends the ``fast-mode`` beta header (``speed`` needs it).

    Returns:
        The request.

    Raises:
        ConfigError: A malformed window, width, limit, group or filter.
    """
    where = "anthropic usage_report/messages"
    if not isinstance(bucket_width, str) or bucket_width not in BUCKET_LIMITS:
        raise ConfigError(
            f"{where}: bucket_width must be one of {_choices(BUCKET_LIMITS)}, got {bucket_width!r}"
        )
    maximum = BUCKET_LIMITS[bucket_width][1]
    _check_limit(limit, maximum, where=where, what=f"buckets for bucket_width={bucket_width}")
    fields = check_group_by(group_by, MESSAGES_GROUP_BY, where=where)
    given = {k: v for k, v in (filters or {}).items() if v is not None}
    for name in given:
        if name not in MESSAGES_FILTERS:
            raise ConfigError(
                f"{where}: unsupported filter {name!r}; supported filters are "
                f"{_choices(MESSAGES_FILTERS)}"
            )
    if not fast_mode and ("speed" in fields or "speeds" in given):
        raise ConfigError(
            f"{where}: the speed group and filter need the {FAST_MODE_BETA} beta: create the "
            "client with fast_mode=True"
        )
    window = resolve_window(start, end)
    first, last = whole_buckets(window, bucket_width)
    params: list[tuple[str, str]] = [("starting_at", rfc3339(first))]
    if last is not None:
        params.append(("ending_at", rfc3339(last)))
    params.append(("bucket_width", bucket_width))
    for name, choices in MESSAGES_FILTERS.items():
        if name not in given:
            continue
        items = _strings(given[name], name=name, where=where)
        if choices is not None:
            bad = [item for item in items if item not in choices]
            if bad:
                raise ConfigError(
                    f"{where}: {name} value {bad[0]!r} is not supported; allowed values are "
                    f"{_choices(choices)}"
                )
        params.extend((f"{name}[]", item) for item in items)
    params.extend(("group_by[]", name) for name in fields)
    params.append(("limit", str(maximum if limit is None else limit)))
    return RequestSpec(MESSAGES_PATH, "usage_report/messages", tuple(params))


def cost_spec(
    start: datetime,
    end: datetime,
    *,
    limit: int | None = None,
    group_by: Sequence[str] | str | None = None,
) -> RequestSpec:
    """Describe the first request of a cost report walk over whole UTC days.

    Args:
        start: The first day's midnight (aligned by the caller).
        end: The end's midnight, exclusive (aligned and clipped by the caller).
        limit: Days per page; None for the largest (31).
        group_by: Fields of :data:`COST_GROUP_BY`.

    Returns:
        The request.

    Raises:
        ConfigError: A malformed limit or group.
    """
    where = "anthropic cost_report"
    _check_limit(limit, COST_LIMIT, where=where, what="days")
    fields = check_group_by(group_by, COST_GROUP_BY, where=where)
    params: list[tuple[str, str]] = [
        ("starting_at", rfc3339(start)),
        ("ending_at", rfc3339(end)),
        ("bucket_width", "1d"),
    ]
    params.extend(("group_by[]", name) for name in fields)
    params.append(("limit", str(COST_LIMIT if limit is None else limit)))
    return RequestSpec(COST_PATH, "cost_report", tuple(params))


def claude_code_spec(day: date, *, limit: int | None = None) -> RequestSpec:
    """Describe the first request of one day of the Claude Code report.

    Args:
        day: The UTC day.
        limit: Records per page; None for the largest (1000).

    Returns:
        The request (``starting_at`` as a bare ``YYYY-MM-DD``).

    Raises:
        ConfigError: A malformed limit.
    """
    _check_limit(limit, CLAUDE_CODE_LIMIT, where="anthropic usage_report/claude_code", what="")
    params = (
        ("starting_at", day.isoformat()),
        ("limit", str(CLAUDE_CODE_LIMIT if limit is None else limit)),
    )
    return RequestSpec(CLAUDE_CODE_PATH, "usage_report/claude_code", params)


def claude_code_days(start: TimeLike, end: TimeLike | None) -> list[date]:
    """The UTC days a Claude Code window touches (``end`` None: the start's day only).

    Raises:
        ConfigError: A malformed window.
    """
    first = as_utc(start, name="start")
    if end is None:
        return [first.date()]
    window = resolve_window(first, end)
    begin, finish = whole_buckets(window, "1d")
    assert finish is not None
    count = (finish - begin) // _DAY
    return [(begin + i * _DAY).date() for i in range(count)]


def shorter_cost_span(
    span: tuple[datetime, datetime], refused: BadRequestError
) -> tuple[datetime, datetime] | None:
    """The cost window without its last day, after the cost report refused the window's dates.

    Near midnight the cost report may not have finished a day that the clock says is over, and
    it answers 400 ("ending date must be after starting date"). Rather than lose every
    provider record, ``records()`` asks again without that day and says so; a 400 that is not
    about the dates is raised as it is.

    Args:
        span: The ``(start, end)`` of UTC midnights that was refused.
        refused: The 400.

    Returns:
        The shorter span, or None when the refused span was one day (then no costs, said so).

    Raises:
        BadRequestError: ``refused``, when its message is not about the window's dates.
    """
    if "date" not in refused.message.lower():
        raise refused
    start, end = span
    shorter = end - _DAY
    if shorter <= start:
        declare(
            start,
            start,
            f"the cost report refused {start:%Y-%m-%d} ({refused.message}): not final yet, "
            "so no costs",
        )
        return None
    declare(
        start,
        shorter,
        f"the cost report refused {shorter:%Y-%m-%d} ({refused.message}): not final yet, so "
        f"costs cover up to {shorter:%Y-%m-%d}",
    )
    return start, shorter


def finished_days(
    start: datetime, end: datetime, now: datetime
) -> tuple[datetime, datetime] | None:
    """Clip a cost window to the UTC days already over, saying so when it clips.

    The cost report has only finished days: a window reaching into today (or beyond) ends at
    today's midnight, and :func:`~usagekit._core.coverage.declare` tells ``collect`` why.

    Args:
        start: The window start, a UTC midnight.
        end: The window end, a UTC midnight.
        now: The current time.

    Returns:
        The clipped ``(start, end)``, or None when no day of the window is over yet.
    """
    today = datetime(now.year, now.month, now.day, tzinfo=_UTC)
    if end <= today:
        return start, end
    if start >= today:
        declare(
            today,
            today,
            "the cost report has only finished UTC days; none of this window is over yet, "
            "so no costs",
        )
        return None
    declare(
        start,
        today,
        f"costs cover only finished UTC days, up to {today:%Y-%m-%d} (the cost report has "
        "none of today yet)",
    )
    return start, today


SOURCES: tuple[str, ...] = ("messages", "cost_report", "claude_code")
"""The reports ``records()`` reads, by source name."""

RECORDS_GROUP_BY: tuple[str, ...] = (
    "model",
    "workspace_id",
    "api_key_id",
    "account_id",
    "service_tier",
)
"""What ``records()`` groups the usage report by (the API allows five fields at most)."""

RECORDS_COST_GROUP_BY: tuple[str, ...] = ("workspace_id", "description")
"""What ``records()`` groups the cost report by: model, line item and token type filled."""


@dataclass(frozen=True)
class RecordsPlan:
    """What one ``records()`` call reads (decided, and validated, before any request).

    Attributes:
        window: The window asked for.
        sources: The reports to read.
        messages: The usage report's first request, if read.
        group_by: Its ``group_by[]`` fields.
        cost_start: The cost report's first day (a UTC midnight).
        cost_end: The cost report's end before clipping to finished days.
        days: The Claude Code days to read.
        empty: Nothing to read at all (a window starting this very second).
    """

    window: Window
    sources: tuple[str, ...]
    messages: RequestSpec | None
    group_by: tuple[str, ...]
    cost_start: datetime
    cost_end: datetime
    days: tuple[date, ...]
    empty: bool = False


def plan_records(
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    sources: Sequence[str] | str | None,
    bucket_width: str,
    group_by: Sequence[str] | str | None,
    fast_mode: bool,
    now: datetime | None = None,
) -> RecordsPlan:
    """Validate a ``records()`` call.

    Args:
        start: Window start; None for midnight UTC of the first day of the current month.
        end: Window end (exclusive); None for up to now.
        sources: Report names of :data:`SOURCES`; None for all three.
        bucket_width: The usage report's width.
        group_by: The usage report's fields; None for :data:`RECORDS_GROUP_BY`.
        fast_mode: Whether the client sends the fast-mode beta.
        now: The current time (tests); None for the clock.

    Returns:
        The plan.

    Raises:
        ConfigError: An unknown source, width or field, or a malformed window.
    """
    where = "anthropic records"
    if sources is None:
        chosen = SOURCES
    else:
        names = _strings(sources, name="sources", where=where)
        if not names:
            raise ConfigError(
                f"{where}: sources is empty; choose any of {_choices(SOURCES)}, or None for all"
            )
        for name in names:
            if name not in SOURCES:
                raise ConfigError(
                    f"{where}: unknown source {name!r}; known sources are {_choices(SOURCES)}"
                )
        chosen = tuple(s for s in SOURCES if s in names)
    current = utcnow() if now is None else now
    default_start = month_start(current)
    begin = default_start if start is None else as_utc(start, name="start")
    fields = RECORDS_GROUP_BY if group_by is None else group_by
    if end is None and open_window_is_empty(begin, current):
        window = Window(begin, None)
        return RecordsPlan(window, chosen, None, (), begin, begin, (), empty=True)
    window = resolve_window(begin, end if end is not None else current)
    spec = messages_spec(
        window.start,
        window.end,
        bucket_width=bucket_width,
        group_by=fields,
        fast_mode=fast_mode,
    )
    assert window.end is not None
    cost_start, cost_end = whole_buckets(window, "1d")
    assert cost_end is not None
    days = tuple(claude_code_days(window.start, window.end))
    return RecordsPlan(
        window,
        chosen,
        spec if "messages" in chosen else None,
        check_group_by(fields, MESSAGES_GROUP_BY, where=where),
        cost_start,
        cost_end,
        days if "claude_code" in chosen else (),
    )
