"""The analyses' calendar: the shared one (:mod:`usagekit._core.calendar`) with analytics' messages.

A checked zone (:func:`check_zone`), a local midnight (:func:`local_midnight`), and the start and
end of the hour, day, week (from Monday) or month bucket containing a moment (:func:`bucket_floor`,
:func:`bucket_next`, real hours for ``"hour"``). Every datetime in and out is aware UTC.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from .._core.calendar import bucket_floor, bucket_next, load_zone, local_midnight
from .._core.errors import ConfigError

__all__ = ["bucket_floor", "bucket_next", "check_zone", "local_midnight"]


def check_zone(name: object) -> ZoneInfo:
    """Return the time zone called ``name`` (whatever ``ZoneInfo`` loads).

    Args:
        name: The zone's IANA name, such as ``"UTC"`` or ``"Europe/Paris"``.

    Returns:
        The zone.

    Raises:
        ConfigError: ``name`` is not a non-empty string, or no such zone is known.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"timezone must be an IANA zone name such as 'UTC', got {name!r}")
    zone = load_zone(name, iana_only=False)
    if zone is None:
        raise ConfigError(f"unknown IANA time zone {name!r}")
    return zone
