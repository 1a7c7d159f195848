"""advise's steps that run the user's code before any matrix, each in a sandboxed child with a deadline.

:func:`measure_evaluation` and :func:`calibrate` take and return what the in-process functions of
:mod:`harness.decision.calibration` do, run through :func:`harness.execution.forked.call`: an objective
that calls ``os._exit``, is killed by a signal, raises ``SystemExit`` or ``KeyboardInterrupt``, or
never returns cannot end or hang advise. Measuring that fails is one ``error:`` line (exit 2); an
optimizer whose calibration fails is left out of the plan with the reason. Each step may take at
most ``PROBE_SHARE`` of the minutes given: one that takes longer could not leave room for a matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

from optbench.harness import optimizers
from optbench.harness.core.errors import HarnessError
from optbench.harness.execution import forked

if TYPE_CHECKING:
    from optbench.harness.decision.calibration import Calibration
    from optbench.objectives import Objective

PROBE_SHARE = 0.25


def deadline_s(minutes: float) -> float:
    """The longest one step (measuring, or one optimizer's calibration) may take for ``minutes`` given."""
    return PROBE_SHARE * minutes * 60


def measure_evaluation(objective: Objective, seconds: float = 0.3, *,
                       deadline_s: float | None = None) -> tuple[float, float]:
    """:func:`calibration.measure_evaluation` in a child; a failure raises one ``HarnessError`` saying how."""
    from optbench.harness.decision import calibration

    try:
        return forked.call(calibration.measure_evaluation, objective, seconds, timeout_s=deadline_s)
    except forked.IsolatedFailure as exc:
        raise HarnessError(f"measuring one evaluation of the objective failed: {exc}") from None


def calibrate(objective: str, options: dict[str, Any], names: Sequence[str], *,
              deadline_s: float | None = None, parallel: int = 1) -> tuple[dict[str, Calibration], dict[str, str]]:
    """:func:`calibration.calibrate`, each optimizer in a child of its own, ``parallel`` at a time (as
    many as the matrix's workers: each is timed as busy as a worker will be); one that crashes,
    raises or outlives ``deadline_s`` is returned with why, like one whose calibration run failed."""
    from optbench.harness.decision import calibration

    for name in names:  # imported before any child runs (an import beside one would slow its timing), the
        with suppress(Exception):  # library stays loaded in the children and in the workers forked later;
            optimizers.make(name).prepare()  # one that cannot be prepared fails in its child, with its reason
    outcomes: dict[str, tuple[dict[str, Calibration], dict[str, str]]] = {}
    waiting, running = list(names), dict[str, forked.Forked]()
    try:
        while waiting or running:
            while waiting and len(running) < max(1, parallel):
                name = waiting.pop(0)
                running[name] = forked.Forked(calibration.calibrate, objective, options, [name])
            _wait_any(running.values(), deadline_s)
            for name, child in list(running.items()):
                if child.connection is None or child.connection.poll() or child.left_s(deadline_s) == 0:
                    del running[name]
                    try:
                        outcomes[name] = child.result(deadline_s)
                    except forked.IsolatedFailure as exc:
                        outcomes[name] = {}, {name: f"failed its calibration run: {exc}"}
    finally:
        for child in running.values():
            child.kill()
    calibrations = {n: cal for name in names for n, cal in outcomes[name][0].items()}
    failed = {n: why for name in names for n, why in outcomes[name][1].items()}
    return calibrations, failed


def _wait_any(children: Iterable[forked.Forked], deadline_s: float | None) -> None:
    """Until one of ``children`` has its result ready or reaches ``deadline_s``."""
    children = list(children)
    lefts = [left for child in children if (left := child.left_s(deadline_s)) is not None]
    connections = [child.connection for child in children if child.connection is not None]
    if len(connections) == len(children):  # a child run here (CUDA started) is ready at once
        wait(connections, timeout=min(lefts, default=None))
