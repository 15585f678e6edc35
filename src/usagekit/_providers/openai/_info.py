"""OpenAI's registry entry."""

from __future__ import annotations

from types import MappingProxyType

from ..._core.provider import ProviderInfo, Setting

__all__ = ["INFO"]

_ADMIN_KEY_HINT = (
    "The organization usage and costs endpoints need an organization admin key "
    "(sk-admin-...), which an organization owner creates at "
    "https://platform.openai.com/settings/organization/admin-keys; project and user API keys "
    "cannot read them. Pass api_key=... or set OPENAI_ADMIN_KEY"
)

INFO = ProviderInfo(
    name="openai",
    display_name="OpenAI",
    service_name="OpenAI API",
    client="OpenAIClient",
    async_client="AsyncOpenAIClient",
    settings=(Setting("api_key", ("OPENAI_ADMIN_KEY",)),),
    base_url="https://api.openai.com/v1",
    base_url_env="OPENAI_BASE_URL",
    error_hints=MappingProxyType({401: _ADMIN_KEY_HINT, 403: _ADMIN_KEY_HINT}),
    summary="the organization usage endpoints (tokens, requests, images, audio, ...) and costs",
    docs_page="providers/openai.md",
)
"""OpenAI: an organization admin key, sent as ``Authorization: Bearer``."""
