"""Anthropic's reports to :class:`~usagekit.UsageRecord`. Nothing here does I/O.

Rules:

* **usage report** (source ``"messages"``): one record per count the API sent, the cache kinds
  kept apart (``uncached_input_tokens``, ``cache_read_input_tokens``,
  ``cache_creation_5m_input_tokens``, ``cache_creation_1h_input_tokens``, ``output_tokens``, in
  ``"tokens"``; ``web_search_requests`` in ``"requests"``); the four input counts are disjoint,
  so their sum is the total input and nothing is counted twice. ``model``, ``api_key_id``,
  ``workspace_id`` (as ``project_id``) and ``account_id`` (as ``user_id``) are dimensions;
  ``service_tier``, ``context_window``, ``inference_geo``, ``service_account_id`` and ``speed``
  are attributes.
* **cost report** (source ``"cost_report"``): metric ``"cost"`` in **dollars**, exactly the
  API's cents over 100, with the currency as unit; ``workspace_id`` as ``project_id``, ``model``,
  the description as ``line_item``, and ``cost_type``, ``token_type``, ``service_tier``,
  ``context_window``, ``inference_geo`` (and the derived ``charge_kind``) as attributes.
* **Claude Code** (source ``"claude_code"``): per actor and day, metrics prefixed
  ``claude_code_`` (sessions, lines, commits, pull requests, tool accepts and rejects per tool,
  tokens per model) and the *estimated* cost as ``claude_code_estimated_cost`` in dollars: never
  the metric ``"cost"``, so it is never summed with billed cost, and its tokens never with the
  usage report's (Claude Code's API usage is already in the usage report).
* a ``null`` group key of a field that was grouped by is a group of its own, never merged or
  dropped: the default workspace gets ``attributes["workspace"] = "default"``, usage without an
  API key (Console Playground, Workbench) ``attributes["api_key"] = "none"``, usage without a
  user account ``attributes["account"] = "none"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from ..._core.errors import ResponseValidationError
from ..._core.records import FLOW, Measure, UsageRecord
from ..._core.wire import parse_utc_date
from ..._lineitems import anthropic_charge
from ._models import (
    AnthropicClaudeCodeRecord,
    AnthropicCostBucket,
    AnthropicMessagesBucket,
    cents_to_dollars,
)

__all__ = [
    "PROVIDER",
    "SOURCE_CLAUDE_CODE",
    "SOURCE_COST",
    "SOURCE_MESSAGES",
    "claude_code_records",
    "cost_records",
    "messages_records",
]

PROVIDER = "anthropic"
SOURCE_MESSAGES = "messages"
SOURCE_COST = "cost_report"
SOURCE_CLAUDE_CODE = "claude_code"

_NULL_GROUPS = {"workspace_id": ("workspace", "default"), "api_key_id": ("api_key", "none")}
_NULL_GROUPS_USAGE = {**_NULL_GROUPS, "account_id": ("account", "none")}
_USAGE_ATTRIBUTES = (
    "service_tier",
    "context_window",
    "inference_geo",
    "service_account_id",
    "speed",
)
_COST_ATTRIBUTES = ("cost_type", "token_type", "service_tier", "context_window", "inference_geo")
_DAY = timedelta(days=1)


def _null_groups(
    row: object, group_by: Sequence[str], table: dict[str, tuple[str, str]]
) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for field in group_by:
        mark = table.get(field)
        if mark is not None and getattr(row, field) is None:
            attributes[mark[0]] = mark[1]
    return attributes


def messages_records(
    bucket: AnthropicMessagesBucket, *, group_by: Sequence[str] = ()
) -> list[UsageRecord]:
    """Normalize one usage report bucket.

    Args:
        bucket: The bucket.
        group_by: The ``group_by[]`` fields the request sent (to tell a null group from no
            grouping).

    Returns:
        The records, one per count sent, per row.
    """
    out: list[UsageRecord] = []
    for row in bucket.results:
        cache = row.cache_creation
        tools = row.server_tool_use
        counts = (
            ("uncached_input_tokens", row.uncached_input_tokens, "tokens"),
            ("cache_read_input_tokens", row.cache_read_input_tokens, "tokens"),
            (
                "cache_creation_5m_input_tokens",
                None if cache is None else cache.ephemeral_5m_input_tokens,
                "tokens",
            ),
            (
                "cache_creation_1h_input_tokens",
                None if cache is None else cache.ephemeral_1h_input_tokens,
                "tokens",
            ),
            ("output_tokens", row.output_tokens, "tokens"),
            (
                "web_search_requests",
                None if tools is None else tools.web_search_requests,
                "requests",
            ),
        )
        measures: list[Measure] = [
            (metric, Decimal(value), unit, FLOW)
            for metric, value, unit in counts
            if value is not None
        ]
        attributes = {
            name: str(value)
            for name in _USAGE_ATTRIBUTES
            if (value := getattr(row, name)) is not None
        }
        attributes.update(_null_groups(row, group_by, _NULL_GROUPS_USAGE))
        out.extend(
            UsageRecord.trusted_many(
                measures,
                provider=PROVIDER,
                source=SOURCE_MESSAGES,
                start=bucket.starting_at,
                end=bucket.ending_at,
                project_id=row.workspace_id,
                user_id=row.account_id,
                api_key_id=row.api_key_id,
                model=row.model,
                attributes=attributes,
            )
        )
    return out


def cost_records(
    bucket: AnthropicCostBucket, *, group_by: Sequence[str] = (), index: int = 0
) -> list[UsageRecord]:
    """Normalize one cost report day: ``cost`` in dollars, exact.

    Args:
        bucket: The day.
        group_by: The ``group_by[]`` fields the request sent.
        index: The bucket's position in its page (for error messages).

    Returns:
        One record per row.

    Raises:
        ResponseValidationError: A currency that is not a three-letter code.
    """
    out: list[UsageRecord] = []
    for position, row in enumerate(bucket.results):
        currency = row.currency.strip().upper()
        if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
            raise ResponseValidationError(
                f"the currency {row.currency[:20]!r} is not an ISO 4217 code",
                provider=PROVIDER,
                endpoint=SOURCE_COST,
                field=f"data.{index}.results.{position}.currency",
            )
        attributes = {
            name: value for name in _COST_ATTRIBUTES if (value := getattr(row, name)) is not None
        }
        attributes.update(_null_groups(row, group_by, _NULL_GROUPS))
        charge = anthropic_charge(row.token_type, row.cost_type)
        if charge is not None:
            attributes["charge_kind"] = charge
        out.append(
            UsageRecord.trusted(
                provider=PROVIDER,
                source=SOURCE_COST,
                start=bucket.starting_at,
                end=bucket.ending_at,
                metric="cost",
                quantity=cents_to_dollars(row.amount),
                unit=currency,
                project_id=row.workspace_id,
                model=row.model,
                line_item=row.description,
                attributes=attributes,
            )
        )
    return out


def _count(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def claude_code_records(record: AnthropicClaudeCodeRecord) -> list[UsageRecord]:
    """Normalize one actor's Claude Code day.

    Args:
        record: The record.

    Returns:
        The activity records (no model), then per tool, then per model.
    """
    start = parse_utc_date(record.date)
    end = start + _DAY
    actor = record.actor
    attributes = {"actor_type": actor.type}
    if actor.api_key_name is not None:
        attributes["api_key_name"] = actor.api_key_name
    for name in ("customer_type", "subscription_type", "terminal_type"):
        value = getattr(record, name)
        if value is not None:
            attributes[name] = str(value)
    if record.is_remote is not None:
        attributes["is_remote"] = "true" if record.is_remote else "false"
    common = {
        "provider": PROVIDER,
        "source": SOURCE_CLAUDE_CODE,
        "start": start,
        "end": end,
        "organization_id": record.organization_id,
        "user_email": actor.email_address,
    }
    core = record.core_metrics
    lines = None if core is None else core.lines_of_code
    activity = (
        ("claude_code_sessions", None if core is None else core.num_sessions, "sessions"),
        ("claude_code_lines_added", None if lines is None else lines.added, "lines"),
        ("claude_code_lines_removed", None if lines is None else lines.removed, "lines"),
        ("claude_code_commits", None if core is None else core.commits_by_claude_code, "commits"),
        (
            "claude_code_pull_requests",
            None if core is None else core.pull_requests_by_claude_code,
            "pull_requests",
        ),
    )
    out = UsageRecord.trusted_many(
        [(m, Decimal(v), u, FLOW) for m, v, u in activity if v is not None],
        attributes=attributes,
        **common,  # type: ignore[arg-type]
    )
    for tool, action in sorted(record.tool_actions.items()):
        counts = (
            ("claude_code_tool_accepted", action.accepted),
            ("claude_code_tool_rejected", action.rejected),
        )
        out.extend(
            UsageRecord.trusted_many(
                [(m, Decimal(v), "actions", FLOW) for m, v in counts if v is not None],
                attributes={**attributes, "tool": tool},
                **common,  # type: ignore[arg-type]
            )
        )
    for entry in record.model_breakdown:
        tokens = entry.tokens
        measures: list[Measure] = []
        if tokens is not None:
            for metric, value in (
                ("claude_code_input_tokens", tokens.input),
                ("claude_code_output_tokens", tokens.output),
                ("claude_code_cache_read_tokens", tokens.cache_read),
                ("claude_code_cache_creation_tokens", tokens.cache_creation),
            ):
                if value is not None:
                    measures.append((metric, Decimal(value), "tokens", FLOW))
        estimate = entry.estimated_cost
        if estimate is not None:
            unit = estimate.currency.strip().upper() or "USD"
            measures.append(("claude_code_estimated_cost", estimate.dollars, unit, FLOW))
        out.extend(
            UsageRecord.trusted_many(
                measures,
                model=entry.model,
                attributes=attributes,
                **common,  # type: ignore[arg-type]
            )
        )
    return out
