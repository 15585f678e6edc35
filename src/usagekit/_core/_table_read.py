"""Every record of a :class:`~usagekit._core.table.RecordTable`, built as objects in one pass.

Iterating a table is how ``records()`` hands its pages out, so this is the stream's hot loop:
one function that reads the table's columns side by side and builds each
:class:`~usagekit.UsageRecord` in place, exactly as :func:`usagekit._core.records.built` does
(the same fields in the same order, the same shared ``fields_set``), without the per-record
calls of :meth:`RecordTable.row` and ``built``. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .records import _FIELD_NAMES, _SLOT_SETTERS, UsageRecord

if TYPE_CHECKING:
    from .table import RecordTable, Row

__all__ = ["all_records", "one_row"]


def all_records(
    table: RecordTable, start: int = 0, stop: int | None = None
) -> Iterator[UsageRecord]:
    """The records of ``table`` (rows ``start`` to ``stop``), in order, as fresh objects.

    Args:
        table: The table (not changed while this runs: tables are not changed once handed out).
        start: The first row.
        stop: The row after the last (None: the table's end).

    Yields:
        The records, each with its own ``attributes`` dict.
    """
    groups = table._groups
    attribute_sets = table._attr_sets
    measures = table._measures
    decimals = table._decimals
    overrides = table._row_attrs
    new = object.__new__
    set_dict = object.__setattr__
    set_fields_set, set_extra, set_private = _SLOT_SETTERS
    names = _FIELD_NAMES
    model = UsageRecord
    whole = start == 0 and stop is None
    numbers = table._row_group if whole else table._row_group[start:stop]
    codes = table._row_measure if whole else table._row_measure[start:stop]
    counts = table._ints if whole else table._ints[start:stop]
    row = start - 1
    last = -1
    template: dict[str, object] = {}
    prefix = ""
    shared: dict[str, str] = {}
    for number, code, count in zip(numbers, codes, counts, strict=True):
        row += 1
        if number != last:  # a group's rows come in runs: its fields are laid out once a run
            last = number
            group = groups[number]
            prefix, shared = group[0], attribute_sets[group[12]]
            template = _template(group)
        metric, unit, kind, suffix = measures[code]
        quantity = decimals.get(row) if decimals else None
        attributes = overrides.get(row, shared) if overrides else shared
        fields = template.copy()  # the fields in declaration order, those of the group set
        fields["id"] = prefix + suffix
        fields["metric"] = metric
        fields["quantity"] = Decimal(count) if quantity is None else quantity
        fields["unit"] = unit
        fields["kind"] = kind
        fields["attributes"] = attributes.copy() if attributes else {}  # the record's own
        record = new(model)
        set_dict(record, "__dict__", fields)
        set_fields_set(record, names)
        set_extra(record, None)
        set_private(record, None)
        yield record


def _template(group: tuple[Any, ...]) -> dict[str, object]:
    """A record's fields as a dict in declaration order, those its group decides filled in
    (the others are set for each record: ``id``, ``metric``, ``quantity``, ``unit``, ``kind``
    and ``attributes``)."""
    return {
        "id": None,
        "provider": group[1],
        "source": group[2],
        "start": group[3],
        "end": group[4],
        "metric": None,
        "quantity": None,
        "unit": None,
        "kind": None,
        "organization_id": group[5],
        "project_id": group[6],
        "user_id": group[7],
        "user_email": group[8],
        "api_key_id": group[9],
        "model": group[10],
        "line_item": group[11],
        "attributes": None,
    }


def one_row(table: RecordTable, row: int) -> Row:
    """One record of ``table`` as a plain tuple (see :meth:`RecordTable.row`)."""
    group = table._groups[table._row_group[row]]
    metric, unit, kind, suffix = table._measures[table._row_measure[row]]
    value = table._decimals.get(row) if table._decimals else None
    shared = table._attr_sets[group[12]]
    return (
        group[0] + suffix,
        group[1],
        group[2],
        group[3],
        group[4],
        metric,
        Decimal(table._ints[row]) if value is None else value,
        unit,
        kind,
        group[5],
        group[6],
        group[7],
        group[8],
        group[9],
        group[10],
        group[11],
        table._row_attrs.get(row, shared) if table._row_attrs else shared,
    )
