"""``optbench.minimize``: run the decided (or a named) optimizer on a function or an Objective, in this
process, with no store — what production code calls once per problem.

A plain function is called the way ``optbench.objective`` documents (one keyword argument per
parameter). Its scalar evaluations take a lean path (:class:`_Calls`): the function is called
directly, its result converted with ``float``; no tensor, no timing split, no trace. Counting, the
budget, snapping into the box and the non-finite policy are the instrument's.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FunctionType
from typing import TYPE_CHECKING, Any

from optbench.harness.core.budget import Budget, BudgetExhausted
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.instrument import Instrument

if TYPE_CHECKING:
    from optbench.harness.decision.recommend import Recommendation
    from optbench.objectives import Objective

_isfinite = math.isfinite


@dataclass(frozen=True)
class MinimizeResult:
    """The best point found and how it was found; ``optimizer`` is the one whose run this is (the
    fallback when the first raised: ``failed`` then maps the first to its error)."""

    point: dict[str, Any]
    value: float
    n_evals: int
    wall_s: float
    optimizer: str
    optimizer_options: dict[str, Any] = field(default_factory=dict)
    message: str = ""  # why the run stopped
    failed: dict[str, str] = field(default_factory=dict)


def minimize(fn_or_objective: Callable[..., Any] | Objective, bounds: Mapping[str, Any] | None = None, *,
             optimizer: str | None = None, recommendation: Recommendation | None = None,
             options: Mapping[str, Any] | None = None, max_evals: int | None = None,
             max_seconds: float | None = None, seed: int = 0, fallback: str | None = None) -> MinimizeResult:
    """Minimize a function over ``bounds`` (as ``optbench.objective`` takes them) or an ``Objective``
    with ``optimizer`` (or the ``recommendation``'s optimizer, options and budget; ``options``,
    ``max_evals`` and ``max_seconds`` given here override it). If the optimizer raises, ``fallback``
    runs under the same budget; without one, or if it raises too, the exception propagates."""
    from optbench.harness import optimizers

    objective = _objective(fn_or_objective, bounds)
    name, chosen_options, budget = _choice(optimizer, recommendation, options, max_evals, max_seconds)
    names = [name] if fallback is None else [name, fallback]
    adapters = [optimizers.make(n, **(chosen_options if n == name else {})) for n in names]  # bad names fail first
    failed: dict[str, str] = {}
    for i, (run_name, adapter) in enumerate(zip(names, adapters)):
        try:
            return _run(objective, run_name, adapter, budget, seed, failed)
        except Exception as exc:
            if i == len(names) - 1:
                for first, why in failed.items():
                    exc.add_note(f"optbench.minimize: {first} had raised first: {why}")
                raise
            failed[run_name] = f"{type(exc).__name__}: {exc}"
    raise AssertionError("unreachable")  # pragma: no cover  (the loop returns or raises)


def _objective(fn_or_objective: Any, bounds: Mapping[str, Any] | None) -> Objective:
    from optbench.objectives import Objective, objective

    if isinstance(fn_or_objective, Objective):
        if bounds is not None:
            raise HarnessError("optbench.minimize: an Objective carries its own space; give bounds only with a "
                               "plain function")
        return fn_or_objective
    if not callable(fn_or_objective):
        raise HarnessError(f"optbench.minimize needs a function or an Objective, got "
                           f"{type(fn_or_objective).__name__}")
    if not isinstance(bounds, Mapping):
        raise HarnessError("optbench.minimize: a plain function needs bounds={name: (low, high) or [choices], ...}, "
                           f"got {bounds!r}")
    return objective(fn_or_objective, bounds)


def _choice(optimizer: str | None, recommendation: Recommendation | None, options: Mapping[str, Any] | None,
            max_evals: int | None, max_seconds: float | None) -> tuple[str, dict[str, Any], Budget]:
    """The optimizer, its options and the budget, from the arguments over the recommendation."""
    if (optimizer is None) == (recommendation is None):
        raise HarnessError("optbench.minimize: give exactly one of optimizer='NAME' or "
                           "recommendation=optbench.recommended(...)")
    if recommendation is not None:
        optimizer, base, shipped = recommendation.optimizer, dict(recommendation.optimizer_options), recommendation.budget
        if max_evals is None and max_seconds is None:
            max_evals, max_seconds = shipped.get("max_evals"), shipped.get("max_seconds")
    else:
        base = {}
    if max_evals is None and max_seconds is None:
        raise HarnessError("optbench.minimize: give max_evals and/or max_seconds (or a recommendation with a budget)")
    assert optimizer is not None
    return optimizer, {**base, **(options or {})}, Budget(max_evals, max_seconds)


def _run(objective: Objective, name: str, adapter: Any, budget: Budget, seed: int,
         failed: dict[str, str]) -> MinimizeResult:
    from optbench.objectives import FunctionObjective, Objective

    adapter.prepare()
    lean = type(objective) is FunctionObjective and not objective.batched  # a subclass may compute otherwise
    instrument = _Calls(objective, budget, in_box=adapter.keeps_in_box) if lean else Instrument(objective, budget)
    message = "optimizer finished"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        instrument.start()
        try:
            adapter.minimize(instrument, seed)
        except BudgetExhausted as stop:
            message = stop.reason
        wall_s = instrument.elapsed_s
    if instrument.best_x is None:
        raise HarnessError(f"{name} found no finite value in {instrument.n_evals} evaluation(s) ({message})")
    point = objective.space.decode(instrument.best_x)
    # an objective with its own exact definition (float64 re-evaluation) reports that, as a run does
    exact = type(objective).exact_value is not Objective.exact_value
    value = objective.exact_value(point) if exact else float(instrument.best_value)
    return MinimizeResult(point, value, instrument.n_evals, wall_s, name, dict(adapter.options), message, dict(failed))


class _Calls(Instrument):
    """The instrument for a plain scalar function: ``evaluate`` calls it directly (see the module
    docstring); batches and everything else go through the instrument as usual. ``in_box``: the
    optimizer's points are known to lie in the box, so they are not checked one by one."""

    def __init__(self, objective: Any, budget: Budget, *, in_box: bool = False):
        super().__init__(objective, budget)
        self.evaluate = _evaluator(self, objective.fn, in_box)  # type: ignore[method-assign,assignment]


def _evaluator(instrument: Instrument, fn: Callable[..., Any], in_box: bool) -> Callable[[Any], float]:
    """``instrument.evaluate`` for a plain function ``fn``: a closure, the run's constants in its
    cells rather than looked up on the instance. Floats in bounds order that match ``fn``'s first
    parameters are passed positionally (a keyword call alone costs ~0.4 µs), unchecked when
    ``in_box`` (the check costs ~0.3 µs). A wall-time budget wraps it in a clock check on each side."""
    space, max_evals, nonfinite = instrument.space, instrument._max_evals, instrument._nonfinite
    positional = space.is_continuous and _takes_in_order(fn, tuple(space.names))
    lower, upper, decode, snap = space.lower.tolist(), space.upper.tolist(), space.decode, instrument.snap
    checked = not in_box

    def evaluate(x: Any) -> float:
        n = instrument.n_evals
        if n >= max_evals:
            raise BudgetExhausted("evaluation budget reached")
        if positional:
            try:
                values = x.tolist()
            except AttributeError:  # a sequence, not an array
                values = [float(v) for v in x]
            if checked:
                for v, lo, hi in zip(values, lower, upper):
                    if not lo <= v <= hi:  # also False for NaN: snap clips, or raises for a non-finite point
                        values = snap(values).tolist()
                        break
            value = float(fn(*values))
        else:
            values = snap(x)
            value = float(fn(**decode(values)))
        instrument.n_evals = n + 1
        if -math.inf < value < instrument.best_value:
            instrument.best_value, instrument.best_x = value, values
        elif not _isfinite(value):
            return nonfinite()
        if value > instrument.worst_finite:
            instrument.worst_finite = value
        return value

    if instrument.budget.max_seconds is None:
        return evaluate
    check_time, clock = instrument._check_time, instrument._clock

    def timed_evaluate(x: Any) -> float:
        check_time(clock())
        value = evaluate(x)
        check_time(clock())
        return value

    return timed_evaluate


def _takes_in_order(fn: Callable[..., Any], names: tuple[str, ...]) -> bool:
    """Whether ``fn(*values)`` means ``fn(**dict(zip(names, values)))``. A plain function's code
    object says so directly (``inspect.signature`` costs ~10 µs a call)."""
    code = getattr(fn, "__code__", None)
    if type(fn) is FunctionType and code is not None and not hasattr(fn, "__wrapped__"):
        return (code.co_posonlyargcount == 0 and code.co_argcount >= len(names)
                and code.co_varnames[:len(names)] == names)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # no signature to read (some builtins): call by keyword
        return False
    first = params[:len(names)]
    return len(first) == len(names) and all(p.kind is p.POSITIONAL_OR_KEYWORD and p.name == name
                                            for p, name in zip(first, names))
