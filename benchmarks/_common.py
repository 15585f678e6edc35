"""What every benchmark shares: timing, and one way of reporting a ratio against its target."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """A further target a benchmark must meet besides its ratio (a share, a count).

    Attributes:
        label: What is measured (``"429 share"``).
        value: The measured figure.
        limit: The bound it must stay under.
        strict: ``value < limit`` when True, else ``value <= limit``.
        style: How to print ``value`` and ``limit``: ``"percent"`` or ``"count"``.
    """

    label: str
    value: float
    limit: float
    strict: bool = False
    style: str = "percent"

    @property
    def met(self) -> bool:
        """Whether the figure is within its bound."""
        return self.value < self.limit if self.strict else self.value <= self.limit

    def _show(self, number: float) -> str:
        return f"{number:.1%}" if self.style == "percent" else f"{number:g}"

    def text(self) -> str:
        """``429 share 1.2% (target < 5.0%, meets)``."""
        verdict = "meets" if self.met else "MISSES"
        relation = "<" if self.strict else "<="
        shown, bound = self._show(self.value), self._show(self.limit)
        return f"{self.label} {shown} (target {relation} {bound}, {verdict})"


@dataclass(frozen=True)
class Result:
    """One benchmark's figure.

    Attributes:
        name: The benchmark.
        ratio: usagekit's figure divided by the baseline's (lower is better).
        target: The ratio it must not exceed.
        detail: The raw figures behind the ratio, for the README.
        checks: Further targets it must meet (a 429 share, a count that must stay zero).
    """

    name: str
    ratio: float
    target: float
    detail: str
    checks: tuple[Check, ...] = ()

    @property
    def met(self) -> bool:
        """Whether the ratio and every further check meet their targets."""
        return self.ratio <= self.target and all(check.met for check in self.checks)

    def line(self) -> str:
        """One line: name, ratio, target, verdict, the further checks, then the raw figures."""
        verdict = "meets" if self.ratio <= self.target else "MISSES"
        text = f"{self.name:<14} {self.ratio:7.2f}x  (target <= {self.target:g}x, {verdict})"
        for check in self.checks:
            text += f"; {check.text()}"
        return f"{text}  {self.detail}"


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The fastest of ``repeats`` runs of ``work``, in seconds (garbage collection paused)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            began = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - began)
        finally:
            gc.enable()
    return best


def interleaved(
    repeats: int, baseline: Callable[[], object], candidate: Callable[[], object]
) -> tuple[float, float]:
    """Best-of timings of a baseline and a candidate, run alternately so noise hits both."""
    base = cand = float("inf")
    for _ in range(repeats):
        base = min(base, best_of(1, baseline))
        cand = min(cand, best_of(1, candidate))
    return base, cand
