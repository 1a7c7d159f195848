"""The backtest workload (docs/objectives.md): 70 goog windows × {entry/exit, always-on} × {close_at_eod False,
True} = 280 MaxDiff problems, solved by one optimizer, and the figures that compare optimizers.

Every profit is the returned point re-evaluated in float64 (``exact_value``), after MaxDiff's rule
that a result is never worse than ``(h, l) = (0, 0)``. A decision (one window and strategy) keeps the
close policy with the larger profit, ``close_at_eod=False`` on ties.

Wall time is the solving clock only (objectives are built before it starts): around
``solve_many`` for a batched optimizer, the sum of the runs' ``wall_s`` (the instrument's clock) for
one-by-one runs, and the elapsed time of the parallel solve with ``workers > 1`` (pool warmed first,
one torch thread per worker).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import numpy as np

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_cell
from optbench.harness.execution.sandbox import limit_threads, torch_threads
from optbench.harness.workloads.maxdiff.batched import BatchedAdapter, maxdiff_objectives
from optbench.harness.workloads.maxdiff.batched_exact import solve_exact
from optbench.objectives.maxdiff import MaxDiffObjective
from optbench.objectives.maxdiff_data import GOOG_WINDOWS

DEFAULT_OPTIMIZER = "batched.exact"
BASELINE = "scipy.direct"
BUDGET = 500  # evaluations per one-by-one run: DIRECT's maxfun in the origin scripts
UNCAPPED = Budget(max_evals=10**12)  # batched optimizers size themselves; their evaluations are counted


@dataclass(frozen=True)
class Problem:
    """One of the 280 problems."""

    window: int
    always_on: bool
    close_at_eod: bool

    @property
    def options(self) -> dict[str, Any]:
        return dict(data="goog", window=self.window, always_on=self.always_on, close_at_eod=self.close_at_eod)


def problems(windows: Sequence[int] = range(GOOG_WINDOWS)) -> list[Problem]:
    """The workload's problems, ordered window, strategy (entry/exit first), close policy (False first)."""
    return [Problem(w, a, e) for w in windows for a in (False, True) for e in (False, True)]


def build(probs: Sequence[Problem], device: str = "cpu") -> list[MaxDiffObjective]:
    """The problems' objectives on ``device`` (float64)."""
    return maxdiff_objectives([objectives.get("maxdiff", device=device, **p.options) for p in probs])


@dataclass(frozen=True)
class Outcome:
    """One optimizer's results on a list of problems (arrays aligned with the problems)."""

    optimizer: str
    points: np.ndarray  # (P, 2) after the (0, 0) rule
    profits: np.ndarray  # (P,) float64 re-evaluated
    n_evals: np.ndarray  # (P,)
    wall_s: float  # the whole solve
    problem_wall_s: np.ndarray  # (P,) per one-by-one run; NaN where solved together


def never_worse_than_zero(objs: Sequence[MaxDiffObjective], points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MaxDiff's rule: each point, or (0, 0) where that makes more profit; and the float64 profits."""
    found = np.array([-o.exact_value({"h": float(h), "l": float(l)}) for o, (h, l) in zip(objs, points)])
    zero = np.array([-o.exact_value({"h": 0.0, "l": 0.0}) for o in objs])
    worse = zero > found
    return np.where(worse[:, None], 0.0, points), np.where(worse, zero, found)


def decisions(probs: Sequence[Problem], profits: np.ndarray) -> dict[tuple[int, bool], tuple[bool, float]]:
    """Per (window, always_on): the chosen close policy and its profit (larger profit; False on ties)."""
    by_key: dict[tuple[int, bool], dict[bool, float]] = {}
    for p, profit in zip(probs, profits):
        by_key.setdefault((p.window, p.always_on), {})[p.close_at_eod] = float(profit)
    out = {}
    for key, policy in by_key.items():
        if set(policy) != {False, True}:
            raise HarnessError(f"decision {key} needs both close policies; got {sorted(policy)}")
        eod = policy[True] > policy[False]
        out[key] = (eod, policy[eod])
    return out




def _solve(name: str, options: dict, probs: Sequence[Problem], device: str, budget: int, seed: int,
           one_by_one: bool) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Points, evaluations, wall time and per-run wall times of one optimizer on ``probs``."""
    adapter = optimizers.make(name, **options)
    if isinstance(adapter, BatchedAdapter) and not one_by_one:
        objs = build(probs, device)
        adapter.prepare()
        t0 = time.perf_counter()
        solved = adapter.solve_many(objs, seed)
        wall = time.perf_counter() - t0
        return solved.points, solved.n_evals, wall, np.full(len(probs), np.nan)
    cap = UNCAPPED if isinstance(adapter, BatchedAdapter) else Budget(max_evals=budget)
    points, evals, walls = [], [], []
    for p in probs:
        record = run_cell(Cell("maxdiff", name, cap, seed, {**p.options, "device": device}, options),
                          with_reference=False)
        if record.status != "ok" or record.point is None:
            raise HarnessError(f"{name} failed on {p}: {record.message}")
        points.append([record.point["h"], record.point["l"]])
        evals.append(record.n_evals)
        walls.append(record.wall_s)
    return np.array(points), np.array(evals), float(np.sum(walls)), np.array(walls)


def _solve_shard(args: tuple) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    return _solve(*args)


def run(name: str, *, probs: Sequence[Problem] | None = None, device: str = "cpu", workers: int = 1,
        budget: int = BUDGET, seed: int = 0, one_by_one: bool = False, options: dict | None = None) -> Outcome:
    """Solve the workload (or ``probs``) with optimizer ``name``; ``workers`` processes share it."""
    probs = problems() if probs is None else list(probs)
    options = dict(options or {})
    optimizers.make(name, **options)  # unknown names and options fail here, before any work
    if workers < 1:
        raise HarnessError(f"workers={workers!r} must be at least 1")
    if workers == 1:
        # One torch thread: the tensors are small, and two threads were slower (batched.exact 0.25 s
        # against 0.14 s on the 280 problems, measured); parallelism comes from ``workers``.
        with torch_threads(1):
            points, evals, wall, walls = _solve(name, options, probs, device, budget, seed, one_by_one)
    else:
        shards = [probs[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=limit_threads) as pool:
            jobs = [(name, options, shard, device, budget, seed, one_by_one) for shard in shards]
            list(pool.map(_solve_shard, [(*job[:2], job[2][:1], *job[3:]) for job in jobs]))  # warm the workers
            t0 = time.perf_counter()
            parts = list(pool.map(_solve_shard, jobs))
            wall = time.perf_counter() - t0
        order = np.argsort(np.concatenate([np.arange(len(probs))[i::workers] for i in range(workers)]))
        points, evals, walls = (np.concatenate([part[k] for part in parts])[order] for k in (0, 1, 3))
    objs = build(probs)  # float64 on the CPU: the values every optimizer is scored with
    points, profits = never_worse_than_zero(objs, np.asarray(points, dtype=float))
    return Outcome(name, points, profits, np.asarray(evals), wall, np.asarray(walls, dtype=float))


def reference_profits(probs: Sequence[Problem]) -> np.ndarray:
    """Each problem's best attainable profit (MaxDiff's best breakpoint candidate), via the exact solver: the
    value at ``reference().point`` on every goog problem, EPS beside the supremum (``optbench perf
    backtest_speed`` re-checks all 280)."""
    objs = build(probs)
    points, _ = solve_exact(objs)
    return np.array([-o.exact_value({"h": float(h), "l": float(l)}) for o, (h, l) in zip(objs, points)])


def profit_ratio(profits: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``1 − shortfall / |reference profit|``: profit ÷ reference where the reference is positive, and
    still 1 at the optimum and lower when worse where it is not (114 of the 280 references are ≤ 0)."""
    shortfall = reference - profits
    scale = np.abs(reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, 1.0 - shortfall / scale, np.where(shortfall <= 0, 1.0, -np.inf))


def summarize(outcome: Outcome, probs: Sequence[Problem], reference: np.ndarray,
              baseline: Outcome | None = None) -> dict[str, float]:
    """The figures `optbench backtest` prints for one optimizer."""
    ratio = profit_ratio(outcome.profits, reference)
    chosen = decisions(probs, outcome.profits)
    out = {
        "wall_s": outcome.wall_s,
        "problems_per_s": len(probs) / outcome.wall_s if outcome.wall_s > 0 else float("inf"),
        "total_profit": float(outcome.profits.sum()),
        "decision_profit": float(sum(profit for _, profit in chosen.values())),
        "median_ratio": float(np.median(ratio)),
        "p5_ratio": float(np.percentile(ratio, 5)),
        "share_at_0999": float(np.mean(ratio >= 0.999)),
        "evals_per_problem": float(np.mean(outcome.n_evals)),
        "worse_than_baseline": np.nan,
    }
    if baseline is not None:
        out["worse_than_baseline"] = int(np.sum(outcome.profits < baseline.profits - 1e-12))
    return out
