"""The whole report from a small real store: the decision comes first and agrees with decision.json;
any mix of failures still gives a complete report; labels and scales as documented."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch

from optbench import objectives
from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import failed_record, run_cell
from optbench.harness.decision import decision_doc
from optbench.harness.decision.decide import Rule, decide
from optbench.harness.report.build import write_report
from optbench.harness.report.frame import analyse, load, records_frame
from optbench.harness.store import Store
from optbench.objectives import FloatParam, Objective, SearchSpace
from optbench.registry import Entry

from .records import rec

SEEDS = 4  # the smallest number at which the exact rank test can reach alpha = 0.05


def _store(path, cells) -> str:
    with Store.open(path) as store:
        for cell in cells:
            store.put(run_cell(cell, warm_repeat=True))
    return str(path)


def _decision_block(html: str) -> str:
    start = html.index('<section class="decision"')
    return html[start:html.index("</section>", start)]


@pytest.fixture(scope="module")
def real_report(tmp_path_factory):
    """A store of real runs (two objectives in two classes, three optimizers, 4 seeds), its decision and report."""
    tmp = tmp_path_factory.mktemp("real")
    cells = [Cell(name, opt, Budget(60), seed, options)
             for name, options in (("sphere", {"dim": 2}), ("maxdiff", {"n": 60}))
             for opt in ("scipy.direct", "scipy.de", "random") for seed in range(SEEDS)]
    store = _store(tmp / "runs.sqlite", cells)
    doc = decision_doc.build(load(store), Rule(), store, "test")
    decision_doc.write(doc, tmp)
    index = write_report(load(store), tmp / "report", n_boot=200)
    return tmp, doc, index.read_text()


def test_decision_block_precedes_every_figure_and_names_the_decided_configurations(real_report):
    tmp, doc, html = real_report
    block = _decision_block(html)
    assert html.index(block) + len(block) < html.index("<figure")
    assert json.loads((tmp / "decision.json").read_text())["classes"].keys() == doc.classes.keys() == {
        "maxdiff", "synthetic"}
    for cls, entry in doc.classes.items():
        default = entry.presets["default"]
        shipped = f"{cls}: ship <code>{default.choice.candidate}</code>"
        badge = re.sub(r"[^a-z0-9]+", "-", default.verdict).strip("-")
        assert shipped in block and f'class="verdict verdict-{badge}-by-' in block
        candidates = {t.candidate for t in default.tests}
        named = set(re.findall(r"<td>([^<]+ @ \d+ evals)</td>", block))
        assert named and named <= {t.candidate for e in doc.classes.values() for t in e.presets["default"].tests}
        assert default.choice.candidate in candidates
    assert 'href="../DECISION.md"' in block and "at least 5 instances" in block
    assert "1 = the optimum on every objective" in block
    assert "1e-12" not in html and "**" not in html
    assert (tmp / "report" / "report.md").read_text().startswith("# optbench report\n\n## Decision")


def test_the_report_shows_warm_and_cold_times_and_a_range_for_few_seeds(real_report):
    tmp, _, html = real_report
    summary = pd.read_csv(tmp / "report" / "summary.csv")
    assert summary["warm_wall_s"].notna().all() and set(summary["quality_interval"].dropna()) == {"range"}
    block = _decision_block(html)
    assert "median [range over seeds]" in html and "range over instances" in block and "95 % CI" not in block


def _failed_only(status: str) -> list:
    return [failed_record(Cell("sphere", opt, Budget(100), s, {"dim": 2}), status, f"{status} for test")
            for opt in ("scipy.direct", "random") for s in range(2)]


@pytest.mark.parametrize("case", ["all failed", "all timed out", "mixed"])
def test_report_is_complete_whatever_the_failures(tmp_path, case):
    records = {"all failed": _failed_only("error"), "all timed out": _failed_only("timeout")}.get(case)
    if records is None:  # "ghost" has only failed runs beside configurations that succeeded
        records = [rec(opt, s, v + 0.01 * s, options=o) for o in ({}, {"data": "goog"})
                   for opt, v in (("a", -0.9), ("random", -0.6)) for s in range(4)]
        records += [rec("ghost", s, None, status="crashed", options=o) for o in ({}, {"data": "goog"}) for s in range(4)]
    index = write_report(records_frame(records), tmp_path, n_boot=200)
    html = index.read_text()
    failures = pd.read_csv(tmp_path / "failures.csv")
    assert len(failures) == sum(r.status != "ok" for r in records)
    assert html.rstrip().endswith("</html>") and "Failures" in html
    ghost = "ghost" if case == "mixed" else "scipy.direct"
    assert ghost in failures["config"].tolist() and f"<td>{ghost}</td>" in html
    for svg in (tmp_path / "plots").glob("*.svg"):  # in no figure: not in a legend, not in a fight matrix
        assert ghost not in svg.read_text(), svg.name
    if case != "mixed":
        assert "no usable candidate" in _decision_block(html)


def test_a_window_where_no_setting_makes_money_stays_on_the_common_scale():
    # window 1: optimum profit 1, random's median profit 0.5; window 2: no setting makes money (optimum 0) and
    # random search's median loses 1e-6, so a loss of 0.05 is 50 000 gaps below random: quality floors at −1
    w1 = [rec("random", s, -0.5, options={"window": 1}) for s in range(4)]
    w1 += [rec("bad", s, -0.9, options={"window": 1}) for s in range(4)]
    w2 = [rec("random", s, 1e-6, options={"window": 2}, reference=0.0) for s in range(4)]
    w2 += [rec("bad", s, 0.05, options={"window": 2}, reference=0.0) for s in range(4)]
    df = analyse(records_frame(w1 + w2))
    assert df["quality"].between(-1, 1).all()
    bad = df[df["optimizer"] == "bad"].set_index(["objective_label", "seed"])["quality"]
    assert bad[("maxdiff(window=1)", 0)] == pytest.approx(0.8) and bad[("maxdiff(window=2)", 0)] == -1.0
    tests = decide(df, Rule())["maxdiff"].presets["default"].tests
    quality = {t.candidate: t.quality.value for t in tests}
    assert quality == pytest.approx({"bad @ 100 evals": (0.8 - 1) / 2, "random @ 100 evals": 0.0})
    rng = np.random.default_rng(1)  # any values at all, spanning 12 decades: every class quality in [−1, 1]
    wild = [rec(o, s, float(v), options={"window": w}, reference=r) for w, r in ((1, -1.0), (2, 0.0))
            for o in ("random", "x", "y") for s in range(4) for v in [r + 10.0 ** rng.uniform(-9, 3)]]
    for t in decide(analyse(records_frame(wild)), Rule())["maxdiff"].presets["default"].tests:
        assert -1 <= t.quality.low <= t.quality.high <= 1


class Bowl(Objective):
    """A tiny objective that knows nothing about its optimum (registered by the test only)."""

    family = "bowls"
    knowledge = "none"

    def __init__(self, shift: float = 0.3):
        self.name, self.options, self.shift = "bowl", {"shift": shift}, shift
        self.space = SearchSpace((FloatParam("x", -1.0, 1.0), FloatParam("y", -1.0, 1.0)))

    def compute(self, x):
        return torch.tensor(float(((np.asarray(x) - self.shift) ** 2).sum()) + 1.0)

    def compute_batch(self, xs):
        return torch.as_tensor(((np.asarray(xs) - self.shift) ** 2).sum(axis=1) + 1.0)


def test_without_a_known_optimum_quality_is_against_the_best_found_and_labelled_so(tmp_path, monkeypatch):
    monkeypatch.setitem(objectives.REGISTRY.entries, "bowl", Entry(Bowl, "run time"))
    store = _store(tmp_path / "bowl.sqlite", [Cell("bowl", opt, Budget(40), s) for opt in ("scipy.de", "random")
                                              for s in range(SEEDS)])
    df = analyse(load(store))
    best = df.loc[df["value"].idxmin()]
    assert set(df["best_known_kind"]) == {"best found"} and df["reference_value"].isna().all()
    assert (df["best_known_value"] == best["value"]).all() and best["quality"] == 1.0
    assert set(df["best_known_run"]) == {f"{best['config']} @ 40 evals, seed {best['seed']}"}
    html = write_report(load(store), tmp_path / "report", n_boot=200).read_text()
    section = html[html.index('<details class="level-3" id="bowl">'):]
    section = section[:section.index("</details>")]
    assert f"the best found, {best['value']:.3g}, found by {best['config']} @ 40 evals, seed {best['seed']}" in section
    assert "optimum" not in section and "best found" in section
    block = _decision_block(html)
    assert "bowls: ship" in block and "1 = the best found on every objective" in block
    known = decide(df, Rule())["bowls"].best_known["bowl"]
    assert (known.kind, known.value) == ("best found", best["value"])
    # a later, better run moves the top of the scale
    random_options = df.loc[df["optimizer"] == "random", "optimizer_options"].iloc[0]
    better = rec("random", 9, 1.0, objective="bowl", knowledge="none", budget=40, optimizer_options=random_options)
    moved = analyse(pd.concat([load(store), records_frame([better])], ignore_index=True))
    assert (moved["best_known_value"] == 1.0).all() and set(moved["best_known_run"]) == {"random @ 40 evals, seed 9"}


def test_report_figures_draws_the_per_objective_figures_of_the_first_objectives_only(tmp_path):
    from optbench.harness.cli import main

    from .records import instance_records

    quality = {"a": [0.9, 0.95, 0.97, 0.99], "random": [0.5] * 4}
    store = tmp_path / "runs.jsonl"
    store.write_text("\n".join(r.to_json() for r in instance_records(quality, {k: [1.0] * 4 for k in quality},
                                                                    seeds=2)))
    main(["report", "--store", str(store), "--out", str(tmp_path / "r"), "--figures", "1", "--n-boot", "200"])
    html = (tmp_path / "r" / "index.html").read_text()
    assert len(list((tmp_path / "r" / "plots").glob("convergence_*.png"))) == 1
    assert html.count("Figures left out") == 3  # four instances, the first drawn
