"""Benchmark 6: month-end projection backtest, the weekly model against the plain line.

Two sets of months, every month projected from day 7, 14 and 21: "from day N" is at noon of
day N + 1, so N complete days and a half-spent one are known, as on a run at lunchtime.

* **Synthetic**: years of daily spend (deterministic seeds) with a trend, weekly seasonality
  (weekends at a third of a weekday) and multiplicative noise; within a day, spend follows
  office hours, so noon is not half of a day's spend.
* **Sandbox**: OpenAI's costs of the sandbox (``usagekit.sandbox.serve(seed=..., now=...)``),
  the ground truth read from ``sb.data.openai_cost_totals`` per day (and for the morning of the
  partial day).

Each projection is scored against the month's real total: absolute percentage error, and
whether the real total lies in the 80 % interval. Three methods side by side, in one run:

* **legacy**: the projection before issue 17 (a plain line with the partial day fitted as a
  whole day), reproduced here from its formulas, for the record;
* **linear**: ``projection(..., method="linear")``, the plain line (partial day left out);
* **weekly**: ``projection(...)`` (the default, ``method="weekly"``).

The ratio is weekly's mean absolute percentage error over linear's (all projections of both
sets; target < 1); the checks are weekly's coverage of the 80 % interval (within 70-90 %, as
its distance from 80 % at most 10 points) and weekly's error against legacy's.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from usagekit import UsageRecord
from usagekit.analytics import CONFIDENCE_PCT, projection, t_quantile
from usagekit.sandbox import Sandbox

from ._common import Check, Result

TARGET = 1.0
CUTS = (7, 14, 21)
"""Project from these days of each month (at noon of the next day)."""
NOON = 12
UTC = timezone.utc
WEEKDAY = (1.0, 1.1, 1.1, 1.05, 0.9, 0.35, 0.3)
"""The synthetic weekday factors, Monday first."""
SANDBOX_NOW = "2026-12-01T00:00:00Z"
"""The sandbox's frozen clock: whole months of history before it, the same on every run."""
SANDBOX_MONTHS = (date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1))
METHODS = ("legacy", "linear", "weekly")


def _hour_weights() -> list[float]:
    weights = [0.05 + 0.95 * math.exp(-(((h + 0.5 - 13.5) / 5.0) ** 4)) for h in range(24)]
    total = sum(weights)
    return [w / total for w in weights]


_SHARE_BEFORE_NOON = sum(_hour_weights()[:NOON])


@dataclass(frozen=True)
class Month:
    """One month to backtest: its spend per day and the spend of each day's first 12 hours."""

    first: date
    days: tuple[Decimal, ...]
    mornings: tuple[Decimal, ...]

    @property
    def total(self) -> Decimal:
        """The month's real total."""
        return sum(self.days, Decimal(0))


def synthetic_months(seed: int, months: int = 12) -> Iterator[Month]:
    """A year of daily spend: trend, weekly seasonality and noise, from ``seed``."""
    rng = random.Random(seed)
    base = rng.uniform(20.0, 200.0)
    growth = rng.uniform(-0.3, 1.5)  # over the year
    start = date(2025, 1, 1)
    for month in range(months):
        first = date(start.year + month // 12, month % 12 + 1, 1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        days, mornings = [], []
        for offset in range((following - first).days):
            day = first + timedelta(days=offset)
            t = (day - start).days / 365.0
            noise = max(0.0, rng.gauss(1.0, 0.2))
            amount = base * (1.0 + growth * t) * WEEKDAY[day.weekday()] * noise
            spent = Decimal(repr(round(amount, 6)))
            days.append(spent)
            mornings.append((spent * Decimal(repr(_SHARE_BEFORE_NOON))).quantize(Decimal("1e-6")))
        yield Month(first, tuple(days), tuple(mornings))


def sandbox_months(seed: int, months: tuple[date, ...]) -> Iterator[Month]:
    """The sandbox's OpenAI cost per day of ``months`` (its ground truth, no HTTP)."""
    history = (datetime.fromisoformat(SANDBOX_NOW).date() - months[0]).days + 2
    sb = Sandbox(seed=seed, now=SANDBOX_NOW, history_days=history)  # its data only: no server
    for first in months:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        days, mornings = [], []
        for offset in range((following - first).days):
            day = first + timedelta(days=offset)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            totals = sb.data.openai_cost_totals(start, start + timedelta(days=1))
            morning = sb.data.openai_cost_totals(start, start + timedelta(hours=NOON))
            days.append(totals.get((), Decimal(0)))
            mornings.append(morning.get((), Decimal(0)))
        yield Month(first, tuple(days), tuple(mornings))


def _records(month: Month, cut: int) -> list[UsageRecord]:
    """The cost records known at noon of day ``cut + 1``: whole days, then the morning."""
    out = []
    for offset in range(cut + 1):
        day = month.first + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        partial = offset == cut
        amount = month.mornings[offset] if partial else month.days[offset]
        end = start + (timedelta(hours=NOON) if partial else timedelta(days=1))
        out.append(
            UsageRecord(
                provider="bench",
                source="costs",
                start=start,
                end=end,
                metric="cost",
                quantity=amount,
                unit="USD",
            )
        )
    return out


def legacy(month: Month, cut: int) -> tuple[float, float, float]:
    """The projection before issue 17: a line through every observed day, the partial day
    fitted as a whole one, the sum's interval clamped at the actual."""
    ys = [float(month.days[i]) for i in range(cut)] + [float(month.mornings[cut])]
    n = len(ys)
    xs = [float(i) for i in range(n)]
    x_mean, y_mean = sum(xs) / n, sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = y_mean - slope * x_mean
    variance_unit = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    variance_unit /= n - 2
    future = [float(i) for i in range(n, len(month.days))]
    m = len(future)
    predicted = sum(intercept + slope * x for x in future)
    centred = sum(x - x_mean for x in future)
    variance = variance_unit * (m + m * m / n + centred * centred / sxx)
    half = t_quantile(0.5 + CONFIDENCE_PCT / 200.0, n - 2) * math.sqrt(variance)
    actual = sum(ys)
    return (
        actual + max(0.0, predicted),
        actual + max(0.0, predicted - half),
        actual + max(0.0, predicted + half),
    )


def _library(method: str) -> Callable[[Month, int], tuple[float, float, float]]:
    def project(month: Month, cut: int) -> tuple[float, float, float]:
        day = month.first + timedelta(days=cut)
        now = datetime(day.year, day.month, day.day, NOON, tzinfo=UTC)
        following = date(month.first.year + month.first.month // 12, month.first.month % 12 + 1, 1)
        result = projection(
            _records(month, cut),
            now=now,
            period_end=datetime(following.year, following.month, 1, tzinfo=UTC),
            method="linear" if method == "linear" else "weekly",
        )
        assert result.projected is not None and result.lower is not None
        assert result.upper is not None
        return float(result.projected), float(result.lower), float(result.upper)

    return project


@dataclass
class Score:
    """Absolute percentage errors and interval hits of one method over a set of months."""

    errors: list[float] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)

    def add(self, truth: float, estimate: tuple[float, float, float]) -> None:
        """Score one projection against the real total."""
        projected, lower, upper = estimate
        self.errors.append(abs(projected - truth) / truth)
        self.hits.append(lower <= truth <= upper)

    @property
    def mape(self) -> float:
        """Mean absolute percentage error."""
        return sum(self.errors) / max(1, len(self.errors))

    @property
    def coverage(self) -> float:
        """Share of real totals inside the 80 % interval."""
        return sum(self.hits) / max(1, len(self.hits))

    def text(self) -> str:
        """``MAPE 4.1% cover 79%``."""
        return f"MAPE {self.mape:.1%} cover {self.coverage:.0%}"


def backtest(months: list[Month]) -> dict[str, Score]:
    """Every method's score over ``months``, each projected from every day of :data:`CUTS`."""
    methods = {"legacy": legacy, "linear": _library("linear"), "weekly": _library("weekly")}
    scores = {name: Score() for name in METHODS}
    for month in months:
        truth = float(month.total)
        for cut in CUTS:
            for name, method in methods.items():
                scores[name].add(truth, method(month, cut))
    return scores


def _merge(*sets: dict[str, Score]) -> dict[str, Score]:
    merged = {name: Score() for name in METHODS}
    for scores in sets:
        for name, score in scores.items():
            merged[name].errors.extend(score.errors)
            merged[name].hits.extend(score.hits)
    return merged


def run(smoke: bool = False) -> Result:
    """Backtest the three methods on synthetic years and the sandbox's months."""
    seeds = range(1) if smoke else range(8)
    synthetic = [m for seed in seeds for m in synthetic_months(seed, 2 if smoke else 12)]
    sandbox_seeds = (1,) if smoke else (1, 2, 3, 4, 5, 6)
    months = SANDBOX_MONTHS[-1:] if smoke else SANDBOX_MONTHS
    real = [m for seed in sandbox_seeds for m in sandbox_months(seed, months)]
    on_synthetic, on_sandbox = backtest(synthetic), backtest(real)
    pooled = _merge(on_synthetic, on_sandbox)
    weekly, linear, old = pooled["weekly"], pooled["linear"], pooled["legacy"]

    def figures(label: str, scores: dict[str, Score]) -> str:
        count = len(scores["weekly"].errors)
        shown = "; ".join(f"{name} {scores[name].text()}" for name in METHODS)
        return f"{label} ({count} projections): {shown}"

    by_cut = []
    for index, cut in enumerate(CUTS):
        picked = {
            name: Score(score.errors[index :: len(CUTS)], score.hits[index :: len(CUTS)])
            for name, score in pooled.items()
        }
        shown = " ".join(f"{name} {picked[name].mape:.1%}" for name in METHODS)
        by_cut.append(f"day {cut}: {shown}")
    return Result(
        "projection",
        weekly.mape / linear.mape,
        TARGET,
        f"{figures('synthetic', on_synthetic)} | {figures('sandbox', on_sandbox)} | "
        f"MAPE from {', '.join(by_cut)}",
        checks=(
            Check("weekly 80% coverage off by", abs(weekly.coverage - 0.80), 0.10),
            Check("weekly/legacy MAPE", weekly.mape / old.mape, 1.0, strict=True),
        ),
        what="month-end backtest from days 7, 14 and 21 (synthetic years and the sandbox's months)",
        baseline="the plain least-squares line",
        brief=f"MAPE {weekly.mape:.1%} against {linear.mape:.1%}",
    )


if __name__ == "__main__":
    print(run().line())
