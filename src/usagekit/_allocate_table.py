"""Cost allocation over a report's columns: :func:`usagekit.allocate_records` without objects.

The rules are those of :mod:`usagekit._allocate`, applied to a
:class:`~usagekit._core.table.RecordTable`: only the cost records to split and one record per
usage result are built as objects; every other record is copied column by column. The result
holds the same records, in the same order, as ``allocate_records(list(table))``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ._allocate import (
    _BASES_BY_PROVIDER,
    _allocate_one,
    _Grouping,
    _needs_allocation,
    _Result,
)
from ._core.records import LEVEL, MEASURE_ATTRIBUTES, UsageRecord
from ._core.table import G_ATTRIBUTES, G_PROVIDER, RecordTable

__all__ = ["allocate_table"]


def _key(group: tuple[Any, ...], attributes: dict[str, str]) -> tuple[Any, ...]:
    return (
        *group[1:12],
        tuple(sorted((k, v) for k, v in attributes.items() if k not in MEASURE_ATTRIBUTES)),
    )


def allocate_table(table: RecordTable, *, quantum: Decimal) -> RecordTable:
    """Split each cost record of ``table`` over the usage that explains it.

    Args:
        table: A report's records.
        quantum: The quantum of the pieces.

    Returns:
        The records in their order, each cost record that needs allocation replaced by its
        pieces (or by one ``unallocated`` record saying why); ``table`` itself when no cost
        needs it.
    """
    groups, row_group, codes = table.groups(), table.group_index(), table.measure_index()
    sets = table.attribute_sets()
    measures, row_attrs = table.measures(), table.row_attributes()
    cost_codes = {code for code, measure in enumerate(measures) if measure[0] == "cost"}
    if not cost_codes:
        return table
    allocatable = [group[G_PROVIDER] in _BASES_BY_PROVIDER for group in groups]
    cost_rows = [
        row for row, code in enumerate(codes) if code in cost_codes and allocatable[row_group[row]]
    ]
    costs = {row: table[row] for row in cost_rows}
    needed = {row: cost for row, cost in costs.items() if _needs_allocation(cost)}
    if not needed:
        return table
    providers = {cost.provider for cost in needed.values()}
    groupings = {
        provider: _Grouping(
            project=any(c.project_id is not None for c in costs.values() if c.provider == provider),
            key=any(c.api_key_id is not None for c in costs.values() if c.provider == provider),
        )
        for provider in providers
    }
    wanted = [group[G_PROVIDER] in providers for group in groups]
    keys: list[tuple[Any, ...] | None] = [None] * len(groups)
    grouped: dict[tuple[Any, ...], _Result] = {}
    for row, number in enumerate(row_group):
        if not wanted[number] or codes[row] in cost_codes:
            continue
        group = groups[number]
        override = row_attrs.get(row) if row_attrs else None
        if override is not None:
            key = _key(group, override)
        else:
            known = keys[number]
            key = known if known is not None else _key(group, sets[group[G_ATTRIBUTES]])
            keys[number] = key
        metric, _, kind, _ = measures[codes[row]]
        result = grouped.get(key)
        if result is None:
            first: UsageRecord = table[row]
            result = grouped[key] = _Result(first.source, first.start, first.end, first)
        if kind == LEVEL or metric not in result.metrics:
            result.metrics[metric] = table.quantity(row)
    index: dict[tuple[str, str], list[_Result]] = {}
    for result in grouped.values():
        index.setdefault((result.first.provider, result.source), []).append(result)
    for results in index.values():
        results.sort(key=lambda r: r.start)
    replacements = {
        row: _allocate_one(cost, index, groupings[cost.provider], quantum)
        for row, cost in needed.items()
    }
    return table.replace(range(len(table)), replacements)
