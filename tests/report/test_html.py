"""The HTML report: one self-contained page, its figures exact, checked in headless Chromium."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import usagekit
from usagekit import UsageReport, analytics
from usagekit._io._display import format_money
from usagekit._io._view import BudgetSpec, build_view, parse_budget
from usagekit.sandbox import serve

from ._fakes import rec

UTC = timezone.utc
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "artifacts"
CHART_IDS = ("chart-cumulative", "chart-daily", "chart-models", "chart-projects")


@dataclass(frozen=True)
class Demo:
    sandbox: Any
    report: UsageReport
    page: str


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    with usagekit.pin_clock(NOW), serve(seed=1, now=NOW) as sb:
        report = usagekit.collect(sb.clients(), SINCE)
        assert report.ok
        yield Demo(sb, report, report.to_html(_StringSink(), budget="600USD"))


class _StringSink:
    """An open text stream that keeps what is written (to_html takes a stream or a path)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


def _text(page: str) -> str:
    """The page's visible text, tags removed and entities decoded, whitespace collapsed."""
    body = re.sub(r"<style>.*?</style>|<title>.*?</title>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _view(report: UsageReport, **options: Any) -> Any:
    with usagekit.pin_clock(NOW):
        return build_view(report, **options)


# -- the page ----------------------------------------------------------------------------------


def test_the_page_is_self_contained(demo: Demo) -> None:
    page = demo.page
    assert page.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "<link", "<img", "<iframe", " src=", " href=", "url("):
        assert forbidden not in page.lower(), forbidden
    # the only URL-like text is the SVG namespace; the CSP forbids any load
    assert set(re.findall(r"https?://[^\s\"'<]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "default-src 'none'" in page
    assert "@media print" in page and "@media (max-width:600px)" in page
    assert "name='viewport'" in page


def test_the_headline_shows_exact_spend_projection_and_budget(demo: Demo) -> None:
    report, text = demo.report, _text(demo.page)
    total = report.total_cost()["USD"]
    openai = demo.sandbox.data.openai_cost_totals(SINCE, NOW + timedelta(days=1))[()]
    assert report.cost_by("provider")["openai"]["USD"] == openai  # the sandbox's ground truth
    assert f"Spent so far (USD) {total:,.2f} USD" in text
    costs = [r for r in report.records if r.metric == "cost"]
    expected = analytics.projection(
        costs, period_end=datetime(2026, 12, 1, tzinfo=UTC), now=NOW, currency="USD"
    )
    assert expected.status == "ok" and expected.projected is not None
    assert expected.lower is not None and expected.upper is not None
    assert f"Projected by 30 November 2026 {format_money(expected.projected, 'USD')}" in text
    assert (
        f"80 % band: {format_money(expected.lower)} to {format_money(expected.upper, 'USD')}"
        in text
    )
    check = analytics.budget(report.records, limit=600, now=NOW, currency="USD")
    verdict = "exceeded" if check.exceeded else "projected to be exceeded"
    verdict = verdict if check.over_budget else "on track"
    assert f"{format_money(check.spent, 'USD')} of 600.00 USD" in text
    assert f"{verdict}; remaining {format_money(check.remaining, 'USD')}" in text
    assert "1 November 2026 to now (20 November 2026, 15:00 UTC)" in text


def test_the_provider_table_has_every_provider_and_an_exact_total_row(demo: Demo) -> None:
    report, page = demo.report, demo.page
    table = page[page.index("<table>") : page.index("</table>")]
    for row in report.summary("provider"):
        cost = f"{row['cost']['USD']:,.2f}" if "USD" in row["cost"] else "-"
        assert f"<td>{row['group']}</td><td style='text-align:right'>{cost}</td>" in table
    footer = table[table.index("<tfoot>") :]
    assert f">{report.total_cost()['USD']:,.2f}</th>" in footer
    assert f">{len(report):,}</th>" in footer
    credits = sum((r["credits"] for r in report.summary("provider") if r["credits"]), Decimal(0))
    assert credits > 0 and f">{credits:,}</th>" in footer  # Unsiloed's credits, not money


def test_spend_per_day_puts_every_day_on_the_axis_and_the_period_beside(demo: Demo) -> None:
    report, page = demo.report, demo.page
    bars = re.findall(r'<rect class="bar" data-provider="([^"]+)" data-day="([^"]+)"', page)
    expected: dict[tuple[str, str], Decimal] = {}
    for r in report.records:
        if r.metric == "cost" and r.end - r.start <= timedelta(days=1):
            key = (r.provider, r.start.date().isoformat())
            expected[key] = expected.get(key, Decimal(0)) + r.quantity
    assert set(bars) == {key for key, amount in expected.items() if amount > 0}
    days = {day for _, day in bars} | set(re.findall(r'class="gap" data-day="([^"]+)"', page))
    assert len(days) == 20  # 1 to 20 November, every day on the axis
    # Basedash reports one total for its billing period: a separate bar, never dropped
    basedash = report.cost_by("provider")["basedash"]["USD"]
    assert basedash == demo.sandbox.data.basedash_period(NOW).total
    assert page.count('class="period-bar" data-provider="basedash"') == 1
    assert (
        f"basedash reports one total for 1 November 2026 to 30 November 2026: "
        f"{format_money(basedash, 'USD')}" in _text(page)
    )
    for provider, cost in report.cost_by("provider").items():
        if "USD" in cost:
            assert f"{provider} {format_money(cost['USD'], 'USD')}" in _text(page)  # legend


def test_a_day_without_spend_is_a_gap_at_zero_on_the_axis() -> None:
    report = UsageReport.from_records(
        [rec("openai", "cost", "2.50"), rec("openai", "cost", "1.25", day=2)],
        start=SINCE,
        end=SINCE + timedelta(days=3),
    )
    with usagekit.pin_clock(NOW):
        page = report.to_html(_StringSink())
    assert re.findall(r'class="gap" data-day="([^"]+)"', page) == ["2026-11-02"]
    assert "1 day with no cost reported show as a zero-height bar" in _text(page)
    assert "The window is over: there is nothing left to project." in _text(page)


def test_cost_by_model_and_project_are_allocated_with_the_rest_grouped(demo: Demo) -> None:
    report, page = demo.report, demo.page
    allocated = report.allocate()
    for chart, by in (("chart-models", "model"), ("chart-projects", "project")):
        block = page[page.index(f"id='{chart}'") :]
        block = block[: block.index("</table>")]
        values = re.findall(r"<td class='hbar-value'>([^<]+)</td>", block)
        costs = allocated.cost_by(by)
        assert len(values) == min(8, len(costs))
        ranked = sorted((v["USD"] for v in costs.values()), reverse=True)
        if len(costs) > 8:
            assert f"{len(costs) - 7} other {by}s" in block
            assert values[-1] == format_money(sum(ranked[7:], Decimal(0)), "USD")
        assert values[:7] == [format_money(v, "USD") for v in ranked[:7]]
        total = allocated.total_cost()["USD"]
        assert total == report.total_cost()["USD"]  # allocation is exact
        assert f"<th class='hbar-value'>{format_money(total, 'USD')}</th>" in block


def test_without_hourly_records_the_heatmap_says_why(demo: Demo) -> None:
    assert 'id="chart-heatmap"' not in demo.page
    assert "No hourly records in this report" in _text(demo.page)


def test_the_heatmap_is_drawn_from_hourly_records(demo: Demo) -> None:
    start, end = datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    with usagekit.pin_clock(NOW):
        client = demo.sandbox.daramex_client()
        hourly = list(client.records(start, end, granularity="hour"))
        client.close()
        report = UsageReport.from_records(hourly, start=start, end=end)
        page = report.to_html(_StringSink())
    cells = re.findall(r'class="cell" data-day="(\w+)" data-hour="(\d+)"', page)
    assert len(cells) == 7 * 24
    grid = analytics.heatmap(hourly).cost_grid("USD")
    monday = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday: row "Mon", day_of_week 1
    assert monday.weekday() == 0
    for hour in (0, 9, 15):
        expected = format_money(grid[1][hour], "USD")
        assert f"<title>Mon {hour:02d}:00: {expected}</title>" in page


def test_a_failure_is_shown_with_its_hint_and_zero_record_providers_are_listed() -> None:
    with usagekit.pin_clock(NOW), serve(seed=2, now=NOW) as sb:
        report = usagekit.collect(
            [sb.openai_client(api_key="sk-admin-wrong"), sb.daramex_client()], SINCE
        )
        page = report.to_html(_StringSink())
        notebook = report._repr_html_()
    failure = report.failures[0]
    hint = failure.error.hint  # type: ignore[attr-defined]
    assert failure.provider == "openai" and hint
    text = _text(page)
    assert f"What to do: {hint}" in text and "401" in text
    assert "<tr class='failed'><td>openai</td>" in page
    assert f"what to do: {html.escape(hint)}" in notebook
    # openai kept no records: it still has its row, with "-" (nothing reported) and why
    assert "<td>openai</td><td style='text-align:right'>-</td>" in notebook


def test_a_real_zero_is_a_zero_and_nothing_reported_is_a_dash() -> None:
    report = UsageReport.from_records(
        [
            rec("openai", "cost", "0.00", model="free"),
            rec("daramex", "total_tokens", "10"),
            rec("openai", "cost", "0.001", day=1),
        ],
        start=SINCE,
        end=SINCE + timedelta(days=2),
    )
    with usagekit.pin_clock(NOW):
        page = report.to_html(_StringSink())
    assert "<td>openai</td><td style='text-align:right'>< 0.01</td>" in html.unescape(page)
    assert "<td>daramex</td><td style='text-align:right'>-</td>" in page
    assert format_money(Decimal(0), "USD") == "0.00 USD"
    assert format_money(Decimal("1234567.891"), "EUR") == "1,234,567.89 EUR"


def test_several_currencies_are_never_added() -> None:
    report = UsageReport.from_records(
        [rec("openai", "cost", "10"), rec("eu", "cost", "20.50", unit="EUR")],
        start=SINCE,
        end=SINCE + timedelta(days=1),
    )
    view = _view(report)
    assert view.currency == "EUR" and dict(view.total_cost) == report.total_cost()
    with usagekit.pin_clock(NOW):
        text = _text(report.to_html(_StringSink(), currency="USD"))
    assert "Spent so far (EUR) 20.50 EUR" in text and "Spent so far (USD) 10.00 USD" in text
    assert "Charts show USD; EUR amounts are in the tables only." in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000USD", BudgetSpec(Decimal(1000), "USD")),
        ("1,000.50 eur", BudgetSpec(Decimal("1000.50"), "EUR")),
        ("250", BudgetSpec(Decimal(250))),
        (Decimal("12.5"), BudgetSpec(Decimal("12.5"))),
    ],
)
def test_budgets_are_read_exactly(text: Any, expected: BudgetSpec) -> None:
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["lots", "-5USD", "100 dollars", "1e3USD", ""])
def test_a_malformed_budget_is_a_config_error(text: str) -> None:
    with pytest.raises(usagekit.ConfigError, match="budget"):
        parse_budget(text)


def test_to_html_writes_a_file_atomically(demo: Demo, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    with usagekit.pin_clock(NOW):
        written = demo.report.to_html(target, budget="600USD")
    assert target.read_text(encoding="utf-8") == written == demo.page
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left


# -- the command -------------------------------------------------------------------------------


def _usagekit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "USAGEKIT_NOW": NOW.isoformat()}
    for name in [n for n in env if n.endswith(("_API_KEY", "_ADMIN_KEY", "_TOKEN", "_ORG_ID"))]:
        del env[name]
    return subprocess.run(
        [sys.executable, "-m", "usagekit._cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_the_command_writes_the_html_report(tmp_path: Path) -> None:
    done = _usagekit(
        "report", "--demo", "--since", "2026-11-01", "--html", "report.html",
        "--budget", "1000USD", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote the HTML report to report.html" in done.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for chart in CHART_IDS:
        assert f"id='{chart}'" in page or f'id="{chart}"' in page
    total = re.search(r"^total\s+([\d,.]+)", done.stdout, flags=re.M)
    assert total is not None
    assert f"Spent so far (USD) {total.group(1)} USD" in _text(page)  # the table's own total
    assert "of 1,000.00 USD" in _text(page)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "1000USD"], "--budget is drawn in the HTML report: add --html FILE"),
        (["--html", "report.csv"], "named like a CSV file"),
        (["--html", "-"], "--html needs a file name"),
        (["--html", "same.html", "-o", "same.html"], "-o and --html both name same.html"),
        (["--html", "missing/report.html"], "cannot write missing/report.html"),
        (["--html", "r.html", "--budget", "much"], "argument --budget"),
    ],
)
def test_the_command_refuses_bad_html_arguments_before_fetching(
    args: list[str], message: str, tmp_path: Path
) -> None:
    done = _usagekit("report", "--demo", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr
    assert list(tmp_path.iterdir()) == []


# -- in a real browser -------------------------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "headless Chromium is not installed (Debian: apt-get install -y chromium; .ci/run "
        "installs it where it can): the browser check of the HTML report is skipped"
    )


def _browser(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def test_chromium_renders_every_chart_and_the_figures(demo: Demo, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(demo.page, encoding="utf-8")
    dumped = _browser("--dump-dom", page.as_uri(), profile=tmp_path / "profile")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    for chart in CHART_IDS:
        assert re.search(rf"id=\"{chart}\"", dom), chart  # the browser serialises with "
    for element in (
        'class="actual-line"', 'class="projection-band"', 'class="budget-line"',
        'class="period-bar"', 'class="bar"', 'class="hbar"', 'id="provider-status"',
        'id="headline"',
    ):  # fmt: skip
        assert element in dom, element
    text = _text(dom)
    total = demo.report.total_cost()["USD"]
    assert f"Spent so far (USD) {format_money(total, 'USD')}" in text
    assert "budget 600.00 USD" in text and "What each provider covered" in text
    for provider in ("openai", "basedash", "daramex", "unsiloed"):
        assert provider in text

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("report.png", "1100,3400"), ("report-phone.png", "400,3600")):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        done = _browser(
            f"--screenshot={shot}", f"--window-size={size}", page.as_uri(),
            profile=tmp_path / "profile",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    (ARTIFACTS / "report.html").write_text(demo.page, encoding="utf-8")


def test_a_budget_for_a_period_the_window_does_not_start_in_is_not_checked(
    tmp_path: Path,
) -> None:
    with usagekit.pin_clock("2026-12-01T07:00:30Z"), serve(seed=1) as sb:
        report = usagekit.collect(sb.clients(), "2026-11-01")
    page = report.to_html(tmp_path / "r.html", budget="1000USD")
    assert "The budget is for 1 December 2026 to 31 December 2026" in page
    assert "run it with --since 2026-12-01 to check the budget" in page
    assert "on track" not in page


def test_a_budget_in_a_currency_nothing_was_reported_in_is_not_a_zero(tmp_path: Path) -> None:
    with usagekit.pin_clock("2026-11-20T12:00:30Z"), serve(seed=1) as sb:
        report = usagekit.collect(sb.clients())
    page = report.to_html(tmp_path / "r.html", budget="10EUR")
    assert "Nothing was reported in EUR: the budget cannot be checked." in page
    assert "0.00 EUR" not in page
