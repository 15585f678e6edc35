"""A :class:`~usagekit._core.table.RecordTable` as Arrow columns, batch by batch (pyarrow).

Each column of a group (provider, times, dimensions, attributes as JSON, the id's first half)
is made into an Arrow array once, one value per group, and each batch takes its rows from it
with the table's group numbers (``take``); the measures likewise. Quantities come from the
table's int64 column, cast to ``decimal128(38, 18)`` (every int64 fits), with the records whose
quantity is another ``Decimal`` put in their place. The arrays hold the values
:func:`~usagekit._io.parquet.write_parquet` writes from records, so the files are the same.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from decimal import Decimal
from operator import itemgetter
from types import ModuleType
from typing import Any

from .._core.errors import ExportError
from .._core.table import G_ATTRIBUTES, G_DIMENSIONS, RecordTable
from ._table import attribute_texts, distinct_values, special_rows

__all__ = ["column_array", "record_arrays"]

_ARROW_INTS = {("I", 4): "uint32", ("H", 2): "uint16", ("q", 8): "int64"}


def column_array(pa: ModuleType, values: array[int]) -> Any:
    """An Arrow array over an ``array`` of ints, sharing its memory when the layout allows.

    Args:
        pa: The ``pyarrow`` module.
        values: Group numbers (``"I"``), measure codes (``"H"``) or quantities (``"q"``).

    Returns:
        The Arrow array (``uint32``, ``uint16`` or ``int64``); the ``array`` must not change
        while it is used.
    """
    name = _ARROW_INTS.get((values.typecode, values.itemsize))
    if name is None:  # an unusual platform's C types: copy
        wanted = {"I": pa.uint32(), "H": pa.uint16(), "q": pa.int64()}[values.typecode]
        return pa.array(values.tolist(), type=wanted)
    arrow_type = getattr(pa, name)()
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])


def record_arrays(
    table: RecordTable,
    pa: ModuleType,
    *,
    decimal_type: Any,
    timestamp_type: Any,
    batch_size: int,
    where: str,
) -> Iterator[list[Any]]:
    """The table's records as Arrow arrays in :data:`RECORD_COLUMNS` order, per batch.

    Args:
        table: The records.
        pa: The ``pyarrow`` module.
        decimal_type: The quantity's Arrow type (``decimal128(38, 18)``).
        timestamp_type: The times' Arrow type.
        batch_size: Rows per batch.
        where: The file being written, for errors.

    Yields:
        One list of 17 arrays per batch of at most ``batch_size`` rows, in record order.

    Raises:
        ExportError: A quantity does not fit ``decimal_type`` exactly (the message names the
            record, its row and the column, as the writer from records does).
    """
    import pyarrow.compute as pc

    groups = table.groups()
    text = attribute_texts()
    string = pa.string()

    def by_group(position: int) -> Any:
        # a bucket's groups share its time objects: each distinct one is converted once
        distinct, numbers = distinct_values(list(map(itemgetter(position), groups)))
        values = pa.array(distinct, timestamp_type)
        return values.take(pa.array(numbers, type=pa.uint32()))

    prefixes = pa.array(list(map(itemgetter(0), groups)), type=string)  # one per group
    times = [by_group(3), by_group(4)]
    # groups repeat a few combinations of provider, source, dimensions and attributes (one
    # shared dict per distinct set): each is converted once, and the groups take theirs
    keys = [
        (*group[1:3], *group[G_DIMENSIONS:G_ATTRIBUTES], group[G_ATTRIBUTES]) for group in groups
    ]
    representatives = dict(zip(keys, groups, strict=True))  # one group per combination
    number = {key: position for position, key in enumerate(representatives)}
    numbers = [number[key] for key in keys]
    shared = list(representatives.values())
    combination = pa.array(numbers, type=pa.uint32())
    providers, sources, *dimensions = (
        pa.array([group[position] for group in shared], type=string).take(combination)
        for position in (1, 2, *range(5, 12))
    )
    sets = table.attribute_sets()
    attributes = pa.array([text(sets[group[G_ATTRIBUTES]]) for group in shared], type=string).take(
        combination
    )
    del keys, representatives, number, numbers, shared  # held no longer than needed
    measures = table.measures()
    suffixes, metrics, units, kinds = (
        pa.array([measure[position] for measure in measures], type=string)
        for position in (3, 0, 1, 2)
    )
    group_index = column_array(pa, table.group_index())
    measure_index = column_array(pa, table.measure_index())
    ints = column_array(pa, table.int_quantities())
    decimals, overrides = table.decimal_quantities(), table.row_attributes()
    special = special_rows(table)
    total = len(table)
    for first in range(0, total, batch_size):
        size = min(batch_size, total - first)
        rows = group_index.slice(first, size)
        codes = measure_index.slice(first, size)
        quantity = ints.slice(first, size).cast(decimal_type)
        own_attributes = attributes.take(rows)
        patched = special[bisect_left(special, first) : bisect_left(special, first + size)]
        if patched:
            changed = [row for row in patched if row in decimals]
            if changed:
                values = [decimals[row] for row in changed]
                quantity = pc.replace_with_mask(
                    quantity,
                    _mask(pa, size, [row - first for row in changed]),
                    _decimal_array(pa, values, changed, decimal_type, table, where),
                )
            mine = [row for row in patched if row in overrides]
            if mine:
                texts = own_attributes.to_pylist()
                for row in mine:
                    texts[row - first] = text(overrides[row])
                own_attributes = pa.array(texts, type=string)
        yield [
            pc.binary_join_element_wise(prefixes.take(rows), suffixes.take(codes), ""),
            providers.take(rows),
            sources.take(rows),
            times[0].take(rows),
            times[1].take(rows),
            metrics.take(codes),
            quantity,
            units.take(codes),
            kinds.take(codes),
            *(dimension.take(rows) for dimension in dimensions),
            own_attributes,
        ]


def _mask(pa: ModuleType, size: int, offsets: Sequence[int]) -> Any:
    flags = [False] * size
    for offset in offsets:
        flags[offset] = True
    return pa.array(flags, type=pa.bool_())


def _decimal_array(
    pa: ModuleType,
    values: list[Decimal],
    rows: list[int],
    decimal_type: Any,
    table: RecordTable,
    where: str,
) -> Any:
    """The records' own decimals as Arrow, or the error naming the first that does not fit."""
    from .parquet import decimal_fits, fit_error

    try:
        return pa.array(values, type=decimal_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        for row, value in zip(rows, values, strict=True):
            if not decimal_fits(value):
                group = table.groups()[table.group_index()[row]]
                suffix = table.measures()[table.measure_index()[row]][3]
                raise fit_error(
                    "quantity",
                    value,
                    record=f"record {group[0]}{suffix}",
                    where=where,
                    line=row + 1,
                ) from None
        raise ExportError(
            f"cannot convert column to Arrow: {exc}", source=where, column="quantity"
        ) from exc
