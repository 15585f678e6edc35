"""Unsiloed's wire model: the ``get_usage`` response, validated exactly."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import BeforeValidator, field_validator

from ..._core.wire import ExactDecimal, NonNegativeDecimal, WireModel, parse_iso_day, parse_utc_date

__all__ = ["CYCLE", "BilledDate", "UnsiloedUsage", "parse_billed_date"]

CYCLE = timedelta(days=30)
"""Usage resets every 30 days, counted from ``last_billed_date``."""

parse_billed_date = parse_iso_day
"""Read ``last_billed_date``: ``YYYY-MM-DD`` as documented, or an ISO-8601 date-time taken as its
UTC day (see :func:`~usagekit._core.wire.parse_iso_day`)."""

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
