"""Blocked (paired) tests for the decision: configurations compared instance by instance.

Each configuration has one sample per instance of a family (its median over the instance's distinct
seeds), so instance difficulty cancels in the differences and a seed-ignoring optimizer counts once.
The test is the one-sided Wilcoxon signed-rank test, exact at any number of pairs: the null
distribution of the positive-rank sum over every sign assignment of the nonzero differences is
built by convolution, one rank at a time (zero differences dropped, ties get average ranks, so
doubled ranks are integers; exact with ties too). With n nonzero pairs its smallest p-value is
1 / 2^n (:func:`min_pairs`). Holm's step-down correction adjusts the p-values of one configuration
against several rivals (:func:`holm`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

from optbench.harness.report.stats import Samples


def signed_rank_less_p(x: Samples, y: Samples) -> float:
    """One-sided p-value for "``x`` tends to be *smaller* than ``y``", paired element by element:
    the probability, over the 2^n equally likely sign assignments of the ranked differences, of a
    signed-rank sum ≤ the observed one. No nonzero difference: p = 1. NaN when a pair has a NaN or
    the lengths differ."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.shape != b.shape or np.isnan(a).any() or np.isnan(b).any():
        return math.nan
    d = a - b
    d = d[d != 0]
    if len(d) == 0:
        return 1.0
    twice = np.rint(2 * rankdata(np.abs(d))).astype(int)  # average ranks of ties are halves
    return float(null_distribution(twice)[:int(twice[d > 0].sum()) + 1].sum())


def null_distribution(ranks: np.ndarray) -> np.ndarray:
    """P(T = t) for t = 0 … sum(ranks), where T is the sum of the integer ``ranks`` given a + sign, each
    sign a fair coin: the exact null distribution of the positive-rank sum, built one rank at a time
    (the signed-rank sum is 2T − sum(ranks), so P(sum ≤ w) is a prefix sum of this)."""
    dist = np.zeros(int(ranks.sum()) + 1)
    dist[0] = 1.0
    for r in ranks:
        shifted = np.zeros_like(dist)
        shifted[r:] = dist[:len(dist) - r]
        dist = 0.5 * (dist + shifted)
    return dist


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input's order (NaN stays NaN, capped at 1)."""
    order = sorted((i for i, p in enumerate(p_values) if not math.isnan(p)), key=lambda i: p_values[i])
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def smallest_p(n_pairs: int) -> float:
    """The smallest p-value the exact signed-rank test can give with ``n_pairs`` pairs: 1 / 2^n."""
    return 0.5**n_pairs


def min_pairs(alpha: float, rivals: int = 1) -> int:
    """The fewest instances at which ``rivals`` Holm-corrected tests can all reach p < alpha."""
    n = 1
    while max(rivals, 1) * smallest_p(n) >= alpha:
        n += 1
    return n
