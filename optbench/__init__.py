"""optbench: benchmark and profile black-box optimizers, and decide which one to ship.

The public API, importable without loading torch or any optimizer library:

- ``optbench.get(name, **options)``: a registered objective;
- ``optbench.run(objective, optimizer, budget=..., seed=...)``: one instrumented run, a ``RunRecord``;
- ``optbench.recommended(kind)``: the shipped decision, for production code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optbench.harness.recommend import Recommendation, recommended

if TYPE_CHECKING:
    from optbench.harness.record import RunRecord
    from optbench.objectives.base import Objective

__all__ = ["Recommendation", "recommended", "get", "run"]


def get(name: str, **options: Any) -> Objective:
    """Build the registered objective ``name`` with ``options``."""
    from optbench import objectives

    return objectives.get(name, **options)


def run(objective: str, optimizer: str, *, max_evals: int | None = 500, max_seconds: float | None = None,
        seed: int = 0, options: dict[str, Any] | None = None,
        optimizer_options: dict[str, Any] | None = None) -> RunRecord:
    """Run ``optimizer`` on ``objective`` once, in this process, under the instrument; never raises
    for the run's own failures (they come back as the record's ``status`` and ``message``)."""
    from optbench.harness.budget import Budget
    from optbench.harness.record import Cell
    from optbench.harness.runner import run_cell

    cell = Cell(objective, optimizer, Budget(max_evals, max_seconds), seed, dict(options or {}),
                dict(optimizer_options or {}))
    cell.validate()
    return run_cell(cell)
