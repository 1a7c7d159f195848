"""Blocked (paired) tests for the decision: configurations compared instance by instance.

Each configuration has one sample per instance of a family (its median over the instance's distinct
seeds), so instance difficulty cancels in the differences and a seed-ignoring optimizer counts once.
The test is the one-sided Wilcoxon signed-rank test computed exactly by enumerating every sign
assignment of the nonzero differences (zero differences dropped, ties get average ranks; exact with
ties too); above ``EXACT_PAIRS`` nonzero pairs, a seeded sample of sign assignments. With n nonzero
pairs its smallest p-value is 1 / 2^n (:func:`min_pairs`). Holm's step-down correction adjusts the
p-values of one configuration against several rivals (:func:`holm`).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.stats import rankdata

from optbench.harness.report.stats import Samples

EXACT_PAIRS = 16  # 2^16 sign assignments enumerated; beyond, RESAMPLES seeded ones
RESAMPLES = 100_000


def signed_rank_less_p(x: Samples, y: Samples, seed: int = 0) -> float:
    """One-sided p-value for "``x`` tends to be *smaller* than ``y``", paired element by element:
    the share of sign assignments of the ranked differences whose signed-rank sum is ≤ the observed
    one. No nonzero difference: p = 1. NaN when a pair has a NaN or the lengths differ."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.shape != b.shape or np.isnan(a).any() or np.isnan(b).any():
        return math.nan
    d = a - b
    d = d[d != 0]
    if len(d) == 0:
        return 1.0
    ranks = rankdata(np.abs(d))
    observed = float(np.sum(np.sign(d) * ranks))
    if len(d) <= EXACT_PAIRS:
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=len(d))))
    else:
        signs = np.random.default_rng(seed).choice((-1.0, 1.0), size=(RESAMPLES, len(d)))
    null = signs @ ranks
    return float(np.mean(null <= observed + 1e-9 * ranks.sum()))


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
