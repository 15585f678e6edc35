"""Building blocks for the providers' wire models (the JSON as sent, before normalization).

Wire models keep unknown fields (``extra="allow"``) so a provider adding a field never breaks a
user; they are separate from :class:`~usagekit.UsageRecord` and from the mapping between them.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from dateutil.parser import isoparse
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

__all__ = [
    "EXACT",
    "EXACT_DIGITS",
    "Count",
    "ExactDecimal",
    "NonNegativeDecimal",
    "UTCDateTime",
    "UnixDateTime",
    "WireModel",
    "exact_sum",
    "parse_iso_day",
    "parse_utc_date",
]

_UTC = timezone.utc


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are kept, known ones validated strictly enough."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


_MOMENTS: dict[int, datetime] = {}
"""Unix seconds (an ``int``) -> its aware UTC datetime: every endpoint of a walk sends the same
bucket boundaries, so each is converted once (datetimes are immutable, sharing one is safe)."""
_MOMENTS_HELD = 4096
"""The most moments kept (a few hundred KB); past it the table starts again. A walk reads its
endpoints' pages turn by turn over the same span, and a page holds at most 1,440 buckets."""


def _from_unix(value: Any) -> Any:
    if type(value) is int:
        moment = _MOMENTS.get(value)
        if moment is None:
            moment = _unix_moment(value)
            if len(_MOMENTS) >= _MOMENTS_HELD:
                _MOMENTS.clear()
            _MOMENTS[value] = moment
        return moment
    if isinstance(value, bool):
        return value  # let pydantic reject it
    if isinstance(value, (int, float, Decimal)):
        return _unix_moment(value)
    return value


def _unix_moment(value: int | float | Decimal) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), _UTC)
    except (OverflowError, OSError, ValueError):
        # pydantic turns a ValueError into a ValidationError naming the field
        raise ValueError(f"unix time out of range: {value}") from None


def _to_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    return value


UnixDateTime = Annotated[
    datetime,
    BeforeValidator(_from_unix),
    PlainSerializer(lambda v: int(v.timestamp()), return_type=int),
]
"""Unix seconds on the wire, an aware UTC datetime in Python."""


UTCDateTime = Annotated[datetime, AfterValidator(_to_utc)]
"""An ISO-8601 date-time on the wire (naive taken as UTC), an aware UTC datetime in Python."""


EXACT_DIGITS = 1000
"""The most significant digits, and the largest power of ten either way, of an exact number
on the wire. Far beyond any real amount; it keeps exact sums cheap (a hostile ``1e999999999``
would otherwise make adding one cent allocate a billion digits)."""

EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.Inexact],
)
"""The context of every sum and difference of wire amounts: never rounds (the default context
rounds at 28 digits), and raises ``decimal.Inexact`` rather than round."""


def exact_sum(values: Iterable[Decimal], start: Decimal | int = 0) -> Decimal:
    """Return ``start`` plus every value, exactly, whatever their precision.

    Args:
        values: The amounts to add (each within :data:`EXACT_DIGITS`, as wire models ensure).
        start: What to add them to.

    Returns:
        The exact sum.
    """
    with decimal.localcontext(EXACT):
        return sum(values, Decimal(start))


def _exact(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _bounded(value: Decimal) -> Decimal:
    digits, exponent = value.as_tuple()[1:]
    if len(digits) > EXACT_DIGITS:
        raise ValueError(f"more than {EXACT_DIGITS} significant digits")
    if not isinstance(exponent, int) or abs(exponent) > EXACT_DIGITS:
        raise ValueError(f"the exponent is beyond +/-{EXACT_DIGITS}")
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact), AfterValidator(_bounded)]
"""A JSON number as an exact ``Decimal`` (a float arrives as its shortest repr, not its binary
expansion: 0.06 stays 0.06), at any precision up to :data:`EXACT_DIGITS` digits."""

NonNegativeDecimal = Annotated[ExactDecimal, Field(ge=0)]
"""An exact amount the provider documents (or that is by nature) never negative."""


_COUNT_LIMIT = 10**EXACT_DIGITS


def _count(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A count's checks in one call (pydantic's constraint chain costs several times more).

    An ``int`` in range (every count on the wire) is taken as it is; anything else is refused
    if a boolean, else validated as a lax ``int`` >= 0 and held under ``10**EXACT_DIGITS``.

    Args:
        value: The value on the wire.
        handler: pydantic's own ``int`` validation with ``ge=0``.

    Returns:
        The count.

    Raises:
        ValueError: A boolean, more than :data:`EXACT_DIGITS` digits, or an exponent beyond
            them (pydantic reports it with the field's location).
    """
    if type(value) is int and 0 <= value < _COUNT_LIMIT:
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, Decimal) and value and value.is_finite():  # before int() builds it
        if value.adjusted() >= EXACT_DIGITS:
            raise ValueError(f"more than {EXACT_DIGITS} digits")
        if value.as_tuple().exponent < -EXACT_DIGITS:  # type: ignore[operator]
            raise ValueError(f"the exponent is beyond +/-{EXACT_DIGITS}")
    result = handler(value)
    if not result < _COUNT_LIMIT:
        raise ValueError(f"more than {EXACT_DIGITS} digits")
    return result


Count = Annotated[int, Field(ge=0), WrapValidator(_count)]
"""A count (tokens, requests, images, seconds, bytes, ...): a non-negative JSON integer of at
most :data:`EXACT_DIGITS` digits, booleans rejected."""


def parse_iso_day(value: Any) -> date:
    """Read a day sent as ``YYYY-MM-DD``, or as an ISO-8601 date-time taken as its UTC day.

    A date-time (``2026-09-01 00:00:00``, ``2026-09-01T00:00:00Z``) is read as its calendar day
    in UTC; a naive one is taken as UTC. A ``date`` or ``datetime`` is read the same way.
    Numbers are refused: a date is not an instant.

    Args:
        value: The raw JSON value.

    Returns:
        The day.

    Raises:
        ValueError: Not a string, not an ISO-8601 date or date-time, or a date-time whose UTC
            day is beyond the calendar (``0001-01-01T00:00:00+01:00``: ``date out of range``),
            which a model reports as an invalid field.
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


def parse_utc_date(value: date) -> datetime:
    """Midnight UTC of a date."""
    return datetime(value.year, value.month, value.day, tzinfo=_UTC)
