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

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from ..._core.errors import ResponseValidationError
from ..._core.records import (
    FLOW,
    Measure,
    MetricKind,
    UsageRecord,
    _id_hasher,
    _id_head,
    _id_tail,
)
from ..._core.table import RecordTable
from ..._core.wire import parse_utc_date
from ..._lineitems import anthropic_charge
from ._models import (
    AnthropicClaudeCodePage,
    AnthropicClaudeCodeRecord,
    AnthropicCostBucket,
    AnthropicCostPage,
    AnthropicMessagesBucket,
    AnthropicMessagesPage,
    cents_to_dollars,
)

__all__ = [
    "PROVIDER",
    "SOURCE_CLAUDE_CODE",
    "SOURCE_COST",
    "SOURCE_MESSAGES",
    "AnthropicPage",
    "claude_code_records",
    "cost_records",
    "messages_records",
    "page_records",
    "page_table",
]

AnthropicPage = AnthropicMessagesPage | AnthropicCostPage | AnthropicClaudeCodePage
"""A page of any of the three reports ``records()`` reads."""

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


_Amount = tuple[str, int | Decimal, str, MetricKind]
"""A measure whose quantity may still be a plain ``int`` (a count as the API sent it): tables
keep ints as they are, records get ``Decimal(count)``."""


class _Result(NamedTuple):
    """The records of one result: its measures and what they share (``trusted_many``'s
    arguments), so that one normalization feeds both records and tables."""

    measures: list[_Amount]
    source: str
    start: datetime
    end: datetime
    attributes: dict[str, str]
    organization_id: str | None = None
    project_id: str | None = None
    user_id: str | None = None
    user_email: str | None = None
    api_key_id: str | None = None
    model: str | None = None
    line_item: str | None = None


def _decimals(amounts: list[_Amount]) -> list[Measure]:
    return [(m, q if type(q) is Decimal else Decimal(q), u, k) for m, q, u, k in amounts]


def _records(results: Iterable[_Result]) -> list[UsageRecord]:
    out: list[UsageRecord] = []
    for result in results:
        out.extend(
            UsageRecord.trusted_many(
                _decimals(result.measures),
                provider=PROVIDER,
                source=result.source,
                start=result.start,
                end=result.end,
                organization_id=result.organization_id,
                project_id=result.project_id,
                user_id=result.user_id,
                user_email=result.user_email,
                api_key_id=result.api_key_id,
                model=result.model,
                line_item=result.line_item,
                attributes=result.attributes,
            )
        )
    return out


_Part = tuple[tuple[str | None, ...], dict[str, str], bytes]
"""A group's dimensions (interned), attributes (shared) and
:func:`~usagekit._core.records._id_tail`: what its records share whatever bucket it is in."""

_Parts = dict[tuple[tuple[str | None, ...], tuple[tuple[str, str], ...]], _Part]
"""The :data:`_Part` of each group met in one table, by its dimensions and attributes as sent."""


def _add(table: RecordTable, results: Iterable[_Result], parts: _Parts) -> None:
    """Add results as :meth:`RecordTable.add` would, counts in bulk (``add_counts``).

    The ids are :meth:`RecordTable.add_group`'s: a span's head (provider, source, start, end)
    is hashed once for the results in a row that share it, and a group's own part (interned
    dimensions, shared attributes, the tail of its id) is worked out once a table.
    """
    code_of, add_group = table.measure_code, table.add_hashed_group
    span: tuple[str, datetime, datetime] | None = None
    copy_head = None
    for result in results:
        measures = result.measures
        if not measures:
            continue
        key = (result[5:], tuple(result.attributes.items()))
        part = parts.get(key)
        if part is None:
            intern = table.intern
            dimensions = tuple([intern(value) for value in key[0]])
            attributes = table.shared_attributes(result.attributes)
            part = parts[key] = (dimensions, attributes, _id_tail(dimensions, attributes))
        dimensions, attributes, tail = part
        source, start, end = result.source, result.start, result.end
        if copy_head is None or span != (source, start, end):
            span = (source, start, end)
            copy_head = _id_hasher(_id_head(PROVIDER, source, start, end)).copy
        hasher = copy_head()
        hasher.update(tail)
        group = add_group(hasher.hexdigest(), PROVIDER, source, start, end, dimensions, attributes)
        codes = [code_of(metric, unit, kind) for metric, _, unit, kind in measures]
        quantities = [quantity for _, quantity, _, _ in measures]
        if all(type(quantity) is int for quantity in quantities):
            table.add_counts(group, codes, quantities)  # type: ignore[arg-type]  # all ints
        else:
            for code, quantity in zip(codes, quantities, strict=True):
                table.add_row(group, code, quantity)


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
    return _records(_messages_results(bucket, group_by))


def _messages_results(
    bucket: AnthropicMessagesBucket, group_by: Sequence[str]
) -> Iterator[_Result]:
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
        measures: list[_Amount] = [
            (metric, value, unit, FLOW) for metric, value, unit in counts if value is not None
        ]
        attributes = {
            name: str(value)
            for name in _USAGE_ATTRIBUTES
            if (value := getattr(row, name)) is not None
        }
        attributes.update(_null_groups(row, group_by, _NULL_GROUPS_USAGE))
        yield _Result(
            measures,
            SOURCE_MESSAGES,
            bucket.starting_at,
            bucket.ending_at,
            attributes,
            project_id=row.workspace_id,
            user_id=row.account_id,
            api_key_id=row.api_key_id,
            model=row.model,
        )


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
    return _records(_cost_results(bucket, group_by, index))


def _cost_results(
    bucket: AnthropicCostBucket, group_by: Sequence[str], index: int
) -> Iterator[_Result]:
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
        yield _Result(
            [("cost", cents_to_dollars(row.amount), currency, FLOW)],
            SOURCE_COST,
            bucket.starting_at,
            bucket.ending_at,
            attributes,
            project_id=row.workspace_id,
            model=row.model,
            line_item=row.description,
        )


def _count(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def claude_code_records(record: AnthropicClaudeCodeRecord) -> list[UsageRecord]:
    """Normalize one actor's Claude Code day.

    Args:
        record: The record.

    Returns:
        The activity records (no model), then per tool, then per model.
    """
    return _records(_claude_code_results(record))


def _claude_code_results(record: AnthropicClaudeCodeRecord) -> Iterator[_Result]:
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
    organization, email = record.organization_id, actor.email_address
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
    yield _Result(
        [(m, v, u, FLOW) for m, v, u in activity if v is not None],
        SOURCE_CLAUDE_CODE,
        start,
        end,
        attributes,
        organization_id=organization,
        user_email=email,
    )
    for tool, action in sorted(record.tool_actions.items()):
        counts = (
            ("claude_code_tool_accepted", action.accepted),
            ("claude_code_tool_rejected", action.rejected),
        )
        yield _Result(
            [(m, v, "actions", FLOW) for m, v in counts if v is not None],
            SOURCE_CLAUDE_CODE,
            start,
            end,
            {**attributes, "tool": tool},
            organization_id=organization,
            user_email=email,
        )
    for entry in record.model_breakdown:
        tokens = entry.tokens
        measures: list[_Amount] = []
        if tokens is not None:
            for metric, value in (
                ("claude_code_input_tokens", tokens.input),
                ("claude_code_output_tokens", tokens.output),
                ("claude_code_cache_read_tokens", tokens.cache_read),
                ("claude_code_cache_creation_tokens", tokens.cache_creation),
            ):
                if value is not None:
                    measures.append((metric, value, "tokens", FLOW))
        estimate = entry.estimated_cost
        if estimate is not None:
            unit = estimate.currency.strip().upper() or "USD"
            measures.append(("claude_code_estimated_cost", estimate.dollars, unit, FLOW))
        yield _Result(
            measures,
            SOURCE_CLAUDE_CODE,
            start,
            end,
            attributes,
            organization_id=organization,
            user_email=email,
            model=entry.model,
        )


def page_table(
    page: AnthropicPage, *, group_by: Sequence[str] = (), cost_group_by: Sequence[str] = ()
) -> RecordTable:
    """Normalize a whole page of any report into one table: the records the page's
    ``*_records`` functions give, in the same order, held as columns.

    Args:
        page: A usage report, cost report or Claude Code page.
        group_by: The usage report's ``group_by[]`` fields (a usage page).
        cost_group_by: The cost report's ``group_by[]`` fields (a cost page).

    Returns:
        The page's records.

    Raises:
        ResponseValidationError: A cost in a currency that is not a three-letter code.
    """
    table = RecordTable()
    parts: _Parts = {}
    if isinstance(page, AnthropicMessagesPage):
        for bucket in page.data:
            _add(table, _messages_results(bucket, group_by), parts)
    elif isinstance(page, AnthropicCostPage):
        for index, day in enumerate(page.data):
            _add(table, _cost_results(day, cost_group_by, index), parts)
    else:
        for record in page.data:
            _add(table, _claude_code_results(record), parts)
    return table


def page_records(
    page: AnthropicPage, *, group_by: Sequence[str] = (), cost_group_by: Sequence[str] = ()
) -> Iterator[UsageRecord]:
    """The records of one page of ``records()``, bucket by bucket (those :func:`page_table`
    holds, as objects).

    Args:
        page: A usage report, cost report or Claude Code page.
        group_by: The usage report's ``group_by[]`` fields (a usage page).
        cost_group_by: The cost report's ``group_by[]`` fields (a cost page).

    Yields:
        The records.
    """
    if isinstance(page, AnthropicMessagesPage):
        for bucket in page.data:
            yield from messages_records(bucket, group_by=group_by)
    elif isinstance(page, AnthropicCostPage):
        for index, day in enumerate(page.data):
            yield from cost_records(day, group_by=cost_group_by, index=index)
    else:
        for entry in page.data:
            yield from claude_code_records(entry)
