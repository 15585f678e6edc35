"""Calendar arithmetic in an IANA time zone: the zone check and the bucket boundaries.

Everything the analyses know about calendars is here, behind four functions: a checked zone
(:func:`check_zone`), a local midnight (:func:`local_midnight`), and the start and end of the
hour, day, week (from Monday) or month bucket containing a moment (:func:`bucket_floor`,
:func:`bucket_next`). Every datetime in and out is aware UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from .._core.errors import ConfigError
from ._constants import Granularity

__all__ = ["bucket_floor", "bucket_next", "check_zone", "local_midnight"]

UTC = timezone.utc
_HOUR = timedelta(hours=1)


def check_zone(name: object) -> ZoneInfo:
    """Return the IANA zone called ``name``.

    Args:
        name: The zone's IANA name, such as ``"UTC"`` or ``"Europe/Paris"``.

    Returns:
        The zone.

    Raises:
        ConfigError: ``name`` is not a non-empty string, or no such zone is known.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"timezone must be an IANA zone name such as 'UTC', got {name!r}")
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise ConfigError(f"unknown IANA time zone {name!r}") from None


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """Return the first moment of the local ``day`` in ``zone``, as aware UTC.

    Args:
        day: The local calendar day.
        zone: The zone of the calendar.

    Returns:
        The UTC instant of the day's local midnight (of the transition, when that midnight is
        skipped by a spring-forward).
    """
    # A midnight that does not exist (a spring-forward at 00:00) resolves, with fold=0, to the
    # instant of the transition: the first moment of that local day.
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def bucket_floor(moment: datetime, granularity: Granularity, zone: tzinfo) -> datetime:
    """Return the UTC start of the bucket of ``granularity`` in ``zone`` containing ``moment``.

    Args:
        moment: An aware datetime.
        granularity: ``"hour"`` (a real hour ending where the local clock shows a whole
            hour), ``"day"``, ``"week"`` (from local Monday) or ``"month"`` (from the local
            first); the last three start at a local midnight.
        zone: The zone of the calendar.

    Returns:
        The bucket's start, aware UTC, at or before ``moment``.
    """
    local = moment.astimezone(zone)
    if granularity == "hour":
        # The last time the local clock showed a whole hour: real hours, so the two 01:00 hours
        # of a fall-back night are two buckets and a zone offset by 30 minutes is respected.
        return moment - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )
    day = local.date()
    if granularity == "week":
        day -= timedelta(days=day.weekday())
    elif granularity == "month":
        day = day.replace(day=1)
    return local_midnight(day, zone)


def bucket_next(start: datetime, granularity: Granularity, zone: tzinfo) -> datetime:
    """Return the UTC end of the bucket that starts at ``start``.

    Args:
        start: A bucket start, as :func:`bucket_floor` returns it.
        granularity: The bucket's granularity.
        zone: The zone of the calendar.

    Returns:
        The exclusive end, aware UTC: an hour later for ``"hour"``, else the next local
        midnight, Monday or first of the month (a local day is 23 or 25 hours long on a
        daylight-saving change). It is also the start of the next bucket.
    """
    if granularity == "hour":
        return start + _HOUR
    day = start.astimezone(zone).date()
    if granularity == "day":
        day += timedelta(days=1)
    elif granularity == "week":
        day += timedelta(days=7)
    else:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return local_midnight(day, zone)
