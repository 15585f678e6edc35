"""Rows straight from columns: what :class:`~._rows.RowEncoder` makes of records, made from a
:class:`~usagekit._core.table.RecordTable`'s columns without building a record.

:func:`usagekit.sync` reads usagekit's own OpenAI clients page by page as tables (their
``_record_tables``). :func:`table_batches` gives exactly the rows, in exactly the batches, that
:meth:`RowEncoder.batches` gives for the records the tables hold, in their order, with the same
bookkeeping (the series met, each source's first start, each group's longest interval): what
is stored is the same, byte for byte. A table's records share their group's values, so those
(the interval, the series group, the id's first 16 bytes) are computed once per group, and each
measure's series once per group and table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .._core.errors import ConfigError
from .._core.records import MetricKind
from .._core.table import (
    G_ATTRIBUTES,
    G_DIMENSIONS,
    G_END,
    G_PREFIX,
    G_PROVIDER,
    G_SOURCE,
    G_START,
    RecordTable,
)
from ._batch import Batch
from ._rows import RowEncoder, identity_of, row_extra
from ._series import GroupKey

__all__ = ["table_batches"]

_Found = tuple[int, bytes]
"""A measure's series id in its group and the last 8 bytes of its records' ids."""


def table_batches(encoder: RowEncoder, tables: Iterable[object], size: int) -> Iterator[Batch]:
    """Encode a stream of record tables lazily into batches of ``size`` rows (the last shorter).

    The rows are those :meth:`RowEncoder.batches` gives for the tables' records, in the same
    batches; plan each batch's series (:meth:`~._series.SeriesCache.plan`) before taking the
    next (a batch may name series that only its write transaction stores).

    A run of a group's rows is added column by column: its measures' series and id tails are
    looked up once per group and run of measure codes (a page's groups mostly repeat one run),
    its quantities taken straight from the table's int64 column.

    Args:
        encoder: The encoder (its series cache, provider check, run id and bookkeeping).
        tables: The tables (any iterable, consumed once).
        size: Rows per batch.

    Yields:
        The batches.

    Raises:
        ConfigError: An item is not a record table, or holds records of another provider than
            the encoder's.
    """
    run_id = encoder.run_id
    batch = Batch(run_id)
    filled = 0  # rows in the batch
    encoder.refresh()
    for table in tables:
        if not isinstance(table, RecordTable):
            raise ConfigError(f"record tables expected, got {type(table).__name__}")
        groups, measures, sets = table.groups(), table.measures(), table.attribute_sets()
        codes, ints = table.measure_index(), table.int_quantities()
        decimals, overrides = table.decimal_quantities(), table.row_attributes()
        plain_values = not decimals and not overrides
        lookups: dict[GroupKey, list[_Found | None]] = {}  # by group, each measure's series
        runs: dict[tuple[GroupKey, bytes], tuple[list[int], list[bytes]]] = {}
        shapes: dict[int, tuple[tuple[tuple[str, str], ...], str | None]] = {}
        for number, first, end in _runs(table):
            group = groups[number]
            shape = shapes.get(group[G_ATTRIBUTES])  # by the attributes' number
            if shape is None:
                attributes = sets[group[G_ATTRIBUTES]]
                identity = identity_of(attributes)
                extra = None if len(attributes) == len(identity) else row_extra(attributes)
                shape = shapes[group[G_ATTRIBUTES]] = (identity, extra)
            identity, shared = shape
            key, start_us, end_us = encoder.group_of(
                group[G_PROVIDER], group[G_SOURCE], group[G_START], group[G_END],
                _dimensions(group), identity,
            )  # fmt: skip
            head = bytearray.fromhex(group[G_PREFIX])  # bound as it is (see ._batch)
            row = first
            while row < end:
                stop = min(end, row + size - filled)
                count = stop - row
                span = codes[row:stop].tobytes()
                found = runs.get((key, span))
                if found is None:
                    found = runs[key, span] = _series(
                        encoder, key, lookups, measures, codes[row:stop]
                    )
                series, tails = found
                batch.starts += [start_us] * count
                batch.ids += map(head.__add__, tails)
                batch.ends += [end_us] * count
                batch.series += series
                if plain_values:
                    batch.quantities += ints[row:stop]
                    batch.attributes += [shared] * count
                else:
                    plain = len(identity)
                    for offset in range(row, stop):
                        value = decimals.get(offset)
                        own = shared
                        if overrides:
                            changed = overrides.get(offset)
                            if changed is not None:
                                own = None if len(changed) == plain else row_extra(changed)
                        batch.quantities.append(ints[offset] if value is None else str(value))
                        batch.attributes.append(own)
                filled += count
                row = stop
                if filled == size:
                    yield batch
                    batch, filled = Batch(run_id), 0
                    encoder.carry(key, end_us - start_us)  # the group goes on in the next
                    if encoder.refresh():  # provisional series got their ids
                        lookups.clear()
                        runs.clear()
    if len(batch):
        yield batch


def _series(
    encoder: RowEncoder,
    key: GroupKey,
    lookups: dict[GroupKey, list[_Found | None]],
    measures: list[tuple[str, str, MetricKind, str]],
    codes: Iterable[int],
) -> tuple[list[int], list[bytes]]:
    """The series ids and id tails of a run of a group's measures (by their codes)."""
    lookup = lookups.get(key)
    if lookup is None:
        lookup = lookups[key] = [None] * len(measures)
    met = [lookup[code] or _meet(encoder, key, lookup, measures[code], code) for code in codes]
    return [series_id for series_id, _ in met], [tail for _, tail in met]


def _meet(
    encoder: RowEncoder,
    key: GroupKey,
    lookup: list[_Found | None],
    measure: tuple[str, str, MetricKind, str],
    code: int,
) -> _Found:
    """A measure's series in a group, first met in this table: kept in ``lookup``."""
    metric, unit, kind, tail = measure
    known = encoder.known(key)
    found = known.get(tail)
    if found is None:
        found = encoder.meet(key, known, tail, (metric, unit, kind))
    lookup[code] = found
    return found


def _dimensions(group: tuple[Any, ...]) -> tuple[str | None, ...]:
    """A group's seven dimensions."""
    dimensions: tuple[str | None, ...] = group[G_DIMENSIONS:G_ATTRIBUTES]
    return dimensions


def _runs(table: RecordTable) -> Iterator[tuple[int, int, int]]:
    """Each run of one group's consecutive rows: ``(group, first row, end row)``, in order."""
    try:
        spans = list(table.group_spans())
    except ValueError:  # some group's rows are not in one run (a table merged with repeats)
        index = table.group_index()
        first = 0
        for row in range(1, len(index) + 1):
            if row == len(index) or index[row] != index[first]:
                yield index[first], first, row
                first = row
        return
    for number, (first, end) in enumerate(spans):
        if first < end:
            yield number, first, end
