"""UsageRecord: immutable, exact, aware UTC, with an id from everything but the quantity."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from usagekit import LEVEL, UsageRecord

UTC = timezone.utc
BASE: dict[str, Any] = {
    "provider": "openai",
    "source": "completions",
    "start": datetime(2026, 11, 1, tzinfo=UTC),
    "end": datetime(2026, 11, 2, tzinfo=UTC),
    "metric": "input_tokens",
    "quantity": Decimal(10),
    "unit": "tokens",
    "project_id": "proj_1",
    "model": "gpt-4o",
    "attributes": {"batch": "false"},
}


def test_same_fact_same_id_whatever_the_quantity() -> None:
    a = UsageRecord(**BASE)
    b = UsageRecord(**{**BASE, "quantity": Decimal(99)})
    assert a.id == b.id and len(a.id) == 48
    assert hash(a) == hash(b)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("provider", "basedash"),
        ("source", "embeddings"),
        ("start", datetime(2026, 10, 31, tzinfo=UTC)),
        ("end", datetime(2026, 11, 3, tzinfo=UTC)),
        ("metric", "output_tokens"),
        ("unit", "requests"),
        ("kind", LEVEL),
        ("organization_id", "org"),
        ("project_id", "proj_2"),
        ("project_id", None),
        ("user_id", "u"),
        ("user_email", "a@b.c"),
        ("api_key_id", "k"),
        ("model", "gpt-4o-mini"),
        ("line_item", "x"),
        ("attributes", {"batch": "true"}),
        ("attributes", {}),
    ],
)
def test_every_identifying_field_changes_the_id(field: str, value: Any) -> None:
    assert UsageRecord(**BASE).id != UsageRecord(**{**BASE, field: value}).id


def test_measure_attributes_do_not_change_the_id() -> None:
    cost = {**BASE, "metric": "cost", "unit": "USD", "attributes": {"quantity": "1000"}}
    corrected = {**cost, "quantity": Decimal("0.07"), "attributes": {"quantity": "1200"}}
    assert UsageRecord(**cost).id == UsageRecord(**corrected).id


def test_none_and_the_string_none_are_different_facts() -> None:
    assert (
        UsageRecord(**{**BASE, "user_id": None}).id != UsageRecord(**{**BASE, "user_id": "None"}).id
    )


def test_trusted_constructor_gives_the_validated_id() -> None:
    assert UsageRecord.trusted(**BASE).id == UsageRecord(**BASE).id


def test_round_trip_through_json_keeps_exact_decimal_and_id() -> None:
    record = UsageRecord(**{**BASE, "quantity": Decimal("0.1000000000000000055511151231257827")})
    again = UsageRecord.model_validate_json(record.model_dump_json())
    assert again == record and again.quantity == record.quantity


def test_naive_times_are_utc_and_records_are_frozen() -> None:
    record = UsageRecord(**{**BASE, "start": datetime(2026, 11, 1), "end": "2026-11-02T00:00:00Z"})
    assert record.start.tzinfo is UTC and record.end == BASE["end"]
    with pytest.raises(pydantic.ValidationError):
        record.quantity = Decimal(1)  # type: ignore[misc]


@pytest.mark.parametrize(
    "changes",
    [
        {"end": datetime(2026, 11, 1, tzinfo=UTC)},
        {"quantity": Decimal("NaN")},
        {"quantity": Decimal("Infinity")},
        {"metric": "cost", "unit": "usd"},
        {"metric": "cost", "unit": "DOLLARS"},
        {"metric": ""},
        {"id": "0" * 32},
        {"surprise": 1},
    ],
)
def test_invalid_records_are_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        UsageRecord(**{**BASE, **changes})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {
                "provider": "openai",
                "source": "completions",
                "metric": "input_tokens",
                "quantity": Decimal(5),
                "unit": "tokens",
                "project_id": "proj_a",
                "model": "gpt-4o",
                # the figure's own attributes and the derived ones are not part of the id
                "attributes": {"batch": "false", "quantity": "3", "charge_kind": "x"},
            },
            "5a98a2d949f5abb7e1d5719c6d65bf1560d683fdbf7aaddc",
        ),
        (
            {
                "provider": "anthropic",
                "source": "cost_report",
                "metric": "cost",
                "quantity": Decimal("1.25"),
                "unit": "USD",
                "line_item": "Claude Sonnet, input",
            },
            "9484b1a6cd3c67db85ace10a168834053eaeb1c4969e7ac3",
        ),
    ],
)
def test_record_ids_never_change(fields: dict[str, Any], expected: str) -> None:
    # ids key every stored record: a changed scheme would store a re-fetch beside its history
    day = datetime(2026, 11, 1, tzinfo=timezone.utc)
    record = UsageRecord(start=day, end=day.replace(day=2), **fields)
    assert record.id == expected
