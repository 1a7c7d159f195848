"""Statistics against known answers: bootstrap coverage, Mann–Whitney vs scipy, ERT and ECDF by hand."""

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


def test_sum_of_medians_point_estimate():
    est = stats.bootstrap_sum_of_medians([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]], seed=1)
    assert est.value == 22.0 and est.low <= 22.0 <= est.high


def test_mann_whitney_hand_worked_and_matches_scipy():
    # candidate entirely below best: U = 0, exact one-sided p = 1 / C(6, 3) = 0.05
    assert stats.worse_p_value([1, 2, 3], [4, 5, 6]) == pytest.approx(0.05)
    assert stats.worse_p_value([4, 5, 6], [1, 2, 3]) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    for n, m in ((5, 5), (8, 12), (30, 25)):
        x, y = np.round(rng.normal(size=n), 1), np.round(rng.normal(0.3, size=m), 1)  # rounding makes ties
        assert stats.worse_p_value(x, y) == pytest.approx(mannwhitneyu(x, y, alternative="less").pvalue)


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
