"""The ``usagekit sandbox`` command, ``python -m usagekit.sandbox`` and the pytest plugin."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import httpx
import pytest

from usagekit.sandbox._command import add_arguments, run


def test_add_arguments_and_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.port, args.seed, args.fault_rate, args.rate_limit, args.now) == (
        8080,
        1,
        0.0,
        None,
        None,
    )
    args = parser.parse_args(
        [
            "--port",
            "0",
            "--seed",
            "3",
            "--fault-rate",
            "0.2",
            "--latency-ms",
            "15",
            "--rate-limit",
            "5",
            "--endless-cursor",
            "--now",
            "2026-04-15T12:00:00Z",
        ]
    )
    assert (args.seed, args.fault_rate, args.latency_ms, args.rate_limit, args.endless_cursor) == (
        3,
        0.2,
        15.0,
        5.0,
        True,
    )
    for bad in (
        ["--fault-rate", "2"],
        ["--rate-limit", "0"],
        ["--now", "soon"],
        ["--endless-cursor", "--cursor-cycle"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


def test_run_prints_urls_and_exports_and_serves_until_stopped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--seed", "4", "--now", "2026-04-15T12:00:00Z"])
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run(args, stop=stop)))
    thread.start()
    try:
        for _ in range(200):
            out = capsys.readouterr().out
            if "Ctrl-C" in out:
                break
            stop.wait(0.01)
        url = re.search(r"listening on (http://\S+)", out)
        assert url is not None, out
        for name in (
            "OPENAI_ADMIN_KEY",
            "BASEDASH_API_KEY",
            "BASEDASH_ORG_ID",
            "UNSILOED_API_KEY",
            "DARAMEX_TOKEN",
            "DARAMEX_ORG_ID",
        ):
            assert re.search(rf"^export {name}=\S+$", out, re.MULTILINE), name
        key = re.search(r"^export UNSILOED_API_KEY=(\S+)$", out, re.MULTILINE)
        assert key is not None
        response = httpx.get(
            url.group(1) + "/api/v1/org/get_usage", headers={"api-key": key.group(1)}
        )
        assert response.status_code == 200
    finally:
        stop.set()
        thread.join(5)
    assert result == [0]


def test_run_reports_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    from usagekit.sandbox import serve

    with serve() as sb:
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        assert run(parser.parse_args(["--port", str(sb.port)])) == 2
    assert "cannot start" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_python_m_serves_until_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "usagekit.sandbox", "--port", "0", "--now", "2026-04-15T12:00:00Z"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        url = re.search(r"OpenAI +base URL (\S+)", text)
        key = re.search(r"^export OPENAI_ADMIN_KEY=(\S+)$", text, re.MULTILINE)
        assert url and key, text
        response = httpx.get(
            url.group(1) + "/organization/usage/completions",
            params={"start_time": 1776211200},
            headers={"Authorization": f"Bearer {key.group(1)}"},
        )
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        process.kill()
        process.wait()


def test_pytest_plugin_fixtures_and_marker(tmp_path: Path) -> None:
    (tmp_path / "test_uses_sandbox.py").write_text(
        textwrap.dedent(
            """
            import sys

            import httpx
            import pytest

            # Collected before any fixture runs: the plugin alone must not load the sandbox.
            LOADED = sorted(m for m in sys.modules if m.startswith("usagekit.sandbox"))

            def test_plugin_import_is_cheap():
                assert LOADED == ["usagekit.sandbox", "usagekit.sandbox.pytest_plugin"]

            def usage(sb):
                return httpx.get(
                    sb.base_urls["unsiloed"] + "/org/get_usage",
                    headers={"api-key": sb.keys.unsiloed_api_key},
                )

            def test_shared(usagekit_sandbox, usagekit_sandbox_shared):
                assert usagekit_sandbox is usagekit_sandbox_shared
                assert usagekit_sandbox.seed == 9
                assert usage(usagekit_sandbox).status_code == 200
                usagekit_sandbox.configure(fault_rate=1.0)
                usagekit_sandbox.set_now("2020-01-01T00:00:00Z")

            def test_shared_is_reset(usagekit_sandbox):
                assert usagekit_sandbox.settings.fault_rate == 0.0
                assert usagekit_sandbox.stats.total_requests == 0
                assert not usagekit_sandbox.clock.fixed

            @pytest.mark.usagekit_sandbox(seed=3, fault_rate=1.0, fault_weights={"unavailable": 1})
            def test_marked(usagekit_sandbox, usagekit_sandbox_shared):
                assert usagekit_sandbox is not usagekit_sandbox_shared
                assert usagekit_sandbox.seed == 3
                assert usage(usagekit_sandbox).status_code == 503

            def test_factory(usagekit_sandbox_factory):
                one = usagekit_sandbox_factory(seed=5, now="2026-01-01T00:00:00Z")
                two = usagekit_sandbox_factory(seed=5, now="2026-01-01T00:00:00Z")
                assert one.port != two.port
                assert one.keys == two.keys
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nusagekit_sandbox_seed = 9\n")
    command = [sys.executable, "-m", "pytest", "-q", "--strict-markers", "-p", "no:cacheprovider"]
    installed = {ep.name for ep in importlib.metadata.entry_points(group="pytest11")}
    if "usagekit_sandbox" not in installed or os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        command += ["-p", "usagekit.sandbox.pytest_plugin"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
