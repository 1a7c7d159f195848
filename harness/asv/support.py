"""What the asv suite in ``benchmarks/`` runs and tracks; the asv classes there only call this.

A benchmarked run is an ordinary :class:`~harness.runner.Cell` run the way ``optbench run`` runs
it: one torch/BLAS thread and the global random generators seeded with the cell's seed
(``harness.sandbox``). The ``track_`` figures come from :func:`harness.matrix.run_matrix` itself,
so they equal ``optbench run``'s for the same cell (exactly, for a seeded optimizer under an
evaluation budget). ``OPTBENCH_ASV_SLOW=1`` adds the expensive cells (like scipy's
``SCIPY_XSLOW``); without it ``asv run --quick`` of the whole suite takes a few minutes.
"""

from __future__ import annotations

import math
import os
from typing import Any, TypeVar

import numpy as np

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.core.runner import warm_up  # noqa: F401  (benchmarks' setup calls warm_up)
from optbench.harness.execution.matrix import resolve
from optbench.harness.execution.matrix import run_matrix as run_cells
from optbench.harness.execution.sandbox import limit_threads, run_seeded  # noqa: F401  (benchmarks' setup calls limit_threads)

T = TypeVar("T")
SLOW = os.environ.get("OPTBENCH_ASV_SLOW", "") not in ("", "0")
# Every ``track_`` figure is lower-is-better, the one direction ``asv compare``/``continuous`` know:
# regret, 1 − profit ratio, evaluations, overhead, .item() share.

# asv parameter value -> (registered objective, options). The keys appear in asv's reports.
OBJECTIVES: dict[str, tuple[str, dict[str, Any]]] = {
    "maxdiff-ar200": ("maxdiff", {"data": "ar200"}),  # the origin case: ar200, take-profit policy
    "maxdiff-ar200-eod": ("maxdiff", {"data": "ar200", "close_at_eod": True}),  # its other policy
    "rastrigin-2d": ("rastrigin", {"dim": 2}),
    "sphere-2d-1ms": ("sphere", {"dim": 2, "work": 50_000}),  # a ~1 ms "simple objective"
    "maxdiff-goog-w0": ("maxdiff", {"data": "goog", "window": 0}),
    "maxdiff-ar-n10k": ("maxdiff", {"data": "ar200", "n": 10_000}),
    "ma_crossover": ("ma_crossover", {}),
}


def _pick(quick: list[T], slow: list[T]) -> list[T]:
    return quick + slow if SLOW else quick


# Which objectives each kind of benchmark covers (names from OBJECTIVES).
SCALAR_OBJECTIVES = list(OBJECTIVES)
BATCH_OBJECTIVES = _pick(["maxdiff-ar200", "rastrigin-2d", "maxdiff-goog-w0", "ma_crossover"],
                         ["maxdiff-ar-n10k", "sphere-2d-1ms"])  # 1024 × 50 000 rows: ~3 s a call
OPTIMIZE_OBJECTIVES = _pick(["maxdiff-ar200", "maxdiff-ar200-eod", "rastrigin-2d"],
                            ["sphere-2d-1ms", "maxdiff-goog-w0", "maxdiff-ar-n10k", "ma_crossover"])
# time_/peakmem_ of whole optimizations: each cell runs twice more, so the quick set is one objective
# (the quality tracks keep OPTIMIZE_OBJECTIVES from their one shared run).
TIMED_OBJECTIVES = list(OPTIMIZE_OBJECTIVES) if SLOW else ["maxdiff-ar200"]
# MaxDiff kernels: (n, dtype) grids; compiled cells cost a torch.compile each in setup.
KERNEL_SIZES = _pick([200], [10_000])
KERNEL_DTYPES = _pick(["float64"], ["float32"])
BATCH_SIZE = 1024

# A fixed list, so results stay comparable across commits; names not registered are skipped.
# Your own objectives too: `OPTBENCH_ASV_OBJECTIVES=bollinger_goog,...` (registered names, e.g. an
# installed plug-in's; default options) joins each to every list above, keyed by its name.
PLUGGED_IN = [name.strip() for name in os.environ.get("OPTBENCH_ASV_OBJECTIVES", "").split(",") if name.strip()]
OBJECTIVES.update({name: (name, {}) for name in PLUGGED_IN})
for _keys in (SCALAR_OBJECTIVES, BATCH_OBJECTIVES, OPTIMIZE_OBJECTIVES, TIMED_OBJECTIVES):
    _keys += [name for name in PLUGGED_IN if name not in _keys]

OPTIMIZERS = _pick(["random", "grid", "scipy.de", "scipy.direct", "scipy.dual_annealing",
                    "nevergrad.oneplusone", "nevergrad.ngopt", "optuna.tpe", "evotorch.cmaes"],
                   ["scipy.de_vectorized", "scipy.shgo", "nevergrad.twopointsde", "nevergrad.cma",
                    "optuna.cmaes", "evotorch.snes", "botorch.qlogei"])
MAX_EVALS = 300
MAX_EVALS_BY_OPTIMIZER = {"botorch.qlogei": 40}  # ~0.2 s per evaluation, growing with the data
MAX_SECONDS = 120.0  # a safety net only: a cell that hits it is reported, not tracked
SEED = 0


class Skip(NotImplementedError):
    """Raised in a benchmark's ``setup``: asv reports the benchmark as skipped, not failed."""


def require_optimizer(name: str) -> None:
    """Skip (asv's way) an optimizer that this checkout does not register."""
    if name not in optimizers.names():
        raise Skip(f"optimizer {name!r} is not registered here")


def make_objective(key: str) -> objectives.Objective:
    name, options = OBJECTIVES[key]
    return objectives.get(name, **options)


def centre_point(objective: objectives.Objective) -> np.ndarray:
    """An encoded point in the middle of the box: the scalar-evaluation benchmark's input."""
    return objective.space.snap((objective.space.lower + objective.space.upper) / 2)


def candidates(objective: objectives.Objective, k: int = BATCH_SIZE, seed: int = 0) -> np.ndarray:
    """``k`` seeded, valid encoded points: the batch benchmark's input."""
    lo, hi = objective.space.lower, objective.space.upper
    return objective.space.snap(np.random.default_rng(seed).uniform(lo, hi, (k, objective.space.dim)))


def evaluate_scalar(objective: objectives.Objective, x: np.ndarray) -> float:
    """One evaluation as the instrument does it: the tensor math, then ``.item()``."""
    return objective.compute(x).item()


def cell(objective_key: str, optimizer: str) -> Cell:
    """The cell an asv benchmark runs for (objective key, optimizer)."""
    name, options = OBJECTIVES[objective_key]
    evals = MAX_EVALS_BY_OPTIMIZER.get(optimizer, MAX_EVALS)
    return Cell(name, optimizer, Budget(evals, MAX_SECONDS), SEED, dict(options))


def optimize(the_cell: Cell) -> RunRecord:
    """One optimization as an ``optbench run`` worker runs it, in this process (the timed body of
    ``time_optimize`` and ``peakmem_optimize``; peak memory is reset at its start)."""
    return run_seeded(the_cell)


def metrics(record: RunRecord) -> dict[str, float]:
    """The figures the suite tracks, from one run record (NaN where undefined)."""
    nan = math.nan
    value, ref = record.value, record.reference_value
    evals = record.n_evals
    return {
        "value": nan if value is None else value,
        "regret": nan if value is None or ref is None else value - ref,
        # 1 − value / reference: how far the profit (MaxDiff) or Sharpe (MA crossover) falls short of the
        # optimum's, 0 at the optimum; asv reads every figure as lower-is-better, so not the ratio itself.
        # Undefined at f* = 0 (synthetic functions: their regret says the same).
        "shortfall": 1.0 - value / ref if value is not None and ref is not None and ref < 0 else nan,
        "n_evals": float(evals),
        "overhead_us_per_eval": record.overhead_s / evals * 1e6 if evals else nan,
        "item_pct": 100.0 * record.item_s / record.wall_s if record.wall_s > 0 else nan,
        "wall_s": record.wall_s,
    }


def run_matrix(objective_keys: list[str], optimizer_names: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Run every registered (objective, optimizer) once, through ``optbench run``'s matrix runner
    (one sandboxed worker, no store); ``{(key, optimizer): {"status", "message", **metrics}}``.
    asv's ``setup_cache`` calls it, so several ``track_`` figures share one run."""
    keys = [(key, name) for name in optimizer_names if name in optimizers.names() for key in objective_keys]
    if not keys:
        return {}
    result = run_cells(resolve([cell(*key) for key in keys]), None, workers=1, quiet=True,
                       cell_timeout_s=2 * MAX_SECONDS)
    return {key: {"status": r.status, "message": r.message, **metrics(r)} for key, r in zip(keys, result.records)}


def tracked(results: dict[tuple[str, str], dict[str, Any]], key: str, optimizer: str, figure: str) -> float:
    """One figure from :func:`run_matrix`'s results; a failed or truncated run fails the benchmark
    (asv shows it as failed) rather than tracking a partial result."""
    require_optimizer(optimizer)
    row = results[key, optimizer]
    if row["status"] != "ok" or row["message"].startswith("wall-time"):
        raise RuntimeError(f"{optimizer} on {key}: {row['status']}: {row['message']}")
    return row[figure]


# Instruction-count tracks (harness/asv/instructions.py): optimizers measured under callgrind, where
# their runs take 50–90× longer; slow libraries' imports and runs only with OPTBENCH_ASV_SLOW=1.
INSTRUCTION_OPTIMIZERS = _pick(["random", "scipy.de", "optuna.tpe"],
                               ["grid", "scipy.direct", "scipy.dual_annealing", "nevergrad.oneplusone", "nevergrad.ngopt",
                                "evotorch.cmaes"])  # nevergrad's import alone: ~30 s under valgrind


def instruction_counts() -> dict[str, float] | str:
    """Every ``track_instructions_*`` figure (one callgrind run), or why instruction counts cannot
    be taken here (then every such benchmark is skipped with that message)."""
    from optbench.harness.asv import instructions

    names = [name for name in INSTRUCTION_OPTIMIZERS if name in optimizers.names()]
    return instructions.unavailable() or instructions.measure_tracks(names)


def optimizer_track(optimizer: str) -> str:
    """The key of ``optimizer``'s figure in :func:`instruction_counts`."""
    from optbench.harness.asv.instruction_workloads import OPTIMIZER_PREFIX

    return OPTIMIZER_PREFIX + optimizer


def instruction_count(counts: dict[str, float] | str, track: str) -> float:
    if isinstance(counts, str):
        raise Skip(counts)
    return counts[track]
