"""A plug-in optimizer: scrambled Halton quasi-random points, evaluated in batches."""

from __future__ import annotations

from scipy.stats import qmc

from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers.base import OptimizerAdapter


class HaltonSearch(OptimizerAdapter):
    """Points of a scrambled Halton sequence (seeded) spread over the box, ``batch_size`` at a time."""

    name = "example.halton"
    library = "scipy"
    defaults = {"batch_size": 64}

    def minimize(self, problem: Instrument, seed: int) -> None:
        sequence = qmc.Halton(d=len(problem.lower), scramble=True, seed=seed)
        while True:
            k = self.options["batch_size"]
            if problem.remaining_evals is not None:
                k = min(k, problem.remaining_evals)
            unit = sequence.random(max(k, 1))
            problem.evaluate_batch(qmc.scale(unit, problem.lower, problem.upper))
