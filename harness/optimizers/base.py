"""The optimizer adapter interface: one thin subclass per library, registered by name.

An adapter drives its library until the library stops or the instrument raises
``BudgetExhausted``. It never measures time or keeps the best point: the instrument does both,
so every optimizer is measured the same way.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from optbench.harness.core.budget import LIBRARY_MAX_EVALS
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.instrument import Instrument
from optbench.options import coerce_option

Range = tuple[float | None, float | None]  # inclusive lower and upper bound; None: unbounded


class OptimizerAdapter(ABC):
    """Base class: declares ``defaults`` (every accepted option), ``ranges`` (the allowed values of its
    numeric options), ``requires`` (the one objective family it solves, if it is not general) and
    implements :meth:`minimize`."""

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    ranges: ClassVar[dict[str, Range]] = {}
    seedable: ClassVar[bool] = True
    #: Whether every point the library proposes lies in the box (``minimize``'s lean path then skips
    #: its per-evaluation bounds check); a test holds each adapter that claims it to it.
    keeps_in_box: ClassVar[bool] = False
    library: ClassVar[str] = "optbench"
    #: The objective family this adapter solves (it uses that family's structure); "" for any objective.
    requires: ClassVar[str] = ""

    def __init__(self, **options: Any):
        unknown = [k for k in options if k not in self.defaults]
        if unknown:
            raise HarnessError(f"unknown option(s) {unknown} for optimizer {self.name!r}; "
                               f"allowed: {list(self.defaults) or 'none'}")
        self.options = {**self.defaults, **{k: coerce_option(f"optimizer {self.name!r}", k, v, self.defaults[k], HarnessError)
                                             for k, v in options.items()}}
        for key in options:
            _check_range(self.name, key, self.options[key], self.ranges.get(key, (None, None)))

    def prepare(self) -> None:  # noqa: B027  (optional hook: most adapters need no setup)
        """Import the library and do one-off setup; runs before the clock starts."""

    @abstractmethod
    def minimize(self, problem: Instrument, seed: int) -> None:
        """Search ``problem`` (evaluate via the instrument) until done or out of budget."""


def _check_range(optimizer: str, key: str, value: Any, bounds: Range) -> None:
    """A numeric option must be finite and inside its declared range; no integer option may exceed
    ``LIBRARY_MAX_EVALS`` (libraries take counts as C ints: a larger one overflows inside the run)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    lo, hi = bounds
    if isinstance(value, int) and hi is None:
        hi = LIBRARY_MAX_EVALS
    if not math.isfinite(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
        allowed = " and ".join(filter(None, (f"≥ {lo:,}" if lo is not None else "",
                                              f"≤ {hi:,}" if hi is not None else ""))) or "finite"
        raise HarnessError(f"option {key}={value!r} of optimizer {optimizer!r} is out of range; allowed: {allowed}")
