"""What every benchmark shares: timing, memory readings, subprocess runs, and one way of
reporting a ratio against its target.

Timing keeps the garbage collector on, as users run: each timed run starts after a
``gc.collect()`` (so one run's garbage is not collected during the next), and whatever
collections the run itself triggers are part of its time.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "Check",
    "Result",
    "best_of",
    "current_rss_bytes",
    "interleaved",
    "peak_rss_bytes",
    "proc_status_bytes",
    "run_child",
]

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the working directory of benchmark subprocesses)."""

_STYLES = ("percent", "count", "rate", "bytes", "megabytes", "ratio", "seconds")


@dataclass(frozen=True)
class Check:
    """A further target a benchmark must meet besides its ratio (a share, a count, a rate).

    Attributes:
        label: What is measured (``"429 share"``).
        value: The measured figure.
        limit: The bound it must stay under (or, with ``at_least``, over).
        strict: ``value < limit`` when True, else ``value <= limit`` (with ``at_least``:
            ``value > limit`` / ``value >= limit``).
        style: How to print ``value`` and ``limit``: ``"percent"``, ``"count"``, ``"rate"``
            (per second, ``"512k/s"``), ``"bytes"`` (``"148 B"``), ``"megabytes"``
            (``"380 MB"``, the value in bytes), ``"ratio"`` (``"1.04x"``) or ``"seconds"``.
        at_least: The figure must reach the bound (a rate), not stay under it.
        unit: A word after a ``"rate"`` or ``"bytes"`` figure (``"records"``: ``"512k
            records/s"``, ``"B/record"``).
    """

    label: str
    value: float
    limit: float
    strict: bool = False
    style: str = "percent"
    at_least: bool = False
    unit: str = ""

    def __post_init__(self) -> None:
        if self.style not in _STYLES:
            raise ValueError(f"unknown style {self.style!r}; known: {', '.join(_STYLES)}")

    @property
    def met(self) -> bool:
        """Whether the figure is within its bound."""
        if self.at_least:
            return self.value > self.limit if self.strict else self.value >= self.limit
        return self.value < self.limit if self.strict else self.value <= self.limit

    def _show(self, number: float) -> str:
        style = self.style
        if style == "percent":
            return f"{number:.1%}"
        if style == "rate":
            per = f" {self.unit}/s" if self.unit else "/s"
            if abs(number) >= 10_000:
                return f"{number / 1000:,.0f}k{per}"
            return f"{number:,.0f}{per}"
        if style == "bytes":
            return f"{number:,.0f} B" + (f"/{self.unit}" if self.unit else "")
        if style == "megabytes":
            return f"{number / 1_000_000:,.1f} MB"
        if style == "ratio":
            return f"{number:.2f}x"
        if style == "seconds":
            return f"{number:.2f} s"
        return f"{number:g}"

    @property
    def relation(self) -> str:
        """The comparison the target asks for (``"<="``, ``">="``, ...)."""
        if self.at_least:
            return ">" if self.strict else ">="
        return "<" if self.strict else "<="

    def target_text(self) -> str:
        """``< 5.0%``: the bound with its relation."""
        return f"{self.relation} {self._show(self.limit)}"

    def value_text(self) -> str:
        """The measured figure, printed in its style."""
        return self._show(self.value)

    def text(self) -> str:
        """``429 share 1.2% (target < 5.0%, meets)``."""
        verdict = "meets" if self.met else "MISSES"
        return f"{self.label} {self.value_text()} (target {self.target_text()}, {verdict})"


@dataclass(frozen=True)
class Result:
    """One benchmark's figure.

    Attributes:
        name: The benchmark.
        ratio: usagekit's figure divided by the baseline's (lower is better).
        target: The ratio it must not exceed.
        detail: The raw figures behind the ratio, for the README.
        checks: Further targets it must meet (a 429 share, a count that must stay zero).
        what: What is measured, for the README's table (``"normalize: OpenAI pages ..."``).
        baseline: What the ratio is against, for the README's table.
        brief: The figures that explain the ratio, short, for the README's table.
    """

    name: str
    ratio: float
    target: float
    detail: str
    checks: tuple[Check, ...] = ()
    what: str = ""
    baseline: str = ""
    brief: str = ""

    @property
    def ratio_met(self) -> bool:
        """Whether the ratio alone meets its target."""
        return self.ratio <= self.target

    @property
    def met(self) -> bool:
        """Whether the ratio and every further check meet their targets."""
        return self.ratio_met and all(check.met for check in self.checks)

    def line(self) -> str:
        """One line: name, ratio, target, verdict, the further checks, then the raw figures."""
        verdict = "meets" if self.ratio_met else "MISSES"
        text = f"{self.name:<14} {self.ratio:7.2f}x  (target <= {self.target:g}x, {verdict})"
        for check in self.checks:
            text += f"; {check.text()}"
        return f"{text}  {self.detail}"

    def markdown_row(self) -> str:
        """The README table's row: what, baseline, figures (each marked when missed), targets."""

        def mark(text: str, met: bool) -> str:
            return text if met else f"**{text} (misses)**"

        figures = [mark(f"{self.ratio:.2f}x", self.ratio_met)]
        if self.brief:
            figures[0] += f" ({self.brief})"
        targets = [f"<= {self.target:g}x"]
        for check in self.checks:
            figures.append(mark(f"{check.label} {check.value_text()}", check.met))
            targets.append(f"{check.label} {check.target_text()}")
        what = self.what or self.name
        cells = (
            f"{self.name}: {what}",
            self.baseline or "-",
            "; ".join(figures),
            "; ".join(targets),
        )
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _timed(work: Callable[[], object]) -> float:
    gc.collect()
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The fastest of ``repeats`` runs of ``work``, in seconds (garbage collector on).

    Args:
        repeats: How many runs.
        work: What to time.

    Returns:
        The fastest run's wall time.
    """
    return min(_timed(work) for _ in range(max(1, repeats)))


def interleaved(
    repeats: int, baseline: Callable[[], object], candidate: Callable[[], object]
) -> tuple[float, float]:
    """Best-of timings of a baseline and a candidate, run alternately so noise hits both.

    Args:
        repeats: Rounds (each runs both once).
        baseline: The baseline's work.
        candidate: usagekit's work.

    Returns:
        (the baseline's best, the candidate's best), in seconds.
    """
    base = cand = float("inf")
    for _ in range(max(1, repeats)):
        base = min(base, _timed(baseline))
        cand = min(cand, _timed(candidate))
    return base, cand


def proc_status_bytes(field: str) -> int | None:
    """A size from ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes; None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far, in bytes.

    Linux's ``VmHWM``: the peak of this process image only. ``ru_maxrss`` is the fallback
    elsewhere; on Linux it is no good, as it keeps the peak of the process that forked this
    one, across ``exec`` (a child of a 300 MB parent starts with a 300 MB ``ru_maxrss``).
    """
    peak = proc_status_bytes("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, but bytes on macOS
    return int(maxrss) if sys.platform == "darwin" else int(maxrss) * 1024


def current_rss_bytes() -> int | None:
    """This process's resident set size now, in bytes (``VmRSS``; None off Linux)."""
    return proc_status_bytes("VmRSS")


def run_child(module: str, args: Sequence[str], *, timeout: float = 1800.0) -> dict[str, Any]:
    """Run ``python -m <module> <args>`` in a fresh interpreter; its last stdout line as JSON.

    A fresh process per measurement keeps one measurement's memory and warm caches out of the
    next one's figures.

    Args:
        module: The module (``"benchmarks.bench_scale"``).
        args: Its arguments.
        timeout: Seconds before the child is killed.

    Returns:
        The JSON object the child printed last.

    Raises:
        RuntimeError: The child failed or printed no JSON.
    """
    command = [sys.executable, "-m", module, *args]
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{module} {' '.join(args)} failed ({done.returncode}):\n{done.stderr.strip()}"
        )
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"{module} {' '.join(args)} printed nothing:\n{done.stderr.strip()}")
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures
