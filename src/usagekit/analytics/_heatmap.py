"""Tokens and cost by day of week and hour of day: :func:`heatmap`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .._core.records import UsageRecord
from ._calendar import check_zone
from ._results import Heatmap, HeatmapCell
from ._tally import Placer, Tally, check_record

__all__ = ["heatmap"]


def heatmap(records: Iterable[UsageRecord], *, timezone: str = "UTC") -> Heatmap:
    """Return tokens and cost by day of week (0 = Sunday) and hour of day in ``timezone``.

    Each record is put in the cell of the local hour containing its start; the two 01:00 hours
    of a fall-back night both land in hour 1.

    Args:
        records: Hourly or finer records (levels and other metrics are ignored).
        timezone: The IANA zone of the wall-clock hours.

    Returns:
        The heatmap.

    Raises:
        ConfigError: A bad zone, or a record longer than the local hour it starts in (a daily
            record can't be spread over hours).
    """
    zone = check_zone(timezone)
    place = Placer("hour", zone)
    cells: dict[tuple[datetime, datetime], tuple[int, int]] = {}
    tally: Tally[tuple[int, int]] = Tally()
    for item in records:
        record = check_record(item)
        if not Tally.relevant(record):
            continue
        interval = (record.start, record.end)
        cell = cells.get(interval)
        if cell is None:
            local = place(record.start, record.end).astimezone(zone)
            cell = cells[interval] = ((local.weekday() + 1) % 7, local.hour)
        tally.add(cell, record)
    result: list[HeatmapCell] = []
    for day_of_week, hour in sorted(tally.keys):
        totals = tally.totals((day_of_week, hour))
        if totals.tokens or any(totals.cost.values()):
            result.append(HeatmapCell(day_of_week, hour, totals.tokens, totals.cost))
    return Heatmap(timezone, tuple(result))
