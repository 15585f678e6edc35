"""OpenRouter's requests, described as data and checked before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from ..._core.clock import utcnow
from ..._core.errors import ConfigError
from ..._core.transport import RequestSpec, params_from

__all__ = [
    "ACTIVITY_SOURCE",
    "AVAILABLE_DAYS",
    "CONCURRENCY",
    "CREDITS_SOURCE",
    "CREDITS_SPEC",
    "ActivityFilters",
    "GroupBy",
    "activity_spec",
    "available_days",
    "check_day",
]

ACTIVITY_SOURCE = "activity"
CREDITS_SOURCE = "credits"
AVAILABLE_DAYS = 30
"""``/activity`` answers for the last 30 completed UTC days only."""
CONCURRENCY = 4
"""The days ``records()`` fetches at once by default (both clients).

OpenRouter documents no limit for ``/activity``; its limits are global per account (more keys
do not raise them) and it sits behind DDoS protection, so a client reading a whole account
should burst politely. A window is at most 30 requests (one a day): 4 at once reads it in
about 8 round trips instead of 30, while a 429 (retried after its ``Retry-After``, and learned
by the opt-in adaptive rate limiter) costs at most 4 requests' worth of waiting."""

GroupBy = Literal["workspace"]
"""The one ``group_by`` value ``/activity`` documents."""

CREDITS_SPEC = RequestSpec("/credits", CREDITS_SOURCE)


@dataclass(frozen=True)
class ActivityFilters:
    """The optional filters of ``/activity``, checked.

    Attributes:
        api_key_hash: Only this API key's activity (its SHA-256 hash, as ``/keys`` lists it).
        user_id: Only this organization member's activity.
        workspace_id: Only activity attributed to this workspace.
        group_by: ``"workspace"`` to split every row per workspace.
    """

    api_key_hash: str | None = None
    user_id: str | None = None
    workspace_id: str | None = None
    group_by: GroupBy | None = None

    def __post_init__(self) -> None:
        for name in ("api_key_hash", "user_id", "workspace_id"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{name} must be a non-empty string or None")
        if self.group_by is not None and self.group_by != "workspace":
            raise ConfigError(f"group_by must be 'workspace' or None, got {self.group_by!r}")


def available_days(now: datetime | None = None) -> tuple[date, date]:
    """The first and last day ``/activity`` answers for: the last 30 completed UTC days.

    Args:
        now: The current time (default usagekit's clock).

    Returns:
        ``(first, last)``, both inclusive; ``last`` is yesterday (UTC).
    """
    today = (now or utcnow()).date()
    return today - timedelta(days=AVAILABLE_DAYS), today - timedelta(days=1)


def check_day(day: date | str, *, now: datetime | None = None) -> date:
    """Check that ``day`` is one of the days ``/activity`` answers for.

    Args:
        day: A ``date`` (a ``datetime`` is refused: a day is asked, not an instant) or
            ``YYYY-MM-DD``.
        now: The current time (default usagekit's clock).

    Returns:
        The day.

    Raises:
        ConfigError: Not a day, or not within the last 30 completed UTC days (today is not
            complete yet).
    """
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            raise ConfigError(f"date must be YYYY-MM-DD, got {day!r}") from None
    if isinstance(day, datetime) or not isinstance(day, date):
        raise ConfigError(f"date must be a datetime.date or YYYY-MM-DD, got {type(day).__name__}")
    first, last = available_days(now)
    if not first <= day <= last:
        raise ConfigError(
            f"date must be within the last {AVAILABLE_DAYS} completed UTC days "
            f"({first.isoformat()} to {last.isoformat()}), got {day.isoformat()}"
        )
    return day


def activity_spec(day: date, filters: ActivityFilters) -> RequestSpec:
    """The ``GET /activity`` request of one day.

    Args:
        day: A checked day (see :func:`check_day`).
        filters: The optional filters.

    Returns:
        The request.
    """
    params = params_from(
        date=day.isoformat(),
        api_key_hash=filters.api_key_hash,
        user_id=filters.user_id,
        workspace_id=filters.workspace_id,
        group_by=filters.group_by,
    )
    return RequestSpec("/activity", ACTIVITY_SOURCE, params)
