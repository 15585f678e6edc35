"""Unsiloed's wire model: the ``get_usage`` response, validated exactly."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

from dateutil.parser import isoparse
from pydantic import BeforeValidator, field_validator

from ..._core.wire import ExactDecimal, NonNegativeDecimal, WireModel, parse_utc_date

__all__ = ["CYCLE", "BilledDate", "UnsiloedUsage", "parse_billed_date"]

CYCLE = timedelta(days=30)
"""Usage resets every 30 days, counted from ``last_billed_date``."""

_UTC = timezone.utc


def parse_billed_date(value: Any) -> date:
    """Read ``last_billed_date``: ``YYYY-MM-DD`` as documented, or an ISO-8601 date-time.

    A date-time is taken as its calendar date in UTC (naive means UTC). Numbers are refused:
    unix seconds are not what the API documents, and a date is not an instant.

    Args:
        value: The raw JSON value.

    Returns:
        A ``date``.

    Raises:
        ValueError: Not a string, or a string that is not an ISO-8601 date or date-time.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            moment = isoparse(text)
        except (ValueError, OverflowError):
            raise ValueError(f"not an ISO-8601 date: {value[:40]!r}") from None
    else:
        raise ValueError(f"must be an ISO-8601 date string, got {type(value).__name__}")
    try:
        return (moment.astimezone(_UTC) if moment.tzinfo is not None else moment).date()
    except OverflowError:
        raise ValueError(f"date out of range: {value!s:.40}") from None


BilledDate = Annotated[date, BeforeValidator(parse_billed_date)]
"""A ``date`` read by :func:`parse_billed_date`."""


class UnsiloedUsage(WireModel):
    """The ``get_usage`` response.

    Credits are exact at any precision. Credits used and the limit are never negative (a
    negative one is refused); the remaining quota is negative once usage passes the limit.

    Attributes:
        org_id: The organization's id.
        org_name: The organization's name.
        current_usage: Credits used in the current billing cycle, exact.
        usage_limit: The cycle's credit limit, exact.
        remaining_quota: Credits left in the cycle (``usage_limit - current_usage``), exact;
            negative past the limit.
        last_billed_date: The day the current cycle started.
    """

    org_id: str
    org_name: str
    current_usage: NonNegativeDecimal
    usage_limit: NonNegativeDecimal
    remaining_quota: ExactDecimal
    last_billed_date: BilledDate

    @field_validator("last_billed_date")
    @classmethod
    def _cycle_fits(cls, value: date) -> date:
        if value > date.max - CYCLE:
            raise ValueError("last_billed_date is too late for a 30-day cycle")
        return value

    @property
    def cycle_start(self) -> datetime:
        """Start of the billing cycle: ``last_billed_date`` at 00:00 UTC."""
        return parse_utc_date(self.last_billed_date)

    @property
    def cycle_end(self) -> datetime:
        """End of the billing cycle (exclusive): 30 days after :attr:`cycle_start`."""
        return self.cycle_start + CYCLE
