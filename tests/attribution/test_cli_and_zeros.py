"""--allocate on the command, and honest zeros everywhere: "-"/null for no cost, 0.00 for zero."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest

from usagekit import UsageReport
from usagekit._cli import main
from usagekit.sandbox import serve

from ..report._fakes import rec

NOW = "2026-11-12T07:00:30Z"
WINDOW = ["--since", "2026-11-02", "--until", "2026-11-09"]


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("USAGEKIT_NOW", NOW)
    with serve(seed=1, now=NOW) as sandbox:  # the ground truth of what --demo serves
        yield sandbox.data


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["report", "--demo", *WINDOW, "--provider", "openai", *args]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def _cost(document: dict[str, Any], group: str | None) -> str | None:
    rows = [t for t in document["totals"] if t["metric"] == "cost" and t["model"] == group]
    (row,) = rows
    value: str | None = row["quantity"]
    return value


def test_by_model_allocate_leaves_only_cost_no_usage_names_a_model(
    demo: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _json(capsys, "--by", "model", "--format", "json")
    after = _json(capsys, "--by", "model", "--format", "json", "--allocate")
    assert before["total_cost"] == after["total_cost"]
    total = Decimal(before["total_cost"]["USD"])
    assert Decimal(_cost(before, None) or 0) == total  # OpenAI's costs name no model at all
    assert _cost(before, "gpt-4o-mini-2024-07-18") is None  # unknown, not "0.00"
    bill = demo.openai_cost_totals("2026-11-02", "2026-11-09", group_by=("line_item",))
    modelless = sum(
        (v for (item,), v in bill.items() if item.split(",")[0] in
         ("file-search", "vector-stores", "code-interpreter")),
        Decimal(0),
    )  # fmt: skip
    assert Decimal(_cost(after, None) or 0) == modelless
    truth = demo.openai_cost_by_usage("2026-11-02", "2026-11-09", group_by=("model",))
    mini = "gpt-4o-mini-2024-07-18"
    assert Decimal(_cost(after, mini) or 0) == truth[(mini,)]
    assert after["allocation"]["unallocated"] == []
    assert Decimal(after["allocation"]["allocated"]["USD"]) == total
    assert _cost(after, "omni-moderation-2024-09-26") is None  # free, and never billed


def test_the_table_explains_the_allocation(demo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--demo", *WINDOW, "--by", "user", "--allocate"]) == 0
    out = capsys.readouterr().out
    assert "Cost allocation (exact" in out and "unallocated: none" in out
    assert "credits" in out.splitlines()[3]  # unsiloed's credits get their own column
    users = demo.openai_cost_by_usage("2026-11-02", "2026-11-09", group_by=("user_id",))
    top_user, top = max(((k[0], v) for k, v in users.items() if k[0]), key=lambda kv: kv[1])
    line = next(line for line in out.splitlines() if line.startswith(top_user))
    assert f"{top:,.2f}" in line


def test_csv_has_a_null_cost_for_a_group_without_cost(
    demo: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--demo", *WINDOW, "--provider", "openai", "--by", "model",
                 "--format", "csv"]) == 0  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    mini = [r for r in rows if r["model"] == "gpt-4o-mini-2024-07-18" and r["metric"] == "cost"]
    assert mini == [{"model": "gpt-4o-mini-2024-07-18", "metric": "cost", "unit": "USD",
                     "quantity": ""}]  # fmt: skip


def _zeros_report() -> UsageReport:
    return UsageReport.from_records([
        rec("z", "cost", "0.00", model="free-model"),
        rec("a", "input_tokens", "10", model="free-model"),
        rec("a", "input_tokens", "5", model="unpriced"),
        rec("a", "cost", "1.25", model="paid"),
        rec("unsiloed", "current_usage", "42", unit="credits"),
    ])  # fmt: skip


def test_summary_html_and_pandas_tell_no_cost_from_a_zero() -> None:
    report = _zeros_report()
    rows = {r["group"]: r for r in report.summary("model")}
    assert rows["free-model"]["cost"] == {"USD": Decimal("0.00")}
    assert rows["unpriced"]["cost"] == {}
    assert rows["-"]["credits"] == 42 and rows["paid"]["credits"] is None
    page = report._repr_html_()
    assert "<td style='text-align:right'>0.00</td>" in page  # a real zero
    assert "<td style='text-align:right'>-</td>" in page and "<th>credits</th>" in page
    frame = report.summary_frame("model")
    cost = dict(zip(frame["model"], frame["cost_USD"], strict=True))
    assert cost["free-model"] == Decimal("0.00") and cost["unpriced"] is None
    assert cost["paid"] == Decimal("1.25")
    assert list(frame.columns) == ["model", "cost_USD", "credits", "tokens", "records"]


def test_an_allocated_report_in_a_notebook_says_how() -> None:
    report = _zeros_report()
    assert "Cost allocation" not in report._repr_html_()
    openai = UsageReport.from_records([
        rec("openai", "input_tokens", "10", model="m", source="completions", hours=1),
        rec("openai", "input_cached_tokens", "0", model="m", source="completions", hours=1),
        rec("openai", "cost", "0.50", line_item="m, input", source="costs"),
    ]).allocate()  # fmt: skip
    page = openai._repr_html_()
    assert "Cost allocation" in page and "allocated over usage: 0.50 USD in 1 records" in page
