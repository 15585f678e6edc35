"""OpenRouter: daily activity per model and provider endpoint, and the account's credits.

Two endpoints, read with a management API key sent as ``Authorization: Bearer``:
``GET /activity`` (one UTC day per call, the last 30 completed days only) and ``GET /credits``.
The sync client is generated from the async one by ``scripts/unasync.py``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import ClassVar

import httpx
from pydantic import SecretStr

from ..._core._async_ordered import async_in_order
from ..._core._config import config_from_info
from ..._core._fanout import check_concurrency
from ..._core.client import AsyncClientBase
from ..._core.clock import TimeLike, month_start, resolve_window, utcnow
from ..._core.coverage import declare
from ..._core.errors import BadRequestError
from ..._core.records import UsageRecord
from ..._core.retry import RetryPolicy
from ._info import INFO
from ._models import OpenRouterActivity, OpenRouterCredits, OpenRouterCreditsResponse
from ._normalize import DayPlan, activity_records, credit_records, plan_days
from ._requests import (
    AVAILABLE_DAYS,
    CONCURRENCY,
    CREDITS_SPEC,
    ActivityFilters,
    GroupBy,
    activity_spec,
    available_days,
    check_day,
)

__all__ = ["AsyncOpenRouterClient"]

PROVIDER = INFO.name


def _outside_window(exc: BadRequestError) -> bool:
    """Whether a 400 is the server saying the day is not (or no longer) one of its 30."""
    return "date" in exc.message.lower()


class AsyncOpenRouterClient(AsyncClientBase):
    """Asynchronous OpenRouter client (management API key).

    Args:
        api_key: An OpenRouter management key (``sk-or-v1-...``); defaults to
            ``OPENROUTER_MANAGEMENT_KEY``, else ``OPENROUTER_API_KEY`` (a normal inference key
            there is answered with 403, whose error says a management key is needed).
        base_url: The API; default ``OPENROUTER_BASE_URL`` if set, else
            ``https://openrouter.ai/api/v1``.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.AsyncClient`` to use; the caller then closes it.

    Raises:
        ConfigError: No key (the message names ``OPENROUTER_MANAGEMENT_KEY``) or a malformed
            option.
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
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        config = config_from_info(INFO, api_key, base_url, timeout, max_retries, retry)
        super().__init__(config, http_client=http_client)

    async def activity(
        self,
        date: date | str,
        *,
        api_key_hash: str | None = None,
        user_id: str | None = None,
        workspace_id: str | None = None,
        group_by: GroupBy | None = None,
    ) -> OpenRouterActivity:
        """Get one UTC day's activity, one row per model and provider endpoint.

        Args:
            date: The day (a ``date`` or ``YYYY-MM-DD``), one of the last 30 completed UTC
                days (today is not complete yet).
            api_key_hash: Only this API key's activity (its SHA-256 hash, from ``/keys``).
            user_id: Only this organization member's activity.
            workspace_id: Only activity attributed to this workspace.
            group_by: ``"workspace"`` to split each row per workspace (rows then carry
                ``workspace_id``).

        Returns:
            The typed answer.

        Raises:
            ConfigError: The day is not one of the last 30 completed UTC days, or a filter is
                malformed (checked before sending).
            PermissionDeniedError: The key is not a management key (403; the error says so).
            AuthenticationError: The key is missing or invalid (401).
            BadRequestError: The server refused the parameters (400).
            NotFoundError: A workspace the account does not have (404).
            ResponseValidationError: The body is not the documented shape.
        """
        filters = ActivityFilters(api_key_hash, user_id, workspace_id, group_by)
        spec = activity_spec(check_day(date), filters)
        return await self._transport.request(spec, OpenRouterActivity)

    async def credits(self) -> OpenRouterCredits:
        """Get the account's credit totals: credits ever purchased and ever used (USD).

        Returns:
            The typed totals (``remaining`` is their difference).

        Raises:
            PermissionDeniedError: The key is not a management key (403; the error says so).
            AuthenticationError: The key is missing or invalid (401).
            ResponseValidationError: The body is not the documented shape.
        """
        answer = await self._transport.request(CREDITS_SPEC, OpenRouterCreditsResponse)
        return answer.data

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        api_key_hash: str | None = None,
        user_id: str | None = None,
        workspace_id: str | None = None,
        group_by: GroupBy | None = None,
        credits: bool = True,
        concurrency: int = CONCURRENCY,
    ) -> AsyncIterator[UsageRecord]:
        """Normalized records of every UTC day of the window, then the credit totals.

        One ``/activity`` call per day the window touches (whole days), up to ``concurrency``
        of them in flight at once (both clients; they share the client's connection pool,
        rate limiter and retry policy). The records come oldest day first, whatever order the
        answers arrive in, each day's rows in the order the server sent them; an error is
        raised at its day's turn (after the days before it), and then, as when the iteration
        is left early, the requests still under way are cancelled (async) or left to end (sync).
        ``concurrency=1`` reads the days one after another. Only the last 30
        completed UTC days exist: the window is clipped to them, and the clipping is told to
        :func:`usagekit.collect` (it shows on the provider's status). See
        :func:`~usagekit._providers.openrouter._normalize.activity_records` for the records of
        a row: ``cost`` is what OpenRouter bills; BYOK inference is ``byok_usage_inference``,
        never part of ``cost``. When the window reaches the current day and ``credits`` is
        true, ``/credits`` adds ``total_credits`` and ``total_usage`` (USD levels over today).

        Args:
            start: Window start, inclusive; None for midnight UTC of the first day of the
                current month.
            end: Window end, exclusive; None for up to now.
            api_key_hash: Only this API key's activity (becomes ``api_key_id``).
            user_id: Only this member's activity (becomes ``user_id``).
            workspace_id: Only this workspace's activity (becomes ``project_id``).
            group_by: ``"workspace"`` to split rows per workspace (``project_id``).
            credits: Also read ``/credits`` when the window reaches today.
            concurrency: Days fetched at once (at least 1; default 4, a polite burst for an
                API whose limits are per account; see
                :data:`~usagekit._providers.openrouter._requests.CONCURRENCY`).

        Returns:
            An async iterator of :class:`~usagekit.UsageRecord`; requests are sent as it is
            consumed.

        Raises:
            ConfigError: A malformed window, ``start >= end``, a malformed filter or a
                ``concurrency`` below 1 (at once, before any request).
        """
        limit = check_concurrency(concurrency, where="openrouter records")
        filters = ActivityFilters(api_key_hash, user_id, workspace_id, group_by)
        now = utcnow()
        window = resolve_window(start, end, default_start=month_start(now))
        plan = plan_days(window, now)
        reach_today = window.end is None or window.end > plan.today
        return self._iter_records(plan, filters, now, credits and reach_today, limit)

    async def _day(
        self, filters: ActivityFilters, edges: tuple[date, date], day: date
    ) -> tuple[date, OpenRouterActivity | None]:
        try:
            return day, await self._transport.request(
                activity_spec(day, filters), OpenRouterActivity
            )
        except BadRequestError as exc:
            # our clock and the server's may disagree at midnight about the oldest and newest day
            if day in edges and _outside_window(exc):
                return day, None
            raise

    async def _iter_records(
        self,
        plan: DayPlan,
        filters: ActivityFilters,
        now: datetime,
        with_credits: bool,
        concurrency: int,
    ) -> AsyncIterator[UsageRecord]:
        if plan.span is not None:
            declare(*plan.span, plan.note)
        fetch = functools.partial(self._day, filters, available_days(now))
        # Closed explicitly, so that the requests under way end as soon as this iterator does.
        walk = async_in_order(fetch, plan.days, limit=concurrency)
        # unasync: sync with contextlib.closing(walk) as days:
        async with contextlib.aclosing(walk) as days:  # unasync: remove
            async for day, answer in days:
                if answer is None:
                    start = datetime(day.year, day.month, day.day, tzinfo=plan.today.tzinfo)
                    declare(
                        start,
                        start,
                        f"the server does not answer for {day.isoformat()}: not one of its last "
                        f"{AVAILABLE_DAYS} completed UTC days by its clock",
                    )
                    continue
                for record in activity_records(answer, day=day, filters=filters):
                    yield record
        if with_credits:
            for record in credit_records(await self.credits(), now=now):
                yield record
