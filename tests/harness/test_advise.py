"""``optbench advise``: the sizing arithmetic against hand-worked figures, the instance split, a real
plan on a cheap objective, bad input through the console script, and (OPTBENCH_SLOW=1) the whole
command on the example plug-in within its minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import RunRecord
from optbench.harness.decision import advise
from optbench.harness.decision.advise import round_seconds, size
from optbench.harness.decision.calibration import Calibration
from optbench.harness.decision.decide import Rule

from .test_cli_usage import run_script

CHEAP = Calibration("random", linear_s=1e-4, quadratic_s=0.0)
SLOW = Calibration("slow.one", linear_s=4.0, quadratic_s=0.0)  # 80 s per run of 20
TPE = Calibration("optuna.tpe", linear_s=2e-3, quadratic_s=1e-5)
TRAINING, HELD = [{"i": i} for i in range(20)], [{"i": 100 + i} for i in range(10)]


def test_round_seconds_by_hand():
    # 3 runs × 1 budget of 100 evaluations at 1 ms: runs of 0.1 s, run twice (the warm repeat),
    # + 0.05 s per cell, on 1 worker at 80 %
    cal = {"random": Calibration("random", 1e-3, 0.0)}
    assert round_seconds(cal, [100], 3, 1) == pytest.approx(advise.POOL_START_S + 3 * (0.05 + 0.2) / 0.8)
    # one long cell (not repeated: over 2 s) bounds the round from below, however many workers
    assert round_seconds(cal, [10_000], 1, 64) == pytest.approx(advise.POOL_START_S + 10.0 + 0.05)
    assert round_seconds(cal, [100], 0, 1) == 0.0
    # a loaded machine multiplies the pool's start, not the cells (their cost is calibrated under the load)
    assert round_seconds(cal, [100], 3, 1, slowdown=2.5) == pytest.approx(2.5 * advise.POOL_START_S + 3 * 0.25 / 0.8)


@pytest.mark.parametrize("load, cores, slowdown", [(0.0, 2, 1.0), (1.0, 2, 1.0), (4.0, 2, 2.5), (7.0, 4, 2.0),
                                                   (0.5, 1, 1.5)])
def test_the_slowdown_is_the_cores_over_the_share_left_by_the_load(load, cores, slowdown):
    assert advise.load_slowdown(load, cores) == pytest.approx(slowdown)


def test_the_report_reserve_grows_with_the_slowdown_by_hand():
    # idle: 2.5 s + 0.008 s × 100 runs + 2 s × 2 instances drawn (of 5) = 7.3 s
    assert advise.reserve_s(100, 5) == pytest.approx(7.3)
    assert advise.reserve_s(100, 5, slowdown=2.5) == pytest.approx(2.5 * 7.3)


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


def test_size_takes_the_largest_budget_whose_first_block_and_validation_fit_and_drops_what_cannot():
    cals = {"random": CHEAP, "optuna.tpe": TPE, "slow.one": SLOW}
    plan = size("sphere", TRAINING, HELD, cals, available_s=120.0, workers=2, rule=Rule())
    assert plan.optimizers == ["random", "optuna.tpe"] and "slow.one" in plan.dropped
    # 4 contenders (2 optimizers × 2 budgets): Holm over 3 rivals needs 3/2^n < 0.05, n = 6 instances
    assert plan.first_block == 6 and len(plan.held_out) == 6 and plan.seeds == 1

    def fits(top: int) -> bool:
        budgets = advise.budgets_for(top, 2, 20, 0.05)
        runs = sum(round_seconds(plan.calibrations, budgets, 6, 2) for _ in range(2))
        report = advise.reserve_s(2 * 2 * len(budgets) * 12, 12)
        return advise.SAFETY * runs <= advise.FIRST_SHARE * (120.0 - report)

    top = plan.budgets[-1]
    assert fits(top) and not fits(int(top * 1.1) + 1)  # maximal up to the rounding to 2 significant digits
    assert plan.budgets == [top // 4, top]
    assert plan.estimate_s == pytest.approx(2 * round_seconds(plan.calibrations, plan.budgets, 6, 2))
    # the cap (the slowest's estimate) is apart from the evaluation budget
    assert plan.caps[top] == pytest.approx(max(1.0, advise.CAP_FACTOR * TPE.cell_s(top)), abs=0.05)
    assert {c.key for c in plan.contenders} == {f"{o} @ {b} evals" for o in plan.optimizers for b in plan.budgets}


def test_short_of_time_the_first_block_may_take_all_of_it_before_an_optimizer_is_left_out():
    # 8 optimizers at 1 ms per evaluation, 4 training and 2 held-out instances, 2 seeds: at 20 evaluations
    # a cell is 0.05 + 2 × 0.02 s = 0.09 s; 8 × 4 × 2 = 64 cells, then 8 × 2 × 2 = 32 (one budget level:
    # 4 instances cannot tell 15 contenders apart); each round 0.8 s to start the pool + cells / 1.6
    cals = {name: Calibration(name, 1e-3, 0.0) for name in ["random", *(f"o{i}" for i in range(7))]}
    first_s = 0.8 + 64 * 0.09 / 1.6 + 0.8 + 32 * 0.09 / 1.6  # 7.0 s
    report_s = advise.reserve_s(2 * 8 * 6 * 2, 6)  # 2.5 + 0.008 × 192 + 2 × 2 = 8.036 s
    tight = report_s + advise.SAFETY * first_s + 0.1  # fits in all of the time, not in FIRST_SHARE of it
    plan = size("sphere", TRAINING[:4], HELD[:2], cals, available_s=tight, workers=2, rule=Rule())
    assert plan.optimizers == list(cals) and plan.dropped == {} and plan.budgets == [advise.MIN_BUDGET]
    assert (plan.first_block, plan.seeds) == (4, 2) and plan.estimate_s == pytest.approx(first_s)
    short = size("sphere", TRAINING[:4], HELD[:2], cals, available_s=tight - 0.2, workers=2, rule=Rule())
    assert len(short.optimizers) == 7 and "random" in short.optimizers and len(short.dropped) == 1


def test_a_second_budget_level_only_when_the_instances_can_tell_the_contenders_apart():
    # 8 optimizers: 16 contenders need 15 / 2^n < 0.05, n = 9 instances; 8 contenders need 7 / 2^8 < 0.05
    assert advise.budgets_for(400, 8, 9, 0.05) == [100, 400]
    assert advise.budgets_for(400, 8, 8, 0.05) == [400]
    assert advise.budgets_for(60, 8, 20, 0.05) == [60]  # a quarter would be under MIN_BUDGET


def test_one_instance_races_on_seeds_and_too_little_time_is_refused():
    plan = size("sphere", TRAINING[:1], [], {"random": CHEAP}, available_s=200.0, workers=2, rule=Rule())
    assert plan.first_block == 1 and plan.seeds == advise.MIN_SEEDS and plan.held_out == []
    assert plan.budgets == [advise.MAX_BUDGET]  # one instance cannot tell even two contenders apart
    with pytest.raises(HarnessError, match="too little for 'sphere'"):
        size("sphere", TRAINING, HELD, {"random": CHEAP}, available_s=1.0, workers=2, rule=Rule())


def test_the_split_is_seeded_disjoint_and_covers_every_instance():
    every = [{"dim": d, "shift": s} for d in range(2, 6) for s in (0, 1, 2)]
    training, held = advise.split(every, 1 / 3, seed=0)
    assert (training, held) == advise.split(every, 1 / 3, seed=0)
    assert len(held) == 4 and len(training) == 8
    assert sorted(map(str, training + held)) == sorted(map(str, every))
    assert advise.split(every, 1 / 3, seed=1) != (training, held)
    assert advise.split(every, 0.0, seed=0)[1] == []


def test_a_real_plan_on_a_cheap_objective_splits_its_instances_measures_and_calibrates():
    plan, scalar_s, batch_s = advise.plan("sphere", {"work": 2}, minutes=3.0, names=["scipy.de"], workers=2,
                                          specs=["dim=2:8"])
    assert plan.optimizers == ["random", "scipy.de"] and plan.n_instances == 6
    assert sorted(i["dim"] for i in plan.training + plan.held_out) == list(range(2, 8))
    assert len(plan.training) == 4 and all(i["work"] == 2 for i in plan.training)
    assert batch_s > 0 and scalar_s > 0  # measured (no bound: wall time is load-dependent)
    assert all(c.linear_s > 0 and c.quadratic_s >= 0 and c.eval_s > 0 for c in plan.calibrations.values())
    assert advise.SAFETY * plan.estimate_s <= advise.TARGET * 180


@pytest.mark.parametrize(("args", "message"), [
    (["--holdout", "1.5"], "--holdout 1.5 out of range"),
    (["--instances", "dim=3:3"], "is empty"),
    (["--instances", "dim"], "must look like KEY=V1"),
    (["--instances", "dim=2,3", "--option", "dim=4"], "both set dim"),
    (["--minutes", "0"], "must be positive"),
])
def test_bad_advise_input_is_one_error_line(tmp_path, args, message):
    run = run_script(["advise", "--objective", "sphere", "--out", str(tmp_path / "o"), *args], tmp_path)
    assert run.returncode == 2, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], run.stderr
    assert "Traceback" not in run.stderr


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
