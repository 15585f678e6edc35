"""Exact cost allocation: a provider's bill split over its own usage, to the last digit.

OpenAI's costs carry project, line item and API key, never model or user; its usage carries
model, user and key, never money. :func:`allocate_records` joins the two: each cost record is
split over the usage of the same provider, interval, project (and key, when the costs were
grouped by key) and model, in proportion to the usage the line item is priced on (uncached input
tokens for ``"..., input"``, cached input tokens for ``"..., cached input"``, images of the
line item's size for ``"dall-e-3, images 1024x1024"``, web searches of the line item's context
level, GiB-hours for vector storage, ...; see :data:`OPENAI_BASES`).

Rules:

* **Exact.** Pieces are multiples of :data:`QUANTUM` (``1e-9`` of the currency unit, far below
  any displayed digit), shared by the largest-remainder method: each piece gets the whole
  quanta of its exact share, the quanta left over go one each to the largest remainders (ties
  to the earlier target in a stable order), and a sub-quantum residue (an amount with more than
  nine decimals) goes to the largest piece. The pieces of one cost therefore sum to it exactly.
* **Nothing counted twice.** The allocated records replace the cost record they come from.
  Usage records are untouched.
* **Nothing invented.** A cost that no usage matches (no usage of that model that day, usage
  not grouped finely enough, a line item not understood, zero usage of the priced kind) stays
  as one record, marked ``allocation_method="unallocated"`` with ``allocation_reason``. When
  its line item names a model, that record takes the model (``allocation_basis="line_item"``):
  the bill itself says which model it is for.
* **Explained.** Every record this produces says how: ``allocation_method``
  (``"usage_share"`` or ``"unallocated"``), ``allocation_basis`` (``"completions:
  input_text_tokens-input_cached_text_tokens+..."``), ``allocation_share`` (``weight/total``)
  and ``allocated_from`` (the id of the cost record split).

Only providers whose cost records lack the usage dimensions are allocated (OpenAI today);
cost records of other providers, records already allocated, and cost records that already name
a model or a user pass through unchanged.
"""

from __future__ import annotations

import bisect
import decimal
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ._core.records import LEVEL, MEASURE_ATTRIBUTES, UsageRecord
from ._lineitems import LineItem, charge_attributes, parse_line_item

__all__ = [
    "ALLOCATION_ATTRIBUTES",
    "ALLOCATION_QUANTUM",
    "OPENAI_BASES",
    "QUANTUM",
    "AllocationSummary",
    "Basis",
    "allocate_records",
    "split_exact",
    "summarize_allocation",
]

QUANTUM = Decimal("0.000000001")
"""The fixed quantum of allocated pieces: ``1e-9`` of the currency unit (a billionth of a
dollar). Pieces are whole multiples of it, except for a sub-quantum residue of an amount that
itself has more than nine decimals, which goes to the largest piece."""

ALLOCATION_QUANTUM = QUANTUM
"""The quantum of allocated pieces, ``Decimal("0.000000001")`` (see :data:`QUANTUM`)."""

ALLOCATION_ATTRIBUTES: tuple[str, ...] = (
    "allocation_method",
    "allocation_basis",
    "allocation_share",
    "allocation_reason",
    "allocated_from",
)
"""The attributes an allocated (or explicitly unallocated) cost record carries."""

_EXACT = decimal.Context(prec=120, traps=[decimal.InvalidOperation, decimal.Inexact])

Term = tuple[str, int]
"""``(metric, sign)``: one term of a weight formula."""


@dataclass(frozen=True)
class Basis:
    """What a charge is split by: one usage source, and weight formulas tried in order.

    Attributes:
        source: The usage endpoint (``record.source``), e.g. ``"completions"``.
        formulas: Weight formulas, each a sum of signed metrics; the first whose metrics every
            matching usage result reports is used.
        match: Attribute name to the line item field whose value it must equal
            (``{"size": "detail"}``: the image size of the line item).
        tiered: Whether the line item's price tier is matched against the usage's ``batch``
            and ``service_tier`` attributes.
    """

    source: str
    formulas: tuple[tuple[Term, ...], ...]
    match: tuple[tuple[str, str], ...] = ()
    tiered: bool = False


def _f(*terms: str) -> tuple[Term, ...]:
    return tuple((t[1:], -1) if t.startswith("-") else (t, 1) for t in terms)


def _formula_text(formula: tuple[Term, ...]) -> str:
    text = "".join(("+" if sign > 0 else "-") + metric for metric, sign in formula)
    return text[1:] if text.startswith("+") else text


_COMPLETIONS: dict[str, tuple[tuple[Term, ...], ...]] = {
    "input": (
        _f(
            "input_text_tokens",
            "-input_cached_text_tokens",
            "input_image_tokens",
            "-input_cached_image_tokens",
        ),
        _f(
            "input_tokens",
            "-input_cached_tokens",
            "-input_audio_tokens",
            "input_cached_audio_tokens",
        ),
        _f("input_tokens", "-input_cached_tokens"),
    ),
    "cached_input": (
        _f("input_cached_text_tokens", "input_cached_image_tokens"),
        _f("input_cached_tokens", "-input_cached_audio_tokens"),
        _f("input_cached_tokens"),
    ),
    "cache_write": (_f("input_cache_write_tokens"),),
    "output": (
        _f("output_text_tokens", "output_image_tokens"),
        _f("output_tokens", "-output_audio_tokens"),
        _f("output_tokens"),
    ),
    "audio_input": (
        _f("input_audio_tokens", "-input_cached_audio_tokens"),
        _f("input_audio_tokens"),
    ),
    "cached_audio_input": (_f("input_cached_audio_tokens"),),
    "audio_output": (_f("output_audio_tokens"),),
}

OPENAI_BASES: dict[tuple[str, str | None, str | None], tuple[Basis, ...]] = {
    **{
        (charge, None, None): (
            Basis("completions", formulas, tiered=True),
            *(
                (
                    Basis("embeddings", (_f("input_tokens"),)),
                    Basis("moderations", (_f("input_tokens"),)),
                )
                if charge == "input"
                else ()
            ),
        )
        for charge, formulas in _COMPLETIONS.items()
    },
    ("image", None, None): (Basis("images", (_f("images"),), match=(("size", "detail"),)),),
    ("audio", None, "characters"): (Basis("audio_speeches", (_f("characters"),)),),
    ("audio", None, "audio"): (Basis("audio_transcriptions", (_f("seconds"),)),),
    ("tool_call", "web-search", None): (
        Basis("web_search_calls", (_f("num_requests"),), match=(("context_level", "detail"),)),
    ),
    ("tool_call", "file-search", None): (Basis("file_search_calls", (_f("num_requests"),)),),
    ("tool_call", "code-interpreter", None): (
        Basis("code_interpreter_sessions", (_f("num_sessions"),)),
    ),
    ("storage", "vector-stores", None): (Basis("vector_stores", (_f("usage_bytes"),)),),
}
"""OpenAI's bases: ``(charge kind, tool, detail)`` of a line item to the usage it is split by.
A model's token charges look in ``completions`` (then ``embeddings``, ``moderations`` for
input); the first source with matching usage is used. Vector storage is split by byte-hours
(the ``usage_bytes`` level summed over its buckets), everything else by a flow."""

_BASES_BY_PROVIDER = {"openai": OPENAI_BASES}
_STANDARD_TIERS = frozenset({"default", "auto", "standard"})


def _bases(provider: str, item: LineItem) -> tuple[Basis, ...]:
    table = _BASES_BY_PROVIDER[provider]
    charge = item.charge or ""
    for key in ((charge, item.tool, item.detail), (charge, item.tool, None)):
        found = table.get(key)
        if found is not None:
            return found
    return ()


def split_exact(
    amount: Decimal, weights: Sequence[Decimal | int], quantum: Decimal = QUANTUM
) -> list[Decimal]:
    """Split an amount in proportion to weights, exactly, by the largest-remainder method.

    Args:
        amount: The amount (may be negative: a credit is split the same way, negated).
        weights: Non-negative weights with a positive sum.
        quantum: The quantum the pieces are multiples of (see :data:`QUANTUM`).

    Returns:
        One piece per weight, summing exactly to ``amount``.

    Raises:
        ValueError: No weights, a negative weight, a zero sum, or a non-positive quantum.
    """
    if not weights:
        raise ValueError("nothing to split over")
    exact = [Fraction(w) for w in weights]
    if any(w < 0 for w in exact):
        raise ValueError("weights must not be negative")
    total = sum(exact, Fraction(0))
    if total <= 0:
        raise ValueError("weights must have a positive sum")
    if not quantum > 0:
        raise ValueError("the quantum must be positive")
    with decimal.localcontext(_EXACT):
        negative = amount < 0
        size = -amount if negative else amount
        units = int(Fraction(size) // Fraction(quantum))
        residue = size - quantum * units
        shares = [units * w / total for w in exact]
        floors = [int(s) for s in shares]  # shares are non-negative: int() floors
        left = units - sum(floors)
        order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
        for i in order[:left]:
            floors[i] += 1
        pieces = [quantum * n for n in floors]
        if residue:
            largest = max(range(len(exact)), key=lambda i: (exact[i], -i))
            pieces[largest] += residue
        exponent, finest = size.as_tuple().exponent, quantum.as_tuple().exponent
        if isinstance(exponent, int) and isinstance(finest, int) and exponent > finest:
            # written with the amount's own decimals where that is the same number
            step = Decimal(1).scaleb(exponent)
            pieces = [p.quantize(step) if p % step == 0 else p for p in pieces]
        return [-p if negative else p for p in pieces]


@dataclass
class _Result:
    """The records of one usage result: one bucket, one group, several metrics."""

    source: str
    start: datetime
    end: datetime
    first: UsageRecord
    metrics: dict[str, Decimal] = field(default_factory=dict)


def _results(
    records: Iterable[UsageRecord], providers: set[str]
) -> dict[tuple[str, str], list[_Result]]:
    grouped: dict[tuple[Any, ...], _Result] = {}
    for record in records:
        if record.provider not in providers or record.metric == "cost":
            continue
        key = (
            record.provider,
            record.source,
            record.start,
            record.end,
            record.dimensions(),
            tuple(
                sorted((k, v) for k, v in record.attributes.items() if k not in MEASURE_ATTRIBUTES)
            ),
        )
        result = grouped.get(key)
        if result is None:
            result = grouped[key] = _Result(record.source, record.start, record.end, record)
        if record.kind == LEVEL or record.metric not in result.metrics:
            result.metrics[record.metric] = record.quantity
    index: dict[tuple[str, str], list[_Result]] = defaultdict(list)
    for (provider, source, *_), result in grouped.items():
        index[(provider, source)].append(result)
    for results in index.values():
        results.sort(key=lambda r: r.start)
    return index


def _tier_ok(result: UsageRecord, tier: str | None) -> bool:
    batch = result.attributes.get("batch")
    service = result.attributes.get("service_tier")
    if tier == "batch":
        if batch is not None:
            return batch == "true"
        return service is None or service == "batch"
    if batch == "true":
        return False
    if service is None:
        return True
    if tier is None:
        return service in _STANDARD_TIERS
    return service == tier


@dataclass(frozen=True)
class _Grouping:
    """Which dimensions a provider's costs were grouped by (None in them then means none)."""

    project: bool
    key: bool


def _matches(
    cost: UsageRecord, item: LineItem, basis: Basis, result: _Result, grouping: _Grouping
) -> bool:
    usage = result.first
    if result.start < cost.start or result.end > cost.end:
        return False
    if (grouping.project or cost.project_id is not None) and usage.project_id != cost.project_id:
        return False
    if (grouping.key or cost.api_key_id is not None) and usage.api_key_id != cost.api_key_id:
        return False
    if item.model is not None and usage.model != item.model:
        return False
    for attribute, wanted in basis.match:
        expected = getattr(item, wanted)
        if expected is not None and usage.attributes.get(attribute, expected) != expected:
            return False
    return not basis.tiered or _tier_ok(usage, item.tier)


def _weight(result: _Result, formula: tuple[Term, ...]) -> Decimal:
    with decimal.localcontext(_EXACT):
        return sum(
            (
                result.metrics[metric] if sign > 0 else -result.metrics[metric]
                for metric, sign in formula
            ),
            Decimal(0),
        )


def _unallocated(cost: UsageRecord, item: LineItem | None, reason: str) -> UsageRecord:
    attributes = {**cost.attributes, **charge_attributes(item)}
    attributes.update(
        allocation_method="unallocated", allocation_reason=reason, allocated_from=cost.id
    )
    model = cost.model
    if model is None and item is not None and item.model is not None:
        model = item.model
        attributes["allocation_basis"] = "line_item"
    return UsageRecord.trusted(
        provider=cost.provider,
        source=cost.source,
        start=cost.start,
        end=cost.end,
        metric=cost.metric,
        quantity=cost.quantity,
        unit=cost.unit,
        kind=cost.kind,
        organization_id=cost.organization_id,
        project_id=cost.project_id,
        user_id=cost.user_id,
        user_email=cost.user_email,
        api_key_id=cost.api_key_id,
        model=model,
        line_item=cost.line_item,
        attributes=attributes,
    )


_Target = tuple[str | None, str | None, str | None, str | None, str | None, str | None]


def _allocate_one(
    cost: UsageRecord,
    index: dict[tuple[str, str], list[_Result]],
    grouping: _Grouping,
    quantum: Decimal,
) -> list[UsageRecord]:
    item = parse_line_item(cost.line_item)
    if item is None:
        return [_unallocated(cost, None, "no line item: the costs were not grouped by line_item")]
    if not item.parsed:
        return [_unallocated(cost, item, f"line item not understood: {item.raw!r}")]
    bases = _bases(cost.provider, item)
    if not bases:
        return [_unallocated(cost, item, f"no usage measures the charge {item.charge!r}")]
    for basis in bases:
        results = index.get((cost.provider, basis.source), [])
        low = bisect.bisect_left(results, cost.start, key=lambda r: r.start)
        high = bisect.bisect_left(results, cost.end, key=lambda r: r.start)
        matched = [r for r in results[low:high] if _matches(cost, item, basis, r, grouping)]
        if matched:
            break
    else:
        what = f"model {item.model}" if item.model else f"{bases[0].source}"
        return [_unallocated(cost, item, f"no usage of {what} in this interval and group")]
    formula = next(
        (f for f in basis.formulas if all(all(m in r.metrics for m, _ in f) for r in matched)),
        None,
    )
    if formula is None:
        return [
            _unallocated(
                cost, item, f"the matching {basis.source} usage lacks the metrics the charge needs"
            )
        ]
    weights: dict[_Target, Decimal] = defaultdict(Decimal)
    with decimal.localcontext(_EXACT):
        for result in matched:
            usage = result.first
            target = (
                usage.organization_id or cost.organization_id,
                cost.project_id if cost.project_id is not None else usage.project_id,
                usage.user_id,
                usage.user_email,
                cost.api_key_id if cost.api_key_id is not None else usage.api_key_id,
                usage.model if usage.model is not None else item.model,
            )
            weights[target] += _weight(result, formula)
    basis_text = f"{basis.source}:{_formula_text(formula)}"
    if any(w < 0 for w in weights.values()):
        return [_unallocated(cost, item, f"negative usage weight ({basis_text})")]
    targets = sorted(
        ((t, w) for t, w in weights.items() if w > 0),
        key=lambda tw: tuple("" if v is None else v for v in tw[0]),
    )
    if not targets:
        return [_unallocated(cost, item, f"the matching usage has no {basis_text}")]
    pieces = split_exact(cost.quantity, [w for _, w in targets], quantum)
    total = sum((w for _, w in targets), Decimal(0))
    base = {k: v for k, v in cost.attributes.items() if k not in MEASURE_ATTRIBUTES}
    base.update(charge_attributes(item))
    base.update(
        allocation_method="usage_share", allocation_basis=basis_text, allocated_from=cost.id
    )
    same_quantity = cost.attributes.get("quantity") == str(total) or (
        "quantity" in cost.attributes and _same_number(cost.attributes["quantity"], total)
    )
    out = []
    for (target, weight), piece in zip(targets, pieces, strict=True):
        organization, project, user, email, key, model = target
        attributes = {**base, "allocation_share": f"{weight}/{total}"}
        if same_quantity:  # the basis is what was billed: each piece's consumed quantity is known
            attributes["quantity"] = str(weight)
            if "quantity_unit" in cost.attributes:
                attributes["quantity_unit"] = cost.attributes["quantity_unit"]
        out.append(
            UsageRecord.trusted(
                provider=cost.provider,
                source=cost.source,
                start=cost.start,
                end=cost.end,
                metric=cost.metric,
                quantity=piece,
                unit=cost.unit,
                kind=cost.kind,
                organization_id=organization,
                project_id=project,
                user_id=user,
                user_email=email,
                api_key_id=key,
                model=model,
                line_item=cost.line_item,
                attributes=attributes,
            )
        )
    return out


def _same_number(text: str, value: Decimal) -> bool:
    try:
        return Decimal(text) == value
    except decimal.DecimalException:
        return False


def _needs_allocation(record: UsageRecord) -> bool:
    return (
        record.metric == "cost"
        and record.provider in _BASES_BY_PROVIDER
        and "allocation_method" not in record.attributes
        and record.model is None
        and record.user_id is None
        and record.user_email is None
    )


def allocate_records(
    records: Iterable[UsageRecord], *, quantum: Decimal = QUANTUM
) -> list[UsageRecord]:
    """Split each cost record over the usage that explains it (see the module docstring).

    Args:
        records: Usage and cost records (a report's records); walked once.
        quantum: The quantum of the pieces (default :data:`QUANTUM`).

    Returns:
        The records in their order, each cost record that needs allocation replaced by its
        pieces (or by one ``unallocated`` record saying why). Money is conserved exactly per
        cost record, hence per provider, project, day and currency.
    """
    items = list(records)
    providers = {r.provider for r in items if _needs_allocation(r)}
    if not providers:
        return items
    index = _results(items, providers)
    groupings = {
        provider: _Grouping(
            project=any(
                r.project_id is not None for r in items if r.provider == provider and r.is_cost
            ),
            key=any(
                r.api_key_id is not None for r in items if r.provider == provider and r.is_cost
            ),
        )
        for provider in providers
    }
    out: list[UsageRecord] = []
    for record in items:
        if _needs_allocation(record):
            out.extend(_allocate_one(record, index, groupings[record.provider], quantum))
        else:
            out.append(record)
    return out


@dataclass(frozen=True)
class AllocationSummary:
    """How much of the spend an allocation split, and why the rest was not.

    Attributes:
        allocated: Per currency, the cost split over usage.
        unallocated: Per reason, per currency, the cost left whole.
        untouched: Per currency, cost that needed no allocation (another provider's, or
            already naming a model or user).
        pieces: How many allocated records there are.
    """

    allocated: dict[str, Decimal]
    unallocated: dict[str, dict[str, Decimal]]
    untouched: dict[str, Decimal]
    pieces: int

    def lines(self) -> list[str]:
        """The summary as a few lines of text for people.

        Returns:
            One line for the allocated cost, one per reason something stayed unallocated.
        """

        def money(amounts: dict[str, Decimal]) -> str:
            return ", ".join(f"{v:,.2f} {c}" for c, v in sorted(amounts.items())) or "none"

        out = [
            f"allocated over usage: {money(self.allocated)} in {self.pieces:,} records",
        ]
        for reason, amounts in sorted(
            self.unallocated.items(), key=lambda kv: -sum(kv[1].values())
        ):
            out.append(f"unallocated: {money(amounts)}: {reason}")
        if not self.unallocated:
            out.append("unallocated: none")
        if self.untouched:
            out.append(f"already attributed by the provider: {money(self.untouched)}")
        return out


def _reason_family(reason: str) -> str:
    return reason.split(": '", 1)[0] if reason.startswith("line item not understood") else reason


def summarize_allocation(records: Iterable[UsageRecord]) -> AllocationSummary:
    """Summarize the cost records of an allocated record set.

    Args:
        records: Records as :func:`allocate_records` returns them.

    Returns:
        The totals of allocated, unallocated (by reason) and untouched cost.
    """
    allocated: dict[str, Decimal] = defaultdict(Decimal)
    unallocated: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    untouched: dict[str, Decimal] = defaultdict(Decimal)
    pieces = 0
    with decimal.localcontext(decimal.Context(prec=120)):
        for record in records:
            if not record.is_cost:
                continue
            method = record.attributes.get("allocation_method")
            if method == "usage_share":
                allocated[record.unit] += record.quantity
                pieces += 1
            elif method == "unallocated":
                reason = _reason_family(record.attributes.get("allocation_reason", "unknown"))
                unallocated[reason][record.unit] += record.quantity
            else:
                untouched[record.unit] += record.quantity
    return AllocationSummary(
        dict(allocated), {k: dict(v) for k, v in unallocated.items()}, dict(untouched), pieces
    )
