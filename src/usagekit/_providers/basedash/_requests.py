"""Basedash's requests: the transport configuration, the organization id and the one request.

Everything here reads the provider's facts from :data:`~._info.INFO`; nothing does I/O.
"""

from __future__ import annotations

import os
import urllib.parse

import httpx
from pydantic import SecretStr

from ..._core.client import build_config, resolve_base_url, resolve_secret
from ..._core.errors import ConfigError
from ..._core.retry import RetryPolicy
from ..._core.transport import RequestSpec, TransportConfig
from ._info import API_KEY, INFO, ORG_ID

__all__ = ["SOURCE", "ai_usage_spec", "check_org_id", "client_config", "default_org_id"]

SOURCE = "ai_usage"
"""The ``source`` of every Basedash record: the one endpoint."""


def client_config(
    api_key: str | SecretStr | None,
    base_url: str | httpx.URL | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
) -> TransportConfig:
    """Validate a Basedash client's arguments into its transport configuration.

    Args:
        api_key: The API key, else ``BASEDASH_API_KEY``; sent as a bearer token.
        base_url: The base URL, else ``BASEDASH_BASE_URL``, else the public API.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy.

    Returns:
        The configuration.

    Raises:
        ConfigError: No API key, or a malformed option.
    """
    key = resolve_secret(api_key, API_KEY.variable, provider=INFO.name)
    return build_config(
        provider=INFO.name,
        base_url=resolve_base_url(base_url, INFO.base_url_env, INFO.base_url),
        credentials={"Authorization": SecretStr(f"Bearer {key.get_secret_value()}")},
        timeout=timeout,
        max_retries=max_retries,
        retry=retry,
        error_hints=INFO.error_hints,
        body_retry_hint=INFO.body_retry_hint,
    )


def check_org_id(value: str, *, origin: str) -> str:
    """Return an organization id stripped of surrounding blanks.

    Args:
        value: The id given.
        origin: Where it came from (``"org_id"`` or the environment variable), for messages.

    Returns:
        The id.

    Raises:
        ConfigError: It is empty, ``.`` or ``..``.
    """
    org_id = value.strip()
    if not org_id:
        raise ConfigError(f"{INFO.name}: {origin} must not be empty")
    if org_id in (".", ".."):
        raise ConfigError(f"{INFO.name}: {origin} is not an organization id: {org_id!r}")
    return org_id


def default_org_id(org_id: str | None) -> str | None:
    """The client's default organization: the argument, else ``BASEDASH_ORG_ID``, else None.

    Args:
        org_id: The ``org_id`` passed to the client, if any.

    Returns:
        The checked id, or None when neither gives one (a blank variable counts as unset).

    Raises:
        ConfigError: The argument or the variable is not an organization id.
    """
    if org_id is not None:
        return check_org_id(org_id, origin="org_id")
    from_env = os.environ.get(ORG_ID.variable)
    if from_env is None or not from_env.strip():
        return None
    return check_org_id(from_env, origin=ORG_ID.variable)


def ai_usage_spec(org_id: str) -> RequestSpec:
    """Describe the ``ai-usage`` request of one organization (the id is path-encoded).

    Args:
        org_id: The organization id, already checked.

    Returns:
        The request.
    """
    encoded = urllib.parse.quote(org_id, safe="")
    return RequestSpec(f"/api/public/organizations/{encoded}/ai-usage", SOURCE)
