"""``Estimate``: a point estimate with its interval — the one type the statistics, the report and the
decision share (no numpy or scipy here, so the decision reads cheaply)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IntervalKind = Literal["CI", "range"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with an interval ``[low, high]`` (all NaN without data): a bootstrap
    confidence interval (``kind == "CI"``) or, with few samples, their plain range (``"range"``)."""

    value: float
    low: float
    high: float
    kind: IntervalKind = "CI"

    def overlaps(self, other: Estimate) -> bool:
        """True when the two intervals share at least one point."""
        return self.low <= other.high and other.low <= self.high
