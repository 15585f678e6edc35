"""``import usagekit`` stays light: the sandbox, analytics and the export formats load on use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import usagekit

HEAVY = (
    "usagekit.sandbox",
    "usagekit.analytics",
    "usagekit._io",
    "pandas",
    "pyarrow",
    "matplotlib",
)


def _loaded_after(code: str) -> list[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded: list[str] = json.loads(out.splitlines()[-1])
    return loaded


def test_import_usagekit_loads_none_of_the_heavy_parts() -> None:
    loaded = _loaded_after("import usagekit")
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
    assert "usagekit._providers" in loaded  # the clients are there at once


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("write_csv", "usagekit._io.csv"),
        ("read_parquet", "usagekit._io.parquet"),
        ("FOCUS_COLUMNS", "usagekit._io.focus"),
        ("analytics", "usagekit.analytics"),
        ("sandbox", "usagekit.sandbox"),
    ],
)
def test_a_lazy_name_loads_its_module_on_first_use(name: str, module: str) -> None:
    assert module in _loaded_after(f"import usagekit\nusagekit.{name}")


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    for name in usagekit.__all__:
        assert getattr(usagekit, name) is not None, name
    assert set(usagekit.__all__) <= set(dir(usagekit))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = usagekit.nope  # type: ignore[attr-defined]
