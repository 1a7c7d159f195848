"""Optimizer registry: public name -> ``module:Class`` of its adapter (imported on first use).

Adding an optimizer is one adapter module plus one line here.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from optbench.harness.budget import HarnessError
from optbench.harness.optimizers.base import OptimizerAdapter

REGISTRY: dict[str, str] = {
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


def names() -> list[str]:
    """Registered optimizer names."""
    return list(REGISTRY)


def adapter_class(name: str) -> type[OptimizerAdapter]:
    """The adapter class registered as ``name``; a clear error listing the names otherwise."""
    if name not in REGISTRY:
        raise HarnessError(f"unknown optimizer {name!r}; registered: {', '.join(REGISTRY)}")
    module, _, cls = REGISTRY[name].partition(":")
    return getattr(import_module(module), cls)


def make(name: str, **options: Any) -> OptimizerAdapter:
    """A configured adapter; unknown options raise ``HarnessError``."""
    return adapter_class(name)(**options)


def register(name: str, target: str) -> None:
    """Register an adapter at run time (plug-ins, test doubles): ``target`` is ``module:Class``."""
    REGISTRY[name] = target


def load_plugins() -> None:
    """Import the modules named in ``OPTBENCH_PLUGINS`` (comma-separated); each may call
    :func:`register`. Worker processes call this too, so plug-ins reach them."""
    import os

    for module in filter(None, os.environ.get("OPTBENCH_PLUGINS", "").split(",")):
        import_module(module.strip())


load_plugins()
