"""optuna samplers through ask/tell on an in-memory study: TPE and CMA-ES.

Spaces map natively: ``FloatDistribution``, ``IntDistribution`` and ``CategoricalDistribution``
(the ``suggest_float`` / ``suggest_int`` / ``suggest_categorical`` distributions); a trial's
params are encoded with ``space.encode``. optuna's CMA-ES handles only numeric parameters: it
samples categoricals with its independent (random) sampler, as optuna documents.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.harness.optimizers.common import eval_budget, ignoring
from optbench.objectives import CategoricalParam, FloatParam, SearchSpace


def distributions(optuna: Any, space: SearchSpace) -> dict[str, Any]:
    """optuna distributions for ``space``, by parameter name."""
    d = optuna.distributions
    out = {}
    for p in space.params:
        if isinstance(p, CategoricalParam):
            out[p.name] = d.CategoricalDistribution(list(p.choices))
        elif isinstance(p, FloatParam):
            out[p.name] = d.FloatDistribution(p.low, p.high)
        else:
            out[p.name] = d.IntDistribution(p.low, p.high)
    return out


class _OptunaAdapter(OptimizerAdapter):
    """Asks one trial at a time for the run's budget; the sampler comes from :meth:`sampler`."""

    library = "optuna"

    def prepare(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna

    def sampler(self, seed: int) -> Any:
        raise NotImplementedError

    def minimize(self, problem: Instrument, seed: int) -> None:
        optuna = self._optuna
        with ignoring(optuna.exceptions.ExperimentalWarning, UserWarning):
            study = optuna.create_study(direction="minimize", sampler=self.sampler(seed))
            dists = distributions(optuna, problem.space)
            for _ in range(eval_budget(problem)):
                trial = study.ask(dists)
                study.tell(trial, problem.evaluate(problem.space.encode(trial.params)))


class TPE(_OptunaAdapter):
    """Tree-structured Parzen estimator (``optuna.samplers.TPESampler``)."""

    name = "optuna.tpe"
    defaults: ClassVar[dict[str, Any]] = {"n_startup_trials": 10, "n_ei_candidates": 24, "multivariate": True}
    ranges = {"n_startup_trials": (0, None), "n_ei_candidates": (1, None)}

    def sampler(self, seed: int) -> Any:
        return self._optuna.samplers.TPESampler(seed=seed, **self.options)


class CmaEs(_OptunaAdapter):
    """CMA-ES (``optuna.samplers.CmaEsSampler``, which needs the ``cmaes`` package)."""

    name = "optuna.cmaes"
    defaults: ClassVar[dict[str, Any]] = {"n_startup_trials": 1, "sigma0": None, "popsize": None}
    ranges = {"n_startup_trials": (0, None), "sigma0": (1e-12, None), "popsize": (2, None)}

    def sampler(self, seed: int) -> Any:
        return self._optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False, **self.options)
