"""Contracts over the registries, not over hand-typed lists: every registered objective (with its
default options) and every registered optimizer, plug-ins included — a plug-in registered here
below is tested by the same loops, as an installed one (the example plug-in) is."""

from __future__ import annotations

import math

import numpy as np
import pytest

import optbench
from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.instrument import Instrument
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import describe, failed_record, run_cell
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.objectives import Reference


class CoordinateStep(OptimizerAdapter):
    """A plug-in optimizer: seeded random start, then ±step along each axis while it improves."""

    name = "contract.coordinate"
    defaults = {"step": 0.25}

    def minimize(self, problem: Instrument, seed: int) -> None:
        rng = np.random.default_rng(seed)
        x = rng.uniform(problem.lower, problem.upper)
        best, step = problem.evaluate(x), self.options["step"] * (problem.upper - problem.lower)
        while True:
            for j in range(len(x)):
                for sign in (1.0, -1.0):
                    trial = x.copy()
                    trial[j] = np.clip(trial[j] + sign * step[j], problem.lower[j], problem.upper[j])
                    value = problem.evaluate(trial)
                    if value < best:
                        x, best = trial, value
            step = step / 2


def _bowl(xs):
    """A plug-in objective (batched, numpy): minimum 0 at (a=0.3, n=4, kind="y")."""
    return (xs[:, 0] - 0.3) ** 2 + (xs[:, 1] - 4.0) ** 2 + (xs[:, 2] != 1.0)


optbench.register_objective("contract.bowl", optbench.objective(
    _bowl, {"a": (-1.0, 1.0), "n": (0, 9), "kind": ["x", "y", "z"]}, batched=True,
    reference=Reference(0.0, {"a": 0.3, "n": 4, "kind": "y"})))
optbench.register_optimizer("contract.coordinate", CoordinateStep)

# Test doubles (``test.*``, e.g. tests/harness/matrix_doubles.py: one hangs, one segfaults) break the
# contract on purpose; every other registered name is held to it.
DOUBLES = "test."
OBJECTIVES = [name for name in objectives.names() if not name.startswith(DOUBLES)]
OPTIMIZERS = [name for name in optimizers.names() if not name.startswith(DOUBLES)]
# A GP step costs ~0.2 s: the contract needs only a few. batched.exact evaluates its whole breakpoint
# grid at once (3189 points at n=60) and refuses a smaller budget.
BUDGET = {"botorch.qlogei": 6, "batched.exact": 4000}
CHEAP = ("maxdiff", {"n": 60})  # every optimizer solves it: general ones and those that require its family


def test_every_registered_optimizer_solves_the_cheap_objective():
    family = describe(objectives.get(CHEAP[0], **CHEAP[1]))["family"]
    assert set(OPTIMIZERS) <= set(optimizers.names(family))
    assert {optimizers.adapter_class(name).requires for name in OPTIMIZERS} <= {"", family}


def _points(objective, k: int = 8, seed: int = 0) -> np.ndarray:
    lower, upper = objective.space.relaxed_bounds()
    return objective.space.snap(np.random.default_rng(seed).uniform(lower, upper, (k, objective.space.dim)))


def test_the_plugins_registered_here_are_in_the_loops():
    assert "contract.bowl" in OBJECTIVES and "contract.coordinate" in OPTIMIZERS
    assert objectives.REGISTRY.origin("contract.bowl") == optimizers.REGISTRY.origin("contract.coordinate") == "run time"


@pytest.mark.parametrize("name", OBJECTIVES)
def test_objective_batch_equals_scalar_and_rebuilding_reproduces_it(name):
    objective = objectives.get(name)
    xs = _points(objective)
    scalar = np.array([objective.compute(x).item() for x in xs])
    np.testing.assert_allclose(objective.batch(xs), scalar, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(objectives.get(name).batch(xs), objective.batch(xs))
    assert objective.knowledge in ("optimum", "bound", "none")


@pytest.mark.parametrize("name", OBJECTIVES)
def test_objective_reference_matches_what_it_declares(name):
    objective = objectives.get(name)
    reference = objective.reference()
    if objective.knowledge == "none":
        assert reference is None
        return
    assert reference is not None and math.isfinite(reference.value)
    sample = objective.batch(_points(objective, 64, seed=1))
    assert reference.value <= sample.min() + 1e-9  # no sampled point beats an optimum or a bound
    if objective.knowledge == "optimum":
        x = objective.space.encode(reference.point)  # raises if the point is out of bounds
        objective.space.check_array(x[None, :])
        # the point attains the optimum, or (MaxDiff: strict fills) approaches it within slope × EPS, never beats it
        attained = objective.exact_value(reference.point)
        assert reference.value - 1e-12 <= attained <= reference.value + 1e-6 * max(1.0, abs(reference.value))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_obeys_the_budget_and_reproduces_with_the_same_seed(name):
    budget = BUDGET.get(name, 20)
    cell = Cell(CHEAP[0], name, Budget(budget), seed=3, options=dict(CHEAP[1]))
    first, again = run_cell(cell, with_reference=False), run_cell(cell, with_reference=False)
    assert first.status == "ok", first.message
    assert 1 <= first.n_evals <= budget
    assert (again.point, again.value, again.n_evals) == (first.point, first.value, first.n_evals)


def test_the_plugin_optimizer_runs_on_the_plugin_objective_and_the_record_says_what_it_knows():
    record = optbench.run("contract.bowl", "contract.coordinate", max_evals=50, seed=0)
    p = record.point
    by_hand = (p["a"] - 0.3) ** 2 + (p["n"] - 4) ** 2 + (p["kind"] != "y")
    assert record.status == "ok" and record.n_evals == 50 and record.value == pytest.approx(by_hand, rel=1e-12)
    assert (record.knowledge, record.reference_value, record.family) == ("optimum", 0.0, "_bowl")


@pytest.mark.parametrize("name", OBJECTIVES)
def test_a_failed_cells_record_declares_what_the_built_objective_does(name):
    failed = failed_record(Cell(name, "random", Budget(5)), "crashed", "the worker died")
    built = describe(objectives.get(name))
    assert {k: getattr(failed, k) for k in built} == built


def test_a_failed_record_of_an_unknown_objective_keeps_the_defaults():
    failed = failed_record(Cell("no.such.objective", "random", Budget(5)), "error", "unknown")
    assert (failed.family, failed.gain, failed.knowledge) == ("", False, "optimum")
