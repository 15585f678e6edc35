"""How the HTML report, the notebook view and the plots write money, dates and text.

* **Money** is formatted from the exact ``Decimal`` (never a float), to the cent with thousands
  separators and its currency; a non-zero amount under half a cent reads ``< 0.01``, so that a
  ``0.00`` is always a real zero.
* **"-"** means "nothing reported".
* **Dates** are in words (``1 November 2026``), in UTC like every usagekit time.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

__all__ = [
    "DAY",
    "HOUR",
    "TICK",
    "WEEKDAYS",
    "day_words",
    "esc",
    "format_money",
    "midnight",
    "moment_words",
    "money_or_dash",
    "short_day",
    "span_words",
]

UTC = timezone.utc
DAY = timedelta(days=1)
"""One day."""
HOUR = timedelta(hours=1)
"""One hour."""
TICK = timedelta(microseconds=1)
"""The smallest step of a time: ``end - TICK`` is the last moment of a half-open span."""
_CENT = Decimal("0.005")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Short day names, Monday first."""


def format_money(amount: Decimal, currency: str | None = None) -> str:
    """Format an exact amount to the cent with thousands separators, e.g. ``1,234.50 USD``.

    A non-zero amount smaller than half a cent reads ``< 0.01`` (``> -0.01`` when negative),
    so that ``0.00`` always means a real zero.

    Args:
        amount: The exact amount.
        currency: The currency code appended, or None for the number alone.

    Returns:
        The text.
    """
    if amount and abs(amount) < _CENT:
        text = "< 0.01" if amount > 0 else "> -0.01"
    else:
        text = f"{amount:,.2f}"
    return text if currency is None else f"{text} {currency}"


def money_or_dash(amounts: Mapping[str, Decimal], currency: str) -> str:
    return format_money(amounts[currency]) if currency in amounts else "-"


def day_words(day: date) -> str:
    """``1 November 2026``."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1][:3]}"


def moment_words(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return day_words(moment.date())
    return f"{day_words(moment.date())}, {moment:%H:%M} UTC"


def span_words(start: datetime | None, end: datetime | None) -> str:
    """A half-open span in words, its end shown inclusively when it falls on a midnight."""
    if start is None:
        return "-"
    if end is None:
        return f"{moment_words(start)} to now"
    if midnight(start) and midnight(end) and end > start:
        last = (end - DAY).date()
        if last == start.date():
            return day_words(last)
        return f"{day_words(start.date())} to {day_words(last)}"
    return f"{moment_words(start)} to {moment_words(end)}"


def midnight(moment: datetime) -> bool:
    moment = moment.astimezone(UTC)
    return moment.hour == moment.minute == moment.second == moment.microsecond == 0


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)
