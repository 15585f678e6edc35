"""The HTML report's charts as inline SVG (and CSS bars), drawn from a :class:`View`.

Floats are used only for pixel positions; every label is formatted from the exact ``Decimal``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ._display import DAY, TICK, WEEKDAYS, day_words, esc, format_money, short_day, span_words
from ._view import Share, View

__all__ = ["breakdown_chart", "cumulative_chart", "daily_chart", "heatmap_chart"]

UTC = timezone.utc


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
        f'role="img" aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg" '
        'preserveAspectRatio="xMidYMid meet">'
        f"<title>{esc(label)}</title>"
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
        f"{esc(currency)}</text>"
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
                f'text-anchor="middle">{short_day(day)}</text>'
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
    end_day = view.days[-1] + DAY
    if projection is not None and view.period_end is not None:
        end_day = max(end_day, (view.period_end - TICK).astimezone(UTC).date() + DAY)
    span = max(1, (end_day - first).days)
    totals = view.day_totals
    running = Decimal(0)
    points: list[tuple[float, Decimal]] = [(0.0, running)]
    for index, day in enumerate(view.days):
        running += totals.get(day, Decimal(0))
        points.append((float(index + 1), running))
    day_start = datetime.combine(view.days[-1], datetime.min.time(), tzinfo=UTC)
    partial = min(DAY, view.now - day_start) if view.now > day_start else DAY
    now_offset = len(view.days) - 1 + partial / DAY  # today counts up to now
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
                f'<rect class="bar" data-provider="{esc(provider)}" data-day="{day}" '
                f'x="{_f(left(index))}" y="{_f(y_bottom - height)}" width="{_f(width)}" '
                f'height="{_f(height)}" fill="{view.provider_colour(provider)}">'
                f"<title>{esc(provider)}, {day_words(day)}: "
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
                f'<rect class="period-bar" data-provider="{esc(period.provider)}" '
                f'x="{_f(bar_x)}" y="{_f(y_bottom - height)}" width="{_f(bar_width)}" '
                f'height="{_f(height)}" fill="{view.provider_colour(period.provider)}">'
                f"<title>{esc(period.provider)}, {span_words(period.start, period.end)} "
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
            f"{esc(provider)} {format_money(amount, currency)}</li>"
        )
    legend.append("</ul>")
    notes = "".join(
        f'<p class="annotation period-note">{esc(p.provider)} reports one total for '
        f"{span_words(p.start, p.end)}: {format_money(p.amount, currency)}, shown as the "
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
        return f'<p class="empty" id="{chart_id}-empty">No cost in {esc(currency)}.</p>'
    maximum = max((s.amount for s in shares), default=Decimal(0))
    rows = []
    for share in shares:
        percent = float(share.amount / maximum) * 100 if maximum > 0 else 0.0
        rows.append(
            f"<tr class='hbar-row'><td class='hbar-label'>{esc(share.label)}</td>"
            f"<td class='hbar-track'><span class='hbar{' others' if share.others else ''}' "
            f"style='width:{max(percent, 0.5):.1f}%'></span></td>"
            f"<td class='hbar-value'>{format_money(share.amount, currency)}</td></tr>"
        )
    total = sum((s.amount for s in shares), Decimal(0))
    return (
        f"<table id='{chart_id}' class='chart hbars' aria-label='{esc(title)}'>"
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
        return f'<p class="empty" id="chart-heatmap-empty">{esc(view.heatmap_note or "")}</p>'
    frame = _Frame(720, 7 * 24 + 46, 44, 8, 8, 38)
    cell_w = (frame.x1 - frame.x0) / 24
    cell_h = (frame.y1 - frame.y0) / 7
    maximum = max((v for row in grid for v in row), default=Decimal(0))
    parts = [_svg_open("chart-heatmap", frame, f"{unit} by day of week and hour (UTC)")]
    for day_index, row in enumerate(grid):
        y = frame.y0 + day_index * cell_h
        parts.append(
            f'<text class="tick" x="{frame.x0 - 6}" y="{_f(y + cell_h / 2 + 4)}" '
            f'text-anchor="end">{WEEKDAYS[day_index]}</text>'
        )
        for hour, value in enumerate(row):
            strength = float(value / maximum) if maximum > 0 else 0.0
            amount = format_money(value, unit) if unit != "tokens" else f"{value:,} tokens"
            parts.append(
                f'<rect class="cell" data-day="{WEEKDAYS[day_index]}" data-hour="{hour}" '
                f'x="{_f(frame.x0 + hour * cell_w)}" y="{_f(y)}" width="{_f(cell_w - 1)}" '
                f'height="{_f(cell_h - 1)}" fill-opacity="{0.06 + 0.94 * strength:.3f}">'
                f"<title>{WEEKDAYS[day_index]} {hour:02d}:00: {amount}</title></rect>"
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
