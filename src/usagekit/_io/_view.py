"""Every figure the HTML report, the notebook view and the plots show, computed once, exactly.

:func:`build_view` turns a :class:`~usagekit.UsageReport` into a :class:`View`: totals per
provider, spend per UTC day, whole-period costs (never put on a day and never dropped: a
separate bar with their span), the projection, the budget check, the breakdowns and the
hour-of-week grid. A zero is shown only where the provider reported one, or where it covered a
day and reported no cost for it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .. import analytics
from .._core.clock import utcnow
from .._core.errors import ConfigError
from .._core.records import LEVEL, TOKEN_METRICS
from .._providers import PROVIDERS
from ._display import HOUR, TICK, moment_words, span_words

if TYPE_CHECKING:
    from .._report import UsageReport

__all__ = [
    "DEFAULT_TOP",
    "BudgetSpec",
    "PeriodBar",
    "ProviderRow",
    "Share",
    "View",
    "build_view",
    "parse_budget",
]

UTC = timezone.utc
_PALETTE = ("#0f766e", "#6d28d9", "#d97706", "#dc2626", "#2563eb", "#db2777", "#65a30d")
"""Colours of providers whose registry entry names none, in order of their names."""
DEFAULT_TOP = 8
"""How many models or projects the breakdowns show before grouping the rest."""


@dataclass(frozen=True)
class BudgetSpec:
    """A budget for the report's current month, as ``--budget 1000USD`` gives it.

    Attributes:
        limit: The amount, exact and non-negative.
        currency: The ISO 4217 code, or None for "the report's only currency".
    """

    limit: Decimal
    currency: str | None = None


_BUDGET = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([A-Za-z]{3})?\s*$")


def parse_budget(value: BudgetSpec | Decimal | int | str) -> BudgetSpec:
    """Read a budget: ``"1000USD"``, ``"1,000 EUR"``, ``"250"``, a number or a spec.

    Args:
        value: The budget.

    Returns:
        The budget as amount and currency.

    Raises:
        ConfigError: Not an amount with an optional three-letter currency code.
    """
    if isinstance(value, BudgetSpec):
        return value
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ConfigError(f"a budget is an amount such as '1000USD', got {value!r}")
    if isinstance(value, str):
        match = _BUDGET.match(value)
        if match is None:
            raise ConfigError(
                f"a budget is an amount with an optional currency, such as 1000USD or "
                f"'1,000 EUR'; got {value!r}"
            )
        number, currency = match.group(1).replace(",", "").replace("_", ""), match.group(2)
        try:
            limit = Decimal(number)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise ConfigError(f"a budget is an amount such as '1000USD', got {value!r}") from None
        return BudgetSpec(limit, None if currency is None else currency.upper())
    limit = Decimal(value)
    if not limit.is_finite() or limit < 0:
        raise ConfigError(f"a budget must be a finite, non-negative amount, got {value!r}")
    return BudgetSpec(limit)


@dataclass(frozen=True)
class Share:
    """One bar of a breakdown (cost by model or project).

    Attributes:
        label: What people read (``"gpt-4o"``, ``"no model named"``, ``"12 other models"``).
        amount: The exact amount.
        others: How many groups this bar gathers (0 for a single group).
    """

    label: str
    amount: Decimal
    others: int = 0


@dataclass(frozen=True)
class PeriodBar:
    """Cost reported for a span longer than a day, per provider (never put on one day).

    Attributes:
        provider: The provider.
        start: The span's start.
        end: The span's end (exclusive).
        amount: The exact amount.
    """

    provider: str
    start: datetime
    end: datetime
    amount: Decimal


@dataclass(frozen=True)
class ProviderRow:
    """One line of the provider table and of the status list.

    Attributes:
        provider: The provider.
        cost: Cost per currency (a currency is absent when nothing was reported in it).
        credits: Credits consumed, or None.
        tokens: Whole tokens.
        records: Records kept.
        state: ``ok``, ``ok; <note>`` or ``FAILED: <reason>``.
        ok: Whether it was fetched completely.
        covered: The span its records cover, in words.
        note: How that span differs from the window, or None.
        error: The failure's reason, or None.
        hint: What to do about the failure, when the error carries a hint.
    """

    provider: str
    cost: Mapping[str, Decimal]
    credits: Decimal | None
    tokens: Decimal
    records: int
    state: str
    ok: bool
    covered: str
    note: str | None
    error: str | None
    hint: str | None


@dataclass(frozen=True)
class View:
    """Everything the HTML report, the notebook view and the plots show.

    Attributes:
        now: The moment of the report (usagekit's clock).
        window: The window in words.
        first_day: The first day of the daily axis, or None when there is no cost.
        days: Every UTC day of the axis, gaps included.
        currencies: The currencies with cost, sorted.
        currency: The currency the charts show, or None when there is no cost.
        total_cost: Cost per currency (the report's exact totals).
        total_tokens: Whole tokens.
        total_credits: Credits consumed, or None.
        records: Records in the report.
        providers: One row per provider, those with no records included.
        daily: Per provider, cost per UTC day in ``currency``; a day absent from a provider's
            mapping had no record from it.
        covered_days: Per provider, the days its status says it covered.
        periods: Costs in ``currency`` reported for spans longer than a day.
        projection: The projection to the period end, or None.
        projection_note: Why there is no projection, or None.
        period_end: The exclusive end of the projected period, or None.
        budget: The budget check, or None.
        budget_note: Why a budget given is not shown, or None.
        by_model: Cost by model in ``currency``, top N and the rest grouped.
        by_project: Cost by project in ``currency``, top N and the rest grouped.
        breakdown_note: What the breakdowns are built from (allocated or not).
        heatmap: The 7 x 24 grid (rows Monday to Sunday, UTC hours), or None.
        heatmap_unit: ``currency`` or ``"tokens"``: what the grid holds.
        heatmap_note: Why there is no heatmap, or None.
        allocation_lines: The allocation summary, when the report itself is allocated.
    """

    now: datetime
    window: str
    first_day: date | None
    days: tuple[date, ...]
    currencies: tuple[str, ...]
    currency: str | None
    total_cost: Mapping[str, Decimal]
    total_tokens: Decimal
    total_credits: Decimal | None
    records: int
    providers: tuple[ProviderRow, ...]
    daily: Mapping[str, Mapping[date, Decimal]]
    covered_days: Mapping[str, frozenset[date]]
    periods: tuple[PeriodBar, ...]
    projection: analytics.Projection | None
    projection_note: str | None
    period_end: datetime | None
    budget: analytics.Budget | None
    budget_note: str | None
    by_model: tuple[Share, ...]
    by_project: tuple[Share, ...]
    breakdown_note: str
    heatmap: tuple[tuple[Decimal, ...], ...] | None
    heatmap_unit: str | None
    heatmap_note: str | None
    allocation_lines: tuple[str, ...]

    @property
    def day_totals(self) -> dict[date, Decimal]:
        """Cost per day over every provider (days with no record absent)."""
        totals: dict[date, Decimal] = {}
        for per_day in self.daily.values():
            for day, amount in per_day.items():
                totals[day] = totals.get(day, Decimal(0)) + amount
        return totals

    def provider_colour(self, provider: str) -> str:
        """The colour of a provider in every chart."""
        info = PROVIDERS.get(provider)
        if info is not None and info.colour:
            return info.colour
        taken = {i.colour for i in PROVIDERS.values()}
        palette = [c for c in _PALETTE if c not in taken] or list(_PALETTE)
        names = sorted(
            p
            for p in {row.provider for row in self.providers} | set(self.daily)
            if p not in PROVIDERS or not PROVIDERS[p].colour
        )
        index = names.index(provider) if provider in names else len(names)
        return palette[index % len(palette)]


def _window_words(report: UsageReport, now: datetime) -> str:
    if report.start is None:
        return "all time"
    if report.end is None:
        return f"{moment_words(report.start)} to now ({moment_words(now)})"
    return span_words(report.start, report.end)


def _month_end(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).date()
    return datetime(day.year + day.month // 12, day.month % 12 + 1, 1, tzinfo=UTC)


def _top(amounts: Iterable[tuple[str | None, Decimal]], top: int, noun: str) -> tuple[Share, ...]:
    ordered = sorted(amounts, key=lambda kv: (-kv[1], kv[0] or ""))
    shares = [Share(label if label is not None else f"no {noun} named", a) for label, a in ordered]
    if len(shares) <= top:
        return tuple(shares)
    rest = shares[top - 1 :]
    total = sum((s.amount for s in rest), Decimal(0))
    return (*shares[: top - 1], Share(f"{len(rest)} other {noun}s", total, len(rest)))


def _breakdown(
    report: UsageReport, by: str, currency: str, top: int, noun: str
) -> tuple[Share, ...]:
    costs = report.cost_by(by)
    return _top(((k, v[currency]) for k, v in costs.items() if currency in v), top, noun)


def _covered_days(start: datetime | None, end: datetime | None) -> frozenset[date]:
    if start is None or end is None or end <= start:
        return frozenset()
    first = start.astimezone(UTC).date()
    last = (end - TICK).astimezone(UTC).date()
    return frozenset(first + timedelta(days=i) for i in range((last - first).days + 1))


def build_view(
    report: UsageReport,
    *,
    budget: BudgetSpec | Decimal | int | str | None = None,
    currency: str | None = None,
    top: int = DEFAULT_TOP,
    allocate: bool | None = None,
) -> View:
    """Compute every figure the HTML report, the notebook view and the plots show.

    Args:
        report: The report.
        budget: A budget for the current month (``"1000USD"``, or an amount in the report's
            only currency), or None.
        currency: The currency of the charts; None: the one with the largest total.
        top: How many models or projects to show before grouping the rest (at least 2).
        allocate: Whether the cost-by-model and cost-by-project breakdowns use the allocated
            view (OpenAI's costs split exactly over its usage, see
            :meth:`usagekit.UsageReport.allocate`). None: yes, unless the report holds no cost
            to allocate; an allocated report is always used as it is.

    Returns:
        The view.

    Raises:
        ConfigError: A bad budget, currency or ``top``.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 2:
        raise ConfigError(f"top must be an integer of at least 2, got {top!r}")
    now = report.as_of or utcnow()  # the report's own "now": the same figures when shown again
    total_cost = report.total_cost()
    currencies = tuple(sorted(total_cost))
    if currency is not None:
        chosen: str | None = currency.upper()
        if chosen not in total_cost:
            raise ConfigError(
                f"the report has no cost in {currency!r}; it has {', '.join(currencies) or 'none'}"
            )
    else:
        chosen = min(currencies, key=lambda c: (-total_cost[c], c)) if currencies else None

    providers = _provider_rows(report)
    daily: dict[str, dict[date, Decimal]] = defaultdict(dict)
    period_sums: dict[tuple[str, datetime, datetime], Decimal] = defaultdict(Decimal)
    for record in report.records:
        if record.metric != "cost" or record.unit != chosen or record.kind == LEVEL:
            continue
        day = record.start.astimezone(UTC).date()
        if (record.end - TICK).astimezone(UTC).date() == day:
            slot = daily[record.provider]
            slot[day] = slot.get(day, Decimal(0)) + record.quantity
        else:
            period_sums[(record.provider, record.start, record.end)] += record.quantity
    periods = tuple(PeriodBar(p, s, e, amount) for (p, s, e), amount in sorted(period_sums.items()))

    days: tuple[date, ...] = ()
    first_day: date | None = None
    placed = [d for per_day in daily.values() for d in per_day]
    if report.start is not None or placed:
        first_day = report.start.astimezone(UTC).date() if report.start else min(placed)
        if placed:
            first_day = min(first_day, min(placed))
        stop = now if report.end is None else min(report.end, now)
        last_day = max((stop - TICK).astimezone(UTC).date(), first_day, *placed)
        days = tuple(first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1))

    covered = {
        s.provider: _covered_days(s.covered_start, s.covered_end) for s in report.statuses if s.ok
    }

    projection, projection_note, period_end = _projection(report, chosen, now)
    budget_check, budget_note = _budget(report, budget, chosen, now)

    if report.allocated or allocate is False or chosen is None:
        breakdown_source = report
        note = (
            "Costs as the providers report them; OpenAI's costs name no model, so they are "
            "under 'no model named'."
            if not report.allocated
            else "Allocated: OpenAI's costs split exactly over the usage that explains them."
        )
    else:
        breakdown_source = report.allocate()
        note = (
            "Allocated for these two charts: OpenAI's costs split exactly over the usage that "
            "explains them (the pieces sum to each cost; totals are unchanged)."
        )
    by_model = _breakdown(breakdown_source, "model", chosen, top, "model") if chosen else ()
    by_project = _breakdown(breakdown_source, "project", chosen, top, "project") if chosen else ()

    grid, unit, heat_note = _heatmap(report, chosen)
    return View(
        now=now,
        window=_window_words(report, now),
        first_day=first_day,
        days=days,
        currencies=currencies,
        currency=chosen,
        total_cost=total_cost,
        total_tokens=sum((row.tokens for row in providers), Decimal(0)),
        total_credits=_sum_optional(row.credits for row in providers),
        records=len(report),
        providers=providers,
        daily={p: dict(sorted(v.items())) for p, v in sorted(daily.items())},
        covered_days=covered,
        periods=periods,
        projection=projection,
        projection_note=projection_note,
        period_end=period_end,
        budget=budget_check,
        budget_note=budget_note,
        by_model=by_model,
        by_project=by_project,
        breakdown_note=note,
        heatmap=grid,
        heatmap_unit=unit,
        heatmap_note=heat_note,
        allocation_lines=tuple(report.allocation_summary().lines()) if report.allocated else (),
    )


def _sum_optional(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def _provider_rows(report: UsageReport) -> tuple[ProviderRow, ...]:
    rows = {row["group"]: row for row in report.summary("provider")}
    failures = {f.provider: f for f in report.failures}
    statuses = {s.provider: s for s in report.statuses}
    names = list(dict.fromkeys([*rows, *statuses, *failures]))
    result = []
    for name in names:
        row = rows.get(name, {})
        status = statuses.get(name)
        failure = failures.get(name)
        error = status.error if status is not None else None
        if failure is not None and error is None:
            error = failure.reason
        hint = getattr(failure.error, "hint", None) if failure is not None else None
        if isinstance(hint, str) and hint and error is not None and error.endswith(hint):
            error = error[: -len(hint)].rstrip(" .") + "."  # the hint is shown on its own
        state = (
            status.state if status is not None else ("ok" if error is None else f"FAILED: {error}")
        )
        result.append(
            ProviderRow(
                provider=name,
                cost=dict(row.get("cost", {})),
                credits=row.get("credits"),
                tokens=row.get("tokens", Decimal(0)),
                records=row.get("records", 0),
                state=state,
                ok=error is None,
                covered=span_words(status.covered_start, status.covered_end)
                if status is not None
                else "-",
                note=status.note if status is not None else None,
                error=error,
                hint=hint if isinstance(hint, str) and hint else None,
            )
        )
    return tuple(result)


def _projection(
    report: UsageReport, currency: str | None, now: datetime
) -> tuple[analytics.Projection | None, str | None, datetime | None]:
    if currency is None:
        return None, "No cost in this report: nothing to project.", None
    period_end = _month_end(now) if report.end is None else report.end
    if period_end <= now:
        return None, "The window is over: there is nothing left to project.", period_end
    costs = [r for r in report.records if r.metric == "cost" and r.unit == currency]
    try:
        result = analytics.projection(costs, period_end=period_end, now=now, currency=currency)
    except ConfigError as exc:
        return None, f"No projection: {exc}.", period_end
    if result.status != "ok" or result.projected is None:
        return (
            None,
            f"No projection yet: it needs {result.min_days_required} days with cost data, "
            f"this report has {result.days_available}.",
            period_end,
        )
    return result, None, period_end


def _budget(
    report: UsageReport,
    budget: BudgetSpec | Decimal | int | str | None,
    currency: str | None,
    now: datetime,
) -> tuple[analytics.Budget | None, str | None]:
    if budget is None:
        return None, None
    spec = parse_budget(budget)
    wanted = spec.currency or currency
    if wanted is None:
        return None, "No cost in this report to hold against the budget."
    if not any(r.metric == "cost" and r.unit == wanted for r in report.records):
        return None, f"Nothing was reported in {wanted}: the budget cannot be checked."
    try:
        check = analytics.budget(report.records, limit=spec.limit, now=now, currency=wanted)
    except ConfigError as exc:
        return None, f"The budget could not be checked: {exc}."
    if report.start is not None and report.start < check.period_start:
        # the spend and projection shown are the window's; the budget's would be another figure
        last = (check.period_end - TICK).astimezone(UTC).date()
        return None, (
            f"The budget is for {moment_words(check.period_start)} to "
            f"{last.day} {last:%B %Y}, but this report starts earlier, on "
            f"{moment_words(report.start)}: run it with --since "
            f"{check.period_start:%Y-%m-%d} to check the budget."
        )
    return check, None


def _heatmap(
    report: UsageReport, currency: str | None
) -> tuple[tuple[tuple[Decimal, ...], ...] | None, str | None, str | None]:
    hourly = [
        r
        for r in report.records
        if r.end - r.start <= HOUR
        and r.kind != LEVEL
        and (r.metric == "cost" or (r.metric in TOKEN_METRICS and r.unit == "tokens"))
    ]
    if not hourly:
        return (
            None,
            None,
            "No hourly records in this report, so there is no hour-of-week heatmap (fetch "
            "hourly data, e.g. OpenAI usage with bucket_width='1h', to see one).",
        )
    try:
        heat = analytics.heatmap(hourly, timezone="UTC")
    except ConfigError as exc:  # pragma: no cover - hourly records always fit an hour
        return None, None, f"No heatmap: {exc}."
    use_cost = currency is not None and any(
        r.metric == "cost" and r.unit == currency for r in hourly
    )
    sunday_first = heat.cost_grid(currency) if use_cost and currency else heat.tokens_grid()
    monday_first = (*sunday_first[1:], sunday_first[0])
    return monday_first, (currency if use_cost else "tokens"), None
