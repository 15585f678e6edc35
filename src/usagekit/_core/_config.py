"""A client's configuration: credentials, base URL and options resolved into a TransportConfig.

Every provider client's constructor goes through :func:`config_from_info` (its provider's
:class:`~usagekit._core.provider.ProviderInfo` read into :func:`build_config`); ``with_options``
through :func:`derived_config`. :class:`ClientCommon` holds what the sync and the async client bases
share (their ``base_url``, ``config`` and ``repr``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from ._http import DEFAULT_TIMEOUT, TransportConfig, validate_base_url
from ._sansio import TransportCore
from .errors import ConfigError
from .provider import BodyRetryHint, ProviderInfo
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "ClientCommon",
    "bearer",
    "build_config",
    "config_from_info",
    "derived_config",
    "resolve_base_url",
    "resolve_secret",
    "resolve_setting",
]

DEFAULT_MAX_RETRIES = 2
"""Retries after the first attempt unless the caller says otherwise."""


def resolve_secret(
    value: str | SecretStr | None, env_var: str, *, provider: str, argument: str = "api_key"
) -> SecretStr:
    """Return a credential from the argument, else from the environment.

    Args:
        value: The credential passed by the caller, if any.
        env_var: The environment variable to read when ``value`` is None.
        provider: Provider name, for the error message.
        argument: The constructor argument's name, for the error message.

    Returns:
        The credential as a ``SecretStr``.

    Raises:
        ConfigError: Neither is set (the message names the variable).
    """
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if raw is None:
        raw = os.environ.get(env_var)
    if raw is None or not raw.strip():
        raise ConfigError(f"{provider}: no credential; pass {argument}=... or set {env_var}")
    return SecretStr(raw.strip())


def resolve_base_url(value: str | httpx.URL | None, env_var: str, default: str) -> str | httpx.URL:
    """Return the base URL: the argument, else the environment variable, else the default.

    Args:
        value: The ``base_url`` passed by the caller, if any.
        env_var: The environment variable that may override the default
            (``OPENAI_BASE_URL``, ...): handy for proxies and for pointing any code at the sandbox.
        default: The provider's public API.

    Returns:
        The URL to validate and use.
    """
    if value is not None:
        return value
    return os.environ.get(env_var, "").strip() or default


def resolve_setting(value: str | None, env_var: str, *, provider: str, argument: str) -> str:
    """Return a required setting (such as an organization id) from the argument or environment.

    Args:
        value: The value passed by the caller, if any.
        env_var: The environment variable to read when ``value`` is None.
        provider: Provider name, for the error message.
        argument: The constructor argument's name, for the error message.

    Returns:
        The setting, stripped.

    Raises:
        ConfigError: Neither is set (the message names the variable).
    """
    raw = value if value is not None else os.environ.get(env_var)
    if raw is None or not raw.strip():
        raise ConfigError(
            f"{provider}: {argument} is required; pass {argument}=... or set {env_var}"
        )
    return raw.strip()


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError("timeout must be a positive number of seconds or an httpx.Timeout")
    return httpx.Timeout(float(value))


def _retry_policy(max_retries: int | None, retry: RetryPolicy | None) -> RetryPolicy:
    policy = retry or RetryPolicy(max_retries=DEFAULT_MAX_RETRIES)
    if max_retries is None:
        return policy
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigError("max_retries must be an integer >= 0")
    return dataclasses.replace(policy, max_retries=max_retries)


def build_config(
    *,
    provider: str,
    base_url: str | httpx.URL,
    credentials: Mapping[str, SecretStr],
    headers: Mapping[str, str] | None = None,
    timeout: float | httpx.Timeout | None = None,
    max_retries: int | None = None,
    retry: RetryPolicy | None = None,
    error_hints: Mapping[int, str] | None = None,
    max_pages: int | None = None,
    max_response_bytes: int | None = None,
    body_retry_hint: BodyRetryHint | None = None,
) -> TransportConfig:
    """Validate a client's arguments into a :class:`TransportConfig`.

    Args:
        provider: Provider name used in errors and logs.
        base_url: The API's base URL (see :func:`validate_base_url`).
        credentials: Header name to secret value, sent only to the base URL's origin.
        headers: Other headers, not secret (an API version), sent with the credentials.
        timeout: Seconds per attempt, or an ``httpx.Timeout``; None for the default.
        max_retries: Retries after the first attempt; None for the policy's (2 by default).
        retry: A whole retry policy; None for the default.
        error_hints: Extra guidance appended to an error's text, by status code.
        max_pages: Page cap for one pagination walk; None for the default.
        max_response_bytes: The most bytes of one body kept; None for the default (64 MiB).
        body_retry_hint: Reads a retry hint from the provider's error bodies, if it sends one.

    Returns:
        The configuration.

    Raises:
        ConfigError: A malformed base URL (or one with a user name or password), timeout,
            retry count, page cap or response size cap.
    """
    config = TransportConfig(
        provider=provider,
        base_url=validate_base_url(base_url, provider=provider),
        credentials=dict(credentials),
        headers=dict(headers or {}),
        timeout=_timeout(timeout),
        retry=_retry_policy(max_retries, retry),
        error_hints=dict(error_hints or {}),
        body_retry_hint=body_retry_hint,
    )
    changes: dict[str, Any] = {}
    if max_pages is not None:
        changes["max_pages"] = max_pages
    if max_response_bytes is not None:
        changes["max_response_bytes"] = max_response_bytes
    return dataclasses.replace(config, **changes) if changes else config


def bearer(key: SecretStr) -> dict[str, SecretStr]:
    """The ``Authorization: Bearer <key>`` header.

    Args:
        key: The credential.

    Returns:
        The header, its value secret.
    """
    return {"Authorization": SecretStr(f"Bearer {key.get_secret_value()}")}


def config_from_info(
    info: ProviderInfo,
    credential: str | SecretStr | None,
    base_url: str | httpx.URL | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
    *,
    credentials: Callable[[SecretStr], Mapping[str, SecretStr]] = bearer,
    headers: Mapping[str, str] | None = None,
) -> TransportConfig:
    """Build a client's configuration from its provider's facts and the caller's arguments.

    The credential is the argument, else the first of its setting's environment variables
    (:attr:`~usagekit._core.provider.Setting.env`, the documented one first) that is not blank;
    the base URL the argument, else ``info.base_url_env``, else ``info.base_url``. The error
    hints and the body retry hint are the provider's.

    Args:
        info: The provider's registry entry; its credential is ``info.credential``.
        credential: The credential passed by the caller, if any.
        base_url: The ``base_url`` passed by the caller, if any.
        timeout: Seconds per attempt, or an ``httpx.Timeout``; None for the default.
        max_retries: Retries after the first attempt; None for the policy's.
        retry: A whole retry policy; None for the default.
        credentials: The secret headers made from the credential (default
            ``Authorization: Bearer``); sent only to the base URL's origin.
        headers: Other headers, not secret (an API version).

    Returns:
        The configuration.

    Raises:
        ConfigError: No credential (the message names the documented variable and the
            argument), or a malformed option.
    """
    setting = info.credential
    if credential is None:  # the documented variable first, then the fallback names
        credential = setting.from_environment()
    key = resolve_secret(
        credential, setting.variable, provider=info.name, argument=setting.argument
    )
    return build_config(
        provider=info.name,
        base_url=resolve_base_url(base_url, info.base_url_env, info.base_url),
        credentials=credentials(key),
        headers=headers,
        timeout=timeout,
        max_retries=max_retries,
        retry=retry,
        error_hints=info.error_hints,
        body_retry_hint=info.body_retry_hint,
    )


def derived_config(
    config: TransportConfig,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
    max_pages: int | None,
    adaptive_rate_limit: bool | None,
    max_response_bytes: int | None = None,
) -> TransportConfig:
    """A client's configuration with the options of ``with_options`` applied.

    Args:
        config: The configuration to start from.
        timeout: Seconds per attempt, or an ``httpx.Timeout``; None keeps it.
        max_retries: Retries after the first attempt; None keeps them.
        retry: A whole retry policy; None keeps it.
        max_pages: Page cap for one pagination walk; None keeps it.
        adaptive_rate_limit: Pace requests by the server's 429 hints; None keeps it.
        max_response_bytes: The most bytes of one body kept; None keeps it.

    Returns:
        The new configuration.

    Raises:
        ConfigError: An invalid option.
    """
    changes: dict[str, Any] = {}
    if max_response_bytes is not None:
        changes["max_response_bytes"] = max_response_bytes
    if adaptive_rate_limit is not None:
        changes["adaptive_rate_limit"] = adaptive_rate_limit
    if timeout is not None:
        changes["timeout"] = _timeout(timeout)
    if retry is not None or max_retries is not None:
        changes["retry"] = _retry_policy(max_retries, retry or config.retry)
    if max_pages is not None:
        changes["max_pages"] = max_pages
    return dataclasses.replace(config, **changes)


class ClientCommon:
    """What the sync and the async client bases share: the transport's config and base URL."""

    provider: ClassVar[str]
    _transport: TransportCore

    @property
    def base_url(self) -> httpx.URL:
        """The base URL requests are sent to."""
        return self._transport.config.base_url

    @property
    def config(self) -> TransportConfig:
        """The transport configuration (credentials hidden in its repr)."""
        return self._transport.config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r})"
