"""Anthropic's wire models: the JSON of the three reports as sent, unknown fields kept.

Every grouping field is optional and ``None`` when the report was not grouped by it; ``None``
is also a real group (the default workspace, Console Playground usage without a key, requests
not made with OAuth), so nothing here drops or merges rows. Counts the API leaves out are
``None``, never invented as zeros.
"""

from __future__ import annotations

import decimal
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from ..._core.wire import EXACT, Count, ExactDecimal, UTCDateTime, WireModel, parse_iso_day

__all__ = [
    "AnthropicCacheCreation",
    "AnthropicClaudeCodeActor",
    "AnthropicClaudeCodeCoreMetrics",
    "AnthropicClaudeCodeModel",
    "AnthropicClaudeCodeModelTokens",
    "AnthropicClaudeCodePage",
    "AnthropicClaudeCodeRecord",
    "AnthropicCostBucket",
    "AnthropicCostPage",
    "AnthropicCostResult",
    "AnthropicEstimatedCost",
    "AnthropicLinesOfCode",
    "AnthropicMessagesBucket",
    "AnthropicMessagesPage",
    "AnthropicMessagesResult",
    "AnthropicServerToolUse",
    "AnthropicToolAction",
    "cents_to_dollars",
    "parse_report_day",
]


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def _decimal_text(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, str):
        text = value.strip()
        try:
            return Decimal(text)
        except decimal.InvalidOperation:
            raise ValueError(f"not a decimal amount: {value[:40]!r}") from None
    return value


Cents = Annotated[ExactDecimal, BeforeValidator(_decimal_text), AfterValidator(_finite)]
"""An amount in US cents: a decimal string (the cost report) or a JSON number (Claude Code's
estimate), exact at any precision."""


def cents_to_dollars(cents: Decimal) -> Decimal:
    """Convert cents to dollars exactly: ``Decimal(amount) / 100``, never rounded.

    Args:
        cents: An amount in cents, at any precision.

    Returns:
        The amount in dollars (the same digits, the exponent two lower).
    """
    return cents.scaleb(-2, EXACT)


def parse_report_day(value: Any) -> date:
    """Read a Claude Code ``date``: RFC 3339 midnight (``2025-09-08T00:00:00Z``) or ``YYYY-MM-DD``.

    As :func:`~usagekit._core.wire.parse_iso_day`, except that a date-time whose UTC day is
    beyond the calendar raises ``OverflowError`` (as this parser always has).

    Args:
        value: The raw JSON value.

    Returns:
        The UTC day.

    Raises:
        ValueError: Not a string holding an ISO-8601 date or date-time, or a day beyond the
            calendar.
    """
    return parse_iso_day(value)


ReportDay = Annotated[date, BeforeValidator(parse_report_day)]


class AnthropicCacheCreation(WireModel):
    """Input tokens written to the prompt cache, by cache lifetime.

    Attributes:
        ephemeral_5m_input_tokens: Written to the 5-minute cache.
        ephemeral_1h_input_tokens: Written to the 1-hour cache.
    """

    ephemeral_5m_input_tokens: Count | None = None
    ephemeral_1h_input_tokens: Count | None = None


class AnthropicServerToolUse(WireModel):
    """Server tool use counts.

    Attributes:
        web_search_requests: Web search requests made.
    """

    web_search_requests: Count | None = None


class AnthropicMessagesResult(WireModel):
    """One row of a usage report bucket (one combination of the ``group_by[]`` fields).

    The four input counts are disjoint: the total input is their sum.

    Attributes:
        uncached_input_tokens: Input tokens neither read from nor written to the cache.
        cache_creation: Input tokens written to the cache, by lifetime.
        cache_read_input_tokens: Input tokens read from the cache.
        output_tokens: Output tokens.
        server_tool_use: Server tool use counts.
        account_id: The user account (``user_...``) when grouped by it.
        api_key_id: The API key (``apikey_...``) when grouped by it; None for Console usage.
        workspace_id: The workspace when grouped by it; None for the default workspace.
        model: The model id when grouped by it.
        service_tier: The service tier when grouped by it.
        context_window: ``"0-200k"`` or ``"200k-1M"`` when grouped by it.
        inference_geo: ``"global"``, ``"us"`` or ``"not_available"`` when grouped by it.
        service_account_id: The service account (``svac_...``) when grouped by it.
        speed: ``"standard"`` or ``"fast"`` when grouped by it.
    """

    uncached_input_tokens: Count | None = None
    cache_creation: AnthropicCacheCreation | None = None
    cache_read_input_tokens: Count | None = None
    output_tokens: Count | None = None
    server_tool_use: AnthropicServerToolUse | None = None
    account_id: str | None = None
    api_key_id: str | None = None
    workspace_id: str | None = None
    model: str | None = None
    service_tier: str | None = None
    context_window: str | None = None
    inference_geo: str | None = None
    service_account_id: str | None = None
    speed: str | None = None


class AnthropicMessagesBucket(WireModel):
    """One time bucket of the usage report (empty buckets have no results).

    Attributes:
        starting_at: The bucket's start (UTC, inclusive).
        ending_at: The bucket's end (UTC, exclusive).
        results: Its rows.
    """

    starting_at: UTCDateTime
    ending_at: UTCDateTime
    results: list[AnthropicMessagesResult] = Field(default_factory=list)


class AnthropicMessagesPage(WireModel):
    """A page of ``GET /v1/organizations/usage_report/messages``.

    Attributes:
        data: Buckets, oldest first.
        has_more: Whether another page follows.
        next_page: The cursor of the next page.
    """

    data: list[AnthropicMessagesBucket]
    has_more: bool = False
    next_page: str | None = None


class AnthropicCostResult(WireModel):
    """One row of a cost report bucket.

    Attributes:
        amount: The cost in **US cents**, exact (the API sends a decimal string).
        currency: The currency, ``"USD"``.
        cost_type: ``tokens``, ``web_search``, ``code_execution``, ``session_usage``, ... when
            grouped by description.
        description: The line item (``"Claude Sonnet 4 Usage - Input Tokens"``) when grouped
            by description.
        model: The model id when grouped by description (None for costs of no model).
        token_type: ``uncached_input_tokens``, ``output_tokens``, ``cache_read_input_tokens``,
            ``cache_creation.ephemeral_5m_input_tokens`` or ``..._1h_...`` when grouped by
            description (None for costs that are not tokens).
        service_tier: ``standard`` or ``batch`` when grouped by description.
        context_window: ``0-200k`` or ``200k-1M`` when grouped by description.
        inference_geo: The inference geography when grouped by description.
        workspace_id: The workspace when grouped by it; None for the default workspace.
    """

    amount: Cents
    currency: str
    cost_type: str | None = None
    description: str | None = None
    model: str | None = None
    token_type: str | None = None
    service_tier: str | None = None
    context_window: str | None = None
    inference_geo: str | None = None
    workspace_id: str | None = None

    @property
    def dollars(self) -> Decimal:
        """The cost in dollars, exact (:attr:`amount` / 100)."""
        return cents_to_dollars(self.amount)


class AnthropicCostBucket(WireModel):
    """One day of the cost report.

    Attributes:
        starting_at: The day's start (UTC midnight).
        ending_at: The day's end (the next midnight).
        results: Its rows.
    """

    starting_at: UTCDateTime
    ending_at: UTCDateTime
    results: list[AnthropicCostResult] = Field(default_factory=list)


class AnthropicCostPage(WireModel):
    """A page of ``GET /v1/organizations/cost_report``.

    Attributes:
        data: Days, oldest first.
        has_more: Whether another page follows.
        next_page: The cursor of the next page.
    """

    data: list[AnthropicCostBucket]
    has_more: bool = False
    next_page: str | None = None


class AnthropicClaudeCodeActor(WireModel):
    """Who used Claude Code: a user (OAuth) or an API key.

    Attributes:
        type: ``"user_actor"`` or ``"api_actor"``.
        email_address: The user's e-mail, for a user actor.
        api_key_name: The API key's name, for an API actor.
    """

    type: str
    email_address: str | None = None
    api_key_name: str | None = None


class AnthropicLinesOfCode(WireModel):
    """Lines of code Claude Code changed.

    Attributes:
        added: Lines added.
        removed: Lines removed.
    """

    added: Count | None = None
    removed: Count | None = None


class AnthropicClaudeCodeCoreMetrics(WireModel):
    """An actor's day of Claude Code activity.

    Attributes:
        num_sessions: Sessions.
        lines_of_code: Lines added and removed.
        commits_by_claude_code: Commits made.
        pull_requests_by_claude_code: Pull requests made.
    """

    num_sessions: Count | None = None
    lines_of_code: AnthropicLinesOfCode | None = None
    commits_by_claude_code: Count | None = None
    pull_requests_by_claude_code: Count | None = None


class AnthropicToolAction(WireModel):
    """How often a tool's proposals were accepted and rejected.

    Attributes:
        accepted: Accepted proposals.
        rejected: Rejected proposals.
    """

    accepted: Count | None = None
    rejected: Count | None = None


class AnthropicClaudeCodeModelTokens(WireModel):
    """Tokens one model used in Claude Code.

    Attributes:
        input: Input tokens.
        output: Output tokens.
        cache_read: Cache read tokens.
        cache_creation: Cache creation tokens.
    """

    input: Count | None = None
    output: Count | None = None
    cache_read: Count | None = None
    cache_creation: Count | None = None


class AnthropicEstimatedCost(WireModel):
    """Claude Code's *estimated* cost (not a billed amount).

    Attributes:
        currency: ``"USD"``.
        amount: The estimate in **US cents**, exact (the API sends a JSON number).
    """

    currency: str = "USD"
    amount: Cents

    @property
    def dollars(self) -> Decimal:
        """The estimate in dollars, exact (:attr:`amount` / 100)."""
        return cents_to_dollars(self.amount)


class AnthropicClaudeCodeModel(WireModel):
    """One model's share of an actor's Claude Code day.

    Attributes:
        model: The model id.
        tokens: Its tokens.
        estimated_cost: Its estimated cost.
    """

    model: str
    tokens: AnthropicClaudeCodeModelTokens | None = None
    estimated_cost: AnthropicEstimatedCost | None = None


class AnthropicClaudeCodeRecord(WireModel):
    """One actor's day of Claude Code (``GET /v1/organizations/usage_report/claude_code``).

    Attributes:
        date: The UTC day.
        actor: Who.
        organization_id: The organization's UUID.
        customer_type: ``"api"`` or ``"subscription"``.
        subscription_type: ``"enterprise"``, ``"team"`` or None.
        terminal_type: The terminal (``"vscode"``, ``"iTerm.app"``, ...).
        is_remote: Whether from remote sessions (Claude Code on the web).
        core_metrics: Sessions, lines, commits, pull requests.
        tool_actions: Accept and reject counts by tool name.
        model_breakdown: Tokens and estimated cost per model.
    """

    date: ReportDay
    actor: AnthropicClaudeCodeActor
    organization_id: str | None = None
    customer_type: str | None = None
    subscription_type: str | None = None
    terminal_type: str | None = None
    is_remote: bool | None = None
    core_metrics: AnthropicClaudeCodeCoreMetrics | None = None
    tool_actions: dict[str, AnthropicToolAction] = Field(default_factory=dict)
    model_breakdown: list[AnthropicClaudeCodeModel] = Field(default_factory=list)


class AnthropicClaudeCodePage(WireModel):
    """A page of the Claude Code usage report (records of one day).

    Attributes:
        data: The records.
        has_more: Whether more records of the day follow.
        next_page: The cursor of the next page.
    """

    data: list[AnthropicClaudeCodeRecord]
    has_more: bool = False
    next_page: str | None = None
