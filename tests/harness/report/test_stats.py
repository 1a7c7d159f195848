"""Statistics against known answers: bootstrap coverage, Mann–Whitney vs scipy, ERT and ECDF by hand."""

import itertools
import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from optbench.harness.report import stats


def test_bootstrap_ci_covers_the_true_median_at_about_the_stated_rate():
    # 200 samples of 21 exponential draws (true median ln 2); coverage of a 95 % CI has a binomial
    # standard error of 1.5 points at 200 repetitions, so 0.95 ± 0.05 is a ~3-sigma band.
    rng = np.random.default_rng(2024)
    hits = [stats.bootstrap(rng.exponential(size=21), n_boot=1000, seed=r).overlaps(
        stats.Estimate(math.log(2), math.log(2), math.log(2))) for r in range(200)]
    assert 0.90 <= np.mean(hits) <= 0.99


def test_bootstrap_is_seeded_and_ignores_nan():
    x = [3.0, 1.0, np.nan, 2.0, 5.0, 4.0]
    a, b = stats.bootstrap(x, seed=7), stats.bootstrap(x, seed=7)
    assert a == b and a.value == 3.0 and a.low <= 3.0 <= a.high
    assert math.isnan(stats.bootstrap([np.nan]).value)


def _enumerated_p(x, y) -> float:
    """The exact p-value by brute force: share of all splits of the pooled average ranks whose first
    part's rank sum is ≤ the observed one."""
    pooled = np.r_[x, y]
    ranks = np.array([np.sum(pooled < v) + (np.sum(pooled == v) + 1) / 2 for v in pooled])
    observed = ranks[:len(x)].sum()
    sums = [ranks[list(idx)].sum() for idx in itertools.combinations(range(len(pooled)), len(x))]
    return float(np.mean(np.array(sums) <= observed + 1e-9))


def test_rank_test_is_exact_hand_worked_and_matches_scipy_and_brute_force():
    # candidate entirely below best: U = 0, exact one-sided p = 1 / C(6, 3) = 0.05, never below it
    assert stats.worse_p_value([1, 2, 3], [4, 5, 6]) == pytest.approx(0.05)
    assert stats.worse_p_value([1, 2, 3, 4], [5, 6, 7, 8]) == pytest.approx(1 / 70)
    assert stats.worse_p_value([4, 5, 6], [1, 2, 3]) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    for n, m in ((3, 3), (5, 5), (4, 7)):  # no ties: scipy's exact distribution
        x, y = rng.normal(size=n), rng.normal(0.5, size=m)
        assert stats.worse_p_value(x, y) == pytest.approx(mannwhitneyu(x, y, alternative="less", method="exact").pvalue)
    for n, m in ((5, 5), (6, 4)):  # ties (rounding): brute-force enumeration of every split
        x, y = np.round(rng.normal(size=n), 0), np.round(rng.normal(0.5, size=m), 0)
        assert stats.worse_p_value(x, y) == pytest.approx(_enumerated_p(x, y))


def test_smallest_p_value_and_min_seeds():
    assert stats.smallest_p_value(3, 3) == pytest.approx(0.05) and stats.smallest_p_value(4, 4) == pytest.approx(1 / 70)
    assert stats.smallest_p_value(3, 10) == pytest.approx(1 / 286)
    assert (stats.min_seeds(0.05), stats.min_seeds(0.01), stats.min_seeds(0.001)) == (4, 5, 7)  # C(10, 5) = 252


def test_few_samples_give_a_range_not_a_ci():
    est = stats.bootstrap([3.0, 1.0, 2.0])
    assert (est.value, est.low, est.high, est.kind) == (2.0, 1.0, 3.0, "range")
    assert stats.bootstrap(np.arange(10.0)).kind == "CI"


def test_mann_whitney_identical_constant_samples_carry_no_evidence():
    assert stats.worse_p_value([0.5] * 5, [0.5] * 5) == 1.0
    assert math.isnan(stats.worse_p_value([], [1.0]))


TRACES = {  # (eval index, elapsed s, best-so-far value); runs spent 20, 20 and 15 evaluations
    "A": [(1, 0.1, 5.0), (4, 0.4, 2.0), (10, 1.0, 0.5)],
    "B": [(2, 0.2, 3.0), (7, 0.7, 0.9)],
    "C": [(1, 0.1, 4.0)],
}
SPENT = [20, 20, 15]


def test_hitting_times_and_ert_hand_worked():
    hits = {t: [stats.hitting_time(tr, t) for tr in TRACES.values()] for t in (1.0, 3.0, 0.1)}
    assert hits[1.0] == [10, 7, math.inf]
    assert hits[3.0] == [4, 2, math.inf]
    assert stats.ert(hits[1.0], SPENT) == pytest.approx((10 + 7 + 15) / 2)
    assert stats.ert(hits[3.0], SPENT) == pytest.approx((4 + 2 + 15) / 2)
    assert stats.ert(hits[0.1], SPENT) == math.inf
    assert stats.hitting_time(TRACES["B"], 1.0, column=1) == 0.7


def test_runtime_ecdf_hand_worked():
    hits = [stats.hitting_time(tr, t) for tr in TRACES.values() for t in (1.0, 3.0, 0.1)]
    x, y = stats.runtime_ecdf(hits)
    assert x.tolist() == [2, 4, 7, 10]
    assert y.tolist() == pytest.approx([1 / 9, 2 / 9, 3 / 9, 4 / 9])


def test_the_rank_test_takes_a_one_run_sample_hand_worked():
    # a deterministic optimizer runs once per problem: one sample against several, and several against one
    assert stats.worse_p_value([1.0], [2.0, 3.0, 4.0]) == pytest.approx(1 / 4)  # its rank 1 of 4 splits
    assert stats.worse_p_value([1.0, 2.0], [3.0]) == pytest.approx(1 / 3)  # rank sums 3, 4, 5; observed 3
    assert stats.worse_p_value([5.0], [2.0, 3.0]) == pytest.approx(1.0)
