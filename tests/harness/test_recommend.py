"""``optbench.recommended``: an explicit path, then ``$OPTBENCH_DECISION``, then the current project's
``results/decision.json``; ``optbench demo`` never replaces the decision that reads unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optbench
from optbench.harness.cli import main
from optbench.harness.commands.demo import DEFAULT_OUT, decision_folder
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.decision.model import Choice, ClassDecision, Decision, PresetDecision, Provenance, Validation
from optbench.harness.decision.recommend import ENV
from optbench.harness.report.estimate import Estimate


def _decision(path: Path, optimizer: str) -> Path:
    """A decision file naming ``optimizer`` for the ``toy`` class (objective ``toy_a``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_doc(optimizer)))
    return path


def _doc(optimizer: str = "scipy.de") -> dict:
    """The JSON of a decision naming ``optimizer`` for the ``toy`` class (objective ``toy_a``)."""
    e = Estimate(1.0, 1.0, 1.0, "range")
    choice = Choice(f"{optimizer} @ 50 evals", optimizer, {}, {"max_evals": 50}, e, e, e, e, 50.0, 1, 1)
    toy = ClassDecision(("toy_a(n=1)",), ("toy_a",), {}, 0.0, Validation((), (), "not validated", "one instance"),
                        {"default": PresetDecision("win (faster)", "time: a test", choice)})
    doc = Decision("test", {}, "a rule", 5, "warm", Provenance("s", 1, 0, "", {}, {}, {}, {}, ""), {"toy": toy})
    return doc.to_json()


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


def _without(path: str):
    """A change to a decision document: drop the field at ``path`` (``a/b/c``)."""
    *parents, last = path.split("/")

    def change(doc: dict) -> None:
        for key in parents:
            doc = doc[key]
        del doc[last]
    return change


def _setting(path: str, value):
    *parents, last = path.split("/")

    def change(doc: dict) -> None:
        for key in parents:
            doc = doc[key]
        doc[last] = value
    return change


DEFAULT = "classes/toy/presets/default"


@pytest.mark.parametrize(("content", "what"), [
    ("[]", "the document is a JSON list, not an object"), ("null", "a JSON null"),
    ('{"classes": {}}', "schema missing"), ('{"schema": 2, "classes": {}}', "schema 2"),
    (_without("classes"), "classes is missing"),
    (_without("classes/toy/objective_names"), "classes/toy/objective_names is missing"),
    (_setting(f"{DEFAULT}/choice", {"optimizer": "x"}), f"{DEFAULT}/choice/candidate is missing"),
    (_setting(f"{DEFAULT}/choice/budget", 5), f"{DEFAULT}/choice/budget is a JSON number, not an object"),
    (_setting(f"{DEFAULT}/choice/seeds", "2"), f"{DEFAULT}/choice/seeds is a JSON string, not an integer"),
    (_setting(f"{DEFAULT}/verdict", "great"), f"{DEFAULT}/verdict is 'great', not one of win (better)"),
    (_setting("classes/toy/presets/fastest", {}), "unknown preset(s) fastest"),
    (_setting("classes/toy/validation/status", "fine"), "classes/toy/validation/status is 'fine'"),
])
def test_a_malformed_decision_is_a_clear_error_not_a_key_error(project, content, what):
    path = project / "d.json"
    if isinstance(content, str):
        path.write_text(content)
    else:
        doc = json.loads(_decision(path, "x").read_text())
        content(doc)
        path.write_text(json.dumps(doc))
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


@pytest.mark.parametrize(("content", "what"), [
    (b'{"schema": 3, "classes": {"\xff": 1}}', "can't decode byte 0xff"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_undecodable_bytes_and_deep_nesting_are_a_clear_error(project, content, what):
    (project / "d.json").write_bytes(content)
    with pytest.raises(HarnessError, match="cannot read the decision at d.json") as info:
        optbench.recommended("toy", path="d.json")
    assert what in str(info.value)


@pytest.mark.parametrize(("where", "value", "what"), [
    (("objective_names",), [{"a": 1}], "objective_names is not a list of strings"),
    (("objectives",), "toy_a", "objectives is not a list of strings"),
    (("presets", "default", "choice", "budget"), {"max_evals": "abc"}, "max_evals='abc'"),
    (("presets", "default", "choice", "budget"), {"max_evals": True}, "max_evals=True"),
    (("presets", "default", "choice", "budget"), {"max_evals": -1}, "must be an integer from 1"),
    (("presets", "default", "choice", "budget"), {"evals": 5}, "evals=5"),
    (("presets", "default", "choice", "budget"), {}, "a budget needs max_evals and/or max_seconds"),
    (("presets", "default", "choice", "optimizer"), 7, "choice/optimizer is a JSON number, not a string"),
    (("presets", "default", "verdict"), None, "verdict is a JSON null, not a string"),
    (("presets", "default"), [], "presets/default is a JSON list, not an object"),
])
def test_a_field_of_the_wrong_type_is_named(project, where, value, what):
    doc = _doc()
    entry = doc["classes"]["toy"]
    for key in where[:-1]:
        entry = entry[key]
    entry[where[-1]] = value
    (project / "d.json").write_text(json.dumps(doc))
    with pytest.raises(HarnessError, match="is not a decision optbench can read") as info:
        optbench.recommended("toy_a", path="d.json")
    assert what in str(info.value)


def test_a_fifo_as_the_decision_is_refused_without_blocking(project):
    import os

    os.mkfifo(project / "d.json")
    with pytest.raises(HarnessError, match="is a FIFO"):
        optbench.recommended("toy", path="d.json")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=12)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside ``doc`` (dicts and lists)."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    return [p for k, v in items for p in [(*prefix, k), *_paths(v, (*prefix, k))]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_malformed_decision_is_a_recommendation_or_one_harness_error(project, data):
    """A valid document with one value replaced (or deleted), or any JSON at all: ``recommended`` returns
    a well-typed recommendation or raises HarnessError, never a KeyError or TypeError."""
    doc: object = _doc()
    if data.draw(st.booleans()):
        doc = data.draw(_json)
    else:
        where = data.draw(st.sampled_from(_paths(doc)))
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            del parent[where[-1]]
        else:
            parent[where[-1]] = data.draw(_json)
    (project / "d.json").write_text(json.dumps(doc))
    try:
        got = optbench.recommended("toy_a", path="d.json")
    except HarnessError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(got.optimizer, str) and isinstance(got.optimizer_options, dict) and got.family == "toy"
    assert set(got.budget) <= {"max_evals", "max_seconds"}
    Budget(got.budget.get("max_evals"), got.budget.get("max_seconds"))
