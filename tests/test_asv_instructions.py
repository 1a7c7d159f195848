"""Instruction counts (harness/asv/instructions.py, instruction_workloads.py) and the regression
gate built on them (harness/asv/regression.py).

Fast: callgrind's dumps are read by label; the workload process forks its children and writes a
fresh store per run (run natively: the markers are no-ops outside valgrind); the child's
environment is the fixed one; the injected loop lands in ``evaluate_encoded``; asv's results and
tables are read as asv writes them. Slow (OPTBENCH_SLOW=1, valgrind): a workload's count does not
depend on the others measured with it; in a temporary clone ``asv continuous --factor 1.02 -b
instructions`` is quiet on an empty commit and fails on one adding a small loop per evaluation.
"""

from __future__ import annotations

import ast
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from optbench.harness.asv import instruction_workloads as workloads
from optbench.harness.asv import instructions, regression
from optbench.harness.core.errors import HarnessError

ROOT = Path(__file__).resolve().parents[1]


def needs_valgrind() -> None:
    reason = instructions.unavailable()
    if reason:
        pytest.skip(reason)


def test_instruction_dumps_are_read_by_label(tmp_path):
    for i, (label, total) in enumerate([("w 10", 1500), ("w 20", 2700)], start=1):
        (tmp_path / f"callgrind.out.{i}").write_text(
            f"version: 1\ndesc: Trigger: Client Request: {label}\nevents: Ir\nsummary: {total}\ntotals: {total}\n")
    counts = instructions.read_dumps(tmp_path)
    assert counts == {"w 10": 1500, "w 20": 2700}
    assert instructions.per_unit(counts, "w", 10) == 120.0
    with pytest.raises(HarnessError, match="no callgrind dump"):
        instructions.per_unit(counts, "w", 5)


def run_workloads(tmp_path: Path, *names: str) -> subprocess.CompletedProcess:
    """The workload process as ``instructions.measure`` starts it, natively (no valgrind)."""
    if instructions.unavailable():
        pytest.skip(instructions.unavailable() or "")
    lib = instructions._build_markers(tmp_path)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-P", "-m", "optbench.harness.asv.instruction_workloads", str(lib), *names],
                          cwd=work, env=instructions.child_env(), capture_output=True, text=True, timeout=300)


def test_each_run_of_the_store_workload_writes_a_fresh_store_and_a_failing_workload_is_named(tmp_path):
    done = run_workloads(tmp_path, "store_record", "no_such_workload", "python_loop")
    assert done.returncode == 1
    assert "instruction workloads failed: no_such_workload\n" in done.stderr
    assert "KeyError" in done.stderr  # the child's own traceback
    with sqlite3.connect(tmp_path / "work" / workloads.STORE_FILE) as conn:
        rows, last_rowid = conn.execute("SELECT count(*), max(rowid) FROM records").fetchone()
    n = 2 * workloads.UNITS["store_record"]  # the last measured run; warm-ups and the n run went to earlier files
    assert (rows, last_rowid) == (n, n)


def test_child_environment_is_fixed_whatever_the_caller_sets(monkeypatch):
    monkeypatch.setenv("SOME_CALLER_VARIABLE", "x" * 100)
    monkeypatch.setenv("PYTHONHASHSEED", "123")
    env = instructions.child_env()
    assert set(env) <= {*instructions.KEPT_ENV, *instructions.DETERMINISTIC_ENV, "PYTHONPATH"}
    assert env["PYTHONHASHSEED"] == "0" and env["PYTHONMALLOC"] == "malloc"
    first = Path(env["PYTHONPATH"].split(":")[0])
    assert (first / "optbench" / "__init__.py").resolve() == (ROOT / "optbench" / "__init__.py").resolve()


def _method(source: str, cls: str, name: str) -> ast.FunctionDef:
    [klass] = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == cls]
    [method] = [n for n in klass.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return method


def test_injected_loop_is_the_first_statement_of_evaluate_encoded():
    source = (ROOT / regression.INSTRUMENT_FILE).read_text()
    before = _method(source, "Instrument", "evaluate_encoded")
    after = _method(regression.inject_loop(source), "Instrument", "evaluate_encoded")
    assert isinstance(after.body[1], ast.For)
    assert ast.dump(after.body[1].iter) == ast.dump(ast.parse("range(2)", mode="eval").body)
    assert [ast.dump(s) for s in after.body[:1] + after.body[2:]] == [ast.dump(s) for s in before.body]
    with pytest.raises(HarnessError, match="evaluate_encoded"):
        regression.inject_loop("class Instrument:\n    pass\n")


def test_results_are_read_as_asv_writes_them(tmp_path):
    from asv import results as asv_results
    from asv import runner

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    stored = asv_results.Results({"machine": "m", "python": python}, {}, "abcdef1234567890", 0, python,
                                 f"sharedvenv-py{python}", {})
    per_optimizer = {"name": "b.C.track_p", "version": "1", "params": [["'x'", "'y'"]], "param_names": ["p"]}
    plain = {"name": "b.C.track_q", "version": "1", "params": [], "param_names": []}
    for bench, values in ((per_optimizer, [1.5, None]), (plain, [2.5])):
        stored.add_result(bench, runner.BenchmarkResult(result=values, samples=[None] * len(values),
                                                        number=[None] * len(values), errcode=0, stderr="", profile=None))
    stored.save(str(tmp_path))
    assert regression.results(tmp_path / "m", "abcdef1234567890") == {"b.C.track_p('x')": 1.5, "b.C.track_q": 2.5}
    with pytest.raises(HarnessError, match="no asv results"):
        regression.results(tmp_path / "m", "0123456789")


def test_spread_and_table_rows():
    assert regression.spread([{"a": 100.0, "b": 2.0, "c": 1.0}, {"a": 101.0, "b": 2.0}, {"a": 100.5, "b": 2.0}]) == \
        {"a": pytest.approx(0.01), "b": 0.0}
    table = ("| Change | Before [0a1b2c3d] | After [4e5f6a7b] | Ratio | Benchmark (Parameter) |\n"
             "|--------|-------|------|-------|-------|\n"
             "| +      | 4.91k | 5.26k | 1.07 | bench_instructions.Instructions.track_instructions_instrument_per_eval |\n"
             "|        | 7.23k | 7.24k | 1.00 | "
             "bench_instructions.OptimizerInstructions.track_instructions_optimizer_per_eval('random') |\n")
    assert regression.table_rows(table) == {
        "bench_instructions.Instructions.track_instructions_instrument_per_eval": ("+", "1.07"),
        "bench_instructions.OptimizerInstructions.track_instructions_optimizer_per_eval('random')": ("", "1.00")}


# --- slow: under valgrind -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_workloads_count_does_not_depend_on_the_others_measured():
    """The same workloads counted in two callgrind processes, with different companions and in
    another order: each agrees to 0.5 %; the pure-Python loop's figure is plausible for
    ``total += i * i`` (more than one bytecode's worth, far less than a function call)."""
    needs_valgrind()
    first = instructions.measure(["python_loop", "store_record", "instrumented_evaluation"])
    second = instructions.measure(["instrumented_evaluation", "maxdiff_batch", "store_record", "python_loop"])
    for name, count in first.items():
        assert second[name] == pytest.approx(count, rel=0.005), name
    assert 100 < first["python_loop"] < 5000


@pytest.mark.slow
@pytest.mark.timeout(3600)  # four instruction suites under valgrind: ~15 minutes on a loaded 2-core machine
def test_instruction_gate_is_quiet_on_an_empty_commit_and_fails_on_a_small_loop(tmp_path):
    needs_valgrind()
    clone = regression.make_clone(tmp_path)
    quiet = regression.continuous(clone, clone.base, clone.empty, regression.INSTRUCTION_BENCH)
    assert (quiet.exit_code, quiet.flagged) == (0, [])
    loud = regression.continuous(clone, clone.empty, clone.loop, regression.INSTRUCTION_BENCH)
    assert loud.exit_code == 1 and regression.INSTRUMENT_TRACK in loud.flagged
    added = loud.after[regression.INSTRUMENT_TRACK] - loud.before[regression.INSTRUMENT_TRACK]
    assert 100 < added < 2000  # a few hundred instructions per evaluation
    spread = regression.spread([quiet.before, quiet.after, loud.before])  # three counts of the same code
    tracks = {name: diff for name, diff in spread.items() if ".track_instructions_" in name}
    assert tracks and max(tracks.values()) <= 0.005, tracks
