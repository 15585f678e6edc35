"""Line items understood: a table of every documented form, and a parser that never raises."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit import CHARGE_KINDS, LineItem, anthropic_charge, parse_line_item
from usagekit._lineitems import charge_attributes

# (line item, model, charge, tier, detail, tool)
UNDERSTOOD: list[tuple[str, str | None, str, str | None, str | None, str | None]] = [
    ("gpt-4o-2024-08-06, input", "gpt-4o-2024-08-06", "input", None, None, None),
    ("gpt-4o-2024-08-06, cached input", "gpt-4o-2024-08-06", "cached_input", None, None, None),
    ("gpt-4o-2024-08-06, output", "gpt-4o-2024-08-06", "output", None, None, None),
    ("gpt-4o-mini-2024-07-18, batch input", "gpt-4o-mini-2024-07-18", "input", "batch", None, None),
    ("gpt-4o-mini-2024-07-18, batch cached input", "gpt-4o-mini-2024-07-18", "cached_input",
     "batch", None, None),
    ("gpt-4.1-2025-04-14, priority output", "gpt-4.1-2025-04-14", "output", "priority", None,
     None),
    ("o3-mini-2025-01-31, flex input", "o3-mini-2025-01-31", "input", "flex", None, None),
    ("gpt-4o, scale input", "gpt-4o", "input", "scale", None, None),
    ("gpt-4o, default input", "gpt-4o", "input", None, None, None),
    ("gpt-4o-mini-audio-preview-2024-12-17, audio input", "gpt-4o-mini-audio-preview-2024-12-17",
     "audio_input", None, None, None),
    ("gpt-4o-mini-audio-preview-2024-12-17, cached audio input",
     "gpt-4o-mini-audio-preview-2024-12-17", "cached_audio_input", None, None, None),
    ("gpt-4o-mini-audio-preview-2024-12-17, audio output", "gpt-4o-mini-audio-preview-2024-12-17",
     "audio_output", None, None, None),
    ("gpt-4o, input tokens", "gpt-4o", "input", None, None, None),
    ("gpt-4o, cache write", "gpt-4o", "cache_write", None, None, None),
    ("text-embedding-3-small, input", "text-embedding-3-small", "input", None, None, None),
    ("dall-e-3, images 1024x1024", "dall-e-3", "image", None, "1024x1024", None),
    ("gpt-image-1, images 1792x1792", "gpt-image-1", "image", None, "1792x1792", None),
    ("dall-e-3, hd images 1024x1792", "dall-e-3", "image", None, "1024x1792", None),
    ("dall-e-2, images", "dall-e-2", "image", None, None, None),
    ("tts-1, characters", "tts-1", "audio", None, "characters", None),
    ("whisper-1, audio", "whisper-1", "audio", None, "audio", None),
    ("ft:gpt-4o-mini-2024-07-18:acme::AbC123, input", "ft:gpt-4o-mini-2024-07-18:acme::AbC123",
     "input", None, None, None),
    ("  GPT-4o-2024-08-06 ,  Cached   Input ", "GPT-4o-2024-08-06", "cached_input", None, None,
     None),
    ("vector-stores, storage", None, "storage", None, None, "vector-stores"),
    ("file-search, tool calls", None, "tool_call", None, None, "file-search"),
    ("file search, tool calls", None, "tool_call", None, None, "file-search"),
    ("web-search, medium context", None, "tool_call", None, "medium", "web-search"),
    ("web-search, low context", None, "tool_call", None, "low", "web-search"),
    ("web-search, tool calls", None, "tool_call", None, None, "web-search"),
    ("code-interpreter, sessions", None, "tool_call", None, "sessions", "code-interpreter"),
    ("Code Interpreter sessions", None, "tool_call", None, "sessions", "code-interpreter"),
    ("File search tool calls", None, "tool_call", None, None, "file-search"),
    ("Vector store storage", None, "storage", None, None, "vector-stores"),
]  # fmt: skip

NOT_UNDERSTOOD = [
    "",
    "   ",
    "gpt-4o",  # no charge at all
    "gpt-4o, reasoning",  # a charge phrase no documented form has
    "gpt-4o, input, output",
    "my model, input",  # a space inside the model: not one id
    "web-search, huge context",
    "vector-stores, sessions",
    "Fine-tuning training",
    ", input",
    "gpt-4o; input",
]


@pytest.mark.parametrize(("text", "model", "charge", "tier", "detail", "tool"), UNDERSTOOD)
def test_documented_line_items_are_understood(
    text: str,
    model: str | None,
    charge: str,
    tier: str | None,
    detail: str | None,
    tool: str | None,
) -> None:
    item = parse_line_item(text)
    assert item == LineItem(text, model, charge, tier, detail, tool)  # type: ignore[arg-type]
    assert item.parsed and item.raw == text


@pytest.mark.parametrize("text", NOT_UNDERSTOOD)
def test_anything_else_stays_unparsed_never_guessed(text: str) -> None:
    item = parse_line_item(text)
    assert item == LineItem(text)
    assert not item.parsed and item.model is None and item.charge is None
    assert charge_attributes(item) == {}


def test_none_is_no_line_item() -> None:
    assert parse_line_item(None) is None
    assert charge_attributes(None) == {}


def test_charge_attributes_carry_what_was_understood() -> None:
    item = parse_line_item("gpt-4o-mini-2024-07-18, batch cached input")
    assert charge_attributes(item) == {
        "charge_kind": "cached_input",
        "charge_model": "gpt-4o-mini-2024-07-18",
        "charge_tier": "batch",
    }
    assert charge_attributes(parse_line_item("web-search, high context")) == {
        "charge_kind": "tool_call",
        "charge_detail": "high",
        "charge_tool": "web-search",
    }


@pytest.mark.parametrize(
    ("token_type", "cost_type", "expected"),
    [
        ("uncached_input_tokens", "tokens", "input"),
        ("cache_read_input_tokens", "tokens", "cached_input"),
        ("cache_creation.ephemeral_5m_input_tokens", "tokens", "cache_write"),
        ("cache_creation.ephemeral_1h_input_tokens", "tokens", "cache_write"),
        ("output_tokens", "tokens", "output"),
        (None, "web_search", "tool_call"),
        (None, "code_execution", "tool_call"),
        (None, "session_usage", "other"),
        ("some_new_token_type", "tokens", None),
        (None, "tokens", None),
        (None, None, None),
    ],
)
def test_anthropic_token_types_fit_the_same_charge_kinds(
    token_type: str | None, cost_type: str | None, expected: str | None
) -> None:
    assert anthropic_charge(token_type, cost_type) == expected
    assert expected is None or expected in CHARGE_KINDS


@given(st.one_of(st.none(), st.text(), st.text(alphabet=" ,-.:abcdinoptux0123456789")))
def test_the_parser_never_raises(text: Any) -> None:
    item = parse_line_item(text)
    if text is None:
        assert item is None
    else:
        assert item is not None and item.raw == text
        assert item.charge is None or item.charge in CHARGE_KINDS
        assert item.parsed or item.model is None


@given(st.from_regex(r"[a-z0-9][a-z0-9.\-]{0,30}", fullmatch=True), st.sampled_from(
    ["input", "cached input", "output", "batch input", "audio output"]
))  # fmt: skip
def test_any_model_id_with_a_known_charge_keeps_the_model_as_spelled(
    model: str, phrase: str
) -> None:
    item = parse_line_item(f"{model}, {phrase}")
    assert item is not None and item.model == model and item.parsed
