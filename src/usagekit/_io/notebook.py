"""The headline, the provider table and the statuses (shared by the page), and the notebook view.

:func:`notebook_html` is what :meth:`usagekit.UsageReport._repr_html_` shows in Jupyter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._display import TICK, day_words, esc, format_money, money_or_dash
from ._view import View, build_view

if TYPE_CHECKING:
    from .._report import UsageReport

__all__ = ["headline_html", "notebook_html", "status_html", "summary_table_html"]


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
            f'<div class="figure spent"><span class="label">Spent so far ({esc(currency)})'
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
        by = day_words((view.period_end - TICK).date())
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
            f"{day_words((budget.period_end - TICK).date())}</span>"
            f'<span class="value">{format_money(budget.spent, unit)} of '
            f"{format_money(budget.limit, unit)}</span>"
            f'<span class="band">{verdict}; remaining {format_money(budget.remaining, unit)}'
            "</span></div>"
        )
    notes = [n for n in (view.projection_note, view.budget_note) if n]
    note_html = "".join(f'<p class="note">{esc(n)}</p>' for n in notes)
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
    head = "".join(f"<th {num}>cost {esc(c)}</th>" for c in currencies)
    if credits:
        head += "<th>credits</th>"
    body = []
    for row in view.providers:
        cells = "".join(f"<td {num}>{money_or_dash(row.cost, c)}</td>" for c in currencies)
        if credits:
            used = "-" if row.credits is None else f"{row.credits:,}"
            cells += f"<td {num}>{used}</td>"
        body.append(
            f"<tr class='{'ok' if row.ok else 'failed'}'><td>{esc(row.provider)}</td>{cells}"
            f"<td {num}>{row.tokens:,}</td><td {num}>{row.records:,}</td>"
            f"<td class='state'>{esc(row.state)}</td></tr>"
        )
    foot = "".join(f"<th {num}>{money_or_dash(view.total_cost, c)}</th>" for c in currencies)
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
            detail = esc(row.note) if row.note else "matches the window"
        else:
            detail = f"<b>failed</b>: {esc(row.error)}"
            if row.hint:
                detail += f"<br><span class='hint'>What to do: {esc(row.hint)}</span>"
        rows.append(
            f"<tr class='{'ok' if row.ok else 'failed'}'><td>{esc(row.provider)}</td>"
            f"<td>{'ok' if row.ok else 'FAILED'}</td><td>{esc(row.covered)}</td>"
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
        f"<p><b>usagekit report</b>, {esc(view.window)}: {view.records:,} records</p>",
        headline_html(view),
        summary_table_html(view),
    ]
    if failures:
        items = "".join(
            f"<li><b>{esc(r.provider)}</b>: {esc(r.error)}"
            + (f" (what to do: {esc(r.hint)})" if r.hint else "")
            + "</li>"
            for r in failures
        )
        parts.append(f"<p>Failed providers:</p><ul>{items}</ul>")
    if notes:
        items = "".join(
            f"<li><b>{esc(r.provider)}</b> ({esc(r.covered)}): {esc(r.note)}</li>" for r in notes
        )
        parts.append(f"<p>What each provider covered:</p><ul>{items}</ul>")
    if view.allocation_lines:
        items = "".join(f"<li>{esc(line)}</li>" for line in view.allocation_lines)
        parts.append(f"<p>Cost allocation:</p><ul>{items}</ul>")
    parts.append(
        "<p><small>- : nothing reported (not a zero); dates and times in UTC; "
        "report.plot() draws the charts</small></p></div>"
    )
    return "".join(parts)
