"""The usagekit command, run as a user runs it: against the sandbox, and as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import usagekit
from usagekit._cli import main
from usagekit._providers import PROVIDERS
from usagekit.sandbox import serve
from usagekit.sandbox._emulators.anthropic import AnthropicData
from usagekit.sandbox._emulators.openrouter import OpenRouterData

UTC = timezone.utc
NOW = datetime(2026, 10, 20, 9, 30, tzinfo=UTC)
WINDOW = ["--since", "2026-10-01", "--until", "2026-10-15"]
ENV_NAMES = [
    "OPENAI_ADMIN_KEY", "BASEDASH_API_KEY", "BASEDASH_ORG_ID", "UNSILOED_API_KEY",
    "DARAMEX_TOKEN", "DARAMEX_ORG_ID", "OPENAI_BASE_URL", "BASEDASH_BASE_URL",
    "UNSILOED_BASE_URL", "DARAMEX_BASE_URL",
]  # fmt: skip


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with serve(seed=5, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox_env(sb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the command at the sandbox through the environment, as a user would, with
    usagekit's clock where the sandbox's stands (its world is at ``NOW``)."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in sb.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(usagekit.CLOCK_ENV, NOW.isoformat())
    with usagekit.pin_clock(NOW):
        yield sb


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "usagekit._cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_report_demo_as_a_subprocess() -> None:
    result = _run("report", "--demo")
    assert result.returncode == 0, result.stderr
    for provider in (*PROVIDERS, "total"):
        assert provider in result.stdout
    assert "\r" not in result.stderr  # no progress display when stderr is not a terminal


def test_the_installed_console_script_runs() -> None:
    script = Path(sys.executable).with_name("usagekit")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == f"usagekit {usagekit.__version__}"


def test_json_report_equals_the_sandbox_ground_truth(
    sandbox_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *WINDOW, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    data = sandbox_env.data
    openai = sum(data.openai_cost_totals("2026-10-01", "2026-10-15").values(), Decimal(0))
    _, daramex = data.daramex_totals("2026-10-01", "2026-10-15")
    anthropic = AnthropicData.for_sandbox(data).cost_total("2026-10-01", "2026-10-15")
    openrouter = OpenRouterData(data).truth("2026-10-01", "2026-10-15")["cost"]
    expected = openai + daramex + data.basedash_period(NOW).total + anthropic + openrouter
    assert Decimal(document["total_cost"]["USD"]) == expected
    assert {p["provider"] for p in document["providers"] if p["ok"]} == set(PROVIDERS)


def test_csv_report_by_model(sandbox_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *WINDOW, "--by", "provider,model", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "provider,model,metric,unit,quantity"
    assert any(line.startswith("daramex,") and ",cost,USD," in line for line in lines)


def test_one_provider_down_exits_1_with_the_rest_written(
    sandbox_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASEDASH_API_KEY", "wrong")
    assert main(["report", *WINDOW, "--format", "json"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    failed = {p["provider"] for p in document["providers"] if not p["ok"]}
    assert failed == {"basedash"}
    assert "basedash failed" in captured.err and "AuthenticationError" in captured.err
    assert Decimal(document["total_cost"]["USD"]) > 0


def test_a_missing_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    assert main(["report", "--provider", "daramex"]) == 2
    assert "DARAMEX_TOKEN and DARAMEX_ORG_ID" in capsys.readouterr().err
    assert main(["report"]) == 2
    assert "--demo" in capsys.readouterr().err


def test_a_bad_window_is_a_usage_error(
    sandbox_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--since", "2026-10-15", "--until", "2026-10-01"]) == 2
    assert "--since must be before --until" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fmt", "reader"),
    [
        ("csv", usagekit.read_csv),
        ("jsonl", usagekit.read_jsonl),
        ("parquet", usagekit.read_parquet),
    ],
)
def test_export_round_trips_every_record(
    sandbox_env: Any, tmp_path: Path, fmt: str, reader: Any
) -> None:
    pytest.importorskip("pyarrow") if fmt == "parquet" else None
    target = tmp_path / f"usage.{fmt}"
    assert main(["export", *WINDOW, "--format", fmt, "-o", str(target)]) == 0
    exported = list(reader(target))
    expected = usagekit.collect(sandbox_env.clients(), "2026-10-01", "2026-10-15")
    assert sorted(exported, key=lambda r: r.id) == sorted(expected.records, key=lambda r: r.id)


def test_export_focus_has_the_focus_columns(sandbox_env: Any, tmp_path: Path) -> None:
    target = tmp_path / "focus.csv"
    assert main(["export", *WINDOW, "--format", "focus", "-o", str(target)]) == 0
    header = target.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert tuple(header) == usagekit.FOCUS_COLUMNS


def test_parquet_needs_an_output_file(sandbox_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "parquet"]) == 2
    assert "-o FILE" in capsys.readouterr().err


def test_verbose_logging_never_shows_a_key(
    sandbox_env: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["-vv", "report", *WINDOW, "--provider", "openai"]) == 0
    err = capfd.readouterr().err
    assert "usagekit" in err and sandbox_env.keys.openai_admin_key not in err


def test_demo_sync_then_report_from_the_store(tmp_path: Path) -> None:
    db = tmp_path / "usage.sqlite"
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    since = (usagekit.utcnow() - timedelta(days=20)).date().isoformat()  # any day of the year
    synced = _run("sync", "--demo", "--db", str(db), "--since", since, env=env)
    assert synced.returncode == 0, synced.stderr
    result = _run("report", "--db", str(db), "--since", since, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert Decimal(json.loads(result.stdout)["total_cost"]["USD"]) > 0


def test_an_unwritable_output_fails_before_fetching(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "--demo", "-o", "/nonexistent-folder/report.txt"])
    assert code == 2
    assert "cannot write /nonexistent-folder/report.txt" in capsys.readouterr().err
