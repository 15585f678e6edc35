"""The report people look at: one self-contained HTML page.

Everything a chart or a table shows is computed once, exactly, by
:func:`~usagekit._io._view.build_view` from a :class:`~usagekit.UsageReport`;
:func:`render_page` draws it as one HTML file (inline SVG, inline CSS, no JavaScript, no
network, no external assets; readable on a phone, printable). The notebook view
(:mod:`usagekit._io.notebook`) shares its headline and table, and :mod:`usagekit._io.plots`
draws the same charts with matplotlib.

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

from decimal import Decimal
from typing import TYPE_CHECKING

from .._version import __version__
from ._charts import breakdown_chart, cumulative_chart, daily_chart, heatmap_chart
from ._display import esc, moment_words
from ._targets import TextTarget, text_sink
from ._view import DEFAULT_TOP, BudgetSpec, View, build_view, parse_budget
from .notebook import headline_html, status_html, summary_table_html

if TYPE_CHECKING:
    from .._report import UsageReport

__all__ = ["BudgetSpec", "page", "parse_budget", "render_page", "write_html"]

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
        f'<p class="note">Charts show {esc(currency)}; '
        f"{esc(', '.join(other))} amounts are in the tables only.</p>"
        if other
        else ""
    )
    allocation = (
        "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in view.allocation_lines) + "</ul>"
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
        f'<p class="note">{esc(view.breakdown_note)}</p></section>',
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
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{esc(title)}</h1><p class='window'>{esc(view.window)}</p>"
        + "".join(sections)
        + f"<footer>Made by usagekit {esc(__version__)} on {moment_words(view.now)}. "
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


def write_html(
    report: UsageReport,
    target: TextTarget,
    *,
    budget: BudgetSpec | Decimal | int | str | None = None,
    currency: str | None = None,
    top: int = DEFAULT_TOP,
    allocate: bool | None = None,
    title: str = "AI usage and spend",
) -> str:
    """Write the page of ``report`` (see :func:`page`) to a path or an open text stream.

    Args:
        report: The report.
        target: A path (written atomically, as UTF-8) or an open text stream (left open).
        budget: A budget for the current month, or None.
        currency: The currency of the charts.
        top: Models or projects shown before grouping the rest.
        allocate: Whether the breakdowns use the allocated view (None: yes).
        title: The page's title.

    Returns:
        The HTML document written.

    Raises:
        ConfigError: A bad budget, currency or ``top``.
        ExportError: The target path is not a regular file (nothing is written then).
        OSError: The file cannot be written.
    """
    document = page(
        report, budget=budget, currency=currency, top=top, allocate=allocate, title=title
    )
    with text_sink(target) as out:
        out.write(document)
    return document
