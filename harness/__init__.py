"""optbench's harness: run optimizers on objectives, measure, store, report and decide.

``optbench.recommended(kind, preset)`` (also here) returns the shipped decision (see ``optbench.harness.decision.recommend``).
"""

from optbench.harness.decision.recommend import Recommendation, recommended

__all__ = ["Recommendation", "recommended"]
