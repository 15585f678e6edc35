"""FOCUS names: providers' display names, units in FOCUS Unit Format, billing periods.

What :mod:`usagekit._io.focus` writes in ``ProviderName``, ``ServiceName``, ``ConsumedUnit`` and
the billing period columns (see its docstring for the mapping).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from .._providers import PROVIDERS

__all__ = [
    "VENDOR_NAMES",
    "billing_period",
    "display_name",
    "focus_unit",
    "service_name",
    "service_subcategory",
]

UTC = timezone.utc

_DATA_SIZES = {
    "bit": "b",
    "bits": "b",
    "byte": "B",
    "bytes": "B",
    "kilobyte": "KB",
    "kilobytes": "KB",
    "megabyte": "MB",
    "megabytes": "MB",
    "gigabyte": "GB",
    "gigabytes": "GB",
    "terabyte": "TB",
    "terabytes": "TB",
    "petabyte": "PB",
    "petabytes": "PB",
    "kibibyte": "KiB",
    "kibibytes": "KiB",
    "mebibyte": "MiB",
    "mebibytes": "MiB",
    "gibibyte": "GiB",
    "gibibytes": "GiB",
    "tebibyte": "TiB",
    "tebibytes": "TiB",
    "pebibyte": "PiB",
    "pebibytes": "PiB",
    "kb": "KB",
    "mb": "MB",
    "gb": "GB",
    "tb": "TB",
    "pb": "PB",
    "kib": "KiB",
    "mib": "MiB",
    "gib": "GiB",
    "tib": "TiB",
    "pib": "PiB",
}
_UNIT_WORD = re.compile(r"[^A-Za-z0-9]+")


def display_name(provider: str) -> str:
    """Return a provider's display name (``"openai"`` -> ``"OpenAI"``).

    Args:
        provider: usagekit's provider key.

    Returns:
        The known display name, or the key title-cased (``"acme_ai"`` -> ``"Acme Ai"``).
    """
    info = PROVIDERS.get(provider)
    if info is not None:
        return info.display_name
    return " ".join(word.capitalize() for word in _UNIT_WORD.split(provider) if word)


def focus_unit(unit: str) -> str:
    """Write a provider's unit in FOCUS Unit Format.

    Args:
        unit: The provider's unit (``"tokens"``, ``"1000_tokens"``, ``"gibibyte_hours"``).

    Returns:
        ``"Tokens"``, ``"1000 Tokens"``, ``"GiB-Hours"``: data sizes abbreviated, other base
        units capitalized, base units joined by hyphens, a leading count kept as the unit
        quantity. A unit without any word becomes ``"Units"``.
    """
    words = [word for word in _UNIT_WORD.split(unit) if word]
    quantity = ""
    if words and words[0].isdigit():
        quantity = words.pop(0) + " "
    if not words:
        return "Units"
    parts = [_DATA_SIZES.get(word.lower()) or word[0].upper() + word[1:] for word in words]
    return quantity + "-".join(parts)


def billing_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Return the billing period of a charge (see the module docstring).

    Args:
        start: The charge period start, aware UTC.
        end: The charge period end (exclusive), aware UTC.

    Returns:
        The UTC calendar month holding ``start`` when ``end`` does not pass that month's end,
        else ``(start, end)``.
    """
    month_start = datetime(start.year, start.month, 1, tzinfo=UTC)
    if start.month == 12:
        month_end = datetime(start.year + 1, 1, 1, tzinfo=UTC)
    else:
        month_end = datetime(start.year, start.month + 1, 1, tzinfo=UTC)
    if end <= month_end:
        return month_start, month_end
    return start, end


def service_name(provider: str, name: str) -> str:
    """FOCUS ``ServiceName``: the provider's registry entry's, else its display name."""
    info = PROVIDERS.get(provider)
    return name if info is None else info.service_name


def service_subcategory(provider: str) -> str:
    """FOCUS ``ServiceSubcategory``: "Generative AI" for the model and assistant providers."""
    info = PROVIDERS.get(provider)
    generative = info is not None and info.generative
    return "Generative AI" if generative else "Other (AI and Machine Learning)"


VENDOR_NAMES = {i.model_vendor: i.display_name for i in PROVIDERS.values() if i.model_vendor}
"""A model vendor usagekit also reads directly, named as its own rows name it ("Anthropic")."""
