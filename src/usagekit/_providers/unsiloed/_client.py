"""Unsiloed: an organization's credit usage, limit and remaining quota in the billing cycle.

One endpoint, ``GET /org/get_usage``, authenticated with the ``api-key`` header. The cycle
starts at ``last_billed_date`` (00:00 UTC) and lasts 30 days. Credits used become a flow record;
the limit and the remaining quota become levels, so that nothing sums them over time.

Everything that does no I/O is written once in this module; :class:`UnsiloedClient` and
:class:`AsyncUnsiloedClient` only differ in awaiting the transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar

import httpx
from dateutil.parser import isoparse
from pydantic import BeforeValidator, SecretStr, field_validator

from ..._core.client import (
    AsyncClientBase,
    SyncClientBase,
    build_config,
    resolve_base_url,
    resolve_secret,
)
from ..._core.clock import TimeLike, Window, resolve_window
from ..._core.coverage import declare, span_text
from ..._core.records import FLOW, LEVEL, UsageRecord
from ..._core.retry import RetryPolicy
from ..._core.transport import RequestSpec, TransportConfig
from ..._core.wire import ExactDecimal, NonNegativeDecimal, WireModel, parse_utc_date

__all__ = [
    "AsyncUnsiloedClient",
    "UnsiloedClient",
    "UnsiloedUsage",
    "parse_billed_date",
]

PROVIDER = "unsiloed"
SOURCE = "get_usage"
DEFAULT_BASE_URL = "https://platformbackend.unsiloed.ai/api/v1"
API_KEY_ENV = "UNSILOED_API_KEY"
CYCLE = timedelta(days=30)
"""Usage resets every 30 days, counted from ``last_billed_date``."""

ERROR_HINTS: dict[int, str] = {
    401: f"missing or invalid API key (pass api_key=... or set {API_KEY_ENV}; sent as api-key)",
    404: "no organization belongs to this API key",
}

_UTC = timezone.utc
_DAWN = datetime(1, 1, 1, tzinfo=_UTC)
_SPEC = RequestSpec("/org/get_usage", SOURCE)


def parse_billed_date(value: Any) -> date:
    """Read ``last_billed_date``: ``YYYY-MM-DD`` as documented, or an ISO-8601 date-time.

    A date-time is taken as its calendar date in UTC (naive means UTC). Numbers are refused:
    unix seconds are not what the API documents, and a date is not an instant.

    Args:
        value: The raw JSON value.

    Returns:
        A ``date``.

    Raises:
        ValueError: Not a string, or a string that is not an ISO-8601 date or date-time.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            moment = isoparse(text)
        except (ValueError, OverflowError):
            raise ValueError(f"not an ISO-8601 date: {value[:40]!r}") from None
    else:
        raise ValueError(f"must be an ISO-8601 date string, got {type(value).__name__}")
    try:
        return (moment.astimezone(_UTC) if moment.tzinfo is not None else moment).date()
    except OverflowError:
        raise ValueError(f"date out of range: {value!s:.40}") from None


BilledDate = Annotated[date, BeforeValidator(parse_billed_date)]


class UnsiloedUsage(WireModel):
    """The ``get_usage`` response.

    Credits are exact at any precision. Credits used and the limit are never negative (a
    negative one is refused); the remaining quota is negative once usage passes the limit.

    Attributes:
        org_id: The organization's id.
        org_name: The organization's name.
        current_usage: Credits used in the current billing cycle, exact.
        usage_limit: The cycle's credit limit, exact.
        remaining_quota: Credits left in the cycle (``usage_limit - current_usage``), exact;
            negative past the limit.
        last_billed_date: The day the current cycle started.
    """

    org_id: str
    org_name: str
    current_usage: NonNegativeDecimal
    usage_limit: NonNegativeDecimal
    remaining_quota: ExactDecimal
    last_billed_date: BilledDate

    @field_validator("last_billed_date")
    @classmethod
    def _cycle_fits(cls, value: date) -> date:
        if value > date.max - CYCLE:
            raise ValueError("last_billed_date is too late for a 30-day cycle")
        return value

    @property
    def cycle_start(self) -> datetime:
        """Start of the billing cycle: ``last_billed_date`` at 00:00 UTC."""
        return parse_utc_date(self.last_billed_date)

    @property
    def cycle_end(self) -> datetime:
        """End of the billing cycle (exclusive): 30 days after :attr:`cycle_start`."""
        return self.cycle_start + CYCLE


def _config(
    api_key: str | SecretStr | None,
    base_url: str | httpx.URL | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
) -> TransportConfig:
    key = resolve_secret(api_key, API_KEY_ENV, provider=PROVIDER)
    return build_config(
        provider=PROVIDER,
        base_url=resolve_base_url(base_url, "UNSILOED_BASE_URL", DEFAULT_BASE_URL),
        credentials={"api-key": key},
        timeout=timeout,
        max_retries=max_retries,
        retry=retry,
        error_hints=ERROR_HINTS,
    )


def usage_records(usage: UnsiloedUsage, *, window: Window) -> list[UsageRecord]:
    """Normalize a ``get_usage`` response into records over the billing cycle.

    ``current_usage`` is a flow; ``usage_limit`` and ``remaining_quota`` are levels. All are
    in ``"credits"``, with the organization as ``organization_id`` and its name in
    ``attributes["org_name"]``.

    Args:
        usage: The validated response.
        window: Only records whose interval overlaps the window are kept.

    Returns:
        The three records, or none when the cycle does not overlap the window.
    """
    start, end = usage.cycle_start, usage.cycle_end
    cycle = span_text(start, end)
    if not window.overlaps(start, end):
        declare(
            start, end, f"reports only its current 30-day cycle, {cycle}; nothing in this window"
        )
        return []
    if start < window.start or (window.end is not None and end > window.end):
        declare(start, end, f"reports one figure for its whole 30-day cycle, {cycle}")
    measures = (
        ("current_usage", usage.current_usage, FLOW),
        ("usage_limit", usage.usage_limit, LEVEL),
        ("remaining_quota", usage.remaining_quota, LEVEL),
    )
    return [
        UsageRecord.trusted(
            provider=PROVIDER,
            source=SOURCE,
            start=start,
            end=end,
            metric=metric,
            quantity=quantity,
            unit="credits",
            kind=kind,
            organization_id=usage.org_id,
            attributes={"org_name": usage.org_name},
        )
        for metric, quantity, kind in measures
    ]


@dataclass(frozen=True)
class _RecordsPlan:
    window: Window


class _UnsiloedMixin:
    """What both Unsiloed clients share."""

    provider: ClassVar[str] = PROVIDER

    @staticmethod
    def _plan(start: TimeLike | None, end: TimeLike | None) -> _RecordsPlan:
        return _RecordsPlan(resolve_window(start, end, default_start=_DAWN))


class UnsiloedClient(_UnsiloedMixin, SyncClientBase):
    """Synchronous Unsiloed client.

    Args:
        api_key: An Unsiloed API key (``unsiloed_...``); defaults to ``UNSILOED_API_KEY``.
        base_url: The platform backend; default ``UNSILOED_BASE_URL`` if set, else the public one.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.Client`` to use; the caller then closes it.

    Raises:
        ConfigError: No API key (the message names ``UNSILOED_API_KEY``) or a malformed option.
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        config = _config(api_key, base_url, timeout, max_retries, retry)
        super().__init__(config, http_client=http_client)

    def get_usage(self) -> UnsiloedUsage:
        """Get the organization's usage, limit and remaining quota.

        Returns:
            The typed response.

        Raises:
            AuthenticationError: The API key is missing or invalid (message from ``detail``).
            NotFoundError: No organization belongs to the key.
            ResponseValidationError: The body is not the documented shape.
        """
        return self._transport.request(_SPEC, UnsiloedUsage)

    def records(
        self, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> Iterator[UsageRecord]:
        """Iterate the cycle's records (see :func:`usage_records`).

        Arguments are checked at once; the request is sent when iteration starts.

        Args:
            start: Keep records whose interval ends after this; None for no lower bound.
            end: Keep records whose interval starts before this; None for no upper bound.

        Returns:
            An iterator of records.

        Raises:
            ConfigError: A malformed window or ``start >= end``.
        """
        return self._iter_records(self._plan(start, end))

    def _iter_records(self, plan: _RecordsPlan) -> Iterator[UsageRecord]:
        usage = self._transport.request(_SPEC, UnsiloedUsage)
        yield from usage_records(usage, window=plan.window)


class AsyncUnsiloedClient(_UnsiloedMixin, AsyncClientBase):
    """Asynchronous Unsiloed client; the twin of :class:`UnsiloedClient`.

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
        config = _config(api_key, base_url, timeout, max_retries, retry)
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
        return await self._transport.request(_SPEC, UnsiloedUsage)

    def records(
        self, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> AsyncIterator[UsageRecord]:
        """Iterate the cycle's records: ``async for record in client.records()``.

        Arguments are checked at once; the request is sent when iteration starts.

        Args:
            start: Keep records whose interval ends after this; None for no lower bound.
            end: Keep records whose interval starts before this; None for no upper bound.

        Returns:
            An async generator of records.

        Raises:
            ConfigError: A malformed window or ``start >= end``.
        """
        return self._iter_records(self._plan(start, end))

    async def _iter_records(self, plan: _RecordsPlan) -> AsyncIterator[UsageRecord]:
        usage = await self._transport.request(_SPEC, UnsiloedUsage)
        for record in usage_records(usage, window=plan.window):
            yield record
