"""Records and tables for the column paths' tests: every corner a column path could miss.

Shared by the export tests (``tests/export/test_table_exports.py``) and the totals tests
(``tests/report/test_table_totals.py``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import strategies as st

from usagekit import LEVEL, ExportError, UsageRecord, UsageReport
from usagekit._core.table import RecordTable

from ._data import NOV, UTC, many_records, sample_records

HOSTILE = ['odd, "quoted"\nsource', 'line "1", Ünïcødé ✓\r\nnext', "", " spaced ", "a\rb", "\x00"]


def make_record(**fields: Any) -> UsageRecord:
    """A valid record: an hour of OpenAI input tokens, with ``fields`` changed."""
    values: dict[str, Any] = {
        "provider": "openai",
        "source": "completions",
        "start": NOV,
        "end": NOV + timedelta(hours=1),
        "metric": "input_tokens",
        "quantity": Decimal(1),
        "unit": "tokens",
    }
    values.update(fields)
    return UsageRecord(**values)


def corner_records() -> list[UsageRecord]:
    """Records for every corner a column path could get wrong."""
    records = [*sample_records(), *many_records(30)]
    for index, quantity in enumerate(
        [
            Decimal(2**63 - 1),
            Decimal(-(2**63)),
            Decimal(2**63),  # just past int64: kept as a Decimal
            Decimal(2**70),
            Decimal("-0"),
            Decimal("5.0"),
            Decimal("1E+3"),
            Decimal("0.000000000000000001"),
        ]
    ):
        records.append(make_record(metric=f"m{index}", quantity=quantity, model=HOSTILE[index % 6]))
    # one result's records whose attributes differ only in what is not part of the id
    for index, text in enumerate(["1.5", "2", "0.5"]):
        records.append(
            make_record(
                source="costs",
                metric="cost",
                unit=["USD", "EUR", "USD"][index],
                quantity=Decimal(text) if index < 2 else Decimal("0.25"),
                line_item="gpt-4o, input",
                attributes={"quantity": text, "quantity_unit": 'x,"y"', "batch": "true"},
            )
        )
    records.append(
        make_record(
            source="costs",
            metric="cost",
            unit="USD",
            quantity=Decimal("3"),
            attributes={"charge_model": "gpt-4o", "charge_kind": "input"},
        )
    )
    # levels: a series over time (two values ending at once: the first one counts)
    for start, end, amount in [(0, 1, 5), (2, 3, 7), (1, 2, 9), (0, 3, 11), (2, 3, 13)]:
        records.append(
            make_record(
                provider="unsiloed",
                source="get_usage",
                start=NOV + timedelta(hours=start),
                end=NOV + timedelta(hours=end),
                metric="credits_remaining",
                unit="credits",
                kind=LEVEL,
                quantity=Decimal(amount),
                organization_id="org",
            )
        )
    return records


def merged_table(records: list[UsageRecord]) -> RecordTable:
    """The records as a report holds them: pages extended one after another, repeats merged."""
    table = RecordTable()
    half = len(records) // 2
    table.extend(RecordTable.from_records(records[:half]))
    table.extend(RecordTable.from_records(records[half:]))
    # the first half again with other values (and, not being part of the id, another
    # "quantity" attribute): repeats are merged where they first were
    changed = [
        UsageRecord.model_validate(
            {
                **r.model_dump(),
                "quantity": r.quantity + 1,
                "attributes": {**r.attributes, "quantity": "2"},
            }
        )
        for r in records[: half // 2]
    ]
    table.extend(RecordTable.from_records(changed))
    return table


def tables() -> list[Any]:
    records = corner_records()
    return [
        pytest.param(RecordTable.from_records(records), id="plain"),
        pytest.param(merged_table(records), id="merged"),
        pytest.param(UsageReport.from_records([*records, *records[:5]]).records, id="report"),
        pytest.param(RecordTable(), id="empty"),
    ]


def as_records(table: RecordTable) -> Iterable[UsageRecord]:
    """The same records, as the one-by-one path gets them (a generator)."""
    return (record for record in list(table))


def text_output(
    write: Callable[[Iterable[UsageRecord], Any], int], records: Any
) -> tuple[Any, str]:
    """What a writer writes to a stream, and its count or the error it raised."""
    out = io.StringIO()
    try:
        count: Any = write(records, out)
    except ExportError as exc:
        count = str(exc)
    return count, out.getvalue()


BASE = datetime(2026, 11, 1, tzinfo=UTC)
texts = st.one_of(st.none(), st.sampled_from(HOSTILE), st.text(max_size=4))
quantities = st.one_of(
    st.integers(0, 10**6),
    st.integers(-(2**70), 2**70),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, max_value=10**9),
    st.sampled_from(["5.0", "-0", "1E+3", "0.000000000000000000001"]).map(Decimal),
).map(lambda value: value if isinstance(value, Decimal) else Decimal(value))
hypothesis_records = st.builds(
    lambda provider, hour, width, metric, quantity, kind, project, email, model, attributes: (
        UsageRecord(
            provider=provider,
            source="src",
            start=BASE + timedelta(hours=hour),
            end=BASE + timedelta(hours=hour + width),
            metric=metric,
            quantity=quantity,
            unit="USD" if metric == "cost" else "tokens",
            kind="flow" if metric == "cost" else kind,
            project_id=project,
            user_email=email,
            model=model,
            attributes=attributes,
        )
    ),
    st.sampled_from(["openai", "anthropic", "openrouter"]),
    st.integers(0, 30),
    st.sampled_from([1, 24, 24 * 40]),
    st.sampled_from(["input_tokens", "output_tokens", "cost"]),
    quantities,
    st.sampled_from(["flow", "level"]),
    texts,
    texts,
    st.sampled_from([None, "gpt-4o", "anthropic/claude-sonnet-4", ""]),
    st.dictionaries(
        st.sampled_from(["batch", "quantity", "quantity_unit", "charge_model", "provider_name"]),
        st.sampled_from(["true", "1", "2", "", 'x,"y"\n', "gpt-4o"]),
        max_size=3,
    ),
)
