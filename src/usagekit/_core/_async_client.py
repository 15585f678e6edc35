"""The base of every asynchronous provider client: lifecycle and ``with_options``.

A provider client is a thin layer: its constructor resolves credentials and builds a
:class:`~usagekit._core._http.TransportConfig` (:func:`~usagekit._core._config.build_config`); its
methods describe requests as data and borrow the transport's verbs.
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import TypeVar

import httpx

from ._async_transport import AsyncTransport
from ._config import ClientCommon, derived_config
from ._http import TransportConfig
from .retry import RetryPolicy

__all__ = ["AsyncClientBase"]

ClientT = TypeVar("ClientT", bound="AsyncClientBase")


class AsyncClientBase(ClientCommon):
    """Base of the asynchronous provider clients: a context manager owning its transport.

    Args:
        config: The provider's configuration.
        http_client: An ``httpx.AsyncClient`` to send with; its lifecycle then stays with the
            caller (closing this client leaves it open).
    """

    _transport: AsyncTransport

    def __init__(
        self, config: TransportConfig, *, http_client: httpx.AsyncClient | None = None
    ) -> None:
        self._transport = AsyncTransport(config, http_client=http_client)

    def with_options(
        self: ClientT,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        max_pages: int | None = None,
        adaptive_rate_limit: bool | None = None,
        max_response_bytes: int | None = None,
    ) -> ClientT:
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
        config = derived_config(
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

    async def __aenter__(self: ClientT) -> ClientT:
        """Enter the client's context.

        Returns:
            The client itself.
        """
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Leave the client's context, closing it (see :meth:`aclose`).

        Args:
            exc_type: The exception's type, if the block raised.
            exc: The exception, if the block raised.
            tb: Its traceback.
        """
        await self.aclose()
