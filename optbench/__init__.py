"""optbench: benchmark and profile black-box optimizers, and decide which one to ship.

The public API, importable without loading torch or any optimizer library (each call imports what
it needs):

- ``optbench.get(name, **options)``: a registered objective;
- ``optbench.run(objective, optimizer, max_evals=..., seed=...)``: one instrumented run, a ``RunRecord``;
- ``optbench.objective(fn, bounds={...})``: a plain function as an objective (no subclassing);
- ``optbench.register_objective(name, factory, instances=[...])`` / ``optbench.register_optimizer(name, adapter)``;
- ``optbench.objective_names()`` / ``optbench.optimizer_names()``: what is registered, plug-ins included;
- ``optbench.recommended(kind)``: the shipped decision, for production code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optbench.harness.decision.recommend import Recommendation, recommended

if TYPE_CHECKING:
    from collections.abc import Callable

    from optbench.harness.core.record import RunRecord
    from optbench.harness.optimizers.base import OptimizerAdapter
    from optbench.objectives.base import Objective
    from optbench.objectives.function import FunctionObjective

__all__ = ["Recommendation", "recommended", "get", "run", "objective", "register_objective", "register_optimizer",
           "objective_names", "optimizer_names"]


def get(name: str, **options: Any) -> Objective:
    """Build the registered objective ``name`` (or a one-off ``package.module:factory``) with ``options``."""
    from optbench import objectives

    return objectives.get(name, **options)


def run(objective: str, optimizer: str, *, max_evals: int | None = 500, max_seconds: float | None = None,
        seed: int = 0, options: dict[str, Any] | None = None,
        optimizer_options: dict[str, Any] | None = None) -> RunRecord:
    """Run ``optimizer`` on ``objective`` once, in this process, under the instrument; never raises
    for the run's own failures (they come back as the record's ``status`` and ``message``)."""
    from optbench.harness.core.budget import Budget
    from optbench.harness.core.record import Cell
    from optbench.harness.core.runner import run_cell

    cell = Cell(objective, optimizer, Budget(max_evals, max_seconds), seed, dict(options or {}),
                dict(optimizer_options or {}))
    cell.validate()
    return run_cell(cell)


def objective(fn: Callable[..., Any], bounds: dict[str, Any], **kwargs: Any) -> FunctionObjective:
    """A plain function as an Objective over ``bounds`` (see ``optbench.objectives.function``):
    ``batched``, ``device``, ``family``, ``gain``, ``reference``, ``knowledge``, ``name``."""
    from optbench.objectives.function import objective as make

    return make(fn, bounds, **kwargs)


def register_objective(name: str, factory: Callable[..., Objective] | Objective | str, *,
                       instances: list[dict[str, Any]] | None = None) -> None:
    """Register an objective factory (class or function; its keyword arguments are the options), an
    Objective instance, or a ``module:attr`` string, under ``name``; ``instances`` (option dicts, e.g.
    one per data window) declares the problems it is a family of: ``optbench run --instances declared``
    runs them and ``decide`` compares and validates across them."""
    from optbench import objectives

    objectives.register(name, factory, instances=instances)


def register_optimizer(name: str, adapter: type[OptimizerAdapter] | str) -> None:
    """Register an ``OptimizerAdapter`` subclass (or its ``module:Class``) under ``name``."""
    from optbench.harness import optimizers

    optimizers.register(name, adapter)


def objective_names() -> list[str]:
    """Registered objective names, plug-ins included."""
    from optbench import objectives

    return objectives.names()


def optimizer_names() -> list[str]:
    """Registered optimizer names, plug-ins included."""
    from optbench.harness import optimizers

    return optimizers.names()
