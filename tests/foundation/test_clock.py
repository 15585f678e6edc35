"""usagekit's one clock: the seam, its pins, and that nothing else reads the wall clock."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import usagekit

UTC = timezone.utc
SRC = Path(usagekit.__file__).resolve().parent
WALL_CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time)\(")


def test_nothing_but_the_seam_reads_the_wall_clock() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).as_posix() != "_core/clock.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == []


def test_pin_clock_fixes_nests_and_restores() -> None:
    before = usagekit.utcnow()
    with usagekit.pin_clock("2026-12-01T00:30Z"):
        assert usagekit.utcnow() == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
        assert usagekit.month_start() == datetime(2026, 12, 1, tzinfo=UTC)
        with usagekit.pin_clock(datetime(2028, 2, 29, 12, tzinfo=UTC)):
            assert usagekit.month_start() == datetime(2028, 2, 1, tzinfo=UTC)
        assert usagekit.utcnow() == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    assert usagekit.utcnow() - before < timedelta(minutes=5)


def test_a_ticking_pin_runs_on_from_its_instant() -> None:
    with usagekit.pin_clock("2026-11-30T23:59:59.9Z", tick=True):
        first = usagekit.utcnow()
        time.sleep(0.15)
        later = usagekit.utcnow()
    assert first >= datetime(2026, 11, 30, 23, 59, 59, 900000, tzinfo=UTC)
    assert later - first >= timedelta(milliseconds=100)
    assert later.month == 12  # the month turned while pinned


def test_a_pin_applies_to_every_thread() -> None:
    seen: list[datetime] = []
    with usagekit.pin_clock("2027-01-01T00:30Z"):
        worker = threading.Thread(target=lambda: seen.append(usagekit.utcnow()))
        worker.start()
        worker.join()
    assert seen == [datetime(2027, 1, 1, 0, 30, tzinfo=UTC)]


def test_a_bad_pin_is_a_config_error() -> None:
    with (
        pytest.raises(usagekit.ConfigError, match="at is not an ISO-8601"),
        usagekit.pin_clock("tomorrow"),
    ):
        pass


def _child_now(env_value: str) -> subprocess.CompletedProcess[str]:
    code = "import usagekit; print(usagekit.utcnow().isoformat())"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"USAGEKIT_NOW": env_value, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_environment_starts_a_process_clock_there() -> None:
    done = _child_now("2026-03-08T07:30:00Z")
    assert done.returncode == 0, done.stderr
    moment = datetime.fromisoformat(done.stdout.strip())
    assert timedelta(0) <= moment - datetime(2026, 3, 8, 7, 30, tzinfo=UTC) < timedelta(seconds=30)


def test_a_malformed_environment_clock_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(usagekit.CLOCK_ENV, "the 1st of December")
    monkeypatch.setattr("usagekit._core.clock._pinned", None)  # the date sweep pins it: unpin
    with pytest.raises(usagekit.ConfigError, match="USAGEKIT_NOW is not an ISO-8601"):
        usagekit.utcnow()


def test_the_sandbox_reads_the_same_clock() -> None:
    from usagekit.sandbox import serve

    with usagekit.pin_clock("2026-12-01T07:00Z"), serve(seed=3) as sb:
        assert sb.data.now() == datetime(2026, 12, 1, 7, tzinfo=UTC)
        assert sb.data.basedash_period().start == datetime(2026, 12, 1, tzinfo=UTC)
