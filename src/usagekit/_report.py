"""The result of :func:`usagekit.collect`: records, failures, and answers without pandas.

:class:`UsageReport` is the one object people hold; what it adds up lives in
:mod:`usagekit._report_totals`, how each provider went in :mod:`usagekit._report_status`, and
its outputs (exports, the HTML page, the notebook view, the charts, the analyses) are imported
from :mod:`usagekit._io` and :mod:`usagekit.analytics` only when a method is called, so that
importing usagekit imports none of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ._core.records import TOKEN_METRICS, UsageRecord
from ._core.table import G_PROVIDER, RecordTable
from ._report_status import ProviderFailure, ProviderStatus
from ._report_totals import (
    DIMENSION_ALIASES,
    Total,
    compute_totals,
    dimension_getter,
    summary_rows,
)

if TYPE_CHECKING:
    from . import analytics
    from ._allocate import AllocationSummary
    from ._io._view import View

__all__ = ["DIMENSION_ALIASES", "ProviderFailure", "ProviderStatus", "Total", "UsageReport"]


@dataclass(frozen=True)
class UsageReport:
    """Records from every provider that succeeded, and what failed.

    Records are de-duplicated by id (the same fact fetched twice counts once).

    Attributes:
        records: The records, in fetch order: a read-only sequence that holds them in columns
            (about 60 bytes a record) and builds each :class:`UsageRecord` on access.
        failures: One entry per failed provider.
        statuses: One entry per client, in the order given.
        start: The window's start (UTC).
        end: The window's end (UTC), or None for "up to now".
        as_of: When the records were fetched (usagekit's clock): the "now" of "up to now",
            which the notebook view, the HTML report and the command's JSON use, so that a
            report shown again later gives the same figures. None when unknown.
    """

    records: Sequence[UsageRecord]
    failures: tuple[ProviderFailure, ...] = ()
    statuses: tuple[ProviderStatus, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    as_of: datetime | None = None

    def __post_init__(self) -> None:  # records are held in columns and built on access
        object.__setattr__(self, "records", RecordTable.from_records(self.records))

    @classmethod
    def from_records(
        cls,
        records: Iterable[UsageRecord],
        *,
        failures: Sequence[ProviderFailure] = (),
        statuses: Sequence[ProviderStatus] = (),
        start: datetime | None = None,
        end: datetime | None = None,
        as_of: datetime | None = None,
    ) -> UsageReport:
        """Build a report, keeping the last of several records with the same id.

        Args:
            records: Any records.
            failures: Providers that failed.
            statuses: Per-client outcome.
            start: The window's start.
            end: The window's end.
            as_of: When the records were fetched.

        Returns:
            The report.
        """
        table = RecordTable.from_records(records, unique=True)
        return cls(table, tuple(failures), tuple(statuses), start, end, as_of)

    # -- container protocol ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[UsageRecord]:
        return iter(self.records)

    @property
    def _table(self) -> RecordTable:
        """The records in columns (what exports and totals read)."""
        return self.records  # type: ignore[return-value]  # __post_init__ made it a table

    @property
    def ok(self) -> bool:
        """Whether every provider was fetched completely."""
        return not self.failures

    @property
    def providers(self) -> tuple[str, ...]:
        """The providers that contributed records, sorted."""
        return tuple(sorted({group[G_PROVIDER] for group in self._table.groups()}))

    def filter(self, **criteria: str | None) -> UsageReport:
        """Return a report holding only the records matching every criterion.

        Args:
            **criteria: Dimension name (see :data:`DIMENSION_ALIASES`) to required value.

        Returns:
            A new report with the same failures and statuses.

        Raises:
            ConfigError: An unknown dimension.
        """
        getters = [(dimension_getter(name), value) for name, value in criteria.items()]
        kept = self._table.where(lambda r: all(get(r) == value for get, value in getters))
        return UsageReport(kept, self.failures, self.statuses, self.start, self.end, self.as_of)

    # -- allocation (see usagekit._allocate) ------------------------------------------------

    def allocate(self, *, quantum: Decimal | None = None) -> UsageReport:
        """Split each cost over the usage that explains it, exactly, into per-user/key/model costs.

        See :func:`usagekit.allocate_records`: the allocated records replace the cost records
        they come from (nothing is counted twice), their pieces sum exactly to each original
        cost, and a cost no usage matches stays as one ``unallocated`` record with its reason.

        Args:
            quantum: The quantum of the pieces; default :data:`usagekit.ALLOCATION_QUANTUM`.

        Returns:
            A new report with the same failures, statuses and window.
        """
        from ._allocate import QUANTUM
        from ._allocate_table import allocate_table

        records = allocate_table(self._table, quantum=QUANTUM if quantum is None else quantum)
        return UsageReport.from_records(
            records,
            failures=self.failures,
            statuses=self.statuses,
            start=self.start,
            end=self.end,
            as_of=self.as_of,
        )

    @property
    def allocated(self) -> bool:
        """Whether the report holds allocated cost records (see :meth:`allocate`)."""
        return any("allocation_method" in r.attributes for r in self._table.of_metric("cost"))

    def allocation_summary(self) -> AllocationSummary:
        """How much cost an allocation split and why the rest was not.

        Returns:
            A :class:`usagekit.AllocationSummary` of this report's cost records.
        """
        from ._allocate import summarize_allocation

        return summarize_allocation(self._table.of_metric("cost"))

    # -- answers --------------------------------------------------------------------------

    def totals(
        self,
        by: str | Sequence[str] = (),
        *,
        metric: str | None = None,
        unit: str | None = None,
    ) -> list[Total]:
        """Total each metric per group, never summing a level over time.

        Flows are summed. For a level (bytes stored, credits remaining), the latest value of
        each series within the group is taken, and those latest values are summed across
        series (e.g. vector store bytes across projects at the end of the window).

        Args:
            by: One dimension name or several (see :data:`DIMENSION_ALIASES`).
            metric: Only this metric (``"cost"``, ``"input_tokens"``, ...).
            unit: Only this unit (``"USD"``, ``"tokens"``, ...).

        Returns:
            Totals sorted by group, then metric and unit.

        Raises:
            ConfigError: An unknown dimension.
        """
        return compute_totals(self.records, by, metric, unit)

    def total_cost(self) -> dict[str, Decimal]:
        """Total cost per currency, e.g. ``{"USD": Decimal("123.45")}``."""
        return {t.unit: t.quantity for t in self.totals(metric="cost")}

    def cost_by(self, by: str | Sequence[str]) -> dict[Any, dict[str, Decimal]]:
        """Cost per group and currency.

        Args:
            by: One dimension (keys are its values) or several (keys are tuples).

        Returns:
            ``{group: {currency: amount}}``, largest total first.
        """
        single = isinstance(by, str)
        result: dict[Any, dict[str, Decimal]] = defaultdict(dict)
        for total in self.totals(by, metric="cost"):
            result[total.group[0] if single else total.group][total.unit] = total.quantity
        return dict(sorted(result.items(), key=lambda kv: -sum(kv[1].values(), Decimal(0))))

    def tokens_by(self, by: str | Sequence[str] = "model") -> dict[Any, Decimal]:
        """Whole tokens (see :data:`usagekit.TOKEN_METRICS`) per group, largest first.

        Args:
            by: One dimension (keys are its values) or several (keys are tuples).

        Returns:
            ``{group: tokens}``; breakdown metrics such as cached tokens are not added again.
        """
        single = isinstance(by, str)
        result: dict[Any, Decimal] = defaultdict(Decimal)
        for total in self.totals(by, unit="tokens"):
            if total.metric in TOKEN_METRICS:
                result[total.group[0] if single else total.group] += total.quantity
        return dict(sorted(result.items(), key=lambda kv: -kv[1]))

    def tokens_by_model(self) -> dict[str | None, Decimal]:
        """Whole tokens per model, largest first."""
        return self.tokens_by("model")

    def summary(self, by: str | Sequence[str] = "provider") -> list[dict[str, Any]]:
        """One row per group: cost per currency, whole tokens and record count.

        Args:
            by: The dimension(s) to group by.

        Returns:
            Rows with keys ``group`` (the dimension values joined by `` / ``), ``cost``
            (currency to amount; a currency is absent when the group has no cost record in it,
            so "no cost" is never shown as a zero), ``tokens``, ``records`` and ``credits``
            (credits consumed, e.g. Unsiloed's, which are not money; None when the group has
            none), and ``values`` (the dimension values as a tuple): in time order when
            grouped by ``hour``, ``day`` or ``month``, else largest cost first.
        """
        return summary_rows(self.records, self.totals(by), by)

    # -- analytics (see usagekit.analytics) ------------------------------------------------

    def time_series(
        self,
        *,
        granularity: analytics.Granularity | None = None,
        timezone: str = "UTC",
        group_by: str | None = None,
    ) -> analytics.TimeSeries:
        """Tokens and cost per time bucket over the report's window.

        See :func:`usagekit.analytics.time_series`; the window defaults to the report's.

        Raises:
            ConfigError: A record coarser than the buckets, or a bad argument.
        """
        from . import analytics

        return analytics.time_series(
            self.records,
            granularity=granularity,
            timezone=timezone,
            group_by=group_by,
            start=self.start,
            end=self.end,
        )

    def projection(
        self, *, period_end: Any = None, timezone: str = "UTC", currency: str | None = None
    ) -> analytics.Projection:
        """Spend projected to the period end (see :func:`usagekit.analytics.projection`)."""
        from . import analytics

        return analytics.projection(
            self.records, period_end=period_end, timezone=timezone, currency=currency
        )

    def heatmap(self, *, timezone: str = "UTC") -> analytics.Heatmap:
        """Tokens and cost by day of week and hour (see :func:`usagekit.analytics.heatmap`)."""
        from . import analytics

        return analytics.heatmap(self.records, timezone=timezone)

    def model_efficiency(
        self, *, limit: int = 20, currency: str | None = None
    ) -> list[analytics.ModelEfficiency]:
        """Cost, tokens and requests per model (see :func:`usagekit.analytics.model_efficiency`)."""
        from . import analytics

        return analytics.model_efficiency(self.records, limit=limit, currency=currency)

    def budget(
        self,
        *,
        limit: Decimal | int | float | str,
        period: analytics.Period = "month",
        timezone: str = "UTC",
        currency: str | None = None,
    ) -> analytics.Budget:
        """Spend so far against a budget, and whether the projection breaks it.

        See :func:`usagekit.analytics.budget`.
        """
        from . import analytics

        return analytics.budget(
            self.records, limit=limit, period=period, timezone=timezone, currency=currency
        )

    # -- exports --------------------------------------------------------------------------

    def to_csv(self, target: str | Path | IO[str]) -> int:
        """Write the records as CSV (see :func:`usagekit.write_csv`); returns the count."""
        from ._io.formats import FORMATS

        return FORMATS["csv"].write(self.records, target)

    def to_jsonl(self, target: str | Path | IO[str]) -> int:
        """Write the records as JSON Lines (see :func:`usagekit.write_jsonl`)."""
        from ._io.formats import FORMATS

        return FORMATS["jsonl"].write(self.records, target)

    def to_parquet(self, path: str | Path) -> int:
        """Write the records as Parquet (needs the ``parquet`` extra)."""
        from ._io.formats import FORMATS

        return FORMATS["parquet"].write(self.records, path)

    def to_html(
        self,
        target: str | Path | IO[str],
        *,
        budget: Decimal | int | str | None = None,
        currency: str | None = None,
        top: int = 8,
        allocate: bool | None = None,
        title: str = "AI usage and spend",
    ) -> str:
        """Write the report as one self-contained HTML page people can look at, mail, print.

        The page has the headline (spend so far per currency, the projected period end with
        its 80 % band, the budget status), cumulative spend against the budget line with the
        projection band, spend per day stacked by provider (whole-period totals as a separate
        bar), cost by model and by project, the hour-of-week heatmap when there are hourly
        records, and what each provider covered or why it failed. Inline CSS and SVG only: no
        JavaScript, no network, no external assets. See :doc:`/concepts/reports`.

        Args:
            target: A path (written atomically, as UTF-8) or an open text stream.
            budget: A budget for the current month: ``"1000USD"``, or an amount in the
                report's only currency.
            currency: The currency of the charts; None: the one with the largest total.
            top: Models or projects shown before the rest is grouped into one bar.
            allocate: Whether cost by model and project use the allocated view (OpenAI's
                costs split exactly over its usage; totals unchanged). None: yes.
            title: The page's title.

        Returns:
            The HTML document written.

        Raises:
            ConfigError: A bad budget, currency or ``top``.
            ExportError: The target path is not a regular file.
            OSError: The file cannot be written.
        """
        from ._io.html import write_html

        return write_html(
            self, target, budget=budget, currency=currency, top=top, allocate=allocate, title=title
        )

    def to_pandas(self, *, decimal: bool = True) -> Any:
        """The records as a pandas DataFrame (needs the ``pandas`` extra).

        Read from the columns, linear in N (a year of hourly usage in seconds). ``quantity``
        holds the exact ``Decimal`` objects (float64 with ``decimal=False``); rows with the
        same attributes share one ``attributes`` dict (a copy): copy a cell to change it.

        Args:
            decimal: Keep quantities as exact ``Decimal`` objects (else float64).

        Returns:
            A ``pandas.DataFrame``, one row per record, in order.

        Raises:
            ConfigError: pandas is not installed.
        """
        from ._io.pandas import to_pandas

        return to_pandas(self.records, decimal=decimal)

    def summary_frame(self, by: str | Sequence[str] = "provider") -> Any:
        """:meth:`summary` as a pandas DataFrame (needs the ``pandas`` extra).

        Args:
            by: The dimension(s) to group by.

        Returns:
            One row per group: a column per ``by`` dimension, ``cost_<CURRENCY>`` per currency
            (exact ``Decimal``; ``None`` when the group has no cost in it, never a zero),
            ``credits`` when any group consumed credits (``None`` where none), ``tokens`` and
            ``records``.

        Raises:
            ConfigError: pandas is not installed, or an unknown dimension.
        """
        from ._io.pandas import summary_frame

        return summary_frame(self, by)

    def to_focus(self) -> list[dict[str, Any]]:
        """The cost records as FOCUS 1.2 rows (see :func:`usagekit.focus_rows`)."""
        from ._io.focus import focus_rows

        return list(focus_rows(self.records))

    def to_focus_csv(self, target: str | Path | IO[str]) -> int:
        """Write the cost records as FOCUS 1.2 CSV."""
        from ._io.formats import FORMATS

        return FORMATS["focus"].write(self.records, target)

    def to_focus_parquet(self, path: str | Path) -> int:
        """Write the cost records as FOCUS 1.2 Parquet (needs the ``parquet`` extra)."""
        from ._io.formats import FORMATS

        return FORMATS["focus-parquet"].write(self.records, path)

    # -- display --------------------------------------------------------------------------

    def _window_text(self) -> str:
        start = self.start.isoformat() if self.start else "?"
        end = self.end.isoformat() if self.end else "now"
        return f"{start} to {end}"

    def __repr__(self) -> str:
        cost = ", ".join(f"{amount:.2f} {cur}" for cur, amount in self.total_cost().items())
        return (
            f"UsageReport({len(self.records)} records from {len(self.providers)} providers, "
            f"cost {cost or 'none'}, {len(self.failures)} failed)"
        )

    def _repr_html_(self) -> str:
        """The notebook view: the HTML report's headline and provider table, with a total row.

        Every provider is a row (those with 0 records too, their status saying why); money
        has its currency and thousands separators, dates are in words; failures, what each
        provider covered and the allocation follow. See :meth:`to_html` for the whole report.
        """
        from ._io.notebook import notebook_html

        return notebook_html(self)

    # -- charts (the plot extra; the same charts as to_html) -------------------------------

    def _view(self, **options: Any) -> View:
        from ._io._view import build_view

        return build_view(self, **options)

    def plot(
        self,
        *,
        budget: Decimal | int | str | None = None,
        currency: str | None = None,
        top: int = 8,
        allocate: bool | None = None,
    ) -> dict[str, Any]:
        """Draw every chart of the HTML report in one figure (needs the ``plot`` extra).

        Args:
            budget: A budget for the current month, e.g. ``"1000USD"``, drawn as a line.
            currency: The currency of the charts; None: the one with the largest total.
            top: Models or projects shown before the rest is grouped.
            allocate: Whether cost by model and project use the allocated view (None: yes).

        Returns:
            The ``Axes`` by chart: ``cumulative``, ``daily``, ``models``, ``projects`` and
            ``heatmap``.

        Raises:
            ConfigError: matplotlib is not installed, or a bad argument.
        """
        from ._io import plots as _plots

        view = self._view(budget=budget, currency=currency, top=top, allocate=allocate)
        return _plots.plot_all(view)

    def plot_cumulative(
        self,
        ax: Any = None,
        *,
        budget: Decimal | int | str | None = None,
        currency: str | None = None,
    ) -> Any:
        """Draw cumulative spend per day, the budget line and the projection band.

        Args:
            ax: A matplotlib ``Axes`` to draw on; a new figure is made when None.
            budget: A budget for the current month, e.g. ``"1000USD"``.
            currency: The currency; None: the one with the largest total.

        Returns:
            The matplotlib ``Axes``.

        Raises:
            ConfigError: matplotlib is not installed, or a bad argument.
        """
        from ._io import plots as _plots

        return _plots.plot_cumulative(self._view(budget=budget, currency=currency), ax)

    def plot_spend(self, ax: Any = None, *, currency: str | None = None) -> Any:
        """Draw spend per UTC day by provider as stacked bars on a date axis (``plot`` extra).

        Every day of the window is on the axis (a day without spend is a gap at zero). Records
        longer than a day (a whole billing period, as Basedash reports) are drawn as a separate
        hatched bar after the days, labelled with their span, never left out.

        Args:
            ax: A matplotlib ``Axes`` to draw on; a new figure is made when None.
            currency: The currency to plot; None: the one with the largest total.

        Returns:
            The matplotlib ``Axes``.

        Raises:
            ConfigError: matplotlib is not installed, or no cost in ``currency``.
        """
        from ._io import plots as _plots

        return _plots.plot_daily(self._view(currency=currency, allocate=False), ax)

    def plot_cost_by(
        self,
        by: str = "model",
        ax: Any = None,
        *,
        top: int = 8,
        currency: str | None = None,
        allocate: bool | None = None,
    ) -> Any:
        """Draw cost by model or by project, the top ``top - 1`` and the rest grouped.

        Args:
            by: ``"model"`` or ``"project"``.
            ax: A matplotlib ``Axes`` to draw on; a new figure is made when None.
            top: Bars at most (the last one gathers the rest).
            currency: The currency; None: the one with the largest total.
            allocate: Whether to use the allocated view (None: yes, see :meth:`allocate`).

        Returns:
            The matplotlib ``Axes``.

        Raises:
            ConfigError: matplotlib is not installed, or a bad argument.
        """
        from ._io import plots as _plots

        view = self._view(top=top, currency=currency, allocate=allocate)
        return _plots.plot_breakdown(view, by, ax)

    def plot_heatmap(self, ax: Any = None, *, currency: str | None = None) -> Any:
        """Draw the hour-of-week heatmap (UTC) of the report's hourly records.

        Cost when the hourly records carry cost, else tokens; without hourly records the
        ``Axes`` says so.

        Args:
            ax: A matplotlib ``Axes`` to draw on; a new figure is made when None.
            currency: The currency; None: the one with the largest total.

        Returns:
            The matplotlib ``Axes``.

        Raises:
            ConfigError: matplotlib is not installed.
        """
        from ._io import plots as _plots

        return _plots.plot_heatmap(self._view(currency=currency, allocate=False), ax)
