"""EvoTorch evolution strategies (CMA-ES, SNES), each generation evaluated in one batch.

The search runs in the unit cube mapped onto the relaxed box (see ``common``), so one scalar
``stdev_init`` fits every axis (0.25 = a quarter of each axis' range). evotorch 0.6.1's SNES/CMAES
refuse a bounded ``Problem``, so the
problem only has ``initial_bounds`` = the unit cube and the box is handled by *clipping*: a sample
outside the cube is evaluated at its projection onto it (no penalty); the run's best point is
always inside the box.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.harness.optimizers.common import UnitBox, ignoring


class _EvotorchAdapter(OptimizerAdapter):
    """Steps an evotorch searcher (``searcher_name`` in ``evotorch.algorithms``) until the budget ends."""

    library = "evotorch"
    searcher_name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {"popsize": None, "stdev_init": 0.25}
    ranges = {"popsize": (2, None), "stdev_init": (1e-12, None)}

    def prepare(self) -> None:
        import logging

        # evotorch logs every Problem it builds (INFO) and, when the root logger is configured,
        # warns at import that its own logging setup was skipped: keep both out of the output.
        logger = logging.getLogger("evotorch")
        logger.setLevel(logging.ERROR)
        with ignoring(DeprecationWarning):  # torch.jit.script deprecation at import
            import evotorch.algorithms  # noqa: F401  (imports ray: ~5 s, kept before the clock starts)

        logger.setLevel(logging.WARNING)

    def minimize(self, problem: Instrument, seed: int) -> None:
        import torch
        from evotorch import Problem, algorithms

        box = UnitBox(problem)

        def fitness(u: torch.Tensor) -> torch.Tensor:
            return torch.as_tensor(problem.evaluate_batch(box.to_box(u.detach().cpu().numpy())))

        target = Problem("min", fitness, solution_length=problem.space.dim, initial_bounds=(0.0, 1.0),
                         vectorized=True, dtype=torch.float64, seed=seed)
        options = {k: v for k, v in self.options.items() if v is not None}
        if "popsize" in options:
            options["popsize"] = int(options["popsize"])
        searcher = getattr(algorithms, self.searcher_name)(target, **options)
        while True:
            searcher.step()


class CMAES(_EvotorchAdapter):
    """evotorch's CMA-ES (``evotorch.algorithms.CMAES``)."""

    name = "evotorch.cmaes"
    searcher_name = "CMAES"


class SNES(_EvotorchAdapter):
    """Separable natural evolution strategy (``evotorch.algorithms.SNES``)."""

    name = "evotorch.snes"
    searcher_name = "SNES"
