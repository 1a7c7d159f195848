"""``optbench advise``: which optimizer for one objective family, chosen by a race sized to the minutes
given and checked on instances the race never saw.

1. **Instances.** The objective's declared instances (or ``--instances``), split by a seeded draw
   into *training* instances, raced on in a seeded order, and *held-out* ones (``--holdout``; the
   default holds out 1/3 from 6 instances on), used only to check the choice.
2. **Measure and calibrate** (``calibration``) on the first training instance, each step in a
   sandboxed child with a deadline (``sandboxed``).
3. **Size.** A *contender* is one optimizer at one budget: B/4 and B (B alone when the training
   instances are too few for the corrected test to tell twice the optimizers apart). The first
   block runs every contender on ``first_block`` training instances, the fewest on which the
   Holm-corrected paired test can drop a contender (``paired.min_pairs``), at ``seeds`` seeds each (several only when the
   training instances are few); the validation round runs every contender on as many held-out
   instances. B is the largest budget for which both, times ``SAFETY``, fit in ``FIRST_SHARE`` of
   the time (``MIN_BUDGET`` when none does); an optimizer is left out, slowest first, only while the
   first block and the validation round at ``MIN_BUDGET`` do not fit in all of it (random search
   always stays: it is the quality scale's zero).
4. **Race** (``race``): after each block, the contenders significantly worse than the best are
   dropped; the next block is sized from the measured cost of the last one to the time left (the
   validation round and the report's share set aside): more training instances, then more seeds,
   until one contender remains, nothing is left to run, or no block fits.
5. **Validate**: every contender, dropped ones included, on the held-out instances.

Budgets are evaluations. Each run also gets a wall-time cap (``Cell.cap_s``) of ``CAP_FACTOR`` × its
slowest optimizer's estimate: it protects the deadline only, a run it cuts is recorded ``capped``
(never ``ok``, so never shipped), and the cap is not part of the budget the decision ships.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optbench import objectives
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import WARM_REPEAT_MAX_S
from optbench.harness.decision import sandboxed, validate
from optbench.harness.decision.calibration import Calibration, candidates
from optbench.harness.decision.decide import Rule
from optbench.harness.decision.race import Contender
from optbench.harness.execution import instances as instance_specs
from optbench.harness.execution.matrix import default_workers
from optbench.harness.report import paired

MIN_BUDGET, MAX_BUDGET = 20, 20_000
MIN_SEEDS = 5  # seeds per instance with one training instance; fewer with more (instances replicate)
TARGET = 0.97  # aim the whole command at this share of the minutes given
SAFETY = 1.2  # an estimate is multiplied by this before it must fit (a block ran 2x its estimate when the load rose)
FIRST_SHARE = 0.5  # the first block and the validation round together; the race gets the rest
CAP_FACTOR = 4.0  # a run in a busy pool took 2–3x its calibration here; the cap is for an estimate off by more
PARALLEL_EFFICIENCY = 0.8  # workers on a busy machine: measured 0.8–1.0 here
CELL_OVERHEAD_S = 0.05  # sending a cell, writing its record
# Fixed costs on an idle machine, multiplied by the plan's ``slowdown`` (see ``load_slowdown``): forking
# the pool and each worker's sandbox; the report and the decision — a fixed part (the class figures),
# per run (tables, bootstrap) and per instance drawn (three figures, PNG and SVG), for the first few
# only. Measured on 2 cores: the report of a 6-instance advise took 8 s idle; 5.6 s plus 5 s per
# instance drawn at load 4.4; a pool start 2 s at load 4.
POOL_START_S = 0.8
REPORT_S, REPORT_PER_CELL_S, REPORT_PER_FIGURED_S, REPORT_FIGURES = 2.5, 0.008, 2.0, 2


@dataclass(frozen=True)
class Plan:
    """What advise races: the instances (training, in race order, and those the validation round
    runs), the optimizers' calibrations, the budget levels, the first block and the seeds per instance."""

    objective: str
    training: list[dict[str, Any]]
    held_out: list[dict[str, Any]]
    holdout: float  # the share of the instances held out
    n_instances: int
    calibrations: dict[str, Calibration]
    budgets: list[int]
    seeds: int
    first_block: int
    workers: int
    estimate_s: float  # the first block and the validation round
    dropped: dict[str, str] = field(default_factory=dict)
    slowdown: float = 1.0  # the fixed costs' factor at the load measured when planning

    @property
    def optimizers(self) -> list[str]:
        return list(self.calibrations)

    @property
    def contenders(self) -> list[Contender]:
        return [Contender(name, b) for b in self.budgets for name in self.calibrations]

    def cap_s(self, evals: int) -> float:
        """The wall-time cap of a run of ``evals`` evaluations: ``CAP_FACTOR`` × the slowest optimizer's
        estimate. It protects the deadline only; a run it cuts is recorded ``capped``."""
        slowest = max(cal.cell_s(evals) for cal in self.calibrations.values())
        return round(max(1.0, CAP_FACTOR * slowest), 1)

    @property
    def caps(self) -> dict[int, float]:
        return {b: self.cap_s(b) for b in self.budgets}


def run_seconds(cal: Calibration, budget: int) -> float:
    """Estimated seconds of one cell: its run, twice when short enough for the runner's warm repeat."""
    run = cal.cell_s(budget)
    return CELL_OVERHEAD_S + run * (2 if run <= WARM_REPEAT_MAX_S else 1)


def load_slowdown(load: float | None = None, cores: int | None = None) -> float:
    """How many times slower than on an idle machine this process's fixed costs (process starts,
    drawing) run now: cores over the share of them left to it, from the 1-minute load average
    (``load``) — 1 while a core is free, 2.5 at load 4 on 2 cores."""
    load = os.getloadavg()[0] if load is None else load
    cores = cores or os.cpu_count() or 1
    return max(1.0, (load + 1) / cores)


def pool_seconds(cells_s: Sequence[float], workers: int, slowdown: float = 1.0) -> float:
    """Estimated wall time of running cells of ``cells_s`` seconds each in the pool: shared over the
    workers, never less than the longest cell (0 for no cells)."""
    if not cells_s:
        return 0.0
    return slowdown * POOL_START_S + max(max(cells_s), sum(cells_s) / (workers * PARALLEL_EFFICIENCY))


def round_seconds(calibrations: dict[str, Calibration], budgets: list[int], runs: int, workers: int,
                  slowdown: float = 1.0) -> float:
    """Estimated wall time of a round in which every optimizer runs ``runs`` cells at each budget."""
    return pool_seconds([run_seconds(cal, b) for cal in calibrations.values() for b in budgets] * max(0, runs),
                        workers, slowdown)


def budgets_for(top: int, n_optimizers: int, n_training: int, alpha: float) -> list[int]:
    """Two budget levels (a quarter and all of ``top``) when there is room for both and the training
    instances are enough for the corrected paired test to tell that many contenders apart, else one."""
    can_tell = n_training >= paired.min_pairs(alpha, max(1, 2 * n_optimizers - 1))
    return [top // 4, top] if top // 4 >= MIN_BUDGET and can_tell else [top]


def seeds_for(n_training: int) -> int:
    """Seeds per instance in a block: ``MIN_SEEDS`` samples per contender spread over the instances."""
    return max(1, min(MIN_SEEDS, math.ceil(MIN_SEEDS / max(1, n_training))))


def first_block(n_training: int, n_contenders: int, alpha: float) -> int:
    """Training instances in the first block: the fewest on which the paired test, Holm-corrected
    over the rivals, can drop one (all of them, when there are fewer)."""
    return min(n_training, paired.min_pairs(alpha, max(1, n_contenders - 1)))


def reserve_s(cells: int, instances: int, slowdown: float = 1.0) -> float:
    """Time set aside for the report and the decision of ``cells`` runs on ``instances`` instances."""
    return slowdown * (REPORT_S + REPORT_PER_CELL_S * cells + REPORT_PER_FIGURED_S * min(instances, REPORT_FIGURES))


def size(objective: str, training: list[dict[str, Any]], held_out: list[dict[str, Any]],
         calibrations: dict[str, Calibration], available_s: float, workers: int, rule: Rule,
         holdout: float = 0.0, slowdown: float = 1.0) -> Plan:
    """The plan whose first block and validation round fit ``FIRST_SHARE`` of ``available_s`` (step 3),
    fixed costs multiplied by ``slowdown``."""
    calibrations, dropped = dict(calibrations), {}
    seeds = seeds_for(len(training))

    def levels(top: int) -> list[int]:
        return budgets_for(top, len(calibrations), len(training), rule.alpha)

    def shape(top: int) -> tuple[int, int, float]:
        budgets = levels(top)
        m = first_block(len(training), len(calibrations) * len(budgets), rule.alpha)
        h = min(len(held_out), m)
        return m, h, sum(round_seconds(calibrations, budgets, k * seeds, workers, slowdown) for k in (m, h))

    def demand(top: int) -> tuple[float, float]:  # runs (times SAFETY), report (of twice the first block's runs)
        m, h, seconds = shape(top)
        return SAFETY * seconds, reserve_s(2 * len(calibrations) * len(levels(top)) * (m + h) * seeds, m + h, slowdown)

    def fits(top: int, share: float = FIRST_SHARE) -> bool:
        runs_s, report_s = demand(top)
        return runs_s <= share * (available_s - report_s)

    while not fits(MIN_BUDGET, share=1.0):  # short of time, the first block may be all the race gets
        slowest = max((c for c in calibrations.values() if c.optimizer != "random"), default=None,
                      key=lambda c: c.cell_s(MIN_BUDGET))
        if slowest is None:
            raise HarnessError(f"{available_s:.0f} s left is too little for {objective!r}: the smallest race "
                               f"needs ~{sum(demand(MIN_BUDGET)):.0f} s; give more --minutes")
        dropped[slowest.optimizer] = (f"too slow for the time given: the slowest left "
                                      f"(~{slowest.cell_s(MIN_BUDGET):.2g} s per run of {MIN_BUDGET})")
        del calibrations[slowest.optimizer]
    low, high = MIN_BUDGET, MAX_BUDGET  # the largest top budget that fits
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    top = _round_down(low)
    m, h, seconds = shape(top)
    return Plan(objective, training, held_out[:h], holdout, len(training) + len(held_out), calibrations,
                levels(top), seeds, m, workers, seconds, dropped, slowdown)


def _round_down(n: int) -> int:
    """``n`` rounded down to two significant digits (budgets people can read)."""
    scale = 10 ** max(0, int(math.log10(n)) - 1)
    return max(MIN_BUDGET, n // scale * scale)


def split(every: Sequence[dict[str, Any]], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(training, held-out) option sets: ``validate.split``'s seeded draw, each part in a seeded order."""
    keyed = {json.dumps(i, sort_keys=True, default=str): i for i in every}
    parts = validate.split(list(keyed), fraction, seed)
    rng = np.random.default_rng(seed)
    return tuple([keyed[part[i]] for i in rng.permutation(len(part))] for part in parts)  # type: ignore[return-value]


def process_age_s() -> float:
    """Seconds since this process started (the user's stopwatch includes the imports before ``advise``)."""
    import psutil

    return max(0.0, time.time() - psutil.Process().create_time())


def plan(objective: str, options: dict[str, Any], minutes: float, names: Sequence[str] | None = None,
         workers: int | None = None, spent_s: float = 0.0, specs: list[str] | None = None,
         holdout: float | None = None, rule: Rule | None = None) -> tuple[Plan, float, float]:
    """Split the instances, measure, calibrate and size, ``spent_s`` of the minutes being gone already
    (the command's start-up); returns the plan and the scalar and batched seconds per evaluation."""
    t0 = time.perf_counter()
    rule = rule or Rule()
    if not minutes > 0:
        raise HarnessError(f"--minutes {minutes} must be positive")
    if holdout is not None and not 0 <= holdout < 1:
        raise HarnessError(f"--holdout {holdout:g} out of range: a fraction in [0, 1)")
    every = instance_specs.of_objective(objective, options, specs, declared_by_default=True)
    fraction = validate.fraction_for(len(every), holdout)
    training, held_out = split(every, fraction, rule.seed)
    built = objectives.get(objective, **training[0])
    deadline_s = sandboxed.deadline_s(minutes)
    scalar_s, batch_s = sandboxed.measure_evaluation(built, deadline_s=deadline_s)
    workers = workers or default_workers()
    calibrations, failed = sandboxed.calibrate(objective, built.options, candidates(names, scalar_s),
                                               deadline_s=deadline_s, parallel=workers)
    if "random" not in calibrations:
        raise HarnessError(f"random search cannot run on {objective!r}: {failed.get('random', '?')}")
    left = TARGET * minutes * 60 - spent_s - (time.perf_counter() - t0)
    sized = size(objective, training, held_out, calibrations, left, workers, rule, fraction,
                 load_slowdown())
    return replace(sized, dropped={**failed, **sized.dropped}), scalar_s, batch_s
