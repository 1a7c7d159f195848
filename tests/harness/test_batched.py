"""Batched optimizers: exact equals reference(), alone equals stacked, honest counts, large n, errors."""

import numpy as np
import pytest
import torch

from optbench import objectives
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_cell
from optbench.harness.optimizers import make
from optbench.harness.workloads.maxdiff.batched import MaxDiffStack
from optbench.harness.workloads.maxdiff.batched_exact import candidate_grid, solve_exact
from optbench.objectives.maxdiff import breakpoint_candidates, day_tensors
from optbench.objectives.maxdiff_data import MaxDiffDays

BATCHED = ["batched.exact", "batched.grid", "batched.de"]
# A mixed stack: both close policies, both strategies, different lengths (padding), ar200 and goog.
MIXED = [dict(seed=3, n=60, close_at_eod=False), dict(seed=4, n=80, close_at_eod=True, always_on=True),
         dict(data="goog", window=5, close_at_eod=False, always_on=True),
         dict(data="goog", window=6, close_at_eod=True), dict(seed=5, n=40, close_at_eod=False, always_on=True)]
SMALL = dict(points_per_axis=9, rounds=3)  # keep the searches quick
OPTIONS = {"batched.exact": {}, "batched.grid": SMALL, "batched.de": dict(popsize=12, generations=10)}


def profit(obj, point):
    return -obj.exact_value({"h": float(point[0]), "l": float(point[1])})


def alone(name, opts, seed=0):
    """One problem through run_cell, the normal adapter path."""
    return run_cell(Cell("maxdiff", name, Budget(10**9), seed, opts, OPTIONS[name]), with_reference=False)


@pytest.mark.parametrize("opts", [dict(seed=s, n=60, close_at_eod=e, always_on=a)
                                  for s in (1, 2) for e in (False, True) for a in (False, True)])
def test_exact_equals_the_reference_optimum(opts):
    obj = objectives.get("maxdiff", **opts)
    record = alone("batched.exact", opts)
    assert record.status == "ok"
    assert record.value == pytest.approx(obj.exact_value(obj.reference().point), abs=1e-12)  # the same best candidate


@pytest.mark.parametrize("seed", range(4))
def test_exact_stays_exact_when_breakpoints_coincide(seed):
    """Prices on a 0.5 % grid: many equal breakpoints, breakpoints on the box ends and at 0."""
    rng = np.random.default_rng(seed)
    grid = lambda a: np.round(a / 0.005) * 0.005  # noqa: E731
    c = grid(rng.normal(0, 0.01, 30))
    days = MaxDiffDays(c, c + grid(np.abs(rng.normal(0, 0.01, 30))), c - grid(np.abs(rng.normal(0, 0.01, 30))),
                       grid(rng.normal(0.005, 0.015, 30)), grid(rng.normal(-0.005, 0.015, 30)),
                       np.where(rng.random(30) < 0.5, 1.0, -1.0), 0.0015)
    for eod in (False, True):
        for always_on in (False, True):
            obj = objectives.get("maxdiff", close_at_eod=eod, always_on=always_on)
            obj.days, obj.tensors = days, day_tensors(days, always_on, "cpu", "float64")  # a test double
            obj._exact = obj.tensors
            assert profit(obj, solve_exact([obj])[0][0]) == pytest.approx(-obj.exact_value(obj.reference().point), abs=1e-12)


def test_exact_stays_exact_when_blocks_are_tiny():
    """Chunking the l-candidates (many row blocks, running sums carried across) changes nothing."""
    obj = objectives.get("maxdiff", seed=9, n=120)
    blocked = solve_exact([obj], chunk_elems=2_000)[0][0]
    assert profit(obj, blocked) == pytest.approx(-obj.exact_value(obj.reference().point), abs=1e-12)


def test_exact_searches_a_subset_of_specs_candidates():
    objs = [objectives.get("maxdiff", **o) for o in MIXED]
    sizes = solve_exact(objs)[1]
    for obj, size in zip(objs, sizes):
        h, l = candidate_grid(obj)
        spec_h = breakpoint_candidates(obj.days.hp, obj.days.H)
        spec_l = breakpoint_candidates(obj.days.lp, obj.days.L)
        assert np.all(np.diff(h) > 0) and np.all(np.diff(l) > 0)
        assert np.isin(h, spec_h).all() and np.isin(l, spec_l).all()
        assert size == len(h) * len(l) and 3 * size < len(spec_h) * len(spec_l)  # the full breakpoint grid: 3-30× larger


@pytest.mark.parametrize("name", BATCHED)
def test_a_problem_alone_equals_its_result_inside_a_stack(name):
    objs = [objectives.get("maxdiff", **o) for o in MIXED]
    stacked = make(name, **OPTIONS[name]).solve_many(objs, seed=7)
    for obj, opts, point in zip(objs, MIXED, stacked.points):
        record = alone(name, opts, seed=7)
        assert record.value == pytest.approx(-profit(obj, point), abs=1e-12)
        np.testing.assert_allclose([record.point["h"], record.point["l"]], point, atol=1e-12)


@pytest.mark.parametrize("name, bound", [("batched.grid", 0.9), ("batched.de", 0.9)])
def test_black_box_searches_reach_their_stated_quality_on_ar200(name, bound):
    objs = [objectives.get("maxdiff", seed=s, close_at_eod=e) for s in (0, 1) for e in (False, True)]
    points = make(name).solve_many(objs, seed=0).points
    for obj, point in zip(objs, points):
        assert profit(obj, point) >= bound * -obj.reference().value


def test_exact_counts_its_grid_and_refuses_a_budget_too_small_for_it():
    opts = dict(seed=2, n=50)
    h, l = candidate_grid(objectives.get("maxdiff", **opts))
    assert alone("batched.exact", opts).n_evals == len(h) * len(l)
    small = run_cell(Cell("maxdiff", "batched.exact", Budget(100), 0, opts), with_reference=False)
    assert small.status == "error" and "left in the budget" in small.message and small.n_evals == 0


def test_stacked_evaluation_equals_each_objective():
    objs = [objectives.get("maxdiff", **o) for o in MIXED]
    xs = np.random.default_rng(0).uniform(-0.03, 0.03, (len(objs), 16, 2))
    values = MaxDiffStack(objs, chunk_elems=3_000).evaluate(xs)
    for obj, x, v in zip(objs, xs, values):
        np.testing.assert_allclose(v, obj.batch(x), rtol=0, atol=1e-12)


def test_ten_thousand_days_run_in_bounded_blocks():
    obj = objectives.get("maxdiff", seed=1, n=10_000)
    point = solve_exact([obj])[0][0]
    others = np.random.default_rng(0).uniform(-0.03, 0.03, (256, 2))
    assert profit(obj, point) >= -obj.batch(others).min() - 1e-12
    de = run_cell(Cell("maxdiff", "batched.de", Budget(10**9), 0, dict(seed=1, n=10_000),
                       dict(popsize=8, generations=3)), with_reference=False)
    assert de.status == "ok" and profit(obj, point) >= -de.value - 1e-12


def test_searches_work_on_any_objective_but_exact_needs_maxdiff():
    record = run_cell(Cell("sphere", "batched.de", Budget(10**9), 0, dict(dim=3)), with_reference=False)
    assert record.status == "ok" and record.value < 1.0
    failed = run_cell(Cell("sphere", "batched.exact", Budget(10**9), 0, dict(dim=2)), with_reference=False)
    assert failed.status == "error" and "solves only 'maxdiff' objectives" in failed.message
    with pytest.raises(HarnessError, match="MaxDiff"):
        make("batched.grid").solve_many([objectives.get("sphere", dim=2)], seed=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_gives_the_cpu_answer():
    cpu = [objectives.get("maxdiff", **o) for o in MIXED]
    gpu = [objectives.get("maxdiff", device="cuda", **o) for o in MIXED]
    for name in BATCHED:
        a = make(name, **OPTIONS[name]).solve_many(cpu, seed=1).points
        b = make(name, **OPTIONS[name]).solve_many(gpu, seed=1).points
        for obj, p, q in zip(cpu, a, b):
            assert profit(obj, q) == pytest.approx(profit(obj, p), abs=1e-9)
