"""Statistics behind every table, plot and decision: seeded bootstrap CIs (or plain ranges when
there are few seeds), an exact one-sided rank test, and COCO-style fixed-target measures (hitting
times, ERT, runtime ECDFs).

The rank test is the Mann–Whitney test computed exactly as a permutation test of the rank sum
(ties get average ranks; every split of the pooled sample is enumerated, so it is exact with ties
too). With n and m samples its smallest possible p-value is 1 / C(n + m, n): with 3 seeds against
3 that is 0.05, so no difference can be significant at alpha = 0.05 (:func:`min_seeds`).

Conventions (docs/quality.md): everything is minimized. A run's *hitting time* for a target value is the
first evaluation (or elapsed second) at which its best-so-far value is ≤ the target; ``inf`` when
it never gets there. ERT = (hitting times of the runs that reached the target + everything the
other runs spent) ÷ number of runs that reached it — COCO's aRT; ``inf`` when no run reached it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
from scipy.stats import permutation_test, rankdata

from optbench.harness.report.estimate import Estimate

Samples = Sequence[float] | np.ndarray
LEVEL = 0.95
N_BOOT = 2000
MIN_CI_SAMPLES = 8  # below this a percentile bootstrap is little more than [min, max]: report the range
EXACT_SPLITS = 200_000  # enumerate every split up to this many (C(20, 10) = 184 756); beyond, seeded resamples


def _clean(values: Samples) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def bootstrap_distribution(values: Samples, rng: np.random.Generator, statistic: Callable = np.median,
                           n_boot: int = N_BOOT) -> np.ndarray:
    """``n_boot`` values of ``statistic`` over resamples (with replacement) of ``values``."""
    x = _clean(values)
    if len(x) == 0:
        return np.full(n_boot, np.nan)
    return statistic(x[rng.integers(0, len(x), size=(n_boot, len(x)))], axis=1)


def interval(distribution: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of a bootstrap distribution."""
    if np.isnan(distribution).any():
        return math.nan, math.nan
    lo, hi = np.quantile(distribution, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap(values: Samples, statistic: Callable = np.median, level: float = LEVEL,
              n_boot: int = N_BOOT, seed: int = 0) -> Estimate:
    """``statistic`` of ``values`` (NaN ignored) with a seeded percentile-bootstrap CI, or with the
    values' range [min, max] when there are fewer than ``MIN_CI_SAMPLES`` of them."""
    x = _clean(values)
    if len(x) == 0:
        return Estimate(math.nan, math.nan, math.nan)
    if len(x) < MIN_CI_SAMPLES:
        return Estimate(float(statistic(x)), float(x.min()), float(x.max()), "range")
    if np.all(x == x[0]):  # every resample is the same: skip the work (deterministic runs, 0/1 rates)
        return Estimate(float(x[0]), float(x[0]), float(x[0]))
    dist = bootstrap_distribution(x, np.random.default_rng(seed), statistic, n_boot)
    return Estimate(float(statistic(x)), *interval(dist, level))


def worse_p_value(candidate: Samples, best: Samples, seed: int = 0) -> float:
    """Exact one-sided Mann–Whitney p-value for "``candidate`` tends to be *smaller* than ``best``":
    the share of splits of the pooled ranks whose candidate rank sum is ≤ the observed one. Two
    samples made of one single repeated value carry no evidence: p = 1. NaN when a sample is empty."""
    c, b = _clean(candidate), _clean(best)
    if len(c) == 0 or len(b) == 0:
        return math.nan
    if np.all(c == c[0]) and np.all(b == c[0]):
        return 1.0
    ranks = rankdata(np.r_[c, b])
    if min(len(c), len(b)) < 2:  # scipy's permutation test refuses a one-run sample: enumerate the splits
        splits = np.array([sum(s) for s in combinations(ranks, len(c))])
        return float(np.mean(splits <= ranks[:len(c)].sum() + 1e-9))
    result = permutation_test((ranks[:len(c)], ranks[len(c):]), _rank_sum, permutation_type="independent",
                              alternative="less", n_resamples=EXACT_SPLITS, vectorized=True, rng=seed)
    return float(result.pvalue)


def _rank_sum(x: np.ndarray, _y: np.ndarray, axis: int = -1) -> np.ndarray:
    return x.sum(axis=axis)


def smallest_p_value(n: int, m: int) -> float:
    """The smallest p-value the exact rank test can give with ``n`` and ``m`` samples: 1 / C(n+m, n)."""
    return 1.0 / math.comb(n + m, n) if n > 0 and m > 0 else 1.0


def min_seeds(alpha: float) -> int:
    """The smallest number of seeds per candidate (n against n) at which the rank test can give p < alpha."""
    n = 1
    while smallest_p_value(n, n) >= alpha:
        n += 1
    return n


def hitting_time(trace: Sequence[tuple[int, float, float]], target: float, column: int = 0) -> float:
    """First eval index (``column=0``) or elapsed second (``column=1``) at which the best-so-far
    value is ≤ ``target``; ``inf`` if never."""
    for row in trace:
        if row[2] <= target:
            return float(row[column])
    return math.inf


def ert(hits: Samples, spent: Samples) -> float:
    """Expected running time: (Σ hits of successful runs + Σ ``spent`` of the others) ÷ #successes."""
    h, s = np.asarray(hits, dtype=float), np.asarray(spent, dtype=float)
    reached = np.isfinite(h)
    if not reached.any():
        return math.inf
    return float((h[reached].sum() + s[~reached].sum()) / reached.sum())


def runtime_ecdf(hits: Samples) -> tuple[np.ndarray, np.ndarray]:
    """Steps of the runtime ECDF over (run, target) pairs: sorted finite hitting times and the
    fraction of *all* pairs reached by each (pairs never reached keep the curve below 1)."""
    h = np.asarray(hits, dtype=float)
    x = np.sort(h[np.isfinite(h)])
    return x, np.arange(1, len(x) + 1) / max(len(h), 1)
