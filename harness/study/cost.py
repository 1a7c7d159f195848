"""The evaluation-cost knob of ``optbench study``: calibrated CPU-bound work added to every
evaluation (never a sleep), and torch pinned to one thread per worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optbench import objectives
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.timing import per_call_s
from optbench.harness.execution.sandbox import torch_threads

BURNS = ("work", "python")
WORK_ROWS = 10_000  # rows of the synthetic sphere per unit: ~0.2 ms, small enough to stay in cache
PYTHON_UNIT = 2_000  # loop iterations per pure-Python unit


@dataclass(frozen=True)
class Burn:
    """CPU work added to every evaluation: ``units`` calls of one unit of kind ``kind``.

    ``work``: one evaluation of the synthetic ``sphere`` with ``work=10000`` (the cost knob, docs/objectives.md; its
    torch kernels release the GIL, the Python between them holds it); ``python``: a pure-Python
    arithmetic loop that holds the GIL throughout.
    """

    kind: str = "work"
    units: int = 0

    def __post_init__(self) -> None:
        if self.kind not in BURNS:
            raise HarnessError(f"unknown burn {self.kind!r}; allowed: {', '.join(BURNS)}")

    def make(self) -> Callable[[], None]:
        units = self.units
        if self.kind == "work":
            sphere, x = objectives.get("sphere", work=WORK_ROWS), np.zeros(2)

            def burn() -> None:
                for _ in range(units):
                    sphere.compute(x).item()
        else:
            def burn() -> None:
                acc = 0
                for i in range(units * PYTHON_UNIT):
                    acc += i * i % 7
        return burn



def cpu_per_call_s(fn: Callable[[], object], calls: int) -> float:
    """CPU seconds of this thread per call of ``fn`` (best of 3, after one warm-up call)."""
    return per_call_s(fn, calls, repeats=3, clock=time.thread_time, warmup=1)


def calibrate(objective: objectives.Objective, target_ms: float, kind: str) -> tuple[Burn, float]:
    """The burn that brings one evaluation of ``objective`` to about ``target_ms`` of CPU time on
    one thread, and the objective's own CPU ms (no burn when that already reaches the target)."""
    with torch_threads(1):
        space = objective.space
        point = space.decode((space.lower + space.upper) / 2)
        base_s = cpu_per_call_s(lambda: objective(point), calls=200)
        unit_s = cpu_per_call_s(Burn(kind, 1).make(), calls=20)
    return Burn(kind, max(0, round((target_ms / 1e3 - base_s) / unit_s))), 1e3 * base_s
