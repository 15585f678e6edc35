"""Basedash's registry entry."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ..._core.provider import ProviderInfo, Setting
from ..._core.retry import non_negative_finite

__all__ = ["API_KEY", "INFO", "ORG_ID", "retry_after_from_body"]

API_KEY = Setting("api_key", ("BASEDASH_API_KEY",))
"""The API key of an organization admin."""
ORG_ID = Setting("org_id", ("BASEDASH_ORG_ID",), secret=False)
"""The default organization id (each call may pass another)."""


def retry_after_from_body(body: Any) -> float | None:
    """Read Basedash's ``{"error": {"retryAfterMs": N}}`` as seconds.

    Args:
        body: The parsed JSON body (any shape).

    Returns:
        Seconds to wait, or None when absent, not a number, negative or not finite.
    """
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if not isinstance(error, Mapping):
        return None
    raw = error.get("retryAfterMs")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
        return None
    try:
        value = float(raw) / 1000.0
    except OverflowError:  # an int too large for a float
        return None
    return non_negative_finite(value)


INFO = ProviderInfo(
    name="basedash",
    display_name="Basedash",
    service_name="Basedash AI",
    client="BasedashClient",
    async_client="AsyncBasedashClient",
    settings=(API_KEY, ORG_ID),
    base_url="https://charts.basedash.com",
    base_url_env="BASEDASH_BASE_URL",
    error_hints=MappingProxyType(
        {
            401: "missing or invalid API key (pass api_key=... or set BASEDASH_API_KEY)",
            404: "organization not found, no admin access, or billing period unavailable",
        }
    ),
    current_period=True,
    body_retry_hint=retry_after_from_body,
    credential_help="an API key of an organization **admin**, and the organization's id",
    colour="#6d28d9",
    summary="AI usage of the current billing period, per member, in USD",
    docs_page="providers/basedash.md",
)
"""Basedash: an admin's API key and the organization id; only the current billing period."""
