"""FOCUS 1.2 rows: columns from the specification, typed values, costs that add up."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest

from usagekit import ConfigError, UsageRecord
from usagekit._core.errors import ExportError
from usagekit._io.focus import (
    FOCUS_COLUMNS,
    FOCUS_VERSION,
    billing_period,
    display_name,
    focus_rows,
    focus_unit,
    write_focus_csv,
    write_focus_parquet,
)

from ._data import DAY, FLOAT_TAIL, NOV, UTC, sample_records

# The FOCUS 1.2 column catalog: column -> (feature level, data type, allows nulls), as the 1.2
# specification defines them (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, one file per column
# under specification/columns; 57 columns, 21 of them Mandatory).
SPEC_1_2: dict[str, tuple[str, str, bool]] = {
    "AvailabilityZone": ("Recommended", "String", True),
    "BilledCost": ("Mandatory", "Decimal", False),
    "BillingAccountId": ("Mandatory", "String", False),
    "BillingAccountName": ("Mandatory", "String", True),
    "BillingAccountType": ("Conditional", "String", False),
    "BillingCurrency": ("Mandatory", "String", False),
    "BillingPeriodEnd": ("Mandatory", "DateTime", False),
    "BillingPeriodStart": ("Mandatory", "DateTime", False),
    "CapacityReservationId": ("Conditional", "String", True),
    "CapacityReservationStatus": ("Conditional", "String", True),
    "ChargeCategory": ("Mandatory", "String", False),
    "ChargeClass": ("Mandatory", "String", True),
    "ChargeDescription": ("Mandatory", "String", True),
    "ChargeFrequency": ("Recommended", "String", False),
    "ChargePeriodEnd": ("Mandatory", "DateTime", False),
    "ChargePeriodStart": ("Mandatory", "DateTime", False),
    "CommitmentDiscountCategory": ("Conditional", "String", True),
    "CommitmentDiscountId": ("Conditional", "String", True),
    "CommitmentDiscountName": ("Conditional", "String", True),
    "CommitmentDiscountQuantity": ("Conditional", "Decimal", True),
    "CommitmentDiscountStatus": ("Conditional", "String", True),
    "CommitmentDiscountType": ("Conditional", "String", True),
    "CommitmentDiscountUnit": ("Conditional", "String", True),
    "ConsumedQuantity": ("Conditional", "Decimal", True),
    "ConsumedUnit": ("Conditional", "String", True),
    "ContractedCost": ("Mandatory", "Decimal", False),
    "ContractedUnitPrice": ("Conditional", "Decimal", True),
    "EffectiveCost": ("Mandatory", "Decimal", False),
    "InvoiceId": ("Recommended", "String", True),
    "InvoiceIssuerName": ("Mandatory", "String", False),
    "ListCost": ("Mandatory", "Decimal", False),
    "ListUnitPrice": ("Conditional", "Decimal", True),
    "PricingCategory": ("Conditional", "String", True),
    "PricingCurrency": ("Conditional", "String", True),
    "PricingCurrencyContractedUnitPrice": ("Conditional", "Decimal", True),
    "PricingCurrencyEffectiveCost": ("Conditional", "Decimal", True),
    "PricingCurrencyListUnitPrice": ("Conditional", "Decimal", True),
    "PricingQuantity": ("Mandatory", "Decimal", True),
    "PricingUnit": ("Mandatory", "String", True),
    "ProviderName": ("Mandatory", "String", False),
    "PublisherName": ("Mandatory", "String", False),
    "RegionId": ("Conditional", "String", True),
    "RegionName": ("Conditional", "String", True),
    "ResourceId": ("Conditional", "String", True),
    "ResourceName": ("Conditional", "String", True),
    "ResourceType": ("Conditional", "String", True),
    "ServiceCategory": ("Mandatory", "String", False),
    "ServiceName": ("Mandatory", "String", False),
    "ServiceSubcategory": ("Recommended", "String", False),
    "SkuId": ("Conditional", "String", True),
    "SkuMeter": ("Conditional", "String", True),
    "SkuPriceDetails": ("Conditional", "JSON", True),
    "SkuPriceId": ("Conditional", "String", True),
    "SubAccountId": ("Conditional", "String", True),
    "SubAccountName": ("Conditional", "String", True),
    "SubAccountType": ("Conditional", "String", True),
    "Tags": ("Conditional", "JSON", True),
}
CHARGE_CATEGORIES = {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
CHARGE_FREQUENCIES = {"One-Time", "Recurring", "Usage-Based"}
PRICING_CATEGORIES = {"Standard", "Dynamic", "Committed", "Other"}
AI_SUBCATEGORIES = {
    "Bots",
    "Generative AI",
    "Machine Learning",
    "Natural Language Processing",
    "Other (AI and Machine Learning)",
}
PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def spec_part() -> list[str]:
    return [c for c in FOCUS_COLUMNS if not c.startswith("x_")]


def cost_records() -> list[UsageRecord]:
    return [r for r in sample_records() if r.metric == "cost"]


# -- columns ---------------------------------------------------------------------------------


def test_catalog_is_the_1_2_one() -> None:
    assert FOCUS_VERSION == "1.2"
    assert len(SPEC_1_2) == 57
    assert sum(level == "Mandatory" for level, _, _ in SPEC_1_2.values()) == 21


def test_columns_are_spec_columns_then_custom_ones() -> None:
    assert len(set(FOCUS_COLUMNS)) == len(FOCUS_COLUMNS)
    spec = spec_part()
    assert set(spec) <= set(SPEC_1_2), set(spec) - set(SPEC_1_2)
    mandatory = {c for c, (level, _, _) in SPEC_1_2.items() if level == "Mandatory"}
    assert mandatory <= set(spec), mandatory - set(spec)
    assert {"ChargeFrequency", "ServiceSubcategory"} <= set(spec)  # the Recommended that apply
    assert spec == sorted(spec)  # alphabetical, as the specification lists them
    custom = FOCUS_COLUMNS[len(spec) :]
    assert FOCUS_COLUMNS[: len(spec)] == tuple(spec)  # FOCUS columns first, not intermixed
    assert custom and all(c.startswith("x_") and PASCAL.match(c[2:]) for c in custom)
    assert {"x_UsagekitRecordId", "x_Metric", "x_Model", "x_UserEmail"} <= set(custom)
    assert all(PASCAL.match(c) and len(c) <= 50 for c in spec)


# -- rows ------------------------------------------------------------------------------------


def check_row(row: dict[str, Any]) -> None:
    """Check one row against the catalog: types, nullability, allowed values, formats."""
    assert tuple(row) == FOCUS_COLUMNS
    for column, value in row.items():
        if column.startswith("x_"):
            assert value is None or isinstance(value, str), column
            continue
        _, data_type, nullable = SPEC_1_2[column]
        if value is None:
            assert nullable, f"{column} may not be null"
        elif data_type == "Decimal":
            assert type(value) is Decimal and value.is_finite(), column
        elif data_type == "DateTime":
            assert isinstance(value, datetime), column
            assert value.utcoffset() == timedelta(0), column
        elif data_type == "JSON":
            assert isinstance(value, str) and isinstance(json.loads(value), dict), column
        else:
            assert isinstance(value, str) and value, column
    assert row["ChargeCategory"] in CHARGE_CATEGORIES
    assert row["ChargeClass"] in (None, "Correction")
    assert row["ChargeFrequency"] in CHARGE_FREQUENCIES
    assert row["PricingCategory"] in PRICING_CATEGORIES
    assert row["ServiceCategory"] == "AI and Machine Learning"
    assert row["ServiceSubcategory"] in AI_SUBCATEGORIES
    currency = row["BillingCurrency"]
    assert len(currency) == 3 and currency.isalpha() and currency.isupper()
    assert row["BillingPeriodStart"] <= row["ChargePeriodStart"] < row["ChargePeriodEnd"]
    assert row["ChargePeriodEnd"] <= row["BillingPeriodEnd"]
    # nullability rules between columns
    assert (row["BillingAccountType"] is None) == (row["BillingAccountId"] is None)
    assert (row["SubAccountType"] is None) == (row["SubAccountId"] is None)
    assert row["SubAccountName"] is None or row["SubAccountId"] is not None
    assert (row["SkuMeter"] is None) == (row["SkuId"] is None)
    assert (row["ConsumedUnit"] is None) == (row["ConsumedQuantity"] is None)
    assert row["PricingQuantity"] is not None and row["PricingUnit"]  # Usage, not a correction
    if row["Tags"] is not None:
        assert all("/" in key for key in json.loads(row["Tags"]))  # prefixed tags only


def test_every_row_is_typed_per_the_spec() -> None:
    rows = list(focus_rows(sample_records()))
    assert rows
    for row in rows:
        check_row(row)


def test_only_cost_records_become_rows() -> None:
    records = sample_records()
    rows = list(focus_rows(records))
    costs = [r for r in records if r.metric == "cost"]
    assert len(costs) < len(records)  # the samples do hold usage and level records
    assert [row["x_UsagekitRecordId"] for row in rows] == [r.id for r in costs]
    assert {row["x_Metric"] for row in rows} == {"cost"}


def test_billed_cost_adds_up_per_currency() -> None:
    records = sample_records()
    expected: dict[str, Decimal] = defaultdict(Decimal)
    got: dict[str, Decimal] = defaultdict(Decimal)
    with localcontext() as context:
        context.prec = 100  # the default 28 digits would round the 34-digit EUR amount
        for record in records:
            if record.is_cost:
                expected[record.unit] += record.quantity
        for row in focus_rows(records):
            got[row["BillingCurrency"]] += row["BilledCost"]
            assert row["BilledCost"] == row["EffectiveCost"] == row["ListCost"]
            assert row["BilledCost"] == row["ContractedCost"]
    assert got == expected
    assert got == {"USD": Decimal("52.595679"), "EUR": FLOAT_TAIL}


def test_openai_cost_mapping() -> None:
    record = cost_records()[0]
    (row,) = focus_rows([record])
    assert row["ProviderName"] == row["PublisherName"] == row["InvoiceIssuerName"] == "OpenAI"
    assert row["ServiceName"] == "OpenAI API"
    assert row["ServiceSubcategory"] == "Generative AI"
    assert row["ChargeCategory"] == "Usage" and row["ChargeFrequency"] == "Usage-Based"
    assert row["ChargeClass"] is None
    assert row["ChargePeriodStart"] == NOV and row["ChargePeriodEnd"] == NOV + DAY
    assert row["BillingPeriodStart"] == NOV
    assert row["BillingPeriodEnd"] == datetime(2026, 12, 1, tzinfo=UTC)
    assert row["BillingAccountId"] == "openai"  # no organization on the record
    assert row["SubAccountId"] == "proj_a" and row["SubAccountType"] == "Project"
    assert row["ConsumedQuantity"] == Decimal("1234.5") and row["ConsumedUnit"] == "1000 Tokens"
    assert row["PricingQuantity"] == Decimal("1234.5") and row["PricingUnit"] == "1000 Tokens"
    assert row["SkuId"] == row["SkuMeter"] == row["ChargeDescription"] == "gpt-4o, input"
    assert json.loads(row["Tags"]) == {
        "usagekit/project_id": "proj_a",
        "usagekit/line_item": "gpt-4o, input",
        "openai/quantity": "1234.5",
        "openai/quantity_unit": "1000_tokens",
    }
    assert row["x_Provider"] == "openai" and row["x_Source"] == "costs"
    assert row["x_LineItem"] == "gpt-4o, input" and row["x_Model"] is None


def test_basedash_billing_period_is_its_own_interval() -> None:
    member = cost_records()[2]
    (row,) = focus_rows([member])
    assert (
        row["BillingPeriodStart"] == row["ChargePeriodStart"] == datetime(2026, 10, 15, tzinfo=UTC)
    )
    assert row["BillingPeriodEnd"] == row["ChargePeriodEnd"] == datetime(2026, 11, 15, tzinfo=UTC)
    assert row["BillingAccountId"] == "org_bd" and row["BillingAccountType"] == "Organization"
    assert row["SubAccountId"] is None and row["SubAccountType"] is None
    assert row["ConsumedQuantity"] is None and row["ConsumedUnit"] is None
    assert row["PricingQuantity"] == Decimal(1) and row["PricingUnit"] == "Units"
    assert row["ChargeDescription"] == "Basedash ai_usage charge, user ana@example.com"
    assert row["ServiceName"] == "Basedash AI"
    assert json.loads(row["Tags"]) == {
        "usagekit/organization_id": "org_bd",
        "usagekit/user_id": "u_9",
        "usagekit/user_email": "ana@example.com",
        "basedash/member_id": "m_9",
    }
    assert row["x_UserEmail"] == "ana@example.com" and row["x_UserId"] == "u_9"


def test_negative_costs_stay_usage_charges() -> None:
    (row,) = focus_rows([cost_records()[3]])
    assert row["BilledCost"] == Decimal("-1.25") and row["ChargeCategory"] == "Usage"


@pytest.mark.parametrize(
    ("start", "end", "period"),
    [
        pytest.param(NOV, NOV + DAY, (NOV, datetime(2026, 12, 1, tzinfo=UTC)), id="day"),
        pytest.param(
            datetime(2026, 11, 30, 23, tzinfo=UTC),
            datetime(2026, 12, 1, tzinfo=UTC),
            (NOV, datetime(2026, 12, 1, tzinfo=UTC)),
            id="ends-at-month-end",
        ),
        pytest.param(
            datetime(2026, 12, 31, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
            (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
            id="december",
        ),
        pytest.param(
            NOV,
            datetime(2026, 12, 1, tzinfo=UTC),
            (NOV, datetime(2026, 12, 1, tzinfo=UTC)),
            id="whole-month",
        ),
        pytest.param(
            datetime(2026, 11, 30, tzinfo=UTC),
            datetime(2026, 12, 2, tzinfo=UTC),
            (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)),
            id="straddles",
        ),
    ],
)
def test_billing_period_rule(
    start: datetime, end: datetime, period: tuple[datetime, datetime]
) -> None:
    assert billing_period(start, end) == period


@pytest.mark.parametrize(
    ("raw", "unit"),
    [
        ("tokens", "Tokens"),
        ("1000_tokens", "1000 Tokens"),
        ("gibibyte_hours", "GiB-Hours"),
        ("requests", "Requests"),
        ("GB", "GB"),
        ("images", "Images"),
        ("__", "Units"),
    ],
)
def test_units_in_focus_unit_format(raw: str, unit: str) -> None:
    assert focus_unit(raw) == unit


@pytest.mark.parametrize(
    ("provider", "name"),
    [
        ("openai", "OpenAI"),
        ("basedash", "Basedash"),
        ("unsiloed", "Unsiloed"),
        ("daramex", "Daramex"),
        ("acme_ai", "Acme Ai"),
    ],
)
def test_display_names(provider: str, name: str) -> None:
    assert display_name(provider) == name


def test_unknown_provider_row() -> None:
    record = UsageRecord(
        provider="acme_ai",
        source="bills",
        start=NOV,
        end=NOV + DAY,
        metric="cost",
        quantity=Decimal("3"),
        unit="GBP",
        model="m-1",
    )
    (row,) = focus_rows([record])
    check_row(row)
    assert row["ProviderName"] == row["ServiceName"] == "Acme Ai"
    assert row["ServiceSubcategory"] == "Other (AI and Machine Learning)"
    assert row["SkuId"] == "m-1" and row["SkuMeter"] == "Model usage"
    assert row["ChargeDescription"] == "Acme Ai bills charge, model m-1"
    assert row["Tags"] == '{"usagekit/model":"m-1"}'


def test_a_cost_without_any_tag_has_null_tags() -> None:
    record = UsageRecord(
        provider="openai",
        source="costs",
        start=NOV,
        end=NOV + DAY,
        metric="cost",
        quantity=Decimal("1"),
        unit="USD",
    )
    (row,) = focus_rows([record])
    check_row(row)
    assert row["Tags"] is None
    assert row["SkuId"] == "costs" and row["SkuMeter"] == "Usage"


def test_bad_quantity_attribute_is_an_export_error() -> None:
    record = cost_records()[0].model_copy(update={"attributes": {"quantity": "lots"}})
    with pytest.raises(ExportError, match="not a finite decimal"):
        list(focus_rows([record]))


# -- files -----------------------------------------------------------------------------------


def test_focus_csv(tmp_path: Path) -> None:
    records = sample_records()
    path = tmp_path / "focus.csv"
    expected = list(focus_rows(records))
    assert write_focus_csv(records, path) == len(expected)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == FOCUS_COLUMNS
        rows = list(reader)
    assert len(rows) == len(expected)
    for text, row in zip(rows, expected, strict=True):
        for column, value in row.items():
            if value is None:
                assert text[column] == "", column
            elif isinstance(value, Decimal):
                assert Decimal(text[column]) == value and "E" not in text[column]
            elif isinstance(value, datetime):
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", text[column])
                assert datetime.fromisoformat(text[column].replace("Z", "+00:00")) == value
            else:
                assert text[column] == value, column


def test_focus_csv_to_a_stream_keeps_empty_strings_quoted() -> None:
    out = io.StringIO()
    assert write_focus_csv(sample_records(), out) == len(cost_records())
    assert ',"",' in out.getvalue()  # the Daramex record's empty user e-mail (x_UserEmail)


def test_focus_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    records = [r for r in sample_records() if r.quantity != FLOAT_TAIL]
    path = tmp_path / "focus.parquet"
    expected = list(focus_rows(records))
    assert write_focus_parquet(records, path, batch_size=2) == len(expected)
    table = pq.read_table(path)
    assert tuple(table.schema.names) == FOCUS_COLUMNS
    assert table.schema.metadata[b"FocusVersion"] == b"1.2"
    for column in FOCUS_COLUMNS:
        arrow_type = table.schema.field(column).type
        data_type = SPEC_1_2[column][1] if column in SPEC_1_2 else "String"
        if data_type == "Decimal":
            assert arrow_type == pa.decimal128(38, 18), column
        elif data_type == "DateTime":
            assert arrow_type == pa.timestamp("us", tz="UTC"), column
        else:
            assert arrow_type == pa.string(), column
        if column in SPEC_1_2 and not SPEC_1_2[column][2]:
            assert not table.schema.field(column).nullable, column
    back = table.to_pylist()
    assert len(back) == len(expected)
    for got, want in zip(back, expected, strict=True):
        for column, value in want.items():
            assert got[column] == value, column


def test_focus_parquet_refuses_to_round(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "focus.parquet"
    with pytest.raises(ExportError, match=r"BilledCost .* does not fit"):
        write_focus_parquet(sample_records(), path)
    assert not path.exists()


def test_focus_parquet_needs_pyarrow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ConfigError, match=r"pip install 'usagekit\[parquet\]'"):
        write_focus_parquet(sample_records(), tmp_path / "focus.parquet")
