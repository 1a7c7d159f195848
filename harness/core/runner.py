"""Run one cell: objective → instrument → optimizer adapter → ``RunRecord``.

Failures never escape: an exception from the optimizer or the objective becomes a record with
status ``error`` and the message; what was found before the failure is kept.
"""

from __future__ import annotations

import math
import resource
import sys
import traceback
import warnings
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import torch

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget, BudgetExhausted
from optbench.harness.core.construction import build, reference_value
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.instrument import Instrument
from optbench.harness.core.record import NOT_REPRODUCIBLE, WARM_REPEAT_MAX_S, Cell, RunRecord
from optbench.harness.core.versions import versions

OVERRUN_NOTED_S = 0.001  # a run always ends a little past its time limit; more than this is in the message
# The best point's second evaluation agrees with the run's when within this many units of rounding of
# its float type (measured here: batch and scalar paths of the built-in float64 objectives differ by
# at most 40 units; float32 results get their own, larger unit).
ROUNDING_ULPS = 1024


def run_cell(cell: Cell, *, with_reference: bool = True, warm_repeat: bool = False,
             objective: objectives.Objective | None = None, recheck: bool = True) -> RunRecord:
    """Run ``cell`` in this process and return its record (never raises for optimizer failures).

    With ``warm_repeat``, a successful cold run of at most ``WARM_REPEAT_MAX_S`` is run once more right
    after, in the same process on the same objective with a fresh adapter, and that repeat's wall time
    is ``warm_wall_s`` (the record's values, trace and ``wall_s`` stay the cold run's). ``objective``:
    the cell's objective built beforehand (its construction then stays outside the run). ``recheck``:
    evaluate the returned point again after the run, saying in the message if it did not reproduce
    (off where every call of the objective is counted: a profile of the run)."""
    return run_instrumented(cell, with_reference=with_reference, warm_repeat=warm_repeat, objective=objective,
                            recheck=recheck)[0]


def run_instrumented(cell: Cell, *, with_reference: bool = True, warm_repeat: bool = False,
                     objective: objectives.Objective | None = None, trace: bool = False,
                     recheck: bool = True) -> tuple[RunRecord, Instrument]:
    """:func:`run_cell`, also returning the run's instrument (with ``trace``, its probe holds the
    timestamps of every evaluation, batch, phase and external block)."""
    base: dict[str, Any] = dict(objective=cell.objective, options=dict(cell.options), optimizer=cell.optimizer,
                optimizer_options=dict(cell.optimizer_options),
                budget={"max_evals": cell.budget.max_evals, "max_seconds": cell.budget.max_seconds},
                seed=cell.seed, versions=versions())
    construction_s = math.nan  # built beforehand by the caller: not measured here
    if objective is None:
        objective, construction_s = build(cell.objective, cell.options)
    base.update(describe(objective), option_defaults=declared(cell.objective).get("option_defaults"),
                construction_s=construction_s)
    refused = optimizers.misfit(cell.optimizer, cell.objective, base["family"])
    if refused:
        return RunRecord(**base, status="error", message=refused, wall_s=math.nan), Instrument(objective, cell.budget)
    instrument, wall_s, status, message, base["optimizer_options"] = _minimize(cell, objective, trace)
    point = value = None
    if instrument.best_x is not None:
        point = objective.space.decode(instrument.best_x)
        value = objective.exact_value(point)
    elif status == "ok":
        status = "error"
        message = f"no finite value found ({message})"
    if status == "ok" and cell.limit is not cell.budget and message == "wall-time budget reached":
        status = "capped"
        message = (f"capped at {cell.cap_s:g} s (a deadline's cap, not the budget) after {instrument.n_evals} of "
                   f"{cell.budget.max_evals} evaluations")
    if recheck and instrument.best_x is not None:
        message += _reproduced(objective, instrument.best_x, instrument.best_value)
    if instrument.n_nonfinite:
        message += f"; {instrument.n_nonfinite} non-finite value(s) replaced by the worst finite value"
    overrun_s = max(0.0, wall_s - (cell.budget.max_seconds or math.inf))
    if overrun_s > OVERRUN_NOTED_S:
        message += f"; overran the {cell.budget.max_seconds:g} s wall-time budget by {overrun_s:.3g} s"
    warm_wall_s = math.nan
    if warm_repeat and status == "ok":
        if wall_s <= WARM_REPEAT_MAX_S:
            warm_wall_s = _minimize(cell, objective).wall_s
        else:
            message += f"; warm repeat skipped (cold run {wall_s:.3g} s > {WARM_REPEAT_MAX_S:g} s)"
    device_s, item_wait_s, item_copy_s = instrument.device_split()
    record = RunRecord(
        **base, status=status, message=message, point=point, value=value, n_evals=instrument.n_evals,
        wall_s=wall_s, compute_s=instrument.compute_s, item_s=instrument.item_s,
        overhead_s=wall_s - instrument.compute_s - instrument.item_s, peak_mem_mb=peak_memory_mb(),
        trace=list(instrument.trace), phases_s=dict(instrument.phases_s),
        reference_value=(None if not with_reference else reference_value(cell.objective, cell.options, objective)
                         if cell.objective in objectives.REGISTRY else _value_of(objective.reference())),
        warm_wall_s=warm_wall_s, overrun_s=overrun_s, device_s=device_s, item_wait_s=item_wait_s,
        item_copy_s=item_copy_s,
    )
    return record, instrument


def _reproduced(objective: objectives.Objective, x: np.ndarray, seen: float) -> str:
    """The best point evaluated once more, after the run (not counted, not timed): ``""`` when it
    gives the value the run saw, within ``ROUNDING_ULPS`` of the result's float type (at least one
    unit: an absolute floor), else the message part saying it did not."""
    try:
        y = objective.compute(x)
        again = y.item()
    except Exception as exc:  # it evaluated during the run: one that fails now is not deterministic either
        return f"; {NOT_REPRODUCIBLE} the returned point evaluated again raised {type(exc).__name__}: {exc}"
    if abs(again - seen) <= ROUNDING_ULPS * _eps(y) * max(1.0, abs(again), abs(seen)):
        return ""
    return f"; {NOT_REPRODUCIBLE} the returned point evaluated again gave {again:.10g}, the run saw {seen:.10g}"


def _eps(y: Any) -> float:
    """The machine epsilon of a value's float type (a torch or numpy scalar); float64's otherwise."""
    for finfo in (torch.finfo, np.finfo):
        try:
            return float(finfo(y.dtype).eps)
        except (TypeError, ValueError, AttributeError):
            pass
    return float(np.finfo(np.float64).eps)


def _value_of(reference: objectives.Reference | None) -> float | None:
    return None if reference is None else reference.value


class _Attempt(NamedTuple):
    instrument: Instrument
    wall_s: float
    status: str
    message: str
    optimizer_options: dict[str, Any]


def _minimize(cell: Cell, objective: objectives.Objective, trace: bool = False) -> _Attempt:
    """One timed minimization of ``objective`` by a fresh adapter (options: its defaults filled in)."""
    adapter = optimizers.make(cell.optimizer, **cell.optimizer_options)
    adapter.prepare()
    instrument = Instrument(objective, cell.limit, trace=trace)
    status, message = "ok", ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        instrument.start()
        try:
            adapter.minimize(instrument, cell.seed)
            message = "optimizer finished"
        except BudgetExhausted as stop:
            message = stop.reason
        except Exception as exc:  # the optimizer or objective failed: keep what was found
            status = "error"
            message = f"{type(exc).__name__}: {exc}"
            tb = traceback.extract_tb(sys.exc_info()[2])[-1]
            message += f" (at {tb.filename.rsplit('/', 1)[-1]}:{tb.lineno})"
        wall_s = instrument.elapsed_s
    return _Attempt(instrument, wall_s, status, message, dict(adapter.options))


def validate(cell: Cell) -> None:
    """Raise now (``ObjectiveError`` / ``HarnessError``, one line) for an unknown name or option, or
    an optimizer that does not solve the objective's family; cheap: builds the adapter, not the
    objective (a function objective, whose family is per instance, is checked when it runs)."""
    objectives.coerced_options(cell.objective, cell.options)
    optimizers.make(cell.optimizer, **cell.optimizer_options)
    family = declared_family(cell.objective)
    refused = family is not None and optimizers.misfit(cell.optimizer, cell.objective, family)
    if refused:
        raise HarnessError(refused)


def declared_family(objective: str) -> str | None:
    """The family objective ``objective`` declares without being built; None for a function
    objective (its family is per instance)."""
    declared = objectives.declaration(objective)
    return None if declared is None else describe(declared, objective)["family"]


def describe(objective: objectives.Objective | type[objectives.Objective], name: str = "") -> dict[str, Any]:
    """The record fields an objective (or its class) declares about itself; the class falls back to
    its ``name``, else ``name`` given here."""
    return dict(family=objective.family or getattr(objective, "name", None) or name, gain=objective.gain,
                knowledge=objective.knowledge)


def warm_up(cell: Cell, evals: int = 10, objective: objectives.Objective | None = None) -> None:
    """Pay, outside any measurement, what only a process's first run of ``cell`` pays: the data and
    tensors (or ``objective``, built beforehand), the reference, the versions, the optimizer library
    and the imports it makes lazily on its first run (a run of ``evals`` evaluations)."""
    reference_value(cell.objective, cell.options, objective)
    versions()
    run_cell(replace(cell, budget=Budget(max_evals=evals)), with_reference=False, objective=objective)


def peak_memory_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def declared(name: str) -> dict[str, Any]:
    """:func:`describe`'s fields and ``option_defaults`` read from what objective ``name`` declares,
    without building it (no data, no tensors); empty when it cannot be told (an unknown name, a plain
    factory)."""
    try:
        declaration = objectives.declaration(name)
        defaults = objectives.option_defaults(name)
    except Exception:  # the record of a cell that could not run must still be written
        return {}
    return {"option_defaults": defaults, **({} if declaration is None else describe(declaration, name))}


def failed_record(cell: Cell, status: str, message: str) -> RunRecord:
    """A record for a cell that produced no result of its own (crash, timeout, interruption)."""
    return RunRecord(**declared(cell.objective),objective=cell.objective, options=dict(cell.options), optimizer=cell.optimizer,
                     optimizer_options=dict(cell.optimizer_options),
                     budget={"max_evals": cell.budget.max_evals, "max_seconds": cell.budget.max_seconds},
                     seed=cell.seed, status=status, message=message, versions=versions(),
                     value=None, wall_s=math.nan)
