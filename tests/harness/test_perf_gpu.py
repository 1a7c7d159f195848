"""``optbench perf gpu``: its one-line refusal without CUDA, and its measurements (run on the CPU
here, on the GPU where one is present)."""

import os
import subprocess
import sys

import pytest
import torch

from optbench.harness.perf import gpu


def test_without_cuda_it_says_so_in_one_line_and_exits_3():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # hides any GPU: the refusal is what is tested
    proc = subprocess.run([sys.executable, "-m", "optbench.harness.cli", "perf", "gpu"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == gpu.NO_CUDA_EXIT == 3
    assert proc.stderr.strip().splitlines() == [
        "optbench perf gpu: CUDA is not available here (torch.cuda.is_available() is False); nothing measured (exit 3)"]
    assert proc.stdout == ""


def check_measurement(m: dict, device: str, optimizer_names) -> None:
    for r in m["split"]:
        assert r["status"] == "ok" and r["n_evals"] > 0
        assert r["compute_s"] > 0 and r["item_s"] > 0 and r["overhead_s"] >= 0  # each part measured
        assert r["compute_s"] + r["item_s"] <= r["wall_s"] <= r["synced_wall_s"]
        assert 0.0 <= r["residual_s"] < r["synced_wall_s"]  # the synchronized bracket holds the whole run
    assert {(r["optimizer"], r["device"]) for r in m["split"]} == {(o, d) for o in optimizer_names for d in (device, "cpu")}
    assert m["backtest_max_profit_gap"] < 1e-12
    assert all(r["scalar_us"] > 0 and r["batch_us_per_candidate"] > 0 for r in m["evaluation"])
    assert all(r["per_eval"] == 1.0 for r in m["syncs"].values())  # MaxDiff syncs only for its value
    cuda = [r for r in m["split"] if r["device"].startswith("cuda")]
    assert all(r["item_wait_s"] + r["item_copy_s"] == pytest.approx(r["item_s"]) for r in cuda)
    assert all(r["device_s"] is None for r in m["split"] if r["device"] == "cpu")
    assert len(gpu.tables(m)) == 4


def test_measure_runs_every_section_on_the_cpu():
    names = ("scipy.direct", "batched.exact")
    m = gpu.measure("cpu", "cpu", sizes=(50,), split_optimizers=names, split_budget=40, windows=2)
    check_measurement(m, "cpu", names)
    assert len(m["evaluation"]) == 4 and m["backtest"]["cpu"]["problems"] == 8


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_measure_on_cuda_agrees_with_the_cpu():
    names = ("scipy.direct", "batched.exact")
    m = gpu.measure("cuda", "cpu", sizes=(200,), split_optimizers=names, split_budget=60, windows=3)
    check_measurement(m, "cuda", names)
