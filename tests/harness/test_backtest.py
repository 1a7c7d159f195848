"""The backtest workload: its problems, the decision rule, the (0, 0) rule, figures and the command."""

import json

import numpy as np
import pytest

from optbench import objectives
from optbench.harness.cli import main
from optbench.harness.core.errors import HarnessError
from optbench.harness.workloads.maxdiff import backtest as bt
from optbench.objectives.maxdiff_data import goog

from ..objectives.numpy_maxdiff import maxdiff_value_np


def test_the_workload_is_280_distinct_goog_problems():
    probs = bt.problems()
    assert len(probs) == 280 == len({(p.window, p.always_on, p.close_at_eod) for p in probs})
    assert probs[0].options == dict(data="goog", window=0, always_on=False, close_at_eod=False)


def test_decision_keeps_the_larger_profit_and_false_on_ties():
    probs = bt.problems(range(2))  # per window: entry/exit F, T, always-on F, T
    profits = np.array([0.2, 0.3, 0.1, 0.1,   # window 0: True wins; tie keeps False
                        0.5, -0.1, -0.2, -0.1])  # window 1: False wins; True wins
    assert bt.decisions(probs, profits) == {(0, False): (True, 0.3), (0, True): (False, 0.1),
                                            (1, False): (False, 0.5), (1, True): (True, -0.1)}
    with pytest.raises(HarnessError, match="both close policies"):
        bt.decisions(probs[:1], profits[:1])


def test_a_result_worse_than_zero_shifts_becomes_zero_shifts():
    probs = bt.problems(range(1))
    objs = bt.build(probs)
    days = goog(0)
    # profit by the independent numpy implementation
    at = lambda x, p: -maxdiff_value_np(x[0], x[1], days, p.close_at_eod, p.always_on)  # noqa: E731
    grid = [(h, l) for h in np.linspace(-0.03, 0.03, 7) for l in np.linspace(-0.03, 0.03, 7)]
    bad = np.array([min(grid, key=lambda x: at(x, p)) for p in probs])  # each problem's worst grid point
    assert all(at(x, p) < at((0.0, 0.0), p) for x, p in zip(bad, probs))
    mixed = bad.copy()
    mixed[0] = list(objs[0].reference().point.values())  # the optimum: kept
    assert at(mixed[0], probs[0]) > at((0.0, 0.0), probs[0])
    points, profits = bt.never_worse_than_zero(objs, mixed)
    np.testing.assert_array_equal(points[0], mixed[0])
    np.testing.assert_array_equal(points[1:], 0.0)
    expected = [at(x, p) for x, p in zip(points, probs)]
    np.testing.assert_allclose(profits, expected, atol=1e-12)


def test_profit_ratio_is_profit_over_reference_and_penalizes_shortfalls_below_zero():
    ratio = bt.profit_ratio(np.array([0.5, 1.0, -0.3, -0.2, 0.0, -0.1]), np.array([1.0, 1.0, -0.2, -0.2, 0.0, 0.0]))
    np.testing.assert_allclose(ratio, [0.5, 1.0, 0.5, 1.0, 1.0, -np.inf])


def test_exact_workload_reaches_every_reference_and_counts_the_baseline():
    probs = bt.problems(range(2))
    exact = bt.run("batched.exact", probs=probs)
    # the reference's best candidate (its value is the supremum, approached EPS beside it: not attainable)
    objs = [objectives.get("maxdiff", **p.options) for p in probs]
    reference = np.array([-o.exact_value(o.reference().point) for o in objs])
    reference = np.maximum(reference, exact.profits)  # the (0, 0) rule may beat a negative optimum
    np.testing.assert_allclose(exact.profits, reference, atol=1e-12)
    np.testing.assert_allclose(bt.reference_profits(probs), reference, atol=1e-12)
    grid = bt.run("batched.grid", probs=probs, options=dict(points_per_axis=5, rounds=1))
    figures = bt.summarize(grid, probs, bt.reference_profits(probs), baseline=exact)
    assert figures["worse_than_baseline"] == int(np.sum(grid.profits < exact.profits - 1e-12)) > 0
    assert bt.summarize(exact, probs, reference, baseline=exact)["median_ratio"] == 1.0


def test_one_by_one_runs_go_through_the_instrument():
    probs = bt.problems([3])
    one = bt.run("batched.exact", probs=probs, one_by_one=True)
    together = bt.run("batched.exact", probs=probs)
    np.testing.assert_allclose(one.profits, together.profits, atol=1e-12)
    assert np.all(one.problem_wall_s > 0) and np.isnan(together.problem_wall_s).all()
    assert np.all(one.n_evals == together.n_evals)


def test_backtest_command_prints_the_figures(capsys):
    main(["backtest", "--windows", "1", "--baseline", "batched.grid", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"batched.exact", "batched.grid"}
    assert figures["batched.exact"]["p5_ratio"] == 1.0 and figures["batched.exact"]["worse_than_baseline"] == 0


@pytest.mark.slow
def test_workers_split_the_workload_and_keep_the_order():
    probs = bt.problems(range(3))
    single = bt.run("batched.exact", probs=probs)
    parallel = bt.run("batched.exact", probs=probs, workers=2)
    np.testing.assert_allclose(parallel.points, single.points, atol=0)
