"""Unsiloed's ``get_usage`` answer as records over the billing cycle: a flow and two levels."""

from __future__ import annotations

from ..._core.clock import Window
from ..._core.coverage import declare, span_text
from ..._core.records import FLOW, LEVEL, UsageRecord
from ._info import INFO
from ._models import UnsiloedUsage
from ._requests import SOURCE

__all__ = ["usage_records"]


def usage_records(usage: UnsiloedUsage, *, window: Window) -> list[UsageRecord]:
    """Normalize a ``get_usage`` response into records over the billing cycle.

    ``current_usage`` is a flow; ``usage_limit`` and ``remaining_quota`` are levels. All are
    in ``"credits"``, with the organization as ``organization_id`` and its name in
    ``attributes["org_name"]``.

    Args:
        usage: The validated response.
        window: Only records whose interval overlaps the window are kept.

    Returns:
        The three records, or none when the cycle does not overlap the window.
    """
    start, end = usage.cycle_start, usage.cycle_end
    cycle = span_text(start, end)
    if not window.overlaps(start, end):
        declare(
            start, end, f"reports only its current 30-day cycle, {cycle}; nothing in this window"
        )
        return []
    if start < window.start or (window.end is not None and end > window.end):
        declare(start, end, f"reports one figure for its whole 30-day cycle, {cycle}")
    measures = (
        ("current_usage", usage.current_usage, FLOW),
        ("usage_limit", usage.usage_limit, LEVEL),
        ("remaining_quota", usage.remaining_quota, LEVEL),
    )
    return [
        UsageRecord.trusted(
            provider=INFO.name,
            source=SOURCE,
            start=start,
            end=end,
            metric=metric,
            quantity=quantity,
            unit="credits",
            kind=kind,
            organization_id=usage.org_id,
            attributes={"org_name": usage.org_name},
        )
        for metric, quantity, kind in measures
    ]
