"""``optbench advise``: a benchmark of one objective sized to the minutes given, run, reported, decided.

1. **Measure** one evaluation of the objective (scalar, and per candidate in a batch).
2. **Calibrate** each candidate optimizer: after a warm-up, two short runs (``CALIBRATION_EVALS``)
   in a sandboxed child of its own (like the measuring: :mod:`harness.decision.sandboxed`), on one
   torch thread like the workers (its library is imported here first, so it stays loaded in the
   workers forked later). Their wall times fit ``t(n) = a·n + b·n²``: an optimizer's own cost
   per evaluation often grows with the run's history (TPE, CMA, NGOpt measured here), and the
   quadratic term extrapolates that growth (``b ≥ 0``; conservative when it levels off).
3. **Size**: five seeds and the largest evaluation budget (two levels, B/4 and B) whose estimated
   matrix time, times ``SAFETY``, fits in the time left once the report's and the decision's
   share is set aside; then more seeds if the budget reached ``MAX_BUDGET``; an optimizer too slow
   for even ``MIN_BUDGET`` is dropped (random search, the score's zero, always stays).
4. **Run** the matrix through the matrix runner (progress, store, resume). Budgets are evaluation
   budgets; each run of a level also gets a wall-time cap (``Cell.cap_s``) of ``CAP_FACTOR`` × its
   slowest optimizer's estimate, so a wrong estimate costs at most that. The cap is not part of the
   budget (not stored as one, never shipped); a run it cuts is recorded ``capped``, not ``ok``.
   Then, with the measured cost of those seeds instead of the estimate, more seeds (up to
   ``MAX_SEEDS``), round after round, while they fit: estimates on a busy machine are off by 2×
   either way (measured); then, if time is still left, one more budget level (``GROW_LEVEL`` × the
   top one) for every seed, when ``GROW_COST`` × the top level's measured cost fits.
5. **Report and decide** from the store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import WARM_REPEAT_MAX_S, Cell, RunRecord
from optbench.harness.core.runner import run_cell, warm_up
from optbench.harness.decision import sandboxed
from optbench.harness.execution.matrix import MatrixResult, default_workers, resolve, run_matrix
from optbench.harness.execution.sandbox import torch_threads
from optbench.harness.store import Store

DEFAULT_OPTIMIZERS = ("random", "scipy.de", "scipy.direct", "optuna.tpe", "nevergrad.ngopt", "nevergrad.oneplusone",
                      "scipy.dual_annealing", "nevergrad.cma")
EXPENSIVE_ONLY = {"botorch.qlogei": 0.05}  # added when one evaluation costs at least this many seconds
CALIBRATION_EVALS, WARM_UP_EVALS = (30, 90), 5
MAX_GROWTH = 3.0
MIN_BUDGET, MAX_BUDGET = 20, 20_000
# The decision's rank test needs 4 seeds to call a win. From 8 seeds on the report and the decision
# bootstrap every interval: at 10 seeds and 160 cells that took 70 s here, against 5 s at 7 seeds.
MIN_SEEDS, MAX_SEEDS = 5, 7
TARGET = 0.97  # aim the whole command at this share of the minutes given
SAFETY = 1.1  # the matrix estimate is multiplied by this before it must fit
CAP_FACTOR = 2.0
GROW_LEVEL, GROW_COST = 1.5, 2.0  # a last budget level: 1.5x the top one, costing at most 2x its measured time
PARALLEL_EFFICIENCY = 0.8  # workers on a busy machine: measured 0.8–1.0 here
POOL_START_S = 2.0  # forking the pool and each worker's sandbox
CELL_OVERHEAD_S = 0.05  # sending a cell, writing its record
# the report's plots and bootstrap, and the decision: measured 5–8 s at 96–112 cells here; 33 s at 48
# cells with the machine loaded 3x (then the command overshoots by ~15 %)
REPORT_S, REPORT_PER_CELL_S = 3.0, 0.05


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

    def cap_s(self, evals: int) -> float:
        """The wall-time cap of a run of ``evals`` evaluations: ``CAP_FACTOR`` × the slowest optimizer's
        estimate. It protects the deadline only: the budget (stored, decided, shipped) is the evaluations,
        and a run the cap cuts is recorded as ``capped``."""
        slowest = max(cal.cell_s(evals) for cal in self.calibrations.values())
        return round(max(1.0, CAP_FACTOR * slowest), 1)

    def cells(self, seeds: Sequence[int] | None = None) -> list[Cell]:
        """Every cell of ``seeds`` (default: the plan's); seed-major like ``matrix.expand``."""
        return [Cell(self.objective, name, Budget(b), seed, dict(self.options), cap_s=self.cap_s(b))
                for seed in (range(self.seeds) if seeds is None else seeds)
                for b in self.budgets for name in self.calibrations]


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


def matrix_seconds(calibrations: dict[str, Calibration], budgets: list[int], seeds: int, workers: int) -> float:
    """Estimated matrix wall time: the cells shared over the workers, never less than its longest cell.
    A cell whose run takes at most ``WARM_REPEAT_MAX_S`` runs twice (the runner's warm repeat)."""
    runs = [cal.cell_s(b) for cal in calibrations.values() for b in budgets]
    cells = [CELL_OVERHEAD_S + run * (2 if run <= WARM_REPEAT_MAX_S else 1) for run in runs] * seeds
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


def process_age_s() -> float:
    """Seconds since this process started (the user's stopwatch includes the imports before ``advise``)."""
    import psutil

    return max(0.0, time.time() - psutil.Process().create_time())


def plan(objective: str, options: dict[str, Any], minutes: float, names: Sequence[str] | None = None,
         workers: int | None = None, spent_s: float = 0.0) -> tuple[Plan, float, float]:
    """Measure, calibrate and size, ``spent_s`` of the minutes being gone already (the command's
    start-up); returns the plan and the scalar and batched seconds per evaluation."""
    t0 = time.perf_counter()
    if not minutes > 0:
        raise HarnessError(f"--minutes {minutes} must be positive")
    built = objectives.get(objective, **options)
    deadline_s = sandboxed.deadline_s(minutes)
    scalar_s, batch_s = sandboxed.measure_evaluation(built, deadline_s=deadline_s)
    calibrations, failed = sandboxed.calibrate(objective, built.options, candidates(names, scalar_s),
                                               deadline_s=deadline_s)
    if "random" not in calibrations:
        raise HarnessError(f"random search cannot run on {objective!r}: {failed.get('random', '?')}")
    workers = workers or default_workers()
    left = TARGET * minutes * 60 - spent_s - (time.perf_counter() - t0)
    sized = size(objective, built.options, calibrations, left - reserve_s(0), workers)
    # the report's share depends on the number of cells: size again with it
    cells = len(sized.optimizers) * len(sized.budgets) * sized.seeds
    sized = size(objective, built.options, calibrations, left - reserve_s(cells), workers)
    return Plan(sized.objective, sized.options, sized.calibrations, sized.budgets, sized.seeds, sized.workers,
                sized.estimate_s, {**failed, **sized.dropped}), scalar_s, batch_s


def extra_seeds(plan: Plan, seed_s: float, left_s: float) -> int:
    """How many more seeds fit in ``left_s``, one seed of the matrix having taken ``seed_s`` (each
    also adds its cells' share of the report)."""
    per_seed = SAFETY * seed_s + REPORT_PER_CELL_S * len(plan.cells(seeds=[0]))
    room = int(max(0.0, left_s - POOL_START_S) // per_seed) if per_seed > 0 else MAX_SEEDS
    return min(MAX_SEEDS - plan.seeds, room)


def run(plan: Plan, store: Store, minutes: float, quiet: bool = False, command: str = "") -> Plan:
    """Run the plan's matrix into ``store``, then more seeds while the time left allows (each round
    sized by the last round's measured cost per seed), then, with time still left, one more budget
    level of ``GROW_LEVEL`` × the top one; returns the plan as run."""
    def left_s() -> float:
        return TARGET * minutes * 60 - process_age_s() - reserve_s(len(records))

    def matrix(cells: list[Cell]) -> MatrixResult:
        result = run_matrix(resolve(cells), store, workers=plan.workers, quiet=quiet, command=command)
        records.extend(result.records)
        return result

    records: list[RunRecord] = []
    seed_s = matrix(plan.cells()).wall_s / plan.seeds
    while more := extra_seeds(plan, seed_s, left_s()):
        seed_s = matrix(plan.cells(range(plan.seeds, plan.seeds + more))).wall_s / more
        plan = replace(plan, seeds=plan.seeds + more)
    top = plan.budgets[-1]
    at_top = [r.wall_s + (r.warm_wall_s if r.warm_wall_s == r.warm_wall_s else 0.0) for r in records
              if r.budget["max_evals"] == top]
    level_s = POOL_START_S + GROW_COST * sum(at_top) / (plan.workers * PARALLEL_EFFICIENCY)
    grown = _round_down(int(top * GROW_LEVEL))
    if grown <= MAX_BUDGET and SAFETY * level_s <= left_s():
        matrix(replace(plan, budgets=[grown]).cells())
        plan = replace(plan, budgets=[*plan.budgets, grown])
    return plan
