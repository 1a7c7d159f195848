"""``optbench advise``: the sizing arithmetic against hand-worked figures, a real plan on a cheap
objective, and (OPTBENCH_SLOW=1) the whole command on the example plug-in within its minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import RunRecord
from optbench.harness.decision import advise
from optbench.harness.decision.advise import Calibration, matrix_seconds, size

CHEAP = Calibration("random", linear_s=1e-4, quadratic_s=0.0)
SLOW = Calibration("slow.one", linear_s=4.0, quadratic_s=0.0)  # 80 s per run of 20
TPE = Calibration("optuna.tpe", linear_s=2e-3, quadratic_s=1e-5)


def test_matrix_seconds_by_hand():
    # 3 seeds × 1 budget of 100 evaluations at 1 ms: runs of 0.1 s, run twice (the warm repeat),
    # + 0.05 s per cell, on 1 worker at 80 %
    cal = {"random": Calibration("random", 1e-3, 0.0)}
    assert matrix_seconds(cal, [100], 3, 1) == pytest.approx(advise.POOL_START_S + 3 * (0.05 + 0.2) / 0.8)
    # one long cell (not repeated: over 2 s) bounds the matrix from below, however many workers
    assert matrix_seconds(cal, [10_000], 1, 64) == pytest.approx(advise.POOL_START_S + 10.0 + 0.05)


def _record(n: int, wall_s: float) -> RunRecord:
    return RunRecord("o", {}, "x", {}, {}, 0, "ok", n_evals=n, wall_s=wall_s, compute_s=wall_s / 2,
                     overhead_s=wall_s / 2)


def test_two_calibration_runs_fit_a_cost_that_grows_with_the_history():
    a, b = 1e-3, 1e-5  # t(n) = a n + b n²: t(30) = 0.039, t(90) = 0.171
    fitted = Calibration.fit("optuna.tpe", _record(30, 0.039), _record(90, 0.171))
    assert (fitted.linear_s, fitted.quadratic_s) == (pytest.approx(a), pytest.approx(b))
    assert fitted.cell_s(60) == pytest.approx(0.06 + 0.036)
    assert fitted.cell_s(400) == pytest.approx(0.4 + 2 * 0.4)  # growth capped at MAX_GROWTH (3) x linear
    assert fitted.eval_s == fitted.overhead_s == pytest.approx(0.171 / 2 / 90)
    flat = Calibration.fit("scipy.de", _record(30, 0.06), _record(90, 0.09))  # cheaper per eval later: no b
    assert (flat.linear_s, flat.quadratic_s) == (pytest.approx(0.001), 0.0)
    # 1e-4 then 1e-3 s per evaluation: the growth fit would leave a = 1e-3 - 1.5e-5·90 < 0 and estimate
    # nothing; a load spike in the long run is costed linearly at its own rate instead
    spiked = Calibration.fit("random", _record(30, 0.003), _record(90, 0.09))
    assert (spiked.linear_s, spiked.quadratic_s) == (pytest.approx(1e-3), 0.0) and spiked.cell_s(100) == pytest.approx(0.1)


def test_size_takes_the_largest_budget_that_fits_and_drops_what_cannot():
    plan = size("sphere", {}, {"random": CHEAP, "optuna.tpe": TPE, "slow.one": SLOW}, available_s=40.0, workers=2)
    assert plan.optimizers == ["random", "optuna.tpe"] and "slow.one" in plan.dropped
    top, fits = plan.budgets[-1], lambda b: advise.SAFETY * matrix_seconds(
        plan.calibrations, advise.budgets_for(b), advise.MIN_SEEDS, 2) <= 40.0
    assert fits(top) and not fits(int(top * 1.1) + 1)  # maximal up to the rounding to 2 significant digits
    assert plan.budgets == [top // 4, top] and plan.seeds == advise.MIN_SEEDS
    assert plan.estimate_s == pytest.approx(matrix_seconds(plan.calibrations, plan.budgets, advise.MIN_SEEDS, 2))
    cells = plan.cells()
    assert len(cells) == 2 * 2 * advise.MIN_SEEDS and {c.seed for c in cells} == set(range(advise.MIN_SEEDS))
    # one evaluation budget per level for every optimizer; the cap (the slowest's estimate) is apart from it
    assert {(c.optimizer, c.budget, c.cap_s) for c in cells} == {(o, Budget(b), plan.cap_s(b)) for o in plan.optimizers
                                                                  for b in plan.budgets}
    assert plan.cap_s(top) == pytest.approx(max(1.0, advise.CAP_FACTOR * TPE.cell_s(top)), abs=0.05)


def test_spare_time_at_the_largest_budget_buys_seeds_and_too_little_time_is_refused():
    plan = size("sphere", {}, {"random": CHEAP}, available_s=200.0, workers=2)
    assert plan.budgets == [advise.MAX_BUDGET // 4, advise.MAX_BUDGET] and plan.seeds == advise.MAX_SEEDS
    with pytest.raises(HarnessError, match="too little for 'sphere'"):
        size("sphere", {}, {"random": CHEAP}, available_s=1.0, workers=2)


def test_a_real_plan_on_a_cheap_objective_measures_and_calibrates():
    plan, scalar_s, batch_s = advise.plan("sphere", {"dim": 3}, minutes=3.0, names=["scipy.de"], workers=2)
    assert plan.optimizers == ["random", "scipy.de"] and plan.options == {"dim": 3, "seed": 0, "work": 1}
    assert 0 < batch_s < 0.01 and 0 < scalar_s < 0.01  # microseconds here
    assert all(c.linear_s > 0 and c.quadratic_s >= 0 and c.eval_s > 0 for c in plan.calibrations.values())
    assert advise.SAFETY * plan.estimate_s <= advise.TARGET * 180


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
