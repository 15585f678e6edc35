"""The command as people expect it: shortcuts, help, errors in the user's own words, Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import usagekit
from usagekit._cli import _commands, _fetch, main
from usagekit._providers import PROVIDERS
from usagekit.sandbox import serve

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T12:00:30Z"
PROVIDER_VARIABLES = [v for info in PROVIDERS.values() for s in info.settings for v in s.env]


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(usagekit.CLOCK_ENV, NOW)
    with usagekit.pin_clock(NOW):
        yield


@pytest.fixture
def nothing_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any fetch fail the test: these arguments must be refused before one."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fetched despite bad arguments")

    monkeypatch.setattr(_commands, "fetch", refuse)
    monkeypatch.setattr(_commands, "clients", refuse)


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_json_is_a_shortcut_with_the_real_end_and_each_rows_kind(
    pinned: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--demo", "--json"]) == 0
    short = json.loads(capsys.readouterr().out)
    assert main(["report", "--demo", "--format", "json"]) == 0
    long = json.loads(capsys.readouterr().out)
    assert short["totals"] == long["totals"]
    assert short["up_to_now"] is True
    assert short["end"] == "2026-11-20T12:00:30+00:00"  # the "now" of "up to now"
    kinds = {(row["metric"], row["kind"]) for row in short["totals"]}
    assert ("remaining_quota", "level") in kinds
    assert ("cost", "flow") in kinds
    assert main(["report", "--demo", "--json", "--until", "2026-11-10"]) == 0
    bounded = json.loads(capsys.readouterr().out)
    assert (bounded["end"], bounded["up_to_now"]) == ("2026-11-10T00:00:00+00:00", False)


def test_python_dash_m_usagekit_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "usagekit", "report", "--demo", "--json"],
        env={**os.environ, usagekit.CLOCK_ENV: NOW},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["start"] == "2026-11-01T00:00:00+00:00"


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_works_before_and_after_the_command(
    where: str, pinned: None, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["report", "--demo", "--provider", "unsiloed"]
    argv = ["-vv", *command] if where == "before" else [*command, "-vv"]
    assert main(argv) == 0
    assert "unsiloed GET /api/v1/org/get_usage -> 200" in capsys.readouterr().err


def test_help_lists_the_dimensions_and_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in ("canonical_model", "project", "user", "day", "attributes.<key>"):
        assert name in text
    assert "examples:" in text
    assert "usagekit report --since 2026-11-01 --until 2026-12-01 --by model --allocate" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2026-11-05", "--until", "2026-11-01"], "--since must be before --until"),
        (["--since", "2026-11-05", "--until", "2026-11-05"], "--since must be before --until"),
        (["--since", "yesterday"], "--since is not an ISO-8601"),
        (["--until", "soon"], "--until is not an ISO-8601"),
        (["--since", "2026-12-24"], "--since 2026-12-24 is in the future"),
        (["--demo", "--db", "usage.sqlite"], "--demo and --db contradict each other"),
    ],
)
@pytest.mark.parametrize("command", ["report", "export"])
def test_bad_windows_name_the_flags_and_stop_before_fetching(
    command: str,
    argv: list[str],
    message: str,
    pinned: None,
    nothing_fetched: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extra = ["--format", "csv"] if command == "export" else []
    assert main([command, *argv, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "start" not in err.replace("--since", "")  # the user's words, not internal names


def test_a_blank_variable_is_named(
    no_keys: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "   ")
    assert main(["report"]) == 2
    assert "OPENAI_ADMIN_KEY is set but empty" in capsys.readouterr().err


def test_a_half_configured_provider_names_what_is_missing(
    no_keys: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASEDASH_API_KEY", "bd_key")
    assert main(["report"]) == 2
    err = capsys.readouterr().err
    assert "BASEDASH_API_KEY is set but BASEDASH_ORG_ID is not" in err


def test_the_progress_line_fits_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        _fetch.shutil, "get_terminal_size", lambda fallback: os.terminal_size((60, 20))
    )
    stream = io.StringIO()
    line = _fetch.ProgressLine(stream)
    for provider in ("openai", "basedash", "unsiloed", "daramex"):
        line(usagekit.Progress(provider, "started", 0))
        line(usagekit.Progress(provider, "records", 123_456))
    line.finish()
    writes = stream.getvalue().split("\r\033[K")
    assert "\n" not in stream.getvalue()
    assert max(len(w) for w in writes) <= 59
    assert writes[-1] == ""  # gone when done


def test_ctrl_c_ends_within_a_second(tmp_path: Path) -> None:
    with serve(seed=3, latency=8.0) as slow:
        env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
        env.update(slow.env())
        child = subprocess.Popen(
            [sys.executable, "-m", "usagekit", "report"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # started, and waiting on its first (8-second) answers: its first connection is open
        # (however long the imports take on a loaded machine)
        server = slow._server
        assert server is not None
        deadline = time.monotonic() + 60
        while not server._connections and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert child.poll() is None
        began = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
        took = time.monotonic() - began
    assert child.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    assert took < 1.5


def test_ctrl_c_while_the_command_imports_ends_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # On a loaded machine Ctrl-C can come while the parser imports the sandbox and providers.
    from usagekit._cli import _main

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_main, "build_parser", interrupted)
    assert main(["report"]) == 130
    err = capsys.readouterr().err
    assert err == "usagekit: interrupted\n"
