"""An async request does no import: httpcore asks for ``sniffio`` on every lock it makes, and
without it installed each ask is a failed import that searches ``sys.path`` again (about a
quarter of a millisecond a request, measured in ``benchmarks/``)."""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

import pytest

sandbox = pytest.importorskip("usagekit.sandbox")

NOW = datetime(2026, 11, 15, 12, 34, 56, tzinfo=timezone.utc)


class _Counter(importlib.abc.MetaPathFinder):
    """Records every module looked for on ``sys.meta_path`` by this thread (the sandbox's
    server threads are not the client's business), and finds none itself."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.thread = threading.get_ident()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> Any:
        if threading.get_ident() == self.thread:
            self.names.append(fullname)
        return None


async def test_async_records_look_for_no_module_once_warm() -> None:
    """Two walks of a day of every endpoint over loopback: the second imports nothing."""
    start = datetime(2026, 11, 14, tzinfo=timezone.utc)
    end = datetime(2026, 11, 15, tzinfo=timezone.utc)
    with sandbox.serve(seed=3, now=NOW) as sb:
        client = sb.async_openai_client()
        try:
            first = [record async for record in client.records(start, end)]
            counter = _Counter()
            sys.meta_path.insert(0, counter)
            try:
                again = [record async for record in client.records(start, end)]
            finally:
                sys.meta_path.remove(counter)
        finally:
            await client.aclose()
    assert first and again == first
    assert counter.names == []
