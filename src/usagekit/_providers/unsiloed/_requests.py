"""Unsiloed's requests: the transport configuration and the one request.

Everything here reads the provider's facts from :data:`~._info.INFO`; nothing does I/O.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from ..._core.client import build_config, resolve_base_url, resolve_secret
from ..._core.retry import RetryPolicy
from ..._core.transport import RequestSpec, TransportConfig
from ._info import API_KEY, INFO

__all__ = ["GET_USAGE", "SOURCE", "client_config"]

SOURCE = "get_usage"
"""The ``source`` of every Unsiloed record: the one endpoint."""

GET_USAGE = RequestSpec("/org/get_usage", SOURCE)
"""The ``get_usage`` request (it takes no parameters)."""


def client_config(
    api_key: str | SecretStr | None,
    base_url: str | httpx.URL | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
) -> TransportConfig:
    """Validate an Unsiloed client's arguments into its transport configuration.

    Args:
        api_key: The API key, else ``UNSILOED_API_KEY``; sent as the ``api-key`` header.
        base_url: The base URL, else ``UNSILOED_BASE_URL``, else the public backend.
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
        credentials={"api-key": key},
        timeout=timeout,
        max_retries=max_retries,
        retry=retry,
        error_hints=INFO.error_hints,
    )
