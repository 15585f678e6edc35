"""What :class:`~usagekit.UsageReport` adds up: the ``by=`` dimensions, totals and summaries.

Sums are exact (a 120-digit context, never the default 28). Flows are summed; a level (bytes
stored, credits remaining) is never summed over time: the latest value of each series within a
group is taken, and those are summed across series.
"""

from __future__ import annotations

import decimal
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ._canonical import CANONICAL_DIMENSIONS
from ._core.errors import ConfigError
from ._core.records import LEVEL, TOKEN_METRICS, UsageRecord

__all__ = [
    "DIMENSION_ALIASES",
    "DimensionValue",
    "Group",
    "Total",
    "compute_totals",
    "dimension_getter",
    "summary_rows",
]

_TICK = timedelta(microseconds=1)
_EXACT = decimal.Context(prec=120)  # sums stay exact; the default context rounds at 28 digits

_TIME_DIMENSIONS = frozenset({"hour", "day", "month"})

DimensionValue = str | None
"""The value of one dimension of a record (None when the record has none)."""
Group = tuple[DimensionValue, ...]
"""The values of the ``by`` dimensions of a group, in their order."""

DIMENSION_ALIASES: dict[str, str] = {
    "provider": "provider",
    "source": "source",
    "metric": "metric",
    "unit": "unit",
    "kind": "kind",
    "organization": "organization_id",
    "organization_id": "organization_id",
    "project": "project_id",
    "project_id": "project_id",
    "user": "user_id",
    "user_id": "user_id",
    "email": "user_email",
    "user_email": "user_email",
    "api_key": "api_key_id",
    "api_key_id": "api_key_id",
    "model": "model",
    "line_item": "line_item",
    "hour": "hour",
    "day": "day",
    "month": "month",
    "canonical_model": "canonical_model",
    "model_vendor": "model_vendor",
    "model_family": "model_family",
    "model_snapshot": "model_snapshot",
}
"""Names accepted by ``by=``: record fields, short aliases, the UTC calendar units ``hour``,
``day`` and ``month`` of a record's start, the canonical model dimensions ``canonical_model``
(``vendor/family``, the same across providers), ``model_vendor``, ``model_family`` and
``model_snapshot`` (see :func:`usagekit.canonical_model`), and ``attributes.<key>`` for any
attribute."""


def dimension_getter(name: str) -> Callable[[UsageRecord], DimensionValue]:
    """Return the function reading dimension ``name`` of a record.

    Args:
        name: A key of :data:`DIMENSION_ALIASES`, or ``attributes.<key>``.

    Returns:
        The getter.

    Raises:
        ConfigError: An unknown dimension (the message lists the allowed ones).
    """
    if name.startswith("attributes."):
        key = name.split(".", 1)[1]
        return lambda r: r.attributes.get(key)
    target = DIMENSION_ALIASES.get(name)
    if target is None:
        allowed = ", ".join(sorted(DIMENSION_ALIASES)) + ", attributes.<key>"
        raise ConfigError(f"cannot group by {name!r}; allowed: {allowed}")
    if target in _TIME_DIMENSIONS:
        return functools.partial(_calendar_label, target)
    computed = CANONICAL_DIMENSIONS.get(target)
    if computed is not None:
        return computed
    return lambda r: getattr(r, target)


_LABELS = {"hour": "%Y-%m-%dT%H:00Z", "day": "%Y-%m-%d", "month": "%Y-%m"}


def _calendar_label(unit: str, record: UsageRecord) -> str:
    """The UTC hour, day or month a record lies in; its whole span when it lies in several.

    A billing-period total (Basedash's month, Unsiloed's 30-day cycle) grouped by day is
    labelled ``2026-11-16/2026-12-16`` (an ISO 8601 interval, end exclusive), never as if it
    had all happened on its first day.
    """
    pattern = _LABELS[unit]
    first = record.start.strftime(pattern)
    last = (record.end - _TICK).strftime(pattern) if record.end > record.start else first
    if first == last:
        return first
    span = "%Y-%m-%dT%H:%MZ" if unit == "hour" else "%Y-%m-%d"
    return f"{record.start.strftime(span)}/{record.end.strftime(span)}"


def _series_key(record: UsageRecord) -> tuple[Any, ...]:
    """Everything that identifies a level's series, i.e. the record's identity minus time."""
    return (
        record.provider,
        record.source,
        record.metric,
        record.unit,
        record.dimensions(),
        tuple(sorted(record.attributes.items())),
    )


@dataclass(frozen=True)
class Total:
    """One line of :meth:`UsageReport.totals`.

    Attributes:
        group: The values of the ``by`` dimensions, in their order.
        metric: The metric.
        unit: The unit (the currency for cost).
        quantity: Flows summed; levels as the latest value per series, summed across series.
        records: How many records contributed.
    """

    group: Group
    metric: str
    unit: str
    quantity: Decimal
    records: int

    def __str__(self) -> str:
        """``openai / gpt-4o: cost 1,234.50 USD (12 records)``: exact, readable.

        Money (``metric == "cost"``) is shown to the cent with thousands separators (a
        non-zero amount under half a cent reads ``< 0.01``); other quantities in full.
        """
        from ._io._display import format_money

        group = " / ".join("-" if v is None else v for v in self.group)
        amount = (
            format_money(self.quantity, self.unit)
            if self.metric == "cost"
            else f"{self.quantity:,} {self.unit}"
        )
        count = f"{self.records:,} record{'' if self.records == 1 else 's'}"
        return f"{group + ': ' if group else ''}{self.metric} {amount} ({count})"


def compute_totals(
    records: Iterable[UsageRecord],
    by: str | Sequence[str],
    metric: str | None,
    unit: str | None,
) -> list[Total]:
    """Total each metric per group, exactly (see :meth:`usagekit.UsageReport.totals`).

    Args:
        records: The records.
        by: One dimension name or several (see :data:`DIMENSION_ALIASES`).
        metric: Only this metric, or None.
        unit: Only this unit, or None.

    Returns:
        Totals sorted by group, then metric and unit.

    Raises:
        ConfigError: An unknown dimension.
    """
    with decimal.localcontext(_EXACT):
        return _totals(records, by, metric, unit)


def _totals(
    records: Iterable[UsageRecord], by: str | Sequence[str], metric: str | None, unit: str | None
) -> list[Total]:
    names = [by] if isinstance(by, str) else list(by)
    getters = [dimension_getter(name) for name in names]
    flows: dict[tuple[Group, str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[Group, str, str], int] = defaultdict(int)
    latest: dict[tuple[Group, str, str], dict[tuple[Any, ...], UsageRecord]] = defaultdict(dict)
    for record in records:
        if (metric is not None and record.metric != metric) or (
            unit is not None and record.unit != unit
        ):
            continue
        key = (tuple(get(record) for get in getters), record.metric, record.unit)
        counts[key] += 1
        if record.kind == LEVEL:
            series = latest[key]
            current = series.get(_series_key(record))
            if current is None or record.end > current.end:
                series[_series_key(record)] = record
        else:
            flows[key] += record.quantity
    for key, series in latest.items():
        flows[key] += sum((r.quantity for r in series.values()), Decimal(0))
    rows = [Total(g, m, u, q, counts[(g, m, u)]) for (g, m, u), q in flows.items()]
    rows.sort(key=lambda t: (tuple("" if v is None else v for v in t.group), t.metric, t.unit))
    return rows


def summary_rows(
    records: Sequence[UsageRecord], totals: Iterable[Total], by: str | Sequence[str]
) -> list[dict[str, Any]]:
    """Gather totals into one row per group (see :meth:`usagekit.UsageReport.summary`).

    Args:
        records: The report's records (to tell a level's credits from consumed ones).
        totals: The report's totals by ``by``.
        by: The dimension(s) the totals are grouped by.

    Returns:
        The rows, in time order when grouped by ``hour``, ``day`` or ``month``, else largest
        cost first.
    """
    rows: dict[Group, dict[str, Any]] = {}
    levels = {r.metric for r in records if r.kind == LEVEL}
    for total in totals:
        row = rows.setdefault(
            total.group,
            {
                "group": total.group,
                "cost": {},
                "tokens": Decimal(0),
                "records": 0,
                "credits": None,
            },
        )
        row["records"] += total.records
        if total.metric == "cost":
            row["cost"][total.unit] = total.quantity
        elif total.unit == "tokens" and total.metric in TOKEN_METRICS:
            row["tokens"] += total.quantity
        elif total.unit == "credits" and total.metric not in levels:
            row["credits"] = (row["credits"] or Decimal(0)) + total.quantity
    names = [by] if isinstance(by, str) else list(by)
    if any(DIMENSION_ALIASES.get(name) in _TIME_DIMENSIONS for name in names):
        ordered = sorted(rows.values(), key=lambda r: tuple(v or "" for v in r["group"]))
    else:
        ordered = sorted(rows.values(), key=lambda r: -sum(r["cost"].values(), Decimal(0)))
    for row in ordered:
        row["values"] = row["group"]
        row["group"] = " / ".join("-" if v is None else v for v in row["group"])
    return ordered
