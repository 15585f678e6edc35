"""Basedash's ``ai-usage`` answer as cost records that add up to ``totalUsage``."""

from __future__ import annotations

from decimal import Decimal

from ..._core.clock import Window
from ..._core.coverage import declare, span_text
from ..._core.errors import ResponseValidationError
from ..._core.records import UsageRecord
from ..._core.wire import exact_sum
from ._info import INFO
from ._models import BasedashAIUsage
from ._requests import SOURCE

__all__ = ["usage_records"]


def usage_records(usage: BasedashAIUsage, *, org_id: str, window: Window) -> list[UsageRecord]:
    """Normalize an ``ai-usage`` response into cost records.

    One record per member over the billing period, plus one record without a user, marked
    ``attributes["unattributed"] == "true"``, for ``totalUsage`` minus the members' sum when
    that is not zero (either sign). The records therefore always sum to ``totalUsage``,
    exactly. A member listed twice with the same identity and figure is one member (the repeat
    is dropped, so no two records share an id); with another figure it is refused, never
    summed.

    Args:
        usage: The validated response.
        org_id: The organization the response is about.
        window: Only records whose interval overlaps the window are kept.

    Returns:
        The records, members first in response order, the unattributed rest last.

    Raises:
        ResponseValidationError: A member listed twice with different usage.
    """
    start, end = usage.billing_period_start, usage.billing_period_end
    period = span_text(start, end)
    if not window.overlaps(start, end):
        declare(
            start, end, f"reports only its current billing period, {period}; nothing in this window"
        )
        return []
    if start < window.start or (window.end is not None and end > window.end):
        declare(start, end, f"reports one total for its whole billing period, {period}")
    merged: dict[tuple[str, str, str], Decimal] = {}
    for index, member in enumerate(usage.member_usage):
        identity = (member.user_id, member.member_id, member.email)
        seen = merged.setdefault(identity, member.usage)
        if seen != member.usage:
            raise ResponseValidationError(
                "a member is listed twice with different usage; refusing to sum or to pick one",
                provider=INFO.name,
                endpoint=SOURCE,
                field=f"memberUsage.{index}.usage",
            )
    records = [
        UsageRecord.trusted(
            provider=INFO.name,
            source=SOURCE,
            start=start,
            end=end,
            metric="cost",
            quantity=amount,
            unit="USD",
            organization_id=org_id,
            user_id=user_id,
            user_email=email,
            attributes={"member_id": member_id},
        )
        for (user_id, member_id, email), amount in merged.items()
    ]
    rest = exact_sum((amount.copy_negate() for amount in merged.values()), usage.total_usage)
    if rest != 0:
        records.append(
            UsageRecord.trusted(
                provider=INFO.name,
                source=SOURCE,
                start=start,
                end=end,
                metric="cost",
                quantity=rest,
                unit="USD",
                organization_id=org_id,
                attributes={"unattributed": "true"},
            )
        )
    return records
