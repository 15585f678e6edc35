"""The sandbox's rows and events: what its data is made of, and what its ground truth returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "BasedashEvent",
    "BasedashPeriod",
    "CostRow",
    "DaramexEvent",
    "Dim",
    "UnsiloedCycle",
    "UnsiloedEvent",
    "UsageRow",
]

Dim = str | bool | None
"""The value of a dimension field (ids and enums are strings, ``batch`` is a bool)."""


class UsageRow(NamedTuple):
    """OpenAI usage at the hour or minute grain for one combination of dimensions.

    Attributes:
        kind: Usage endpoint name, e.g. ``completions``.
        start: Unix seconds at which the hour (or minute) starts.
        width: 3600 for an hourly row, 60 for a minute row.
        dims: Every dimension field of the kind (``project_id``, ``model``, ``batch``, ...).
        metrics: The result's numeric fields, e.g. ``input_tokens``. For ``vector_stores``
            ``usage_bytes`` is the level stored during the row, not a flow.
    """

    kind: str
    start: int
    width: int
    dims: Mapping[str, Dim]
    metrics: Mapping[str, int]


class CostRow(NamedTuple):
    """One OpenAI cost line item for one hour and one usage row.

    Attributes:
        start: Unix seconds of the hour.
        kind: The usage endpoint the cost comes from.
        project_id: Project charged.
        api_key_id: Key used, or None (playground, storage, sessions).
        line_item: For example ``gpt-4o-2024-08-06, input``.
        quantity: Units billed.
        quantity_unit: ``tokens``, ``images``, ``characters``, ``duration_seconds``,
            ``gibibyte_hours``, ``sessions`` or ``calls``.
        amount: USD, quantized to 6 decimal places.
    """

    start: int
    kind: str
    project_id: str | None
    api_key_id: str | None
    line_item: str
    quantity: Decimal
    quantity_unit: str
    amount: Decimal


class BasedashEvent(NamedTuple):
    """One billable Basedash AI action.

    ``user_id``/``member_id``/``email`` are None for usage that no member is credited with;
    usage by a removed member carries their ids but they are not in ``memberUsage``.
    """

    ts: int
    user_id: str | None
    member_id: str | None
    email: str | None
    usage: Decimal


class UnsiloedEvent(NamedTuple):
    """One Unsiloed job and the credits it used."""

    ts: int
    credits: int
    operation: str


class DaramexEvent(NamedTuple):
    """One row of Daramex ``token_usage_logs``.

    Attributes:
        ts: Unix seconds.
        org_id: Organization.
        source: ``system`` or ``byok``.
        action: ``user_interaction``, ``guardrail_check``, ...
        model: Gateway model id.
        input_tokens: Regular (not cached) input tokens.
        cache_read_tokens: Input tokens served from the prompt cache.
        output_tokens: Output tokens.
        cost_usd: Cost, quantized to 6 decimal places.
        latency_ms: Execution latency, or None for models without latency data.
    """

    ts: int
    org_id: str
    source: str
    action: str
    model: str
    input_tokens: int
    cache_read_tokens: int
    output_tokens: int
    cost_usd: Decimal
    latency_ms: float | None

    @property
    def total_input_tokens(self) -> int:
        """Cache reads plus regular input."""
        return self.input_tokens + self.cache_read_tokens

    @property
    def total_tokens(self) -> int:
        """All tokens of the row."""
        return self.input_tokens + self.cache_read_tokens + self.output_tokens


@dataclass(frozen=True)
class BasedashPeriod:
    """Basedash usage for one billing period (a calendar month, UTC).

    Attributes:
        start: First instant of the period.
        end: First instant of the next period.
        total: All billable usage in the period up to now (USD).
        members: Usage by current member ``user_id`` (members without usage are absent).
        unattributed: ``total`` minus the members' usage (removed members, no member).
    """

    start: datetime
    end: datetime
    total: Decimal
    members: dict[str, Decimal]
    unattributed: Decimal


@dataclass(frozen=True)
class UnsiloedCycle:
    """Unsiloed's current 30-day billing cycle."""

    last_billed_date: date
    current_usage: int
    usage_limit: int

    @property
    def remaining_quota(self) -> int:
        """``usage_limit - current_usage``."""
        return self.usage_limit - self.current_usage
