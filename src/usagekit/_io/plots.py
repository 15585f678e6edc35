"""The HTML report's charts drawn with matplotlib (the ``plot`` extra), one function per chart.

Each function draws one chart of :func:`usagekit._io.html.render_page` from the same
:class:`usagekit._io._view.View` on a matplotlib ``Axes`` and returns that ``Axes``. Amounts become
floats only as bar heights and line positions; every label is formatted from the exact
``Decimal``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from .._core.errors import ConfigError
from ._display import format_money
from ._view import View

__all__ = [
    "CHARTS",
    "plot_all",
    "plot_breakdown",
    "plot_cumulative",
    "plot_daily",
    "plot_heatmap",
    "pyplot",
]

UTC = timezone.utc
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def pyplot() -> Any:
    """Import ``matplotlib.pyplot``.

    Returns:
        The module.

    Raises:
        ConfigError: matplotlib is not installed.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("plotting needs matplotlib: pip install 'usagekit[plot]'") from None
    return plt


def _axes(ax: Any, size: tuple[float, float] = (10, 4)) -> Any:
    if ax is not None:
        return ax
    _, made = pyplot().subplots(figsize=size)
    return made


def _midnight(day: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def plot_cumulative(view: View, ax: Any = None) -> Any:
    """Cumulative spend per day, the budget line and the projection band.

    Args:
        view: The figures.
        ax: The ``Axes`` to draw on; a new figure when None.

    Returns:
        The ``Axes``.
    """
    ax = _axes(ax)
    currency = view.currency
    ax.set_title(f"Cumulative spend ({currency or 'no cost'})")
    if currency is None or view.first_day is None:
        return ax
    totals = view.day_totals
    running = Decimal(0)
    xs, ys = [_midnight(view.first_day)], [0.0]
    for day in view.days:
        running += totals.get(day, Decimal(0))
        xs.append(_midnight(day) + timedelta(days=1))
        ys.append(float(running))
    ax.plot(xs, ys, color="#0f766e", linewidth=2, label="spent")
    periods = sum((p.amount for p in view.periods), Decimal(0))
    spent = running + periods
    if periods:
        ax.plot(
            [xs[-1], xs[-1]],
            [float(running), float(spent)],
            color="#6d28d9",
            linestyle="--",
            linewidth=2,
            label=f"whole-period costs {format_money(periods, currency)}",
        )
    projection = view.projection
    if (
        projection is not None
        and projection.projected is not None
        and projection.lower is not None
        and projection.upper is not None
        and view.period_end is not None
    ):
        end = view.period_end
        ax.fill(
            [xs[-1], end, end],
            [float(spent), float(projection.upper), float(projection.lower)],
            color="#0f766e",
            alpha=0.16,
            label=f"projection, {projection.confidence_pct} % band",
        )
        ax.plot(
            [xs[-1], end],
            [float(spent), float(projection.projected)],
            color="#0f766e",
            linestyle="--",
            label=f"projected {format_money(projection.projected, currency)}",
        )
    if view.budget is not None and view.budget.currency == currency:
        ax.axhline(
            float(view.budget.limit),
            color="#dc2626",
            linestyle="--",
            label=f"budget {format_money(view.budget.limit, currency)}",
        )
    ax.set_ylabel(currency)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    ax.figure.autofmt_xdate()
    return ax


def plot_daily(view: View, ax: Any = None) -> Any:
    """Spend per UTC day stacked by provider on a date axis; whole periods as a separate bar.

    Args:
        view: The figures.
        ax: The ``Axes`` to draw on; a new figure when None.

    Returns:
        The ``Axes``.
    """
    ax = _axes(ax)
    currency = view.currency
    ax.set_title(f"Spend per day by provider ({currency or 'no cost'})")
    if currency is None or not view.days:
        return ax
    xs = [_midnight(day) + timedelta(hours=12) for day in view.days]
    bottom = [0.0] * len(view.days)
    for provider, per_day in view.daily.items():
        values = [float(per_day.get(day, Decimal(0))) for day in view.days]
        total = sum(per_day.values(), Decimal(0))
        ax.bar(
            xs,
            values,
            bottom=bottom,
            width=0.8,
            color=view.provider_colour(provider),
            label=f"{provider} {format_money(total, currency)}",
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if view.periods:
        spot = _midnight(view.days[-1]) + timedelta(days=2, hours=12)
        base = 0.0
        for period in view.periods:
            ax.bar(
                [spot],
                [float(period.amount)],
                bottom=[base],
                width=1.2,
                color=view.provider_colour(period.provider),
                hatch="//",
                edgecolor="white",
                label=(
                    f"{period.provider}, whole period {period.start:%d %b}-"
                    f"{period.end - timedelta(microseconds=1):%d %b}: "
                    f"{format_money(period.amount, currency)}"
                ),
            )
            base += float(period.amount)
        ax.annotate(
            "whole\nperiod", (spot, base), ha="center", va="bottom", fontsize=8, color="#6b7280"
        )
    ax.set_ylabel(currency)
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.autofmt_xdate()
    return ax


def plot_breakdown(view: View, by: str, ax: Any = None) -> Any:
    """Cost by model or project, top N with the rest grouped, exact amounts as labels.

    Args:
        view: The figures.
        by: ``"model"`` or ``"project"``.
        ax: The ``Axes`` to draw on; a new figure when None.

    Returns:
        The ``Axes``.

    Raises:
        ConfigError: ``by`` is neither.
    """
    if by not in ("model", "project"):
        raise ConfigError(f"the breakdowns are by 'model' or 'project', got {by!r}")
    shares = view.by_model if by == "model" else view.by_project
    ax = _axes(ax, (10, 0.45 * max(len(shares), 2) + 1))
    currency = view.currency or ""
    ax.set_title(f"Cost by {by} ({currency or 'no cost'})")
    if not shares:
        return ax
    labels = [s.label for s in reversed(shares)]
    values = [float(s.amount) for s in reversed(shares)]
    colours = ["#9ca3af" if s.others else "#0f766e" for s in reversed(shares)]
    bars = ax.barh(labels, values, color=colours)
    ax.bar_label(bars, labels=[format_money(s.amount, currency) for s in reversed(shares)])
    total = sum((s.amount for s in shares), Decimal(0))
    ax.set_xlabel(f"{currency}; total {format_money(total, currency)}")
    ax.margins(x=0.2)
    return ax


def plot_heatmap(view: View, ax: Any = None) -> Any:
    """The hour-of-week heatmap (UTC), when the report has hourly records.

    Args:
        view: The figures.
        ax: The ``Axes`` to draw on; a new figure when None.

    Returns:
        The ``Axes``; without hourly records it shows why there is no heatmap.
    """
    ax = _axes(ax, (12, 3.5))
    if view.heatmap is None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, view.heatmap_note or "", ha="center", va="center", wrap=True)
        ax.set_title("Hour of week")
        return ax
    grid = [[float(value) for value in row] for row in view.heatmap]
    image = ax.imshow(grid, aspect="auto", cmap="Greens")
    ax.set_yticks(range(7), list(_WEEKDAYS))
    ax.set_xticks(range(0, 24, 3))
    ax.set_xlabel("hour of day (UTC)")
    ax.set_title(f"{view.heatmap_unit} by day of week and hour")
    ax.figure.colorbar(image, ax=ax, label=view.heatmap_unit)
    return ax


CHARTS = ("cumulative", "daily", "models", "projects", "heatmap")
"""The charts of :func:`plot_all` (and :meth:`usagekit.UsageReport.plot`), in order."""


def plot_all(view: View) -> dict[str, Any]:
    """Draw every chart of the HTML report in one figure.

    Args:
        view: The figures.

    Returns:
        The ``Axes`` by chart, keyed by :data:`CHARTS`.

    Raises:
        ConfigError: matplotlib is not installed.
    """
    figure = pyplot().figure(figsize=(12, 20), layout="constrained")
    grid = figure.add_gridspec(5, 1, height_ratios=[4, 4, 4, 3, 3])
    axes = {name: figure.add_subplot(grid[i]) for i, name in enumerate(CHARTS)}
    plot_cumulative(view, axes["cumulative"])
    plot_daily(view, axes["daily"])
    plot_breakdown(view, "model", axes["models"])
    plot_breakdown(view, "project", axes["projects"])
    plot_heatmap(view, axes["heatmap"])
    return axes
