"""The child process of :mod:`harness.asv.instructions`: runs each named workload once unmeasured,
then at ``n`` and ``2n`` units between the callgrind markers, and writes ``{name: n}``.

Usage (under callgrind, as ``instructions.measure`` starts it):
``python -m optbench.harness.asv.instruction_workloads MARKERS.so UNITS.json NAME...``.
A workload is a factory that pays its set-up (data, tensors, imports) and returns ``run(n)``.
"""

from __future__ import annotations

import ctypes
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import cast

import numpy as np

Run = Callable[[int], None]


def python_loop() -> Run:
    """A fixed pure-Python loop (no torch): the measurement's own check."""

    def run(n: int) -> None:
        total = 0
        for i in range(n):
            total += i * i

    return run


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


def bare_evaluation() -> Run:
    """``compute(x).item()`` of the zero-cost objective, without the instrument."""
    objective, x = _zero_cost(), np.array([0.5, -0.5])

    def run(n: int) -> None:
        for _ in range(n):
            objective.compute(x).item()

    return run


def instrumented_evaluation() -> Run:
    """The instrument's per-evaluation core on the zero-cost objective."""
    from optbench.harness.core.budget import Budget
    from optbench.harness.core.instrument import Instrument

    instrument, x = Instrument(_zero_cost(), Budget(max_evals=10**12)), np.array([0.5, -0.5])

    def run(n: int) -> None:
        for _ in range(n):
            instrument.evaluate_encoded(x)

    return run


def _maxdiff():
    from optbench import objectives
    from optbench.harness.asv import support

    objective = objectives.get("maxdiff", data="ar200")
    return objective, support


def maxdiff_scalar() -> Run:
    """One scalar MaxDiff ``ar200`` evaluation as the instrument does it (``compute(x).item()``)."""
    objective, support = _maxdiff()
    x = support.centre_point(objective)

    def run(n: int) -> None:
        for _ in range(n):
            support.evaluate_scalar(objective, x)

    return run


def maxdiff_batch() -> Run:
    """MaxDiff ``ar200`` ``batch`` of ``n`` seeded candidates (per unit: one candidate)."""
    objective, support = _maxdiff()
    xs = support.candidates(objective, k=4096)

    def run(n: int) -> None:
        objective.batch(xs[:n])

    return run


def store_record() -> Run:
    """``n`` records written to a fresh store, one transaction each (``Store.put``)."""
    from optbench.harness.core.record import RunRecord
    from optbench.harness.store import Store

    folder = Path(tempfile.mkdtemp(prefix="optbench-store-"))
    record = RunRecord("sphere", {"dim": 2}, "random", {}, {"max_evals": 100, "max_seconds": None}, 0, "ok",
                       value=0.25, n_evals=100, wall_s=0.5, compute_s=0.2, item_s=0.05, overhead_s=0.25,
                       point={"x0": 0.5, "x1": -0.5}, trace=[(1, 0.01, 1.0), (7, 0.05, 0.25)])
    opened = [0]

    def run(n: int) -> None:
        opened[0] += 1
        with Store.open(folder / f"store-{opened[0]:04d}.sqlite") as store:
            for seed in range(n):
                store.put(replace(record, seed=seed))

    return run


def optimization(optimizer: str) -> Run:
    """One seeded run of ``optimizer`` on the zero-cost objective with a budget of ``n`` evaluations."""
    from optbench.harness.core.budget import Budget
    from optbench.harness.core.record import Cell
    from optbench.harness.core.runner import _minimize
    from optbench.harness.execution.sandbox import limit_threads

    limit_threads()
    objective = _zero_cost()

    def run(n: int) -> None:
        attempt = _minimize(Cell("zero-cost", optimizer, Budget(max_evals=n)), objective)
        if attempt.status != "ok" or attempt.instrument.n_evals != n:
            raise RuntimeError(f"{optimizer}: {attempt.instrument.n_evals} of {n} evaluations "
                               f"({attempt.status}: {attempt.message})")

    return run


WORKLOADS: dict[str, Callable[[], Run]] = {
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


def units(name: str) -> int:
    """``n`` for workload ``name`` (``optimizer:NAME`` for an optimization)."""
    if name.startswith(OPTIMIZER_PREFIX):
        return OPTIMIZER_UNITS.get(name[len(OPTIMIZER_PREFIX):], DEFAULT_OPTIMIZER_UNITS)
    return UNITS[name]


def workload(name: str) -> Run:
    if name.startswith(OPTIMIZER_PREFIX):
        return optimization(name[len(OPTIMIZER_PREFIX):])
    return WORKLOADS[name]()


def main(markers: str, units_path: str, names: list[str]) -> None:
    lib = ctypes.CDLL(markers)
    lib.optbench_region_stop.argtypes = [ctypes.c_char_p]
    done = {}
    for name in names:
        run, n = workload(name), units(name)
        run(n)  # unmeasured: adaptive bytecode, caches and lazy imports settle
        for k in (n, 2 * n):
            lib.optbench_region_start()
            run(k)
            lib.optbench_region_stop(f"{name} {k}".encode())
        done[name] = n
    Path(units_path).write_text(json.dumps(done))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
