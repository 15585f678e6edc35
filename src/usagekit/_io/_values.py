"""Exact text for the values of an export: times, decimals and JSON objects.

* Times are ISO 8601 in UTC with a ``Z`` suffix (``2026-11-01T00:00:00Z``; fractional seconds
  only when the time has them).
* Decimals are exact, in plain notation (``0.1000000000000000055511151231257827``, ``100``;
  never an exponent, never a float), so ``Decimal(text)`` gives back the same value.
* String mappings (a record's ``attributes``) are compact JSON with sorted keys
  (``{"batch":"false"}``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from .._core.errors import ExportError

__all__ = [
    "attributes_json",
    "format_decimal",
    "format_time",
    "json_object",
    "json_string",
    "parse_attributes",
    "parse_decimal",
    "parse_time",
    "trim_decimal",
]

UTC = timezone.utc


@functools.lru_cache(maxsize=4096)
def format_time(moment: datetime) -> str:
    """Return an aware datetime as ISO 8601 UTC with a ``Z`` suffix (cached: buckets repeat).

    Args:
        moment: An aware datetime.

    Returns:
        ``YYYY-MM-DDTHH:MM:SSZ``, with ``.ffffff`` before the ``Z`` when it has microseconds.

    Raises:
        ExportError: The datetime is naive.
    """
    text = moment.isoformat()
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    if moment.utcoffset() is None:
        raise ExportError(f"naive datetime {text!r} cannot be exported; times must be aware")
    return moment.astimezone(UTC).isoformat()[:-6] + "Z"


def parse_time(text: str, *, column: str | None = None) -> datetime:
    """Parse an ISO 8601 time with a UTC offset (``Z`` or ``+HH:MM``) into an aware UTC datetime.

    Args:
        text: The text.
        column: The column being parsed, for the error message.

    Returns:
        The aware datetime, in UTC.

    Raises:
        ExportError: The text is not ISO 8601 or has no offset.
    """
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise ExportError(f"not an ISO 8601 time: {text!r}", column=column) from None
    if parsed.utcoffset() is None:
        raise ExportError(f"time {text!r} has no UTC offset", column=column)
    return parsed.astimezone(UTC)


def format_decimal(value: Decimal) -> str:
    """Return a decimal in plain notation (no exponent), exactly.

    Args:
        value: A finite decimal.

    Returns:
        The text; ``Decimal(text) == value``.
    """
    return format(value, "f")


def parse_decimal(value: Any, *, column: str) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ExportError(f"not a decimal number: {value!r}", column=column) from None
    else:
        raise ExportError(
            f"expected a decimal string, got {type(value).__name__}: {value!r}", column=column
        )
    if not result.is_finite():
        raise ExportError(f"not a finite number: {value!r}", column=column)
    return result


def trim_decimal(value: Decimal) -> Decimal:
    """Drop the trailing fractional zeros a fixed-scale store adds (``1.500`` -> ``1.5``).

    Exact whatever the number of digits (no decimal context is involved).

    Args:
        value: A finite decimal.

    Returns:
        An equal decimal without trailing fractional zeros (``2.000`` -> ``2``).
    """
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return value
    keep = len(digits)
    while exponent < 0 and keep > 1 and digits[keep - 1] == 0:
        keep -= 1
        exponent += 1
    if keep == 1 and digits[0] == 0:
        exponent = 0
    return Decimal((sign, digits[:keep], exponent))


json_string: Callable[[str], str] = json.encoder.encode_basestring
"""JSON-encode one string without escaping non-ASCII (the C encoder when available)."""


def json_object(items: Iterable[tuple[str, str]]) -> str:
    """Return string pairs as a compact JSON object, in the given order.

    Same text as ``json.dumps(dict(items), ensure_ascii=False, separators=(",", ":"))``,
    without building the dict.

    Args:
        items: Key, value pairs.

    Returns:
        The JSON text.
    """
    encode = json_string
    return "{" + ",".join([encode(key) + ":" + encode(value) for key, value in items]) + "}"


def attributes_json(attributes: Mapping[str, str]) -> str:
    """Return attributes as compact JSON with sorted keys.

    Args:
        attributes: String to string.

    Returns:
        The JSON text (``{}`` when empty).
    """
    if not attributes:
        return "{}"
    return json_object(sorted(attributes.items()))


def parse_attributes(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ExportError(
                f"attributes is not valid JSON: {value!r}", column="attributes"
            ) from None
    if not isinstance(value, dict):
        raise ExportError(
            f"attributes must be a JSON object, got {type(value).__name__}", column="attributes"
        )
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ExportError(
                f"attributes must map strings to strings, got {key!r}: {item!r}",
                column="attributes",
            )
    return value
