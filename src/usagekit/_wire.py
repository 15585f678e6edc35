"""Building blocks for the providers' wire models (the JSON as sent, before normalization).

Wire models keep unknown fields (``extra="allow"``) so a provider adding a field never breaks a
user; they are separate from :class:`~usagekit.UsageRecord` and from the mapping between them.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

__all__ = ["ExactDecimal", "UTCDateTime", "UnixDateTime", "WireModel", "parse_utc_date"]

_UTC = timezone.utc


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are kept, known ones validated strictly enough."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


def _from_unix(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # let pydantic reject it
    if isinstance(value, (int, float, Decimal)):
        try:
            return datetime.fromtimestamp(float(value), _UTC)
        except (OverflowError, OSError, ValueError):
            # pydantic turns a ValueError into a ValidationError naming the field
            raise ValueError(f"unix time out of range: {value}") from None
    return value


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


def _exact(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact)]
"""A JSON number as an exact ``Decimal`` (a float arrives as its shortest repr, not its binary
expansion: 0.06 stays 0.06)."""


def parse_utc_date(value: date) -> datetime:
    """Midnight UTC of a date."""
    return datetime(value.year, value.month, value.day, tzinfo=_UTC)
