"""The decision rule on hand-made frames: the documented winner, ties, presets, failures, determinism."""

import json
from dataclasses import replace

import pytest

from optbench.harness.core.errors import HarnessError
from optbench.harness.decision.decide import Rule, decide
from optbench.harness.report.frame import analyse, records_frame
from optbench.harness.report.stats import worse_p_value

from .records import class_records, rec

# Per-seed profit ratio to the optimum and wall seconds per objective, on two MaxDiff objectives. With
# random search's median ratio 0.5, a run's quality (gap closed between random's median and the optimum)
# is 2·ratio − 1, an increasing map: the order of candidates is that of these ratios.
QUALITY = {
    "best": [0.9990, 0.9995, 1.0, 1.0, 1.0],         # highest median quality (1.0), slow
    "close": [0.9992, 0.9996, 0.9998, 1.0, 0.9994],  # median 0.9996: within 0.1 %, not significantly worse
    "quick": [0.95, 0.96, 0.94, 0.95, 0.95],         # fastest contender, clearly worse
    "random": [0.5, 0.6, 0.4, 0.5, 0.5],             # a baseline: quicker still
}
WALL = {"best": [3.0, 3.1, 2.9, 3.0, 3.05], "close": [1.0, 1.05, 0.95, 1.0, 1.02],
        "quick": [0.1, 0.11, 0.1, 0.09, 0.1], "random": [0.01] * 5}


def run(records, **rule):
    return decide(analyse(records_frame(records)), Rule(**rule))


def test_documented_winner_default_fast_thorough():
    assert worse_p_value(QUALITY["close"], QUALITY["best"]) > 0.05  # the premise of "close" being eligible
    assert worse_p_value(WALL["close"], WALL["best"]) == pytest.approx(1 / 252)  # and of it being faster: a win
    d = run(class_records(QUALITY, WALL))["maxdiff"]
    assert d["objectives"] == ["maxdiff", "maxdiff(data=goog)"]
    default = d["presets"]["default"]
    assert default["verdict"] == "win" and default["choice"]["optimizer"] == "close"
    assert default["choice"]["quality"]["median"] == pytest.approx(2 * 0.9996 - 1)
    assert default["best_quality"] == "best @ 100 evals"
    assert default["choice"]["wall_s"]["median"] == pytest.approx(2.0)  # summed over the two objectives
    assert default["runners_up"] == ["best @ 100 evals"]
    assert set(default["faster_but_worse"]) == {"quick @ 100 evals", "random @ 100 evals"}
    # fast: within 2× the fastest non-baseline (quick, 0.2 s): quick and random; quick is better
    assert d["presets"]["fast"]["choice"]["optimizer"] == "quick"
    # thorough: tolerance 0 leaves only the best median quality
    assert d["presets"]["thorough"]["choice"]["optimizer"] == "best"


def test_a_tie_is_not_a_win():
    quality = {**QUALITY, "twin": QUALITY["close"]}
    wall = {**WALL, "twin": [1.01, 0.97, 1.03, 0.99, 1.0]}  # time CI overlaps close's
    default = run(class_records(quality, wall))["maxdiff"]["presets"]["default"]
    assert default["verdict"] == "tie"
    assert default["tied_with"] == ["twin @ 100 evals"] and default["choice"]["optimizer"] in ("close", "twin")


def test_significantly_worse_is_excluded_even_within_tolerance():
    quality = {"best": [1.0] * 5, "slightly": [0.9996] * 5, "random": [0.5] * 5}  # within 0.1 %, worse on every seed
    wall = {"best": [2.0] * 5, "slightly": [1.0] * 5, "random": [3.0] * 5}
    d = run(class_records(quality, wall))["maxdiff"]["presets"]["default"]
    assert d["choice"]["optimizer"] == "best" and d["verdict"] == "win"
    tests = {t["candidate"]: t for t in d["tests"]}
    assert tests["slightly @ 100 evals"]["p_worse_than_best"] < 0.05 and not tests["slightly @ 100 evals"]["eligible"]
    # a stricter alpha keeps it (p = 1/252 for complete separation of 5 vs 5), but 5 seeds cannot reach
    # alpha = 0.001 (7 can: C(14, 7) = 3432): the choice stands, without a win
    strict = run(class_records(quality, wall), alpha=0.001)["maxdiff"]["presets"]["default"]
    assert strict["choice"]["optimizer"] == "slightly" and strict["verdict"] == "not enough seeds"


@pytest.mark.parametrize(("seeds", "verdict"), [(2, "not enough seeds"), (3, "not enough seeds"), (4, "win")])
def test_too_few_seeds_for_the_test_never_give_a_win(seeds, verdict):
    # the clearest possible separation: "fast" is as good as "slow" on every seed and faster on every seed;
    # with 3 seeds against 3 the exact rank test's smallest p-value is 1 / C(6, 3) = 0.05, not < 0.05
    quality = {"fast": [1.0] * seeds, "slow": [1.0] * seeds, "random": [0.5] * seeds}
    wall = {"fast": [0.1 + 0.01 * s for s in range(seeds)], "slow": [5.0 + s for s in range(seeds)],
            "random": [9.0] * seeds}
    d = run(class_records(quality, wall))["maxdiff"]
    assert {p["choice"]["optimizer"] for p in d["presets"].values()} == {"fast"}
    assert {p["verdict"] for p in d["presets"].values()} == {verdict}


def test_failed_and_incomplete_candidates_are_excluded_with_reasons():
    records = class_records(QUALITY, WALL)
    records.append(rec("close", 5, None, status="error"))
    records.append(rec("partial", 0, -1.0))  # only one of the two objectives
    d = run(records)["maxdiff"]
    excluded = {e["config"]: e["reason"] for e in d["excluded"]}
    assert excluded["close"] == "1 failed run(s)" and excluded["partial"] == "ran on 1 of the class's 2 objectives"
    assert d["presets"]["default"]["choice"]["optimizer"] == "best"


def test_synthetic_without_random_is_undecided_not_guessed():
    records = [rec("a", s, 0.1 * s, objective="sphere", reference=0.0) for s in range(3)]
    d = run(records)["synthetic"]
    assert d["presets"]["default"]["verdict"] == "none" and "random search" in d["excluded"][0]["reason"]


def test_timing_rule_switches_between_warm_and_cold():
    # "a" is slower cold (first-call costs) but faster warm than "b"; both reach the optimum
    records = [replace(r, warm_wall_s={"a": 0.1, "b": 1.0, "random": 1.0}[r.optimizer] + 0.01 * r.seed)
               for r in class_records({"a": [1.0] * 4, "b": [1.0] * 4, "random": [0.5] * 4},
                                      {"a": [5.0] * 4, "b": [1.0] * 4, "random": [1.0] * 4})]
    warm = run(records)["maxdiff"]["presets"]["default"]
    assert (warm["choice"]["optimizer"], warm["verdict"]) == ("a", "win")
    assert warm["choice"]["wall_s"]["median"] == pytest.approx(2 * 0.115)  # two objectives, seeds 0…3
    cold = run(records, timing="cold")["maxdiff"]["presets"]["default"]
    assert cold["choice"]["optimizer"] == "b" and cold["choice"]["wall_s"]["median"] == pytest.approx(2.0)


def test_rule_parsing_errors():
    assert Rule.from_pairs({"tolerance": "0.01", "n_boot": 500}) == Rule(tolerance=0.01, n_boot=500)
    assert Rule.from_pairs({"timing": "cold"}).timing == "cold"
    for bad in ({"tolerence": 0.1}, {"alpha": 2}, {"alpha": "x"}, {"timing": "lukewarm"}):
        with pytest.raises(HarnessError):
            Rule.from_pairs(bad)


def test_decide_cli_twice_gives_identical_files(tmp_path, monkeypatch):
    from optbench.harness.cli import main

    store = tmp_path / "runs.jsonl"
    store.write_text("\n".join(r.to_json() for r in class_records(QUALITY, WALL)))
    outputs = []
    for out in ("a", "b"):
        main(["decide", "--store", str(store), "--out", str(tmp_path / out), "--rule", "alpha=0.05"])
        outputs.append([(tmp_path / out / f).read_bytes() for f in ("decision.json", "DECISION.md")])
    assert outputs[0][0] == outputs[1][0].replace(b"/b", b"/a")  # only the command line differs
    assert outputs[0][1] == outputs[1][1].replace(b"/b", b"/a")
    doc = json.loads(outputs[0][0])
    assert doc["classes"]["maxdiff"]["presets"]["default"]["choice"]["optimizer"] == "close"
    assert doc["provenance"]["commits"] == {"abc123": 20 * 2}
    assert "within 0.1 % of the best" in (tmp_path / "a" / "DECISION.md").read_text()

    from optbench import harness

    monkeypatch.delenv("OPTBENCH_OPTIMIZER", raising=False)
    choice = harness.recommended("maxdiff", path=tmp_path / "a" / "decision.json")
    assert (choice.optimizer, choice.budget["max_evals"], choice.verdict) == ("close", 100, "win")
    assert harness.recommended("maxdiff", "thorough", path=tmp_path / "a" / "decision.json").optimizer == "best"
    monkeypatch.setenv("OPTBENCH_OPTIMIZER", "scipy.de")
    override = harness.recommended("maxdiff", path=tmp_path / "a" / "decision.json")
    assert (override.optimizer, override.optimizer_options, override.verdict) == ("scipy.de", {}, "override")
    with pytest.raises(HarnessError, match="no decision for objective family"):
        harness.recommended("sphere", path=tmp_path / "a" / "decision.json")


def test_the_quick_suite_runs_enough_seeds_for_a_win():
    from optbench.harness.execution import suites

    seeds_per_configuration = {}
    for cell in suites.cells("quick"):
        seeds_per_configuration.setdefault((cell.optimizer, cell.budget, cell.objective, str(cell.options)), set()).add(
            cell.seed)
    assert min(map(len, seeds_per_configuration.values())) >= Rule().min_seeds == 4
