"""pandas (``pip install 'usagekit[pandas]'``): records and summaries as DataFrames.

A report's records (a :class:`~usagekit._core.table.RecordTable`) become a frame column by
column: each group's values are put in a numpy object array once and every column takes its
rows from it with the table's group numbers (``numpy.take``), so a frame of millions of records
costs a few pointer copies per cell and no :class:`~usagekit.UsageRecord`; the cells are the
same values (the same strings, often the very same objects) as from records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._core.records import UsageRecord
from .._core.table import G_ATTRIBUTES, RecordTable
from ._columns import RECORD_COLUMNS, TIME_COLUMNS
from ._optional import import_optional
from ._table import as_table, distinct_values

if TYPE_CHECKING:
    from .._report import UsageReport

__all__ = ["summary_frame", "to_pandas"]


def to_pandas(records: Iterable[UsageRecord], *, decimal: bool = True) -> Any:
    """Return records as a pandas DataFrame with the :data:`RECORD_COLUMNS`.

    Needs pandas (``pip install 'usagekit[pandas]'``). ``start``/``end`` are
    ``datetime64[..., UTC]``; ``quantity`` holds the exact ``Decimal`` objects (object dtype:
    the records' own values, digits and exponent, never rounded nor padded to a fixed scale)
    or, with ``decimal=False``, ``float64`` (inexact, but fast to aggregate); ``attributes``
    holds dicts; missing dimensions are ``None``; the other columns are strings (object
    dtype). The records are walked once.

    The quantities stay ``Decimal`` objects rather than an Arrow decimal dtype: no fixed
    precision and scale holds every quantity exactly (costs with 34 decimal places, counts of
    20 digits), and sums of the column are exact with plain pandas.

    A report's records (what :meth:`UsageReport.to_pandas` passes) are read from their columns
    without building a record each (pyarrow is not needed): a year of hourly usage (2.6
    million records) takes seconds, in time linear in their number. Rows with the same
    attributes share one ``attributes`` dict there (a copy, never the report's own): copy a
    cell before changing it.

    Args:
        records: Any iterable of records.
        decimal: Keep quantities as exact decimals (True) or convert them to floats.

    Returns:
        A ``pandas.DataFrame``, one row per record, in iteration order.

    Raises:
        ConfigError: pandas is not installed.
    """
    pd = import_optional("pandas", "pandas")
    table = as_table(records)
    if table is not None:
        return _table_frame(pd, table, decimal=decimal)
    columns: dict[str, list[Any]] = {name: [] for name in RECORD_COLUMNS}
    appenders = [columns[name].append for name in RECORD_COLUMNS]
    for record in records:
        quantity = record.quantity if decimal else float(record.quantity)
        values = (
            record.id,
            record.provider,
            record.source,
            record.start,
            record.end,
            record.metric,
            quantity,
            record.unit,
            record.kind,
            record.organization_id,
            record.project_id,
            record.user_id,
            record.user_email,
            record.api_key_id,
            record.model,
            record.line_item,
            dict(record.attributes),
        )
        for append, value in zip(appenders, values, strict=True):
            append(value)
    data: dict[str, Any] = {}
    for name in RECORD_COLUMNS:
        if name in TIME_COLUMNS:
            data[name] = pd.to_datetime(pd.Series(columns[name], dtype=object), utc=True)
        elif name == "quantity":
            data[name] = pd.Series(columns[name], dtype=object if decimal else "float64")
        else:
            data[name] = pd.Series(columns[name], dtype=object)
    return pd.DataFrame(data, columns=list(RECORD_COLUMNS))


def _table_frame(pd: Any, table: RecordTable, *, decimal: bool) -> Any:
    """:func:`to_pandas` of a table, column by column (the same frame as from its records)."""
    import numpy as np

    groups = table.groups()
    rows = np.asarray(memoryview(table.group_index()), dtype=np.intp)
    codes = np.asarray(memoryview(table.measure_index()), dtype=np.intp)

    def by_group(values: list[Any]) -> Any:
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column

    def times(moments: list[datetime]) -> Any:
        distinct, numbers = distinct_values(moments)
        converted = pd.to_datetime(pd.Series(distinct, dtype=object), utc=True)
        return pd.Series(converted.array.take(np.asarray(numbers, dtype=np.intp)[rows]))

    # one fresh dict per distinct set of attributes, by its number in the table
    copies = [dict(attributes) for attributes in table.attribute_sets()]
    measures = table.measures()
    attributes = by_group([copies[group[G_ATTRIBUTES]] for group in groups]).take(rows)
    for row, values in table.row_attributes().items():
        attributes[row] = dict(values)
    ints = np.asarray(memoryview(table.int_quantities()))
    if decimal:
        quantities = _decimals(pd, np, ints)
        for row, value in table.decimal_quantities().items():
            quantities[row] = value
    else:
        quantities = ints.astype(np.float64)
        for row, value in table.decimal_quantities().items():
            quantities[row] = float(value)
    data: dict[str, Any] = {
        "id": np.add(
            by_group([group[0] for group in groups]).take(rows),
            by_group([measure[3] for measure in measures]).take(codes),
        ),
        "provider": by_group([group[1] for group in groups]).take(rows),
        "source": by_group([group[2] for group in groups]).take(rows),
        "start": times([group[3] for group in groups]),
        "end": times([group[4] for group in groups]),
        "metric": by_group([measure[0] for measure in measures]).take(codes),
        "quantity": quantities,
        "unit": by_group([measure[1] for measure in measures]).take(codes),
        "kind": by_group([measure[2] for measure in measures]).take(codes),
    }
    for position, name in enumerate(RECORD_COLUMNS[9:16], start=5):
        data[name] = by_group([group[position] for group in groups]).take(rows)
    data["attributes"] = attributes
    for name in RECORD_COLUMNS:
        if name not in TIME_COLUMNS:  # fresh arrays: the frame takes them as they are
            data[name] = pd.Series(data[name], dtype=data[name].dtype, copy=False)
    return pd.DataFrame(data, columns=list(RECORD_COLUMNS), copy=False)


def _decimals(pd: Any, np: Any, ints: Any) -> Any:
    """The exact ``Decimal`` of each int64, as an object array.

    One ``Decimal`` a distinct value (they are immutable), shared by every row that holds it:
    pandas' hash table finds the distinct values in time linear in the rows, and a year of
    hourly token counts has a few hundred thousand of them among millions of rows, so the
    column costs its pointers and little more.
    """
    codes, distinct = pd.factorize(ints, sort=False)
    shared = np.empty(len(distinct), dtype=object)
    for first in range(0, len(distinct), _SLICE):  # their Python ints held a slice at a time
        shared[first : first + _SLICE] = list(
            map(Decimal, distinct[first : first + _SLICE].tolist())
        )
    return shared.take(codes)


_SLICE = 65536
"""Distinct quantities converted at a time."""


def summary_frame(report: UsageReport, by: str | Sequence[str]) -> Any:
    """Return :meth:`UsageReport.summary` as a pandas DataFrame.

    Args:
        report: The report.
        by: The dimension(s) to group by.

    Returns:
        One row per group: a column per ``by`` dimension, ``cost_<CURRENCY>`` per currency
        (exact ``Decimal``; ``None`` when the group has no cost in it, never a zero),
        ``credits`` when any group consumed credits (``None`` where none), ``tokens`` and
        ``records``.

    Raises:
        ConfigError: pandas is not installed, or an unknown dimension.
    """
    pd = import_optional("pandas", "pandas")
    names = [by] if isinstance(by, str) else list(by)
    rows = report.summary(names)
    currencies = sorted({c for row in rows for c in row["cost"]})
    credits = any(row["credits"] is not None for row in rows)
    data = []
    for row in rows:
        values: dict[str, Any] = dict(zip(names, row["values"], strict=True))
        for currency in currencies:
            values[f"cost_{currency}"] = row["cost"].get(currency)
        if credits:
            values["credits"] = row["credits"]
        values["tokens"] = row["tokens"]
        values["records"] = row["records"]
        data.append(values)
    columns = [*names, *(f"cost_{c}" for c in currencies)]
    columns += [*(["credits"] if credits else []), "tokens", "records"]
    return pd.DataFrame(data, columns=columns)
