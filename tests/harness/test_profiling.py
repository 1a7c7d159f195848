"""Profiling: the .prof counts one evaluation per call, the breakdown adds up, py-spy's files are
valid, and a missing py-spy leaves the cProfile outputs in place."""

import csv
import json
import pstats
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from optbench.harness import optimizers
from optbench.harness.cli import app
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell
from optbench.harness.profiling import cell as profiling
from optbench.harness.profiling.breakdown import GROUPS, _Attributor, code_key
from optbench.objectives.maxdiff import MaxDiffObjective


@pytest.fixture(scope="module")
def direct_profile(tmp_path_factory):
    if "scipy.direct" not in optimizers.names():
        pytest.skip("scipy.direct is not registered")
    out = tmp_path_factory.mktemp("profiles")
    cell = Cell("maxdiff", "scipy.direct", Budget(150), 0, {"close_at_eod": True})
    return out, profiling.profile_cell(cell, out, py_spy=False)


def test_prof_loads_and_has_one_compute_call_per_evaluation(direct_profile):
    out, result = direct_profile
    stats = pstats.Stats(str(out / result.files["prof"]))
    n_evals = result.record.n_evals
    assert n_evals == 150
    assert stats.stats[code_key(MaxDiffObjective.compute)][1] == n_evals
    assert result.breakdown.eval_calls == n_evals and result.breakdown.item_calls >= n_evals


def test_breakdown_groups_sum_to_the_profile_total(direct_profile):
    b = direct_profile[1].breakdown
    assert list(b.groups) == list(GROUPS)
    assert sum(b.groups.values()) == pytest.approx(b.total_s, rel=0.05)
    assert all(b.groups[g] > 0 for g in ("objective", "item", "optimizer", "harness"))
    assert b.top and b.top == sorted(b.top, key=lambda h: h.own_s, reverse=True)


def test_a_library_function_takes_the_group_of_its_callers():
    obj, harness_fn = ("/p/objectives/m.py", 1, "compute"), ("/p/harness/i.py", 1, "evaluate")
    op = ("~", 0, "<method 'add_' of 'torch._C.TensorBase' objects>")
    item = ("~", 0, "<method 'item' of 'torch._C.TensorBase' objects>")
    stats = {
        harness_fn: (1, 1, 1.0, 10.0, {}),
        obj: (2, 2, 2.0, 7.0, {harness_fn: (2, 2, 2.0, 7.0)}),
        op: (4, 4, 4.0, 4.0, {obj: (3, 3, 3.0, 3.0), harness_fn: (1, 1, 1.0, 1.0)}),
        item: (2, 2, 0.5, 0.5, {harness_fn: (2, 2, 0.5, 0.5)}),
    }
    attributor = _Attributor(stats, [("/p/objectives/", "objective"), ("/p/harness/", "harness")])
    assert attributor.own_time(op) == pytest.approx({"objective": 3.0, "harness": 1.0})
    assert attributor.own_time(item) == {"item": 0.5}
    assert attributor.own_time(obj) == {"objective": 2.0}


@pytest.fixture(scope="module")
def py_spy_files(tmp_path_factory):
    """Flamegraph and speedscope files of scipy.direct on MaxDiff, whose warm-up includes the
    reference computation (30 % of the samples when py-spy started with the child)."""
    if profiling.py_spy_path() is None:
        pytest.skip("py-spy is not installed")
    if "scipy.direct" not in optimizers.names():
        pytest.skip("scipy.direct is not registered")
    out = tmp_path_factory.mktemp("spy")
    cell = Cell("maxdiff", "scipy.direct", Budget(500), 0, {})
    files, runs, message = profiling.run_py_spy(cell, out, "x", min_s=1.0)
    if "ptrace" in message:
        pytest.skip(message)
    assert message == ""
    return out, files, runs


def test_py_spy_writes_a_flamegraph_svg_and_a_speedscope_file(py_spy_files):
    out, files, runs = py_spy_files
    assert runs >= 1
    assert ET.parse(out / files["svg"]).getroot().tag.endswith("svg")
    assert "speedscope" in json.loads((out / files["speedscope"]).read_text())["$schema"]


def test_flamegraph_samples_are_the_measured_run(py_spy_files):
    out, files, _ = py_spy_files
    inside, total = profiling.samples_in_run(out / files["speedscope"])
    assert total >= 50, f"only {total} samples"
    assert inside / total >= 0.9, f"{inside} of {total} samples inside the measured runs"
    in_run_cell, _ = profiling.samples_in_run(out / files["speedscope"], frame="run_cell")
    assert in_run_cell / total >= 0.9


def test_a_child_that_fails_its_warm_up_is_reported_without_a_flamegraph(tmp_path):
    if profiling.py_spy_path() is None:
        pytest.skip("py-spy is not installed")
    cell = Cell("maxdiff", "random", Budget(10), 0, {"n": 1})  # invalid: the child's warm-up raises
    files, runs, message = profiling.run_py_spy(cell, tmp_path, "bad", min_s=0.0)
    assert files == {} and runs == 0
    assert message.startswith("the profiled child failed") and "n=1 is out of range" in message


def test_samples_in_run_counts_stacks_through_the_frame(tmp_path):
    frames = [{"name": "<module>"}, {"name": "measured_runs"}, {"name": "compute"}, {"name": "warm_up"}]
    samples = [[0, 1, 2], [0, 1], [0, 3, 2], [0]]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"shared": {"frames": frames},
                                "profiles": [{"samples": samples, "weights": [1, 2, 4, 8]}]}))
    assert profiling.samples_in_run(path) == (2, 4)


def test_prof_covers_only_the_run(direct_profile):
    out, _ = direct_profile
    stats = pstats.Stats(str(out / direct_profile[1].files["prof"]))
    run_cell_cum = next(v[3] for k, v in stats.stats.items() if k[2] == "run_cell")
    assert run_cell_cum >= 0.95 * stats.total_tt
    assert not any(k[2] in ("warm_up", "reference") for k in stats.stats)


def test_missing_py_spy_is_reported_and_cprofile_outputs_are_still_written(tmp_path, monkeypatch):
    monkeypatch.setattr(profiling, "py_spy_path", lambda: None)
    result = CliRunner().invoke(app, ["profile", "--objective", "sphere", "--optimizer", "random",
                                      "--budget", "50", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "py-spy is not installed" in result.output and "snakeviz" in result.output
    (prof,) = tmp_path.glob("*.prof")
    assert pstats.Stats(str(prof)).total_calls > 0
    assert not list(tmp_path.glob("*.svg"))


def test_all_writes_an_index_and_a_csv_row_per_optimizer(tmp_path, monkeypatch):
    monkeypatch.setattr(profiling, "py_spy_path", lambda: None)
    monkeypatch.setattr(optimizers.REGISTRY, "entries", {k: optimizers.REGISTRY.entries[k] for k in ("random", "grid")})
    result = CliRunner().invoke(app, ["profile", "--all", "--objective", "sphere", "--budget", "30",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "index.html").read_text()
    rows = list(csv.DictReader((tmp_path / "breakdown.csv").open()))
    assert [r["optimizer"] for r in rows] == ["random", "grid"]
    for row in rows:
        assert row["prof"] in index and (tmp_path / row["prof"]).exists()
        assert float(row["record_wall_s"]) > 0


def test_all_and_optimizer_together_are_refused():
    result = CliRunner().invoke(app, ["profile", "--all", "--objective", "sphere", "--optimizer", "random"])
    assert isinstance(result.exception, HarnessError)
