"""OpenRouter's dollars are JSON numbers: every digit survives, whatever the precision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from usagekit import OpenRouterActivity
from usagekit._core.transport import decode_body
from usagekit._core.wire import exact_sum
from usagekit._providers.openrouter._normalize import activity_records
from usagekit._providers.openrouter._requests import ActivityFilters

from .._support import dumps, total
from ._data import item, second_item

AMOUNTS = st.builds(
    lambda digits, exponent, negative: Decimal(f"{'-' if negative else ''}{digits}E{exponent}"),
    st.integers(min_value=0, max_value=10**40),
    st.integers(min_value=-60, max_value=6),
    st.booleans(),
)
"""Up to 41 significant digits, as small as 1e-60 dollars and as large as 1e46."""


@given(usage=AMOUNTS, byok=AMOUNTS, other=AMOUNTS)
def test_usage_is_exact_at_any_precision(usage: Decimal, byok: Decimal, other: Decimal) -> None:
    rows = [item(usage=usage, byok_usage_inference=byok), second_item(usage=other)]
    body = dumps({"data": rows}).encode()
    activity = decode_body(body, OpenRouterActivity, provider="openrouter", endpoint="activity")
    assert activity.data[0].usage == usage
    records = activity_records(activity, day=date(2026, 9, 1), filters=ActivityFilters())
    assert total(records, "cost") == exact_sum([usage, other])
    cost = [r.quantity for r in records if r.metric == "cost"]
    assert cost == [usage, other]
    assert next(r.quantity for r in records if r.metric == "byok_usage_inference") == byok


def test_extreme_text_is_kept_digit_for_digit() -> None:
    text = (
        b'{"data": ['
        + dumps(item())
        .replace("1.84213", "0.000000000000000000012345678901234567890123456789")
        .encode()
        + b"]}"
    )
    activity = decode_body(text, OpenRouterActivity, provider="openrouter", endpoint="activity")
    assert activity.data[0].usage == Decimal("0.000000000000000000012345678901234567890123456789")
    assert str(activity.data[0].usage) == "1.2345678901234567890123456789E-20"
