"""The decision rule on hand-made frames: the documented winner, ties, presets, failures, determinism."""

import itertools
import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import rankdata, wilcoxon

from optbench import objectives
from optbench.harness.core.errors import HarnessError
from optbench.harness.decision import decision_doc, validate
from optbench.harness.decision.decide import Rule, decide
from optbench.harness.decision.model import Decision
from optbench.harness.report import paired
from optbench.harness.report.frame import analyse, objective_label, records_frame
from optbench.objectives import option_defaults

from .records import instance_records, rec

# Per-instance profit ratio to the optimum and wall seconds on eight MaxDiff windows. With random
# search's ratio 0.5, a run's quality (gap closed between random search and the optimum) is 2·ratio − 1.
QUALITY = {
    "best": [0.9990, 0.9995, 1.0, 1.0, 1.0, 0.9994, 1.0, 0.9992],     # highest class quality, slow
    "close": [0.9992, 0.9996, 0.9998, 1.0, 0.9994, 0.9995, 0.9997, 0.9993],  # within 0.1 %, not worse
    "quick": [0.95, 0.96, 0.94, 0.95, 0.955, 0.945, 0.952, 0.948],      # fastest contender, clearly worse
    "random": [0.5] * 8,                                              # a baseline: quicker still
}
WALL = {"best": [3.0, 3.1, 2.9, 3.0, 3.05, 3.2, 2.8, 3.0], "close": [1.0, 1.05, 0.95, 1.0, 1.02, 1.1, 0.9, 1.0],
        "quick": [0.1] * 8, "random": [0.01] * 8}


def run(records, holdout=0.0, **rule):
    return decide(analyse(records_frame(records)), Rule(**rule), holdout)


def test_documented_winner_default_fast_thorough():
    premise = paired.signed_rank_less_p(QUALITY["close"], QUALITY["best"])
    assert premise > 0.05  # "close" is not significantly worse: it is eligible
    d = run(instance_records(QUALITY, WALL))["maxdiff"]
    assert len(d.objectives) == 8
    default = d.presets["default"]
    assert default.verdict == "win (faster)" and default.choice.optimizer == "close"
    assert default.decided_by.startswith("time: one-sided Wilcoxon signed-rank test paired by instance")
    assert default.choice.quality.value == pytest.approx(np.mean([2 * q - 1 for q in QUALITY["close"]]))
    assert default.choice.wall_s.value == pytest.approx(sum(WALL["close"]))  # one run of each instance
    assert default.best_quality == "best @ 100 evals" and default.runners_up == ("best @ 100 evals",)
    tests = {t.candidate: t for t in default.tests}
    # faster on every instance: 1 / 2^8, one rival, so Holm leaves it; the same as scipy's exact test
    exact = wilcoxon(WALL["close"], WALL["best"], alternative="less", method="exact").pvalue
    assert tests["best @ 100 evals"].p_choice_faster == pytest.approx(exact) == pytest.approx(1 / 256)
    # quick is worse on every instance: 1/256, Holm over three rivals at most triples it
    assert tests["quick @ 100 evals"].p_worse_than_best <= 3 / 256 and not tests["quick @ 100 evals"].eligible
    assert set(default.faster_but_worse) == {"quick @ 100 evals", "random @ 100 evals"}
    assert d.presets["fast"].choice.optimizer == "quick"
    assert d.presets["thorough"].choice.optimizer == "best"
    assert d.presets["thorough"].verdict == "tie"  # close is not significantly worse: no win (better)


def test_a_tie_is_not_a_win():
    quality = {**QUALITY, "twin": QUALITY["close"]}
    wall = {**WALL, "twin": [1.01, 0.97, 1.03, 0.99, 1.0, 1.12, 0.88, 1.01]}  # faster on some, slower on others
    default = run(instance_records(quality, wall))["maxdiff"].presets["default"]
    assert default.verdict == "tie"
    pair = {default.choice.optimizer, default.tied_with[0].split(" @ ")[0]}
    assert pair == {"close", "twin"} and len(default.tied_with) == 1


def test_a_win_on_quality_reads_win_better():
    quality = {"good": [1.0] * 6, "worse": [0.9] * 6, "random": [0.5] * 6}
    wall = {"good": [2.0] * 6, "worse": [1.0] * 6, "random": [0.1] * 6}
    default = run(instance_records(quality, wall))["maxdiff"].presets["default"]
    assert (default.choice.optimizer, default.verdict) == ("good", "win (better)")
    assert default.decided_by.startswith("quality:")


@pytest.mark.parametrize(("instances", "verdict"), [(2, "not enough instances"), (4, "not enough instances"),
                                                    (5, "win (faster)")])
def test_too_few_instances_never_give_a_win(instances, verdict):
    # equal quality on every instance, faster on every instance: 1 / 2^n, which needs n = 5 to be < 0.05
    quality = {"fast": [1.0] * instances, "slow": [1.0] * instances, "random": [0.5] * instances}
    wall = {"fast": [0.1] * instances, "slow": [5.0] * instances, "random": [9.0] * instances}
    d = run(instance_records(quality, wall, seeds=3, noise=0.0))["maxdiff"]
    assert d.presets["default"].choice.optimizer == "fast"
    assert d.presets["default"].verdict == verdict


def test_copies_of_a_deterministic_optimizer_are_not_samples():
    # "det" ignores its seed (one run per instance); "sto" runs 5 seeds; both have the same distribution
    # of quality per instance and the same time: seeds never count as instances, so no win either way
    rng = np.random.default_rng(3)
    difficulty = rng.uniform(0.6, 0.95, size=8)
    sto = [rec("sto", s, -(d + rng.normal(0, 0.01)), 1.0, options={"data": "goog", "window": i})
           for i, d in enumerate(difficulty) for s in range(5)]
    det = [rec("det", 0, -(d + rng.normal(0, 0.01)), 1.0, options={"data": "goog", "window": i})
           for i, d in enumerate(difficulty)]
    base = [rec("random", s, -0.5, 1.0, options={"data": "goog", "window": i}) for i in range(8) for s in range(5)]
    d = run(sto + det + base)["maxdiff"].presets["default"]
    assert d.verdict == "tie" and d.choice.optimizer in ("sto", "det")
    tests = {t.candidate: t for t in d.tests}
    assert tests["det @ 100 evals"].seeds == 1 and tests["sto @ 100 evals"].seeds == 5
    assert {tests[k].instances for k in ("det @ 100 evals", "sto @ 100 evals")} == {8}
    # five copies of each det run would be ten "samples" per instance pair under a per-seed test; here one
    copies = run(sto + [replace(r, seed=s) for r in det for s in range(5)] + base)["maxdiff"].presets["default"]
    def seen(preset):
        return [replace(t, seeds=0) for t in preset.tests]

    assert seen(copies) == seen(d) and copies.verdict == "tie"


def _split_family(training_best: str):
    """Nine instances; "a" is best on the training ones, "b" on the held-out ones (or "a" on both)."""
    labels = [objective_label("maxdiff", {"data": "goog", "window": i}, option_defaults("maxdiff")) for i in range(9)]
    _, held = validate.split(labels, 1 / 3, 0)
    quality: dict[str, list[float]] = {"a": [], "b": [], "random": [0.5] * 9}
    for label in labels:
        a_wins = label not in held or training_best == "a everywhere"
        quality["a"].append(1.0 if a_wins else 0.7)
        quality["b"].append(0.7 if a_wins else 1.0)
    return quality, {k: [1.0] * 9 for k in quality}, held


def test_a_training_best_that_is_not_the_held_out_best_did_not_hold():
    quality, wall, held = _split_family("a on training only")
    d = run(instance_records(quality, wall), holdout=None)["maxdiff"]  # the default: 1/3 of 9
    assert d.holdout == pytest.approx(1 / 3) and len(held) == 3
    assert d.presets["default"].choice.optimizer == "a"
    v = d.validation
    assert v.status == "did not hold" and v.held_out == tuple(held) and len(v.training) == 6
    assert (v.rank, v.best) == (2, "b @ 100 evals")
    assert v.regret == pytest.approx((2 * 1.0 - 1) - (2 * 0.7 - 1))
    # b better on all 3 held-out instances by one margin: W+ = 6, the largest of 2^3 equally likely sign sets
    assert v.p_best_better == pytest.approx(1 / 8)
    doc = decision_doc.markdown(Decision("x", {}, "r", 5, "warm", decision_doc.provenance(
        analyse(records_frame(instance_records(quality, wall))), "s"), {"maxdiff": d}))
    assert doc.index("Held-out check: did not hold") < doc.index("- **default**")
    assert "the held-out best better than it? paired test p = 0.125 (3 instance(s) can give p ≥ 0.125)." in doc


def test_a_choice_that_is_also_the_held_out_best_held():
    quality, wall, _ = _split_family("a everywhere")
    v = run(instance_records(quality, wall), holdout=1 / 3)["maxdiff"].validation
    assert (v.status, v.rank, v.regret) == ("held", 1, 0.0) and math.isnan(v.p_best_better)


def test_one_instance_cannot_be_validated_and_says_why():
    d = run(instance_records({"a": [1.0], "random": [0.5]}, {"a": [1.0], "random": [1.0]}), holdout=0.5)["maxdiff"]
    assert d.validation.status == "not validated" and "one instance" in d.validation.reason
    assert d.presets["default"].verdict == "not enough instances"


def test_the_paired_test_matches_scipy_and_hand_worked_cases():
    rng = np.random.default_rng(0)
    for n in (5, 7, 10, 14, 30, 60):  # exact at any size: 60 pairs is 2^60 sign assignments
        x, y = rng.normal(size=n), rng.normal(0.3, 1, size=n)
        assert paired.signed_rank_less_p(x, y) == pytest.approx(
            wilcoxon(x, y, alternative="less", method="exact").pvalue, rel=1e-9)
    # ties (12 pairs, |d| in three values): against enumerating all 2^12 sign assignments
    d = rng.choice([-2.0, -1.0, 1.0, 3.0], size=12)
    ranks = rankdata(np.abs(d))
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=12)))
    brute = float(np.mean(signs @ ranks <= np.sum(np.sign(d) * ranks) + 1e-9))
    assert paired.signed_rank_less_p(d, np.zeros(12)) == pytest.approx(brute, rel=1e-12)
    # all three pairs lower: only the all-negative sign assignment is as extreme, 1/8; a zero pair drops out
    assert paired.signed_rank_less_p([1, 2, 3], [2, 3, 4]) == pytest.approx(1 / 8)
    assert paired.signed_rank_less_p([1, 2, 3, 5], [2, 3, 4, 5]) == pytest.approx(1 / 8)
    assert paired.signed_rank_less_p([1, 1], [1, 1]) == 1.0
    # ties in |d| (ranks 1.5, 1.5, 3): 8 assignments, signed sums ≤ −6 only for all negative → 1/8
    assert paired.signed_rank_less_p([0, 0, 0], [1, 1, 2]) == pytest.approx(1 / 8)
    assert paired.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert paired.min_pairs(0.05) == 5 and paired.min_pairs(0.05, rivals=3) == 6  # 3 / 2^6 < 0.05


def test_failed_and_incomplete_candidates_are_excluded_with_reasons():
    records = instance_records(QUALITY, WALL)
    records.append(rec("close", 5, None, status="error", options={"data": "goog", "window": 1}))
    records.append(rec("partial", 0, -1.0, options={"data": "goog", "window": 1}))  # one of the eight instances
    d = run(records)["maxdiff"]
    excluded = {e.config: e.reason for e in d.excluded}
    assert excluded["close"] == "1 failed run(s)" and excluded["partial"] == "ran on 1 of the class's 8 objectives"
    assert d.presets["default"].choice.optimizer == "best"


def test_synthetic_without_random_is_undecided_not_guessed():
    records = [rec("a", s, 0.1 * s, objective="sphere", reference=0.0) for s in range(3)]
    d = run(records)["synthetic"]
    assert d.presets["default"].verdict == "none" and "random search" in d.excluded[0].reason


def test_timing_rule_switches_between_warm_and_cold():
    # "a" is slower cold (first-call costs) but faster warm than "b"; both reach the optimum
    records = [replace(r, warm_wall_s={"a": 0.1, "b": 1.0, "random": 1.0}[r.optimizer] + 0.01 * r.seed)
               for r in instance_records({"a": [1.0] * 6, "b": [1.0] * 6, "random": [0.5] * 6},
                                         {"a": [5.0] * 6, "b": [1.0] * 6, "random": [1.0] * 6}, seeds=4)]
    warm = run(records)["maxdiff"].presets["default"]
    assert (warm.choice.optimizer, warm.verdict) == ("a", "win (faster)")
    assert warm.choice.wall_s.value == pytest.approx(6 * 0.115)  # six instances, median of seeds 0…3
    cold = run(records, timing="cold")["maxdiff"].presets["default"]
    assert cold.choice.optimizer == "b" and cold.choice.wall_s.value == pytest.approx(6.0)


def test_rule_parsing_errors():
    assert Rule.from_pairs({"tolerance": "0.01", "n_boot": 500}) == Rule(tolerance=0.01, n_boot=500)
    assert Rule.from_pairs({"timing": "cold"}).timing == "cold"
    for bad in ({"tolerence": 0.1}, {"alpha": 2}, {"alpha": "x"}, {"timing": "lukewarm"}):
        with pytest.raises(HarnessError):
            Rule.from_pairs(bad)


def test_decide_cli_twice_gives_identical_files(tmp_path, monkeypatch):
    from optbench.harness.cli import main

    store = tmp_path / "runs.jsonl"
    store.write_text("\n".join(r.to_json() for r in instance_records(QUALITY, WALL)))
    outputs = []
    for out in ("a", "b"):
        main(["decide", "--store", str(store), "--out", str(tmp_path / out), "--rule", "alpha=0.05",
              "--holdout", "0"])
        outputs.append([(tmp_path / out / f).read_bytes() for f in ("decision.json", "DECISION.md")])
    assert outputs[0][0] == outputs[1][0].replace(b"/b", b"/a")  # only the command line differs
    assert outputs[0][1] == outputs[1][1].replace(b"/b", b"/a")
    doc = json.loads(outputs[0][0])
    assert doc["classes"]["maxdiff"]["presets"]["default"]["choice"]["optimizer"] == "close"
    assert doc["provenance"]["commits"] == {"abc123": 4 * 8}
    assert "within 0.1 % of the best" in (tmp_path / "a" / "DECISION.md").read_text()

    from optbench import harness

    monkeypatch.delenv("OPTBENCH_OPTIMIZER", raising=False)
    choice = harness.recommended("maxdiff", path=tmp_path / "a" / "decision.json")
    assert (choice.optimizer, choice.budget["max_evals"], choice.verdict) == ("close", 100, "win (faster)")
    assert harness.recommended("maxdiff", "thorough", path=tmp_path / "a" / "decision.json").optimizer == "best"
    monkeypatch.setenv("OPTBENCH_OPTIMIZER", "scipy.de")
    override = harness.recommended("maxdiff", path=tmp_path / "a" / "decision.json")
    assert (override.optimizer, override.optimizer_options, override.verdict) == ("scipy.de", {}, "override")
    with pytest.raises(HarnessError, match="no decision for objective family"):
        harness.recommended("sphere", path=tmp_path / "a" / "decision.json")


def test_the_quick_suite_has_enough_instances_for_a_win_and_a_held_out_check():
    from optbench.harness.execution import suites

    instances: dict[str, set] = {}
    configurations: dict[str, set] = {}
    for cell in suites.cells("quick"):
        family = objectives.get(cell.objective, **cell.options).family or cell.objective
        instances.setdefault(family, set()).add(cell.objective + str(sorted(cell.options.items())))
        configurations.setdefault(family, set()).add((cell.optimizer, str(cell.optimizer_options),
                                                      cell.budget.max_evals))
    assert set(instances) == {"maxdiff", "synthetic", "ma_crossover"}
    for family in ("maxdiff", "synthetic"):
        n = len(instances[family])
        training, _ = validate.split(sorted(instances[family]), validate.fraction_for(n, None))
        rivals = len(configurations[family]) - 1
        assert n >= 12 and len(training) >= paired.min_pairs(Rule().alpha, rivals), (family, n, rivals)


def test_a_bad_holdout_is_one_error_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    store = tmp_path / "runs.jsonl"
    store.write_text("\n".join(r.to_json() for r in instance_records(QUALITY, WALL)))
    script = Path(sys.executable).with_name("optbench")
    proc = subprocess.run([str(script), "decide", "--store", str(store), "--out", str(tmp_path / "o"),
                           "--holdout", "1.5"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("error:")] == [
        "error: holdout 1.5 out of range: a fraction in [0, 1)"]
