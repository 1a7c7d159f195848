"""Optimizer registry: public name -> ``module:Class`` of its adapter (imported on first use).

Adding an optimizer is one adapter module plus one line here, or a plug-in calling
:func:`register` (see ``optbench.harness.plugins``).
"""

from __future__ import annotations

from typing import Any

from optbench.harness.core.errors import HarnessError
from optbench.harness.optimizers.base import OptimizerAdapter

REGISTRY: dict[str, str | type[OptimizerAdapter]] = {
    "random": "optbench.harness.optimizers.baselines:RandomSearch",
    "grid": "optbench.harness.optimizers.baselines:GridSearch",
    "scipy.de": "optbench.harness.optimizers.scipy_adapters:DifferentialEvolution",
    "scipy.de_vectorized": "optbench.harness.optimizers.scipy_adapters:VectorizedDifferentialEvolution",
    "scipy.direct": "optbench.harness.optimizers.scipy_adapters:Direct",
    "scipy.dual_annealing": "optbench.harness.optimizers.scipy_adapters:DualAnnealing",
    "scipy.shgo": "optbench.harness.optimizers.scipy_adapters:Shgo",
    "nevergrad.ngopt": "optbench.harness.optimizers.nevergrad_adapters:NGOpt",
    "nevergrad.oneplusone": "optbench.harness.optimizers.nevergrad_adapters:OnePlusOne",
    "nevergrad.twopointsde": "optbench.harness.optimizers.nevergrad_adapters:TwoPointsDE",
    "nevergrad.cma": "optbench.harness.optimizers.nevergrad_adapters:CMA",
    "optuna.tpe": "optbench.harness.optimizers.optuna_adapters:TPE",
    "optuna.cmaes": "optbench.harness.optimizers.optuna_adapters:CmaEs",
    "botorch.qlogei": "optbench.harness.optimizers.botorch_adapter:QLogEI",
    "evotorch.cmaes": "optbench.harness.optimizers.evotorch_adapters:CMAES",
    "evotorch.snes": "optbench.harness.optimizers.evotorch_adapters:SNES",
    "batched.exact": "optbench.harness.workloads.maxdiff.batched_exact:BatchedExact",
    "batched.grid": "optbench.harness.workloads.maxdiff.batched_search:BatchedGrid",
    "batched.de": "optbench.harness.workloads.maxdiff.batched_search:BatchedDE",
}


#: Where each name comes from (see ``optbench.objectives.ORIGINS``).
ORIGINS: dict[str, str] = dict.fromkeys(REGISTRY, "builtin")


def names() -> list[str]:
    """Registered optimizer names (plug-ins included)."""
    _load_plugins()
    return list(REGISTRY)


def _load_plugins() -> None:
    from optbench.harness import plugins

    plugins.load_all()


def adapter_class(name: str) -> type[OptimizerAdapter]:
    """The adapter class registered as ``name``; a clear error listing the names otherwise."""
    _load_plugins()
    if name not in REGISTRY:
        raise HarnessError(f"unknown optimizer {name!r}; registered: {', '.join(REGISTRY)}")
    target = REGISTRY[name]
    if isinstance(target, str):
        from optbench.harness import plugins

        try:
            target = plugins.resolve_target(target)
        except plugins.PluginError as exc:
            raise HarnessError(f"optimizer {name!r} ({ORIGINS.get(name)}): {exc}") from None
    if not (isinstance(target, type) and issubclass(target, OptimizerAdapter)):
        raise HarnessError(f"optimizer {name!r} ({ORIGINS.get(name)}) is not an OptimizerAdapter subclass")
    return target


def make(name: str, **options: Any) -> OptimizerAdapter:
    """A configured adapter; unknown options raise ``HarnessError``."""
    return adapter_class(name)(**options)


def register(name: str, target: str | type[OptimizerAdapter], origin: str | None = None) -> None:
    """Register an adapter (plug-ins, test doubles): ``target`` is ``module:Class`` or the class;
    ``origin`` defaults to the plug-in being loaded, else "run time"."""
    from optbench.harness import plugins

    REGISTRY[name] = target
    ORIGINS[name] = origin or plugins.current_origin("run time")
