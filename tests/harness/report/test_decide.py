"""The decision rule on hand-made frames: the documented winner, ties, presets, failures, determinism."""

import json

import pytest

from optbench.harness.budget import HarnessError
from optbench.harness.report.decide import Rule, decide
from optbench.harness.report.frame import analyse, records_frame
from optbench.harness.report.stats import worse_p_value

from .records import class_records, rec

# Per-seed quality (ratio to the optimum) and wall seconds per objective, on two MaxDiff objectives.
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
    d = run(class_records(QUALITY, WALL))["maxdiff"]
    assert d["objectives"] == ["maxdiff", "maxdiff(data=goog)"]
    default = d["presets"]["default"]
    assert default["verdict"] == "win" and default["choice"]["optimizer"] == "close"
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
    quality = {"best": [1.0] * 5, "slightly": [0.9995] * 5}  # within 0.1 %, but worse on every seed
    d = run(class_records(quality, {"best": [2.0] * 5, "slightly": [1.0] * 5}))["maxdiff"]["presets"]["default"]
    assert d["choice"]["optimizer"] == "best"
    tests = {t["candidate"]: t for t in d["tests"]}
    assert tests["slightly @ 100 evals"]["p_worse_than_best"] < 0.05 and not tests["slightly @ 100 evals"]["eligible"]
    # a looser level keeps it: p = 1/252 for complete separation of 5 vs 5
    loose = run(class_records(quality, {"best": [2.0] * 5, "slightly": [1.0] * 5}), alpha=0.001)
    assert loose["maxdiff"]["presets"]["default"]["choice"]["optimizer"] == "slightly"


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


def test_rule_parsing_errors():
    assert Rule.from_pairs({"tolerance": "0.01", "n_boot": 500}) == Rule(tolerance=0.01, n_boot=500)
    for bad in ({"tolerence": 0.1}, {"alpha": 2}, {"alpha": "x"}):
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
    with pytest.raises(HarnessError, match="no decision for objective kind"):
        harness.recommended("sphere", path=tmp_path / "a" / "decision.json")
