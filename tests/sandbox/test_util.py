"""Helpers: ISO-8601 parsing and exact money in JSON."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit.sandbox._util import decimal_text, dumps, money, parse_iso8601

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-01", datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-04-01T00:00:00Z", datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-04-01T00:00:00.000Z", datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-04-01T02:30:00+02:30", datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-04-01T00:00:00.123456789-0100", datetime(2026, 4, 1, 1, 0, 0, 123456, tzinfo=UTC)),
        ("2026-04-01T05:06", datetime(2026, 4, 1, 5, 6, tzinfo=UTC)),
    ],
)
def test_parse_iso8601(text: str, expected: datetime) -> None:
    assert parse_iso8601(text) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2026-13-01", "2026-04-01T25:00:00Z", "1775000000"]
)
def test_parse_iso8601_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message names the text)
        parse_iso8601(text)


amounts = st.decimals(
    min_value=Decimal("-999999999.999999"),
    max_value=Decimal("999999999.999999"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)


@given(amounts)
def test_money_is_written_exactly_and_survives_a_float_parse(value: Decimal) -> None:
    text = dumps({"value": money(value)}).decode()
    assert not re.search("[0-9][eE]", text), text
    parsed = json.loads(text, parse_float=Decimal)["value"]
    assert Decimal(parsed) == value
    as_float = json.loads(text)["value"]
    assert Decimal(repr(float(as_float))) == value, "15 significant digits survive a float"


def test_money_rejects_what_a_float_cannot_carry() -> None:
    with pytest.raises(ValueError, match="6 decimal places"):
        money(Decimal("0.0000001"))
    with pytest.raises(ValueError, match="significant digits"):
        money(Decimal("12345678901.234567"))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("15.000000", "15"),
        ("0.120000", "0.12"),
        ("0.000001", "0.000001"),
        ("-0.000000", "0"),
        ("1E+3", "1000"),
    ],
)
def test_decimal_text(value: str, text: str) -> None:
    assert decimal_text(Decimal(value)) == text
