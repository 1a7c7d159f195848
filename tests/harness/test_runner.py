"""run_cell: records from the instrument, failures become rows, re-evaluated values."""

import time

import numpy as np
import pytest

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_cell, validate
from optbench.harness.optimizers.base import OptimizerAdapter


class Exploding(OptimizerAdapter):
    """Evaluates three points, then raises (a test double)."""

    name = "test.exploding"

    def minimize(self, problem, seed):
        for x in ([0.0, 0.0], [1.0, 1.0], [2.0, 2.0]):
            problem.evaluate(np.array(x))
        raise RuntimeError("boom")


class ClaimsTooMuch(OptimizerAdapter):
    """Evaluates one point and 'returns' a better one it never evaluated (a test double)."""

    name = "test.liar"

    def minimize(self, problem, seed):
        problem.evaluate(np.array([5.0, 5.0]))
        return {"x0": 0.0, "x1": 0.0}


optimizers.register("test.exploding", f"{__name__}:Exploding")
optimizers.register("test.liar", f"{__name__}:ClaimsTooMuch")


def test_a_crashing_optimizer_becomes_an_error_row_that_keeps_its_best():
    rec = run_cell(Cell("sphere", "test.exploding", Budget(10), options={"dim": 2}))
    assert rec.status == "error" and "RuntimeError: boom" in rec.message
    assert rec.n_evals == 3 and rec.point is not None
    obj = objectives.get("sphere", dim=2)
    assert rec.value == pytest.approx(min(obj({"x0": v, "x1": v}) for v in (0.0, 1.0, 2.0)))


def test_the_value_is_the_instruments_best_never_the_optimizers_claim():
    rec = run_cell(Cell("sphere", "test.liar", Budget(10), options={"dim": 2}))
    obj = objectives.get("sphere", dim=2)
    assert rec.point == {"x0": 5.0, "x1": 5.0}
    assert rec.value == pytest.approx(obj({"x0": 5.0, "x1": 5.0}))


def test_record_fields_are_consistent():
    outer = time.perf_counter()
    rec = run_cell(Cell("maxdiff", "random", Budget(200), seed=3))
    outer = time.perf_counter() - outer  # an independent clock around the whole call
    assert rec.status == "ok" and rec.n_evals == 200
    # the parts are each measured, non-negative and inside the run; the run inside the call
    assert rec.compute_s > 0 and rec.item_s > 0 and rec.overhead_s >= 0
    assert rec.compute_s + rec.item_s <= rec.wall_s <= outer
    assert rec.value == pytest.approx(objectives.get("maxdiff").exact_value(rec.point), abs=0)
    assert rec.reference_value <= rec.value
    assert rec.trace[-1][2] == pytest.approx(rec.value, abs=1e-12)
    assert {"python", "torch", "scipy", "machine", "git_commit"} <= set(rec.versions)


def test_same_seed_same_result():
    a = run_cell(Cell("ma_crossover", "random", Budget(100), seed=5))
    b = run_cell(Cell("ma_crossover", "random", Budget(100), seed=5))
    assert (a.point, a.value, a.n_evals) == (b.point, b.value, b.n_evals)


def test_unknown_optimizer_and_option_are_clear_errors():
    with pytest.raises(HarnessError, match="unknown optimizer 'nope'"):
        validate(Cell("sphere", "nope", Budget(5)))
    with pytest.raises(HarnessError, match="unknown option"):
        validate(Cell("sphere", "random", Budget(5), optimizer_options={"colour": 1}))
    with pytest.raises(objectives.ObjectiveError, match="unknown option"):
        validate(Cell("sphere", "random", Budget(5), options={"colour": 1}))


def test_a_run_cut_by_its_cap_is_capped_and_its_budget_stays_the_evaluations():
    cell = Cell("rastrigin", "random", Budget(max_evals=10**9), 0, {"dim": 2}, cap_s=0.05)
    record = run_cell(cell, with_reference=False)
    assert record.status == "capped" and 0 < record.n_evals < 10**9 and record.value is not None
    assert record.budget == {"max_evals": 10**9, "max_seconds": None} and "capped at 0.05 s" in record.message
    uncut = run_cell(Cell("rastrigin", "random", Budget(max_evals=50), 0, {"dim": 2}, cap_s=60.0),
                     with_reference=False)
    assert uncut.status == "ok" and uncut.n_evals == 50


@pytest.mark.parametrize("raised, named", [(SystemExit(7), "SystemExit (code 7)"),
                                           (KeyboardInterrupt(), "KeyboardInterrupt")])
def test_systemexit_or_keyboardinterrupt_in_an_evaluation_is_a_row_naming_it(raised, named):
    from optbench.harness.execution.sandbox import Sandbox

    def leave(x):
        raise raised

    name = f"leaves_{type(raised).__name__}"
    objectives.register(name, objectives.objective(leave, bounds={"x": (0.0, 1.0)}))
    sandbox = Sandbox()
    try:
        record = sandbox.run(Cell(name, "random", Budget(5), 0), timeout_s=120)  # a real forked child
    finally:
        sandbox.close()  # the child ended after reporting: reap it (later tests count leftover children)
    assert record.status == "crashed" and named in record.message and "exit code 1" not in record.message
