"""Unsiloed's registry entry."""

from __future__ import annotations

from types import MappingProxyType

from ..._core.provider import ProviderInfo, Setting

__all__ = ["API_KEY", "INFO"]

API_KEY = Setting("api_key", ("UNSILOED_API_KEY",))
"""The organization's API key, sent as the ``api-key`` header."""

INFO = ProviderInfo(
    name="unsiloed",
    display_name="Unsiloed",
    service_name="Unsiloed API",
    client="UnsiloedClient",
    async_client="AsyncUnsiloedClient",
    settings=(API_KEY,),
    base_url="https://platformbackend.unsiloed.ai/api/v1",
    base_url_env="UNSILOED_BASE_URL",
    error_hints=MappingProxyType(
        {
            401: "missing or invalid API key (pass api_key=... or set UNSILOED_API_KEY; "
            "sent as api-key)",
            404: "no organization belongs to this API key",
        }
    ),
    current_period=True,
    generative=False,
    credential_help="the organization's API key (`unsiloed_...`); the organization is the key's",
    colour="#dc2626",
    summary="credits used, the limit and the remaining quota of the current 30-day cycle",
    docs_page="providers/unsiloed.md",
)
"""Unsiloed: the organization's API key, sent as ``api-key``; only the current cycle."""
