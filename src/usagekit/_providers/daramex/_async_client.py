"""The Daramex client: the five org usage analytics endpoints, typed, and their records.

The async client is written by hand and the sync one generated from it by
``scripts/unasync.py``. Everything that does no I/O lives beside them (``_requests.py``,
``_models.py``, ``_normalize.py``), so the two only differ in awaiting the transport; the sync
one also has ``sync_records``, for :func:`usagekit.sync`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar

import httpx
from pydantic import SecretStr

from ..._core._config import bearer, config_from_info
from ..._core.client import AsyncClientBase
from ..._core.clock import TimeLike
from ..._core.records import UsageRecord
from ..._core.retry import RetryPolicy
from ._info import INFO
from ._models import (
    DaramexAction,
    DaramexCacheSavings,
    DaramexGranularity,
    DaramexGroupBy,
    DaramexHeatmap,
    DaramexModelEfficiency,
    DaramexProjectionInsufficientData,
    DaramexProjectionOk,
    DaramexSource,
    DaramexTimeSeries,
    ProjectionStatus,
    projection_type,
)
from ._normalize import plan_records
from ._requests import (
    RecordsPlan,
    cache_savings_spec,
    heatmap_spec,
    model_efficiency_spec,
    projection_spec,
    records_plan,
    resolve_org_id,
    time_series_spec,
)

# unasync: sync from ._requests import SyncRecords

__all__ = ["AsyncDaramexClient"]


# unasync: sync class DaramexClient(SyncRecords, SyncClientBase):
class AsyncDaramexClient(AsyncClientBase):  # unasync: remove
    """Asynchronous Daramex org usage analytics client.

    Args:
        token: A session JWT; defaults to ``DARAMEX_TOKEN``.
        org_id: The organization, sent as ``x-org-id``; defaults to ``DARAMEX_ORG_ID``.
        base_url: The API's base URL; default ``DARAMEX_BASE_URL`` if set, else the public API.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.AsyncClient`` to use; the caller then closes it.

    Raises:
        ConfigError: No token or organization (the message names the variable to set), or a
            malformed option.
    """

    provider: ClassVar[str] = INFO.name

    def __init__(
        self,
        token: str | SecretStr | None = None,
        *,
        org_id: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._org_id = resolve_org_id(org_id)
        org = {"x-org-id": SecretStr(self._org_id)}  # a credential too: sent to no other origin
        config = config_from_info(
            INFO,
            token,
            base_url,
            timeout,
            max_retries,
            retry,
            credentials=lambda secret: {**bearer(secret), **org},
        )
        super().__init__(config, http_client=http_client)

    @property
    def org_id(self) -> str:
        """The organization sent as ``x-org-id``."""
        return self._org_id

    async def time_series(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        granularity: DaramexGranularity | None = None,
        group_by: DaramexGroupBy = "none",
        timezone: str = "UTC",
    ) -> DaramexTimeSeries:
        """Get token consumption and cost in time buckets, optionally broken down.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            granularity: ``hour``, ``day``, ``week`` or ``month``; None lets the server pick
                from the window's length.
            group_by: ``action``, ``model`` or ``none``.
            timezone: IANA zone buckets are aligned to.

        Returns:
            The typed response.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
        """
        spec = time_series_spec(
            start, end, source=source, granularity=granularity, group_by=group_by, timezone=timezone
        )
        return await self._transport.request(spec, DaramexTimeSeries)

    async def projection(
        self, start: TimeLike, end: TimeLike, *, source: DaramexSource = "all"
    ) -> DaramexProjectionOk | DaramexProjectionInsufficientData:
        """Project the period-end cost from daily spend.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.

        Returns:
            :class:`DaramexProjectionOk`, or :class:`DaramexProjectionInsufficientData` when
            fewer than the required days have data.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
            ResponseValidationError: An unknown ``status`` or a malformed body.
        """
        spec = projection_spec(start, end, source=source)
        response = await self._transport.send(spec)
        status = self._transport.decode(spec, response, ProjectionStatus)
        result: DaramexProjectionOk | DaramexProjectionInsufficientData = self._transport.decode(
            spec, response, projection_type(status)
        )
        return result

    async def model_efficiency(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        action: DaramexAction | None = None,
        limit: int = 20,
    ) -> list[DaramexModelEfficiency]:
        """Get cost, tokens and latency of the top models by cost.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            action: Only this action type; None for all.
            limit: How many models, 1 to 50.

        Returns:
            The models, by cost descending; latencies are None when unknown.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
        """
        spec = model_efficiency_spec(start, end, source=source, action=action, limit=limit)
        result: list[DaramexModelEfficiency] = await self._transport.request(
            spec, list[DaramexModelEfficiency]
        )
        return result

    async def heatmap(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        source: DaramexSource = "all",
        timezone: str = "UTC",
    ) -> DaramexHeatmap:
        """Get tokens and cost by day of week and hour of day.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool: ``system``, ``byok`` or ``all``.
            timezone: IANA zone hours are bucketed in.

        Returns:
            The sparse heatmap; :meth:`DaramexHeatmap.token_grid` gives the dense grid.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
        """
        spec = heatmap_spec(start, end, source=source, timezone=timezone)
        return await self._transport.request(spec, DaramexHeatmap)

    async def cache_savings(
        self, start: TimeLike, end: TimeLike, *, source: DaramexSource = "system"
    ) -> DaramexCacheSavings:
        """Get prompt-cache savings, hit rate and token counts.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            source: Token pool; ``system`` by default (BYOK has no cache metrics).

        Returns:
            The typed response.

        Raises:
            ConfigError: An invalid argument (before any request).
            BadRequestError: The server rejected the parameters.
            AuthenticationError: Missing or invalid token.
            PermissionDeniedError: No read on ``ai.agent``, or an org mismatch.
        """
        spec = cache_savings_spec(start, end, source=source)
        return await self._transport.request(spec, DaramexCacheSavings)

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        source: DaramexSource = "all",
        granularity: DaramexGranularity | None = None,
        group_by: DaramexGroupBy = "model",
        timezone: str = "UTC",
    ) -> AsyncIterator[UsageRecord]:
        """Iterate token and cost records of ``time-series`` (see :func:`time_series_records`).

        Arguments are checked at once; the request is sent when iteration starts.

        Args:
            start: Window start; None for the start of the current UTC month.
            end: Window end; None for now.
            source: Token pool: ``system``, ``byok`` or ``all``.
            granularity: Bucket width; None lets the server pick.
            group_by: ``model`` (default), ``action`` or ``none``.
            timezone: IANA zone buckets are aligned to.

        Returns:
            An async iterator of records whose sum per metric equals the buckets' totals.

        Raises:
            ConfigError: An invalid argument.
        """
        plan = records_plan(
            start, end, source=source, granularity=granularity, group_by=group_by, timezone=timezone
        )
        return self._iter_records(plan)

    async def _iter_records(self, plan: RecordsPlan) -> AsyncIterator[UsageRecord]:
        if plan.spec is None:
            return
        series = await self._transport.request(plan.spec, DaramexTimeSeries)
        for record in plan_records(plan, series, self._org_id):  # unasync: remove
            yield record  # unasync: remove
        # unasync: sync yield from plan_records(plan, series, self._org_id)
