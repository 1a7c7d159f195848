"""The CUDA path in one short run (a few minutes): MaxDiff evaluation on the GPU, the instrument's
split checked against synchronized timing, and the backtest stacked on the GPU vs the CPU.

1. Scalar (``compute(x).item()``) and 1024-candidate batch evaluation, n = 200 and 10 000 days,
   float32 and float64, on the GPU beside the same on the CPU.
2. For scipy.direct, scipy.de, nevergrad.ngopt, optuna.tpe and batched.exact on MaxDiff on the GPU
   and on the CPU: the run's ``compute_s`` (kernel launches, no wait) + ``item_s`` (the ``.item()``
   that waits for the queued kernels) + ``overhead_s`` against a wall time bracketed by
   ``torch.cuda.synchronize()``; the residual is what lies outside the instrument's clock (cell
   setup, the float64 re-evaluation of the result, GPU work still queued at the end).
   On the GPU each run also carries the sampled CUDA-event split (``device_s``, ``item_wait_s``,
   ``item_copy_s``; see docs/timing.md).
3. The backtest workload (280 goog problems) with ``batched.exact`` stacked, GPU vs CPU, and the
   largest profit difference between the two.
4. Synchronizations per MaxDiff evaluation on each device (host transfers, and on CUDA the syncs
   ``torch.cuda.set_sync_debug_mode`` reports).

Writes ``results/perf-gpu.json`` and prints the tables. Where CUDA is not available it prints one
line and exits with ``NO_CUDA_EXIT`` (3): nothing is measured, no figure is made up.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_cell, warm_up
from optbench.harness.core.timing import per_call_s
from optbench.harness.profiling.syncs import count_syncs
from optbench.harness.workloads.maxdiff import backtest as bt
from optbench.harness.workloads.maxdiff.batched import BatchedAdapter
from optbench.objectives.maxdiff_data import GOOG_WINDOWS

NO_CUDA_EXIT = 3
OUT = Path("results/perf-gpu.json")
SIZES = (200, 10_000)
DTYPES = ("float64", "float32")
BATCH = 1024
SPLIT_OPTIMIZERS = ("scipy.direct", "scipy.de", "nevergrad.ngopt", "optuna.tpe", "batched.exact")
SPLIT_BUDGET = 300


def synchronize(device: str) -> None:
    """Wait for every queued kernel on ``device`` (nothing to wait for on the CPU)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def evaluation_speed(device: str, n: int, dtype: str, k: int = BATCH) -> dict:
    """µs per scalar evaluation (its ``.item()`` waits for the kernels) and per candidate of a
    k-batch (its copy to the host waits), eager path."""
    obj = objectives.get("maxdiff", n=n, dtype=dtype, device=device)
    x = np.array([0.001, -0.002])
    xs = np.random.default_rng(0).uniform(-0.03, 0.03, (k, 2))
    scalar = per_call_s(lambda: obj.compute(x).item(), calls=max(20, 100_000 // n))
    batch = per_call_s(lambda: obj.batch(xs), calls=max(3, 1_000_000 // (n * k) + 3), warmup=2)
    return {"device": device, "n": n, "dtype": dtype, "scalar_us": scalar * 1e6,
            "batch_us_per_candidate": batch / k * 1e6, "batch_over_scalar": batch / scalar}


def split_check(device: str, optimizer: str, budget: int = SPLIT_BUDGET) -> dict:
    """One warmed-up run of ``optimizer`` on MaxDiff: the instrument's split beside a synchronized
    wall time of the same run."""
    batched = isinstance(optimizers.make(optimizer), BatchedAdapter)  # sizes its own grid: not cappable
    cell = Cell("maxdiff", optimizer, bt.UNCAPPED if batched else Budget(budget), 0, {"device": device})
    warm_up(cell)
    synchronize(device)
    t0 = time.perf_counter()
    record = run_cell(cell, with_reference=False)
    synchronize(device)
    synced_wall_s = time.perf_counter() - t0
    split_s = record.compute_s + record.item_s + record.overhead_s
    return {"device": device, "optimizer": optimizer, "status": record.status, "n_evals": record.n_evals,
            "synced_wall_s": synced_wall_s, "wall_s": record.wall_s, "compute_s": record.compute_s,
            "item_s": record.item_s, "overhead_s": record.overhead_s, "split_s": split_s,
            "residual_s": synced_wall_s - split_s, "value": record.value,
            **{k: None if np.isnan(v) else v for k, v in (("device_s", record.device_s),
                                                           ("item_wait_s", record.item_wait_s),
                                                           ("item_copy_s", record.item_copy_s))}}


def backtest_on(device: str, windows: int = GOOG_WINDOWS) -> dict:
    """The backtest workload with the batched default stacked on ``device`` (after a warm-up on one
    window, which pays the first kernels' and libraries' start-up)."""
    probs = bt.problems(range(windows))
    bt.run(bt.DEFAULT_OPTIMIZER, probs=probs[:4], device=device)
    synchronize(device)
    outcome = bt.run(bt.DEFAULT_OPTIMIZER, probs=probs, device=device)
    return {"device": device, "problems": len(probs), "wall_s": outcome.wall_s, "profits": outcome.profits.tolist()}


def measure(device: str = "cuda", baseline: str = "cpu", sizes=SIZES, split_optimizers=SPLIT_OPTIMIZERS,
            split_budget: int = SPLIT_BUDGET, windows: int = GOOG_WINDOWS) -> dict:
    """All three sections on ``device`` and on ``baseline`` (any device pair: the tests use cpu, cpu)."""
    registered = [name for name in split_optimizers if name in optimizers.names()]
    speed = [evaluation_speed(dev, n, dtype) for n in sizes for dtype in DTYPES for dev in (device, baseline)]
    split = [split_check(dev, name, split_budget) for name in registered for dev in (device, baseline)]
    backtest = {dev: backtest_on(dev, windows) for dev in (device, baseline)}
    syncs = {dev: count_syncs(objectives.get("maxdiff", device=dev)).to_dict() for dev in (device, baseline)}
    profit_gap = float(np.max(np.abs(np.subtract(backtest[device]["profits"], backtest[baseline]["profits"]))))
    return {"device": device, "baseline": baseline,
            "device_name": torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu",
            "torch": torch.__version__, "evaluation": speed, "split": split, "backtest": backtest,
            "backtest_max_profit_gap": profit_gap, "syncs": syncs,
            "skipped_optimizers": [name for name in split_optimizers if name not in registered]}


def tables(m: dict) -> list[Table]:
    """The figures of :func:`measure` as three rich tables."""
    speed = Table(title=f"MaxDiff ar200 evaluation: {m['device']} ({m['device_name']}) vs {m['baseline']}, eager")
    for col in ("n", "dtype", "device", "µs / scalar eval", "µs / candidate (batch of 1024)", "batch ÷ scalar"):
        speed.add_column(col, justify="right")
    for r in m["evaluation"]:
        speed.add_row(str(r["n"]), r["dtype"], r["device"], f"{r['scalar_us']:.1f}",
                      f"{r['batch_us_per_candidate']:.3f}", f"{r['batch_over_scalar']:.1f}")
    split = Table(title="the instrument's split against a synchronized wall time of the same run, MaxDiff ar200")
    for col in ("optimizer", "device", "status", "evals", "synced wall ms", "compute ms", "item ms", "overhead ms",
                "residual ms", "residual %", "device ms", "item wait ms", "item copy ms"):
        split.add_column(col, justify="left" if col in ("optimizer", "status") else "right")
    ms = lambda v: "-" if v is None else f"{1e3 * v:.2f}"  # noqa: E731
    for r in m["split"]:
        split.add_row(r["optimizer"], r["device"], r["status"], str(r["n_evals"]), *(ms(r[k]) for k in
                      ("synced_wall_s", "compute_s", "item_s", "overhead_s", "residual_s")),
                      f"{100 * r['residual_s'] / r['synced_wall_s']:.1f}",
                      *(ms(r[k]) for k in ("device_s", "item_wait_s", "item_copy_s")))
    back = Table(title=f"backtest workload, {bt.DEFAULT_OPTIMIZER} stacked")
    for col in ("device", "problems", "wall s", "total profit"):
        back.add_column(col, justify="right")
    for dev, r in m["backtest"].items():
        back.add_row(dev, str(r["problems"]), f"{r['wall_s']:.3f}", f"{sum(r['profits']):.6f}")
    syncs = Table(title="synchronizations per MaxDiff evaluation (compute(x).item())")
    for col in ("device", "evals", "host transfers", "cuda syncs", "per evaluation"):
        syncs.add_column(col, justify="right")
    for dev, r in m["syncs"].items():
        syncs.add_row(dev, str(r["evals"]), ", ".join(f"{k} {v}" for k, v in sorted(r["host_transfers"].items())),
                      str(r["cuda_syncs"]), f"{r['per_eval']:g}")
    return [speed, split, back, syncs]


def main() -> None:
    if not torch.cuda.is_available():
        print("optbench perf gpu: CUDA is not available here (torch.cuda.is_available() is False); nothing "
              f"measured (exit {NO_CUDA_EXIT})", file=sys.stderr)
        raise SystemExit(NO_CUDA_EXIT)
    torch.set_num_threads(1)  # the CPU side as in the other perf checks and the backtest
    t0 = time.perf_counter()
    m = measure()
    console = Console(width=160)
    for table in tables(m):
        console.print(table)
    console.print(f"backtest profits {m['device']} vs {m['baseline']}: largest difference "
                  f"{m['backtest_max_profit_gap']:.2e}; residual = synced wall − (compute + item + overhead): time "
                  f"outside the instrument's clock; whole check {time.perf_counter() - t0:.0f} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(m, indent=1))
    console.print(f"wrote {OUT}")
