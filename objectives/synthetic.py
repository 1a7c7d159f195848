"""Shifted standard test functions on [−5, 5]^d with a seeded optimum x* and f* = 0 (docs/objectives.md).

The ``work`` knob makes each evaluation compute the function on ``work`` identical rows of a
cached tensor and return the first, so cost grows linearly while values do not change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from optbench.objectives.base import FloatParam, Objective, ObjectiveError, Reference, SearchSpace

# Styblinski–Tang's per-axis minimizer: the root of 4y³ − 32y + 5 = 0 near −2.9035.
_ST_Y = float(min(np.roots([4.0, 0.0, -32.0, 5.0]).real))
_ST_MIN = 0.5 * (_ST_Y**4 - 16 * _ST_Y**2 + 5 * _ST_Y)


def _sphere(z: torch.Tensor) -> torch.Tensor:
    return (z * z).sum(-1)


def _ellipsoid(z: torch.Tensor) -> torch.Tensor:
    d = z.shape[-1]
    w = 10.0 ** (6.0 * torch.arange(d, dtype=z.dtype) / max(d - 1, 1))
    return (w * z * z).sum(-1)


def _rosenbrock(z: torch.Tensor) -> torch.Tensor:
    y = z + 1.0
    return (100.0 * (y[..., 1:] - y[..., :-1] ** 2) ** 2 + (1.0 - y[..., :-1]) ** 2).sum(-1)


def _rastrigin(z: torch.Tensor) -> torch.Tensor:
    return 10.0 * z.shape[-1] + (z * z - 10.0 * torch.cos(2 * math.pi * z)).sum(-1)


def _ackley(z: torch.Tensor) -> torch.Tensor:
    a = -20.0 * torch.exp(-0.2 * torch.sqrt((z * z).mean(-1)))
    return a - torch.exp(torch.cos(2 * math.pi * z).mean(-1)) + 20.0 + math.e


def _styblinski_tang(z: torch.Tensor) -> torch.Tensor:
    y = z + _ST_Y
    return 0.5 * (y**4 - 16 * y**2 + 5 * y).sum(-1) - _ST_MIN * z.shape[-1]


FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sphere": _sphere,
    "ellipsoid": _ellipsoid,
    "rosenbrock": _rosenbrock,
    "rastrigin": _rastrigin,
    "ackley": _ackley,
    "styblinski_tang": _styblinski_tang,
}


class SyntheticObjective(Objective):
    """A shifted test function (``kind`` in FUNCTIONS) with ``dim``, ``seed`` and ``work`` options."""

    family = "synthetic"

    option_help = {
        "dim": "number of dimensions (1 … 1000; rosenbrock needs ≥ 2)",
        "seed": "seed of the optimum location x* in [−4, 4]^dim (int)",
        "work": "rows computed per evaluation, the cost knob (1 … 10 000 000)",
    }

    def __init__(self, kind: str, dim: int = 2, seed: int = 0, work: int = 1):
        if kind not in FUNCTIONS:
            raise ObjectiveError(f"synthetic function {kind!r} is unknown; allowed: {list(FUNCTIONS)}")
        min_dim = 2 if kind == "rosenbrock" else 1
        if not min_dim <= int(dim) <= 1000:
            raise ObjectiveError(f"dim={dim!r} is out of range [{min_dim}, 1000] for {kind}")
        if not 1 <= int(work) <= 10_000_000:
            raise ObjectiveError(f"work={work!r} is out of range [1, 10000000]")
        self.name = kind
        self.options = dict(dim=int(dim), seed=int(seed), work=int(work))
        self.space = SearchSpace(tuple(FloatParam(f"x{i}", -5.0, 5.0) for i in range(int(dim))))
        self.x_star = np.random.default_rng(int(seed)).uniform(-4.0, 4.0, int(dim))
        self._fn = FUNCTIONS[kind]
        self._x_star_t = torch.as_tensor(self.x_star)
        self._rows = torch.ones(int(work), 1, dtype=torch.float64)  # the cached "work" tensor

    def compute(self, x: np.ndarray) -> torch.Tensor:
        z = self._rows * (torch.as_tensor(x) - self._x_star_t)  # (work, dim), identical rows
        return self._fn(z)[0]

    def compute_batch(self, xs: np.ndarray) -> torch.Tensor:
        z = torch.as_tensor(xs)[:, None, :] - self._x_star_t  # (k, 1, dim)
        return self._fn(self._rows * z)[:, 0]

    @classmethod
    def variants(cls) -> list[dict[str, Any]]:
        """Ten optimum locations (seeds 0 … 9)."""
        return [{"seed": seed} for seed in range(10)]

    def reference(self) -> Reference:
        point = self.space.decode(self.x_star)
        return Reference(0.0, point)
