"""``optbench advise``: a benchmark of one objective sized to the minutes given, run, reported, decided.

1. **Measure** one evaluation of the objective (scalar, and per candidate in a batch).
2. **Calibrate** each candidate optimizer: after a warm-up, a short run (``CALIBRATION_EVALS``) in this process
   gives its time per evaluation, split by the instrument into the objective's part and the
   optimizer's own overhead (the libraries it imports stay loaded in the workers forked later).
   Overheads that grow with the run's history (``GROWING``: TPE, a GP) are scaled with the budget.
3. **Size**: three seeds and the largest evaluation budget (two levels, B/4 and B) whose estimated
   matrix time, times ``SAFETY``, fits in the time left once the report's and the decision's
   share is set aside; then more seeds if the budget reached ``MAX_BUDGET``; an optimizer too slow
   for even ``MIN_BUDGET`` is dropped (random search, the score's zero, always stays).
4. **Run** the matrix through the matrix runner (progress, store, resume). Each cell also gets a
   wall-time cap of ``CAP_FACTOR`` × its estimate, so a wrong estimate costs at most that.
5. **Report and decide** from the store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.budget import Budget, HarnessError
from optbench.harness.matrix import default_workers
from optbench.harness.record import Cell
from optbench.harness.runner import run_cell, warm_up

DEFAULT_OPTIMIZERS = ("random", "scipy.de", "scipy.direct", "optuna.tpe", "nevergrad.ngopt", "nevergrad.oneplusone",
                      "scipy.dual_annealing", "nevergrad.cma")
EXPENSIVE_ONLY = {"botorch.qlogei": 0.05}  # added when one evaluation costs at least this many seconds
GROWING = ("optuna.tpe", "optuna.cmaes", "botorch.qlogei")  # per-evaluation overhead grows with the history
CALIBRATION_EVALS, WARM_UP_EVALS = 40, 5
MIN_BUDGET, MAX_BUDGET = 20, 20_000
MIN_SEEDS, MAX_SEEDS = 3, 10
TARGET = 0.95  # aim the whole command at this share of the minutes given
SAFETY = 1.15  # the matrix estimate is multiplied by this before it must fit
CAP_FACTOR = 3.0
PARALLEL_EFFICIENCY = 0.8  # workers on a busy machine: measured 0.8–1.0 here
POOL_START_S = 2.0  # forking the pool and each worker's sandbox
CELL_OVERHEAD_S = 0.05  # sending a cell, writing its record
REPORT_S, REPORT_PER_CELL_S = 20.0, 0.25  # the report's plots and bootstrap, the decision (measured 15–35 s at 48 cells)


@dataclass(frozen=True)
class Calibration:
    """One optimizer's measured seconds per evaluation: the objective's part and its own overhead."""

    optimizer: str
    eval_s: float
    overhead_s: float
    evals: int

    def cell_s(self, budget: int) -> float:
        """Estimated wall time of one run of ``budget`` evaluations."""
        growth = max(1.0, budget / (2 * self.evals)) if self.optimizer in GROWING else 1.0
        return budget * (self.eval_s + self.overhead_s * growth)


@dataclass(frozen=True)
class Plan:
    """What advise runs: optimizers × budgets × seeds, and its estimated matrix time."""

    objective: str
    options: dict[str, Any]
    calibrations: dict[str, Calibration]
    budgets: list[int]
    seeds: int
    workers: int
    estimate_s: float
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def optimizers(self) -> list[str]:
        return list(self.calibrations)

    def cells(self) -> list[Cell]:
        """Every cell, each with its wall-time cap; seed-major like ``matrix.expand``."""
        return [Cell(self.objective, name, Budget(b, round(max(1.0, CAP_FACTOR * cal.cell_s(b)), 1)), seed,
                     dict(self.options))
                for seed in range(self.seeds) for b in self.budgets for name, cal in self.calibrations.items()]


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
    """A short run of each optimizer in this process; those that fail are returned with why."""
    calibrations, failed = {}, {}
    for name in names:
        cell = Cell(objective, name, Budget(CALIBRATION_EVALS), 0, dict(options))
        warm_up(cell, WARM_UP_EVALS)  # a library's first run pays lazy imports and set-up the workers will not
        record = run_cell(cell, with_reference=False)
        if record.status != "ok" or record.n_evals == 0:
            failed[name] = f"failed its calibration run: {record.message}"
            continue
        n = record.n_evals
        calibrations[name] = Calibration(name, (record.compute_s + record.item_s) / n, record.overhead_s / n, n)
    return calibrations, failed


def matrix_seconds(calibrations: dict[str, Calibration], budgets: list[int], seeds: int, workers: int) -> float:
    """Estimated matrix wall time: the cells shared over the workers, never less than its longest cell."""
    cells = [cal.cell_s(b) + CELL_OVERHEAD_S for cal in calibrations.values() for b in budgets] * seeds
    return POOL_START_S + max(max(cells), sum(cells) / (workers * PARALLEL_EFFICIENCY))


def budgets_for(top: int) -> list[int]:
    """Two budget levels (a quarter and all of ``top``) when there is room for both, else one."""
    return [top // 4, top] if top // 4 >= MIN_BUDGET else [top]


def size(objective: str, options: dict[str, Any], calibrations: dict[str, Calibration], available_s: float,
         workers: int) -> Plan:
    """The plan that fits ``available_s`` (see the module docstring, step 3)."""
    calibrations, dropped = dict(calibrations), {}

    def fits(top: int, seeds: int) -> bool:
        return SAFETY * matrix_seconds(calibrations, budgets_for(top), seeds, workers) <= available_s

    while not fits(MIN_BUDGET, MIN_SEEDS):
        slowest = max((c for c in calibrations.values() if c.optimizer != "random"), default=None,
                      key=lambda c: c.cell_s(MIN_BUDGET))
        if slowest is None:
            need = SAFETY * matrix_seconds(calibrations, [MIN_BUDGET], MIN_SEEDS, workers)
            raise HarnessError(f"{available_s:.0f} s left for the matrix is too little for {objective!r}: the "
                               f"smallest plan needs ~{need:.0f} s; give more --minutes")
        dropped[slowest.optimizer] = f"too slow for the time given (~{slowest.cell_s(MIN_BUDGET):.1f} s per run)"
        del calibrations[slowest.optimizer]
    low, high = MIN_BUDGET, MAX_BUDGET  # the largest top budget that fits: fits() is monotone in it
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid, MIN_SEEDS) else (low, mid - 1)
    top = _round_down(low)
    seeds = MIN_SEEDS
    while top == MAX_BUDGET and seeds < MAX_SEEDS and fits(top, seeds + 1):
        seeds += 1
    budgets = budgets_for(top)
    return Plan(objective, dict(options), calibrations, budgets, seeds, workers,
                matrix_seconds(calibrations, budgets, seeds, workers), dropped)


def _round_down(n: int) -> int:
    """``n`` rounded down to two significant digits (budgets people can read)."""
    scale = 10 ** max(0, int(math.log10(n)) - 1)
    return max(MIN_BUDGET, n // scale * scale)


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


def reserve_s(plan_cells: int) -> float:
    """Time set aside for the report and the decision."""
    return REPORT_S + REPORT_PER_CELL_S * plan_cells


def plan(objective: str, options: dict[str, Any], minutes: float, names: Sequence[str] | None = None,
         workers: int | None = None, started: float | None = None) -> tuple[Plan, float, float]:
    """Measure, calibrate and size; returns the plan and the scalar and batched seconds per evaluation."""
    started = time.perf_counter() if started is None else started
    if not minutes > 0:
        raise HarnessError(f"--minutes {minutes} must be positive")
    built = objectives.get(objective, **options)
    scalar_s, batch_s = measure_evaluation(built)
    calibrations, failed = calibrate(objective, built.options, candidates(names, scalar_s))
    if "random" not in calibrations:
        raise HarnessError(f"random search cannot run on {objective!r}: {failed.get('random', '?')}")
    workers = workers or default_workers()
    left = TARGET * minutes * 60 - (time.perf_counter() - started)
    sized = size(objective, built.options, calibrations, left - reserve_s(0), workers)
    # the report's share depends on the number of cells: size again with it
    cells = len(sized.optimizers) * len(sized.budgets) * sized.seeds
    sized = size(objective, built.options, calibrations, left - reserve_s(cells), workers)
    return Plan(sized.objective, sized.options, sized.calibrations, sized.budgets, sized.seeds, sized.workers,
                sized.estimate_s, {**failed, **sized.dropped}), scalar_s, batch_s
