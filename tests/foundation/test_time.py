"""Time windows accept every documented form and reject bad ones before any request."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit import ConfigError, as_utc, resolve_window

UTC = timezone.utc
MIDNIGHT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 1), MIDNIGHT),  # naive means UTC
        (datetime(2026, 11, 1, 1, tzinfo=timezone(timedelta(hours=1))), MIDNIGHT),
        (date(2026, 11, 1), MIDNIGHT),
        (1793491200, MIDNIGHT),
        (1793491200.0, MIDNIGHT),
        ("2026-11-01", MIDNIGHT),
        ("2026-11-01T00:00:00Z", MIDNIGHT),
        ("2026-11-01T01:00:00+01:00", MIDNIGHT),
        ("2026-11-01T00:00", MIDNIGHT),
    ],
)
def test_every_form_becomes_aware_utc(value: Any, expected: datetime) -> None:
    result = as_utc(value)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-13-01", "", float("nan"), float("inf"), 10**20, True, None, [2026]],
)
def test_bad_forms_are_config_errors(value: Any) -> None:
    with pytest.raises(ConfigError):
        as_utc(value, name="start")


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-11-02", "2026-11-01"), ("2026-11-01", "2026-11-01"), (1793491200, "2026-11-01")],
)
def test_start_not_before_end_is_a_config_error(start: Any, end: Any) -> None:
    with pytest.raises(ConfigError, match="start must be before end"):
        resolve_window(start, end)


def test_open_end_and_default_start() -> None:
    window = resolve_window("2026-11-01", None)
    assert window.end is None and window.contains(datetime(2030, 1, 1, tzinfo=UTC))
    assert resolve_window(None, None, default_start=MIDNIGHT).start == MIDNIGHT
    with pytest.raises(ConfigError, match="start is required"):
        resolve_window(None, None)


@given(st.text(max_size=30))
def test_string_parsing_only_ever_raises_config_error(text: str) -> None:
    try:
        result = as_utc(text)
    except ConfigError:
        return
    assert result.tzinfo is UTC
