"""optbench: benchmark and profile black-box optimizers, and decide which one to ship.

The public API, importable without loading torch or any optimizer library (each call imports what
it needs):

- ``optbench.get(name, **options)``: a registered objective;
- ``optbench.run(objective, optimizer, max_evals=..., seed=...)``: one instrumented run, a ``RunRecord``;
- ``optbench.minimize(fn, bounds, optimizer=... | recommendation=..., fallback=...)``: the best point,
  for production code (no store, no record);
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
    from optbench.harness.decision.minimize import MinimizeResult
    from optbench.harness.optimizers.base import OptimizerAdapter
    from optbench.objectives.base import Objective
    from optbench.objectives.function import FunctionObjective

__all__ = ["Recommendation", "recommended", "get", "run", "minimize", "objective", "register_objective", "register_optimizer",
           "objective_names", "optimizer_names"]


def get(name: str, **options: Any) -> Objective:
    """Build the registered objective ``name`` (or a one-off ``package.module:factory``) with ``options``."""
    from optbench import objectives

    return objectives.get(name, **options)


def run(objective: str | Objective, optimizer: str, *, max_evals: int | None = 500,
        max_seconds: float | None = None, seed: int = 0, options: dict[str, Any] | None = None,
        optimizer_options: dict[str, Any] | None = None) -> RunRecord:
    """Run ``optimizer`` on ``objective`` (a registered name with ``options``, or an ``Objective``)
    once, in this process, under the instrument; never raises for the run's own failures (they come
    back as the record's ``status`` and ``message``)."""
    from optbench.harness.core.budget import Budget
    from optbench.harness.core.errors import HarnessError
    from optbench.harness.core.record import Cell
    from optbench.harness.core.runner import run_cell, validate
    from optbench.harness.optimizers import make
    from optbench.objectives import Objective

    budget = Budget(max_evals, max_seconds)
    if isinstance(objective, str):
        cell = Cell(objective, optimizer, budget, seed, dict(options or {}), dict(optimizer_options or {}))
        validate(cell)
        return run_cell(cell)
    if not isinstance(objective, Objective):
        raise HarnessError(f"optbench.run needs an objective name or an Objective, got {type(objective).__name__}")
    if options:
        raise HarnessError("optbench.run: options= configure a registered name; an Objective is already built")
    cell = Cell(getattr(objective, "name", type(objective).__name__), optimizer, budget, seed,
                dict(objective.options), dict(optimizer_options or {}))
    make(optimizer, **cell.optimizer_options)  # unknown names and options raise here, as for a name
    return run_cell(cell, objective=objective)


def minimize(fn_or_objective: Callable[..., Any] | Objective, bounds: dict[str, Any] | None = None, *,
             optimizer: str | None = None, recommendation: Recommendation | None = None,
             options: dict[str, Any] | None = None, max_evals: int | None = None,
             max_seconds: float | None = None, seed: int = 0, fallback: str | None = None) -> MinimizeResult:
    """Minimize ``fn`` over ``bounds`` (as :func:`objective` takes them) or an ``Objective`` with the
    named ``optimizer`` or a ``recommendation`` (its optimizer, options and budget), in this process,
    with no store; ``fallback``: a second optimizer run if the first raises. Returns the best
    ``point``, its ``value``, ``n_evals``, ``wall_s`` and the ``optimizer`` that produced them."""
    from optbench.harness.decision.minimize import minimize as run_minimize

    return run_minimize(fn_or_objective, bounds, optimizer=optimizer, recommendation=recommendation,
                        options=options, max_evals=max_evals, max_seconds=max_seconds, seed=seed,
                        fallback=fallback)


def objective(fn: Callable[..., Any], bounds: dict[str, Any], **kwargs: Any) -> FunctionObjective:
    """A plain function as an Objective over ``bounds`` (see ``optbench.objectives.function``):
    ``batched``, ``device``, ``family``, ``gain``, ``reference``, ``knowledge``, ``name``."""
    from optbench.objectives.function import objective as make

    return make(fn, bounds, **kwargs)


def register_objective(name: str, factory: Callable[..., Objective] | Objective | str, *,
                       instances: list[dict[str, Any]] | None = None, replace: bool = False) -> None:
    """Register an objective factory (class or function; its keyword arguments are the options), an
    Objective instance, or a ``module:attr`` string, under ``name``; ``instances`` (option dicts, e.g.
    one per data window) declares the problems it is a family of: ``optbench run --instances declared``
    runs them and ``decide`` compares and validates across them. A taken name is refused
    (``ObjectiveError`` naming where it comes from) unless ``replace``."""
    from optbench import objectives

    objectives.register(name, factory, instances=instances, replace=replace)


def register_optimizer(name: str, adapter: type[OptimizerAdapter] | str, *, replace: bool = False) -> None:
    """Register an ``OptimizerAdapter`` subclass (or its ``module:Class``) under ``name``; a taken name
    is refused (``HarnessError`` naming where it comes from) unless ``replace``."""
    from optbench.harness import optimizers

    optimizers.register(name, adapter, replace=replace)


def objective_names() -> list[str]:
    """Registered objective names, plug-ins included."""
    from optbench import objectives

    return objectives.names()


def optimizer_names() -> list[str]:
    """Registered optimizer names, plug-ins included."""
    from optbench.harness import optimizers

    return optimizers.names()
