"""The asv suite (asv.conf.json, benchmarks/, harness/asv/support.py, harness/asv/env.py).

Fast: the suite passes ``asv check``; the tracked figures are computed as documented; an asv
``track_`` cell and ``optbench run`` on the same cell agree. Slow (OPTBENCH_SLOW=1): in a temporary
clone, ``asv continuous`` flags a deliberate 2× slowdown of an objective and not a no-op commit,
``asv compare --factor 1.1`` lists it, ``asv publish`` writes the site, and a ``track_`` figure
read from asv's own results file equals ``optbench run``'s.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from optbench.harness import optimizers
from optbench.harness.asv import support as asv_support
from optbench.harness.asv.regression import asv_env, table_rows
from optbench.harness.core.record import RunRecord

ROOT = Path(__file__).resolve().parents[1]
ASV = [sys.executable, "-m", "asv"]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def sh(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, ok=(0,)) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode in ok, f"{cmd} -> {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def optbench_run(key: str, optimizer: str) -> dict:
    """The same cell as the asv suite's, through the command line users run."""
    cell = asv_support.cell(key, optimizer)
    options = [f"--option={k}={v}" for k, v in cell.options.items()]
    cmd = [sys.executable, "-m", "optbench.harness.cli", "run", "--objective", cell.objective, "--optimizer", optimizer,
           *options, "--budget", str(cell.budget.max_evals), "--seconds", str(cell.budget.max_seconds),
           "--seed", str(cell.seed), "--no-store", "--quiet", "--json"]
    return json.loads(sh(cmd, ROOT).stdout)


def test_asv_check_passes(tmp_path):
    env = dict(asv_env(tmp_path), ASV_PYTHONPATH=str(ROOT))  # this checkout's code, not the interpreter's install
    proc = sh(ASV + ["check", "--python=same"], ROOT, env)
    assert "No problems found" in proc.stdout


def test_metrics_follow_their_definitions():
    record = RunRecord("maxdiff", {}, "x", {}, {}, 0, "ok", value=-0.3, n_evals=200, wall_s=0.5,
                       compute_s=0.2, item_s=0.05, overhead_s=0.25, reference_value=-0.4)
    m = asv_support.metrics(record)
    assert m["regret"] == pytest.approx(0.1)
    assert m["shortfall"] == pytest.approx(0.25)  # 1 − 0.75: lower is better, as asv compares
    assert m["overhead_us_per_eval"] == pytest.approx(1250.0)
    assert m["item_pct"] == pytest.approx(10.0)
    assert m["n_evals"] == 200
    synthetic = RunRecord("sphere", {}, "x", {}, {}, 0, "ok", value=0.5, n_evals=10, wall_s=1.0,
                          reference_value=0.0)
    assert math.isnan(asv_support.metrics(synthetic)["shortfall"])  # undefined at f* = 0


def test_unregistered_optimizer_is_skipped_and_failed_run_is_not_tracked():
    with pytest.raises(NotImplementedError):  # asv's way to skip, raised in setup
        asv_support.require_optimizer("no.such.optimizer")
    results = {("rastrigin-2d", "random"): {"status": "error", "message": "boom", "regret": 1.0}}
    with pytest.raises(RuntimeError, match="boom"):
        asv_support.tracked(results, "rastrigin-2d", "random", "regret")


def test_suite_names_are_known():
    assert set(asv_support.OPTIMIZE_OBJECTIVES) <= set(asv_support.OBJECTIVES)
    assert set(asv_support.BATCH_OBJECTIVES) <= set(asv_support.OBJECTIVES)
    assert set(asv_support.TIMED_OBJECTIVES) <= set(asv_support.OPTIMIZE_OBJECTIVES)
    for key in asv_support.OBJECTIVES:
        objective = asv_support.make_objective(key)
        assert math.isfinite(asv_support.evaluate_scalar(objective, asv_support.centre_point(objective)))


@pytest.mark.parametrize("optimizer", ["random", "scipy.de"])
def test_asv_track_agrees_with_optbench_run(optimizer):
    if optimizer not in optimizers.names():
        pytest.skip(f"{optimizer} not registered")
    key = "maxdiff-ar200"
    tracked = asv_support.run_matrix([key], [optimizer])[key, optimizer]  # what setup_cache runs
    record = optbench_run(key, optimizer)
    assert record["status"] == tracked["status"] == "ok"
    assert record["value"] == tracked["value"]  # seeded, evaluation budget: exactly the same run
    assert record["n_evals"] == tracked["n_evals"]
    assert 1 - record["value"] / record["reference_value"] == tracked["shortfall"]
    timed = asv_support.optimize(asv_support.cell(key, optimizer))  # what time_optimize runs, in-process
    assert (timed.value, timed.n_evals) == (record["value"], record["n_evals"])


def test_published_page_references_no_external_url(tmp_path):
    """asv's shipped page template, rewritten as ``optbench asv-publish`` does: no script or style
    leaves the folder, every one it names exists there, and the byte-identical copies match the
    subresource-integrity hashes asv's page declares for the CDN files."""
    import base64
    import hashlib
    import re
    import shutil

    import asv

    from optbench.harness.asv.publish import VENDOR, VENDORED, external_urls, make_offline, offline_html

    template = Path(asv.__file__).with_name("www")
    shutil.copytree(template, tmp_path / "html")
    original = (template / "index.html").read_text()
    assert len(external_urls(original)) == len(VENDORED)  # the page asv ships does load from CDNs
    for page in make_offline(tmp_path / "html"):
        html = page.read_text()
        assert external_urls(html) == [], page
        for local in re.findall(r"<(?:script|link)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", html):
            if local.endswith((".js", ".css")):  # not the feed (regressions.xml) asv publish generates
                assert (page.parent / local).is_file(), local
    declared = dict(re.findall(r'(?:src|href)="(https://[^"]+)" integrity="(sha(?:256|512)-[^"]+)"', original))
    identical = [url for url in VENDORED if "flot/0.8.3" not in url and "stupidtable" not in url]
    for url in identical:
        algorithm, digest = declared[url].split("-", 1)
        data = (VENDOR / VENDORED[url]).read_bytes()
        assert base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == digest, url
    with pytest.raises(Exception, match="no copy is vendored"):
        offline_html('<script src="https://cdn.example.org/new-lib.js"></script>')


# --- slow: a real asv history in a temporary clone -------------------------------------------

SLOWDOWN = '''

# Injected by tests/test_asv.py: a deliberate regression, each evaluation computed twice.
_compute_once = SyntheticObjective.compute


def _compute_twice(self, x):
    _compute_once(self, x)
    return _compute_once(self, x)


SyntheticObjective.compute = _compute_twice
'''
BENCH = r"^bench_objectives\.ScalarEvaluation\.time_scalar"
SLOWED = "bench_objectives.ScalarEvaluation.time_scalar('sphere-2d-1ms')"


def commit(repo: Path, message: str) -> str:
    git = ["git", "-c", "user.name=asv test", "-c", "user.email=asv@test.invalid"]
    sh(git + ["commit", "-qam", message], repo)
    return sh(["git", "rev-parse", "HEAD"], repo).stdout.strip()


@pytest.mark.slow
def test_asv_continuous_flags_a_real_slowdown_and_not_a_noop(tmp_path):
    repo, home = tmp_path / "repo", tmp_path / "home"
    home.mkdir()
    sh(["git", "clone", "-q", str(ROOT), str(repo)], tmp_path)
    env = asv_env(home)
    sh(ASV + ["machine", "--yes", "--machine", "asv-test"], repo, env)
    base = sh(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    synthetic = repo / "objectives" / "synthetic.py"
    synthetic.write_text(synthetic.read_text() + "\n# a no-op change\n")
    noop = commit(repo, "no-op")
    synthetic.write_text(synthetic.read_text() + SLOWDOWN)
    slow = commit(repo, "2x slower synthetic objective")

    # 4 interleaved rounds per commit: a burst of other load on a shared machine then lands in
    # both commits' samples instead of faking a change in one
    continuous = ASV + ["continuous", "--factor", "1.1", "-E", f"sharedvenv:{PYTHON}", "-b", BENCH,
                        "-a", "rounds=4", "--machine", "asv-test"]
    quiet = sh(continuous + [base, noop], repo, env)  # exit 0: no regression reported
    print(quiet.stdout[quiet.stdout.rfind("| Change"):])
    assert not any(mark == "+" for mark, _ in table_rows(quiet.stdout).values()), quiet.stdout
    loud = sh(continuous + [noop, slow], repo, env, ok=(1,))  # continuous fails on a regression
    assert "PERFORMANCE DECREASED" in loud.stdout, loud.stdout
    assert table_rows(loud.stdout)[SLOWED][0] == "+", loud.stdout

    compare = sh(ASV + ["compare", "--factor", "1.1", "--machine", "asv-test", noop, slow], repo, env)
    print(compare.stdout)  # the closing note quotes it
    rows = table_rows(compare.stdout)
    mark, ratio = rows[SLOWED]
    assert mark == "+" and float(ratio) >= 1.25, compare.stdout  # 2× the work: 1.6–2.0 measured
    untouched = {name: row for name, row in rows.items() if "maxdiff" in name}  # the patch left these alone
    assert untouched and all(mark != "+" for mark, _ in untouched.values()), compare.stdout

    sh([sys.executable, "-m", "optbench.harness.cli", "asv-publish"], repo, env)
    from optbench.harness.asv.publish import external_urls

    assert external_urls((repo / "html" / "index.html").read_text()) == []


def stored_results(results_dir: Path, benchmark: str) -> dict[tuple[str, ...], float]:
    """``{(param, …): value}`` of one benchmark from asv's results file (one commit, one machine)."""
    [path] = [p for p in results_dir.glob("*.json") if p.name != "machine.json"]
    data = json.loads(path.read_text())
    row = dict(zip(data["result_columns"], data["results"][benchmark]))
    combos = itertools.product(*[[ast.literal_eval(p) for p in axis] for axis in row["params"]])
    return dict(zip(combos, row["result"]))


@pytest.mark.slow
def test_asv_track_figures_in_asv_results_equal_optbench_run(tmp_path):
    repo, home = tmp_path / "repo", tmp_path / "home"
    home.mkdir()
    sh(["git", "clone", "-q", str(ROOT), str(repo)], tmp_path)  # keeps results out of the working copy
    env = asv_env(home)
    sha = sh(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    sh(ASV + ["machine", "--yes", "--machine", "asv-test"], repo, env)
    sh(ASV + ["run", "--python=same", "--quick", "--machine", "asv-test", "--set-commit-hash", sha,
              "-b", r"MaxDiffQuality\.track_profit_shortfall|OptimizeQuality\.track_n_evals"], repo, env, ok=(0, 2))
    results = repo / ".asv" / "results" / "asv-test"
    shortfalls = stored_results(results, "bench_optimizers.MaxDiffQuality.track_profit_shortfall")
    evals = stored_results(results, "bench_optimizers.OptimizeQuality.track_n_evals")
    for optimizer in [o for o in ("random", "scipy.de") if o in optimizers.names()]:
        record = optbench_run("maxdiff-ar200", optimizer)
        assert shortfalls["maxdiff-ar200", optimizer] == 1 - record["value"] / record["reference_value"]
        assert evals["maxdiff-ar200", optimizer] == record["n_evals"]


def _fake_results(repo: Path, figures: dict[str, tuple[str, str, float]]) -> str:
    """A git repository with one commit and an asv results folder holding one figure per benchmark
    (``{name: (type, unit, value)}``), written with asv's own ``Results`` API; returns the commit."""
    from asv import results as asv_results
    from asv import runner, util

    repo.mkdir()
    sh(["git", "init", "-q", "-b", "main"], repo)
    sh(["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "one"], repo)
    sha = sh(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    (repo / "asv.conf.json").write_text(json.dumps({
        "version": 1, "project": "fake", "repo": ".", "branches": ["main"], "environment_type": "existing",
        "results_dir": "results", "html_dir": "html"}))
    results_dir = repo / "results"
    benchmarks = {name: {"name": name, "type": kind, "unit": unit, "params": [], "param_names": [], "version": "1",
                         "code": "", "timeout": 60} for name, (kind, unit, _) in figures.items()}
    util.write_json(str(results_dir / "benchmarks.json"), benchmarks, api_version=2)
    machine = {"machine": "fake", "os": "linux", "arch": "x86_64", "cpu": "cpu", "num_cpu": "2", "ram": "1"}
    util.write_json(str(results_dir / "fake" / "machine.json"), machine, api_version=1)
    stored = asv_results.Results(dict(machine, python=PYTHON), {}, sha, 1_700_000_000_000, PYTHON,
                                 f"existing-py{PYTHON}", {})
    for name, (_, _, value) in figures.items():
        stored.add_result(benchmarks[name], runner.BenchmarkResult(result=[value], samples=[None], number=[None],
                                                                   errcode=0, stderr="", profile=None))
    stored.save(str(results_dir))
    return sha


def test_published_page_shows_instruction_tracks_beside_time_tracks(tmp_path):
    """``optbench asv-publish`` (the real command) on a small results folder: the page's index
    lists the instruction track with its unit beside the time track, the graph holds the stored
    count, and the page still loads nothing from the network."""
    from optbench.harness.asv.publish import external_urls

    instructions_track = "bench_instructions.Instructions.track_instructions_instrument_per_eval"
    time_track = "bench_objectives.InstrumentEvaluation.time_evaluate_encoded"
    repo = tmp_path / "repo"
    _fake_results(repo, {instructions_track: ("track", "instructions", 4923.0), time_track: ("time", "seconds", 8e-7)})
    sh([sys.executable, "-m", "optbench.harness.cli", "asv-publish", "--config", str(repo / "asv.conf.json")],
       repo, asv_env(tmp_path))
    index = json.loads((repo / "html" / "index.json").read_text())
    assert index["benchmarks"][instructions_track]["unit"] == "instructions"
    assert index["benchmarks"][time_track]["unit"] == "seconds"
    [graph] = (repo / "html" / "graphs" / "arch-x86_64").rglob(f"{instructions_track}.json")  # the machine's graph
    assert [value for _, value in json.loads(graph.read_text())] == [4923.0]
    assert external_urls((repo / "html" / "index.html").read_text()) == []
