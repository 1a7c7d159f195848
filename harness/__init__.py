"""optbench's harness: run optimizers on objectives, measure, store, report and decide.

``optbench.recommended(kind, preset)`` (also here) returns the shipped decision (see ``optbench.harness.recommend``).
"""

from optbench.harness.recommend import Recommendation, recommended

__all__ = ["Recommendation", "recommended"]
