"""Reading a store: the keyword filters, their ``WHERE`` clause, and what a sync asks of it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from .._core.clock import TimeLike, as_utc, resolve_window
from .._core.errors import ConfigError
from .._core.records import DIMENSIONS
from ._rows import to_micros

__all__ = ["FILTERS", "bucket_lengths", "check_text", "in_series", "where_clause"]

FILTERS: tuple[str, ...] = ("provider", "source", "metric", "unit", "kind", *DIMENSIONS)
"""The keyword filters :meth:`Store.records` accepts."""


def check_text(value: object, name: str) -> str:
    """Return ``value`` checked as a non-empty string argument called ``name``.

    Raises:
        ConfigError: It is not a non-empty string.
    """
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
    return value


def in_series(condition: str) -> str:
    """The condition on a row that its series meets ``condition`` (on ``series`` columns)."""
    return f"series_id IN (SELECT series_id FROM series WHERE {condition})"


def where_clause(
    start: TimeLike | None,
    end: TimeLike | None,
    filters: dict[str, str | Sequence[str] | None],
    *,
    legacy: bool = False,
) -> tuple[str, list[Any]]:
    """Return the ``WHERE`` clause (or ``""``) and its parameters for a window and filters.

    Args:
        start: Window start; records ending at or before it are left out.
        end: Window end (exclusive); records starting at or after it are left out.
        filters: Field equality filters, any of :data:`FILTERS`.
        legacy: For a version-1 table (the fields are its columns), not a series' rows.

    Returns:
        The clause, with a leading space, and its parameters.

    Raises:
        ConfigError: A bad window, an unknown filter, or a filter value of the wrong type.
    """
    clauses: list[str] = []
    params: list[Any] = []
    fields: list[str] = []
    field_params: list[Any] = []
    if start is None:
        start_dt, end_dt = None, None if end is None else as_utc(end, name="end")
    else:
        window = resolve_window(start, end)
        start_dt, end_dt = window.start, window.end
    if start_dt is not None:
        clauses.append("end_us > ?")
        params.append(to_micros(start_dt))
    if end_dt is not None:
        clauses.append("start_us < ?")
        params.append(to_micros(end_dt))
    for name, value in filters.items():
        if name not in FILTERS:
            raise ConfigError(f"unknown filter {name!r}; filters are {', '.join(FILTERS)}")
        if value is None:
            fields.append(f"{name} IS NULL")
        elif isinstance(value, str):
            fields.append(f"{name} = ?")
            field_params.append(value)
        elif isinstance(value, (list, tuple, set, frozenset)) and all(
            isinstance(item, str) for item in value
        ):
            if not value:
                fields.append("0")
            else:
                fields.append(f"{name} IN ({', '.join('?' for _ in value)})")
                field_params.extend(value)
        else:
            raise ConfigError(
                f"filter {name} must be a string, None or a list of strings, got {value!r}"
            )
    if fields:
        clauses.append(" AND ".join(fields) if legacy else in_series(" AND ".join(fields)))
        params.extend(field_params)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def bucket_lengths(conn: sqlite3.Connection, provider: str, *, sample: int) -> dict[str, timedelta]:
    """Per source of the provider, the most common length of its latest stored buckets.

    A client whose bucket width depends on the request fetches in these lengths (see
    :class:`usagekit.SyncClient`), so that a re-fetch replaces the stored buckets.

    Args:
        conn: The store's connection.
        provider: The provider.
        sample: How many of each source's latest buckets to count.

    Returns:
        ``{source: length}``; empty when nothing of the provider is stored.
    """
    lengths: dict[str, timedelta] = {}
    sources = conn.execute(
        "SELECT DISTINCT source FROM series WHERE provider = ? ORDER BY source", (provider,)
    ).fetchall()
    for (source,) in sources:
        counts: dict[int, int] = {}
        for (length,) in conn.execute(
            "SELECT end_us - start_us FROM records WHERE "
            + in_series("provider = ? AND source = ?")
            + " ORDER BY start_us DESC LIMIT ?",
            (provider, source, sample),
        ):
            counts[length] = counts.get(length, 0) + 1
        if counts:
            usual = max(counts, key=lambda length: (counts[length], length))
            lengths[source] = timedelta(microseconds=usual)
    return lengths
