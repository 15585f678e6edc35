"""Basedash's wire model: the ``ai-usage`` response, validated exactly."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field, ValidationInfo, field_validator

from ..._core.wire import NonNegativeDecimal, UTCDateTime, WireModel, exact_sum

__all__ = ["BasedashAIUsage", "BasedashMemberUsage"]


class BasedashMemberUsage(WireModel):
    """One organization member's billable AI usage in the billing period.

    Attributes:
        user_id: The user's id (``userId``).
        member_id: The organization membership id (``memberId``).
        email: The member's e-mail address.
        usage: Billable AI usage in USD, exact; never negative (usage, not a balance).
    """

    user_id: str = Field(alias="userId")
    member_id: str = Field(alias="memberId")
    email: str
    usage: NonNegativeDecimal


class BasedashAIUsage(WireModel):
    """The ``ai-usage`` response: the organization's total and its members' usage.

    Amounts are exact at any precision; a negative one is refused (billable usage is spent
    money, never a credit), as is a member listed twice with different figures.

    Attributes:
        total_usage: Total billable AI usage of the billing period in USD (``totalUsage``).
        billing_period_start: Start of the billing period, aware UTC (``billingPeriodStart``).
        billing_period_end: End of the billing period, aware UTC (``billingPeriodEnd``).
        member_usage: Usage per organization member (``memberUsage``).
    """

    total_usage: NonNegativeDecimal = Field(alias="totalUsage")
    billing_period_start: UTCDateTime = Field(alias="billingPeriodStart")
    billing_period_end: UTCDateTime = Field(alias="billingPeriodEnd")
    member_usage: list[BasedashMemberUsage] = Field(alias="memberUsage")

    @field_validator("billing_period_end")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("billing_period_start")
        if isinstance(start, datetime) and value <= start:
            raise ValueError("billingPeriodEnd must be after billingPeriodStart")
        return value

    @property
    def members_total(self) -> Decimal:
        """The sum of the members' usage, exact."""
        return exact_sum(member.usage for member in self.member_usage)

    @property
    def unattributed_usage(self) -> Decimal:
        """``total_usage`` minus the members' sum; negative when the members exceed the total."""
        return exact_sum((self.members_total.copy_negate(),), self.total_usage)
