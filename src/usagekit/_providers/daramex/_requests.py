"""Daramex's requests: every argument checked before anything is sent, then described.

Each endpoint has a ``*_spec`` function that checks its arguments (``start < end``, the
enumerations, the limit, a real IANA time zone) and returns the :class:`RequestSpec`;
``from``/``to`` are sent as ISO-8601 UTC with ``Z``. :func:`records_plan` plans what
``records`` fetches, and :func:`resolve_org_id` reads the organization from :data:`INFO`'s
setting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import cast
from zoneinfo import ZoneInfo

from ..._core.calendar import load_zone
from ..._core.client import resolve_setting
from ..._core.clock import (
    TimeLike,
    as_utc,
    month_start,
    open_window_is_empty,
    resolve_window,
    utcnow,
)
from ..._core.errors import ConfigError
from ..._core.records import UsageRecord
from ..._core.transport import RequestSpec, params_from
from ._info import INFO
from ._models import ACTIONS, GRANULARITIES, GROUP_BYS, SOURCES, DaramexGranularity

__all__ = [
    "LIMIT_RANGE",
    "PREFIX",
    "SOURCE",
    "RecordsPlan",
    "SyncRecords",
    "cache_savings_spec",
    "check_timezone",
    "granularity_for",
    "heatmap_spec",
    "iso_z",
    "model_efficiency_spec",
    "projection_spec",
    "records_plan",
    "resolve_org_id",
    "time_series_spec",
]

PREFIX = "/ai/org-usage"
"""The path every endpoint lives under."""
SOURCE = "time_series"
"""The ``source`` of every Daramex record."""
LIMIT_RANGE = (1, 50)
"""The limits ``model-efficiency`` accepts."""

_PROVIDER = INFO.name
_UTC = timezone.utc


def _env(argument: str) -> str:
    return next(s.variable for s in INFO.settings if s.argument == argument)


def resolve_org_id(org_id: str | None) -> str:
    """Return the organization: ``org_id``, else ``DARAMEX_ORG_ID``.

    Args:
        org_id: The constructor's argument.

    Returns:
        The organization id.

    Raises:
        ConfigError: Neither is set (the message names the variable).
    """
    return resolve_setting(org_id, _env("org_id"), provider=_PROVIDER, argument="org_id")


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ConfigError(f"{_PROVIDER}: {name} must be one of {options}; got {value!r}")
    return value


def _limit(value: object) -> int:
    low, high = LIMIT_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"{_PROVIDER}: limit must be an integer from {low} to {high}; got {value!r}"
        )
    return value


def check_timezone(name: object) -> ZoneInfo:
    """Return the IANA time zone of that name.

    Args:
        name: A zone name such as ``"America/Mexico_City"`` or ``"UTC"``.

    Returns:
        The zone.

    Raises:
        ConfigError: Not a string, or not a zone of the IANA database.
    """
    zone = load_zone(name)
    if zone is None:
        raise ConfigError(
            f"{_PROVIDER}: timezone must be an IANA time zone name such as 'UTC' or "
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
        raise ConfigError(f"{_PROVIDER}: start and end are both required")
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
class RecordsPlan:
    """What ``records`` fetches, and how its answer is normalized.

    Attributes:
        spec: The request; None for an open window that has not begun (nothing to ask).
        start: The window start sent as ``from``.
        end: The window end sent as ``to``.
        source: The token pool requested.
        group_by: The breakdown requested.
        zone: The requested zone.
        open_ended: The caller gave no end (``end`` is just "now").
    """

    spec: RequestSpec | None
    start: datetime
    end: datetime
    source: str
    group_by: str
    zone: ZoneInfo
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
) -> RecordsPlan:
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
        return RecordsPlan(None, first, first, source, group_by, check_timezone(timezone), True)
    spec = time_series_spec(
        first, last, source=source, granularity=granularity, group_by=group_by, timezone=timezone
    )
    return RecordsPlan(
        spec, first, last, source, group_by, check_timezone(timezone), open_ended=end is None
    )


class SyncRecords:
    """``sync_records``, which the synchronous client has (:func:`usagekit.sync` is sync)."""

    records: Callable[..., Iterator[UsageRecord]]

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
        return self.records(start, granularity=granularity_for(bucket_lengths.get(SOURCE)))
