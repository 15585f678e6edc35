"""OpenRouter's registry entry."""

from __future__ import annotations

from types import MappingProxyType

from ..._core.provider import ProviderInfo, Setting

__all__ = ["INFO", "MANAGEMENT_KEY_HINT"]

MANAGEMENT_KEY_HINT = (
    "OpenRouter's activity and credits endpoints need a management API key, which an account "
    "owner creates at https://openrouter.ai/settings/management-keys; a normal (inference) key "
    "cannot read them, and both kinds start with sk-or-v1-, so the prefix does not tell them "
    "apart. Pass api_key=... or set OPENROUTER_MANAGEMENT_KEY (OPENROUTER_API_KEY is read only "
    "when it is unset, and often holds a normal key)"
)
"""The guidance added to a 403 (and a 401): the key is not a management key."""

INFO = ProviderInfo(
    name="openrouter",
    display_name="OpenRouter",
    service_name="OpenRouter API",
    client="OpenRouterClient",
    async_client="AsyncOpenRouterClient",
    settings=(Setting("api_key", ("OPENROUTER_MANAGEMENT_KEY", "OPENROUTER_API_KEY")),),
    base_url="https://openrouter.ai/api/v1",
    base_url_env="OPENROUTER_BASE_URL",
    error_hints=MappingProxyType(
        {
            401: "missing or invalid key: " + MANAGEMENT_KEY_HINT,
            403: MANAGEMENT_KEY_HINT,
            404: "not found (a workspace_id that is not one of this account's workspaces?)",
        }
    ),
    credential_help=(
        "a **management** key (openrouter.ai/settings/management-keys); `OPENROUTER_API_KEY` "
        "is read too, but an inference key cannot read activity: its 403 says so."
    ),
    publisher_attribute="model_vendor",
    colour="#db2777",
    summary="daily activity per model and provider endpoint (USD, BYOK apart, tokens, requests) "
    "of the last 30 completed UTC days, and the account's credit totals",
    docs_page="providers/openrouter.md",
)
"""OpenRouter: a management API key, sent as ``Authorization: Bearer``."""
