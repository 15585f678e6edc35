"""The command with Anthropic's and OpenRouter's environment variables, against the sandbox.

Only the fallback names are set (``ANTHROPIC_ADMIN_API_KEY``, ``OPENROUTER_API_KEY``), as a
user following the providers' own examples would: the command finds them, reads the sandbox
over loopback HTTP and reports the emulators' ground truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

import usagekit
from usagekit._cli import main
from usagekit._providers import PROVIDERS
from usagekit.sandbox import Sandbox, serve
from usagekit.sandbox._emulators.anthropic import AnthropicData
from usagekit.sandbox._emulators.openrouter import OpenRouterData

UTC = timezone.utc
NOW = datetime(2026, 10, 20, 9, 30, tzinfo=UTC)
SINCE, UNTIL = "2026-10-01", "2026-10-15"
WINDOW = ["--since", SINCE, "--until", UNTIL, "--format", "json"]
EVERY_VARIABLE = sorted(
    {name for info in PROVIDERS.values() for s in info.settings for name in s.env}
    | {info.base_url_env for info in PROVIDERS.values()}
)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with serve(seed=9, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture
def env(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No provider variable set at all; usagekit's clock where the sandbox's world stands."""
    for name in EVERY_VARIABLE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(usagekit.CLOCK_ENV, NOW.isoformat())
    sb.reset()
    with usagekit.pin_clock(NOW):
        yield monkeypatch
    assert sb.stats.internal_errors == []


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(["report", *argv])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def anthropic_cost(sb: Sandbox) -> Decimal:
    return AnthropicData.for_sandbox(sb.data).cost_total(SINCE, UNTIL)


def openrouter_cost(sb: Sandbox) -> Decimal:
    return OpenRouterData(sb.data).truth(SINCE, UNTIL)["cost"]


def test_anthropic_with_only_the_fallback_key_name(
    sb: Sandbox, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ANTHROPIC_ADMIN_API_KEY", sb.keys.anthropic_admin_key)
    env.setenv("ANTHROPIC_BASE_URL", sb.base_urls["anthropic"])
    code, document, err = report(capsys, "--provider", "anthropic", *WINDOW)
    assert code == 0, err
    assert [(p["provider"], p["ok"]) for p in document["providers"]] == [("anthropic", True)]
    assert Decimal(document["total_cost"]["USD"]) == anthropic_cost(sb) > 0
    assert sb.stats.total_requests > 0  # it did ask the sandbox

    # Without --provider, the provider whose keys are set is the one used.
    code, document, err = report(capsys, *WINDOW)
    assert code == 0, err
    assert [p["provider"] for p in document["providers"]] == ["anthropic"]
    assert Decimal(document["total_cost"]["USD"]) == anthropic_cost(sb)


def test_the_documented_anthropic_name_wins_over_the_fallback(
    sb: Sandbox, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ANTHROPIC_BASE_URL", sb.base_urls["anthropic"])
    env.setenv("ANTHROPIC_ADMIN_API_KEY", sb.keys.anthropic_admin_key)
    env.setenv("ANTHROPIC_ADMIN_KEY", sb.keys.anthropic_api_key)  # a normal key: refused
    code, document, err = report(capsys, "--provider", "anthropic", *WINDOW)
    assert code == 1
    assert [(p["provider"], p["ok"]) for p in document["providers"]] == [("anthropic", False)]
    assert "PermissionDeniedError" in err and "Admin" in err
    assert sb.keys.anthropic_api_key not in err + json.dumps(document)  # never shown


def test_openrouter_with_only_openrouter_api_key(
    sb: Sandbox, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("OPENROUTER_API_KEY", sb.keys.openrouter_management_key)
    env.setenv("OPENROUTER_BASE_URL", sb.base_urls["openrouter"])
    code, document, err = report(capsys, "--provider", "openrouter", *WINDOW)
    assert code == 0, err
    assert [(p["provider"], p["ok"]) for p in document["providers"]] == [("openrouter", True)]
    assert Decimal(document["total_cost"]["USD"]) == openrouter_cost(sb) > 0
    activity = sum(n for (p, e, _), n in sb.stats.requests.items() if e == "activity")
    assert activity == 14  # one request per day of the window


def test_a_normal_key_in_openrouter_api_key_gets_the_management_hint(
    sb: Sandbox, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("OPENROUTER_API_KEY", sb.keys.openrouter_api_key)
    env.setenv("OPENROUTER_BASE_URL", sb.base_urls["openrouter"])
    code, document, err = report(capsys, "--provider", "openrouter", *WINDOW)
    assert code == 1
    assert [(p["provider"], p["ok"]) for p in document["providers"]] == [("openrouter", False)]
    assert "PermissionDeniedError" in err and "management" in err
    assert sb.keys.openrouter_api_key not in err + json.dumps(document)


def test_both_new_providers_together_give_the_sum(
    sb: Sandbox, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ANTHROPIC_ADMIN_API_KEY", sb.keys.anthropic_admin_key)
    env.setenv("ANTHROPIC_BASE_URL", sb.base_urls["anthropic"])
    env.setenv("OPENROUTER_API_KEY", sb.keys.openrouter_management_key)
    env.setenv("OPENROUTER_BASE_URL", sb.base_urls["openrouter"])
    code, document, err = report(
        capsys, "--provider", "anthropic", "--provider", "openrouter", *WINDOW
    )
    assert code == 0, err
    assert {p["provider"] for p in document["providers"] if p["ok"]} == {"anthropic", "openrouter"}
    assert Decimal(document["total_cost"]["USD"]) == anthropic_cost(sb) + openrouter_cost(sb)


def test_help_lists_every_providers_variables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in EVERY_VARIABLE:
        assert name in text, name
    for info in PROVIDERS.values():
        assert f"{info.display_name}:" in text, info.name
    assert "ANTHROPIC_ADMIN_KEY (or ANTHROPIC_ADMIN_API_KEY)" in text
    assert "OPENROUTER_MANAGEMENT_KEY (or OPENROUTER_API_KEY)" in text
    assert len(PROVIDERS) == 6


def test_demo_shows_all_six_providers(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, err = report(capsys, "--demo", "--format", "json")
    assert code == 0, err
    shown = {p["provider"]: p["ok"] for p in document["providers"]}
    assert shown == dict.fromkeys(PROVIDERS, True)
    assert {"anthropic", "openrouter"} <= set(shown)
    assert Decimal(document["total_cost"]["USD"]) > 0
    code = main(["report", "--demo"])
    table = capsys.readouterr().out
    assert code == 0
    for provider in PROVIDERS:
        assert provider in table, provider
