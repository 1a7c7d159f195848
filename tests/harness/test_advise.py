"""``optbench advise``: the sizing arithmetic against hand-worked figures, a real plan on a cheap
objective, and (OPTBENCH_SLOW=1) the whole command on the example plug-in within its minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from optbench.harness import advise
from optbench.harness.advise import Calibration, matrix_seconds, size
from optbench.harness.budget import HarnessError

CHEAP = Calibration("random", eval_s=1e-4, overhead_s=0.0, evals=40)
SLOW = Calibration("slow.one", eval_s=1e-4, overhead_s=2.0, evals=40)  # 40 s per run of 20
TPE = Calibration("optuna.tpe", eval_s=1e-4, overhead_s=2e-3, evals=40)


def test_matrix_seconds_by_hand():
    # 3 seeds × 1 budget of 100 evaluations at 1 ms: cells of 0.1 s + 0.05 s overhead, on 1 worker at 80 %
    cal = {"random": Calibration("random", 1e-3, 0.0, 40)}
    assert matrix_seconds(cal, [100], 3, 1) == pytest.approx(advise.POOL_START_S + 3 * 0.15 / 0.8)
    # one long cell bounds the matrix from below, however many workers
    assert matrix_seconds(cal, [10_000], 1, 64) == pytest.approx(advise.POOL_START_S + 10.0 + 0.05)


def test_an_overhead_that_grows_with_the_history_is_scaled_with_the_budget():
    assert TPE.cell_s(40) == pytest.approx(40 * (1e-4 + 2e-3))
    assert TPE.cell_s(400) == pytest.approx(400 * (1e-4 + 2e-3 * 5))  # 400 / (2 × 40)
    assert CHEAP.cell_s(400) == pytest.approx(0.04)


def test_size_takes_the_largest_budget_that_fits_and_drops_what_cannot():
    plan = size("sphere", {}, {"random": CHEAP, "optuna.tpe": TPE, "slow.one": SLOW}, available_s=30.0, workers=2)
    assert plan.optimizers == ["random", "optuna.tpe"] and "slow.one" in plan.dropped
    top, fits = plan.budgets[-1], lambda b: advise.SAFETY * matrix_seconds(
        plan.calibrations, advise.budgets_for(b), 3, 2) <= 30.0
    assert fits(top) and not fits(int(top * 1.1) + 1)  # maximal up to the rounding to 2 significant digits
    assert plan.budgets == [top // 4, top] and plan.seeds == 3
    assert plan.estimate_s == pytest.approx(matrix_seconds(plan.calibrations, plan.budgets, 3, 2))
    cells = plan.cells()
    assert len(cells) == 2 * 2 * 3 and {c.seed for c in cells} == {0, 1, 2}
    cap = {(c.optimizer, c.budget.max_evals): c.budget.max_seconds for c in cells}
    assert cap[("optuna.tpe", top)] == pytest.approx(max(1.0, advise.CAP_FACTOR * TPE.cell_s(top)), abs=0.05)


def test_spare_time_at_the_largest_budget_buys_seeds_and_too_little_time_is_refused():
    plan = size("sphere", {}, {"random": CHEAP}, available_s=200.0, workers=2)
    assert plan.budgets == [advise.MAX_BUDGET // 4, advise.MAX_BUDGET] and plan.seeds == advise.MAX_SEEDS
    with pytest.raises(HarnessError, match="too little for 'sphere'"):
        size("sphere", {}, {"random": CHEAP}, available_s=1.0, workers=2)


def test_a_real_plan_on_a_cheap_objective_measures_and_calibrates():
    plan, scalar_s, batch_s = advise.plan("sphere", {"dim": 3}, minutes=2.0, names=["scipy.de"], workers=2)
    assert plan.optimizers == ["random", "scipy.de"] and plan.options == {"dim": 3, "seed": 0, "work": 1}
    assert 0 < batch_s < 0.01 and 0 < scalar_s < 0.01  # microseconds here
    assert all(c.evals == advise.CALIBRATION_EVALS and c.eval_s > 0 for c in plan.calibrations.values())
    assert advise.SAFETY * plan.estimate_s <= advise.TARGET * 120


def _example_installed() -> bool:
    from optbench import objectives

    return "bollinger_goog" in objectives.names()


@pytest.mark.slow
@pytest.mark.skipif(not _example_installed(), reason="pip install ./examples/optbench-example-plugin")
def test_advise_on_the_example_plugin_ends_with_a_decision_within_its_minutes(tmp_path):
    minutes = 1.0
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "optbench.harness.cli", "advise", "--objective", "bollinger_goog",
                          "--minutes", str(minutes), "--out", str(tmp_path / "advice"), "--quiet"],
                         capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    elapsed = time.perf_counter() - t0
    assert run.returncode == 0, run.stderr[-3000:]
    decision = json.loads((tmp_path / "advice" / "decision.json").read_text())
    assert "mean_reversion" in decision["classes"] and (tmp_path / "advice" / "report" / "index.html").exists()
    assert elapsed <= 1.2 * 60 * minutes, f"advise took {elapsed:.0f} s for --minutes {minutes}"
