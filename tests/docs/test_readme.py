"""Every Python block of the README runs, against the sandbox, as a new user would run it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from usagekit.sandbox import serve

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with serve(seed=2) as sb:
        yield sb


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(
    index: int, sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)  # the environment variables the README tells users to set
    monkeypatch.chdir(tmp_path)  # blocks may write files (focus.csv)
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), namespace)
    if "report" in namespace:
        assert namespace["report"].ok
    if "tokens" in namespace:
        assert sum(namespace["tokens"].values()) > 0
