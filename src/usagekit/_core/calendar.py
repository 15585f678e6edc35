"""The calendar of a time zone: IANA zone names, and hour, day, week and month buckets.

Buckets follow the zone's calendar: a day is a local day (23 or 25 hours across a
daylight-saving change), a week starts on local Monday, a month on the local first, each at
local midnight. A local midnight that does not exist (a spring-forward at 00:00) is the
instant of the transition, the first moment of that local day. Instants go in aware and come
out aware UTC.

Hours come in two rules, which only part where a zone's offset changes by a fraction of an
hour (Lord Howe's 30 minutes) or by odd minutes (historical offsets):

- ``"elapsed"`` (analytics, the Daramex client): an hour bucket starts the last time the local
  clock showed a whole hour, counting back real minutes, and lasts 60 real minutes.
- ``"wall"`` (the sandbox's Daramex emulator): the local clock reading is cut to the hour
  (keeping ``fold``, so the repeated hour of a fall-back is its own bucket; an hour start
  inside a gap is the transition), and the next bucket is the floor of one hour later, which
  may not move on (Lord Howe's fall-back hour): a caller walking buckets must bound its walk.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Literal, TypeAlias, get_args
from zoneinfo import ZoneInfo

__all__ = [
    "GRANULARITIES",
    "Granularity",
    "HourRule",
    "bucket_floor",
    "bucket_next",
    "load_zone",
    "local_midnight",
]

Granularity: TypeAlias = Literal["hour", "day", "week", "month"]
"""A bucket width."""
GRANULARITIES: tuple[Granularity, ...] = get_args(Granularity)
"""The bucket widths, finest first."""
HourRule: TypeAlias = Literal["elapsed", "wall"]
"""How hour buckets are cut (see the module's docstring)."""

_UTC = timezone.utc
_HOUR = timedelta(hours=1)
_NOT_ZONES = frozenset({"localtime", "posixrules"})
"""Files of a zoneinfo directory that are not IANA zone names."""


@functools.lru_cache(maxsize=512)
def _load(name: str, iana_only: bool) -> ZoneInfo | None:
    if iana_only and (name in _NOT_ZONES or name.startswith(("posix/", "right/"))):
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None


def load_zone(name: object, *, iana_only: bool = True) -> ZoneInfo | None:
    """Return the time zone of that name, or None when it names none.

    Args:
        name: A zone name such as ``"America/Mexico_City"`` or ``"UTC"``; anything else (an
            empty string, not a string) names no zone.
        iana_only: Refuse the files of a zoneinfo directory that are not IANA zone names
            (``localtime``, ``posixrules``, ``posix/...``, ``right/...``); False loads whatever
            ``ZoneInfo`` loads.

    Returns:
        The zone, or None.
    """
    if not isinstance(name, str) or not name:
        return None
    return _load(name, iana_only)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """Return the first moment of the local ``day`` in ``zone``, aware UTC.

    Args:
        day: The local date.
        zone: The zone.

    Returns:
        Local midnight; where it does not exist (a spring-forward at 00:00), the transition.

    Raises:
        OverflowError: The instant is beyond the datetime range.
    """
    # fold=0 resolves a missing midnight with the offset before the change: the transition.
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(_UTC)


def bucket_floor(
    moment: datetime, granularity: Granularity, zone: tzinfo, *, hours: HourRule = "elapsed"
) -> datetime:
    """Return the start of the bucket of ``granularity`` in ``zone`` containing ``moment``.

    Args:
        moment: An aware instant.
        granularity: ``"hour"``, ``"day"``, ``"week"`` (from Monday) or ``"month"``.
        zone: The zone buckets are aligned in.
        hours: How hour buckets are cut: ``"elapsed"`` or ``"wall"`` (see the module).

    Returns:
        The bucket start, aware UTC, at or before ``moment``.

    Raises:
        OverflowError: The instant is beyond the datetime range.
    """
    local = moment.astimezone(zone)
    if granularity == "hour":
        if hours == "wall":
            return local.replace(minute=0, second=0, microsecond=0).astimezone(_UTC)
        # real minutes back, so the two 01:00 hours of a fall-back night are two buckets and a
        # zone offset by 30 minutes is respected
        elapsed = timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )
        return (moment - elapsed).astimezone(_UTC)
    day = local.date()
    if granularity == "week":
        day -= timedelta(days=day.weekday())
    elif granularity == "month":
        day = day.replace(day=1)
    return local_midnight(day, zone)


def bucket_next(
    start: datetime, granularity: Granularity, zone: tzinfo, *, hours: HourRule = "elapsed"
) -> datetime:
    """Return the start of the bucket after the one starting at ``start``: where it ends.

    Days, weeks and months end at local midnight of the next day, of the day a week later, or
    of the first of the next month (``start``'s local date counts, aligned or not).

    Args:
        start: The bucket start, aware.
        granularity: ``"hour"``, ``"day"``, ``"week"`` or ``"month"``.
        zone: The zone buckets are aligned in.
        hours: How hour buckets are cut: ``"elapsed"`` (one real hour later) or ``"wall"``
            (the floor of one hour later, which may be ``start`` itself).

    Returns:
        The next bucket's start, aware UTC.

    Raises:
        OverflowError: The instant is beyond the datetime range (a month after December 9999
            too).
    """
    if granularity == "hour":
        later = start + _HOUR
        if hours == "wall":
            return bucket_floor(later, "hour", zone, hours="wall")
        return later.astimezone(_UTC)
    day = start.astimezone(zone).date()
    if granularity == "day":
        day += timedelta(days=1)
    elif granularity == "week":
        day += timedelta(days=7)
    elif day.month < 12:
        day = date(day.year, day.month + 1, 1)
    elif day.year < date.max.year:
        day = date(day.year + 1, 1, 1)
    else:
        raise OverflowError("date value out of range")
    return local_midnight(day, zone)
