"""optbench's harness: run optimizers on objectives, measure, store, report and decide.

``harness.recommended(kind, preset)`` returns the shipped decision (see ``harness.recommend``).
"""

from optbench.harness.recommend import Recommendation, recommended

__all__ = ["Recommendation", "recommended"]
