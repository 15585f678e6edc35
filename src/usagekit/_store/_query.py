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

__all__ = [
    "FILTERS",
    "bucket_lengths",
    "check_text",
    "extent",
    "in_series",
    "provider_spans",
    "where_clause",
]

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
    condition = " AND ".join(fields)
    if start_dt is not None and not legacy:
        # a row ending after the start began after it less its series' longest interval
        longest = "SELECT MAX(longest_us) FROM series" + (f" WHERE {condition}" if fields else "")
        clauses.append(f"start_us > ? - ({longest})")
        params.extend([to_micros(start_dt), *field_params])
    if fields:
        clauses.append(condition if legacy else in_series(condition))
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


def extent(
    conn: sqlite3.Connection,
    condition: str,
    params: Sequence[Any],
    *,
    open_at: int | None = None,
) -> tuple[int, int, int, int | None] | None:
    """Where the rows of the series meeting ``condition`` lie, read at the ends of the table
    only: the first and latest starts by the key's order, the latest end among the rows that
    can end latest (those starting within the series' longest interval of the latest start).

    Args:
        conn: The store's connection.
        condition: A condition on ``series`` columns.
        params: Its parameters.
        open_at: Also find the earliest start of the rows ending at or after this moment.

    Returns:
        ``(first start, latest start, latest end, earliest start of the rows ending at or
        after open_at or None)`` in microseconds; None when no row is stored.
    """
    rows = in_series(condition)
    longest = f"(SELECT MAX(longest_us) FROM series WHERE {condition})"
    first = conn.execute(
        f"SELECT start_us FROM records WHERE {rows} ORDER BY start_us LIMIT 1", params
    ).fetchone()
    if first is None:
        return None
    (latest,) = conn.execute(
        f"SELECT start_us FROM records WHERE {rows} ORDER BY start_us DESC LIMIT 1", params
    ).fetchone()
    (end,) = conn.execute(
        f"SELECT MAX(end_us) FROM records WHERE start_us >= ? - {longest} AND {rows}",
        (latest, *params, *params),
    ).fetchone()
    still_open = None
    if open_at is not None:
        found = conn.execute(
            f"SELECT start_us FROM records WHERE start_us >= ? - {longest} AND end_us >= ? "
            f"AND {rows} ORDER BY start_us LIMIT 1",
            (open_at, *params, open_at, *params),
        ).fetchone()
        still_open = None if found is None else int(found[0])
    return int(first[0]), int(latest), int(end), still_open


def provider_spans(conn: sqlite3.Connection, *, legacy: bool) -> list[tuple[str, int, int]]:
    """Per provider with records, the earliest start and the latest end (microseconds), by
    provider.

    Args:
        conn: The store's connection.
        legacy: For a version-1 table.
    """
    if legacy:
        return [
            (str(p), int(a), int(b))
            for p, a, b in conn.execute(
                "SELECT provider, MIN(start_us), MAX(end_us) FROM records "
                "GROUP BY provider ORDER BY provider"
            )
        ]
    spans = []
    for (provider,) in conn.execute(
        "SELECT DISTINCT provider FROM series ORDER BY provider"
    ).fetchall():
        found = extent(conn, "provider = ?", (provider,))
        if found is not None:
            spans.append((str(provider), found[0], found[2]))
    return spans
