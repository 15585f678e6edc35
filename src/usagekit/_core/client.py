"""What every provider client shares: configuration, lifecycle, ``with_options``.

A provider client is a thin layer: its constructor resolves credentials and builds a
:class:`TransportConfig`; its methods describe requests as data and borrow the transport's verbs.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import SecretStr

from .errors import ConfigError
from .provider import BodyRetryHint
from .retry import RetryPolicy
from .transport import (
    DEFAULT_TIMEOUT,
    AsyncTransport,
    Transport,
    TransportConfig,
    validate_base_url,
)

__all__ = [
    "AsyncClientBase",
    "SyncClientBase",
    "build_config",
    "resolve_base_url",
    "resolve_secret",
    "resolve_setting",
]

DEFAULT_MAX_RETRIES = 2

C = TypeVar("C", bound="SyncClientBase")
AC = TypeVar("AC", bound="AsyncClientBase")


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
    timeout: float | httpx.Timeout | None = None,
    max_retries: int | None = None,
    retry: RetryPolicy | None = None,
    error_hints: Mapping[int, str] | None = None,
    max_pages: int | None = None,
    max_response_bytes: int | None = None,
    body_retry_hint: BodyRetryHint | None = None,
) -> TransportConfig:
    """Validate a client's arguments into a :class:`TransportConfig`.

    Raises:
        ConfigError: A malformed base URL (or one with a user name or password), timeout,
            retry count, page cap or response size cap.
    """
    config = TransportConfig(
        provider=provider,
        base_url=validate_base_url(base_url, provider=provider),
        credentials=dict(credentials),
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


def _derived_config(
    config: TransportConfig,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
    max_pages: int | None,
    adaptive_rate_limit: bool | None,
    max_response_bytes: int | None = None,
    body_retry_hint: BodyRetryHint | None = None,
) -> TransportConfig:
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


class _ClientCommon:
    provider: ClassVar[str]
    _transport: Transport | AsyncTransport

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


class SyncClientBase(_ClientCommon):
    """Base of the synchronous provider clients: a context manager owning its transport."""

    _transport: Transport

    def __init__(self, config: TransportConfig, *, http_client: httpx.Client | None = None) -> None:
        self._transport = Transport(config, http_client=http_client)

    def with_options(
        self: C,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        max_pages: int | None = None,
        adaptive_rate_limit: bool | None = None,
        max_response_bytes: int | None = None,
    ) -> C:
        """Return a copy with other options, sharing this client's connection pool.

        The copy does not own the pool: close the original when done.

        Args:
            timeout: Seconds per attempt (connect, send, redirects, headers and body: the
                attempt ends by then whatever the server does), or an ``httpx.Timeout``, whose
                largest value then bounds the attempt.
            max_retries: Retries after the first attempt.
            retry: A whole :class:`~usagekit.RetryPolicy`.
            max_pages: Page cap for one pagination walk.
            adaptive_rate_limit: Pace requests at a rate learned from the server's 429 hints
                (:class:`~usagekit.AdaptiveRateLimiter`): for bulk backfills against a rate
                limit, so that the walk does not hammer the server.
            max_response_bytes: The most bytes of one response body kept, counted after
                decompression (default 64 MiB); a larger body raises
                :class:`~usagekit.ResponseTooLargeError`.

        Returns:
            The copy.

        Raises:
            ConfigError: An invalid option.
        """
        clone = copy.copy(self)
        config = _derived_config(
            self.config,
            timeout,
            max_retries,
            retry,
            max_pages,
            adaptive_rate_limit,
            max_response_bytes,
        )
        clone._transport = self._transport.derive(config)
        return clone

    def close(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``)."""
        self._transport.close()

    def __enter__(self: C) -> C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClientBase(_ClientCommon):
    """Base of the asynchronous provider clients: an async context manager."""

    _transport: AsyncTransport

    def __init__(
        self, config: TransportConfig, *, http_client: httpx.AsyncClient | None = None
    ) -> None:
        self._transport = AsyncTransport(config, http_client=http_client)

    def with_options(
        self: AC,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        max_pages: int | None = None,
        adaptive_rate_limit: bool | None = None,
        max_response_bytes: int | None = None,
    ) -> AC:
        """Return a copy with other options, sharing this client's connection pool.

        See :meth:`SyncClientBase.with_options` for the options.

        Returns:
            The copy.

        Raises:
            ConfigError: An invalid option.
        """
        clone = copy.copy(self)
        config = _derived_config(
            self.config,
            timeout,
            max_retries,
            retry,
            max_pages,
            adaptive_rate_limit,
            max_response_bytes,
        )
        clone._transport = self._transport.derive(config)
        return clone

    async def aclose(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``)."""
        await self._transport.aclose()

    async def __aenter__(self: AC) -> AC:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
