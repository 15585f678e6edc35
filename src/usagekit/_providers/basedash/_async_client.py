"""Basedash's asynchronous client: billable AI usage of an organization's current billing period.

One endpoint, ``GET /api/public/organizations/{orgId}/ai-usage``, bearer auth with an API key of
an organization admin. Its answer becomes cost records (see :func:`~._normalize.usage_records`):
one per member, plus one for whatever the members do not account for, so that the records
always add up to ``totalUsage``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import ClassVar

import httpx
from pydantic import SecretStr

from ..._core._config import config_from_info
from ..._core.client import AsyncClientBase
from ..._core.clock import TimeLike, Window, resolve_window
from ..._core.errors import ConfigError
from ..._core.records import UsageRecord
from ..._core.retry import RetryPolicy
from ..._core.transport import RequestSpec
from ._info import INFO, ORG_ID
from ._models import BasedashAIUsage
from ._normalize import usage_records
from ._requests import ai_usage_spec, check_org_id, default_org_id

__all__ = ["AsyncBasedashClient"]

_DAWN = datetime(1, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class _RecordsPlan:
    spec: RequestSpec
    org_id: str
    window: Window


class AsyncBasedashClient(AsyncClientBase):
    """Asynchronous Basedash client.

    Args:
        api_key: A Basedash API key of an organization admin; defaults to ``BASEDASH_API_KEY``.
        org_id: The default organization id; defaults to ``BASEDASH_ORG_ID``. It may also be
            passed to each call instead.
        base_url: The API's base URL; default ``BASEDASH_BASE_URL`` if set, else the public API.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.AsyncClient`` to use; the caller then closes it.

    Raises:
        ConfigError: No API key (the message names ``BASEDASH_API_KEY``), an empty org id, or
            a malformed option.
    """

    provider: ClassVar[str] = INFO.name

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        org_id: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        config = config_from_info(INFO, api_key, base_url, timeout, max_retries, retry)
        self._org_id = default_org_id(org_id)
        super().__init__(config, http_client=http_client)

    @property
    def org_id(self) -> str | None:
        """The default organization id (from ``org_id=`` or ``BASEDASH_ORG_ID``), or None."""
        return self._org_id

    async def ai_usage(self, org_id: str | None = None) -> BasedashAIUsage:
        """Get the billable AI usage of the current billing period.

        Args:
            org_id: The organization; defaults to the client's.

        Returns:
            The typed response.

        Raises:
            ConfigError: No organization id is known.
            NotFoundError: Organization not found, no admin access, or no billing period.
            AuthenticationError: The API key is missing or invalid.
            RateLimitError: Rate limited after retries (or the hint exceeded the cap).
            ServerError: Basedash failed after retries.
            ResponseValidationError: The body is not the documented shape.
        """
        spec = ai_usage_spec(self._resolve_org(org_id))
        return await self._transport.request(spec, BasedashAIUsage)

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        org_id: str | None = None,
    ) -> AsyncIterator[UsageRecord]:
        """Iterate the billing period's cost records: ``async for record in client.records()``.

        Arguments are checked at once; the request is sent when iteration starts.

        Args:
            start: Keep records whose interval ends after this; None for no lower bound.
            end: Keep records whose interval starts before this; None for no upper bound.
            org_id: The organization; defaults to the client's.

        Returns:
            An async iterator of records that sum to ``totalUsage``.

        Raises:
            ConfigError: A malformed window, ``start >= end``, or no organization id.
        """
        window = resolve_window(start, end, default_start=_DAWN)
        org = self._resolve_org(org_id)
        return self._iter_records(_RecordsPlan(ai_usage_spec(org), org, window))

    def _resolve_org(self, org_id: str | None) -> str:
        if org_id is not None:
            return check_org_id(org_id, origin="org_id")
        if self._org_id is None:
            raise ConfigError(
                f"{INFO.name}: org_id is required; pass org_id=... to the client or the call, "
                f"or set {ORG_ID.variable}"
            )
        return self._org_id

    async def _iter_records(self, plan: _RecordsPlan) -> AsyncIterator[UsageRecord]:
        usage = await self._transport.request(plan.spec, BasedashAIUsage)
        records = usage_records(usage, org_id=plan.org_id, window=plan.window)
        for record in records:  # unasync: remove
            yield record  # unasync: remove
        # unasync: sync yield from records
