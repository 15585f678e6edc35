"""The ``series`` table: what the rows of one series share, stored once.

A series is everything a record's id hashes but its interval: provider, source, metric, unit,
kind, the dimensions and the identity attributes (those not in
:data:`~usagekit._core.records.MEASURE_ATTRIBUTES` or
:data:`~usagekit._core.records.DERIVED_ATTRIBUTES`). A row of ``records`` names its series by
``series_id`` and keeps only its interval, id, quantity and other attributes, so a year of
hourly usage (50 groups x 15 metrics an hour) stores its strings a few thousand times, not
millions.

A series also keeps ``longest_us``, at least the longest interval of any of its rows (it only
grows, in the transaction that writes such a row): a row ending after ``t`` starts after
``t - longest_us``, so a query for a window reads the rows of that window, not every row
before it.

Series rows are never deleted (their ``longest_us`` only grows), so an id once read or
committed stays valid for the life of the file: :class:`SeriesCache` keeps them per
:class:`~usagekit.Store`. A series first met while encoding gets a provisional (negative) id;
the write transaction then inserts it (``ON CONFLICT`` of its ``key``: another process may have
added it since) and reads its real id, and the cache keeps the real id only once that
transaction committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._core.records import DERIVED_ATTRIBUTES, DIMENSIONS, MEASURE_ATTRIBUTES, MetricKind

__all__ = [
    "NON_IDENTITY",
    "SERIES_COLUMNS",
    "GroupKey",
    "MetricKey",
    "Row",
    "SeriesCache",
    "SeriesInfo",
    "SeriesPlan",
    "dumps",
]

NON_IDENTITY: frozenset[str] = MEASURE_ATTRIBUTES | DERIVED_ATTRIBUTES
"""Attributes a record's id leaves out: kept on each row, not in its series."""

SERIES_COLUMNS: tuple[str, ...] = (
    "provider",
    "source",
    "metric",
    "unit",
    "kind",
    *DIMENSIONS,
    "attributes",
)
"""The columns of a series (besides ``series_id``, ``key`` and ``longest_us``), in order."""

Row = tuple[Any, ...]
"""One row of a table."""
GroupKey = tuple[Any, ...]
"""``(provider, source, *dimensions, identity_pairs)``: what one result's records share."""
MetricKey = tuple[str, str, str]
"""``(metric, unit, kind)``: what tells a result's records apart."""

_INSERT = (
    f"INSERT INTO series (key, {', '.join(SERIES_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in SERIES_COLUMNS)}) ON CONFLICT (key) DO NOTHING"
)
_SELECT = f"SELECT series_id, {', '.join(SERIES_COLUMNS)}, longest_us FROM series"


def dumps(value: object) -> str:
    """Compact, key-sorted JSON: the stored form of attributes and of a series key."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class SeriesInfo:
    """One stored series, as a reader needs it.

    Attributes:
        group: Index of its :class:`GroupKey` among those seen (a result's rows share it).
        metric: Its metric.
        unit: Its unit.
        kind: Its kind.
        shared: The record fields its group fixes: provider, source and the dimensions.
        attributes: Its identity attributes.
    """

    group: int
    metric: str
    unit: str
    kind: MetricKind
    shared: Mapping[str, Any]
    attributes: dict[str, str]


class SeriesPlan:
    """What one batch's transaction does to the ``series`` table (see
    :meth:`SeriesCache.plan`); :meth:`apply` reads and writes only the database and the plan.

    Attributes:
        pending: The series to store: ``(group, metric, provisional id)`` each.
        known: Stored series to lengthen, with the length.
        fresh: Provisional series to lengthen once stored, with the length.
        marks: Per group, its series count and the length all of them reach once committed.
        real: After :meth:`apply`: the real id of each provisional one.
        found: After :meth:`apply`: the stored ``longest_us`` of each series it stored.
        longer: After :meth:`apply`: the series lengthened, with their new length.
    """

    __slots__ = ("found", "fresh", "known", "longer", "marks", "pending", "real")

    def __init__(
        self,
        pending: list[tuple[GroupKey, MetricKey, int]],
        known: dict[int, int],
        fresh: dict[int, int],
        marks: dict[GroupKey, tuple[int, int]],
    ) -> None:
        self.pending = pending
        self.known = known
        self.fresh = fresh
        self.marks = marks
        self.real: dict[int, int] = {}
        self.found: dict[int, int] = {}
        self.longer: dict[int, int] = {}

    def apply(self, conn: sqlite3.Connection) -> dict[int, int]:
        """Run the plan in the caller's write transaction.

        Args:
            conn: The store's connection, in a write transaction.

        Returns:
            The real id of each provisional one (see :meth:`resolve`).
        """
        real: dict[int, int] = {}
        found: dict[int, int] = {}
        for key, (metric, unit, kind), provisional in self.pending:
            provider, source, *rest = key
            dimensions, pairs = rest[:-1], rest[-1]
            attributes = dumps(dict(pairs))
            values = (provider, source, metric, unit, kind, *dimensions, attributes)
            text = dumps(values)
            conn.execute(_INSERT, (text, *values))
            series_id, longest = conn.execute(
                "SELECT series_id, longest_us FROM series WHERE key = ?", (text,)
            ).fetchone()
            real[provisional] = int(series_id)
            found[int(series_id)] = int(longest)
        longer = dict(self.known)
        for provisional, length in self.fresh.items():
            series_id = real[provisional]
            if found.get(series_id, 0) < length:
                longer[series_id] = length
        if longer:
            conn.executemany(
                "UPDATE series SET longest_us = ? WHERE series_id = ? AND longest_us < ?",
                [(length, series_id, length) for series_id, length in longer.items()],
            )
        self.real, self.found, self.longer = real, found, longer
        return real

    def resolve(self, series: list[int]) -> list[int]:
        """Series ids with each provisional one replaced by its real id (after :meth:`apply`).

        Args:
            series: Each row's series id, real (> 0) or provisional (< 0).

        Returns:
            The real ids, in order (``series`` itself when the plan stored none).

        Raises:
            KeyError: A provisional id this plan did not store.
        """
        if not self.real:
            return series
        real = self.real
        return [series_id if series_id > 0 else real[series_id] for series_id in series]


class SeriesCache:
    """The series of one store file, as far as this connection has seen them.

    Writers look series up by group then metric (:meth:`group`, :meth:`provisional` for one
    not stored yet), then write each batch by a :meth:`plan`, applied in its transaction and
    settled after it (:meth:`settle`); readers
    look series up by id (:meth:`info`).
    """

    def __init__(self) -> None:
        self._groups: dict[GroupKey, dict[MetricKey, int]] = {}
        self._group_index: dict[GroupKey, int] = {}
        self._info: dict[int, SeriesInfo] = {}
        self._loaded_through = 0
        self._pending: list[tuple[GroupKey, MetricKey, int]] = []
        self._next = -1
        self._longest: dict[int, int] = {}
        # per group: (its series count, a length all of them are known to reach), committed
        self._marks: dict[GroupKey, tuple[int, int]] = {}
        self.generation = 0
        """Counts the settlements of provisional ids (an encoder then forgets those)."""

    # ------------------------------------------------------------------------------- loading

    def load(self, conn: sqlite3.Connection) -> None:
        """Read the series added since the last load (raises what SQLite raises)."""
        rows = conn.execute(
            f"{_SELECT} WHERE series_id > ? ORDER BY series_id", (self._loaded_through,)
        ).fetchall()
        for row in rows:
            self._remember(row)

    def _remember(self, row: Sequence[Any]) -> None:
        series_id = int(row[0])
        provider, source, metric, unit, kind = row[1:6]
        dimensions = tuple(row[6 : 6 + len(DIMENSIONS)])
        attributes: dict[str, str] = json.loads(row[6 + len(DIMENSIONS)])
        self._longest[series_id] = int(row[7 + len(DIMENSIONS)])
        if not isinstance(attributes, dict):
            raise ValueError(f"series {series_id} has attributes that are not an object")
        key: GroupKey = (provider, source, *dimensions, tuple(sorted(attributes.items())))
        self._groups.setdefault(key, {})[(metric, unit, kind)] = series_id
        group = self._group_index.setdefault(key, len(self._group_index))
        shared = dict(zip(("provider", "source", *DIMENSIONS), key[:-1], strict=True))
        self._info[series_id] = SeriesInfo(group, metric, unit, kind, shared, attributes)
        self._loaded_through = max(self._loaded_through, series_id)

    # ------------------------------------------------------------------------------- reading

    def info(
        self,
        conn: sqlite3.Connection,
        series_id: int,
        check: Callable[[], None] = lambda: None,
    ) -> SeriesInfo:
        """The series of an id, loading what another process added if it is not known yet.

        Args:
            conn: The store's connection.
            series_id: The id.
            check: Called before the connection is read (the store's thread check).

        Returns:
            What the records of the series share.

        Raises:
            KeyError: The store holds no such series (a damaged file).
        """
        found = self._info.get(series_id)
        if found is None:
            check()
            self.load(conn)
            found = self._info[series_id]
        return found

    # ------------------------------------------------------------------------------- writing

    def group(self, key: GroupKey) -> dict[MetricKey, int]:
        """The series ids of a group by metric, to be looked up (and extended) by a writer."""
        found = self._groups.get(key)
        if found is None:
            found = self._groups[key] = {}
        return found

    def provisional(self, key: GroupKey, series: dict[MetricKey, int], metric: MetricKey) -> int:
        """Give a series not stored yet a provisional (negative) id until its batch commits."""
        provisional = self._next
        self._next -= 1
        series[metric] = provisional
        self._pending.append((key, metric, provisional))
        return provisional

    def plan(self, lengths: Mapping[GroupKey, int]) -> SeriesPlan:
        """What a batch's transaction must do to the ``series`` table: store the series not
        stored yet (every provisional id given since the last plan) and lengthen the
        ``longest_us`` of the batch's series to the longest of its intervals.

        Made on the encoder's thread; :meth:`SeriesPlan.apply` runs it in the write
        transaction (on any thread: it reads nothing of the cache), then :meth:`settle` ends
        it on the encoder's thread once the transaction ended.

        Args:
            lengths: Per group of the batch, its longest interval (microseconds).

        Returns:
            The plan.
        """
        pending, self._pending = self._pending, []
        known: dict[int, int] = {}  # stored series to lengthen
        fresh: dict[int, int] = {}  # provisional ones, measured once stored
        marks: dict[GroupKey, tuple[int, int]] = {}
        for key, length in lengths.items():
            group = self._groups.get(key, {})
            mark = self._marks.get(key)
            if mark is not None and mark[0] == len(group) and mark[1] >= length:
                continue  # every series of the group is known to be that long already
            for series_id in group.values():
                if series_id < 0:
                    fresh[series_id] = length
                elif self._longest.get(series_id, 0) < length:
                    known[series_id] = length
            marks[key] = (len(group), length)
        return SeriesPlan(pending, known, fresh, marks)

    def settle(self, plan: SeriesPlan, committed: bool) -> None:
        """End a plan after its transaction, on the encoder's thread: keep the real ids and
        lengths it stored (it committed) or forget them (it rolled back, or never ran)."""
        if plan.pending:
            self.generation += 1
        real = plan.real if committed else {}
        for key, metric, provisional in plan.pending:
            series = self._groups[key]
            if provisional in real:
                series[metric] = real[provisional]
            elif series.get(metric) == provisional:
                del series[metric]
        if committed:
            for series_id, longest in plan.found.items():
                self._longest.setdefault(series_id, longest)
            self._longest.update(plan.longer)
            self._marks.update(plan.marks)

    def discard(self) -> None:
        """Forget the provisional ids given since the last plan (their rows will not be
        written: the stream ended with a failure)."""
        self.settle(self.plan({}), committed=False)
