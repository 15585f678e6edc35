"""pandas (``pip install 'usagekit[pandas]'``): records and summaries as DataFrames."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._core.records import UsageRecord
from ._columns import RECORD_COLUMNS, TIME_COLUMNS
from ._optional import import_optional

if TYPE_CHECKING:
    from .._report import UsageReport

__all__ = ["summary_frame", "to_pandas"]


def to_pandas(records: Iterable[UsageRecord], *, decimal: bool = True) -> Any:
    """Return records as a pandas DataFrame with the :data:`RECORD_COLUMNS`.

    Needs pandas (``pip install 'usagekit[pandas]'``). ``start``/``end`` are
    ``datetime64[..., UTC]``; ``quantity`` holds the exact ``Decimal`` objects (object dtype)
    or, with ``decimal=False``, ``float64`` (inexact, but fast to aggregate); ``attributes``
    holds dicts; missing dimensions are missing values. The records are walked once.

    Args:
        records: Any iterable of records.
        decimal: Keep quantities as exact decimals (True) or convert them to floats.

    Returns:
        A ``pandas.DataFrame``, one row per record, in iteration order.

    Raises:
        ConfigError: pandas is not installed.
    """
    pd = import_optional("pandas", "pandas")
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
