"""nevergrad optimizers through ask/tell: NGOpt, OnePlusOne, TwoPointsDE and CMA.

Spaces map natively: a continuous space is one bounded ``ng.p.Array``; a mixed space is an
``ng.p.Dict`` of ``ng.p.Scalar`` (floats), ``ng.p.Scalar().set_integer_casting()`` (integers) and
``ng.p.Choice`` (categoricals), whose values are encoded with ``space.encode``. With
``num_workers`` > 1 the adapter asks that many candidates and evaluates them in one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.harness.optimizers.common import eval_budget, ignoring
from optbench.objectives import CategoricalParam, FloatParam, SearchSpace


def parametrization(ng: Any, space: SearchSpace) -> tuple[Any, Callable[[Any], np.ndarray]]:
    """nevergrad's parameter for ``space`` and a function from its value to an encoded vector."""
    if space.is_continuous:
        return ng.p.Array(init=(space.lower + space.upper) / 2, lower=space.lower, upper=space.upper), np.asarray
    params = {}
    for p in space.params:
        if isinstance(p, CategoricalParam):
            params[p.name] = ng.p.Choice(list(p.choices))
        elif isinstance(p, FloatParam):
            params[p.name] = ng.p.Scalar(lower=p.low, upper=p.high)
        else:
            params[p.name] = ng.p.Scalar(lower=p.low, upper=p.high).set_integer_casting()
    return ng.p.Dict(**params), space.encode


def _metamodel_falls_back_on_numpy2() -> None:
    """Compatibility shim for nevergrad 1.0.12 under numpy ≥ 2.3.

    Its MetaModel (which NGOpt picks for some budgets) calls ``float()`` on a one-element array,
    a ``TypeError`` under numpy 2, and the run dies. nevergrad already falls back to its base
    optimizer when the surrogate fails (``MetaModelFailure``); this turns the ``TypeError`` into
    that failure so the designed fallback happens. Installed once, idempotent.
    """
    from nevergrad.optimization import metamodel, optimizerlib

    original = metamodel.learn_on_k_best
    if getattr(original, "optbench_shim", False):
        return

    def learn_on_k_best(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        except TypeError as exc:
            raise metamodel.MetaModelFailure(f"surrogate unusable under numpy 2: {exc}") from exc

    learn_on_k_best.optbench_shim = True  # type: ignore[attr-defined]
    metamodel.learn_on_k_best = learn_on_k_best
    optimizerlib.learn_on_k_best = learn_on_k_best


class _NevergradAdapter(OptimizerAdapter):
    """One nevergrad registry entry (``ng_name``) driven by ask/tell for the run's budget."""

    library = "nevergrad"
    ng_name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {"num_workers": 1}
    ranges = {"num_workers": (1, None)}

    def prepare(self) -> None:
        import cma  # noqa: F401  (nevergrad's CMA imports it, and matplotlib, on first use: keep that off the clock)
        import nevergrad

        self._ng = nevergrad
        _metamodel_falls_back_on_numpy2()

    def minimize(self, problem: Instrument, seed: int) -> None:
        ng, k = self._ng, max(int(self.options["num_workers"]), 1)
        param, encode = parametrization(ng, problem.space)
        param.random_state.seed(seed)
        budget = eval_budget(problem)
        # CMA warns (UserWarning) about 'orphaned injected solutions' whenever it is asked one at a time.
        with ignoring(ng.errors.NevergradWarning, UserWarning, RuntimeWarning):
            optimizer = ng.optimizers.registry[self.ng_name](param, budget=budget, num_workers=k)
            while optimizer.num_ask < budget:
                candidates = [optimizer.ask() for _ in range(k)]
                xs = np.array([encode(c.value) for c in candidates], dtype=float)
                values = problem.evaluate_batch(xs) if k > 1 else [problem.evaluate(xs[0])]
                for candidate, value in zip(candidates, values):
                    optimizer.tell(candidate, float(value))


class NGOpt(_NevergradAdapter):
    """nevergrad's algorithm selector (``NGOpt``), which picks a method from the space and budget."""

    name = "nevergrad.ngopt"
    ng_name = "NGOpt"


class OnePlusOne(_NevergradAdapter):
    """(1+1) evolution strategy with one-fifth-rule step-size adaptation."""

    name = "nevergrad.oneplusone"
    ng_name = "OnePlusOne"


class TwoPointsDE(_NevergradAdapter):
    """Differential evolution with two-points crossover."""

    name = "nevergrad.twopointsde"
    ng_name = "TwoPointsDE"


class CMA(_NevergradAdapter):
    """CMA-ES (nevergrad's wrapper of the ``cma`` package)."""

    name = "nevergrad.cma"
    ng_name = "CMA"
