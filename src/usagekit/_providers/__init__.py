"""The provider registry: one :class:`~usagekit._core.provider.ProviderInfo` per provider.

Adding a provider is one folder here (the same files as every other provider, see
``docs/contributing/adding-a-provider.md``) and one line in :data:`PROVIDERS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from .._core.errors import ConfigError
from .._core.provider import ProviderInfo
from .._core.retry import parse_retry_after as core_parse_retry_after
from .anthropic._info import INFO as _ANTHROPIC
from .basedash._info import INFO as _BASEDASH
from .daramex._info import INFO as _DARAMEX
from .openai._info import INFO as _OPENAI
from .openrouter._info import INFO as _OPENROUTER
from .unsiloed._info import INFO as _UNSILOED

__all__ = ["PROVIDERS", "parse_retry_after", "provider_info"]

PROVIDERS: Mapping[str, ProviderInfo] = MappingProxyType(
    {info.name: info for info in (_OPENAI, _BASEDASH, _UNSILOED, _DARAMEX, _ANTHROPIC, _OPENROUTER)}
)
"""Every provider usagekit reads, by name, in the order reports and the docs list them."""


def provider_info(name: str) -> ProviderInfo:
    """Return the registry entry of ``name``.

    Args:
        name: A provider name (``"openai"``, ...).

    Returns:
        Its entry.

    Raises:
        ConfigError: No provider has that name (the message lists the known ones).
    """
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(PROVIDERS)
        raise ConfigError(f"unknown provider {name!r}; known providers: {known}") from None


def parse_retry_after(
    headers: Mapping[str, str], body: Any = None, *, now: datetime | None = None
) -> float | None:
    """Return the server's retry hint in seconds, in usagekit's order of precedence.

    The headers first (``retry-after-ms``, then ``Retry-After`` as seconds or an HTTP-date),
    then a hint in the JSON body in the shape of any provider that sends one (Basedash's
    ``{"error": {"retryAfterMs": N}}``).

    Args:
        headers: Response headers.
        body: The parsed JSON body, if any.
        now: The current time, for HTTP-dates.

    Returns:
        Seconds, or None when the server gave no usable hint. Never raises.
    """
    return core_parse_retry_after(headers, body, now=now, body_hint=_any_body_hint)


def _any_body_hint(body: Any) -> float | None:
    """The first retry hint any provider's body reader finds in ``body``."""
    for info in PROVIDERS.values():
        if info.body_retry_hint is not None:
            hint = info.body_retry_hint(body)
            if hint is not None:
                return hint
    return None
