"""One model name across providers: the rules, as a table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit import CanonicalModel, UsageReport, canonical_model

from ..report._fakes import rec

# (provider's model, provider, canonical name, vendor, family, snapshot, variant)
CASES = [
    ("gpt-4o-mini-2024-07-18", "openai", "openai/gpt-4o-mini", "openai", "gpt-4o-mini",
     "2024-07-18", None),
    ("openai/gpt-4o-mini", "daramex", "openai/gpt-4o-mini", "openai", "gpt-4o-mini", None, None),
    ("gpt-4o-mini", None, "openai/gpt-4o-mini", "openai", "gpt-4o-mini", None, None),
    ("claude-sonnet-4-20250514", "anthropic", "anthropic/claude-sonnet-4", "anthropic",
     "claude-sonnet-4", "20250514", None),
    ("anthropic/claude-sonnet-4", "daramex", "anthropic/claude-sonnet-4", "anthropic",
     "claude-sonnet-4", None, None),
    ("claude-3-5-sonnet-20241022", "anthropic", "anthropic/claude-3.5-sonnet", "anthropic",
     "claude-3.5-sonnet", "20241022", None),
    ("anthropic/claude-3.5-sonnet", "openrouter", "anthropic/claude-3.5-sonnet", "anthropic",
     "claude-3.5-sonnet", None, None),
    ("claude-sonnet-4-5", "anthropic", "anthropic/claude-sonnet-4.5", "anthropic",
     "claude-sonnet-4.5", None, None),
    ("claude-3-5-haiku-latest", None, "anthropic/claude-3.5-haiku", "anthropic",
     "claude-3.5-haiku", "latest", None),
    ("o3-mini-2025-01-31", "openai", "openai/o3-mini", "openai", "o3-mini", "2025-01-31", None),
    ("o3", None, "openai/o3", "openai", "o3", None, None),
    ("gpt-4o-mini-audio-preview-2024-12-17", "openai", "openai/gpt-4o-mini-audio-preview",
     "openai", "gpt-4o-mini-audio-preview", "2024-12-17", None),
    ("ft:gpt-4o-mini-2024-07-18:acme::AbC123", "openai", "openai/gpt-4o-mini", "openai",
     "gpt-4o-mini", "2024-07-18", "fine-tuned"),
    ("meta-llama/llama-3.3-70b-instruct:free", "openrouter", "meta/llama-3.3-70b-instruct",
     "meta", "llama-3.3-70b-instruct", None, "free"),
    ("meta/llama-3.3-70b", "daramex", "meta/llama-3.3-70b", "meta", "llama-3.3-70b", None, None),
    ("google/gemini-2.5-flash", "daramex", "google/gemini-2.5-flash", "google",
     "gemini-2.5-flash", None, None),
    ("gemini-2.5-flash", None, "google/gemini-2.5-flash", "google", "gemini-2.5-flash", None,
     None),
    ("text-embedding-3-small", "openai", "openai/text-embedding-3-small", "openai",
     "text-embedding-3-small", None, None),
    ("openai/text-embedding-3-small", "daramex", "openai/text-embedding-3-small", "openai",
     "text-embedding-3-small", None, None),
    ("voyage/voyage-3-lite", "daramex", "voyage/voyage-3-lite", "voyage", "voyage-3-lite", None,
     None),
    ("mystery-model-7", "daramex", "mystery-model-7", None, "mystery-model-7", None, None),
    ("mystery-model-7", "openai", "openai/mystery-model-7", "openai", "mystery-model-7", None,
     None),
    ("GPT-4O-2024-08-06", "openai", "openai/gpt-4o", "openai", "gpt-4o", "2024-08-06", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "provider", "name", "vendor", "family", "snapshot", "variant"), CASES
)
def test_canonical_rules(
    model: str,
    provider: str | None,
    name: str,
    vendor: str | None,
    family: str,
    snapshot: str | None,
    variant: str | None,
) -> None:
    found = canonical_model(model, provider)
    assert found == CanonicalModel(vendor, family, snapshot, variant)
    assert found.name == name == str(found)


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_no_model_has_no_canonical_name(blank: str | None) -> None:
    assert canonical_model(blank) is None


@given(st.text())
def test_canonical_model_never_raises(text: str) -> None:
    found = canonical_model(text)
    assert found is None or found.family


def test_by_canonical_model_merges_providers_and_keeps_their_own_strings() -> None:
    records = [
        rec("openai", "input_tokens", "100", model="gpt-4o-mini-2024-07-18"),
        rec("daramex", "total_tokens", "40", model="openai/gpt-4o-mini"),
        rec("daramex", "cost", "0.25", model="openai/gpt-4o-mini"),
        rec("openai", "cost", "1.50", line_item="gpt-4o-mini-2024-07-18, input",
            attributes={"charge_kind": "input", "charge_model": "gpt-4o-mini-2024-07-18"}),
        rec("daramex", "cost", "2.00", model="anthropic/claude-sonnet-4"),
    ]  # fmt: skip
    report = UsageReport.from_records(records)
    assert report.cost_by("canonical_model") == {
        "openai/gpt-4o-mini": {"USD": records[2].quantity + records[3].quantity},
        "anthropic/claude-sonnet-4": {"USD": records[4].quantity},
    }
    assert report.tokens_by("canonical_model") == {"openai/gpt-4o-mini": 140}
    assert {t.group for t in report.totals("model_snapshot")} == {("2024-07-18",), (None,)}
    assert {r.model for r in report} == {
        "gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini", "anthropic/claude-sonnet-4", None
    }  # fmt: skip
