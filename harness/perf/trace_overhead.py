"""What tracing a run costs: the same cell run traced and untraced, alternately, medians compared.

The cell is MaxDiff with scipy.de for 300 evaluations (the timeline's reference case), on one
objective built beforehand and warmed up; ``ROUNDS`` runs of each side alternate, so a slow spell
of a shared machine lands on both (in ABBA order: neither side always runs first). Target: the
traced median within 10 % of the untraced one.
"""

from __future__ import annotations

import statistics

from rich.console import Console

from optbench import objectives
from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_instrumented, warm_up

ROUNDS = 15
CELL = Cell("maxdiff", "scipy.de", Budget(300), 0)


def measure(cell: Cell = CELL, rounds: int = ROUNDS) -> dict[str, float]:
    """Median wall_s of ``rounds`` untraced and ``rounds`` traced runs, alternating."""
    objective = objectives.get(cell.objective, **cell.options)
    warm_up(cell, objective=objective)
    walls: dict[bool, list[float]] = {False: [], True: []}
    for i in range(rounds):
        for traced in ((False, True) if i % 2 == 0 else (True, False)):  # ABBA: neither side always goes first
            record, _ = run_instrumented(cell, with_reference=False, objective=objective, trace=traced)
            walls[traced].append(record.wall_s)
    untraced, traced_s = statistics.median(walls[False]), statistics.median(walls[True])
    return {"untraced_s": untraced, "traced_s": traced_s, "ratio": traced_s / untraced,
            "n_evals": float(cell.budget.max_evals or 0)}


def main() -> None:
    m = measure()
    Console().print(f"{CELL.optimizer} on {CELL.objective}, {m['n_evals']:.0f} evaluations: untraced "
                    f"{1e3 * m['untraced_s']:.2f} ms, traced {1e3 * m['traced_s']:.2f} ms, traced ÷ untraced "
                    f"{m['ratio']:.3f} (target ≤ 1.10); medians of {ROUNDS} alternating runs each, wall time")


if __name__ == "__main__":
    main()
