"""``AsyncOpenAIClient``: organization usage and costs, typed or normalized.

The client is thin: the constructor resolves the admin key and builds the transport
configuration from the registry entry (:data:`~usagekit._providers.openai._info.INFO`); every
method describes its requests through the endpoint table and hands them to the core's transport
and pager. The sync client is generated from the async one by ``scripts/unasync.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

import httpx
from pydantic import SecretStr

from ..._core._config import config_from_info
from ..._core.client import AsyncClientBase
from ..._core.clock import TimeLike
from ..._core.pagination import AsyncPager
from ..._core.records import UsageRecord
from ..._core.retry import RetryPolicy
from ..._core.table import RecordTable
from ._async_resources import AsyncUsage
from ._async_walk import AsyncPages, Plan, walk_pages
from ._info import INFO
from ._models import CostsGroupBy, OpenAIBucket, OpenAICostsResult, OpenAIPage
from ._normalize import PROVIDER, UniqueRecords, page_table
from ._plan import DEFAULT_CONCURRENCY, check_concurrency, plan_records
from ._requests import COSTS, BucketWidth, CostsBucketWidth, prepare

__all__ = ["AsyncOpenAIClient"]


class AsyncOpenAIClient(AsyncClientBase):
    """Asynchronous client of OpenAI's organization usage and costs API.

    Args:
        api_key: An organization admin key; read from ``OPENAI_ADMIN_KEY`` when None.
        base_url: The API root; default ``OPENAI_BASE_URL`` if set, else the public API.
        timeout: Seconds per attempt, or an ``httpx.Timeout``; None for 60 s (10 s connect).
        max_retries: Retries of a failed request (429, 5xx, connection errors); None for 2.
        retry: A full retry policy (backoff, hint caps); ``max_retries`` overrides its count.
        http_client: An ``httpx.AsyncClient`` to use; its lifecycle then stays with the caller.

    Raises:
        ConfigError: No key was given and ``OPENAI_ADMIN_KEY`` is not set, or another argument
            is malformed.

    Example:
        >>> async with AsyncOpenAIClient() as client:  # doctest: +SKIP
        ...     async for bucket in client.usage.completions("2026-11-01", group_by=["model"]):
        ...         for result in bucket.results:
        ...             print(bucket.start_time, result.model, result.input_tokens)
    """

    provider = PROVIDER

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
        config = config_from_info(INFO, api_key, base_url, timeout, max_retries, retry)
        super().__init__(config, http_client=http_client)

    @property
    def usage(self) -> AsyncUsage:
        """The ten usage endpoints: ``client.usage.completions(...)`` and the others."""
        return AsyncUsage(self)

    def costs(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: CostsBucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        group_by: Sequence[CostsGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[OpenAIPage[OpenAICostsResult], OpenAIBucket[OpenAICostsResult]]:
        """Daily costs of the organization (``GET /organization/costs``).

        Amounts are exact ``Decimal`` values, exactly as sent (0.06 stays 0.06).

        Args:
            start: Window start, inclusive, in any form :func:`~usagekit.as_utc` accepts.
            end: Window end, exclusive; None for up to now.
            bucket_width: Only ``"1d"`` exists.
            project_ids: Only these projects.
            api_key_ids: Only these API keys (ids, not keys).
            group_by: Any of ``project_id``, ``line_item``, ``api_key_id``.
            limit: Buckets per page, 1 to 180; None for 180.

        Returns:
            A lazy pager of costs buckets: nothing is sent until it is iterated.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        request = prepare(
            COSTS,
            start,
            end,
            bucket_width=bucket_width,
            group_by=group_by,
            limit=limit,
            filters={"project_ids": project_ids, "api_key_ids": api_key_ids},
        )
        return AsyncPager(self._transport, request, COSTS.page_type)

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        sources: Sequence[str] | None = None,
        bucket_width: BucketWidth = "1d",
        group_by: Sequence[str] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncIterator[UsageRecord]:
        """Normalized records of every usage endpoint and costs, lazily, page by page.

        One record per numeric field of each result that the API sent; ``metric`` is the API's
        field name (``input_tokens``, ``input_cached_tokens``, ``num_model_requests``,
        ``images``, ``characters``, ``seconds``, ``usage_bytes``, ``num_sessions``,
        ``num_requests``) and ``source`` the endpoint name. ``input_tokens`` already includes
        the cached and cache-write tokens; those are separate metrics, as the API names them,
        not to be added to it. ``usage_bytes`` is a level (never sum it over time); every other
        metric is a flow. Costs are metric ``"cost"``, the exact ``Decimal`` as sent, unit the
        upper-case currency, with ``quantity``/``quantity_unit`` in ``attributes``; a cost
        without an amount is a ``ResponseValidationError``, never skipped. Every record is a
        whole bucket: the window is widened to the bucket width (the start down, the end up,
        UTC), and a bucket the server repeats is emitted once (a repeat with another figure is
        a ``ResponseValidationError``).

        Endpoints are read ``concurrency`` at once, sharing this client's connection pool,
        rate limiter and retry policy, and the order of the records depends only on the data:
        the endpoints being read take turns, one page each, in table order (endpoint 1 page 1,
        endpoint 2 page 1, ..., endpoint 4 page 1, endpoint 1 page 2, ...); when one has given
        its last page, the next endpoint of the table takes its place in the turns. Within a
        page, records come bucket by bucket, result by result, metric by metric. With
        ``concurrency=1`` the endpoints are read one after another, each whole. At most
        ``concurrency`` requests are in flight and as many pages wait besides the one being
        read. A page holds 31 buckets when grouped (at any width), the width's largest page
        when not, so that a page stays a few MB.

        Args:
            start: Window start, inclusive; None for midnight UTC of the first day of the
                current month.
            end: Window end, exclusive; None for up to now.
            sources: Endpoint names to read (``"completions"``, ..., ``"web_search_calls"``,
                ``"costs"``); None for all 11.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"`` for the usage endpoints; costs are
                always daily.
            group_by: None for every field each endpoint can group by (the finest breakdown;
                totals are unchanged); a list is intersected with each endpoint's fields; an
                empty list for totals only.
            concurrency: Endpoints read at once (at least 1; default 11, every endpoint); 1
                for one after another.

        Returns:
            An async iterator of :class:`~usagekit.UsageRecord`; requests are sent as it is
            consumed (``async for record in client.records()``). An error (the first in the
            order above) is raised where its page would have been; on it, and when the
            iteration is left early (``break``, ``aclose()``), the requests still under way
            are cancelled.

        Raises:
            ConfigError: An unknown source, width or group_by field, a malformed window, or a
                ``concurrency`` below 1, raised by this call before any request.
        """
        plan = plan_records(
            start, end, sources=sources, bucket_width=bucket_width, group_by=group_by
        )
        return self._records(plan, check_concurrency(concurrency))

    def _walk_pages(self, plan: Plan, concurrency: int) -> AsyncPages:
        """Every page of the plan's endpoints, ``concurrency`` endpoints at once (see
        :func:`~usagekit._providers.openai._async_walk.walk_pages` for the order)."""
        return walk_pages(self._transport, plan, concurrency=concurrency)

    def _record_tables(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        sources: Sequence[str] | None = None,
        bucket_width: BucketWidth = "1d",
        group_by: Sequence[str] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncGenerator[RecordTable, None]:
        """What :meth:`records` yields, a page at a time, in columns.

        ``collect`` and ``sync`` read this instead of :meth:`records`, so that a year of
        records is never built as objects: the same records, in the same order.

        Args:
            start: Window start (as :meth:`records`).
            end: Window end.
            sources: Endpoint names; None for all 11.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            group_by: As :meth:`records`.
            concurrency: Endpoints read at once.

        Returns:
            An async iterator of one table per page.

        Raises:
            ConfigError: What :meth:`records` refuses, before any request.
        """
        plan = plan_records(
            start, end, sources=sources, bucket_width=bucket_width, group_by=group_by
        )
        return self._tables(plan, check_concurrency(concurrency))

    async def _tables(self, plan: Plan, concurrency: int) -> AsyncGenerator[RecordTable, None]:
        seen = UniqueRecords(PROVIDER)  # a bucket the server repeats is never emitted twice
        # Closed explicitly, so that the requests under way are cancelled as soon as this
        # iterator ends, whatever ends it.
        walk = self._walk_pages(plan, concurrency)
        # unasync: sync with contextlib.closing(walk) as pages:
        async with contextlib.aclosing(walk) as pages:  # unasync: remove
            async for endpoint, page in pages:
                yield page_table(endpoint, page, seen=seen, consume=True)  # the walk's own page

    async def _records(self, plan: Plan, concurrency: int) -> AsyncIterator[UsageRecord]:
        tables = self._tables(plan, concurrency)
        # unasync: sync with contextlib.closing(tables) as pages:
        async with contextlib.aclosing(tables) as pages:  # unasync: remove
            async for table in pages:
                # unasync: sync yield from table
                for record in table:  # unasync: remove
                    yield record  # unasync: remove
