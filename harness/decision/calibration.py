"""What ``optbench advise`` measures before it races: one evaluation of the objective, and each
candidate optimizer's run time as a function of its evaluation budget.

Each optimizer gets, after a warm-up, two short runs (``CALIBRATION_EVALS``) in the calling process
(advise calls these through ``sandboxed``: a child of its own each), on one torch thread like the
workers. Their wall times fit ``t(n) = a·n + b·n²``: an optimizer's own cost per evaluation often
grows with the run's history (TPE, CMA, NGOpt measured here), and the quadratic term extrapolates
that growth (``b ≥ 0``; conservative when it levels off).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.core.runner import run_cell, warm_up
from optbench.harness.execution.sandbox import torch_threads

DEFAULT_OPTIMIZERS = ("random", "scipy.de", "scipy.direct", "optuna.tpe", "nevergrad.ngopt", "nevergrad.oneplusone",
                      "scipy.dual_annealing", "nevergrad.cma")
EXPENSIVE_ONLY = {"botorch.qlogei": 0.05}  # added when one evaluation costs at least this many seconds
CALIBRATION_EVALS, WARM_UP_EVALS = (30, 90), 5
MAX_GROWTH = 3.0


@dataclass(frozen=True)
class Calibration:
    """One optimizer's measured run time ``t(n) = linear_s·n + quadratic_s·n²``, and the objective's
    and the optimizer's shares per evaluation in the longer calibration run (shown in the plan)."""

    optimizer: str
    linear_s: float
    quadratic_s: float
    eval_s: float = 0.0
    overhead_s: float = 0.0

    @classmethod
    def fit(cls, optimizer: str, short: RunRecord, long: RunRecord) -> Calibration:
        """From two runs of different lengths (``n`` evaluations, ``t`` seconds each)."""
        (n1, t1), (n2, t2) = (short.n_evals, short.wall_s), (long.n_evals, long.wall_s)
        quadratic = max(0.0, (t2 / n2 - t1 / n1) / (n2 - n1)) if n2 > n1 else 0.0
        linear = t2 / n2 - quadratic * n2
        if linear <= 0:  # growth steeper than the runs can show (a load spike in the long one): linear at its cost
            linear, quadratic = t2 / n2, 0.0
        return cls(optimizer, linear, quadratic, (long.compute_s + long.item_s) / n2, long.overhead_s / n2)

    def cell_s(self, budget: int) -> float:
        """Estimated wall time of one run of ``budget`` evaluations (the growth term adds at most
        ``MAX_GROWTH`` - 1 times the linear cost: a steep fit on short runs is mostly noise)."""
        linear = self.linear_s * budget
        return linear + min(self.quadratic_s * budget * budget, (MAX_GROWTH - 1) * linear)


def measure_evaluation(objective: objectives.Objective, seconds: float = 0.3) -> tuple[float, float]:
    """Seconds per scalar evaluation (``compute`` + ``.item()``) and per candidate in a batch of 256."""
    lower, upper = objective.space.relaxed_bounds()
    rng = np.random.default_rng(0)
    xs = objective.space.snap(rng.uniform(lower, upper, (256, objective.space.dim)))
    objective.compute(xs[0]).item()  # first calls pay lazy set-up
    objective.batch(xs[:4])
    n, t0 = 0, time.perf_counter()
    while n < 3 or (time.perf_counter() - t0 < seconds and n < 10_000):
        objective.compute(xs[n % len(xs)]).item()
        n += 1
    scalar_s = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    objective.batch(xs)
    return scalar_s, (time.perf_counter() - t0) / len(xs)


def calibrate(objective: str, options: dict[str, Any], names: Sequence[str]) -> tuple[dict[str, Calibration], dict[str, str]]:
    """Two short runs of each optimizer in this process; those that fail are returned with why."""
    calibrations, failed = {}, {}
    for name in names:
        cells = [Cell(objective, name, Budget(n), 0, dict(options)) for n in CALIBRATION_EVALS]
        with torch_threads(1):  # as in the matrix's workers (and two threads on a busy machine stall)
            warm_up(cells[0], WARM_UP_EVALS)  # a first run pays lazy imports and set-up the workers will not
            # the faster of two runs of each length: one slow run (other load) made a 12x estimate here
            short, long = (min((run_cell(cell, with_reference=False) for _ in range(2)), key=lambda r: r.wall_s)
                           for cell in cells)
        bad = next((r for r in (short, long) if r.status != "ok" or r.n_evals == 0), None)
        if bad is not None:
            failed[name] = f"failed its calibration run: {bad.message}"
            continue
        calibrations[name] = Calibration.fit(name, short, long)
    return calibrations, failed


def candidates(names: Sequence[str] | None, scalar_s: float) -> list[str]:
    """The optimizers to consider: those given, else the defaults (plus the ones worth it for an
    expensive objective), registered here, random search first."""
    registered = optimizers.names()
    if names:
        unknown = [n for n in names if n not in registered]
        if unknown:
            raise HarnessError(f"unknown optimizer(s) {unknown}; registered: {', '.join(registered)}")
        chosen = list(dict.fromkeys(names))
    else:
        chosen = [n for n in DEFAULT_OPTIMIZERS if n in registered]
        chosen += [n for n, cost in EXPENSIVE_ONLY.items() if scalar_s >= cost and n in registered]
    return ["random", *(n for n in chosen if n != "random")]
