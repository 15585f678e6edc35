"""OpenAI's registry entry: the facts both clients read (base URL, environment, error hints)."""

from __future__ import annotations

from types import MappingProxyType

from ..._core.provider import ProviderInfo, Setting

__all__ = ["DEFAULT_BASE_URL", "ENV_VAR", "INFO"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
"""OpenAI's API root; the endpoints live under ``/organization``."""

ENV_VAR = "OPENAI_ADMIN_KEY"
"""The environment variable the admin key is read from when ``api_key`` is not given."""

_ADMIN_KEY_HINT = (
    "The organization usage and costs endpoints need an organization admin key "
    "(sk-admin-...), which an organization owner creates at "
    "https://platform.openai.com/settings/organization/admin-keys; project and user API keys "
    f"cannot read them. Pass api_key=... or set {ENV_VAR}"
)

INFO = ProviderInfo(
    name="openai",
    display_name="OpenAI",
    service_name="OpenAI API",
    client="OpenAIClient",
    async_client="AsyncOpenAIClient",
    settings=(Setting("api_key", (ENV_VAR,)),),
    base_url=DEFAULT_BASE_URL,
    base_url_env="OPENAI_BASE_URL",
    error_hints=MappingProxyType({401: _ADMIN_KEY_HINT, 403: _ADMIN_KEY_HINT}),
    credential_help=(
        "an organization **admin** key (`sk-admin-...`), which an organization owner "
        "creates at [platform.openai.com/settings/organization/admin-keys]"
        "(https://platform.openai.com/settings/organization/admin-keys). Project and user keys "
        "(`sk-proj-...`) cannot read usage or costs: they get 401/403, and the error says so."
    ),
    model_vendor="openai",
    colour="#0f766e",
    summary="the organization usage endpoints (tokens, requests, images, audio, ...) and costs",
    docs_page="providers/openai.md",
)
"""OpenAI: an organization admin key, sent as ``Authorization: Bearer``."""
