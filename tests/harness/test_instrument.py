"""The instrument: budget never exceeded, monotone trace, time split, non-finite policy."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench import objectives
from optbench.harness.core.budget import Budget, BudgetExhausted
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.instrument import NONFINITE_FALLBACK, Instrument


def drive(instrument, batches):
    """Evaluate batches (k=1 uses the scalar path) until the budget stops us."""
    try:
        for xs in batches:
            if len(xs) == 1:
                instrument.evaluate(xs[0])
            else:
                instrument.evaluate_batch(xs)
    except BudgetExhausted:
        pass


@settings(max_examples=40, deadline=None)
@given(budget=st.integers(1, 60), sizes=st.lists(st.integers(1, 17), min_size=1, max_size=12))
def test_budget_is_never_exceeded_and_trace_is_monotone(budget, sizes):
    obj = objectives.get("sphere", dim=2)
    inst = Instrument(obj, Budget(budget))
    rng = np.random.default_rng(0)
    drive(inst, [rng.uniform(-5, 5, (k, 2)) for k in sizes])
    assert inst.n_evals == min(budget, sum(sizes))
    values = [v for _, _, v in inst.trace]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    evals = [i for i, _, _ in inst.trace]
    assert evals == sorted(evals) and (not evals or evals[-1] <= inst.n_evals)
    assert inst.best_value == pytest.approx(obj(obj.space.decode(inst.best_x)))


def test_batch_is_cut_at_the_budget_and_the_cut_part_is_recorded():
    obj = objectives.get("sphere", dim=2)
    inst = Instrument(obj, Budget(5))
    xs = np.array([[9.0, 9.0]] * 4 + [list(obj.x_star)] + [[0.0, 0.0]] * 3)  # the optimum is the 5th
    with pytest.raises(BudgetExhausted):
        inst.evaluate_batch(xs)
    assert inst.n_evals == 5 and inst.best_value == pytest.approx(0.0, abs=1e-12)


class _Clock:
    """A fake clock: the test decides how long each step takes."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _ValueOnDevice:
    """A computed value whose host transfer (``.item()``) takes ``item_s`` on the fake clock."""

    def __init__(self, value: float, clock: _Clock, item_s: float) -> None:
        self.value, self.clock, self.item_s = value, clock, item_s

    def item(self) -> float:
        self.clock.now += self.item_s
        return self.value


def test_compute_and_item_are_timed_apart():
    # compute costs 3 s and .item() 5 s per evaluation on the fake clock: the split must say 12 and 20 for
    # four evaluations (swapping, merging or dropping either side fails)
    clock, obj = _Clock(), objectives.get("sphere", dim=2)
    real = obj.compute

    def compute(x):
        clock.now += 3.0
        return _ValueOnDevice(real(x).item(), clock, 5.0)

    obj.compute = compute  # type: ignore[method-assign]
    inst = Instrument(obj, Budget(4), clock=clock)
    for x in ([0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [0.5, 2.0]):
        inst.evaluate(np.array(x))
    assert (inst.n_evals, inst.compute_s, inst.item_s) == (4, 12.0, 20.0)
    assert inst.elapsed_s == 32.0


def test_time_split_adds_up_and_counts_every_evaluation():
    obj = objectives.get("maxdiff")
    inst = Instrument(obj, Budget(50))
    drive(inst, [np.zeros((1, 2))] * 10 + [np.zeros((30, 2))])
    assert inst.n_evals == 40
    assert inst.compute_s > 0 and inst.item_s > 0
    assert inst.compute_s + inst.item_s <= inst.elapsed_s


def test_wall_time_budget_stops_the_run():
    ticks = iter(range(1000))
    inst = Instrument(objectives.get("sphere", dim=2), Budget(max_seconds=10), clock=lambda: float(next(ticks)))
    with pytest.raises(BudgetExhausted, match="wall-time"):
        for _ in range(100):
            inst.evaluate([0.0, 0.0])
    assert 0 < inst.n_evals < 10


class NaNSphere(objectives.Objective):
    """Sphere that returns NaN left of x0 = -1 and +inf right of x0 = 4 (a test double)."""

    name = "nan_sphere"
    space = objectives.SearchSpace((objectives.FloatParam("x0", -5.0, 5.0),))
    options = {}

    def compute(self, x):
        v = float(x[0]) ** 2
        return torch.tensor(math.nan if x[0] < -1 else math.inf if x[0] > 4 else v)

    def compute_batch(self, xs):
        return torch.stack([self.compute(x) for x in xs])

    def reference(self):
        return objectives.Reference(0.0, {"x0": 0.0})


def test_nonfinite_values_get_the_worst_finite_value_and_never_become_best():
    inst = Instrument(NaNSphere(), Budget(20))
    assert inst.evaluate([-3.0]) == NONFINITE_FALLBACK  # nothing finite seen yet
    assert inst.evaluate([2.0]) == 4.0
    assert inst.evaluate([4.5]) == 4.0  # +inf -> worst finite so far
    assert inst.evaluate([1.0]) == 1.0
    # in order: NaN -> worst so far (4), then 9 is seen, then +inf -> 9
    np.testing.assert_array_equal(inst.evaluate_batch([[-2.0], [3.0], [5.0]]), [4.0, 9.0, 9.0])
    assert inst.n_nonfinite == 4 and inst.best_value == 1.0 and inst.n_evals == 7


@pytest.mark.parametrize("kwargs", [dict(), dict(max_evals=0), dict(max_evals=-3), dict(max_evals=2.5),
                                    dict(max_seconds=0.0), dict(max_seconds=float("nan"))])
def test_bad_budgets_are_refused(kwargs):
    with pytest.raises(HarnessError):
        Budget(**kwargs)


def test_nonfinite_point_from_an_optimizer_is_an_error():
    inst = Instrument(objectives.get("sphere", dim=2), Budget(5))
    with pytest.raises(objectives.ObjectiveError, match="non-finite point"):
        inst.evaluate([float("nan"), 0.0])


def test_discrete_axes_are_snapped_into_the_space():
    obj = objectives.get("ma_crossover")
    inst = Instrument(obj, Budget(5))
    lo, hi = inst.lower, inst.upper
    inst.evaluate(hi)  # relaxed upper corner -> fast=50, slow=250, ma_type=ema
    assert obj.space.decode(inst.best_x) == {"fast": 50, "slow": 250, "ma_type": "ema"}
    inst.evaluate(lo)
    assert inst.n_evals == 2


@pytest.mark.parametrize("extra", [-1, 1, 2])
def test_a_batch_of_the_wrong_length_is_an_error_row_naming_the_objective_and_the_shapes(extra):
    from optbench.harness.core.record import Cell
    from optbench.harness.core.runner import run_cell

    class Miscounting(objectives.SyntheticObjective):
        def compute_batch(self, xs):
            values = super().compute_batch(xs)
            return torch.cat([values] * 2) if extra == 2 else values[:-1] if extra < 0 else torch.cat([values, values[:1]])

    objectives.register(f"miscounting{extra}", lambda dim=2: Miscounting("sphere", dim=dim))
    record = run_cell(Cell(f"miscounting{extra}", "random", Budget(50), 0))
    assert record.status == "error" and record.n_evals < 50  # the bad batch is not counted
    returned = {-1: 49, 1: 51, 2: 100}[extra]  # random search's first batch: the whole budget of 50
    assert f"objective 'sphere': compute_batch returned shape ({returned},) for 50 points" in record.message
