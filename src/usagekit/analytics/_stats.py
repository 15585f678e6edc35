"""The statistics of the projection: least squares and Student's t quantile (no scipy at run
time)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._core.errors import ConfigError

__all__ = ["Fit", "least_squares", "t_quantile"]


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Evaluate the continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    """Return the regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def _t_cdf(value: float, df: float) -> float:
    """Return P(T <= value) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + value * value))
    return 1.0 - tail if value > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """Return the ``p`` quantile of Student's t distribution with ``df`` degrees of freedom.

    The CDF is ``1 - I_x(df/2, 1/2) / 2`` with ``x = df / (df + t^2)`` (``I`` the regularized
    incomplete beta function, evaluated by its continued fraction); the quantile is found by
    bisection on that CDF, to an absolute accuracy far better than 1e-6.

    Args:
        p: The probability, strictly between 0 and 1.
        df: The degrees of freedom, positive.

    Returns:
        ``t`` such that ``P(T <= t) = p``.

    Raises:
        ConfigError: ``p`` or ``df`` out of range.
    """
    if not (0.0 < p < 1.0) or not (df > 0.0) or not math.isfinite(df):
        raise ConfigError(f"t_quantile needs 0 < p < 1 and df > 0, got p={p!r}, df={df!r}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if _t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


def _invert(matrix: list[list[float]]) -> list[list[float]] | None:
    """Return the inverse of a small symmetric positive semi-definite matrix (Gauss-Jordan with
    partial pivoting), or None when it is singular to working precision."""
    size = len(matrix)
    scale = max((abs(matrix[i][i]) for i in range(size)), default=0.0)
    if not (scale > 0.0) or not math.isfinite(scale):
        return None
    work = [[*row, *(1.0 if i == j else 0.0 for j in range(size))] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda row: abs(work[row][column]))
        if abs(work[pivot][column]) <= 1e-12 * scale:
            return None
        work[column], work[pivot] = work[pivot], work[column]
        head = work[column]
        factor = head[column]
        for index in range(2 * size):
            head[index] /= factor
        for row in range(size):
            if row != column and work[row][column] != 0.0:
                ratio = work[row][column]
                target = work[row]
                for index in range(2 * size):
                    target[index] -= ratio * head[index]
    return [row[size:] for row in work]


@dataclass(frozen=True)
class Fit:
    """An ordinary least-squares fit: coefficients, ``(X'X)^-1``, residual variance, df."""

    beta: tuple[float, ...]
    inverse: tuple[tuple[float, ...], ...]
    variance: float
    df: int


def least_squares(rows: list[list[float]], ys: list[float]) -> Fit | None:
    """Fit ``y = X beta`` by least squares; None when ``X`` is rank deficient or leaves no
    degree of freedom for the residual variance."""
    size = len(rows[0])
    df = len(rows) - size
    if df < 1:
        return None
    gram = [[0.0] * size for _ in range(size)]
    moment = [0.0] * size
    for row, y in zip(rows, ys, strict=True):
        for i, value in enumerate(row):
            if value != 0.0:
                moment[i] += value * y
                for j in range(size):
                    gram[i][j] += value * row[j]
    inverse = _invert(gram)
    if inverse is None:
        return None
    beta = [sum(a * b for a, b in zip(line, moment, strict=True)) for line in inverse]
    sse = sum(
        (y - sum(b * v for b, v in zip(beta, row, strict=True))) ** 2
        for row, y in zip(rows, ys, strict=True)
    )
    return Fit(tuple(beta), tuple(tuple(line) for line in inverse), sse / df, df)
