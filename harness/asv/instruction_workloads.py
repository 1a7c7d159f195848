"""The child process of :mod:`harness.asv.instructions`: imports a fixed set of modules, then forks
one fresh child per named workload; each child runs its workload once unmeasured and then at ``n``
and ``2n`` units between the callgrind markers.

Usage (under callgrind, as ``instructions.measure`` starts it, in a scratch folder):
``python -m optbench.harness.asv.instruction_workloads MARKERS.so NAME...``.
A workload factory pays its set-up (data, tensors, imports) and returns a :class:`Workload`.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import import_module
from pathlib import Path
from typing import NoReturn, cast

import numpy as np


def _nothing(k: int) -> None:
    pass


@dataclass(frozen=True)
class Workload:
    """``run(k)``: ``k`` units of work, the measured region; ``prepare(k)``: what a run of ``k``
    needs beforehand (a fresh store), done outside the region."""

    run: Callable[[int], None]
    prepare: Callable[[int], None] = _nothing


def python_loop() -> Workload:
    """A fixed pure-Python loop (no torch): the measurement's own check."""

    def run(n: int) -> None:
        total = 0
        for i in range(n):
            total += i * i

    return Workload(run)


def _zero_cost():
    """A 2-d sphere computed by numpy: a few hundred instructions, so what is counted around it is
    the instrument's or the optimizer's."""
    import torch

    from optbench.objectives import FloatParam, Objective, SearchSpace

    class ZeroCost(Objective):
        name = "zero-cost"
        space = SearchSpace((FloatParam("x0", -5.0, 5.0), FloatParam("x1", -5.0, 5.0)))
        options: dict = {}

        def compute(self, x: np.ndarray) -> torch.Tensor:
            return cast(torch.Tensor, x.dot(x))  # a numpy scalar: it has the .item() the instrument calls

        def compute_batch(self, xs: np.ndarray) -> torch.Tensor:
            return torch.as_tensor((xs * xs).sum(1))

    return ZeroCost()


def bare_evaluation() -> Workload:
    """``compute(x).item()`` of the zero-cost objective, without the instrument."""
    objective, x = _zero_cost(), np.array([0.5, -0.5])

    def run(n: int) -> None:
        for _ in range(n):
            objective.compute(x).item()

    return Workload(run)


def instrumented_evaluation() -> Workload:
    """The instrument's per-evaluation core on the zero-cost objective."""
    from optbench.harness.core.budget import Budget
    from optbench.harness.core.instrument import Instrument

    instrument, x = Instrument(_zero_cost(), Budget(max_evals=10**12)), np.array([0.5, -0.5])

    def run(n: int) -> None:
        for _ in range(n):
            instrument.evaluate_encoded(x)

    return Workload(run)


def _maxdiff():
    from optbench import objectives
    from optbench.harness.asv import support

    objective = objectives.get("maxdiff", data="ar200")
    return objective, support


def maxdiff_scalar() -> Workload:
    """One scalar MaxDiff ``ar200`` evaluation as the instrument does it (``compute(x).item()``)."""
    objective, support = _maxdiff()
    x = support.centre_point(objective)

    def run(n: int) -> None:
        for _ in range(n):
            support.evaluate_scalar(objective, x)

    return Workload(run)


def maxdiff_batch() -> Workload:
    """MaxDiff ``ar200`` ``batch`` of ``n`` seeded candidates (per unit: one candidate)."""
    objective, support = _maxdiff()
    xs = support.candidates(objective, k=4096)

    def run(n: int) -> None:
        objective.batch(xs[:n])

    return Workload(run)


STORE_FILE = Path("store.sqlite")  # in the child's working folder: the same path for every run


def store_record() -> Workload:
    """``n`` records written to a fresh store at a fixed path, one transaction each (``Store.put``);
    the store is made and opened before the measured region, the records built beforehand."""
    from optbench.harness.core.record import RunRecord
    from optbench.harness.store import Store

    record = RunRecord("sphere", {"dim": 2}, "random", {}, {"max_evals": 100, "max_seconds": None}, 0, "ok",
                       value=0.25, n_evals=100, wall_s=0.5, compute_s=0.2, item_s=0.05, overhead_s=0.25,
                       point={"x0": 0.5, "x1": -0.5}, trace=[(1, 0.01, 1.0), (7, 0.05, 0.25)])
    stores: list[Store] = []
    records: list[RunRecord] = []

    def prepare(n: int) -> None:
        for store in stores:
            store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{STORE_FILE}{suffix}").unlink(missing_ok=True)
        stores[:] = [Store.open(STORE_FILE)]
        records[:] = [replace(record, seed=seed) for seed in range(n)]

    def run(n: int) -> None:
        for one in records[:n]:
            stores[0].put(one)

    return Workload(run, prepare)


def optimization(optimizer: str) -> Workload:
    """One seeded run of ``optimizer`` on the zero-cost objective with a budget of ``n`` evaluations."""
    from optbench.harness.core.budget import Budget
    from optbench.harness.core.record import Cell
    from optbench.harness.core.runner import _minimize

    objective = _zero_cost()

    def run(n: int) -> None:
        attempt = _minimize(Cell("zero-cost", optimizer, Budget(max_evals=n)), objective)
        if attempt.status != "ok" or attempt.instrument.n_evals != n:
            raise RuntimeError(f"{optimizer}: {attempt.instrument.n_evals} of {n} evaluations "
                               f"({attempt.status}: {attempt.message})")

    return Workload(run)


WORKLOADS: dict[str, Callable[[], Workload]] = {
    "python_loop": python_loop, "bare_evaluation": bare_evaluation,
    "instrumented_evaluation": instrumented_evaluation, "maxdiff_scalar": maxdiff_scalar,
    "maxdiff_batch": maxdiff_batch, "store_record": store_record,
}
# Units per measured run: n and 2n are measured (valgrind runs Python 50–90× slower than native).
UNITS = {"python_loop": 2000, "bare_evaluation": 200, "instrumented_evaluation": 200, "maxdiff_scalar": 20,
         "maxdiff_batch": 256, "store_record": 10}
OPTIMIZER_PREFIX = "optimizer:"
OPTIMIZER_UNITS = {"random": 100, "grid": 100, "scipy.de": 60, "scipy.direct": 60, "scipy.dual_annealing": 60}
DEFAULT_OPTIMIZER_UNITS = 12
# Imported by the parent before it forks, whatever the workloads: every child starts from the same state.
PRELOAD = ("torch", "optbench.objectives", "optbench.harness.core.instrument", "optbench.harness.core.runner",
           "optbench.harness.store", "optbench.harness.asv.support")


def units(name: str) -> int:
    """``n`` for workload ``name`` (``optimizer:NAME`` for an optimization)."""
    if name.startswith(OPTIMIZER_PREFIX):
        return OPTIMIZER_UNITS.get(name[len(OPTIMIZER_PREFIX):], DEFAULT_OPTIMIZER_UNITS)
    return UNITS[name]


def workload(name: str) -> Workload:
    if name.startswith(OPTIMIZER_PREFIX):
        return optimization(name[len(OPTIMIZER_PREFIX):])
    return WORKLOADS[name]()


WARM_UP_RUNS = 2
JOBS = min(2, os.cpu_count() or 1)  # children measured at once (counts do not depend on it)


def measure_one(lib: ctypes.CDLL, name: str) -> None:
    """In a fresh child: :data:`WARM_UP_RUNS` unmeasured runs of ``2n`` units (adaptive bytecode,
    caches, lazy imports and the allocator's free lists settle), then ``n`` and ``2n`` units, each
    after a full collection with the survivors frozen, so the collector's work in the region is the
    region's own."""
    work, n = workload(name), units(name)
    for _ in range(WARM_UP_RUNS):
        work.prepare(2 * n)
        work.run(2 * n)
    for k in (n, 2 * n):
        work.prepare(k)
        label = f"{name} {k}".encode()
        gc.collect()
        gc.freeze()
        lib.optbench_region_start()
        work.run(k)
        lib.optbench_region_stop(label)


def main(markers: str, names: list[str]) -> None:
    from optbench.harness.execution.sandbox import limit_threads

    for module in PRELOAD:
        import_module(module)
    limit_threads()
    lib = ctypes.CDLL(markers)
    lib.optbench_region_stop.argtypes = [ctypes.c_char_p]
    running: dict[int, str] = {}
    failed = []
    for i, name in enumerate(names):
        pid = os.fork()
        if pid == 0:
            _child(lib, name)
        running[pid] = name
        while running and (len(running) >= JOBS or i == len(names) - 1):
            done, status = os.wait()
            if status != 0:
                failed.append(running[done])
            del running[done]
    if failed:
        sys.exit(f"instruction workloads failed: {', '.join(failed)}")


def _child(lib: ctypes.CDLL, name: str) -> NoReturn:
    code = 1
    try:
        measure_one(lib, name)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
