"""Daramex's registry entry."""

from __future__ import annotations

from types import MappingProxyType

from ..._core.provider import ProviderInfo, Setting

__all__ = ["INFO"]

INFO = ProviderInfo(
    name="daramex",
    display_name="Daramex",
    service_name="Daramex AI Gateway",
    client="DaramexClient",
    async_client="AsyncDaramexClient",
    settings=(
        Setting("token", ("DARAMEX_TOKEN",)),
        Setting("org_id", ("DARAMEX_ORG_ID",), secret=False),
    ),
    base_url="https://api.daramex.app",
    base_url_env="DARAMEX_BASE_URL",
    error_hints=MappingProxyType(
        {
            400: "Daramex rejected the query parameters",
            401: "missing or invalid session token (pass token=... or set DARAMEX_TOKEN)",
            403: "the caller lacks read on ai.agent, or the token's organization does not match "
            "x-org-id",
        }
    ),
    credential_help=(
        "a session JWT allowed to read `ai.agent`, and the organization it belongs to "
        "(sent as `x-org-id`)"
    ),
    colour="#d97706",
    summary="token usage and cost time series by model or action, with analytics endpoints",
    docs_page="providers/daramex.md",
)
"""Daramex: a session token and the organization id (``x-org-id``)."""
