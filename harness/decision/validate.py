"""Held-out validation of a decision: the choice is made on a seeded share of a class's instances
(the training instances) and checked on the others, which the choice never saw.

The shipped configuration's held-out quality (mean over the held-out instances), its rank among the
candidates there (1 = best), the held-out best and the regret (held-out best's quality − the
shipped one's). The choice *held* when the regret is within the rule's tolerance of the held-out
best (``tolerance``·|best|); otherwise it *did not hold*, and the one-sided signed-rank test paired
by held-out instance says whether the held-out best is significantly better (with few held-out
instances it cannot be: the smallest p ``n`` pairs can give is ``2^-n``). One instance cannot be split: the decision
is then not validated, and says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from optbench.harness.decision.model import Validation, ValidationStatus
from optbench.harness.report import paired

if TYPE_CHECKING:
    from optbench.harness.decision.decide import Candidate

AUTO_MIN_INSTANCES = 6  # the default holdout (1/3) applies from this many instances on; below, none
AUTO_FRACTION = 1 / 3
HELD: ValidationStatus = "held"
NOT_HELD: ValidationStatus = "did not hold"
NOT_VALIDATED: ValidationStatus = "not validated"


def fraction_for(n_instances: int, holdout: float | None) -> float:
    """The holdout fraction to use: ``holdout`` as given, else 1/3 from 6 instances on, else 0."""
    if holdout is None:
        return AUTO_FRACTION if n_instances >= AUTO_MIN_INSTANCES else 0.0
    return holdout


def split(instances: Sequence[str], fraction: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """(training, held-out) instances, both sorted: ``round(fraction · n)`` held out, at least one of
    each when ``fraction > 0`` and there are two or more; a seeded choice."""
    names = sorted(instances)
    if fraction <= 0 or len(names) < 2:
        return names, []
    k = min(max(1, round(fraction * len(names))), len(names) - 1)
    held = {names[i] for i in np.random.default_rng(seed).choice(len(names), size=k, replace=False)}
    return [n for n in names if n not in held], [n for n in names if n in held]


def unvalidated(n_instances: int, fraction: float) -> Validation:
    """The validation entry of a decision made on every instance."""
    why = ("the class has one instance: nothing is left to check the choice on, so it cannot be validated "
           "(declare more instances: windows, policies, functions)" if n_instances < 2 else
           f"no instance was held out (holdout {fraction:g}; the default holds out 1/3 from "
           f"{AUTO_MIN_INSTANCES} instances on)")
    return Validation((), (), NOT_VALIDATED, why)


def validation(shipped: str, held_pool: Sequence[Candidate], training: list[str], held_out: list[str],
               tolerance: float) -> Validation:
    """How the configuration ``shipped`` (a candidate key) did on the held-out instances."""
    ranked = sorted(held_pool, key=lambda c: (-c.quality.value, c.wall_s.value, c.key))
    mine = next((c for c in ranked if c.key == shipped), None)
    if mine is None or not ranked:
        return Validation(tuple(training), tuple(held_out), NOT_VALIDATED,
                          f"{shipped} has no usable runs on the held-out instances")
    best = ranked[0]
    regret = best.quality.value - mine.quality.value
    held = regret <= tolerance * abs(best.quality.value) + 1e-12 or math.isclose(regret, 0.0, abs_tol=1e-12)
    p_better = math.nan if mine is best else paired.signed_rank_less_p(mine.quality_samples, best.quality_samples)
    return Validation(tuple(training), tuple(held_out), HELD if held else NOT_HELD, "", float(mine.quality.value),
                      ranked.index(mine) + 1, len(ranked), best.key, float(best.quality.value), float(regret),
                      p_better)


def significance(v: Validation) -> str:
    """The paired test of the held-out best against the shipped one, in a few words ("" when the
    shipped one is the held-out best)."""
    if math.isnan(v.p_best_better):
        return ""
    n = len(v.held_out)
    return (f"the held-out best better than it? paired test p = {v.p_best_better:.3g} "
            f"({n} instance(s) can give p ≥ {paired.smallest_p(n):.3g})")
