"""Parallel efficiency of the matrix runner, and the store's write cost per cell.

48 CPU-bound cells (``sphere`` with the ``work`` knob, random search one point per call, a fixed
evaluation budget) run with one worker and with two, alternately, best of three each; efficiency = serial ÷ (2 × parallel)
(target ≥ 90 %; a naive parallel Optuna study reached 2.5 %). Both runs include starting the
workers. Two controls show whether two cores were really free (on a shared machine other processes
take them, and efficiency drops for that reason alone): the time inside cells with 2 workers ÷ with
1, and the same evaluations in bare processes, one alone vs two at once. The store's cost is timed by
writing those records, one transaction each, to a new store.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from rich.console import Console
from rich.table import Table

from optbench.harness.core.budget import Budget
from optbench.harness.execution.matrix import expand, resolve, run_matrix
from optbench.harness.store import Store, load_frame

CELLS, WORK, EVALS, ROUNDS = 48, 5000, 600, 3


def _values(records) -> list[tuple]:
    return [(r.seed, r.status, r.value, r.n_evals, tuple(r.point.values())) for r in records]


def _burn(work: int, evals: int) -> None:
    """The cells' evaluations with no harness around them (one torch thread, as in a worker)."""
    import numpy as np
    import torch

    from optbench import objectives

    torch.set_num_threads(1)
    objective = objectives.get("sphere", work=work)
    for x in np.random.default_rng(0).uniform(-5, 5, (evals, 2)):
        objective.compute(x).item()


def _bare_s(processes: int, work: int, evals: int) -> float:
    """Wall seconds for ``processes`` bare processes each doing ``evals`` evaluations at once."""
    t0 = time.perf_counter()
    with ProcessPoolExecutor(processes, mp_context=get_context("fork")) as pool:
        list(pool.map(_burn, [work] * processes, [evals] * processes))
    return time.perf_counter() - t0


def _timed(matrix, workers: int) -> tuple[float, list]:
    t0 = time.perf_counter()
    records = run_matrix(matrix, workers=workers, quiet=True).records
    return time.perf_counter() - t0, records


def measure(cells: int = CELLS, work: int = WORK, evals: int = EVALS, rounds: int = ROUNDS) -> dict[str, float]:
    """Best-of-``rounds`` wall seconds with 1 and 2 workers (alternated, so a burst of other work on
    the machine hits both alike), efficiency, per-cell figures and the store's write cost."""
    matrix = resolve(expand([("sphere", {"work": work})], [("random", {"batch_size": 1})], [Budget(evals)],
                            range(cells)))
    load_before = os.getloadavg()[0]
    serial_runs, parallel_runs, bare = [], [], []
    for _ in range(rounds):
        serial_runs.append(_timed(matrix, 1))
        parallel_runs.append(_timed(matrix, 2))
        bare.append((_bare_s(1, work, evals * cells // 4), _bare_s(2, work, evals * cells // 4)))
    (serial_s, serial), (parallel_s, parallel) = (min(runs, key=lambda run: run[0]) for runs in
                                                  (serial_runs, parallel_runs))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "perf.sqlite"
        with Store.open(path) as store:
            run_id = store.begin_run("perf parallel_efficiency", len(serial), serial[0].versions)
            t0 = time.perf_counter()
            for record in serial:
                store.put(record, run_id)
            write_s = (time.perf_counter() - t0) / len(serial)
        load_frame(path)  # once to import pandas
        t0 = time.perf_counter()
        load_frame(path)
        load_s = time.perf_counter() - t0
    in_cells_s = sum(r.wall_s for r in serial)
    in_cells_parallel_s = sum(r.wall_s for r in parallel)
    return {"cells": cells, "serial_s": serial_s, "parallel_s": parallel_s,
            "efficiency": serial_s / (2 * parallel_s),
            "ceiling": min(one for one, _ in bare) / min(two for _, two in bare),
            "identical": all(_values(r) == _values(serial) for _, r in serial_runs + parallel_runs),
            "cell_s": in_cells_s / cells, "cell_slowdown": in_cells_parallel_s / in_cells_s,
            "harness_per_cell_s": (serial_s - in_cells_s) / cells,
            "write_ms": write_s * 1e3, "load_ms": load_s * 1e3, "load_before": load_before,
            "load_after": os.getloadavg()[0]}


def main() -> None:
    m = measure()
    table = Table(title=f"{m['cells']} cells: sphere work={WORK}, random search one point per call, "
                        f"{EVALS} evaluations each")
    for col in ("figure", "value"):
        table.add_column(col)
    table.add_row(f"serial (1 worker), wall s, best of {ROUNDS}", f"{m['serial_s']:.2f}")
    table.add_row(f"2 workers, wall s, best of {ROUNDS}", f"{m['parallel_s']:.2f}")
    table.add_row("efficiency = serial ÷ (2 × parallel) (target ≥ 90 %)", f"{100 * m['efficiency']:.1f} %")
    table.add_row("machine's ceiling: 1 bare process ÷ 2 at once, same work each (100 % = two free cores)",
                  f"{100 * m['ceiling']:.1f} %")
    table.add_row("efficiency ÷ ceiling (what the harness keeps of what the machine gave)",
                  f"{100 * m['efficiency'] / m['ceiling']:.1f} %")
    table.add_row("values identical in every run, serial and 2 workers", "yes" if m["identical"] else "NO")
    table.add_row("time inside a cell (serial), s", f"{m['cell_s']:.3f}")
    table.add_row("time inside a cell, 2 workers ÷ 1 worker (1.0 when two cores are free)",
                  f"{m['cell_slowdown']:.2f}")
    table.add_row("harness time per cell outside it (serial), ms", f"{1e3 * m['harness_per_cell_s']:.1f}")
    table.add_row("store write per cell (one transaction), ms", f"{m['write_ms']:.3f}")
    table.add_row(f"store load_frame of {m['cells']} records, ms", f"{m['load_ms']:.1f}")
    table.add_row("1-min load average before / after (above the core count: other work shares the CPUs)",
                  f"{m['load_before']:.1f} / {m['load_after']:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
