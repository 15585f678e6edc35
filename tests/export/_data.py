"""Records that exercise every corner of the export formats."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from usagekit import LEVEL, UsageRecord

UTC = timezone.utc
DAY = timedelta(days=1)
NOV = datetime(2026, 11, 1, tzinfo=UTC)
FLOAT_TAIL = Decimal("0.1000000000000000055511151231257827")
"""The exact binary value of the float 0.1: 34 decimal places, too many for decimal128(38, 18)."""


def sample_records() -> list[UsageRecord]:
    """A mixed bag: usage, costs of several providers and currencies, levels, odd strings."""
    return [
        UsageRecord(
            provider="openai",
            source="completions",
            start=NOV,
            end=NOV + DAY,
            metric="input_tokens",
            quantity=Decimal(1234567),
            unit="tokens",
            project_id="proj_a",
            user_id="user_1",
            api_key_id="key_1",
            model="gpt-4o",
            attributes={"batch": "false", "service_tier": "default"},
        ),
        UsageRecord(
            provider="openai",
            source="costs",
            start=NOV,
            end=NOV + DAY,
            metric="cost",
            quantity=Decimal("12.345678"),
            unit="USD",
            project_id="proj_a",
            line_item="gpt-4o, input",
            attributes={"quantity": "1234.5", "quantity_unit": "1000_tokens"},
        ),
        UsageRecord(
            provider="openai",
            source="costs",
            start=NOV + DAY,
            end=NOV + 2 * DAY,
            metric="cost",
            quantity=Decimal("0.000001"),
            unit="USD",
            project_id="proj_b",
            line_item="vector store",
            attributes={"quantity": "3.25", "quantity_unit": "gibibyte_hours"},
        ),
        UsageRecord(
            provider="basedash",
            source="ai_usage",
            start=datetime(2026, 10, 15, tzinfo=UTC),
            end=datetime(2026, 11, 15, tzinfo=UTC),
            metric="cost",
            quantity=Decimal("41.50"),
            unit="USD",
            organization_id="org_bd",
            user_id="u_9",
            user_email="ana@example.com",
            attributes={"member_id": "m_9"},
        ),
        UsageRecord(
            provider="basedash",
            source="ai_usage",
            start=datetime(2026, 10, 15, tzinfo=UTC),
            end=datetime(2026, 11, 15, tzinfo=UTC),
            metric="cost",
            quantity=Decimal("-1.25"),
            unit="USD",
            organization_id="org_bd",
            attributes={"unattributed": "true"},
        ),
        UsageRecord(
            provider="unsiloed",
            source="get_usage",
            start=NOV,
            end=NOV + 30 * DAY,
            metric="credits_remaining",
            quantity=Decimal(5000),
            unit="credits",
            kind=LEVEL,
            organization_id="org_un",
        ),
        UsageRecord(
            provider="daramex",
            source="token_usage_logs",
            start=NOV + timedelta(hours=3, microseconds=250),
            end=NOV + timedelta(hours=4),
            metric="cost",
            quantity=FLOAT_TAIL,
            unit="EUR",
            organization_id="org_dx",
            model="dx-large",
            user_email="",
            attributes={"action": "user_interaction", "source": "byok"},
        ),
        UsageRecord(
            provider="acme_ai",
            source='odd, "quoted"\nsource',
            start=NOV,
            end=NOV + DAY,
            metric="requests",
            quantity=Decimal("1E+3"),
            unit="requests",
            project_id="",
            user_id=" spaced ",
            line_item='line "1", Ünïcødé ✓\r\nnext',
            attributes={"z": "", "a": 'x,"y"\n', "é": "ü"},
        ),
    ]


def many_records(count: int) -> Iterator[UsageRecord]:
    """Yield ``count`` distinct records lazily (half usage, half cost), built without storing."""
    for index in range(count):
        start = NOV + timedelta(hours=index % 720)
        cost = index % 2 == 0
        yield UsageRecord.trusted(
            provider="openai",
            source="costs" if cost else "completions",
            start=start,
            end=start + timedelta(hours=1),
            metric="cost" if cost else "input_tokens",
            quantity=Decimal(index) / 1000 if cost else Decimal(index),
            unit="USD" if cost else "tokens",
            project_id=f"proj_{index % 7}",
            user_id=f"user_{index}",
            model="gpt-4o",
            attributes={"n": str(index)},
        )


def cheap_records(count: int) -> Iterator[UsageRecord]:
    """Yield ``count`` distinct fresh records lazily, quickly (copies of two valid templates).

    Each is a new object with its own user, quantity and id (about 1 KB), so holding them all
    would show in memory; built by copying, it is several times faster than
    :func:`many_records` under tracemalloc.
    """
    usage, cost = (record for record in many_records(2))
    for index in range(count):
        template = cost if index % 2 == 0 else usage
        record = template.model_copy(
            update={"user_id": f"user_{index}", "quantity": Decimal(index) / 1000}
        )
        object.__setattr__(record, "id", record.compute_id())
        yield record


class SinglePass:
    """An iterable that may be walked once and has no length: list() or len() on it fails."""

    def __init__(self, records: Iterable[UsageRecord]) -> None:
        self._records = records
        self.walked = False

    def __iter__(self) -> Iterator[UsageRecord]:
        if self.walked:
            raise AssertionError("the records were iterated twice")
        self.walked = True
        yield from self._records

    def __len__(self) -> int:
        raise AssertionError("len() called on a stream of records")
