"""Bodies and helpers shared by the OpenRouter tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import usagekit

UTC = timezone.utc
NOW = datetime(2026, 9, 2, 10, 30, tzinfo=UTC)
"""The clock of these tests: the available days are 2026-08-03 to 2026-09-01."""
KEY = "sk-or-v1-" + "ab" * 32
BASE = "https://openrouter.ai/api/v1"
ACTIVITY = f"{BASE}/activity"
CREDITS = f"{BASE}/credits"


def item(**changes: Any) -> dict[str, Any]:
    """An activity row (the documented example's first row), with changes."""
    row: dict[str, Any] = {
        "date": "2026-09-01",
        "model": "anthropic/claude-sonnet-4.6",
        "model_permaslug": "anthropic/claude-sonnet-4.6",
        "endpoint_id": "0b6f3a52-7c1e-4a8e-9d1b-2f4c6e8a1b3d",
        "provider_name": "Amazon Bedrock",
        "usage": Decimal("1.84213"),
        "byok_usage_inference": 0,
        "requests": 42,
        "prompt_tokens": 381220,
        "completion_tokens": 26410,
        "reasoning_tokens": 0,
    }
    row.update(changes)
    return row


def second_item(**changes: Any) -> dict[str, Any]:
    """The documented example's second row (BYOK spend), with changes."""
    row = {
        "model": "openai/gpt-4.1",
        "model_permaslug": "openai/gpt-4.1-2025-04-14",
        "endpoint_id": "550e8400-e29b-41d4-a716-446655440000",
        "provider_name": "OpenAI",
        "usage": Decimal("0.0321"),
        "byok_usage_inference": Decimal("0.412"),
        "requests": 9,
        "prompt_tokens": 15020,
        "completion_tokens": 3110,
        "reasoning_tokens": 640,
    }
    row.update(changes)
    return item(**row)


@contextmanager
def pinned() -> Iterator[None]:
    """usagekit's clock at :data:`NOW`."""
    with usagekit.pin_clock(NOW):
        yield
