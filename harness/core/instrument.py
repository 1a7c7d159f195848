"""The instrument: the one place where evaluations are counted, budgeted and timed.

Adapters call :meth:`Instrument.evaluate` / :meth:`Instrument.evaluate_batch` with points in the
space's *relaxed* encoding (see ``SearchSpace.relaxed_bounds``); the instrument snaps them into the
space, enforces the budget (the wall time is checked before and after each evaluation, batch and
named phase, so a run stops within one optimizer step of its limit), splits time into ``compute_s``
(the objective's tensor math, up to the host sync) and ``item_s`` (the ``.item()``/device-to-host
transfer), and keeps a best-so-far trace. With ``trace=True``, or on a CUDA objective, an
:class:`~optbench.harness.core.probe.EvalProbe` also records each evaluation's timestamps (for the
run's timeline) and, on a sample of evaluations, splits ``.item()`` into waiting for the device and
copying; otherwise nothing more is done per evaluation.

Non-finite objective values (documented policy, the same for every optimizer): the optimizer is
told the worst finite value seen so far in the run (``NONFINITE_FALLBACK`` if none yet), the point
can never become the best, and the run's message counts them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from optbench.harness.core.budget import Budget, BudgetExhausted
from optbench.harness.core.probe import EvalProbe, cuda_events, host_values
from optbench.objectives import Objective, ObjectiveError

NONFINITE_FALLBACK = 1e12
_NEG_INF = -math.inf
_isfinite = math.isfinite


class Instrument:
    """Wraps one objective for one run; see the module docstring for what it measures."""

    def __init__(self, objective: Objective, budget: Budget, clock=time.perf_counter, *, trace: bool = False,
                 device_events=None):
        """``device_events``: a factory of timing events (default: CUDA events where the objective
        declares a CUDA device, none on the CPU)."""
        self.objective = objective
        self.space = objective.space
        self.budget = budget
        self.lower, self.upper = self.space.relaxed_bounds()
        self._clock = clock
        self._compute: Callable[[np.ndarray], Any] = objective.compute
        self._max_evals = budget.max_evals if budget.max_evals is not None else math.inf
        self._max_seconds = budget.max_seconds if budget.max_seconds is not None else math.inf
        self.t_start = clock()
        self.n_evals = 0
        self.compute_s = 0.0
        self.item_s = 0.0
        self.n_nonfinite = 0
        self.worst_finite = -math.inf
        self.best_value = math.inf
        self.best_x: np.ndarray | None = None
        self.trace: list[tuple[int, float, float]] = []
        self.phases_s: dict[str, float] = {}
        self._compute_batch, self._host = objective.compute_batch, host_values
        events = device_events if device_events is not None else cuda_events(objective)
        self.probe: EvalProbe | None = None
        if trace or events is not None:
            self.probe = EvalProbe(objective.compute, objective.compute_batch, clock, trace=trace, events=events)
            self._compute, self._compute_batch, self._host = self.probe, self.probe.batch, self.probe.host

    def start(self) -> None:
        """Start the run's clock (call after the optimizer library is imported and set up)."""
        self.t_start = self._clock()

    @property
    def elapsed_s(self) -> float:
        return self._clock() - self.t_start

    @property
    def remaining_evals(self) -> int | None:
        return None if self.budget.max_evals is None else int(self._max_evals - self.n_evals)

    def _check_budget(self, now: float) -> None:
        if self.n_evals >= self._max_evals:
            raise BudgetExhausted("evaluation budget reached")
        self._check_time(now)

    def _check_time(self, now: float) -> None:
        if now - self.t_start >= self._max_seconds:
            raise BudgetExhausted("wall-time budget reached")

    def snap(self, x) -> np.ndarray:
        """Relaxed point(s) -> valid encoded point(s); NaN/inf from an optimizer is its error."""
        x = np.asarray(x, dtype=float)
        # x·x is finite for every finite point of sane size: one cheap check on the hot path.
        if not _isfinite(x.ravel().dot(x.ravel())) and not np.isfinite(x).all():
            raise ObjectiveError(f"optimizer proposed a non-finite point {x.tolist()}")
        return self.space.snap(x)

    def evaluate(self, x) -> float:
        """Evaluate one relaxed point; returns the value the optimizer should see."""
        return self.evaluate_encoded(self.snap(x))

    def evaluate_encoded(self, x: np.ndarray) -> float:
        """The timed core for one valid encoded point (kept small: it runs on every evaluation)."""
        clock = self._clock
        t0 = clock()
        self._check_budget(t0)
        y = self._compute(x)
        t1 = clock()
        value = y.item()
        t2 = clock()
        self.compute_s += t1 - t0
        self.item_s += t2 - t1
        self.n_evals += 1
        if _NEG_INF < value < self.best_value:
            self.best_value, self.best_x = value, x
            self.trace.append((self.n_evals, t2 - self.t_start, value))
        elif not _isfinite(value):
            return self._nonfinite()
        if value > self.worst_finite:
            self.worst_finite = value
        if t2 - self.t_start >= self._max_seconds:  # out of time: stop now, not after the optimizer's next step
            raise BudgetExhausted("wall-time budget reached")
        return value

    def evaluate_batch(self, xs) -> np.ndarray:
        """Evaluate k relaxed points in one objective call; counts k evaluations.

        If fewer than k evaluations remain, the first ones that fit are evaluated and recorded,
        then the budget is reported exhausted.
        """
        xs = self.snap(np.atleast_2d(xs))
        t0 = self._clock()
        self._check_budget(t0)
        remaining = self.remaining_evals
        cut = remaining is not None and len(xs) > remaining
        if cut:
            xs = xs[:remaining]
        y = self._compute_batch(xs)
        t1 = self._clock()
        values = self._host(y)
        t2 = self._clock()
        self.compute_s += t1 - t0
        self.item_s += t2 - t1
        if values.size != len(xs):  # k−1 or 2k values for k points would be counted as k−1 or 2k evaluations
            raise ObjectiveError(f"objective {getattr(self.objective, 'name', '?')!r}: compute_batch returned "
                                 f"shape {tuple(values.shape)} for {len(xs)} points (expected ({len(xs)},))")
        values = values.reshape(len(xs))
        out = values.copy()
        for i, v in enumerate(values):
            self.n_evals += 1
            if _NEG_INF < v < self.best_value:
                self.best_value, self.best_x = float(v), xs[i]
                self.trace.append((self.n_evals, t2 - self.t_start, float(v)))
            elif not _isfinite(v):
                out[i] = self._nonfinite()
                continue
            self.worst_finite = max(self.worst_finite, float(v))
        if cut:
            raise BudgetExhausted("evaluation budget reached")
        self._check_time(t2)
        return out

    @contextmanager
    def external(self, k: int) -> Iterator[None]:
        """Count ``k`` evaluations an optimizer computes outside the objective (a whole candidate
        grid through the objective's known structure) and time the block as compute. The budget is
        checked first; the optimizer then evaluates its answer here, so the best point stays ours."""
        t0 = self._clock()
        self._check_budget(t0)
        if k > self._max_evals - self.n_evals:
            raise BudgetExhausted(f"{k} evaluations needed at once, {self.remaining_evals} left in the budget")
        yield
        t1 = self._clock()
        self.compute_s += t1 - t0
        self.n_evals += k
        if self.probe is not None:
            self.probe.external(t0, t1, k)
        self._check_time(t1)

    def device_split(self) -> tuple[float, float, float]:
        """(device_s, item_wait_s, item_copy_s) estimated from the sampled evaluations; NaNs where
        none were sampled (the CPU)."""
        return self.probe.split.estimate(self.item_s) if self.probe is not None else (math.nan, math.nan, math.nan)

    def _nonfinite(self) -> float:
        self.n_nonfinite += 1
        return self.worst_finite if self.worst_finite > -math.inf else NONFINITE_FALLBACK

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Accumulate time of an optimizer's named phase (e.g. ``fit_gp``) into ``phases_s``; the wall
        time is checked before and after it (a slow step is not started, nor followed, out of time)."""
        t0 = self._clock()
        self._check_time(t0)
        try:
            yield
        finally:
            t1 = self._clock()
            self.phases_s[name] = self.phases_s.get(name, 0.0) + t1 - t0
            if self.probe is not None:
                self.probe.phase(name, t0, t1)
        self._check_time(t1)
