"""What is at an export's target survives: devices, FIFOs, folders, links, modes, full disks.

Every writer that takes a path (CSV, JSON Lines, Parquet, FOCUS CSV, FOCUS Parquet) goes
through the same checks, so each test runs for all five.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._files import IS_ROOT, as_a_user, leftovers
from usagekit import UsageRecord
from usagekit._core.errors import ExportError
from usagekit._io._targets import export_target
from usagekit._io.csv import read_csv, write_csv
from usagekit._io.focus import write_focus_csv, write_focus_parquet
from usagekit._io.jsonl import read_jsonl, write_jsonl
from usagekit._io.parquet import write_parquet

from ._data import FLOAT_TAIL, many_records, sample_records

ROOT = Path(__file__).resolve().parents[2]

Writer = Callable[[Iterable[UsageRecord], Any], int]


def _parquet(write: Writer) -> Writer:
    def run(records: Iterable[UsageRecord], path: Any) -> int:
        pytest.importorskip("pyarrow")
        return write(records, path)

    return run


WRITERS = [
    pytest.param(write_csv, id="csv"),
    pytest.param(write_jsonl, id="jsonl"),
    pytest.param(write_focus_csv, id="focus-csv"),
    pytest.param(_parquet(write_parquet), id="parquet"),
    pytest.param(_parquet(write_focus_parquet), id="focus-parquet"),
]


def records() -> list[UsageRecord]:
    """The samples every format holds exactly (Parquet cannot hold the 34-place quantity)."""
    return [r for r in sample_records() if r.quantity != FLOAT_TAIL]


def untouched() -> Iterator[UsageRecord]:
    """Records that must never be asked for: the target is refused before reading any."""
    raise AssertionError("the writer read records before checking its target")
    yield  # pragma: no cover


@pytest.fixture
def char_device(tmp_path: Path) -> Path:
    """A character device: a fresh one (mknod) as root, so nothing shared is at risk, else
    ``/dev/null`` (which a non-root process cannot replace anyway)."""
    if not IS_ROOT:
        if not stat.S_ISCHR(os.stat("/dev/null").st_mode):  # pragma: no cover
            pytest.skip("no /dev/null character device here")
        return Path("/dev/null")
    device = tmp_path / "null-device"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except (OSError, AttributeError) as exc:  # no CAP_MKNOD in this container
        pytest.skip(f"cannot create a device node here: {exc}")
    return device


# -- targets that are not regular files --------------------------------------------------------


@pytest.mark.parametrize("write", WRITERS)
def test_a_directory_is_refused_before_anything_is_read(tmp_path: Path, write: Writer) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ExportError, match="is a directory, not a regular file"):
        write(untouched(), folder)
    assert folder.is_dir() and not os.listdir(folder)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("write", WRITERS)
def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path: Path, write: Writer) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match=r"FIFO \(named pipe\)") as caught:
        write(untouched(), fifo)
    assert caught.value.source == str(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("write", WRITERS)
def test_a_character_device_is_refused_and_stays_a_device(char_device: Path, write: Writer) -> None:
    before = os.lstat(char_device)
    with pytest.raises(ExportError, match="is a character device"):
        write(untouched(), char_device)
    after = os.lstat(char_device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino  # the same node, not a replacement


@pytest.mark.parametrize("write", WRITERS)
def test_a_symlink_to_a_device_is_refused(tmp_path: Path, char_device: Path, write: Writer) -> None:
    link = tmp_path / "link.out"
    link.symlink_to(char_device)
    with pytest.raises(ExportError, match="the symlink points to"):
        write(untouched(), link)
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    socket = pytest.importorskip("socket")
    path = tmp_path / "s"
    if len(str(path)) > 100:  # pragma: no cover - AF_UNIX paths are short
        pytest.skip("temporary folder path too long for a Unix socket")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(ExportError, match="is a socket"):
            write_csv(untouched(), path)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()


def test_an_empty_path_is_refused() -> None:
    with pytest.raises(ExportError, match="empty"):
        write_csv(untouched(), "")


def test_a_target_that_becomes_a_fifo_while_writing_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "usage.csv"
    target.write_text("old", encoding="utf-8")

    def swap() -> Iterator[UsageRecord]:
        yield from records()[:2]
        target.unlink()
        os.mkfifo(target)  # someone put a FIFO there in the meantime
        yield from records()[2:]

    with pytest.raises(ExportError, match="FIFO"):
        write_csv(swap(), target)
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert leftovers(tmp_path) == []


# -- symlinks, permission bits, owner ---------------------------------------------------------


@pytest.mark.parametrize("write", WRITERS)
def test_a_symlink_is_written_through(tmp_path: Path, write: Writer) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    real = tmp_path / "real" / "usage.out"
    real.write_bytes(b"previous export")
    link = tmp_path / "links" / "latest.out"
    link.symlink_to(Path("..") / "real" / "usage.out")  # relative, through another folder
    write(records(), link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "real", "usage.out")
    assert real.read_bytes() != b"previous export" and real.stat().st_size > 0
    assert leftovers(tmp_path / "real") == leftovers(tmp_path / "links") == []


def test_a_symlink_written_through_reads_back(tmp_path: Path) -> None:
    real = tmp_path / "usage.jsonl"
    real.write_text("", encoding="utf-8")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real.name)
    write_jsonl(records(), link)
    assert list(read_jsonl(real)) == records()


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "latest.csv"
    link.symlink_to("2026-11.csv")
    write_csv(records(), link)
    assert link.is_symlink()
    assert list(read_csv(tmp_path / "2026-11.csv")) == records()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
@pytest.mark.parametrize("write", WRITERS)
def test_the_permission_bits_are_kept(tmp_path: Path, write: Writer, mode: int) -> None:
    target = tmp_path / "usage.out"
    target.write_bytes(b"previous export")
    os.chmod(target, mode)
    write(records(), target)
    assert target.read_bytes() != b"previous export"
    assert stat.S_IMODE(os.stat(target).st_mode) == mode


@pytest.mark.parametrize("write", WRITERS)
def test_the_temporary_file_is_never_more_open_than_the_target(
    tmp_path: Path, write: Writer
) -> None:
    target = tmp_path / "secret.out"
    target.write_bytes(b"previous export")
    os.chmod(target, 0o600)
    seen: list[int] = []

    def watched() -> Iterator[UsageRecord]:
        for record in records():
            for name in leftovers(tmp_path):  # the temporary file, while it is being written
                seen.append(stat.S_IMODE(os.stat(tmp_path / name).st_mode))
            yield record

    write(watched(), target)
    assert seen and set(seen) == {0o600}


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_csv(records(), tmp_path / "new.csv")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "new.csv").st_mode) == 0o640


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another owner")
@pytest.mark.parametrize("write", WRITERS)
def test_root_keeps_the_owner_of_the_file_it_replaces(tmp_path: Path, write: Writer) -> None:
    target = tmp_path / "usage.out"
    target.write_bytes(b"previous export")
    os.chown(target, 12345, 23456)
    os.chmod(target, 0o640)
    write(records(), target)
    info = os.stat(target)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (12345, 23456, 0o640)


def test_a_read_only_file_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "usage.csv"
    target.write_text("keep me", encoding="utf-8")
    os.chmod(target, 0o444)
    as_a_user(monkeypatch, target)
    with pytest.raises(PermissionError, match="read-only"):
        write_csv(untouched(), target)
    assert target.read_text(encoding="utf-8") == "keep me"


def test_export_target_describes_the_file_to_replace(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("x", encoding="utf-8")
    os.chmod(real, 0o620)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    target = export_target(link)
    assert (target.path, target.mode) == (str(real), 0o620)
    assert export_target(tmp_path / "new.csv").mode is None


def test_a_missing_folder_names_the_target_not_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "usage.csv"
    with pytest.raises(FileNotFoundError) as caught:
        write_csv(untouched(), target)
    assert caught.value.filename == str(target)


# -- a full disk / file size limit, in a real process ------------------------------------------

_LIMITED = textwrap.dedent(
    """
    import errno, resource, signal, sys
    from tests.export._data import many_records
    import usagekit

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), resource.RLIM_INFINITY))
    writer = getattr(usagekit, sys.argv[1])
    try:
        writer(many_records(20000), sys.argv[2])
    except OSError as exc:
        print("failed", errno.errorcode.get(exc.errno, exc.errno) if exc.errno else exc)
    else:
        print("written")
    """
)


@pytest.mark.parametrize(
    "writer",
    ["write_csv", "write_jsonl", "write_focus_csv", "write_parquet", "write_focus_parquet"],
)
def test_a_file_size_limit_keeps_the_previous_complete_export(tmp_path: Path, writer: str) -> None:
    pytest.importorskip("resource")
    if "parquet" in writer:
        pytest.importorskip("pyarrow")
    import usagekit

    target = tmp_path / "usage.out"
    getattr(usagekit, writer)(many_records(50), target)  # the previous, complete export
    previous = target.read_bytes()
    limit = len(previous) + 8192  # the new one (20,000 records) is far larger
    result = subprocess.run(
        [sys.executable, "-c", _LIMITED, writer, str(target), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "failed", result.stdout
    if "parquet" not in writer:  # pyarrow's message carries the errno in its text
        assert result.stdout.split()[1] == errno.errorcode[errno.EFBIG]
    assert target.read_bytes() == previous
    assert leftovers(tmp_path) == []
