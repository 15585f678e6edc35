"""The report people look at: one self-contained HTML page, and the notebook view.

Everything a chart or a table shows is computed once, exactly, by :func:`build_view` from a
:class:`~usagekit.UsageReport`; :func:`render_page` draws it as one HTML file (inline SVG,
inline CSS, no JavaScript, no network, no external assets; readable on a phone, printable),
:func:`notebook_html` shares its headline and table with Jupyter, and ``usagekit._io.plots`` draws
the same charts with matplotlib.

Rules of the display:

* **Money** is formatted from the exact ``Decimal`` (never a float), to the cent with thousands
  separators and its currency; a non-zero amount under half a cent reads ``< 0.01``, so that a
  ``0.00`` is always a real zero. Floats are used only for pixel positions.
* **"-"** means "nothing reported"; a zero is shown only where the provider reported one, or
  where it covered a day and reported no cost for it.
* **Dates** are in words (``1 November 2026``), in UTC like every usagekit time.
* **Whole-period records** (Basedash's billing period) are never put on a day and never
  dropped: they are a separate bar next to the days, with their span.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .. import analytics
from .._core.clock import utcnow
from .._core.errors import ConfigError
from .._core.records import LEVEL, TOKEN_METRICS
from .._version import __version__

if TYPE_CHECKING:
    from .._report import UsageReport

__all__ = [
    "BudgetSpec",
    "Share",
    "View",
    "build_view",
    "format_money",
    "notebook_html",
    "parse_budget",
    "render_page",
]

UTC = timezone.utc
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
_TICK = timedelta(microseconds=1)
_CENT = Decimal("0.005")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_PALETTE = ("#0f766e", "#6d28d9", "#d97706", "#dc2626", "#2563eb", "#db2777", "#65a30d")
_KNOWN_COLOURS = {
    "openai": "#0f766e",
    "basedash": "#6d28d9",
    "daramex": "#d97706",
    "unsiloed": "#dc2626",
}
DEFAULT_TOP = 8
"""How many models or projects the breakdowns show before grouping the rest."""


# -- formatting ------------------------------------------------------------------------------


def format_money(amount: Decimal, currency: str | None = None) -> str:
    """Format an exact amount to the cent with thousands separators, e.g. ``1,234.50 USD``.

    A non-zero amount smaller than half a cent reads ``< 0.01`` (``> -0.01`` when negative),
    so that ``0.00`` always means a real zero.

    Args:
        amount: The exact amount.
        currency: The currency code appended, or None for the number alone.

    Returns:
        The text.
    """
    if amount and abs(amount) < _CENT:
        text = "< 0.01" if amount > 0 else "> -0.01"
    else:
        text = f"{amount:,.2f}"
    return text if currency is None else f"{text} {currency}"


def _money_or_dash(amounts: Mapping[str, Decimal], currency: str) -> str:
    return format_money(amounts[currency]) if currency in amounts else "-"


def day_words(day: date) -> str:
    """``1 November 2026``."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _short_day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1][:3]}"


def _moment_words(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return day_words(moment.date())
    return f"{day_words(moment.date())}, {moment:%H:%M} UTC"


def _span_words(start: datetime | None, end: datetime | None) -> str:
    """A half-open span in words, its end shown inclusively when it falls on a midnight."""
    if start is None:
        return "-"
    if end is None:
        return f"{_moment_words(start)} to now"
    if _midnight(start) and _midnight(end) and end > start:
        last = (end - _DAY).date()
        if last == start.date():
            return day_words(last)
        return f"{day_words(start.date())} to {day_words(last)}"
    return f"{_moment_words(start)} to {_moment_words(end)}"


def _midnight(moment: datetime) -> bool:
    moment = moment.astimezone(UTC)
    return moment.hour == moment.minute == moment.second == moment.microsecond == 0


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# -- budgets ---------------------------------------------------------------------------------


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


# -- the view: every number the page shows, computed once ------------------------------------


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
        known = _KNOWN_COLOURS.get(provider)
        if known is not None:
            return known
        names = sorted({row.provider for row in self.providers} | set(self.daily))
        index = names.index(provider) if provider in names else len(names)
        return _PALETTE[index % len(_PALETTE)]


def _window_words(report: UsageReport, now: datetime) -> str:
    if report.start is None:
        return "all time"
    if report.end is None:
        return f"{_moment_words(report.start)} to now ({_moment_words(now)})"
    return _span_words(report.start, report.end)


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
    last = (end - _TICK).astimezone(UTC).date()
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
        if (record.end - _TICK).astimezone(UTC).date() == day:
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
        last_day = max((stop - _TICK).astimezone(UTC).date(), first_day, *placed)
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
                covered=_span_words(status.covered_start, status.covered_end)
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
        last = (check.period_end - _TICK).astimezone(UTC).date()
        return None, (
            f"The budget is for {_moment_words(check.period_start)} to "
            f"{last.day} {last:%B %Y}, but this report starts earlier, on "
            f"{_moment_words(report.start)}: run it with --since "
            f"{check.period_start:%Y-%m-%d} to check the budget."
        )
    return check, None


def _heatmap(
    report: UsageReport, currency: str | None
) -> tuple[tuple[tuple[Decimal, ...], ...] | None, str | None, str | None]:
    hourly = [
        r
        for r in report.records
        if r.end - r.start <= _HOUR
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


# -- SVG charts ------------------------------------------------------------------------------


def _nice_step(maximum: Decimal, ticks: int = 5) -> Decimal:
    """A 1-2-5 step giving about ``ticks`` ticks up to ``maximum`` (exact Decimal)."""
    if maximum <= 0:
        return Decimal(1)
    raw = maximum / ticks
    base = Decimal(1).scaleb(raw.adjusted())
    for multiple in (1, 2, 5, 10):
        if base * multiple >= raw:
            return base * multiple
    return base * 10  # pragma: no cover


def _tick_label(value: Decimal, step: Decimal) -> str:
    places = max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]
    return f"{value:,.{places}f}"


def _axis_max(values: Iterable[Decimal]) -> tuple[Decimal, Decimal]:
    top = max(values, default=Decimal(0))
    step = _nice_step(top if top > 0 else Decimal(1))
    ticks = math.floor(top / step) + 1 if top > 0 else 1
    return step * ticks, step


def _f(value: float) -> str:
    return f"{value:.1f}"


class _Frame:
    """Pixel positions of a chart's plot area (floats are pixels only, never amounts)."""

    def __init__(self, width: int, height: int, left: int, right: int, top: int, bottom: int):
        self.width, self.height = width, height
        self.x0, self.x1 = left, width - right
        self.y0, self.y1 = top, height - bottom

    def y(self, value: Decimal, maximum: Decimal) -> float:
        return self.y1 - float(value / maximum) * (self.y1 - self.y0) if maximum else self.y1


def _svg_open(chart_id: str, frame: _Frame, label: str) -> str:
    return (
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {frame.width} {frame.height}" '
        f'role="img" aria-label="{_esc(label)}" xmlns="http://www.w3.org/2000/svg" '
        'preserveAspectRatio="xMidYMid meet">'
        f"<title>{_esc(label)}</title>"
    )


def _y_axis(frame: _Frame, maximum: Decimal, step: Decimal, currency: str) -> list[str]:
    parts = []
    value = Decimal(0)
    while value <= maximum:
        y = frame.y(value, maximum)
        parts.append(
            f'<line class="grid" x1="{frame.x0}" x2="{frame.x1}" y1="{_f(y)}" y2="{_f(y)}"/>'
            f'<text class="tick" x="{frame.x0 - 6}" y="{_f(y + 4)}" text-anchor="end">'
            f"{_tick_label(value, step)}</text>"
        )
        value += step
    parts.append(
        f'<text class="axis-label" x="{frame.x0}" y="{frame.y0 - 8}" text-anchor="start">'
        f"{_esc(currency)}</text>"
    )
    return parts


def _day_labels(days: Sequence[date], position: Callable[[int], float], y: float) -> list[str]:
    if not days:
        return []
    every = max(1, math.ceil(len(days) / 8))
    parts = []
    last = -every
    for index, day in enumerate(days):
        if index % every == 0 or (day.day == 1 and index - last >= every):
            if index - last < every:
                continue
            last = index
            parts.append(
                f'<text class="tick day-label" x="{_f(position(index))}" y="{_f(y)}" '
                f'text-anchor="middle">{_short_day(day)}</text>'
            )
    return parts


def cumulative_chart(view: View) -> str:
    """Cumulative spend per day against the budget line, with the projection band.

    Args:
        view: The figures.

    Returns:
        An ``<svg id="chart-cumulative">`` element.
    """
    currency = view.currency
    if currency is None or not view.days or view.first_day is None:
        return '<p class="empty" id="chart-cumulative-empty">No cost to chart.</p>'
    first = view.first_day
    projection = view.projection
    end_day = view.days[-1] + _DAY
    if projection is not None and view.period_end is not None:
        end_day = max(end_day, (view.period_end - _TICK).astimezone(UTC).date() + _DAY)
    span = max(1, (end_day - first).days)
    totals = view.day_totals
    running = Decimal(0)
    points: list[tuple[float, Decimal]] = [(0.0, running)]
    for index, day in enumerate(view.days):
        running += totals.get(day, Decimal(0))
        points.append((float(index + 1), running))
    day_start = datetime.combine(view.days[-1], datetime.min.time(), tzinfo=UTC)
    partial = min(_DAY, view.now - day_start) if view.now > day_start else _DAY
    now_offset = len(view.days) - 1 + partial / _DAY  # today counts up to now
    points[-1] = (now_offset, running)
    periods = sum((p.amount for p in view.periods), Decimal(0))
    spent = running + periods
    budget = view.budget if view.budget is not None and view.budget.currency == currency else None
    candidates = [spent]
    if projection is not None and projection.upper is not None:
        candidates.append(projection.upper)
    if budget is not None:
        candidates.append(budget.limit)
    maximum, step = _axis_max(candidates)
    frame = _Frame(720, 330, 78, 18, 28, 44)

    def x(offset: float) -> float:
        return frame.x0 + offset / span * (frame.x1 - frame.x0)

    parts = [_svg_open("chart-cumulative", frame, f"Cumulative spend ({currency})")]
    parts += _y_axis(frame, maximum, step, currency)
    axis_days = [first + timedelta(days=i) for i in range(span + 1)]
    parts += _day_labels(axis_days, lambda i: x(i), frame.y1 + 18)
    now_x = x(now_offset)
    if projection is not None and projection.lower is not None and projection.upper is not None:
        assert projection.projected is not None
        base = frame.y(spent, maximum)
        end_x = x(span)
        parts.append(
            f'<polygon class="projection-band" points="{_f(now_x)},{_f(base)} '
            f"{_f(end_x)},{_f(frame.y(projection.upper, maximum))} "
            f'{_f(end_x)},{_f(frame.y(projection.lower, maximum))}">'
            f"<title>{projection.confidence_pct} % band: "
            f"{format_money(projection.lower, currency)} to "
            f"{format_money(projection.upper, currency)}</title></polygon>"
            f'<line class="projection-line" x1="{_f(now_x)}" y1="{_f(base)}" x2="{_f(end_x)}" '
            f'y2="{_f(frame.y(projection.projected, maximum))}"><title>projected '
            f"{format_money(projection.projected, currency)}</title></line>"
        )
    path = " ".join(f"{_f(x(i))},{_f(frame.y(v, maximum))}" for i, v in points)
    parts.append(f'<polyline class="actual-line" points="{path}"/>')
    if periods:
        parts.append(
            f'<line class="period-step" x1="{_f(now_x)}" x2="{_f(now_x)}" '
            f'y1="{_f(frame.y(running, maximum))}" y2="{_f(frame.y(spent, maximum))}">'
            f"<title>whole-period costs {format_money(periods, currency)}, added here"
            "</title></line>"
        )
    parts.append(
        f'<circle class="actual-point" cx="{_f(now_x)}" cy="{_f(frame.y(spent, maximum))}" '
        f'r="4"><title>spent so far {format_money(spent, currency)}</title></circle>'
    )
    if budget is not None:
        y = frame.y(budget.limit, maximum)
        parts.append(
            f'<line class="budget-line" x1="{frame.x0}" x2="{frame.x1}" y1="{_f(y)}" '
            f'y2="{_f(y)}"/><text class="budget-label" x="{frame.x0 + 6}" y="{_f(y - 5)}">'
            f"budget {format_money(budget.limit, currency)}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{frame.x0}" x2="{frame.x1}" y1="{frame.y1}" y2="{frame.y1}"/>'
    )
    parts.append("</svg>")
    legend = ['<ul class="legend">', '<li><span class="key actual"></span>spent</li>']
    if periods:
        legend.append('<li><span class="key step"></span>whole-period costs, added today</li>')
    if projection is not None:
        legend.append(
            f'<li><span class="key band"></span>projection, {projection.confidence_pct} % band</li>'
        )
    if budget is not None:
        legend.append('<li><span class="key budget"></span>budget</li>')
    legend.append("</ul>")
    return "".join(parts) + "".join(legend)


def daily_chart(view: View) -> str:
    """Spend per UTC day stacked by provider, every day on the axis, whole periods beside.

    Args:
        view: The figures.

    Returns:
        An ``<svg id="chart-daily">`` element and its legend.
    """
    currency = view.currency
    if currency is None or not view.days:
        return '<p class="empty" id="chart-daily-empty">No cost to chart.</p>'
    providers = list(view.daily)
    totals = view.day_totals
    period_total = sum((p.amount for p in view.periods), Decimal(0))
    maximum, step = _axis_max([*totals.values(), period_total])
    frame = _Frame(720, 330, 78, 18, 28, 44)
    slots = len(view.days) + (2 if view.periods else 0)
    slot = (frame.x1 - frame.x0) / slots
    width = max(1.0, slot * 0.8)

    def left(index: int) -> float:
        return frame.x0 + index * slot + (slot - width) / 2

    parts = [_svg_open("chart-daily", frame, f"Spend per day by provider ({currency})")]
    parts += _y_axis(frame, maximum, step, currency)
    parts += _day_labels(view.days, lambda i: left(i) + width / 2, frame.y1 + 18)
    for index, day in enumerate(view.days):
        bottom = Decimal(0)
        for provider in providers:
            amount = view.daily[provider].get(day)
            if amount is None or amount <= 0:
                continue
            y_top = frame.y(bottom + amount, maximum)
            y_bottom = frame.y(bottom, maximum)
            height = max(1.5, y_bottom - y_top)  # a small provider stays visible
            parts.append(
                f'<rect class="bar" data-provider="{_esc(provider)}" data-day="{day}" '
                f'x="{_f(left(index))}" y="{_f(y_bottom - height)}" width="{_f(width)}" '
                f'height="{_f(height)}" fill="{view.provider_colour(provider)}">'
                f"<title>{_esc(provider)}, {day_words(day)}: "
                f"{format_money(amount, currency)}</title></rect>"
            )
            bottom += amount
        if day not in totals:
            parts.append(
                f'<rect class="gap" data-day="{day}" x="{_f(left(index))}" y="{frame.y1 - 1}" '
                f'width="{_f(width)}" height="1"><title>{day_words(day)}: no cost reported'
                "</title></rect>"
            )
    if view.periods:
        divider = frame.x0 + len(view.days) * slot + slot / 2
        parts.append(
            f'<line class="divider" x1="{_f(divider)}" x2="{_f(divider)}" y1="{frame.y0}" '
            f'y2="{frame.y1}"/>'
        )
        bottom = Decimal(0)
        bar_x = frame.x0 + (len(view.days) + 1) * slot
        bar_width = max(width, min(slot * 0.9, 28.0))
        for period in view.periods:
            y_top = frame.y(bottom + period.amount, maximum)
            y_bottom = frame.y(bottom, maximum)
            height = max(1.5, y_bottom - y_top)
            parts.append(
                f'<rect class="period-bar" data-provider="{_esc(period.provider)}" '
                f'x="{_f(bar_x)}" y="{_f(y_bottom - height)}" width="{_f(bar_width)}" '
                f'height="{_f(height)}" fill="{view.provider_colour(period.provider)}">'
                f"<title>{_esc(period.provider)}, {_span_words(period.start, period.end)} "
                f"(one total): {format_money(period.amount, currency)}</title></rect>"
            )
            bottom += period.amount
        parts.append(
            f'<text class="tick period-label" x="{_f(bar_x + bar_width / 2)}" '
            f'y="{frame.y1 + 18}" text-anchor="middle">period</text>'
        )
    parts.append(
        f'<line class="axis" x1="{frame.x0}" x2="{frame.x1}" y1="{frame.y1}" y2="{frame.y1}"/>'
    )
    parts.append("</svg>")
    legend = ['<ul class="legend">']
    for provider in sorted({*providers, *(p.provider for p in view.periods)}):
        amount = sum(view.daily.get(provider, {}).values(), Decimal(0))
        amount += sum((p.amount for p in view.periods if p.provider == provider), Decimal(0))
        legend.append(
            f'<li><span class="key" style="background:{view.provider_colour(provider)}"></span>'
            f"{_esc(provider)} {format_money(amount, currency)}</li>"
        )
    legend.append("</ul>")
    notes = "".join(
        f'<p class="annotation period-note">{_esc(p.provider)} reports one total for '
        f"{_span_words(p.start, p.end)}: {format_money(p.amount, currency)}, shown as the "
        "separate bar on the right, not spread over days.</p>"
        for p in view.periods
    )
    gaps = [d for d in view.days if d not in totals]
    if gaps:
        notes += (
            f'<p class="annotation">{len(gaps)} day{"s" if len(gaps) > 1 else ""} with no cost '
            "reported show as a zero-height bar.</p>"
        )
    return "".join(parts) + "".join(legend) + notes


def breakdown_chart(shares: Sequence[Share], chart_id: str, title: str, currency: str) -> str:
    """Horizontal bars, largest first, with exact amounts and a total row.

    Drawn as a table of CSS bars, so that long model and project names wrap on a phone.

    Args:
        shares: The bars.
        chart_id: The element id.
        title: The accessible title.
        currency: The currency of the amounts.

    Returns:
        A ``<table class="chart hbars">`` element, or a note when there is nothing to show.
    """
    if not shares:
        return f'<p class="empty" id="{chart_id}-empty">No cost in {_esc(currency)}.</p>'
    maximum = max((s.amount for s in shares), default=Decimal(0))
    rows = []
    for share in shares:
        percent = float(share.amount / maximum) * 100 if maximum > 0 else 0.0
        rows.append(
            f"<tr class='hbar-row'><td class='hbar-label'>{_esc(share.label)}</td>"
            f"<td class='hbar-track'><span class='hbar{' others' if share.others else ''}' "
            f"style='width:{max(percent, 0.5):.1f}%'></span></td>"
            f"<td class='hbar-value'>{format_money(share.amount, currency)}</td></tr>"
        )
    total = sum((s.amount for s in shares), Decimal(0))
    return (
        f"<table id='{chart_id}' class='chart hbars' aria-label='{_esc(title)}'>"
        f"<tbody>{''.join(rows)}</tbody><tfoot><tr class='total'><th>total</th><th></th>"
        f"<th class='hbar-value'>{format_money(total, currency)}</th></tr></tfoot></table>"
    )


def heatmap_chart(view: View) -> str:
    """The hour-of-week heatmap (UTC), darker for more.

    Args:
        view: The figures.

    Returns:
        An ``<svg id="chart-heatmap">`` element, or the reason there is none.
    """
    grid, unit = view.heatmap, view.heatmap_unit
    if grid is None or unit is None:
        return f'<p class="empty" id="chart-heatmap-empty">{_esc(view.heatmap_note or "")}</p>'
    frame = _Frame(720, 7 * 24 + 46, 44, 8, 8, 38)
    cell_w = (frame.x1 - frame.x0) / 24
    cell_h = (frame.y1 - frame.y0) / 7
    maximum = max((v for row in grid for v in row), default=Decimal(0))
    parts = [_svg_open("chart-heatmap", frame, f"{unit} by day of week and hour (UTC)")]
    for day_index, row in enumerate(grid):
        y = frame.y0 + day_index * cell_h
        parts.append(
            f'<text class="tick" x="{frame.x0 - 6}" y="{_f(y + cell_h / 2 + 4)}" '
            f'text-anchor="end">{_WEEKDAYS[day_index]}</text>'
        )
        for hour, value in enumerate(row):
            strength = float(value / maximum) if maximum > 0 else 0.0
            amount = format_money(value, unit) if unit != "tokens" else f"{value:,} tokens"
            parts.append(
                f'<rect class="cell" data-day="{_WEEKDAYS[day_index]}" data-hour="{hour}" '
                f'x="{_f(frame.x0 + hour * cell_w)}" y="{_f(y)}" width="{_f(cell_w - 1)}" '
                f'height="{_f(cell_h - 1)}" fill-opacity="{0.06 + 0.94 * strength:.3f}">'
                f"<title>{_WEEKDAYS[day_index]} {hour:02d}:00: {amount}</title></rect>"
            )
    for hour in range(0, 24, 3):
        parts.append(
            f'<text class="tick" x="{_f(frame.x0 + (hour + 0.5) * cell_w)}" '
            f'y="{frame.y1 + 16}" text-anchor="middle">{hour:02d}</text>'
        )
    parts.append(
        f'<text class="axis-label" x="{_f((frame.x0 + frame.x1) / 2)}" y="{frame.y1 + 32}" '
        'text-anchor="middle">hour of day (UTC)</text></svg>'
    )
    return "".join(parts)


# -- the headline, the table, the statuses (shared with the notebook) ------------------------


def headline_html(view: View) -> str:
    """The headline: spend so far per currency, the projected period end, the budget.

    Args:
        view: The figures.

    Returns:
        A ``<section id="headline">`` element.
    """
    items = []
    for currency in view.currencies:
        items.append(
            f'<div class="figure spent"><span class="label">Spent so far ({_esc(currency)})'
            f'</span><span class="value">{format_money(view.total_cost[currency], currency)}'
            "</span></div>"
        )
    if not view.currencies:
        items.append(
            '<div class="figure spent"><span class="label">Spent so far</span>'
            '<span class="value">-</span></div>'
        )
    projection = view.projection
    if projection is not None and projection.projected is not None:
        assert projection.lower is not None and projection.upper is not None
        assert view.period_end is not None
        unit = projection.currency
        by = day_words((view.period_end - _TICK).date())
        items.append(
            f'<div class="figure projected"><span class="label">Projected by {by}</span>'
            f'<span class="value">{format_money(projection.projected, unit)}</span>'
            f'<span class="band">{projection.confidence_pct} % band: '
            f"{format_money(projection.lower)} to {format_money(projection.upper, unit)}"
            "</span></div>"
        )
    budget = view.budget
    if budget is not None:
        unit = budget.currency
        if budget.exceeded:
            verdict, css = "exceeded", "over"
        elif budget.over_budget:
            verdict, css = "projected to be exceeded", "warn"
        else:
            verdict, css = "on track", "ok"
        items.append(
            f'<div class="figure budget {css}"><span class="label">Budget '
            f"{day_words(budget.period_start.date())} to "
            f"{day_words((budget.period_end - _TICK).date())}</span>"
            f'<span class="value">{format_money(budget.spent, unit)} of '
            f"{format_money(budget.limit, unit)}</span>"
            f'<span class="band">{verdict}; remaining {format_money(budget.remaining, unit)}'
            "</span></div>"
        )
    notes = [n for n in (view.projection_note, view.budget_note) if n]
    note_html = "".join(f'<p class="note">{_esc(n)}</p>' for n in notes)
    return (
        f'<section id="headline"><div class="figures">{"".join(items)}</div>{note_html}</section>'
    )


def summary_table_html(view: View) -> str:
    """Cost per currency, credits, tokens and records per provider, with a total row.

    Every provider is a row, those with 0 records included (the status column says why).

    Args:
        view: The figures.

    Returns:
        A ``<table>`` element.
    """
    currencies = view.currencies or ("USD",)
    credits = view.total_credits is not None
    num = "style='text-align:right'"
    head = "".join(f"<th {num}>cost {_esc(c)}</th>" for c in currencies)
    if credits:
        head += "<th>credits</th>"
    body = []
    for row in view.providers:
        cells = "".join(f"<td {num}>{_money_or_dash(row.cost, c)}</td>" for c in currencies)
        if credits:
            used = "-" if row.credits is None else f"{row.credits:,}"
            cells += f"<td {num}>{used}</td>"
        body.append(
            f"<tr class='{'ok' if row.ok else 'failed'}'><td>{_esc(row.provider)}</td>{cells}"
            f"<td {num}>{row.tokens:,}</td><td {num}>{row.records:,}</td>"
            f"<td class='state'>{_esc(row.state)}</td></tr>"
        )
    foot = "".join(f"<th {num}>{_money_or_dash(view.total_cost, c)}</th>" for c in currencies)
    if credits:
        foot += f"<th {num}>{view.total_credits:,}</th>"
    return (
        f"<table><thead><tr><th>provider</th>{head}<th {num}>tokens</th><th {num}>records</th>"
        f"<th>status</th></tr></thead><tbody>{''.join(body)}</tbody>"
        f"<tfoot><tr class='total'><th>total</th>{foot}<th {num}>{view.total_tokens:,}</th>"
        f"<th {num}>{view.records:,}</th><th></th></tr></tfoot></table>"
    )


def status_html(view: View) -> str:
    """What each provider covered, and every failure with its hint.

    Args:
        view: The figures.

    Returns:
        A ``<table id="provider-status">`` element.
    """
    rows = []
    for row in view.providers:
        if row.ok:
            detail = _esc(row.note) if row.note else "matches the window"
        else:
            detail = f"<b>failed</b>: {_esc(row.error)}"
            if row.hint:
                detail += f"<br><span class='hint'>What to do: {_esc(row.hint)}</span>"
        rows.append(
            f"<tr class='{'ok' if row.ok else 'failed'}'><td>{_esc(row.provider)}</td>"
            f"<td>{'ok' if row.ok else 'FAILED'}</td><td>{_esc(row.covered)}</td>"
            f"<td style='text-align:right'>{row.records:,}</td><td>{detail}</td></tr>"
        )
    return (
        "<table id='provider-status'><thead><tr><th>provider</th><th>state</th>"
        "<th>covered</th><th style='text-align:right'>records</th><th>detail</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def notebook_html(report: UsageReport) -> str:
    """The notebook view: the HTML report's headline and provider table, and the statuses.

    Args:
        report: The report.

    Returns:
        An HTML fragment.
    """
    view = build_view(report, allocate=False)
    failures = [row for row in view.providers if not row.ok]
    notes = [row for row in view.providers if row.ok and row.note]
    parts = [
        "<div class='usagekit-report'>",
        f"<p><b>usagekit report</b>, {_esc(view.window)}: {view.records:,} records</p>",
        headline_html(view),
        summary_table_html(view),
    ]
    if failures:
        items = "".join(
            f"<li><b>{_esc(r.provider)}</b>: {_esc(r.error)}"
            + (f" (what to do: {_esc(r.hint)})" if r.hint else "")
            + "</li>"
            for r in failures
        )
        parts.append(f"<p>Failed providers:</p><ul>{items}</ul>")
    if notes:
        items = "".join(
            f"<li><b>{_esc(r.provider)}</b> ({_esc(r.covered)}): {_esc(r.note)}</li>" for r in notes
        )
        parts.append(f"<p>What each provider covered:</p><ul>{items}</ul>")
    if view.allocation_lines:
        items = "".join(f"<li>{_esc(line)}</li>" for line in view.allocation_lines)
        parts.append(f"<p>Cost allocation:</p><ul>{items}</ul>")
    parts.append(
        "<p><small>- : nothing reported (not a zero); dates and times in UTC; "
        "report.plot() draws the charts</small></p></div>"
    )
    return "".join(parts)


# -- the page --------------------------------------------------------------------------------

_CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--accent:#0f766e;--bg:#fff}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
color:var(--ink);background:var(--bg)}
main{max-width:980px;margin:0 auto;padding:20px 16px 40px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;
border-bottom:1px solid var(--line);padding-bottom:4px}
.window{color:var(--muted);margin:0 0 16px}
.figures{display:flex;flex-wrap:wrap;gap:12px}
.figure{flex:1 1 200px;border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.figure .label{display:block;color:var(--muted);font-size:.85em}
.figure .value{display:block;font-size:1.45em;font-weight:600;font-variant-numeric:tabular-nums}
.figure .band{display:block;color:var(--muted);font-size:.85em}
.figure.budget.ok{border-color:#16a34a}.figure.budget.warn{border-color:#d97706}
.figure.budget.over{border-color:#dc2626;background:#fef2f2}
.note,.annotation,.empty{color:var(--muted);font-size:.9em;margin:6px 0}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
tfoot th{border-top:2px solid var(--ink);border-bottom:none}
tr.failed td{background:#fef2f2}.hint{color:#92400e}
td.state{color:var(--muted);font-size:.9em}
svg.chart{print-color-adjust:exact;-webkit-print-color-adjust:exact;display:block;width:100%;height:auto;max-width:100%}
svg .grid{stroke:var(--line);stroke-width:1}svg .axis{stroke:var(--ink);stroke-width:1}
svg .tick,svg .axis-label{font-size:11px;fill:var(--muted)}
svg .actual-line{fill:none;stroke:var(--accent);stroke-width:2.5}
svg .actual-point{fill:var(--accent)}
svg .period-step{stroke:#6d28d9;stroke-width:2.5;stroke-dasharray:4 3}
svg .projection-band{fill:var(--accent);fill-opacity:.16;stroke:none}
svg .projection-line{stroke:var(--accent);stroke-width:2;stroke-dasharray:6 4}
svg .budget-line{stroke:#dc2626;stroke-width:2;stroke-dasharray:8 4}
svg .budget-label{font-size:12px;fill:#dc2626}
svg .gap{fill:var(--muted)}svg .divider{stroke:var(--muted);stroke-dasharray:3 3}
table.hbars td{border-bottom:none;padding:3px 6px}
.hbar-label{width:34%;word-break:break-word}.hbar-track{width:46%}
.hbar{display:block;height:16px;background:var(--accent);border-radius:2px;
print-color-adjust:exact;-webkit-print-color-adjust:exact}.hbar.others{background:#9ca3af}
.hbar-value{text-align:right;white-space:nowrap}
svg .cell{fill:var(--accent)}
.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 16px;
font-size:.9em}
.key{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;
vertical-align:-1px;background:var(--accent)}
.key.step{background:#6d28d9}.key.band{opacity:.3}.key.budget{background:#dc2626}
footer{margin-top:32px;color:var(--muted);font-size:.85em}
@media (max-width:600px){body{font-size:14px}main{padding:12px 10px 28px}
svg .tick,svg .axis-label{font-size:20px}svg .budget-label{font-size:20px}
.hbar-label{width:40%}.hbar-track{width:30%}
.figure{flex-basis:100%}th,td{padding:4px 5px}td.state{display:none}}
@media print{@page{size:A4;margin:14mm}body{font-size:11pt}main{max-width:none;padding:0}
section{break-inside:avoid}h2{break-after:avoid}.figure.budget.over,tr.failed td{background:none}
a{color:inherit;text-decoration:none}}
"""


def render_page(view: View, *, title: str = "AI usage and spend") -> str:
    """Render the whole self-contained HTML document.

    Args:
        view: The figures (see :func:`build_view`).
        title: The page's title.

    Returns:
        The document, UTF-8 text with inline CSS and SVG only.
    """
    currency = view.currency or ""
    model_chart = breakdown_chart(view.by_model, "chart-models", "Cost by model", currency)
    project_chart = breakdown_chart(view.by_project, "chart-projects", "Cost by project", currency)
    other = [c for c in view.currencies if c != view.currency]
    charts_note = (
        f'<p class="note">Charts show {_esc(currency)}; '
        f"{_esc(', '.join(other))} amounts are in the tables only.</p>"
        if other
        else ""
    )
    allocation = (
        "<ul>" + "".join(f"<li>{_esc(line)}</li>" for line in view.allocation_lines) + "</ul>"
        if view.allocation_lines
        else ""
    )
    against = " against the budget" if view.budget else ""
    sections = [
        headline_html(view),
        '<section id="providers"><h2>By provider</h2><div class="table-wrap">'
        f"{summary_table_html(view)}</div>"
        '<p class="note">- : nothing reported (not a zero). Amounts are exact, shown to the '
        "cent.</p></section>",
        charts_note,
        f'<section id="cumulative"><h2>Cumulative spend{against}'
        f"</h2>{cumulative_chart(view)}</section>",
        f'<section id="daily"><h2>Spend per day by provider</h2>{daily_chart(view)}</section>',
        f'<section id="models"><h2>Cost by model</h2>{model_chart}'
        f'<p class="note">{_esc(view.breakdown_note)}</p></section>',
        f'<section id="projects"><h2>Cost by project</h2>{project_chart}</section>',
        f'<section id="heatmap"><h2>When is AI used? Hour of week</h2>{heatmap_chart(view)}'
        "</section>",
        '<section id="status"><h2>What each provider covered</h2><div class="table-wrap">'
        f"{status_html(view)}</div>{allocation}</section>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_esc(title)}</h1><p class='window'>{_esc(view.window)}</p>"
        + "".join(sections)
        + f"<footer>Made by usagekit {_esc(__version__)} on {_moment_words(view.now)}. "
        "Dates and times are UTC.</footer></main></body></html>\n"
    )


def page(
    report: UsageReport,
    *,
    budget: BudgetSpec | Decimal | int | str | None = None,
    currency: str | None = None,
    top: int = DEFAULT_TOP,
    allocate: bool | None = None,
    title: str = "AI usage and spend",
) -> str:
    """Build the view of ``report`` and render it (see :func:`build_view`, :func:`render_page`).

    Args:
        report: The report.
        budget: A budget for the current month, or None.
        currency: The currency of the charts.
        top: Models or projects shown before grouping the rest.
        allocate: Whether the breakdowns use the allocated view (None: yes).
        title: The page's title.

    Returns:
        The HTML document.

    Raises:
        ConfigError: A bad budget, currency or ``top``.
    """
    view = build_view(report, budget=budget, currency=currency, top=top, allocate=allocate)
    return render_page(view, title=title)
