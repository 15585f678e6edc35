"""Every Python snippet of the documentation runs against the sandbox.

The snippets of a page run in order in one namespace, as a reader would type them, with the
sandbox's keys and base URLs in the environment (so ``usagekit.OpenAIClient()`` talks to it)
and a temporary directory as the working directory. A block preceded by the line
``<!-- no-run -->`` is not run. Top-level ``await`` and ``async for`` are allowed.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import textwrap
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

import usagekit
from usagekit.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").rglob("*.md"))  # the README's are run by tests/docs
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
SKIP = "<!-- no-run -->"
WRITTEN = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
"""When the pages' examples are set: they ask about November 2026 by date ("since
2026-11-01"), so they run with usagekit's clock (and the sandbox's) starting at this instant,
whatever the day the suite runs. The README, the examples and the command are the ones checked
against today (and against the date sweep's instants)."""


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """The page's runnable ``python`` blocks, with their first line number."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        if match["lang"] not in ("python", "py"):
            continue
        before = text[: match.start()].rstrip().splitlines()
        if before and before[-1].strip() == SKIP:
            continue
        line = text.count("\n", 0, match.start()) + 2
        blocks.append((line, textwrap.dedent(match["body"])))
    return blocks


def test_the_pages_have_snippets() -> None:
    assert sum(len(python_blocks(page)) for page in PAGES) > 40


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if python_blocks(p)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_snippets_run(
    page: Path,
    usagekit_sandbox_factory: Callable[..., Sandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.setenv(usagekit.CLOCK_ENV, WRITTEN.isoformat())
    with usagekit.pin_clock(WRITTEN, tick=True):
        sandbox = usagekit_sandbox_factory(seed=1)  # made at the pages' date: its history too
        _run_page(page, sandbox, tmp_path, monkeypatch)
    capsys.readouterr()


def _run_page(
    page: Path, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the page's snippets in order, in one namespace, against ``sandbox``."""
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("USAGEKIT_DEMO", raising=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for line, source in python_blocks(page):
        where = f"{page.relative_to(ROOT)}:{line}"
        code = compile(source, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        try:
            result = eval(code, namespace)
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except Exception as exc:
            pytest.fail(f"the snippet at {where} failed: {type(exc).__name__}: {exc}")
