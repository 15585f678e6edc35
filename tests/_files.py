"""File-system helpers shared by the export and command tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
"""Root may write any file: permission tests fake or drop privileges instead."""


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files a writer left behind."""
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def as_a_user(monkeypatch: pytest.MonkeyPatch, read_only: Path) -> None:
    """As root every file is writable: answer for ``read_only`` as for an ordinary user."""
    if not IS_ROOT:
        return
    real = os.access

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        if os.fspath(path) == str(read_only) and mode & os.W_OK:
            return False
        return real(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
