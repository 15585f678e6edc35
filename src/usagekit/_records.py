"""The normalized record every provider's data becomes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ._time import as_utc

__all__ = [
    "DIMENSIONS",
    "FLOW",
    "LEVEL",
    "MEASURE_ATTRIBUTES",
    "MetricKind",
    "TOKEN_METRICS",
    "UsageRecord",
    "record_id",
]

MetricKind = Literal["flow", "level"]
"""``"flow"``: an amount over the record's interval, summable over time (tokens, cost).
``"level"``: a stock observed at the interval (bytes stored, credits remaining); summing a level
over time is meaningless, summing it across dimensions at one time is fine."""

FLOW: MetricKind = "flow"
LEVEL: MetricKind = "level"

DIMENSIONS: tuple[str, ...] = (
    "organization_id",
    "project_id",
    "user_id",
    "user_email",
    "api_key_id",
    "model",
    "line_item",
)
"""The dimension fields of :class:`UsageRecord`, in id order."""

MEASURE_ATTRIBUTES: frozenset[str] = frozenset({"quantity", "quantity_unit"})
"""Attribute keys that describe the measured amount rather than identify the fact (OpenAI
costs' own ``quantity``/``quantity_unit``). They are kept on the record but left out of its id,
so that a corrected figure replaces the old record instead of standing beside it."""

TOKEN_METRICS: frozenset[str] = frozenset({"input_tokens", "output_tokens", "total_tokens"})
"""The whole-token metrics: summing these (unit ``"tokens"``) counts every token once. Breakdown
metrics such as OpenAI's ``input_cached_tokens`` or ``input_audio_tokens`` are parts of
``input_tokens`` and are left out of token totals."""

_SEP = "\x1f"
_NONE = "\x00"


def record_id(
    provider: str,
    source: str,
    start: datetime,
    end: datetime,
    metric: str,
    unit: str,
    kind: str,
    dimensions: tuple[str | None, ...],
    attributes: Mapping[str, str],
) -> str:
    """Return the deterministic id of a record: a hash of everything but the quantity.

    Args:
        provider: The provider name.
        source: The endpoint name.
        start: The interval start (aware UTC).
        end: The interval end (aware UTC).
        metric: The metric name.
        unit: The unit.
        kind: ``"flow"`` or ``"level"``.
        dimensions: The values of :data:`DIMENSIONS`, in that order.
        attributes: Provider-specific dimensions; :data:`MEASURE_ATTRIBUTES` are ignored.

    Returns:
        32 lower-case hex characters.
    """
    parts = [provider, source, start.isoformat(), end.isoformat(), metric, unit, kind]
    parts.extend(_NONE if value is None else value for value in dimensions)
    for key in sorted(attributes):
        if key not in MEASURE_ATTRIBUTES:
            parts.append(f"{key}={attributes[key]}")
    return hashlib.blake2b(_SEP.join(parts).encode(), digest_size=16).hexdigest()


class UsageRecord(BaseModel):
    """One measured fact: how much of ``metric`` a provider reports for an interval and dimensions.

    Records are immutable and hashable. ``id`` is derived from every field but ``quantity``
    (and the :data:`MEASURE_ATTRIBUTES`), so the same fact fetched twice has the same id and a
    corrected quantity replaces the old one wherever records are keyed by id.

    Attributes:
        id: Deterministic id (computed; passing a different one is an error).
        provider: ``"openai"``, ``"basedash"``, ``"unsiloed"``, ``"daramex"``, ...
        source: The endpoint the fact came from (``"completions"``, ``"costs"``, ``"ai_usage"``).
        start: Interval start, aware UTC, inclusive.
        end: Interval end, aware UTC, exclusive.
        metric: The provider's own name for the measure (``"input_tokens"``); money is ``"cost"``.
        quantity: The amount, exact.
        unit: ``"tokens"``, ``"requests"``, ``"bytes"``, ``"credits"``, ...; for ``"cost"`` the
            upper-case ISO 4217 currency (``"USD"``).
        kind: ``"flow"`` (summable over time) or ``"level"`` (a stock; never sum over time).
        organization_id: Organization dimension.
        project_id: Project dimension.
        user_id: User dimension.
        user_email: User e-mail dimension.
        api_key_id: API key dimension (an id, never the key itself).
        model: Model dimension.
        line_item: Billing line item dimension.
        attributes: Provider-specific dimensions, string to string.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""
    provider: str
    source: str
    start: datetime
    end: datetime
    metric: str
    quantity: Decimal
    unit: str
    kind: MetricKind = FLOW
    organization_id: str | None = None
    project_id: str | None = None
    user_id: str | None = None
    user_email: str | None = None
    api_key_id: str | None = None
    model: str | None = None
    line_item: str | None = None
    attributes: dict[str, str] = {}

    @field_validator("start", "end", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> datetime:
        return as_utc(value) if isinstance(value, (datetime, str, int, float)) else value

    @field_validator("quantity")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("quantity must be a finite number")
        return value

    @model_validator(mode="after")
    def _check_and_identify(self) -> UsageRecord:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.provider or not self.source or not self.metric or not self.unit:
            raise ValueError("provider, source, metric and unit must be non-empty")
        if self.metric == "cost" and not (
            len(self.unit) == 3 and self.unit.isalpha() and self.unit.isupper()
        ):
            raise ValueError(f"cost unit must be an upper-case ISO 4217 code, got {self.unit!r}")
        computed = self.compute_id()
        if self.id and self.id != computed:
            raise ValueError("id does not match the record's fields")
        object.__setattr__(self, "id", computed)
        return self

    def dimensions(self) -> tuple[str | None, ...]:
        """Return the values of :data:`DIMENSIONS` in order."""
        return (
            self.organization_id,
            self.project_id,
            self.user_id,
            self.user_email,
            self.api_key_id,
            self.model,
            self.line_item,
        )

    def compute_id(self) -> str:
        """Return the id this record's fields determine."""
        return record_id(
            self.provider,
            self.source,
            self.start,
            self.end,
            self.metric,
            self.unit,
            self.kind,
            self.dimensions(),
            self.attributes,
        )

    @classmethod
    def trusted(
        cls,
        *,
        provider: str,
        source: str,
        start: datetime,
        end: datetime,
        metric: str,
        quantity: Decimal,
        unit: str,
        kind: MetricKind = FLOW,
        organization_id: str | None = None,
        project_id: str | None = None,
        user_id: str | None = None,
        user_email: str | None = None,
        api_key_id: str | None = None,
        model: str | None = None,
        line_item: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> UsageRecord:
        """Build a record from values already validated by a wire model, skipping validation.

        For usagekit's own mappers on the hot path: the caller guarantees what validation would
        check (aware UTC datetimes with ``end > start``, a finite ``Decimal``, an upper-case
        currency for cost). The id is computed exactly as for a validated record.

        Returns:
            The record.
        """
        attrs = attributes if attributes is not None else {}
        dims = (organization_id, project_id, user_id, user_email, api_key_id, model, line_item)
        return cls.model_construct(
            id=record_id(provider, source, start, end, metric, unit, kind, dims, attrs),
            provider=provider,
            source=source,
            start=start,
            end=end,
            metric=metric,
            quantity=quantity,
            unit=unit,
            kind=kind,
            organization_id=organization_id,
            project_id=project_id,
            user_id=user_id,
            user_email=user_email,
            api_key_id=api_key_id,
            model=model,
            line_item=line_item,
            attributes=attrs,
        )

    @property
    def is_cost(self) -> bool:
        """Whether the record is money (metric ``"cost"``)."""
        return self.metric == "cost"

    def __hash__(self) -> int:
        return hash(self.id)
