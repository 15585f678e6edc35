"""The Anthropic client: the Admin API's usage report, cost report and Claude Code report.

Written once, asynchronously; ``scripts/unasync.py`` generates the synchronous twin
(``_client.py``). Requests are described in ``_requests.py`` and normalized in ``_normalize.py``;
this module only sends them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import ClassVar

import httpx
from pydantic import SecretStr

from ..._core._async_ordered import async_in_order, async_pages_ahead
from ..._core._config import config_from_info
from ..._core._cursor import DEFAULT_PAGING, CursorWalk
from ..._core._fanout import check_concurrency
from ..._core.client import AsyncClientBase
from ..._core.clock import TimeLike, resolve_window, utcnow
from ..._core.errors import BadRequestError, ConfigError
from ..._core.pagination import AsyncPager
from ..._core.records import UsageRecord
from ..._core.retry import RetryPolicy
from ..._core.table import RecordTable
from ..._core.transport import RequestSpec
from ._info import INFO
from ._models import (
    AnthropicClaudeCodePage,
    AnthropicClaudeCodeRecord,
    AnthropicCostBucket,
    AnthropicCostPage,
    AnthropicMessagesBucket,
    AnthropicMessagesPage,
)
from ._normalize import (
    PROVIDER,
    AnthropicPage,
    page_records,
    page_table,
)
from ._requests import (
    ANTHROPIC_VERSION,
    CLAUDE_CODE_CONCURRENCY,
    RECORDS_COST_GROUP_BY,
    RecordsPlan,
    api_headers,
    check_group_by,
    claude_code_days,
    claude_code_spec,
    cost_spec,
    finished_days,
    messages_spec,
    plan_records,
    shorter_cost_span,
    whole_buckets,
)

__all__ = ["ANTHROPIC_VERSION", "AsyncAnthropicClient"]


class AsyncAnthropicClient(AsyncClientBase):
    """Asynchronous Anthropic Admin API client (usage, costs, Claude Code).

    Args:
        api_key: An Admin API key (``sk-ant-admin...``); defaults to ``ANTHROPIC_ADMIN_KEY``,
            then ``ANTHROPIC_ADMIN_API_KEY``.
        base_url: The API; default ``ANTHROPIC_BASE_URL`` if set, else ``https://api.anthropic.com``.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        fast_mode: Send the ``anthropic-beta: fast-mode-2026-02-01`` header, which the usage
            report's ``speed`` group and filter need.
        http_client: An ``httpx.AsyncClient`` to use; the caller then closes it.

    Raises:
        ConfigError: No API key (the message names ``ANTHROPIC_ADMIN_KEY``) or a malformed option.
    """

    provider: ClassVar[str] = PROVIDER

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        fast_mode: bool = False,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        config = config_from_info(
            INFO,
            api_key,
            base_url,
            timeout,
            max_retries,
            retry,
            credentials=lambda key: {"x-api-key": key},
            headers=api_headers(fast_mode),
        )
        super().__init__(config, http_client=http_client)
        self._fast_mode = fast_mode

    def usage_report(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: str = "1d",
        limit: int | None = None,
        group_by: Sequence[str] | str | None = None,
        api_key_ids: Sequence[str] | str | None = None,
        workspace_ids: Sequence[str] | str | None = None,
        models: Sequence[str] | str | None = None,
        service_tiers: Sequence[str] | str | None = None,
        context_window: Sequence[str] | str | None = None,
        inference_geos: Sequence[str] | str | None = None,
        speeds: Sequence[str] | str | None = None,
        account_ids: Sequence[str] | str | None = None,
        service_account_ids: Sequence[str] | str | None = None,
    ) -> AsyncPager[AnthropicMessagesPage, AnthropicMessagesBucket]:
        """Token usage of the Messages API (``usage_report/messages``), bucket by bucket.

        Arguments are checked at once; the first request is sent when iteration starts.
        Every list is sent as ``name[]=value``.

        Args:
            start: Window start (widened down to a whole bucket).
            end: Window end, exclusive (widened up); None for the API's default.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            limit: Buckets per page (1d: up to 31, 1h: 168, 1m: 1440); None for the most.
            group_by: Up to five of ``account_id``, ``api_key_id``, ``context_window``,
                ``inference_geo``, ``model``, ``service_account_id``, ``service_tier``,
                ``speed`` (needs ``fast_mode``), ``workspace_id``.
            api_key_ids: Only these API keys.
            workspace_ids: Only these workspaces.
            models: Only these models.
            service_tiers: Only these tiers (``standard``, ``batch``, ``priority``,
                ``priority_on_demand``, ``flex``, ``flex_discount``).
            context_window: Only these context windows (``0-200k``, ``200k-1M``).
            inference_geos: Only these geographies (``global``, ``us``, ``not_available``).
            speeds: Only these speeds (``standard``, ``fast``; needs ``fast_mode``).
            account_ids: Only these user accounts.
            service_account_ids: Only these service accounts.

        Returns:
            A lazy pager of buckets (``iter_pages()`` for whole pages).

        Raises:
            ConfigError: A malformed window, width, limit, group or filter.
        """
        filters = {
            "api_key_ids": api_key_ids,
            "workspace_ids": workspace_ids,
            "models": models,
            "service_tiers": service_tiers,
            "context_window": context_window,
            "inference_geos": inference_geos,
            "speeds": speeds,
            "account_ids": account_ids,
            "service_account_ids": service_account_ids,
        }
        spec = messages_spec(
            start,
            end,
            bucket_width=bucket_width,
            limit=limit,
            group_by=group_by,
            filters=filters,
            fast_mode=self._fast_mode,
        )
        return AsyncPager(self._transport, spec, AnthropicMessagesPage)

    def cost_report(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        limit: int | None = None,
        group_by: Sequence[str] | str | None = None,
    ) -> AsyncPager[AnthropicCostPage, AnthropicCostBucket]:
        """Daily costs (``cost_report``), amounts in cents as the API sends them.

        The cost report has only finished UTC days: a window reaching into today is clipped to
        today's midnight (and ``collect`` is told so); use each row's ``dollars``.

        Args:
            start: Window start (widened down to midnight UTC).
            end: Window end, exclusive (widened up to midnight); None for up to now.
            limit: Days per page, up to 31; None for 31.
            group_by: ``workspace_id`` and/or ``description`` (which fills model, token type,
                tier, context window and geography).

        Returns:
            A lazy pager of days.

        Raises:
            ConfigError: A malformed window, limit or group, or a window with no finished day.
        """
        now = utcnow()
        window = resolve_window(start, end if end is not None else now)
        first, last = whole_buckets(window, "1d")
        assert last is not None
        check_group_by(group_by, ("workspace_id", "description"), where="anthropic cost_report")
        span = finished_days(first, last, now)
        if span is None:
            raise ConfigError(
                "anthropic cost_report: the cost report has only finished UTC days, and this "
                f"window starts at {first:%Y-%m-%d}, which is not over yet"
            )
        spec = cost_spec(*span, limit=limit, group_by=group_by)
        return AsyncPager(self._transport, spec, AnthropicCostPage)

    def claude_code_usage(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        limit: int | None = None,
        concurrency: int = CLAUDE_CODE_CONCURRENCY,
    ) -> AsyncIterator[AnthropicClaudeCodeRecord]:
        """Claude Code usage per actor and day (``usage_report/claude_code``).

        The API answers one UTC day per call: the window's days are read ``concurrency`` at
        once (each day's first page; a day's later pages follow in turn when its records are
        reached), lazily, and the records come day after day, each day page by page, whatever
        order the answers arrive in. An error is raised at its day's turn (after the days
        before it); then, as when the iteration is left early, the requests still under way are
        cancelled (async) or left to end (sync). ``concurrency=1`` reads the days one after
        another.

        Args:
            start: The first day (any time in it).
            end: Window end, exclusive; None for the start's day only.
            limit: Records per page, up to 1000; None for 1000.
            concurrency: Days read at once (at least 1; default 4, see
                :data:`~usagekit._providers.anthropic._requests.CLAUDE_CODE_CONCURRENCY`).

        Returns:
            An async iterator of records, day after day.

        Raises:
            ConfigError: A malformed window, limit or concurrency.
        """
        days = claude_code_days(start, end)
        specs = [claude_code_spec(day, limit=limit) for day in days]
        where = "anthropic claude_code_usage"
        return self._walk_claude_code(specs, check_concurrency(concurrency, where=where))

    async def _first_page(self, spec: RequestSpec) -> tuple[RequestSpec, AnthropicClaudeCodePage]:
        page = await self._transport.request(spec, AnthropicClaudeCodePage)
        return spec, page

    async def _walk_claude_code(
        self, specs: Sequence[RequestSpec], concurrency: int
    ) -> AsyncGenerator[AnthropicClaudeCodeRecord, None]:
        pages = self._claude_code_pages(specs, concurrency)
        # unasync: sync with contextlib.closing(pages) as walk:
        async with contextlib.aclosing(pages) as walk:  # unasync: remove
            async for page in walk:
                # unasync: sync yield from page.data
                for record in page.data:  # unasync: remove
                    yield record  # unasync: remove

    async def _claude_code_pages(
        self, specs: Sequence[RequestSpec], concurrency: int
    ) -> AsyncGenerator[AnthropicClaudeCodePage, None]:
        """Every page of the days of ``specs``, in their order; the days' first pages are
        fetched ``concurrency`` at once, a day's later pages one after another as it is read
        (so at most ``concurrency`` requests are in flight, and as many pages are held)."""
        config = self._transport.config
        # Closed explicitly, so that the requests under way end as soon as this iterator does.
        walk = async_in_order(self._first_page, specs, limit=concurrency)
        # unasync: sync with contextlib.closing(walk) as days:
        async with contextlib.aclosing(walk) as days:  # unasync: remove
            async for spec, first in days:
                cursor = CursorWalk(
                    spec, DEFAULT_PAGING, provider=config.provider, max_pages=config.max_pages
                )
                page: AnthropicClaudeCodePage | None = first
                while page is not None:
                    yield page
                    following = cursor.advance(page)  # a cursor error comes after its page
                    page = (
                        None
                        if following is None
                        else await self._transport.request(following, AnthropicClaudeCodePage)
                    )

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        sources: Sequence[str] | str | None = None,
        bucket_width: str = "1d",
        group_by: Sequence[str] | str | None = None,
        concurrency: int = CLAUDE_CODE_CONCURRENCY,
    ) -> AsyncIterator[UsageRecord]:
        """Iterate the window's records from the three reports: ``async for r in client.records()``.

        Usage (tokens, cache kinds apart), costs (``cost`` in dollars, grouped by workspace and
        description, finished days only: a window reaching into today is clipped and ``collect``
        told so) and Claude Code (per actor and day, its estimated cost a metric of its own).
        No metric is in two reports, so nothing is counted twice. The records come report by
        report in that order; Claude Code's days are read ``concurrency`` at once and come
        day after day (as :meth:`claude_code_usage`).

        Arguments are checked at once; requests are sent when iteration starts.

        Args:
            start: Window start; None for midnight UTC of the first day of the current month.
            end: Window end (exclusive); None for up to now.
            sources: Any of ``"messages"``, ``"cost_report"``, ``"claude_code"``; None for all.
            bucket_width: The usage report's width (``"1m"``, ``"1h"``, ``"1d"``).
            group_by: The usage report's fields (at most five); None for ``model``,
                ``workspace_id``, ``api_key_id``, ``account_id`` and ``service_tier``.
            concurrency: Claude Code days read at once (at least 1; default 4); 1 for one
                after another.

        Returns:
            An async iterator of records.

        Raises:
            ConfigError: An unknown source, width or field, a malformed window, or a
                ``concurrency`` below 1.
        """
        limit = check_concurrency(concurrency, where="anthropic records")
        plan = plan_records(
            start,
            end,
            sources=sources,
            bucket_width=bucket_width,
            group_by=group_by,
            fast_mode=self._fast_mode,
        )
        return self._records(plan, limit)

    def _record_tables(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        sources: Sequence[str] | str | None = None,
        bucket_width: str = "1d",
        group_by: Sequence[str] | str | None = None,
        concurrency: int = CLAUDE_CODE_CONCURRENCY,
    ) -> AsyncGenerator[RecordTable, None]:
        """What :meth:`records` yields, a page at a time, in columns.

        ``collect`` reads this instead of :meth:`records`, so that the records are never built
        as objects: the same records, in the same order (one table per page of each report).

        Args:
            start: Window start (as :meth:`records`).
            end: Window end.
            sources: The reports; None for all three.
            bucket_width: The usage report's width.
            group_by: The usage report's fields.
            concurrency: Claude Code days read at once.

        Returns:
            An async iterator of one table per page.

        Raises:
            ConfigError: What :meth:`records` refuses, before any request.
        """
        limit = check_concurrency(concurrency, where="anthropic records")
        plan = plan_records(
            start,
            end,
            sources=sources,
            bucket_width=bucket_width,
            group_by=group_by,
            fast_mode=self._fast_mode,
        )
        return self._tables(plan, limit)

    async def _tables(
        self, plan: RecordsPlan, concurrency: int
    ) -> AsyncGenerator[RecordTable, None]:
        pages = self._pages(plan, concurrency)
        # unasync: sync with contextlib.closing(pages) as walk:
        async with contextlib.aclosing(pages) as walk:  # unasync: remove
            async for page in walk:
                yield page_table(page, group_by=plan.group_by, cost_group_by=RECORDS_COST_GROUP_BY)

    async def _records(self, plan: RecordsPlan, concurrency: int) -> AsyncIterator[UsageRecord]:
        pages = self._pages(plan, concurrency)
        # unasync: sync with contextlib.closing(pages) as walk:
        async with contextlib.aclosing(pages) as walk:  # unasync: remove
            async for page in walk:
                records = page_records(
                    page, group_by=plan.group_by, cost_group_by=RECORDS_COST_GROUP_BY
                )
                for record in records:
                    yield record

    async def _pages(
        self, plan: RecordsPlan, concurrency: int
    ) -> AsyncGenerator[AnthropicPage, None]:
        """Every page ``records()`` reads: the usage report's, the cost report's, then each
        Claude Code day's (``concurrency`` days at once), in that order."""
        if plan.empty:
            return
        if plan.messages is not None:
            usage = async_pages_ahead(self._transport, plan.messages, AnthropicMessagesPage)
            # unasync: sync with contextlib.closing(usage) as usage_pages:
            async with contextlib.aclosing(usage) as usage_pages:  # unasync: remove
                async for page in usage_pages:
                    yield page
        if "cost_report" in plan.sources:
            span = finished_days(plan.cost_start, plan.cost_end, utcnow())
            while span is not None:
                asked, span, yielded = span, None, False
                spec = cost_spec(*asked, group_by=RECORDS_COST_GROUP_BY)
                costs = async_pages_ahead(self._transport, spec, AnthropicCostPage)
                try:
                    # unasync: sync with contextlib.closing(costs) as cost_pages:
                    async with contextlib.aclosing(costs) as cost_pages:  # unasync: remove
                        async for cost_page in cost_pages:
                            yielded = yielded or any(day.results for day in cost_page.data)
                            yield cost_page
                except BadRequestError as refused:
                    if yielded:  # a record of the span was handed out: too late to shorten it
                        raise
                    span = shorter_cost_span(asked, refused)  # or raises a 400 not about dates
        if plan.days:
            specs = [claude_code_spec(day) for day in plan.days]
            days = self._claude_code_pages(specs, concurrency)
            # unasync: sync with contextlib.closing(days) as code:
            async with contextlib.aclosing(days) as code:  # unasync: remove
                async for code_page in code:
                    yield code_page
