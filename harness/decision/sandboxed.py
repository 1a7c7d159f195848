"""advise's steps that run the user's code before any matrix, each in a sandboxed child with a deadline.

:func:`measure_evaluation` and :func:`calibrate` take and return what the in-process functions of
:mod:`harness.decision.calibration` do, run through :func:`harness.execution.sandbox.call`: an objective
that calls ``os._exit``, is killed by a signal, raises ``SystemExit`` or ``KeyboardInterrupt``, or
never returns cannot end or hang advise. Measuring that fails is one ``error:`` line (exit 2); an
optimizer whose calibration fails is left out of the plan with the reason. Each step may take at
most ``PROBE_SHARE`` of the minutes given: one that takes longer could not leave room for a matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from optbench.harness import optimizers
from optbench.harness.core.errors import HarnessError
from optbench.harness.execution import sandbox

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
        return sandbox.call(calibration.measure_evaluation, objective, seconds, timeout_s=deadline_s)
    except sandbox.IsolatedFailure as exc:
        raise HarnessError(f"measuring one evaluation of the objective failed: {exc}") from None


def calibrate(objective: str, options: dict[str, Any], names: Sequence[str], *,
              deadline_s: float | None = None) -> tuple[dict[str, Calibration], dict[str, str]]:
    """:func:`calibration.calibrate`, each optimizer in a child of its own; one that crashes, raises or
    outlives ``deadline_s`` is returned with why, like one whose calibration run failed."""
    from optbench.harness.decision import calibration

    calibrations: dict[str, Calibration] = {}
    failed: dict[str, str] = {}
    for name in names:
        with suppress(Exception):  # the library imported here stays loaded in the workers forked later;
            optimizers.make(name).prepare()  # one that cannot be prepared fails in the child, with its reason
        try:
            done, why = sandbox.call(calibration.calibrate, objective, options, [name], timeout_s=deadline_s)
        except sandbox.IsolatedFailure as exc:
            done, why = {}, {name: f"failed its calibration run: {exc}"}
        calibrations.update(done)
        failed.update(why)
    return calibrations, failed
