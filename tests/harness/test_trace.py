"""The run's timeline (Chrome trace), the sync counter and the sampled device split (fake CUDA
events on the CPU; the real ones run only where CUDA is available)."""

import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.instrument import Instrument
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_cell
from optbench.harness.profiling import cell as profiling
from optbench.harness.profiling.syncs import count_syncs
from optbench.objectives.synthetic import SyntheticObjective

TOL_US = 0.002  # ts and dur are rounded to ns


@pytest.fixture(scope="module")
def de_trace(tmp_path_factory):
    if "scipy.de" not in optimizers.names():
        pytest.skip("scipy.de is not registered")
    out = tmp_path_factory.mktemp("trace")
    result = profiling.profile_cell(Cell("maxdiff", "scipy.de", Budget(300), 0), out, py_spy=False, trace=True)
    return result, json.loads((out / result.files["trace"]).read_text())


def x_events(doc, name=None, tid=1):
    return [e for e in doc["traceEvents"] if e["ph"] == "X" and e["pid"] == 1 and e["tid"] == tid
            and (name is None or e["name"] == name)]


def test_one_range_per_evaluation_and_optimizer_steps_between(de_trace):
    result, doc = de_trace
    evals = x_events(doc, "evaluation")
    assert len(evals) == result.traced.n_evals == 300
    steps = x_events(doc, "scipy.de step")
    assert len(steps) >= 299  # between consecutive evaluations (and before the first / after the last)
    ordered = sorted(evals + steps, key=lambda e: e["ts"])
    assert {e["name"] for e in ordered[1:-1:2]} == {"evaluation"}  # steps and evaluations alternate


def test_ranges_nest_properly(de_trace):
    _, doc = de_trace
    stack: list[dict] = []
    for e in sorted(x_events(doc), key=lambda e: (e["ts"], -e["dur"])):
        while stack and e["ts"] >= stack[-1]["ts"] + stack[-1]["dur"] - TOL_US:
            stack.pop()
        if stack:  # inside its parent entirely
            assert e["ts"] + e["dur"] <= stack[-1]["ts"] + stack[-1]["dur"] + TOL_US
        parent = stack[-1]["name"] if stack else None
        expected = {"run": None, "evaluation": "run", "scipy.de step": "run", "compute": "evaluation",
                    ".item()": "evaluation"}[e["name"]]
        assert parent == expected, (e, parent)
        stack.append(e)


def test_evaluation_ranges_add_up_to_the_instruments_compute_and_item(de_trace):
    result, doc = de_trace
    total_s = sum(e["dur"] for e in x_events(doc, "evaluation")) / 1e6
    assert total_s == pytest.approx(result.traced.compute_s + result.traced.item_s, rel=0.15)
    parts_s = sum(e["dur"] for e in x_events(doc) if e["name"] in ("compute", ".item()")) / 1e6
    assert parts_s == pytest.approx(total_s, rel=1e-6)
    run = x_events(doc, "run")[0]
    assert run["dur"] / 1e6 == pytest.approx(result.traced.wall_s, rel=1e-6)
    assert doc["otherData"]["record"]["device_s"] is None  # CPU: not measured, and valid JSON


def test_profile_builds_the_objective_before_the_measured_run(de_trace, monkeypatch):
    result, _ = de_trace
    assert result.construction_s > 0
    objective = objectives.get("maxdiff")
    monkeypatch.setattr(objectives, "get", lambda *a, **k: pytest.fail("the objective was rebuilt in the run"))
    record = run_cell(Cell("maxdiff", "scipy.de", Budget(20), 0), with_reference=False, objective=objective)
    assert record.status == "ok" and record.n_evals == 20


def test_profile_command_writes_the_trace_and_refuses_torch_profiler_alone(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "optbench.harness.cli", "profile", "--objective", "maxdiff",
                           "--optimizer", "scipy.de", "--torch-profiler", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1].startswith("error:")
    assert "--trace" in proc.stderr


def Sphere(dim):
    return SyntheticObjective("sphere", dim=dim)


class _Syncing(SyntheticObjective):
    """Sphere whose compute asks the host for an intermediate value: two syncs per evaluation."""

    def compute(self, x):
        y = super().compute(x)
        scale = float(y * 0 + 1)  # the extra host transfer
        return y * scale


def test_the_sync_counter_sees_an_objective_that_syncs_twice_per_evaluation():
    twice = count_syncs(_Syncing("sphere", dim=2), evals=7)
    assert twice.evals == 7 and twice.per_eval == 2.0
    assert twice.host_transfers == {"__float__": 7, "item": 7}
    assert "2× per evaluation" in twice.warning()
    once = count_syncs(Sphere(dim=2), evals=7)
    assert once.per_eval == 1.0 and once.warning() == ""


class FakeEvent:
    """Stands in for torch.cuda.Event on the CPU: the clock at record(); elapsed in ms."""

    def record(self):
        self.t = time.perf_counter()

    def synchronize(self):
        pass

    def elapsed_time(self, end):
        return (end.t - self.t) * 1e3


def test_sampled_device_split_with_fake_events_adds_up_to_item_s():
    obj = Sphere(dim=2)
    inst = Instrument(obj, Budget(max_evals=40), device_events=FakeEvent)
    rng = np.random.default_rng(0)
    for x in rng.uniform(-1, 1, (32, 2)):
        inst.evaluate(x)
    inst.evaluate_batch(rng.uniform(-1, 1, (8, 2)))
    split = inst.probe.split
    assert (split.calls, split.samples) == (33, 3)  # calls 0, 16 and 32 (the batch) are sampled
    device_s, wait_s, copy_s = inst.device_split()
    assert device_s == pytest.approx(split.device_s * 33 / 3)
    assert wait_s + copy_s == pytest.approx(inst.item_s) and wait_s >= 0 and copy_s > 0
    assert inst.n_evals == 40


def test_cpu_runs_leave_the_device_fields_unmeasured():
    record = run_cell(Cell("sphere", "random", Budget(20), 0, {"dim": 2}), with_reference=False)
    assert math.isnan(record.device_s) and math.isnan(record.item_wait_s) and math.isnan(record.item_copy_s)
    assert Instrument(Sphere(dim=2), Budget(5)).probe is None  # nothing installed when not traced on the CPU


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_split_on_a_real_gpu():
    record = run_cell(Cell("maxdiff", "scipy.de", Budget(200), 0, {"device": "cuda"}), with_reference=False)
    assert record.device_s > 0 and record.item_wait_s + record.item_copy_s == pytest.approx(record.item_s)


@pytest.mark.slow
def test_torch_profiler_activity_is_merged_onto_the_runs_clock(tmp_path):
    result = profiling.profile_cell(Cell("maxdiff", "scipy.de", Budget(30), 0), tmp_path, py_spy=False,
                                    trace=True, torch_profiler=True)
    doc = json.loads((tmp_path / result.files["trace"]).read_text())
    run = x_events(doc, "run")[0]
    aten = [e for e in doc["traceEvents"] if e.get("pid") == 2 and str(e["name"]).startswith("aten::")]
    assert aten and all(-1e3 <= e["ts"] <= run["dur"] + 1e3 for e in aten)


def test_trace_overhead_check_runs_both_sides():
    from optbench.harness.perf import trace_overhead

    m = trace_overhead.measure(Cell("sphere", "random", Budget(30), 0, {"dim": 2}), rounds=2)
    assert m["untraced_s"] > 0 and m["traced_s"] > 0 and m["ratio"] == m["traced_s"] / m["untraced_s"]
