"""What :class:`~usagekit.UsageReport` adds up: the ``by=`` dimensions, totals and summaries.

Sums are exact (a 120-digit context, never the default 28). Flows are summed; a level (bytes
stored, credits remaining) is never summed over time: the latest value of each series within a
group is taken, and those are summed across series.
"""

from __future__ import annotations

import decimal
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from ._canonical import CANONICAL_DIMENSIONS
from ._core.errors import ConfigError
from ._core.records import LEVEL, TOKEN_METRICS, UsageRecord
from ._core.table import G_ATTRIBUTES, G_DIMENSIONS, RecordTable
from ._core.table import Group as TableGroup

__all__ = [
    "DIMENSION_ALIASES",
    "DimensionValue",
    "Group",
    "Total",
    "calendar_text",
    "compute_totals",
    "dimension_getter",
    "summary_rows",
    "table_levels",
    "table_totals",
]

_TICK = timedelta(microseconds=1)
_EXACT = decimal.Context(prec=120)  # sums stay exact; the default context rounds at 28 digits
_EXACT_ONLY = decimal.Context(prec=120, traps=[decimal.Inexact, decimal.Rounded])

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
    return calendar_text(unit, record.start, record.end)


def calendar_text(unit: str, start: datetime, end: datetime) -> str:
    """:func:`_calendar_label` of an interval: its UTC hour, day or month, or its span.

    Args:
        unit: ``"hour"``, ``"day"`` or ``"month"``.
        start: The interval's start, aware UTC.
        end: Its end (exclusive).

    Returns:
        The label.
    """
    pattern = _LABELS[unit]
    first = start.strftime(pattern)
    last = (end - _TICK).strftime(pattern) if end > start else first
    if first == last:
        return first
    span = "%Y-%m-%dT%H:%MZ" if unit == "hour" else "%Y-%m-%d"
    return f"{start.strftime(span)}/{end.strftime(span)}"


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
        if isinstance(records, RecordTable):
            names = [by] if isinstance(by, str) else list(by)
            for name in names:
                dimension_getter(name)  # an unknown dimension is refused first, as below
            try:
                with decimal.localcontext(_EXACT_ONLY):
                    return table_totals(records, names, metric, unit)
            except (decimal.Inexact, decimal.Rounded):
                pass  # a sum past 120 digits rounds: add the records in their order instead
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
    if isinstance(records, RecordTable):
        levels = table_levels(records)
    else:
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


# -- the same, from a report's columns (a RecordTable) -----------------------------------------

_GROUP_FIELDS = {
    "provider": 1,
    "source": 2,
    "organization_id": 5,
    "project_id": 6,
    "user_id": 7,
    "user_email": 8,
    "api_key_id": 9,
    "model": 10,
    "line_item": 11,
}
_MEASURE_FIELDS = {"metric": 0, "unit": 1, "kind": 2}

GroupGetter = Callable[[TableGroup, Mapping[str, str]], DimensionValue]


class _ModelView:
    """What the canonical model getters read of a record: provider, model, attributes."""

    __slots__ = ("attributes", "model", "provider")

    def __init__(self, provider: str, model: str | None, attributes: dict[str, str]) -> None:
        self.provider = provider
        self.model = model
        self.attributes = attributes


def _group_getter(name: str) -> tuple[int | None, GroupGetter | None, bool]:
    """How ``name`` is read from a table: ``(measure position, group getter, reads attributes)``.

    Exactly one of the first two is set: a measure's metric, unit or kind (position in
    :meth:`RecordTable.measures`), or a function of the group and the record's attributes.
    """
    if name.startswith("attributes."):
        key = name.split(".", 1)[1]
        return None, lambda group, attributes: attributes.get(key), True
    target = DIMENSION_ALIASES[name]
    if target in _MEASURE_FIELDS:
        return _MEASURE_FIELDS[target], None, False
    if target in _TIME_DIMENSIONS:
        labels: dict[tuple[datetime, datetime], str] = {}

        def label(group: TableGroup, attributes: Mapping[str, str]) -> DimensionValue:
            span = (group[3], group[4])
            text = labels.get(span)
            if text is None:
                text = labels[span] = calendar_text(target, group[3], group[4])
            return text

        return None, label, False
    computed = CANONICAL_DIMENSIONS.get(target)
    if computed is not None:
        found: dict[tuple[str, str | None, str | None], DimensionValue] = {}

        def canonical(group: TableGroup, attributes: Mapping[str, str]) -> DimensionValue:
            model = group[10]
            charge = attributes.get("charge_model") if model is None else None
            key = (group[1], model, charge)
            if key not in found:
                view = _ModelView(
                    group[1], model, {} if charge is None else {"charge_model": charge}
                )
                found[key] = computed(cast(UsageRecord, view))
            return found[key]

        return None, canonical, True
    position = _GROUP_FIELDS[target]
    return None, lambda group, attributes: group[position], False


def table_totals(
    table: RecordTable, names: Sequence[str], metric: str | None, unit: str | None
) -> list[Total]:
    """:func:`compute_totals` of a table, from its columns (the same totals, in the same order).

    Each group's ``by`` values are computed once; the records are then added up per group
    value and measure (ints as ints, other ``Decimal`` quantities exactly), levels taken as the
    latest value per series as :func:`compute_totals` does.

    Args:
        table: The records.
        names: Known dimension names (see :data:`DIMENSION_ALIASES`).
        metric: Only this metric, or None.
        unit: Only this unit, or None.

    Returns:
        Totals sorted by group, then metric and unit.

    Raises:
        decimal.Inexact: A sum needs more than 120 digits, so is rounded (``decimal.Rounded``
            likewise): the caller then adds the records up one by one, in their order.
    """
    measures = table.measures()
    allowed = [
        (metric is None or measure[0] == metric) and (unit is None or measure[1] == unit)
        for measure in measures
    ]
    if not any(allowed):
        return []
    level = [measure[2] == LEVEL for measure in measures]
    width = len(measures)
    parts = [_group_getter(name) for name in names]
    getters = [getter for _, getter, _ in parts if getter is not None]
    reads_attributes = any(reads for _, _, reads in parts)
    values: dict[tuple[DimensionValue, ...], int] = {}
    by_number: list[tuple[DimensionValue, ...]] = []

    def number(group: TableGroup, attributes: Mapping[str, str]) -> int:
        value = tuple([get(group, attributes) for get in getters])
        found = values.get(value)
        if found is None:
            found = values[value] = len(by_number)
            by_number.append(value)
        return found * width

    groups, group_index, codes = table.groups(), table.group_index(), table.measure_index()
    ints, decimals = table.int_quantities(), table.decimal_quantities()
    sets = table.attribute_sets()
    base = [number(group, sets[group[G_ATTRIBUTES]]) for group in groups]
    own: dict[int, int] = {}  # rows whose own attributes give another group value
    if reads_attributes:
        for row, attributes in table.row_attributes().items():
            own[row] = number(groups[group_index[row]], attributes) + codes[row]
    sums: dict[int, list[int]] = {}  # group value * width + code -> [records, int sum]
    get = sums.get
    if own or not all(allowed):
        for row in range(len(codes)):
            code = codes[row]
            if not allowed[code]:
                continue
            pair = own.get(row)
            if pair is None:
                pair = base[group_index[row]] + code
            entry = get(pair)
            if entry is None:
                sums[pair] = [1, ints[row]]
            else:
                entry[0] += 1
                entry[1] += ints[row]
    else:
        for group_number, code, quantity in zip(group_index, codes, ints, strict=True):
            pair = base[group_number] + code
            entry = get(pair)
            if entry is None:
                sums[pair] = [1, quantity]
            else:
                entry[0] += 1
                entry[1] += quantity
    exact: dict[int, Decimal] = {}  # the pairs' other Decimals, added exactly
    for row, value in decimals.items():
        code = codes[row]
        if allowed[code] and not level[code]:
            pair = own.get(row, base[group_index[row]] + code)
            exact[pair] = exact.get(pair, Decimal(0)) + value

    positions = [position for position, _, _ in parts]

    def key_of(pair: int) -> tuple[Group, str, str]:
        found, code = divmod(pair, width)
        measure = measures[code]
        given = iter(by_number[found])
        group = tuple(
            next(given) if position is None else measure[position] for position in positions
        )
        return group, measure[0], measure[1]

    counts: dict[tuple[Group, str, str], int] = defaultdict(int)
    flows: dict[tuple[Group, str, str], Decimal] = {}
    for pair, (records, whole) in sums.items():
        key = key_of(pair)
        counts[key] += records
        if level[pair % width]:
            continue
        amount = Decimal(whole)
        extra = exact.get(pair)
        if extra is not None:
            amount += extra
        flows[key] = flows.get(key, Decimal(0)) + amount
    for key, latest in _table_levels_latest(table, allowed, level, own, base, key_of).items():
        flows[key] = flows.get(key, Decimal(0)) + sum(latest, Decimal(0))
    rows = [Total(g, m, u, q, counts[(g, m, u)]) for (g, m, u), q in flows.items()]
    rows.sort(key=lambda t: (tuple("" if v is None else v for v in t.group), t.metric, t.unit))
    return rows


def _table_levels_latest(
    table: RecordTable,
    allowed: list[bool],
    level: list[bool],
    own: dict[int, int],
    base: list[int],
    key_of: Callable[[int], tuple[Group, str, str]],
) -> dict[tuple[Group, str, str], list[Decimal]]:
    """The latest value of each level series, per total (keys in first-record order)."""
    wanted = {code for code, flag in enumerate(level) if flag and allowed[code]}
    if not wanted:
        return {}
    groups, group_index, measures = table.groups(), table.group_index(), table.measures()
    row_attributes, sets = table.row_attributes(), table.attribute_sets()
    latest: dict[tuple[Group, str, str], dict[tuple[Any, ...], tuple[datetime, Decimal]]] = {}
    for row, code in enumerate(table.measure_index()):
        if code not in wanted:
            continue
        group = groups[group_index[row]]
        metric, unit, _, _ = measures[code]
        attributes = row_attributes.get(row, sets[group[G_ATTRIBUTES]])
        key = key_of(own.get(row, base[group_index[row]] + code))
        series = (
            group[1],
            group[2],
            metric,
            unit,
            group[G_DIMENSIONS:G_ATTRIBUTES],
            tuple(sorted(attributes.items())),
        )
        known = latest.setdefault(key, {})
        current = known.get(series)
        if current is None or group[4] > current[0]:
            known[series] = (group[4], table.quantity(row))
    return {key: [value for _, value in known.values()] for key, known in latest.items()}


def table_levels(table: RecordTable) -> set[str]:
    """The metrics of a table's level records (see :func:`summary_rows`)."""
    measures = table.measures()
    if not any(measure[2] == LEVEL for measure in measures):
        return set()
    return {measures[code][0] for code in set(table.measure_index()) if measures[code][2] == LEVEL}
