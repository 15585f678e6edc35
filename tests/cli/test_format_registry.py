"""The command takes its formats from the format registry: a new FORMATS entry is a new
``usagekit export --format`` choice, written to a file named for it."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import usagekit
from usagekit._cli import build_parser, main
from usagekit._io.formats import EXPORT_CHOICES, FORMATS, REPORT_CONTAINERS, export_format

NOW = "2026-10-20T09:30:00Z"
WINDOW = ["--since", "2026-10-01", "--until", "2026-10-15", "--provider", "basedash"]


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(usagekit.CLOCK_ENV, NOW)
    with usagekit.pin_clock(NOW):
        yield


def _format_choices(command: str) -> tuple[str, ...]:
    parser = build_parser()
    commands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    sub = commands.choices[command]
    (option,) = (action for action in sub._actions if "--format" in action.option_strings)
    assert option.choices is not None
    return tuple(option.choices)


def test_the_format_choices_are_the_registrys() -> None:
    assert _format_choices("export") == EXPORT_CHOICES == tuple(FORMATS)
    assert _format_choices("report") == tuple(REPORT_CONTAINERS)


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_is_exported_to_a_file_named_for_it(
    name: str, tmp_path: Path, pinned: None, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = FORMATS[name]
    if entry.needs_pyarrow:
        pytest.importorskip("pyarrow")
    target = tmp_path / f"usage{entry.suffixes[0]}"
    assert export_format(name, str(target)) is entry  # the name says what is written

    assert main(["export", "--demo", *WINDOW, "--format", name, "-o", str(target)]) == 0

    said = re.fullmatch(r"usagekit: wrote ([\d,]+) rows to (.+)\n", capsys.readouterr().err)
    assert said is not None and said.group(2) == str(target)
    rows = int(said.group(1).replace(",", ""))
    assert rows > 0 and target.stat().st_size > 0
    if entry.needs_pyarrow:
        import pyarrow.parquet as pq

        assert pq.read_metadata(target).num_rows == rows
    elif entry.container == "JSON Lines":
        assert len(target.read_text(encoding="utf-8").splitlines()) == rows
