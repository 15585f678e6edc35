"""How the exports read a :class:`~usagekit._core.table.RecordTable`: by its columns.

A report's records are a :class:`~usagekit._core.table.RecordTable`: groups (what the records
of one result share) and, per record, a group number, a measure code and a quantity. The text
exports format each group's and each measure's part of a line once and join the parts per
record (:func:`table_lines`), instead of building a :class:`~usagekit.UsageRecord` per record;
the output is the same, byte for byte. Records whose quantity is not a plain int, or whose
attributes are not their group's, are patched in.

Nothing here does I/O.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from .._core.records import UsageRecord
from .._core.table import G_ATTRIBUTES, G_DIMENSIONS, RecordTable, Row
from ._values import attributes_json, format_decimal

__all__ = [
    "CHUNK_ROWS",
    "LineFormat",
    "as_table",
    "attribute_texts",
    "distinct_values",
    "special_rows",
    "table_lines",
    "table_rows",
]

_Value = TypeVar("_Value")

CHUNK_ROWS = 8192
"""Records joined into one string before it is written (a few MB at most)."""


def as_table(records: Iterable[UsageRecord]) -> RecordTable | None:
    """The records as a table when they are one (a report's), else None (any iterable).

    Args:
        records: What an export was given.

    Returns:
        The table, or None.
    """
    return records if isinstance(records, RecordTable) else None


def distinct_values(values: Sequence[_Value]) -> tuple[list[_Value], list[int]]:
    """The distinct objects in order of first appearance, and each value's number among them.

    Objects are told apart by identity, which is cheap for the values groups share (the
    start of a bucket, an interned dimension, a shared attributes dict are one object each);
    equal values that are different objects are kept apart, which changes nothing but the
    work of converting each of them.

    Args:
        values: The values (held for the call, so that no identity is reused).

    Returns:
        ``(distinct, numbers)`` with ``distinct[numbers[i]] is values[i]``.
    """
    objects = {id(value): value for value in values}  # the first of each, in order
    number = {key: position for position, key in enumerate(objects)}
    return list(objects.values()), [number[id(value)] for value in values]


def special_rows(table: RecordTable) -> list[int]:
    """The rows whose quantity is not a plain int or whose attributes are their own, sorted."""
    rows = set(table.decimal_quantities())
    rows.update(table.row_attributes())
    return sorted(rows)


def attribute_texts() -> Callable[[Mapping[str, str]], str]:
    """A function giving the compact JSON of attributes, computed once per shared dict.

    A table's groups share their attributes dicts (one per distinct set), so caching by
    object identity formats each distinct set once. The cache holds the dicts it has seen, so
    an identity is never reused while it is cached; use one function per export.

    Returns:
        ``text(attributes) -> str``, as :func:`~usagekit._io._values.attributes_json`.
    """
    cache: dict[int, tuple[Mapping[str, str], str]] = {}

    def text(attributes: Mapping[str, str]) -> str:
        known = cache.get(id(attributes))
        if known is not None:
            return known[1]
        value = attributes_json(attributes)
        cache[id(attributes)] = (attributes, value)
        return value

    return text


@dataclass(frozen=True)
class LineFormat:
    """How a text format writes one record's line, in parts shared by groups and measures.

    A line is ``opening + id's group half + suffix + interval + metric + quantity + unit +
    tail``: ``interval`` from the group's provider, source and times, ``suffix``, ``metric``
    and ``unit`` from the measure, the quantity's exact text, and ``tail`` from the group's
    dimensions and the record's attributes. Each is computed once per distinct value.

    Attributes:
        opening: The text before the id.
        interval: ``interval(provider, source, start, end) -> text``: from the end of the id
            up to the metric.
        measure: ``measure(metric, unit, kind, id suffix) -> (suffix, metric, unit)``: the
            id's measure half, the metric's text up to the quantity, and the text from the
            quantity's end up to the dimensions.
        tail: ``tail(dimensions, attributes) -> text``: the seven dimensions, the attributes
            and the line's end.
    """

    opening: str
    interval: Callable[[str, str, datetime, datetime], str]
    measure: Callable[[str, str, str, str], tuple[str, str, str]]
    tail: Callable[[tuple[str | None, ...], Mapping[str, str]], str]


def table_lines(table: RecordTable, line: LineFormat) -> Iterator[str]:
    """The table's records as text lines, joined into chunks of :data:`CHUNK_ROWS` lines.

    Args:
        table: The records.
        line: How the format writes a line.

    Yields:
        Strings of whole lines, in record order.
    """
    groups, sets = table.groups(), table.attribute_sets()
    opening = line.opening
    heads = [opening + group[0] for group in groups]
    middles: list[str] = []
    tails: list[str] = []
    # groups repeat the same few intervals and dimension values: each is formatted once
    known_middles: dict[tuple[Any, ...], str] = {}
    known_tails: dict[tuple[Any, ...], str] = {}
    for group in groups:
        interval = group[1:5]
        middle = known_middles.get(interval)
        if middle is None:
            middle = known_middles[interval] = line.interval(*interval)
        middles.append(middle)
        dimensions = group[G_DIMENSIONS:G_ATTRIBUTES]
        shared = group[G_DIMENSIONS:]  # the dimensions and the attributes' number
        tail = known_tails.get(shared)
        if tail is None:
            tail = known_tails[shared] = line.tail(dimensions, sets[group[G_ATTRIBUTES]])
        tails.append(tail)
    suffixes: list[str] = []
    metrics: list[str] = []
    units: list[str] = []
    for metric, unit, kind, suffix in table.measures():
        texts = line.measure(metric, unit, kind, suffix)
        suffixes.append(texts[0])
        metrics.append(texts[1])
        units.append(texts[2])
    group_index, measure_index = table.group_index(), table.measure_index()
    ints, decimals, overrides = (
        table.int_quantities(),
        table.decimal_quantities(),
        table.row_attributes(),
    )
    special = special_rows(table)
    total = len(group_index)
    for first in range(0, total, CHUNK_ROWS):
        end = min(total, first + CHUNK_ROWS)
        parts: list[str] = []
        extend = parts.extend
        for group_number, code, quantity in zip(
            group_index[first:end], measure_index[first:end], ints[first:end], strict=True
        ):
            extend(
                (
                    heads[group_number],
                    suffixes[code],
                    middles[group_number],
                    metrics[code],
                    str(quantity),
                    units[code],
                    tails[group_number],
                )
            )
        for row in special[bisect_left(special, first) : bisect_left(special, end)]:
            at = (row - first) * 7
            value = decimals.get(row)
            if value is not None:
                parts[at + 4] = format_decimal(value)
            own = overrides.get(row)
            if own is not None:
                parts[at + 6] = line.tail(groups[group_index[row]][G_DIMENSIONS:G_ATTRIBUTES], own)
        yield "".join(parts)


def table_rows(table: RecordTable, codes: Iterable[int]) -> Iterator[tuple[int, Row]]:
    """The rows of the records whose measure is one of ``codes``, as :data:`Row` tuples.

    Args:
        table: The records.
        codes: Measure codes (indexes into :meth:`RecordTable.measures`).

    Yields:
        ``(row number, row)`` in record order; ``attributes`` is shared: never mutate it.
    """
    wanted = set(codes)
    if not wanted:
        return
    row_of = table.row
    for row, code in enumerate(table.measure_index()):
        if code in wanted:
            yield row, row_of(row)
