"""heatmap: 7 x 24 cells by day of week (0 = Sunday) and wall-clock hour in a zone."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from usagekit import ConfigError
from usagekit.analytics import heatmap

from ._helpers import at, record

NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("zone", "start", "end", "cell"),
    [
        (NEW_YORK, "2026-03-09T13:00Z", None, (1, 9)),  # Monday 09:00 EDT
        (NEW_YORK, "2026-03-08T06:00Z", None, (0, 1)),  # Sunday 01:00 EST
        (NEW_YORK, "2026-03-08T07:00Z", None, (0, 3)),  # Sunday 03:00 EDT (02:00 skipped)
        (NEW_YORK, "2026-03-14T04:30Z", "2026-03-14T05:00Z", (6, 0)),  # Saturday 00:30 EDT
        (NEW_YORK, "2026-03-14T03:00Z", None, (5, 23)),  # still Friday 23:00 in New York
        ("UTC", "2026-03-14T03:00Z", None, (6, 3)),  # ... but Saturday in UTC
        ("Asia/Kolkata", "2026-01-01T04:30Z", None, (4, 10)),  # Thursday 10:00 IST
        ("Australia/Sydney", "2026-04-04T15:00Z", None, (0, 2)),  # Sunday 02:00 AEDT
        ("Australia/Sydney", "2026-04-04T16:00Z", None, (0, 2)),  # Sunday 02:00 AEST again
        ("Pacific/Chatham", "2026-01-04T00:15Z", "2026-01-04T00:45Z", (0, 14)),  # +13:45
    ],
)
def test_cell_positions_in_the_zone(
    zone: str, start: str, end: str | None, cell: tuple[int, int]
) -> None:
    result = heatmap([record(start, end, quantity=7)], timezone=zone)
    assert [(c.day_of_week, c.hour, c.tokens) for c in result.cells] == [(*cell, Decimal(7))]
    # Cross-check against the standard library's own calendar: isoweekday() is 7 on Sunday.
    local = at(start).astimezone(ZoneInfo(zone))
    assert cell == (local.isoweekday() % 7, local.hour)
    grid = result.tokens_grid()
    assert len(grid) == 7 and all(len(row) == 24 for row in grid)
    assert grid[cell[0]][cell[1]] == 7 and sum(sum(row) for row in grid) == 7


def test_the_repeated_hour_of_fall_back_sums_into_one_cell() -> None:
    records = [
        record("2026-11-01T05:00Z", quantity=1),  # 01:00 EDT
        record("2026-11-01T06:00Z", quantity=2),  # 01:00 EST
        record("2026-11-01T06:00Z", metric="cost", quantity="0.5"),
        record("2026-11-01T07:00Z", metric="cost", quantity="0.25", unit="EUR"),  # 02:00 EST
    ]
    result = heatmap(records, timezone=NEW_YORK)
    assert [(c.day_of_week, c.hour, c.tokens, dict(c.cost)) for c in result.cells] == [
        (0, 1, Decimal(3), {"USD": Decimal("0.5")}),
        (0, 2, Decimal(0), {"EUR": Decimal("0.25")}),
    ]
    assert result.cost_grid("USD")[0][1] == Decimal("0.5")
    assert result.cost_grid("EUR")[0][2] == Decimal("0.25")
    assert result.cost_grid("GBP") == tuple((Decimal(0),) * 24 for _ in range(7))


def test_cells_are_sparse_and_ordered() -> None:
    records = [
        record("2026-03-10T15:00Z", quantity=1),  # Tuesday 15:00 UTC
        record("2026-03-08T09:00Z", quantity=1),  # Sunday 09:00
        record("2026-03-15T09:00Z", quantity=1),  # the next Sunday 09:00
        record("2026-03-09T09:00Z", quantity=0),  # zero usage: omitted
        record("2026-03-09T10:00Z", metric="output_tokens", quantity=4, kind="level"),
    ]
    result = heatmap(records)
    assert [(c.day_of_week, c.hour, int(c.tokens)) for c in result.cells] == [
        (0, 9, 2),
        (2, 15, 1),
    ]
    assert result.timezone == "UTC"


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        ("UTC", "2026-03-09T00:00Z", "2026-03-10T00:00Z"),  # a daily record
        ("UTC", "2026-03-09T00:30Z", "2026-03-09T01:30Z"),  # an hour across an hour boundary
        ("Asia/Kolkata", "2026-01-01T04:00Z", "2026-01-01T05:00Z"),  # a UTC hour in IST
    ],
)
def test_coarser_records_are_refused(zone: str, start: str, end: str) -> None:
    with pytest.raises(ConfigError, match="can't be split"):
        heatmap([record(start, end)], timezone=zone)


def test_bad_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown IANA time zone"):
        heatmap([], timezone="Europe/Atlantis")
