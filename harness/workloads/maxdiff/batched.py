"""Batched optimizers: many candidates per tensor pass, many problems per solve.

A *stack* evaluates candidates for P problems at once: ``evaluate(X)`` takes X of shape
(P, k, dim) in the box ``lower``/``upper`` and returns (P, k) values to minimize.
:class:`InstrumentStack` is one problem through the instrument (the normal adapter path: counted
and timed there); :class:`MaxDiffStack` is many MaxDiff problems as (P, k, days) tensors. Each
search is written once against a stack, so a problem solved alone and inside a stack take the same
steps. Random draws are shared by all problems of a stack for the same reason.
"""

from __future__ import annotations

import ctypes
import sys
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.objectives import Objective
from optbench.objectives.maxdiff import DayTensors, MaxDiffObjective, day_tensors, profit

CHUNK_ELEMS = 1 << 19  # elements per tensor pass (4 MB in float64): the fastest of 2^16 … 2^22 here
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters


def keep_freed_memory() -> None:
    """Let glibc keep freed memory for reuse (heap, not mmap, up to 32 MB; no trimming). A solve
    allocates MB-sized tensors over and over, and handing them back to the OS each time made page
    faults ~60 % of ``batched.exact``'s time (measured). Process-wide; a no-op without glibc."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None) if sys.platform.startswith("linux") else None
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        mallopt(_M_TRIM_THRESHOLD, 1 << 30)


@dataclass(frozen=True)
class Solutions:
    """What a batched solve returns: one encoded point per problem and the evaluations it took."""

    points: np.ndarray  # (P, dim)
    n_evals: np.ndarray  # (P,)


class BatchedAdapter(OptimizerAdapter):
    """An adapter that can also solve a list of MaxDiff problems at once (:meth:`solve_many`)."""

    def prepare(self) -> None:
        keep_freed_memory()

    @abstractmethod
    def solve_many(self, objectives: Sequence[Objective], seed: int) -> Solutions:
        """Best point found for each objective, searched in shared tensor passes."""


def maxdiff_objectives(objectives: Sequence[Objective]) -> list[MaxDiffObjective]:
    """The objectives, checked to be MaxDiff problems (what the stacked tensors are built from)."""
    bad = [repr(o) for o in objectives if not isinstance(o, MaxDiffObjective)]
    if bad:
        raise HarnessError(f"batched solving over problems needs MaxDiff objectives; got {bad[0]}")
    return [o for o in objectives if isinstance(o, MaxDiffObjective)]


def stack_days(objectives: Sequence[MaxDiffObjective], dtype: str) -> DayTensors:
    """The problems' day tensors as (P, n) tensors on their device (for one problem, views of its
    cached tensors: nothing here writes into them); shorter problems are padded with days whose
    positions are 0 (they add nothing). ``fee`` becomes a (P, 1) tensor."""
    device = objectives[0].options["device"]
    rows = [day_tensors(o.days, o.options["always_on"], device, dtype) for o in objectives]
    n = max(len(r.c) for r in rows)
    pad = lambda t: t if len(t) == n else torch.nn.functional.pad(t, (0, n - len(t)))  # noqa: E731
    join = torch.stack if len(rows) > 1 else (lambda ts: ts[0][None])  # noqa: E731
    fee = torch.tensor([[r.fee] for r in rows], dtype=rows[0].c.dtype, device=device)
    c, H, L, hp, lp, long, short = (join([pad(getattr(r, k)) for r in rows])
                                    for k in ("c", "H", "L", "hp", "lp", "long", "short"))
    return DayTensors(c, H, L, hp, lp, long, short, fee)


class InstrumentStack:
    """One problem through the instrument: every evaluation is counted, budgeted and timed there."""

    def __init__(self, problem: Instrument):
        self.problem, self.lower, self.upper, self.n_problems = problem, problem.lower, problem.upper, 1

    def evaluate(self, xs: np.ndarray) -> np.ndarray:
        return self.problem.evaluate_batch(xs[0])[None, :]


class MaxDiffStack:
    """Many MaxDiff problems (any mix of options) evaluated as (P, k, days) tensors, one pass per
    close policy, with the objectives' own device and dtype."""

    def __init__(self, objectives: Sequence[Objective], chunk_elems: int = CHUNK_ELEMS):
        objs = maxdiff_objectives(objectives)
        space = objs[0].space
        self.lower, self.upper, self.n_problems = space.lower, space.upper, len(objs)
        self.chunk_elems = chunk_elems
        self.n_evals = 0  # per problem
        self.groups = []  # (problem indices, close_at_eod, tensors shaped for ``profit``)
        for eod in (False, True):
            idx = [i for i, o in enumerate(objs) if o.close_at_eod == eod]
            if idx:
                d = stack_days([objs[i] for i in idx], objs[0].options["dtype"])
                col, row = (lambda t: t[:, None, :]), (lambda t: t[:, :, None])
                shaped = DayTensors(col(d.c), col(d.H), col(d.L), col(d.hp), col(d.lp), row(d.long),
                                    row(d.short), row(d.fee))
                self.groups.append((idx, eod, shaped))

    def evaluate(self, xs: np.ndarray) -> np.ndarray:
        """Values (−profit) of candidates xs (P, k, 2), clipped into the box like the instrument does."""
        xs = np.clip(xs, self.lower, self.upper)
        self.n_evals += xs.shape[1]
        out = np.empty(xs.shape[:2])
        for idx, eod, d in self.groups:
            x = torch.as_tensor(xs[idx], dtype=d.c.dtype, device=d.c.device)
            rows = max(1, self.chunk_elems // (len(idx) * d.c.shape[-1]))
            with torch.inference_mode():
                values = [-profit(part[..., :1], part[..., 1:], d, eod)[..., 0] for part in x.split(rows, dim=1)]
                out[idx] = torch.cat(values, dim=1).cpu().numpy()
        return out
