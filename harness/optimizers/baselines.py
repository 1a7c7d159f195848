"""Baselines: batched uniform random search and a full-factorial grid."""

from __future__ import annotations

import math

import numpy as np

from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.objectives import CategoricalParam, IntParam


class RandomSearch(OptimizerAdapter):
    """Uniform random points in the (relaxed) box, evaluated ``batch_size`` at a time."""

    name = "random"
    defaults = {"batch_size": 64}
    ranges = {"batch_size": (1, 10**7)}

    def minimize(self, problem: Instrument, seed: int) -> None:
        rng = np.random.default_rng(seed)
        while True:
            k = self.options["batch_size"]
            if problem.remaining_evals is not None:
                k = min(k, problem.remaining_evals)
            problem.evaluate_batch(rng.uniform(problem.lower, problem.upper, (max(k, 1), len(problem.lower))))


class GridSearch(OptimizerAdapter):
    """An evenly spaced grid with about ``budget`` points (``points_per_axis`` overrides), in batches.

    Discrete axes use their distinct values when they have fewer than the per-axis count.
    """

    name = "grid"
    seedable = False
    defaults = {"points_per_axis": 0, "batch_size": 1024}
    ranges = {"points_per_axis": (0, None), "batch_size": (1, 10**7)}

    def minimize(self, problem: Instrument, seed: int) -> None:
        dim = len(problem.lower)
        per_axis = self.options["points_per_axis"] or max(2, int(math.floor(problem.budget.evals_or_default ** (1 / dim))))
        axes = []
        for p, lo, hi in zip(problem.space.params, problem.space.lower, problem.space.upper):
            if isinstance(p, CategoricalParam) or (isinstance(p, IntParam) and hi - lo + 1 <= per_axis):
                axes.append(np.arange(lo, hi + 1, dtype=float))
            else:
                axes.append(np.linspace(lo, hi, per_axis))
        # batch by batch in meshgrid's (row-major) order: a large budget never builds the whole grid
        shape, batch = [len(a) for a in axes], self.options["batch_size"]
        for start in range(0, math.prod(shape), batch):
            index = np.unravel_index(np.arange(start, min(start + batch, math.prod(shape))), shape)
            problem.evaluate_batch(np.stack([a[i] for a, i in zip(axes, index)], -1))
