"""The notebook view shares the HTML report's headline and table; report.plot() its charts."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from usagekit import Total, UsageRecord, UsageReport
from usagekit._io._display import format_money
from usagekit._io._view import build_view
from usagekit._io.notebook import headline_html, summary_table_html
from usagekit.sandbox import serve

from ._fakes import rec

UTC = timezone.utc
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def report() -> Iterator[UsageReport]:
    with usagekit.pin_clock(NOW), serve(seed=1, now=NOW) as sb:
        yield usagekit.collect(sb.clients(), SINCE)


def test_the_notebook_view_is_the_html_reports_headline_and_table(report: UsageReport) -> None:
    with usagekit.pin_clock(NOW):
        notebook = report._repr_html_()
        view = build_view(report, allocate=False)
        page = report.to_html(_Sink())
    for shared in (headline_html(view), summary_table_html(view)):
        assert shared in notebook and shared in page
    total = report.total_cost()["USD"]
    assert f"<tr class='total'><th>total</th><th style='text-align:right'>{total:,.2f}</th>" in (
        notebook
    )
    assert "1 November 2026 to now (20 November 2026, 15:00 UTC)" in notebook
    assert "T00:00:00+00:00" not in notebook  # no raw ISO window any more


def test_a_provider_with_no_records_has_a_row_that_says_why() -> None:
    first = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    with usagekit.pin_clock(first), serve(seed=1, now=first) as sb:
        report = usagekit.collect(sb.clients(), "2026-11-01", "2026-12-01")
        notebook = report._repr_html_()
    basedash = next(s for s in report.statuses if s.provider == "basedash")
    assert basedash.records == 0 and basedash.note
    row = re.search(r"<tr class='ok'><td>basedash</td>(.*?)</tr>", notebook)
    assert row is not None
    assert "<td style='text-align:right'>-</td>" in row.group(1)  # nothing reported, not 0.00
    assert html.escape(basedash.state) in row.group(1)
    assert "The window is over" in notebook  # a closed window is not projected


def test_totals_print_readably() -> None:
    cost = Total(("openai", "gpt-4o"), "cost", "USD", Decimal("1234.5"), 12)
    assert str(cost) == "openai / gpt-4o: cost 1,234.50 USD (12 records)"
    tokens = Total((None,), "input_tokens", "tokens", Decimal(1500000), 1)
    assert str(tokens) == "-: input_tokens 1,500,000 tokens (1 record)"
    report = UsageReport.from_records([rec("openai", "cost", "92.950")])
    (total,) = report.totals(metric="cost")
    assert str(total) == f"cost {format_money(report.total_cost()['USD'], 'USD')} (1 record)"


# -- report.plot() ------------------------------------------------------------------------------


@pytest.fixture
def plt() -> Iterator[Any]:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


def test_plot_draws_every_chart_of_the_html_report(report: UsageReport, plt: Any) -> None:
    with usagekit.pin_clock(NOW):
        axes = report.plot(budget="600USD")
    assert list(axes) == ["cumulative", "daily", "models", "projects", "heatmap"]
    labels = [text.get_text() for text in axes["cumulative"].get_legend().get_texts()]
    assert "budget 600.00 USD" in labels and "projection, 80 % band" in labels
    basedash = report.cost_by("provider")["basedash"]["USD"]
    daily = [text.get_text() for text in axes["daily"].get_legend().get_texts()]
    assert any(
        t.startswith("basedash, whole period") and t.endswith(format_money(basedash, "USD"))
        for t in daily
    )  # the billing period is a bar of its own, never left out
    allocated = report.allocate()
    bars = [t.get_text() for t in axes["models"].texts if t.get_text()]
    ranked = sorted((v["USD"] for v in allocated.cost_by("model").values()), reverse=True)
    assert format_money(ranked[0], "USD") in bars


def test_each_chart_function_returns_its_axes(report: UsageReport, plt: Any) -> None:
    _, given = plt.subplots()
    with usagekit.pin_clock(NOW):
        assert report.plot_spend(given) is given
        assert report.plot_cumulative(budget="600USD") is not None
        assert report.plot_cost_by("project").get_title() == "Cost by project (USD)"
        empty = report.plot_heatmap()
    assert "No hourly records" in empty.texts[0].get_text()
    days = {p.get_x() for p in given.patches}
    assert len(days) >= 20  # every day of 1 to 20 November on a real date axis, and the period
    with pytest.raises(usagekit.ConfigError, match="'model' or 'project'"):
        report.plot_cost_by("user")


def test_the_heatmap_plot_uses_hourly_records(plt: Any) -> None:
    start = datetime(2026, 11, 16, 9, tzinfo=UTC)
    records = [
        UsageRecord(
            provider="daramex", source="time_series", start=start,
            end=start + timedelta(hours=1), metric="cost", quantity=Decimal("0.25"), unit="USD",
        )
    ]  # fmt: skip
    report = UsageReport.from_records(records)
    with usagekit.pin_clock(NOW):
        ax = report.plot_heatmap()
    grid = ax.images[0].get_array()
    assert grid[0][9] == pytest.approx(0.25) and grid.sum() == pytest.approx(0.25)


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


def test_a_report_keeps_the_now_it_was_made_at() -> None:
    with usagekit.pin_clock("2026-11-20T12:00Z"), serve(seed=1) as sb:
        report = usagekit.collect(sb.clients())
        inside = report._repr_html_()
    assert report.as_of == datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    assert report.filter(provider="openai").as_of == report.as_of
    assert report.allocate().as_of == report.as_of
    # shown again after the clock moved on: the same figures, not "now" re-read
    assert report._repr_html_() == inside
