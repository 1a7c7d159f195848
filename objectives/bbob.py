"""The 24 noiseless BBOB functions (COCO's ``bbob`` suite), evaluated by the ``ioh`` package.

Each (function, dimension, instance) is one COCO problem: a rotated, shifted, possibly
ill-conditioned or multimodal function on [−5, 5]^d whose optimum x_opt and f_opt the instance
fixes. The value minimized here is the *precision* ``f(x) − f_opt`` (≥ 0, 0 at x_opt): the
quantity COCO's targets 10^2 … 10^−8 are stated in, so optbench's regret targets and COCO's
coincide and ``optbench export --format coco`` writes it unchanged. ``ioh`` and COCO's own
``cocoex`` compute the same values (checked in tests/objectives/test_bbob.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from optbench.objectives.base import FloatParam, Objective, ObjectiveError, Reference, SearchSpace

N_FUNCTIONS = 24
MAX_DIM = 100
#: One function from each of COCO's five groups (separable, low/moderate conditioning, high
#: conditioning, multimodal with global structure, multimodal with weak structure), in 2 and 5-D.
REPRESENTATIVE_FUNCTIONS = (1, 8, 10, 15, 21)
COCO_INSTANCES = 15  # the instances of COCO's bbob suite


class BBOBObjective(Objective):
    """BBOB function ``function`` (1–24), instance ``instance``, in ``dim`` dimensions; value f − f_opt."""

    family = "bbob"
    name = "bbob"

    option_help = {
        "function": "BBOB function number, 1 … 24 (1 sphere, 8 Rosenbrock, 15 Rastrigin, …)",
        "dim": f"number of dimensions, 2 … {MAX_DIM} (COCO uses 2, 3, 5, 10, 20, 40)",
        "instance": "instance number ≥ 1: fixes the optimum's location and value, the rotations",
    }

    def __init__(self, function: int = 1, dim: int = 2, instance: int = 1):
        import ioh

        function, dim, instance = int(function), int(dim), int(instance)
        if not 1 <= function <= N_FUNCTIONS:
            raise ObjectiveError(f"function={function!r} is out of range [1, {N_FUNCTIONS}]")
        if not 2 <= dim <= MAX_DIM:
            raise ObjectiveError(f"dim={dim!r} is out of range [2, {MAX_DIM}]")
        if not 1 <= instance <= 1_000_000:
            raise ObjectiveError(f"instance={instance!r} is out of range [1, 1000000]")
        self.options = dict(function=function, dim=dim, instance=instance)
        self.space = SearchSpace(tuple(FloatParam(f"x{i}", -5.0, 5.0) for i in range(dim)))
        self.problem = ioh.get_problem(function, instance, dim, ioh.ProblemClass.BBOB)
        self.f_opt = float(self.problem.optimum.y)
        self.x_opt = np.array(self.problem.optimum.x, dtype=float)

    def __reduce__(self) -> tuple[Any, ...]:
        return BBOBObjective, (self.options["function"], self.options["dim"], self.options["instance"])

    def compute(self, x: np.ndarray) -> torch.Tensor:
        # scalar_tensor: 1.5 µs with .item(), against 5 µs for torch.tensor (measured)
        return torch.scalar_tensor(self.problem(x) - self.f_opt, dtype=torch.float64)

    def compute_batch(self, xs: np.ndarray) -> torch.Tensor:
        # ioh evaluates a (k, dim) array in one C++ call (~0.5 µs per point, measured)
        return torch.as_tensor(np.asarray(self.problem(xs), dtype=float) - self.f_opt)

    def reference(self) -> Reference:
        return Reference(0.0, self.space.decode(self.x_opt))

    @classmethod
    def instances(cls) -> list[dict[str, Any]]:
        """COCO's instances 1 … 15 of the function and dimension given (optimum moved, rotations redrawn)."""
        return [{"instance": i} for i in range(1, COCO_INSTANCES + 1)]

    @classmethod
    def variants(cls) -> list[dict[str, Any]]:
        return [dict(function=f, dim=d) for d in (2, 5) for f in REPRESENTATIVE_FUNCTIONS]
