"""Anthropic's registry entry."""

from __future__ import annotations

from types import MappingProxyType

from ..._core.provider import ProviderInfo, Setting

__all__ = ["INFO"]

_ADMIN_KEY_HINT = (
    "The usage and cost reports need an Admin API key (sk-ant-admin...), which an organization "
    "admin creates in the Claude Console (Settings > Admin keys); a normal API key "
    "(sk-ant-api...) cannot read them. Pass api_key=... or set ANTHROPIC_ADMIN_KEY"
)

INFO = ProviderInfo(
    name="anthropic",
    display_name="Anthropic",
    service_name="Claude API",
    client="AnthropicClient",
    async_client="AsyncAnthropicClient",
    settings=(Setting("api_key", ("ANTHROPIC_ADMIN_KEY", "ANTHROPIC_ADMIN_API_KEY")),),
    base_url="https://api.anthropic.com",
    base_url_env="ANTHROPIC_BASE_URL",
    error_hints=MappingProxyType({401: _ADMIN_KEY_HINT, 403: _ADMIN_KEY_HINT}),
    credential_help=(
        "an **Admin** API key (`sk-ant-admin...`), which an organization admin creates in the "
        "Claude Console (Settings, Admin keys); `ANTHROPIC_ADMIN_API_KEY` is read too. A normal "
        "API key (`sk-ant-api...`) cannot read usage or costs: its 401/403 says so."
    ),
    model_vendor="anthropic",
    colour="#2563eb",
    summary="the Admin API's token usage, cost report (USD) and Claude Code usage per actor",
    docs_page="providers/anthropic.md",
)
"""Anthropic: an organization Admin API key, sent as ``x-api-key``."""
