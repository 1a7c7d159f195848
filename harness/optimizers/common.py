"""Helpers shared by the library adapters: budget sizing, the unit box, seeding torch, warnings.

Encoding of mixed spaces for libraries without native integer/categorical parameters: they search
the continuous *relaxed* box ``space.relaxed_bounds()`` (each integer/categorical axis widened by
0.5 on both sides) and the instrument's ``snap`` rounds every proposed point to the nearest valid
value, so each integer or choice owns an equal share of the box.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from optbench.harness.core.budget import LIBRARY_MAX_EVALS
from optbench.harness.core.instrument import Instrument


def eval_budget(problem: Instrument) -> int:
    """Evaluations a library should plan for: what is left of the budget, or the default for
    time-only budgets, at most a C int. Only for sizing the library's own limits; the instrument
    enforces the budget."""
    remaining = problem.remaining_evals
    return min(problem.budget.evals_or_default if remaining is None else max(int(remaining), 1), LIBRARY_MAX_EVALS)


def bounds_list(problem: Instrument) -> list[tuple[float, float]]:
    """The relaxed box as ``[(low, high), ...]``, the form scipy takes."""
    return list(zip(problem.lower.tolist(), problem.upper.tolist()))


class UnitBox:
    """Affine map between the unit cube ``[0, 1]^d`` and the problem's relaxed box.

    Used where a library wants one scale for every axis (a GP's inputs, a scalar step size).
    """

    def __init__(self, problem: Instrument):
        self.lower = problem.lower
        self.width = problem.upper - problem.lower

    def to_box(self, u: np.ndarray) -> np.ndarray:
        """Unit-cube point(s) to the relaxed box; points outside the cube are clipped onto it."""
        return self.lower + np.clip(u, 0.0, 1.0) * self.width

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.lower) / self.width


@contextmanager
def seeded_torch(seed: int) -> Iterator[None]:
    """Seed torch's global CPU generator inside the block and restore its state afterwards."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextmanager
def ignoring(*categories: type[Warning]) -> Iterator[None]:
    """Silence the given warning categories (library chatter that must stay out of reports)."""
    with warnings.catch_warnings():
        for category in categories:
            warnings.simplefilter("ignore", category)
        yield
