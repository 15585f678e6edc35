"""Run a check without write access to a store, for real, even when the tests run as root.

Root ignores file modes, so ``chmod`` alone proves nothing there. As root, the check runs in a
forked child that has dropped to an unprivileged user (uid/gid 65534, "nobody"): the kernel then
refuses it write access exactly as it would a normal user. The child cannot import anything
new (root's interpreter may live where that user cannot read), so everything it uses must be
imported before. Its outcome comes back as JSON-able data.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

NOBODY = 65534


@contextmanager
def shared_directory() -> Iterator[Path]:
    """A fresh directory an unprivileged user can enter (tmp_path is root's own, mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="usagekit-ro-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for child in (path, *path.rglob("*")):
            if child.is_dir():
                child.chmod(stat.S_IRWXU)
        shutil.rmtree(path, ignore_errors=True)


def unprivileged(check: Callable[[], Any]) -> Any:
    """Return what ``check()`` returns when run by a user without write access.

    As root: in a forked child running as "nobody"; otherwise in this process (the caller has
    taken write access away with chmod). Skips when neither can be done.
    """
    if os.name != "posix":
        pytest.skip("needs POSIX permissions")
    if os.geteuid() != 0:
        return check()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            outcome: dict[str, Any] = {"value": check()}
        except PermissionError as exc:
            outcome = {"cannot_drop": str(exc)}
        except BaseException as exc:
            outcome = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        with os.fdopen(write, "w") as pipe:
            pipe.write(json.dumps(outcome, default=str))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    outcome = json.loads(text)
    if "cannot_drop" in outcome:
        pytest.skip(f"running as root without the right to drop privileges: {outcome}")
    if "error" in outcome:
        pytest.fail(f"the unprivileged check failed: {outcome['error']}\n{outcome['trace']}")
    return outcome["value"]


def take_write_access(*paths: Path) -> None:
    """Make files read-only and directories read-and-enter-only (for a non-root user)."""
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
