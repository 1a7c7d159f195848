"""The evaluation and wall-time budget that every optimizer runs under."""

from __future__ import annotations

from dataclasses import dataclass

from optbench.harness.core.errors import HarnessError

MAX_EVALS = 10**12  # far beyond any run here (libraries are told at most LIBRARY_MAX_EVALS, see eval_budget)
LIBRARY_MAX_EVALS = 2**31 - 1  # the C int that scipy's DIRECT and others count evaluations in
MAX_SECONDS = 30 * 24 * 3600.0  # a month per cell


@dataclass(frozen=True)
class Budget:
    """At most ``max_evals`` evaluations and/or ``max_seconds`` of wall time (at least one is set)."""

    max_evals: int | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.max_evals is None and self.max_seconds is None:
            raise HarnessError("a budget needs max_evals and/or max_seconds")
        if self.max_evals is not None and (isinstance(self.max_evals, bool) or int(self.max_evals) != self.max_evals
                                           or not 0 < self.max_evals <= MAX_EVALS):
            raise HarnessError(f"budget max_evals={self.max_evals!r} must be an integer from 1 to {MAX_EVALS:,}")
        if self.max_seconds is not None and not (0 < self.max_seconds <= MAX_SECONDS):  # False for NaN too
            raise HarnessError(f"budget max_seconds={self.max_seconds!r} must be a number of seconds "
                               f"above 0 and at most {MAX_SECONDS:.0f} (30 days)")

    @property
    def evals_or_default(self) -> int:
        """Evaluation count adapters size themselves for when only a time limit is given."""
        return int(self.max_evals) if self.max_evals is not None else 100_000


class BudgetExhausted(Exception):
    """Raised inside an optimizer's loop when the run may evaluate no more points."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
