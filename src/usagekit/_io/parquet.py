"""Parquet (``pip install 'usagekit[parquet]'``): records written and read back exactly.

``quantity`` is stored as ``decimal128(38, 18)`` (a value needing more than 18 decimal places or
20 integer digits is refused, never rounded), ``start``/``end`` as ``timestamp[us, tz=UTC]`` and
``attributes`` as a JSON string column. Writers stream in row groups of ``batch_size``, so only
one batch is held at a time; :func:`write_parquet_rows` does that for FOCUS Parquet too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal, localcontext
from types import ModuleType
from typing import Any

from .._core.errors import ConfigError, ExportError
from .._core.records import UsageRecord
from ._columns import (
    NULLABLE_COLUMNS,
    RECORD_COLUMNS,
    TIME_COLUMNS,
    build_record,
    check_columns,
    require_record,
)
from ._optional import import_optional
from ._table import as_table
from ._targets import PathLike, replacing
from ._values import attributes_json, trim_decimal

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "check_batch_size",
    "decimal_fits",
    "decimal_type",
    "fit_error",
    "read_parquet",
    "timestamp_type",
    "write_parquet",
    "write_parquet_rows",
    "write_parquet_tables",
]

DEFAULT_BATCH_SIZE = 10_000
"""Rows per Parquet row group, and so the most rows a Parquet writer holds at once."""

_DECIMAL_PRECISION = 38
_DECIMAL_SCALE = 18


def decimal_fits(value: Decimal) -> bool:
    """Return whether a decimal is stored exactly by ``decimal128(38, 18)``.

    Args:
        value: A finite decimal.

    Returns:
        True when it has at most 18 significant fractional digits and 20 integer digits.
    """
    with localcontext() as context:
        context.prec = len(value.as_tuple().digits) + _DECIMAL_PRECISION
        scaled = value.scaleb(_DECIMAL_SCALE)
        return scaled == scaled.to_integral_value() and abs(scaled) < 10**_DECIMAL_PRECISION


def decimal_type(pa: ModuleType) -> Any:
    """The Arrow type of every exact decimal usagekit writes: ``decimal128(38, 18)``."""
    return pa.decimal128(_DECIMAL_PRECISION, _DECIMAL_SCALE)


def timestamp_type(pa: ModuleType) -> Any:
    """The Arrow type of every time usagekit writes: ``timestamp[us, tz=UTC]``."""
    return pa.timestamp("us", tz="UTC")


def _record_schema(pa: ModuleType) -> Any:
    fields = []
    for name in RECORD_COLUMNS:
        if name in TIME_COLUMNS:
            arrow_type = timestamp_type(pa)
        elif name == "quantity":
            arrow_type = decimal_type(pa)
        else:
            arrow_type = pa.string()
        fields.append(pa.field(name, arrow_type, nullable=name in NULLABLE_COLUMNS))
    return pa.schema(fields, metadata={"usagekit.format": "UsageRecord/1"})


def check_batch_size(batch_size: int) -> None:
    """Refuse a ``batch_size`` that is not a positive integer.

    Args:
        batch_size: Rows per row group.

    Raises:
        ConfigError: It is not a positive integer.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")


def fit_error(name: str, value: Decimal, *, record: str, where: str, line: int) -> ExportError:
    """The error for a decimal that ``decimal128(38, 18)`` cannot hold exactly.

    Args:
        name: The column.
        value: The decimal.
        record: Names the row (``"record <id>"``).
        where: The file.
        line: The row's number (1 for the first).

    Returns:
        The error, naming the file, row and column.
    """
    return ExportError(
        f"{record}: {name} {value} does not fit decimal128(38, 18) exactly (at most 18 "
        "decimal places and 20 integer digits); refusing to round it",
        source=where,
        line=line,
        column=name,
    )


def write_parquet_tables(
    tables: Iterable[Any], path: PathLike, *, pq: ModuleType, schema: Any, batch_size: int
) -> int:
    """Write Arrow tables into a Parquet file, one row group per ``batch_size`` rows.

    Args:
        tables: ``pyarrow.Table`` objects with ``schema``, at most ``batch_size`` rows each,
            walked once (a failure while making one leaves no file).
        path: The file, written atomically.
        pq: The ``pyarrow.parquet`` module.
        schema: The Arrow schema.
        batch_size: Rows per row group.

    Returns:
        The number of rows written.

    Raises:
        ExportError: The path is not a regular file, or what making a table raised.
        OSError: The file cannot be written.
    """
    check_batch_size(batch_size)
    count = 0
    with replacing(path) as temporary:
        writer = pq.ParquetWriter(temporary, schema)
        try:
            for table in tables:
                writer.write_table(table, row_group_size=batch_size)
                count += table.num_rows
        finally:
            writer.close()
    return count


def write_parquet_rows(
    rows: Iterable[Sequence[Any]],
    path: PathLike,
    *,
    pa: ModuleType,
    pq: ModuleType,
    schema: Any,
    batch_size: int,
    describe: Callable[[Sequence[Any]], str],
) -> int:
    """Stream row tuples into a Parquet file, one row group per ``batch_size`` rows.

    Args:
        rows: Tuples in schema column order, walked once.
        path: The file, written atomically.
        pa: The ``pyarrow`` module.
        pq: The ``pyarrow.parquet`` module.
        schema: The Arrow schema.
        batch_size: Rows per row group (the most rows held at once).
        describe: Names a row in error messages (``"record <id>"``).

    Returns:
        The number of rows written.

    Raises:
        ExportError: A decimal does not fit ``decimal128(38, 18)`` exactly, or the path is
            not a regular file.
        OSError: The file cannot be written.
    """
    check_batch_size(batch_size)
    where = os.fspath(path)
    names = list(schema.names)
    types = [schema.field(name).type for name in names]
    decimal_columns = {i for i, arrow_type in enumerate(types) if pa.types.is_decimal(arrow_type)}

    def table(batch: list[Sequence[Any]], count: int) -> Any:
        columns = list(zip(*batch, strict=True))
        arrays = []
        for index, (column, arrow_type) in enumerate(zip(columns, types, strict=True)):
            try:
                arrays.append(pa.array(column, type=arrow_type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                if index in decimal_columns:
                    for offset, value in enumerate(column):
                        if value is not None and not decimal_fits(value):
                            raise fit_error(
                                names[index],
                                value,
                                record=describe(batch[offset]),
                                where=where,
                                line=count + offset + 1,
                            ) from None
                raise ExportError(
                    f"cannot convert column to Arrow: {exc}", source=where, column=names[index]
                ) from exc
        return pa.Table.from_arrays(arrays, schema=schema)

    def tables() -> Iterator[Any]:
        batch: list[Sequence[Any]] = []
        count = 0
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                yield table(batch, count)
                count += len(batch)
                batch = []
        if batch:
            yield table(batch, count)

    return write_parquet_tables(tables(), path, pq=pq, schema=schema, batch_size=batch_size)


def _record_tuple(record: UsageRecord) -> tuple[Any, ...]:
    require_record(record)
    return (
        record.id,
        record.provider,
        record.source,
        record.start,
        record.end,
        record.metric,
        record.quantity,
        record.unit,
        record.kind,
        record.organization_id,
        record.project_id,
        record.user_id,
        record.user_email,
        record.api_key_id,
        record.model,
        record.line_item,
        attributes_json(record.attributes),
    )


def write_parquet(
    records: Iterable[UsageRecord],
    path: PathLike,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Write records to a Parquet file, streaming, in row groups of ``batch_size``.

    Needs ``pyarrow`` (``pip install 'usagekit[parquet]'``). Columns: strings, ``quantity``
    as ``decimal128(38, 18)``, ``start``/``end`` as ``timestamp[us, tz=UTC]``, ``attributes``
    as a JSON string (compact, sorted keys). Only one batch is held in memory at a time. A
    report's records are converted from their columns, without building a record each (the
    file is the same).

    Args:
        records: Any iterable of records, walked once.
        path: The file, written atomically (a failure leaves no partial file).
        batch_size: Records per row group.

    Returns:
        The number of records written.

    Raises:
        ConfigError: pyarrow is not installed, or ``batch_size`` is not a positive integer.
        ExportError: A quantity does not fit ``decimal128(38, 18)`` exactly (more than 18
            decimal places or 20 integer digits; it is refused rather than rounded), or the
            path is not a regular file (nothing is written then).
        OSError: The file cannot be written.
    """
    pa = import_optional("pyarrow", "parquet")
    pq = import_optional("pyarrow.parquet", "parquet")
    check_batch_size(batch_size)
    schema = _record_schema(pa)
    table = as_table(records)
    if table is not None:
        from ._arrow import record_arrays

        batches = record_arrays(
            table,
            pa,
            decimal_type=decimal_type(pa),
            timestamp_type=timestamp_type(pa),
            batch_size=batch_size,
            where=os.fspath(path),
        )
        return write_parquet_tables(
            (pa.Table.from_arrays(arrays, schema=schema) for arrays in batches),
            path,
            pq=pq,
            schema=schema,
            batch_size=batch_size,
        )
    return write_parquet_rows(
        (_record_tuple(record) for record in records),
        path,
        pa=pa,
        pq=pq,
        schema=schema,
        batch_size=batch_size,
        describe=lambda row: f"record {row[0]}",
    )


def _read_parquet(pq: ModuleType, path: PathLike, batch_size: int) -> Iterator[UsageRecord]:
    where = os.fspath(path)
    try:
        parquet = pq.ParquetFile(where)
    except OSError:
        raise
    except Exception as exc:
        raise ExportError(f"not a readable Parquet file: {exc}", source=where) from None
    try:
        try:
            check_columns(parquet.schema_arrow.names)
        except ExportError as exc:
            raise exc.located(where, None) from None
        number = 0
        for batch in parquet.iter_batches(batch_size=batch_size, columns=list(RECORD_COLUMNS)):
            for row in batch.to_pylist():
                number += 1
                quantity = row["quantity"]
                if isinstance(quantity, Decimal) and quantity.is_finite():
                    row["quantity"] = trim_decimal(quantity)
                try:
                    yield build_record(row)
                except ExportError as exc:
                    raise exc.located(where, number) from None
    finally:
        parquet.close()


def read_parquet(path: PathLike, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[UsageRecord]:
    """Read records from a Parquet file written by :func:`write_parquet`, batch by batch.

    Quantities come back as exact decimals without the trailing zeros of the fixed scale
    (stored ``0.100000000000000000`` reads as ``Decimal("0.1")``).

    Args:
        path: The file.
        batch_size: Rows decoded at a time.

    Returns:
        An iterator of validated records (ids checked against their fields).

    Raises:
        ConfigError: pyarrow is not installed (raised by this call, before iterating), or
            ``batch_size`` is not a positive integer.
        ExportError: While iterating: the file is not Parquet, lacks a column or has an
            unknown one, or a row is not a valid record.
        OSError: While iterating: the file cannot be read.
    """
    import_optional("pyarrow", "parquet")
    pq = import_optional("pyarrow.parquet", "parquet")
    check_batch_size(batch_size)
    return _read_parquet(pq, path, batch_size)
