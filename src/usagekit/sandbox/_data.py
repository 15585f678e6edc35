"""Deterministic usage data for every provider, and the ground truth tests compare against.

Each hour's data is a pure function of ``(seed, provider, hour)`` drawn from a hashed random
stream, so it does not depend on when or in what order it is asked for. It is generated lazily
and cached per hour. An event or row exists when ``history_start <= time < now``.

OpenAI usage is generated per hour and per *stream* (a fixed combination of project, user,
key, model, ...); every provider's rows and events are made by the ``_generate`` module of its
emulator's folder, and answered here.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, TypeVar

from ._catalog import (
    Catalog,
    DaramexOrg,
    build_catalog,
)
from ._emulators.basedash._generate import BasedashEvents
from ._emulators.daramex._generate import DaramexEvents
from ._emulators.openai._generate import OpenAIUsage, row_costs
from ._emulators.openai._kinds import OPENAI_KINDS, add_into
from ._emulators.unsiloed._generate import UnsiloedEvents
from ._rows import (
    BasedashEvent,
    BasedashPeriod,
    CostRow,
    DaramexEvent,
    Dim,
    UnsiloedCycle,
    UnsiloedEvent,
    UsageRow,
)
from ._util import (
    DAY,
    HOUR,
    UTC,
    Clock,
    HashRandom,
    TimeLike,
    floor_to,
    next_month,
)
from ._util import to_datetime as _to_datetime
from ._util import to_unix as _to_unix

__all__ = ["SandboxData"]

_T = TypeVar("_T")


class SandboxData:
    """All the sandbox's data for one seed, and the ground truth for tests.

    The methods return the raw finest-grain rows and events of a window (``start``
    inclusive, ``end`` exclusive; datetimes, unix seconds or ISO-8601 text) and plain
    totals summed straight from them, independently of the HTTP server's bucketing and
    grouping.

    Args:
        seed: Data seed; the same seed always gives the same data.
        clock: The sandbox clock (real time when None).
        history_days: Days of history before the clock's day at construction.
    """

    def __init__(
        self, seed: int = 1, *, clock: Clock | None = None, history_days: int = 120
    ) -> None:
        self.seed = seed
        self.clock = clock if clock is not None else Clock()
        self.catalog: Catalog = build_catalog(seed)
        start = floor_to(self.clock.now_ts(), DAY) - history_days * DAY
        self.history_start_ts: int = start
        self._lock = threading.Lock()
        self._cache: dict[tuple[object, ...], object] = {}
        self._day_factors: dict[tuple[str, int], float] = {}
        self._openai = OpenAIUsage(self)
        self._basedash = BasedashEvents(self)
        self._unsiloed = UnsiloedEvents(self)
        self._daramex = DaramexEvents(self)

    # ---------------------------------------------------------------- general

    @property
    def history_start(self) -> datetime:
        """The first instant with data."""
        return _to_datetime(self.history_start_ts)

    def now(self) -> datetime:
        """The sandbox clock's current instant (data exists before it)."""
        return self.clock.now()

    def _window(self, start: TimeLike, end: TimeLike) -> tuple[int, int]:
        """Clip a window to ``[history_start, now)``."""
        return (
            max(_to_unix(start), self.history_start_ts),
            min(_to_unix(end), self.clock.now_ts()),
        )

    def _cached(self, key: tuple[object, ...], make: Callable[[], _T]) -> _T:
        with self._lock:
            if key in self._cache:
                return self._cache[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            return self._cache.setdefault(key, value)  # type: ignore[return-value]

    def _day_factor(self, provider: str, day: int) -> float:
        key = (provider, day)
        factor = self._day_factors.get(key)
        if factor is None:
            rng = HashRandom(self.seed, provider, "day", day)
            factor = rng.uniform(0.7, 1.3) * (1.0 + 0.15 * math.sin(day / 11.0))
            self._day_factors[key] = factor
        return factor

    def _shape(self, provider: str, hour: int, offset: int, *, night: bool = False) -> float:
        """Traffic level of an hour: office hours (or nights), quieter weekends, daily noise."""
        local = hour + offset * HOUR
        hour_of_day = (local // HOUR) % 24
        day = local // DAY
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        if night:
            distance = (hour_of_day - 2 + 12) % 24 - 12
            daily = 0.15 + 0.85 * math.exp(-((distance / 3.0) ** 2))
            weekly = 1.0 if weekday < 5 else 0.6
        else:
            daily = 0.05 + 0.95 * math.exp(-(((hour_of_day - 13.5) / 5.0) ** 4))
            weekly = 1.0 if weekday < 5 else 0.28
        return daily * weekly * self._day_factor(provider, day)

    def _hours(self, start: int, end: int) -> range:
        return range(floor_to(start, HOUR), end, HOUR)

    # ---------------------------------------------------------------- OpenAI ground truth

    def openai_rows(
        self,
        kind: str,
        start: TimeLike,
        end: TimeLike,
        *,
        grain: Literal["hour", "minute"] = "hour",
    ) -> list[UsageRow]:
        """OpenAI usage rows whose ``start`` lies in ``[start, end)``.

        Args:
            kind: Usage endpoint name (a key of ``OPENAI_KINDS``).
            start: Window start (inclusive).
            end: Window end (exclusive).
            grain: ``hour`` rows, or ``minute`` rows (the finest grain). The hour that
                contains ``now`` is the sum of its minutes before ``now``.

        Returns:
            Rows ordered by time.

        Raises:
            ValueError: For an unknown kind or grain.
        """
        if kind not in OPENAI_KINDS:
            raise ValueError(f"unknown usage kind {kind!r}")
        low, high = self._window(start, end)
        now = self.clock.now_ts()
        rows: list[UsageRow] = []
        for hour in self._hours(low, high):
            if grain == "hour":
                rows.extend(r for r in self._openai.visible_hour(kind, hour, now) if low <= r.start)
            elif grain == "minute":
                if hour < self.history_start_ts:
                    continue
                minute_rows = [m for ms in self._openai.minute_split(kind, hour) for m in ms]
                minute_rows.sort(key=lambda r: r.start)
                rows.extend(r for r in minute_rows if low <= r.start < high)
            else:
                raise ValueError(f"unknown grain {grain!r}")
        return rows

    def openai_totals(
        self,
        kind: str,
        start: TimeLike,
        end: TimeLike,
        *,
        group_by: Sequence[str] = (),
    ) -> dict[tuple[Dim, ...], dict[str, int]]:
        """Sum a flow kind's metrics over a window, optionally per combination of dimensions.

        Args:
            kind: Usage endpoint name (not ``vector_stores``: levels do not add up over
                time; use ``openai_vector_store_bytes``).
            start: Window start (inclusive, on an hour boundary for exact bucket totals).
            end: Window end (exclusive).
            group_by: Dimension fields to group by.

        Returns:
            ``{(dimension values...): {metric: total}}``; ``{(): totals}`` when not grouped
            (empty when there is no usage).

        Raises:
            ValueError: For ``vector_stores``.
        """
        if OPENAI_KINDS[kind].level:
            raise ValueError("vector_stores usage_bytes is a level: it does not add up")
        totals: dict[tuple[Dim, ...], dict[str, int]] = {}
        for row in self.openai_rows(kind, start, end):
            key = tuple(row.dims[name] for name in group_by)
            add_into(totals.setdefault(key, {}), row.metrics)
        return totals

    def openai_vector_store_bytes(self, at: TimeLike, project_id: str | None = None) -> int:
        """Bytes stored in vector stores during the hour containing ``at`` (0 before history).

        Args:
            at: An instant before ``now``.
            project_id: One project, or all of them.

        Returns:
            The level in bytes.
        """
        hour = floor_to(_to_unix(at), HOUR)
        rows = self._openai.visible_hour("vector_stores", hour, self.clock.now_ts())
        return sum(
            r.metrics["usage_bytes"]
            for r in rows
            if project_id is None or r.dims["project_id"] == project_id
        )

    def openai_cost_rows(self, start: TimeLike, end: TimeLike) -> list[CostRow]:
        """Cost line items of the hours that start in ``[start, end)``.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).

        Returns:
            Cost rows ordered by hour.
        """
        low, high = self._window(start, end)
        now = self.clock.now_ts()
        rows: list[CostRow] = []
        for hour in self._hours(low, high):
            if hour >= low:
                rows.extend(self._openai.hour_costs(hour, now))
        return rows

    def openai_cost_totals(
        self, start: TimeLike, end: TimeLike, *, group_by: Sequence[str] = ()
    ) -> dict[tuple[str | None, ...], Decimal]:
        """Sum cost amounts over a window, optionally grouped by cost row fields.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            group_by: ``project_id``, ``line_item`` and/or ``api_key_id``.

        Returns:
            ``{(field values...): USD}`` (``{(): total}`` when not grouped).
        """
        totals: dict[tuple[str | None, ...], Decimal] = {}
        for row in self.openai_cost_rows(start, end):
            key = tuple(getattr(row, name) for name in group_by)
            totals[key] = totals.get(key, Decimal(0)) + row.amount
        return totals

    def openai_cost_by_usage(
        self, start: TimeLike, end: TimeLike, *, group_by: Sequence[str] = ("user_id", "model")
    ) -> dict[tuple[Dim, ...], Decimal]:
        """Cost amounts of the hours in ``[start, end)`` per usage dimension: who spent it.

        The costs endpoint never says which user or model a charge is for; the sandbox knows,
        because it derives every cost row from one usage row. This is the ground truth that
        an allocation of costs over usage should recover.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            group_by: Usage dimension fields (``user_id``, ``model``, ``api_key_id``,
                ``project_id``, ...) and/or cost row fields (``line_item``, ``kind``); a
                dimension a usage kind does not have is None.

        Returns:
            ``{(values...): USD}``; the values sum to :meth:`openai_cost_totals`.
        """
        low, high = self._window(start, end)
        now = self.clock.now_ts()
        fields = set(CostRow._fields)
        totals: dict[tuple[Dim, ...], Decimal] = {}
        for hour in self._hours(low, high):
            if hour < low:
                continue
            for kind in OPENAI_KINDS:
                for row in self._openai.visible_hour(kind, hour, now):
                    for cost in row_costs(row):
                        key = tuple(
                            getattr(cost, name) if name in fields else row.dims.get(name)
                            for name in group_by
                        )
                        totals[key] = totals.get(key, Decimal(0)) + cost.amount
        return totals

    # ---------------------------------------------------------------- Basedash

    def basedash_events(self, start: TimeLike, end: TimeLike) -> list[BasedashEvent]:
        """Basedash billable AI actions in ``[start, end)`` (and before ``now``)."""
        low, high = self._window(start, end)
        return [
            e
            for h in self._hours(low, high)
            for e in self._basedash.hour_events(h)
            if low <= e.ts < high
        ]

    def basedash_period(self, at: TimeLike | None = None) -> BasedashPeriod:
        """Usage for the billing period (calendar month, UTC) containing ``at`` (default now).

        Usage counts up to ``min(at, now)``.
        """
        moment = _to_datetime(self.clock.now() if at is None else at)
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = next_month(start.date())
        end = datetime(following.year, following.month, 1, tzinfo=UTC)
        total = Decimal(0)
        members: dict[str, Decimal] = {}
        current = {m.user_id for m in self.catalog.basedash_members if m.current}
        for event in self.basedash_events(start, min(moment, end)):
            total += event.usage
            if event.user_id in current:
                members[event.user_id] = members.get(event.user_id, Decimal(0)) + event.usage
        return BasedashPeriod(start, end, total, members, total - sum(members.values(), Decimal(0)))

    # ---------------------------------------------------------------- Unsiloed

    def unsiloed_events(self, start: TimeLike, end: TimeLike) -> list[UnsiloedEvent]:
        """Unsiloed jobs in ``[start, end)`` (and before ``now``)."""
        low, high = self._window(start, end)
        return [
            e
            for h in self._hours(low, high)
            for e in self._unsiloed.hour_events(h)
            if low <= e.ts < high
        ]

    def unsiloed_cycle(self, at: TimeLike | None = None) -> UnsiloedCycle:
        """The 30-day billing cycle containing ``at`` (default now) and its usage so far.

        Cycles start every 30 days from a fixed anchor date; usage counts from the last billed
        date at 00:00 UTC up to ``min(at, now)``.
        """
        moment = _to_datetime(self.clock.now() if at is None else at)
        anchor = self.catalog.unsiloed_anchor_ordinal
        today = moment.date().toordinal()
        billed = date.fromordinal(anchor + (today - anchor) // 30 * 30)
        since = datetime(billed.year, billed.month, billed.day, tzinfo=UTC)
        used = sum(e.credits for e in self.unsiloed_events(since, moment))
        return UnsiloedCycle(billed, used, self.catalog.unsiloed_usage_limit)

    # ---------------------------------------------------------------- Daramex

    def daramex_org(self, org_id: str) -> DaramexOrg | None:
        """The Daramex organization with this id, if any."""
        return next((o for o in self.catalog.daramex_orgs if o.id == org_id), None)

    def daramex_events(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        org_id: str | None = None,
        source: str = "all",
    ) -> list[DaramexEvent]:
        """Daramex ``token_usage_logs`` rows in ``[start, end)`` (and before ``now``).

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            org_id: Organization (default: the first one, whose token ``keys`` hands out).
            source: ``system``, ``byok`` or ``all``.

        Returns:
            Events ordered by time.

        Raises:
            ValueError: For an unknown organization or source.
        """
        org = self.daramex_org(org_id) if org_id else self.catalog.daramex_orgs[0]
        if org is None:
            raise ValueError(f"unknown Daramex organization {org_id!r}")
        if source not in ("system", "byok", "all"):
            raise ValueError(f"unknown source {source!r}")
        low, high = self._window(start, end)
        return [
            e
            for h in self._hours(low, high)
            for e in self._daramex.hour_events(org, h)
            if low <= e.ts < high and (source == "all" or e.source == source)
        ]

    def daramex_totals(
        self, start: TimeLike, end: TimeLike, *, org_id: str | None = None, source: str = "all"
    ) -> tuple[int, Decimal]:
        """Total tokens and cost (USD) of Daramex events in a window."""
        events = self.daramex_events(start, end, org_id=org_id, source=source)
        return sum(e.total_tokens for e in events), sum((e.cost_usd for e in events), Decimal(0))
