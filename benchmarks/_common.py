"""What every benchmark shares: timing, and one way of reporting a ratio against its target."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One benchmark's figure.

    Attributes:
        name: The benchmark.
        ratio: usagekit's figure divided by the baseline's (lower is better).
        target: The ratio it must not exceed.
        detail: The raw figures behind the ratio, for the README.
    """

    name: str
    ratio: float
    target: float
    detail: str

    @property
    def met(self) -> bool:
        return self.ratio <= self.target

    def line(self) -> str:
        verdict = "meets" if self.met else "MISSES"
        return f"{self.name:<14} {self.ratio:7.2f}x  (target <= {self.target:g}x, {verdict})  {self.detail}"


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


def interleaved(repeats: int, baseline: Callable[[], object], candidate: Callable[[], object]) -> tuple[float, float]:
    """Best-of timings of a baseline and a candidate, run alternately so noise hits both."""
    base = cand = float("inf")
    for _ in range(repeats):
        base = min(base, best_of(1, baseline))
        cand = min(cand, best_of(1, candidate))
    return base, cand
