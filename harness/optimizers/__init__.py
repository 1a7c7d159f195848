"""Optimizer registry: public name -> ``module:Class`` of its adapter (imported on first use).

Adding an optimizer is one adapter module plus one line in ``_BUILTINS``, or a plug-in calling
:func:`register` (see :mod:`optbench.plugins`).
"""

from __future__ import annotations

from typing import Any

from optbench.harness.core.errors import HarnessError
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.registry import Registry

_BUILTINS = {
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




def _accept(name: str, target: Any) -> type[OptimizerAdapter]:
    if not (isinstance(target, type) and issubclass(target, OptimizerAdapter)):
        raise HarnessError(f"optimizer {name!r}: {target!r} is not an OptimizerAdapter subclass")
    return target


#: Every optimizer name: builtins, entry points (group ``optbench.optimizers``), plug-ins, one-offs.
REGISTRY: Registry[type[OptimizerAdapter]] = Registry("optimizer", "optbench.optimizers", HarnessError, _accept,
                                                      "package.module:AdapterClass")
for _name, _target in _BUILTINS.items():
    REGISTRY.register(_name, _target, origin="builtin")


def names(family: str | None = None) -> list[str]:
    """Registered optimizer names (plug-ins included); with ``family``, only those that solve it
    (general ones and those that require that family)."""
    return [n for n in REGISTRY.names() if family is None or adapter_class(n).requires in ("", family)]


def misfit(name: str, objective: str, family: str) -> str | None:
    """Why optimizer ``name`` cannot run on ``objective`` (of ``family``), or None when it can."""
    requires = adapter_class(name).requires
    if requires in ("", family):
        return None
    return (f"optimizer {name!r} solves only {requires!r} objectives (it uses their structure); objective "
            f"{objective!r} is of family {family!r}")


def adapter_class(name: str) -> type[OptimizerAdapter]:
    """The adapter class registered as ``name``; a clear error listing the names otherwise."""
    return REGISTRY.get(name)


def make(name: str, **options: Any) -> OptimizerAdapter:
    """A configured adapter; unknown options raise ``HarnessError``."""
    return adapter_class(name)(**options)


def register(name: str, target: str | type[OptimizerAdapter], origin: str | None = None, *,
             replace: bool = False) -> None:
    """Register an adapter (plug-ins, test doubles): ``target`` is ``module:Class`` or the class (see
    :meth:`Registry.register`: a taken name is refused unless ``replace``)."""
    REGISTRY.register(name, target, origin=origin, replace=replace)
