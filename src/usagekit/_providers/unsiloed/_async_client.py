"""Unsiloed's asynchronous client: an organization's credits in the current billing cycle.

One endpoint, ``GET /org/get_usage``, authenticated with the ``api-key`` header. The cycle
starts at ``last_billed_date`` (00:00 UTC) and lasts 30 days. Credits used become a flow record;
the limit and the remaining quota become levels, so that nothing sums them over time (see
:func:`~._normalize.usage_records`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import ClassVar

import httpx
from pydantic import SecretStr

from ..._core._config import config_from_info
from ..._core.client import AsyncClientBase
from ..._core.clock import TimeLike, Window, resolve_window
from ..._core.records import UsageRecord
from ..._core.retry import RetryPolicy
from ._info import INFO
from ._models import UnsiloedUsage
from ._normalize import usage_records
from ._requests import GET_USAGE

__all__ = ["AsyncUnsiloedClient"]

_DAWN = datetime(1, 1, 1, tzinfo=timezone.utc)


class AsyncUnsiloedClient(AsyncClientBase):
    """Asynchronous Unsiloed client.

    Args:
        api_key: An Unsiloed API key (``unsiloed_...``); defaults to ``UNSILOED_API_KEY``.
        base_url: The platform backend; default ``UNSILOED_BASE_URL`` if set, else the public one.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.AsyncClient`` to use; the caller then closes it.

    Raises:
        ConfigError: No API key (the message names ``UNSILOED_API_KEY``) or a malformed option.
    """

    provider: ClassVar[str] = INFO.name

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        config = config_from_info(
            INFO,
            api_key,
            base_url,
            timeout,
            max_retries,
            retry,
            credentials=lambda key: {"api-key": key},
        )
        super().__init__(config, http_client=http_client)

    async def get_usage(self) -> UnsiloedUsage:
        """Get the organization's usage, limit and remaining quota.

        Returns:
            The typed response.

        Raises:
            AuthenticationError: The API key is missing or invalid (message from ``detail``).
            NotFoundError: No organization belongs to the key.
            ResponseValidationError: The body is not the documented shape.
        """
        return await self._transport.request(GET_USAGE, UnsiloedUsage)

    def records(
        self, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> AsyncIterator[UsageRecord]:
        """Iterate the cycle's records: ``async for record in client.records()``.

        Arguments are checked at once; the request is sent when iteration starts.

        Args:
            start: Keep records whose interval ends after this; None for no lower bound.
            end: Keep records whose interval starts before this; None for no upper bound.

        Returns:
            An async iterator of records.

        Raises:
            ConfigError: A malformed window or ``start >= end``.
        """
        return self._iter_records(resolve_window(start, end, default_start=_DAWN))

    async def _iter_records(self, window: Window) -> AsyncIterator[UsageRecord]:
        usage = await self._transport.request(GET_USAGE, UnsiloedUsage)
        for record in usage_records(usage, window=window):  # unasync: remove
            yield record  # unasync: remove
        # unasync: sync yield from usage_records(usage, window=window)
