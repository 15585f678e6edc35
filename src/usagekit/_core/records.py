"""The normalized record every provider's data becomes."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from hashlib import blake2b
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from .clock import as_utc

__all__ = [
    "DERIVED_ATTRIBUTES",
    "DIMENSIONS",
    "FLOW",
    "LEVEL",
    "MEASURE_ATTRIBUTES",
    "TOKEN_METRICS",
    "Measure",
    "MetricKind",
    "UsageRecord",
    "built",
    "record_id",
]

MetricKind = Literal["flow", "level"]
"""``"flow"``: an amount over the record's interval, summable over time (tokens, cost).
``"level"``: a stock observed at the interval (bytes stored, credits remaining); summing a level
over time is meaningless, summing it across dimensions at one time is fine."""

FLOW: MetricKind = "flow"
"""The kind of a metric that adds up over time (tokens used, money spent)."""

LEVEL: MetricKind = "level"
"""The kind of a metric that is a stock observed at a time (bytes stored, credits remaining)."""

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

DERIVED_ATTRIBUTES: frozenset[str] = frozenset(
    {"charge_kind", "charge_model", "charge_tier", "charge_detail", "charge_tool"}
)
"""Attribute keys usagekit derives from a record's own fields (what its ``line_item`` says, see
:func:`usagekit.parse_line_item`). They are kept on the record but left out of its id: they add
no identity, and a record stored before they existed keeps its id."""

TOKEN_METRICS: frozenset[str] = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "uncached_input_tokens",
        "cache_read_input_tokens",
        "cache_creation_5m_input_tokens",
        "cache_creation_1h_input_tokens",
    }
)
"""The whole-token metrics: summing these (unit ``"tokens"``) counts every token once. Breakdown
metrics such as OpenAI's ``input_cached_tokens`` or ``input_audio_tokens`` are parts of
``input_tokens``, and ``reasoning_tokens`` of ``output_tokens``: they are left out of token
totals. Anthropic reports its input in four disjoint parts (uncached, cache reads, and cache
writes of 5 minutes and of 1 hour) and no ``input_tokens``: the four together are its input."""

_SEP = "\x1f"
_NONE = "\x00"


@functools.lru_cache(maxsize=8192)
def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _id_prefix(
    provider: str,
    source: str,
    start: datetime,
    end: datetime,
    dimensions: tuple[str | None, ...],
    attributes: Mapping[str, str],
) -> str:
    """Hash what the records of one result share (128 bits, hex)."""
    hasher = _id_hasher(_id_head(provider, source, start, end))
    hasher.update(_id_tail(dimensions, attributes))
    return hasher.hexdigest()


def _id_head(provider: str, source: str, start: datetime, end: datetime) -> str:
    """What the records of one bucket share in :func:`_id_prefix` (computed once a bucket)."""
    return _SEP.join((provider, source, _iso(start), _iso(end)))


def _id_hasher(head: str) -> blake2b:
    """The hash of :func:`_id_prefix` with a bucket's :func:`_id_head` fed in: ``copy()`` it
    and feed a result's :func:`_id_tail` (a bucket's results share the head's work)."""
    return blake2b(head.encode(), digest_size=16)


def _id_tail(dimensions: tuple[str | None, ...], attributes: Mapping[str, str]) -> bytes:
    """What follows the head in :func:`_id_prefix`'s text: a result's own part, encoded (the
    same for every bucket the result's group is in).

    Args:
        dimensions: The seven dimensions.
        attributes: The result's attributes (those left out of ids are skipped).

    Returns:
        The bytes to feed the :func:`_id_hasher` of the result's bucket.
    """
    parts = [_NONE if value is None else value for value in dimensions]
    if attributes:
        parts += [f"{key}={attributes[key]}" for key in sorted(attributes) if key not in _NOT_ID]
    return (_SEP + _SEP.join(parts)).encode() if parts else b""


_NOT_ID = MEASURE_ATTRIBUTES | DERIVED_ATTRIBUTES
"""Attribute keys left out of a record id."""


_SUFFIXES: dict[tuple[str, str, str], str] = {}


def _id_suffix(metric: str, unit: str, kind: str) -> str:
    """Hash what tells a result's records apart (64 bits, hex), cached per distinct triple."""
    key = (metric, unit, kind)
    suffix = _SUFFIXES.get(key)
    if suffix is None:
        text = _SEP.join(key).encode()
        suffix = blake2b(text, digest_size=8).hexdigest()
        if len(_SUFFIXES) > 4096:  # metrics are few; never let odd inputs grow this unbounded
            _SUFFIXES.clear()
        _SUFFIXES[key] = suffix
    return suffix


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
        attributes: Provider-specific dimensions; :data:`MEASURE_ATTRIBUTES` and
            :data:`DERIVED_ATTRIBUTES` are ignored.

    Returns:
        48 lower-case hex characters: a 128-bit hash of what a result's records share, then a
        64-bit hash of metric, unit and kind.
    """
    prefix = _id_prefix(provider, source, start, end, dimensions, attributes)
    return prefix + _id_suffix(metric, unit, kind)


Measure = tuple[str, Decimal, str, MetricKind]
"""``(metric, quantity, unit, kind)``: one measured amount of a result."""


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
        """Build one record from values already validated by a wire model, skipping validation.

        See :meth:`trusted_many`, which this calls with a single measure.

        Returns:
            The record.
        """
        (record,) = cls.trusted_many(
            ((metric, quantity, unit, kind),),
            provider=provider,
            source=source,
            start=start,
            end=end,
            organization_id=organization_id,
            project_id=project_id,
            user_id=user_id,
            user_email=user_email,
            api_key_id=api_key_id,
            model=model,
            line_item=line_item,
            attributes=attributes,
        )
        return record

    @classmethod
    def trusted_many(
        cls,
        measures: Iterable[Measure],
        *,
        provider: str,
        source: str,
        start: datetime,
        end: datetime,
        organization_id: str | None = None,
        project_id: str | None = None,
        user_id: str | None = None,
        user_email: str | None = None,
        api_key_id: str | None = None,
        model: str | None = None,
        line_item: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> list[UsageRecord]:
        """Build the records of one result (same interval and dimensions, several measures).

        For usagekit's own mappers on the hot path, this skips validation: the caller
        guarantees what validation would check (aware UTC datetimes with ``end > start``, finite
        ``Decimal`` quantities, an upper-case currency for cost). Ids are exactly those of
        validated records; the shared part of the id is hashed once for all the measures.

        Args:
            measures: ``(metric, quantity, unit, kind)`` for each record.
            provider: The provider name.
            source: The endpoint name.
            start: Interval start, aware UTC.
            end: Interval end, aware UTC.
            organization_id: Organization dimension.
            project_id: Project dimension.
            user_id: User dimension.
            user_email: User e-mail dimension.
            api_key_id: API key dimension.
            model: Model dimension.
            line_item: Line item dimension.
            attributes: Provider-specific dimensions (each record gets its own copy).

        Returns:
            One record per measure, in order.
        """
        attrs = attributes or {}
        dims = (organization_id, project_id, user_id, user_email, api_key_id, model, line_item)
        prefix = _id_prefix(provider, source, start, end, dims, attrs)
        base: dict[str, Any] = {
            "id": "",
            "provider": provider,
            "source": source,
            "start": start,
            "end": end,
            "metric": "",
            "quantity": _ZERO,
            "unit": "",
            "kind": FLOW,
            "organization_id": organization_id,
            "project_id": project_id,
            "user_id": user_id,
            "user_email": user_email,
            "api_key_id": api_key_id,
            "model": model,
            "line_item": line_item,
            "attributes": attrs,
        }
        suffix = _id_suffix
        out: list[UsageRecord] = []
        for metric, quantity, unit, kind in measures:
            fields = base.copy()
            fields["id"] = prefix + suffix(metric, unit, kind)
            fields["metric"] = metric
            fields["quantity"] = quantity
            fields["unit"] = unit
            fields["kind"] = kind
            fields["attributes"] = attrs.copy() if attrs else {}
            out.append(built(fields))
        return out

    @property
    def is_cost(self) -> bool:
        """Whether the record is money (metric ``"cost"``)."""
        return self.metric == "cost"

    def __hash__(self) -> int:
        return hash(self.id)


_ZERO = Decimal(0)
_FIELD_NAMES: set[str] = set(UsageRecord.model_fields)
_SLOT_SETTERS: tuple[Any, ...] = tuple(
    getattr(BaseModel, name).__set__
    for name in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)


def built(fields: dict[str, Any]) -> UsageRecord:
    """A record holding ``fields`` (every field, already valid), without validating them.

    Exactly the state ``model_construct`` leaves, without its per-field overhead: what
    :meth:`UsageRecord.trusted_many` and the columnar tables build records with.

    Args:
        fields: Every field of :class:`UsageRecord`, ``id`` included; kept as the record's own.

    Returns:
        The record.
    """
    record = object.__new__(UsageRecord)
    object.__setattr__(record, "__dict__", fields)
    set_fields_set, set_extra, set_private = _SLOT_SETTERS
    set_fields_set(record, _FIELD_NAMES)
    set_extra(record, None)
    set_private(record, None)
    return record
