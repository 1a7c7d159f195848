"""BoTorch Bayesian optimization: a Sobol initial design, then SingleTaskGP + qLogExpectedImprovement.

The GP sees the unit cube mapped onto the relaxed box (see ``common``); it is trained on the
*snapped* points, so on mixed spaces it models the values actually evaluated. The time spent
fitting the GP and optimizing the acquisition function is recorded as the phases ``fit_gp`` and
``optimize_acqf``. Small ``num_restarts`` / ``raw_samples`` defaults keep each step bounded in time;
a step still costs ~0.1–1 s, so give it small budgets (tens of evaluations) or a ``--seconds`` limit.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.harness.optimizers.common import UnitBox, ignoring, seeded_torch


class QLogEI(OptimizerAdapter):
    """``n_init`` Sobol points, then ``q`` candidates per step maximizing qLogEI under a fresh GP fit."""

    name = "botorch.qlogei"
    library = "botorch"
    defaults: ClassVar[dict[str, Any]] = {"n_init": 8, "q": 1, "num_restarts": 2, "raw_samples": 64}
    ranges = {"n_init": (1, None), "q": (1, None), "num_restarts": (1, None), "raw_samples": (1, None)}

    def prepare(self) -> None:
        with ignoring(DeprecationWarning):  # torch.jit.script deprecation at import
            import botorch.acquisition.logei  # noqa: F401  (the heavy imports, before the clock starts)
            import botorch.fit  # noqa: F401
            import botorch.models  # noqa: F401
            import botorch.optim  # noqa: F401
            import gpytorch.mlls  # noqa: F401

    def minimize(self, problem: Instrument, seed: int) -> None:
        import torch
        from botorch.exceptions.warnings import BotorchWarning
        from torch.quasirandom import SobolEngine

        box, opts = UnitBox(problem), self.options
        with seeded_torch(seed), ignoring(BotorchWarning, RuntimeWarning, UserWarning):
            u0 = SobolEngine(problem.space.dim, scramble=True, seed=seed).draw(opts["n_init"], dtype=torch.float64)
            X, Y = self._evaluate(problem, box, u0.numpy())
            while True:
                u = self._next_candidates(problem, X, Y)
                X_new, Y_new = self._evaluate(problem, box, u)
                X, Y = np.vstack([X, X_new]), np.concatenate([Y, Y_new])

    @staticmethod
    def _evaluate(problem: Instrument, box: UnitBox, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate unit-cube candidates; returns the snapped points (unit cube) and their values."""
        x = problem.snap(box.to_box(u))
        return box.to_unit(x), problem.evaluate_batch(x)

    def _next_candidates(self, problem: Instrument, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        import torch
        from botorch.acquisition.logei import qLogExpectedImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms.outcome import Standardize
        from botorch.optim import optimize_acqf
        from gpytorch.mlls import ExactMarginalLogLikelihood

        train_x = torch.as_tensor(X)
        train_y = -torch.as_tensor(Y)[:, None]  # BoTorch maximizes
        with problem.phase("fit_gp"):
            gp = SingleTaskGP(train_x, train_y, outcome_transform=Standardize(m=1))
            fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
        with problem.phase("optimize_acqf"):
            acqf = qLogExpectedImprovement(gp, best_f=train_y.max())
            unit = torch.stack([torch.zeros(X.shape[1]), torch.ones(X.shape[1])]).to(train_x)
            candidates, _ = optimize_acqf(acqf, bounds=unit, q=self.options["q"],
                                          num_restarts=self.options["num_restarts"],
                                          raw_samples=self.options["raw_samples"])
        return candidates.detach().numpy()
