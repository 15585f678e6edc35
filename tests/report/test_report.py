"""UsageReport answers the common questions without pandas, and never sums a level over time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from usagekit import LEVEL, ConfigError, UsageReport

from ._fakes import rec


def _report() -> UsageReport:
    return UsageReport.from_records(
        [
            rec("openai", "cost", "1.50", model="gpt-4o", project_id="p1"),
            rec("openai", "cost", "0.50", day=1, model="gpt-4o", project_id="p2"),
            rec("openai", "cost", "2.00", day=1, model="o3", project_id="p1"),
            rec("openai", "input_tokens", "1000", model="gpt-4o"),
            rec("openai", "input_cached_tokens", "400", model="gpt-4o"),  # part of input_tokens
            rec("openai", "output_tokens", "250", model="gpt-4o"),
            rec("daramex", "total_tokens", "300", model="claude"),
            rec("daramex", "cost", "0.30", model="claude"),
            rec("basedash", "cost", "4.00", user_email="a@x.io"),
            rec("eu", "cost", "9.99", unit="EUR"),
            # levels: bytes stored per project on three days; credits remaining
            rec("openai", "usage_bytes", "100", unit="bytes", kind=LEVEL, project_id="p1"),
            rec("openai", "usage_bytes", "150", day=1, unit="bytes", kind=LEVEL, project_id="p1"),
            rec("openai", "usage_bytes", "120", day=2, unit="bytes", kind=LEVEL, project_id="p1"),
            rec("openai", "usage_bytes", "70", day=1, unit="bytes", kind=LEVEL, project_id="p2"),
        ]
    )


def test_total_cost_per_currency() -> None:
    assert _report().total_cost() == {"EUR": Decimal("9.99"), "USD": Decimal("8.30")}


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (
            "provider",
            {
                "basedash": {"USD": Decimal("4.00")},
                "openai": {"USD": Decimal("4.00")},
                "eu": {"EUR": Decimal("9.99")},
                "daramex": {"USD": Decimal("0.30")},
            },
        ),
        (
            "project",
            {
                "p1": {"USD": Decimal("3.50")},
                "p2": {"USD": Decimal("0.50")},
                None: {"USD": Decimal("4.30"), "EUR": Decimal("9.99")},
            },
        ),
        (
            "day",
            {
                "2026-11-01": {"USD": Decimal("5.80"), "EUR": Decimal("9.99")},
                "2026-11-02": {"USD": Decimal("2.50")},
            },
        ),
    ],
)
def test_cost_by_dimension(by: str, expected: dict[object, dict[str, Decimal]]) -> None:
    assert _report().cost_by(by) == expected


def test_cost_by_several_dimensions_uses_tuples() -> None:
    result = _report().cost_by(["provider", "model"])
    assert result[("openai", "gpt-4o")] == {"USD": Decimal("2.00")}
    assert result[("openai", "o3")] == {"USD": Decimal("2.00")}


def test_tokens_by_model_counts_each_token_once() -> None:
    assert _report().tokens_by_model() == {
        "gpt-4o": Decimal(1250),  # input + output; cached tokens are already in input
        "claude": Decimal(300),
    }


def test_levels_are_never_summed_over_time() -> None:
    report = _report()
    (total,) = report.totals("provider", metric="usage_bytes")
    assert total.quantity == Decimal(120 + 70)  # latest per project, summed across projects
    by_day = {t.group: t.quantity for t in report.totals("day", metric="usage_bytes")}
    assert by_day == {("2026-11-01",): 100, ("2026-11-02",): 150 + 70, ("2026-11-03",): 120}


def test_summary_rows() -> None:
    rows = {row["group"]: row for row in _report().summary("provider")}
    assert rows["openai"]["cost"] == {"USD": Decimal("4.00")}
    assert rows["openai"]["tokens"] == Decimal(1250)
    assert rows["openai"]["records"] == 10


def test_filter_and_unknown_dimension() -> None:
    report = _report().filter(provider="openai", model="o3")
    assert len(report) == 1
    with pytest.raises(ConfigError, match="cannot group by 'colour'"):
        _report().totals("colour")
    assert _report().totals("attributes.batch")[0].group == (None,)


def test_html_summary_for_notebooks() -> None:
    hostile = rec("<script>", "cost", "1")
    html = UsageReport.from_records([*_report().records, hostile])._repr_html_()
    assert "<table>" in html and "<td>openai</td>" in html and "4.00" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Failed providers" not in html


def test_sums_stay_exact_beyond_the_default_decimal_precision() -> None:
    tiny = "0.1000000000000000055511151231257827"
    report = UsageReport.from_records([rec("a", "cost", tiny), rec("a", "cost", "1000000", day=1)])
    assert str(report.total_cost()["USD"]) == "1000000.1000000000000000055511151231257827"


def test_summary_by_day_is_in_time_order() -> None:
    rows = _report().summary("day")
    assert [row["group"] for row in rows] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert _report().summary("provider")[0]["group"] == "eu"  # largest cost first
