"""Basedash: billable AI usage of an organization's current billing period.

One endpoint, ``GET /api/public/organizations/{orgId}/ai-usage``, bearer auth with an API key of
an organization admin. Its answer becomes cost records: one per member, plus one for whatever
the members do not account for, so that the records always add up to ``totalUsage``.

Everything that does no I/O (configuration, request building, validation, normalization) is
written once in this module; :class:`BasedashClient` and :class:`AsyncBasedashClient` only
differ in awaiting the transport.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import ClassVar

import httpx
from pydantic import Field, SecretStr, ValidationInfo, field_validator

from ..._core.client import (
    AsyncClientBase,
    SyncClientBase,
    build_config,
    resolve_base_url,
    resolve_secret,
)
from ..._core.clock import TimeLike, Window, resolve_window
from ..._core.coverage import declare, span_text
from ..._core.errors import ConfigError, ResponseValidationError
from ..._core.records import UsageRecord
from ..._core.retry import RetryPolicy
from ..._core.transport import RequestSpec, TransportConfig
from ..._core.wire import NonNegativeDecimal, UTCDateTime, WireModel, exact_sum
from ._info import INFO

__all__ = [
    "AsyncBasedashClient",
    "BasedashAIUsage",
    "BasedashClient",
    "BasedashMemberUsage",
]

PROVIDER = "basedash"
SOURCE = "ai_usage"
DEFAULT_BASE_URL = "https://charts.basedash.com"
API_KEY_ENV = "BASEDASH_API_KEY"
ORG_ID_ENV = "BASEDASH_ORG_ID"

ERROR_HINTS: dict[int, str] = {
    401: f"missing or invalid API key (pass api_key=... or set {API_KEY_ENV})",
    404: "organization not found, no admin access, or billing period unavailable",
}

_UTC = timezone.utc
_DAWN = datetime(1, 1, 1, tzinfo=_UTC)


class BasedashMemberUsage(WireModel):
    """One organization member's billable AI usage in the billing period.

    Attributes:
        user_id: The user's id (``userId``).
        member_id: The organization membership id (``memberId``).
        email: The member's e-mail address.
        usage: Billable AI usage in USD, exact; never negative (usage, not a balance).
    """

    user_id: str = Field(alias="userId")
    member_id: str = Field(alias="memberId")
    email: str
    usage: NonNegativeDecimal


class BasedashAIUsage(WireModel):
    """The ``ai-usage`` response: the organization's total and its members' usage.

    Amounts are exact at any precision; a negative one is refused (billable usage is spent
    money, never a credit), as is a member listed twice with different figures.

    Attributes:
        total_usage: Total billable AI usage of the billing period in USD (``totalUsage``).
        billing_period_start: Start of the billing period, aware UTC (``billingPeriodStart``).
        billing_period_end: End of the billing period, aware UTC (``billingPeriodEnd``).
        member_usage: Usage per organization member (``memberUsage``).
    """

    total_usage: NonNegativeDecimal = Field(alias="totalUsage")
    billing_period_start: UTCDateTime = Field(alias="billingPeriodStart")
    billing_period_end: UTCDateTime = Field(alias="billingPeriodEnd")
    member_usage: list[BasedashMemberUsage] = Field(alias="memberUsage")

    @field_validator("billing_period_end")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("billing_period_start")
        if isinstance(start, datetime) and value <= start:
            raise ValueError("billingPeriodEnd must be after billingPeriodStart")
        return value

    @property
    def members_total(self) -> Decimal:
        """The sum of the members' usage, exact."""
        return exact_sum(member.usage for member in self.member_usage)

    @property
    def unattributed_usage(self) -> Decimal:
        """``total_usage`` minus the members' sum; negative when the members exceed the total."""
        return exact_sum((self.members_total.copy_negate(),), self.total_usage)


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
        base_url=resolve_base_url(base_url, "BASEDASH_BASE_URL", DEFAULT_BASE_URL),
        credentials={"Authorization": SecretStr(f"Bearer {key.get_secret_value()}")},
        timeout=timeout,
        max_retries=max_retries,
        retry=retry,
        error_hints=ERROR_HINTS,
        body_retry_hint=INFO.body_retry_hint,
    )


def _check_org_id(value: str, *, origin: str) -> str:
    org_id = value.strip()
    if not org_id:
        raise ConfigError(f"{PROVIDER}: {origin} must not be empty")
    if org_id in (".", ".."):
        raise ConfigError(f"{PROVIDER}: {origin} is not an organization id: {org_id!r}")
    return org_id


def _default_org_id(org_id: str | None) -> str | None:
    """The client's default organization: the argument, else ``BASEDASH_ORG_ID``, else None."""
    if org_id is not None:
        return _check_org_id(org_id, origin="org_id")
    from_env = os.environ.get(ORG_ID_ENV)
    if from_env is None or not from_env.strip():
        return None
    return _check_org_id(from_env, origin=ORG_ID_ENV)


def ai_usage_spec(org_id: str) -> RequestSpec:
    """Describe the ``ai-usage`` request of one organization (the id is path-encoded).

    Args:
        org_id: The organization id, already checked.

    Returns:
        The request.
    """
    encoded = urllib.parse.quote(org_id, safe="")
    return RequestSpec(f"/api/public/organizations/{encoded}/ai-usage", SOURCE)


def usage_records(usage: BasedashAIUsage, *, org_id: str, window: Window) -> list[UsageRecord]:
    """Normalize an ``ai-usage`` response into cost records.

    One record per member over the billing period, plus one record without a user, marked
    ``attributes["unattributed"] == "true"``, for ``totalUsage`` minus the members' sum when
    that is not zero (either sign). The records therefore always sum to ``totalUsage``,
    exactly. A member listed twice with the same identity and figure is one member (the repeat
    is dropped, so no two records share an id); with another figure it is refused, never
    summed.

    Args:
        usage: The validated response.
        org_id: The organization the response is about.
        window: Only records whose interval overlaps the window are kept.

    Returns:
        The records, members first in response order, the unattributed rest last.

    Raises:
        ResponseValidationError: A member listed twice with different usage.
    """
    start, end = usage.billing_period_start, usage.billing_period_end
    period = span_text(start, end)
    if not window.overlaps(start, end):
        declare(
            start, end, f"reports only its current billing period, {period}; nothing in this window"
        )
        return []
    if start < window.start or (window.end is not None and end > window.end):
        declare(start, end, f"reports one total for its whole billing period, {period}")
    merged: dict[tuple[str, str, str], Decimal] = {}
    for index, member in enumerate(usage.member_usage):
        identity = (member.user_id, member.member_id, member.email)
        seen = merged.setdefault(identity, member.usage)
        if seen != member.usage:
            raise ResponseValidationError(
                "a member is listed twice with different usage; refusing to sum or to pick one",
                provider=PROVIDER,
                endpoint=SOURCE,
                field=f"memberUsage.{index}.usage",
            )
    records = [
        UsageRecord.trusted(
            provider=PROVIDER,
            source=SOURCE,
            start=start,
            end=end,
            metric="cost",
            quantity=amount,
            unit="USD",
            organization_id=org_id,
            user_id=user_id,
            user_email=email,
            attributes={"member_id": member_id},
        )
        for (user_id, member_id, email), amount in merged.items()
    ]
    rest = exact_sum((amount.copy_negate() for amount in merged.values()), usage.total_usage)
    if rest != 0:
        records.append(
            UsageRecord.trusted(
                provider=PROVIDER,
                source=SOURCE,
                start=start,
                end=end,
                metric="cost",
                quantity=rest,
                unit="USD",
                organization_id=org_id,
                attributes={"unattributed": "true"},
            )
        )
    return records


@dataclass(frozen=True)
class _RecordsPlan:
    spec: RequestSpec
    org_id: str
    window: Window


class _BasedashMixin:
    """What both Basedash clients share: the default organization and request planning."""

    provider: ClassVar[str] = PROVIDER
    _org_id: str | None

    @property
    def org_id(self) -> str | None:
        """The default organization id (from ``org_id=`` or ``BASEDASH_ORG_ID``), or None."""
        return self._org_id

    def _resolve_org(self, org_id: str | None) -> str:
        if org_id is not None:
            return _check_org_id(org_id, origin="org_id")
        if self._org_id is None:
            raise ConfigError(
                f"{PROVIDER}: org_id is required; pass org_id=... to the client or the call, "
                f"or set {ORG_ID_ENV}"
            )
        return self._org_id

    def _plan(
        self, start: TimeLike | None, end: TimeLike | None, org_id: str | None
    ) -> _RecordsPlan:
        window = resolve_window(start, end, default_start=_DAWN)
        org = self._resolve_org(org_id)
        return _RecordsPlan(ai_usage_spec(org), org, window)


class BasedashClient(_BasedashMixin, SyncClientBase):
    """Synchronous Basedash client.

    Args:
        api_key: A Basedash API key of an organization admin; defaults to ``BASEDASH_API_KEY``.
        org_id: The default organization id; defaults to ``BASEDASH_ORG_ID``. It may also be
            passed to each call instead.
        base_url: The API's base URL; default ``BASEDASH_BASE_URL`` if set, else the public API.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.Client`` to use; the caller then closes it.

    Raises:
        ConfigError: No API key (the message names ``BASEDASH_API_KEY``), an empty org id, or
            a malformed option.
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        org_id: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        config = _config(api_key, base_url, timeout, max_retries, retry)
        self._org_id = _default_org_id(org_id)
        super().__init__(config, http_client=http_client)

    def ai_usage(self, org_id: str | None = None) -> BasedashAIUsage:
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
        return self._transport.request(spec, BasedashAIUsage)

    def records(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        org_id: str | None = None,
    ) -> Iterator[UsageRecord]:
        """Iterate the billing period's cost records (see :func:`usage_records`).

        Arguments are checked at once; the request is sent when iteration starts.

        Args:
            start: Keep records whose interval ends after this; None for no lower bound.
            end: Keep records whose interval starts before this; None for no upper bound.
            org_id: The organization; defaults to the client's.

        Returns:
            An iterator of records that sum to ``totalUsage``.

        Raises:
            ConfigError: A malformed window, ``start >= end``, or no organization id.
        """
        return self._iter_records(self._plan(start, end, org_id))

    def _iter_records(self, plan: _RecordsPlan) -> Iterator[UsageRecord]:
        usage = self._transport.request(plan.spec, BasedashAIUsage)
        yield from usage_records(usage, org_id=plan.org_id, window=plan.window)


class AsyncBasedashClient(_BasedashMixin, AsyncClientBase):
    """Asynchronous Basedash client; the twin of :class:`BasedashClient`.

    Args:
        api_key: A Basedash API key of an organization admin; defaults to ``BASEDASH_API_KEY``.
        org_id: The default organization id; defaults to ``BASEDASH_ORG_ID``.
        base_url: The API's base URL; default ``BASEDASH_BASE_URL`` if set, else the public API.
        timeout: Seconds (or an ``httpx.Timeout``) per attempt.
        max_retries: Retries after the first attempt.
        retry: A full retry policy (``max_retries`` overrides its count).
        http_client: An ``httpx.AsyncClient`` to use; the caller then closes it.

    Raises:
        ConfigError: No API key (the message names ``BASEDASH_API_KEY``), an empty org id, or
            a malformed option.
    """

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
        config = _config(api_key, base_url, timeout, max_retries, retry)
        self._org_id = _default_org_id(org_id)
        super().__init__(config, http_client=http_client)

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
            An async generator of records that sum to ``totalUsage``.

        Raises:
            ConfigError: A malformed window, ``start >= end``, or no organization id.
        """
        return self._iter_records(self._plan(start, end, org_id))

    async def _iter_records(self, plan: _RecordsPlan) -> AsyncIterator[UsageRecord]:
        usage = await self._transport.request(plan.spec, BasedashAIUsage)
        for record in usage_records(usage, org_id=plan.org_id, window=plan.window):
            yield record
