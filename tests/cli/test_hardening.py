"""The command under a careless user, a closed pipe and a full disk.

Subprocesses where the real behaviour matters (pipes, file size limits, Python's exit), and
``main([...])`` otherwise. Every argument is checked before anything is fetched: the tests
replace the fetch with one that fails, so a check done too late shows.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import usagekit
from tests._files import IS_ROOT, as_a_user, leftovers
from usagekit._cli import _commands, build_parser, main

NOW = "2026-10-20T09:30:00Z"
WINDOW = ["--since", "2026-10-01", "--until", "2026-10-15"]
ENV_NAMES = [
    "OPENAI_ADMIN_KEY", "BASEDASH_API_KEY", "BASEDASH_ORG_ID", "UNSILOED_API_KEY",
    "DARAMEX_TOKEN", "DARAMEX_ORG_ID", "OPENAI_BASE_URL", "BASEDASH_BASE_URL",
    "UNSILOED_BASE_URL", "DARAMEX_BASE_URL",
]  # fmt: skip


def _env() -> dict[str, str]:
    """The environment of a child: no keys, the clock pinned (the demo's data follow it)."""
    env = {k: v for k, v in os.environ.items() if k not in [*ENV_NAMES, "PYTHONUNBUFFERED"]}
    env[usagekit.CLOCK_ENV] = NOW
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "usagekit._cli", *args]


def _run(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    options.setdefault("timeout", 120)
    return subprocess.run(
        _command(*args), capture_output=True, text=True, env=_env(), check=False, **options
    )


def _quiet(stderr: str) -> None:
    for noise in ("Traceback", "Broken pipe", "Exception ignored", "BrokenPipeError"):
        assert noise not in stderr, stderr


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    """In-process runs see the same demo data as the children: the clock starts at NOW."""
    with usagekit.pin_clock(NOW, tick=True):
        yield


@pytest.fixture
def no_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command starts fetching (or opens the sandbox, or a store)."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("fetched before checking the arguments")

    monkeypatch.setattr(_commands, "fetch", refuse)
    monkeypatch.setattr(_commands, "clients", refuse)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


# -- a closed pipe -----------------------------------------------------------------------------


def test_export_piped_into_head_ends_quietly() -> None:
    """The issue's own line, in a shell with pipefail, so the exit code counts."""
    line = " ".join(_command("export", "--demo", "--format", "csv")) + " | head -2"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("id,provider,source,")
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "focus"])
def test_a_reader_that_leaves_early_ends_the_export_quietly(tmp_path: Path, fmt: str) -> None:
    errors = tmp_path / "stderr"
    with errors.open("w") as err:
        process = subprocess.Popen(
            _command("export", "--demo", "--format", fmt),
            stdout=subprocess.PIPE,
            stderr=err,
            env=_env(),
        )
        assert process.stdout is not None
        process.stdout.readline()  # the exports are megabytes: the writer is still going
        process.stdout.close()
        code = process.wait(timeout=120)
    assert code == 0
    assert errors.read_text() == ""


def test_a_reader_gone_before_the_final_flush_is_quiet(tmp_path: Path) -> None:
    """A small report is written at exit, after the reader closed: ``usagekit report | true``."""
    errors = tmp_path / "stderr"
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read
    with errors.open("w") as err:
        result = subprocess.run(
            _command("report", "--demo", "--provider", "unsiloed"),
            stdout=write_end,
            stderr=err,
            env=_env(),
            timeout=120,
            check=False,
        )
    os.close(write_end)
    assert result.returncode == 0
    _quiet(errors.read_text())
    assert errors.read_text() == ""


# -- a full disk: the previous export survives --------------------------------------------------


def _limit_file_size(size: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

    return apply


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("csv", "usage.csv"), ("jsonl", "usage.jsonl"), ("focus-parquet", "focus.parquet")],
)
def test_a_file_size_limit_keeps_the_previous_complete_export(
    tmp_path: Path, fmt: str, name: str
) -> None:
    pytest.importorskip("resource")
    if "parquet" in fmt:
        pytest.importorskip("pyarrow")
    target = tmp_path / name
    first = _run("export", "--demo", *WINDOW, "--provider", "basedash", "--format", fmt,
                 "-o", str(target))  # fmt: skip
    assert first.returncode == 0, first.stderr
    previous = target.read_bytes()
    assert previous  # a small, complete export
    limit = len(previous) + 4096  # every provider's export is far larger
    second = _run(
        "export", "--demo", *WINDOW, "--format", fmt, "-o", str(target),
        preexec_fn=_limit_file_size(limit),
    )  # fmt: skip
    assert second.returncode == 2
    assert second.stderr.startswith(f"usagekit: cannot write {target}: ")
    assert "File too large" in second.stderr and "previous file there is unchanged" in second.stderr
    assert second.stderr.count("\n") == 1
    _quiet(second.stderr)
    assert target.read_bytes() == previous
    assert leftovers(tmp_path) == []


# -- targets that are not regular files ----------------------------------------------------------


def test_a_directory_target_is_refused_before_fetching(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--demo", "--format", "csv", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {tmp_path}: is a directory, not a regular file" in err
    assert "leave out -o" in err
    assert os.listdir(tmp_path) == []


def test_a_character_device_target_is_refused(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    if IS_ROOT:
        device = tmp_path / "full-device"
        try:
            os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # like /dev/full
        except (OSError, AttributeError) as exc:
            pytest.skip(f"cannot create a device node here: {exc}")
    else:
        device = Path("/dev/null")  # a non-root process cannot replace it anyway
        if not stat.S_ISCHR(os.stat(device).st_mode):  # pragma: no cover
            pytest.skip("no /dev/null character device here")
    before = os.lstat(device)
    for fmt in ("csv", "parquet", "focus-parquet"):
        assert main(["export", "--demo", "--format", fmt, "-o", str(device)]) == 2
        assert "is a character device, not a regular file" in capsys.readouterr().err
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (
        before.st_ino,
        before.st_rdev,
    )


def test_a_fifo_target_is_refused_without_blocking(tmp_path: Path) -> None:
    """A subprocess: writing a FIFO nobody reads would block forever."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    result = _run("export", "--demo", "--format", "csv", "-o", str(fifo), timeout=60)
    assert result.returncode == 2
    assert "is a FIFO (named pipe), not a regular file" in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("command", ["report", "export"])
def test_an_export_through_a_symlink_keeps_the_link_and_the_mode(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real.csv"
    real.write_text("previous\n", encoding="utf-8")
    os.chmod(real, 0o600)
    link = tmp_path / "latest.csv"
    link.symlink_to(real.name)
    fmt = ["--format", "csv"]
    assert main([command, "--demo", *WINDOW, "--provider", "unsiloed", *fmt, "-o", str(link)]) == 0
    capsys.readouterr()
    assert link.is_symlink() and os.readlink(link) == real.name
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    text = real.read_text(encoding="utf-8")
    assert text != "previous\n" and text.startswith(("id,", "provider,"))
    assert leftovers(tmp_path) == []


def test_the_report_file_is_replaced_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``report -o`` goes through a temporary file too: a failure keeps the previous report."""
    target = tmp_path / "report.txt"
    target.write_text("the previous report\n", encoding="utf-8")

    def broken(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_commands, "write_report", broken)
    assert main(["report", "--demo", *WINDOW, "--provider", "unsiloed", "-o", str(target)]) == 2
    assert f"cannot write {target}: No space left on device" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "the previous report\n"
    assert leftovers(tmp_path) == []


def test_a_read_only_target_is_refused_before_fetching(
    tmp_path: Path,
    no_fetch: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "usage.csv"
    target.write_text("keep", encoding="utf-8")
    os.chmod(target, 0o444)
    as_a_user(monkeypatch, target)
    assert main(["export", "--demo", "--format", "csv", "-o", str(target)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "keep"


# -- format and file name agree -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name", "needle"),
    [
        ("csv", "x.parquet", "--format csv writes CSV, but"),
        ("csv", "x.PQ", "named like a Parquet file"),
        ("csv", "x.jsonl", "--format jsonl for JSON Lines"),
        ("jsonl", "x.csv", "--format csv for CSV"),
        ("jsonl", "x.json", "a name ending in .jsonl"),
        ("parquet", "x.csv", "--format parquet writes Parquet, but"),
        ("focus", "x.jsonl", "--format focus writes FOCUS as CSV"),
        ("focus-parquet", "x.csv", "a name ending in .parquet"),
        ("csv", "x.csv.gz", "uncompressed"),
        ("parquet", "x.parquet.zst", "uncompressed"),
    ],
)
def test_a_format_and_file_name_that_disagree_are_refused(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str], fmt: str, name: str,
    needle: str,
) -> None:  # fmt: skip
    target = tmp_path / name
    assert main(["export", "--demo", "--format", fmt, "-o", str(target)]) == 2
    assert needle in capsys.readouterr().err
    assert not target.exists()


@pytest.mark.parametrize(
    ("fmt", "name"), [("table", "r.csv"), ("json", "r.csv"), ("csv", "r.json")]
)
def test_a_report_format_and_file_name_that_disagree_are_refused(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str], fmt: str, name: str
) -> None:
    assert main(["report", "--demo", "--format", fmt, "-o", str(tmp_path / name)]) == 2
    assert f"--format {fmt} writes" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["usage", "usage.txt", "usage.out"])
def test_a_name_without_a_known_suffix_is_fine(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / name
    assert main(["export", "--demo", *WINDOW, "--provider", "basedash", "--format", "jsonl",
                 "-o", str(target)]) == 0  # fmt: skip
    capsys.readouterr()
    assert list(usagekit.read_jsonl(target))


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("focus", "focus.parquet"), ("focus", "focus.PQ"), ("focus-parquet", "focus.out")],
)
def test_focus_parquet_from_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, name: str
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / name
    assert main(["export", "--demo", *WINDOW, "--format", fmt, "-o", str(target)]) == 0
    assert "wrote" in capsys.readouterr().err
    table = pq.read_table(target)  # a Parquet file, not CSV under a Parquet name
    assert tuple(table.schema.names) == usagekit.FOCUS_COLUMNS
    assert table.schema.metadata[b"FocusVersion"] == usagekit.FOCUS_VERSION.encode()
    assert table.num_rows > 0


def test_focus_to_a_csv_name_or_stdout_is_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "focus.csv"
    assert main(["export", "--demo", *WINDOW, "--format", "focus", "-o", str(target)]) == 0
    header = target.read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == usagekit.FOCUS_COLUMNS
    capsys.readouterr()
    assert main(["export", "--demo", *WINDOW, "--provider", "openai", "--format", "focus"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == header


@pytest.mark.parametrize("output", [[], ["-o", "-"]])
@pytest.mark.parametrize("fmt", ["parquet", "focus-parquet"])
def test_parquet_needs_a_file(
    no_fetch: None, capsys: pytest.CaptureFixture[str], fmt: str, output: list[str]
) -> None:
    assert main(["export", "--demo", "--format", fmt, *output]) == 2
    assert "needs -o FILE" in capsys.readouterr().err
    assert not Path("-").exists()


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("parquet", "x.parquet"), ("focus-parquet", "x.parquet"), ("focus", "x.parquet")],
)
@pytest.mark.parametrize("module", ["pyarrow", "pyarrow.parquet"])
def test_a_missing_pyarrow_is_found_before_fetching(
    tmp_path: Path, no_fetch: None, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], fmt: str, name: str, module: str,
) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, module, None)
    assert main(["export", "--demo", "--format", fmt, "-o", str(tmp_path / name)]) == 2
    assert "install it with: pip install 'usagekit[parquet]'" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


# -- arguments checked before any file or request -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("nan", "finite"),
        ("NaN", "finite"),
        ("inf", "finite"),
        ("-inf", "finite"),
        ("1e400", "finite"),
        ("1e12", "at most 3660 days"),
        ("3661", "at most 3660 days"),
        ("-1", "must not be negative"),
        ("-0.5", "must not be negative"),
        ("two", "not a number of days"),
        ("", "not a number of days"),
    ],
)
def test_a_bad_lookback_is_exit_2_before_any_file_or_request(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str], value: str, needle: str
) -> None:
    db = tmp_path / "usage.sqlite"
    assert main(["sync", "--demo", "--db", str(db), f"--lookback={value}"]) == 2
    err = capsys.readouterr().err
    assert "argument --lookback" in err and needle in err
    assert "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_a_bad_lookback_in_a_real_process(tmp_path: Path) -> None:
    db = tmp_path / "usage.sqlite"
    for value in ("nan", "inf", "1e12", "-1"):
        result = _run("sync", "--demo", "--db", str(db), f"--lookback={value}")
        assert result.returncode == 2, result.stderr
        assert "argument --lookback" in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(("value", "days"), [("0", 0.0), ("0.5", 0.5), ("2", 2.0), ("3660", 3660)])
def test_a_good_lookback_is_a_timedelta(value: str, days: float) -> None:
    args = build_parser().parse_args(["sync", "--db", "x.sqlite", "--lookback", value])
    assert args.lookback == timedelta(days=days)


def test_a_bad_since_for_sync_creates_no_store(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "usage.sqlite"
    assert main(["sync", "--demo", "--db", str(db), "--since", "last tuesday"]) == 2
    assert "--since is not an ISO-8601 date" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("where", ["folder", "missing"])
def test_a_store_path_that_cannot_be_a_file_is_refused(
    tmp_path: Path, no_fetch: None, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    db = tmp_path if where == "folder" else tmp_path / "missing" / "usage.sqlite"
    assert main(["sync", "--demo", "--db", str(db)]) == 2
    assert "usagekit: " in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["report", "--by", "colour"], "cannot group by 'colour'"),
        (["report", "--since", "yesterday-ish"], "not an ISO-8601"),
        (["export", "--format", "csv", "--until", "2026-13-01"], "not an ISO-8601"),
        (
            ["report", "--since", "2026-10-15", "--until", "2026-10-01"],
            "--since must be before --until",
        ),
        (["export", "--format", "csv", "--db", "no-such.sqlite"], "no store at no-such.sqlite"),
    ],
)
def test_bad_fetch_arguments_are_found_before_fetching(
    no_fetch: None, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    demo = [] if "--db" in argv else ["--demo"]  # --demo with --db is refused on its own
    assert main([*argv[:1], *demo, *argv[1:]]) == 2
    assert needle in capsys.readouterr().err


def test_argparse_errors_and_version_are_returned_not_raised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export", "--format", "xml"]) == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"usagekit {usagekit.__version__}"


def test_an_unexpected_error_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def bug(*_: Any) -> Any:
        raise RuntimeError("something usagekit did not expect")

    monkeypatch.setattr(_commands, "fetch", bug)
    assert main(["report", "--demo"]) == 1
    err = capsys.readouterr().err
    assert "unexpected error RuntimeError: something usagekit did not expect" in err
    assert "Traceback" not in err and err.count("\n") == 1


# -- logging -------------------------------------------------------------------------------------


def test_repeated_main_calls_do_not_stack_log_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("usagekit")
    handlers, level = list(logger.handlers), logger.level
    outputs = []
    for _ in range(3):
        stderr = io.StringIO()
        monkeypatch.setattr(sys, "stderr", stderr)
        monkeypatch.setattr(sys, "stdout", io.StringIO())
        assert main(["-vv", "report", "--demo", *WINDOW, "--provider", "unsiloed"]) == 0
        assert logger.handlers == handlers and logger.level == level  # nothing left behind
        outputs.append(stderr.getvalue())
        stderr.close()  # as a test's captured stream, or a service's, is closed afterwards
    counts = []
    for text in outputs:
        assert "Logging error" not in text and "I/O operation on closed file" not in text
        counts.append(sum(" usagekit" in line for line in text.splitlines()))
    assert counts[0] > 0 and counts == [counts[0]] * 3  # each call logs once per record
    logger.info("after main returned")  # no handler of main's is left to hit a closed stream


def test_logging_goes_to_the_stderr_of_each_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["-vv", "report", "--demo", *WINDOW, "--provider", "unsiloed"]) == 0
    assert "usagekit DEBUG" in capsys.readouterr().err
    assert main(["report", "--demo", *WINDOW, "--provider", "unsiloed"]) == 0
    assert "usagekit DEBUG" not in capsys.readouterr().err  # no -v: no log lines
