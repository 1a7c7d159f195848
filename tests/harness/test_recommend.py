"""``optbench.recommended``: an explicit path, then ``$OPTBENCH_DECISION``, then the current project's
``results/decision.json``; ``optbench demo`` never replaces the decision that reads unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import optbench
from optbench.harness.cli import main
from optbench.harness.commands.demo import DEFAULT_OUT, decision_folder
from optbench.harness.core.errors import HarnessError
from optbench.harness.decision.recommend import ENV


def _decision(path: Path, optimizer: str) -> Path:
    """A minimal decision file naming ``optimizer`` for the ``toy`` class."""
    path.parent.mkdir(parents=True, exist_ok=True)
    choice = {"optimizer": optimizer, "optimizer_options": {}, "budget": {"max_evals": 50}}
    path.write_text(json.dumps({"schema": 3, "classes": {"toy": {"objective_names": ["toy_a"], "objectives": [],
                                                    "presets": {"default": {"choice": choice, "verdict": "win (faster)"}}}}}))
    return path


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv("OPTBENCH_OPTIMIZER", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_path_then_environment_then_the_projects_results_folder(project, monkeypatch):
    with pytest.raises(HarnessError, match=r"no decision at .*results/decision.json \(./results/decision.json\)"):
        optbench.recommended("toy")
    _decision(project / "results" / "decision.json", "from.cwd")
    assert optbench.recommended("toy_a").optimizer == "from.cwd"
    monkeypatch.setenv(ENV, str(_decision(project / "env" / "d.json", "from.env")))
    assert optbench.recommended("toy").optimizer == "from.env"
    given = _decision(project / "given.json", "from.path")
    chosen = optbench.recommended("toy", path=given)
    assert (chosen.optimizer, chosen.source, chosen.budget) == ("from.path", str(given), {"max_evals": 50})


def test_a_corrupt_decision_is_a_harness_error_naming_the_file(project):
    (project / "bad.json").write_text("{not json")
    with pytest.raises(HarnessError, match="cannot read the decision at bad.json"):
        optbench.recommended("toy", path="bad.json")


def test_demo_writes_beside_a_shipped_decision_only_when_asked(project):
    shipped = _decision(project / "results" / "decision.json", "shipped")
    assert decision_folder(Path("results"), overwrite=False) == DEFAULT_OUT
    assert decision_folder(Path("results"), overwrite=True) == Path("results")
    assert decision_folder(Path("results/demo"), overwrite=False) == Path("results/demo")
    assert decision_folder(Path("elsewhere"), overwrite=False) == Path("elsewhere")
    assert json.loads(shipped.read_text())["classes"]["toy"]["presets"]["default"]["choice"]["optimizer"] == "shipped"


def test_demo_runs_report_and_decide_without_touching_the_shipped_decision(project, monkeypatch, capsys):
    from optbench.harness.execution import suites

    tiny = {"tiny": {"blocks": [{"seeds": 2, "budgets": [30], "optimizers": ["random", "scipy.de"],
                                 "objectives": [{"name": "sphere", "options": {"dim": 2}}]}]}}
    monkeypatch.setattr(suites, "_suites", lambda: tiny)
    shipped = _decision(project / "results" / "decision.json", "shipped")
    before = shipped.read_bytes()
    main(["demo", "--suite", "tiny", "--store", "s.sqlite", "--out", "results", "--workers", "1", "--quiet"])
    assert shipped.read_bytes() == before and not (project / "results" / "DECISION.md").exists()
    assert (project / "results" / "report" / "index.html").exists()
    written = json.loads((project / DEFAULT_OUT / "decision.json").read_text())
    assert "sphere" in json.dumps(written["classes"]) and "kept the shipped decision" in capsys.readouterr().out


def test_an_unknown_optbench_optimizer_is_refused_with_the_registered_names(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTBENCH_OPTIMIZER", "no.such.optimizer")
    with pytest.raises(HarnessError, match=r"OPTBENCH_OPTIMIZER='no.such.optimizer' is not a registered optimizer; "
                                           r"registered: .*scipy\.direct"):
        optbench.recommended("maxdiff", path=tmp_path / "absent.json")
    monkeypatch.setenv("OPTBENCH_OPTIMIZER", "scipy.de")
    assert optbench.recommended("maxdiff", path=tmp_path / "absent.json").optimizer == "scipy.de"


@pytest.mark.parametrize(("content", "what"), [
    ("[]", "a JSON list"), ("null", "a JSON null"), ('{"classes": {}}', "schema missing"),
    ('{"schema": 2, "classes": {}}', "schema 2"), ('{"schema": 3}', "no 'classes'"),
    ('{"schema": 3, "classes": {"toy": {"presets": {}}}}', "lacks presets, objective_names"),
    ('{"schema": 3, "classes": {"toy": {"objective_names": [], "objectives": [], "presets": '
     '{"default": {"choice": {"optimizer": "x"}, "verdict": "tie"}}}}}', "toy/default lacks a choice"),
])
def test_a_malformed_decision_is_a_clear_error_not_a_key_error(project, content, what):
    path = project / "d.json"
    path.write_text(content)
    with pytest.raises(HarnessError, match="is not a decision optbench can read") as info:
        optbench.recommended("toy", path=path)
    assert what in str(info.value) and str(path) in str(info.value)


def test_every_recommended_example_in_the_readme_works_on_the_shipped_decision(monkeypatch):
    import re

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    calls = re.findall(r'recommended\("([\w.]+)"(?:, preset="(\w+)")?', readme)
    named = re.findall(r'# or ((?:"\w+"(?:, )?)+)', readme)
    names = {n for n, _ in calls} | {n for group in named for n in re.findall(r'"(\w+)"', group)}
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv("OPTBENCH_OPTIMIZER", raising=False)
    monkeypatch.chdir(root)
    tried = 0
    for name in sorted(names):
        if 'path="results/mine' in readme.split(f'recommended("{name}"')[-1][:60]:
            continue  # a user's own decision, not the shipped one
        for preset in ("default", "fast", "thorough"):
            assert optbench.recommended(name, preset).optimizer
            tried += 1
    assert tried >= 9  # maxdiff, synthetic and ma_crossover under three presets
