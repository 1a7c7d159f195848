"""scipy.optimize global optimizers: differential evolution (scalar and vectorized), DIRECT,
dual annealing and SHGO.

Mixed integer/categorical spaces use the relaxed-box encoding (see ``common``): scipy searches
``space.relaxed_bounds()`` and the instrument's ``snap`` rounds each point. Options sized from
the budget (``None`` by default) are set to the evaluations left in the run; the instrument still
cuts any overshoot (DIRECT evaluates past ``maxfun``; vectorized DE's ``nfev`` counts batches).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from optbench.harness.core.budget import LIBRARY_MAX_EVALS
from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.harness.optimizers.common import bounds_list, eval_budget


class _ScipyAdapter(OptimizerAdapter):
    library = "scipy"

    def prepare(self) -> None:
        from scipy import optimize

        self._optimize = optimize

    max_planned: ClassVar[int | None] = None  # the most evaluations the library can be told to plan for

    def _sized(self, key: str, problem: Instrument) -> int:
        """Option ``key``, or the evaluations left in the run where it is ``None``."""
        value = self.options[key]
        return min(eval_budget(problem), self.max_planned or LIBRARY_MAX_EVALS) if value is None else int(value)


class DifferentialEvolution(_ScipyAdapter):
    """``scipy.optimize.differential_evolution`` with the origin scripts' settings (maxiter=50, popsize=10)."""

    name = "scipy.de"
    defaults: ClassVar[dict[str, Any]] = {"maxiter": 50, "popsize": 10, "tol": 0.01, "mutation": (0.5, 1.0),
                                "recombination": 0.7, "strategy": "best1bin", "init": "latinhypercube",
                                "polish": True}
    ranges = {"maxiter": (1, None), "popsize": (1, None), "tol": (0, None), "recombination": (0, 1)}

    def minimize(self, problem: Instrument, seed: int) -> None:
        self._optimize.differential_evolution(problem.evaluate, bounds_list(problem), rng=seed, **self.options)


class VectorizedDifferentialEvolution(DifferentialEvolution):
    """The same DE evaluating each generation in one ``evaluate_batch`` call (``vectorized=True``)."""

    name = "scipy.de_vectorized"

    def minimize(self, problem: Instrument, seed: int) -> None:
        def batch(x: np.ndarray):
            # scipy passes a generation as (dim, S); the polishing step passes single points (dim,).
            return problem.evaluate_batch(x.T) if x.ndim == 2 else problem.evaluate(x)

        self._optimize.differential_evolution(batch, bounds_list(problem), rng=seed, vectorized=True,
                                              updating="deferred", **self.options)


class Direct(_ScipyAdapter):
    """``scipy.optimize.direct`` (DIRECT-L by default); deterministic, so the seed is unused. It
    samples only centres of sub-boxes, so its points are inside the box."""

    name = "scipy.direct"
    seedable = False
    keeps_in_box = True
    defaults: ClassVar[dict[str, Any]] = {"maxfun": None, "maxiter": 1000, "locally_biased": True, "eps": 1e-4,
                                "len_tol": 1e-6, "vol_tol": 1e-16}
    max_planned = 10**7  # DIRECT allocates its work arrays for maxfun up front (2**31 fails inside it)
    ranges = {"maxfun": (1, max_planned), "maxiter": (1, None), "eps": (0, None), "len_tol": (0, 1), "vol_tol": (0, 1)}

    def minimize(self, problem: Instrument, seed: int) -> None:
        options = {**self.options, "maxfun": self._sized("maxfun", problem)}
        self._optimize.direct(problem.evaluate, bounds_list(problem), **options)


class DualAnnealing(_ScipyAdapter):
    """``scipy.optimize.dual_annealing``; ``maxfun`` defaults to the evaluations left."""

    name = "scipy.dual_annealing"
    defaults: ClassVar[dict[str, Any]] = {"maxfun": None, "maxiter": 1000, "initial_temp": 5230.0,
                                "restart_temp_ratio": 2e-5, "visit": 2.62, "accept": -5.0,
                                "no_local_search": False}
    # scipy's own limits for the annealing parameters
    ranges = {"maxfun": (1, None), "maxiter": (1, None), "initial_temp": (0.01, 5e4), "restart_temp_ratio": (1e-12, 1),
              "visit": (1e-12, 3), "accept": (-1e4, -5)}

    def minimize(self, problem: Instrument, seed: int) -> None:
        options = {**self.options, "maxfun": self._sized("maxfun", problem)}
        self._optimize.dual_annealing(problem.evaluate, bounds_list(problem), rng=seed, **options)


class Shgo(_ScipyAdapter):
    """``scipy.optimize.shgo`` with Sobol sampling; scipy fixes the Sobol seed, so the run is
    deterministic. ``maxfev`` (default: the evaluations left) lets it keep sampling while budget remains."""

    name = "scipy.shgo"
    seedable = False
    defaults: ClassVar[dict[str, Any]] = {"n": 100, "iters": None, "sampling_method": "sobol", "maxfev": None}
    ranges = {"n": (1, None), "iters": (1, None), "maxfev": (1, None)}

    def prepare(self) -> None:
        super().prepare()
        import scipy.stats  # noqa: F401  (shgo's Sobol sampling imports it on first use: keep that off the clock)

    def minimize(self, problem: Instrument, seed: int) -> None:
        options = {k: v for k, v in self.options.items() if k != "maxfev"}
        self._optimize.shgo(problem.evaluate, bounds_list(problem), options={"maxfev": self._sized("maxfev", problem)},
                            **options)
