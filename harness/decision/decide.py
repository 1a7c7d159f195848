"""The production decision: which optimizer configuration (optimizer, options, budget) to ship
for each objective class, by a stated, configurable rule (the statistics: docs/decision.md).

A class's *instances* are its objectives with their options (``objective_label``: a MaxDiff window ×
policy, a synthetic function). Per class, a candidate is a configuration at one budget with one
sample per instance: the median ``quality`` (see ``frame``) and the median wall time over that
instance's distinct seeds — so an optimizer that ignores its seed (one run per instance) counts as
many samples as any other, and seeds never count as independent problems. Class quality is the mean
over instances, class time the sum (one run of each). Candidates with a failed run or missing an
instance are excluded (and listed). Every test is the one-sided Wilcoxon signed-rank test paired by
instance (``paired``), Holm-corrected over the rivals it is run against. Then:

- **default** — let B be the candidate with the highest class quality. Eligible: quality
  ≥ B's − ``tolerance``·|B's| *and* not significantly worse than B. The choice is the eligible
  candidate with the smallest class time. Verdict: ``win (faster)`` when it is significantly faster
  than every other eligible candidate; ``win (better)`` when it is the only eligible one and every
  rival is significantly worse; else ``tie``; ``not enough instances`` when a would-be win rests on
  fewer instances than the corrected test needs to reach ``alpha`` (``paired.min_pairs``).
- **fast** — the same rule among candidates whose time ≤ ``fast_factor`` × the fastest
  non-baseline candidate's (the baselines, random and grid, are quick and poor by design).
- **thorough** — the same rule with ``tolerance = 0``.

``holdout`` (see ``validate``) makes the choice on a seeded share of the instances and checks it on the rest.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import WARM_REPEAT_MAX_S
from optbench.harness.decision import validate
from optbench.harness.decision.model import PRESETS, BestKnown, Choice, ClassDecision, Compared, Excluded, PresetDecision, Verdict
from optbench.harness.report import paired, stats

BASELINES = ("random", "grid")
TIMINGS = ("warm", "cold")
NOT_ENOUGH_INSTANCES: Verdict = "not enough instances"
WIN_BETTER: Verdict = "win (better)"
WIN_FASTER: Verdict = "win (faster)"
TIE: Verdict = "tie"
WINS: tuple[Verdict, ...] = (WIN_BETTER, WIN_FASTER)
TIMING_TEXT = {"warm": "a repeat of each cell in the same process right after its first run; a cell whose first run "
                       f"took over {WARM_REPEAT_MAX_S:g} s is not repeated and counts its cold time",
               "cold": "each cell's first run in its worker process, first-call costs included"}


@dataclass(frozen=True)
class Rule:
    """The decision rule's parameters (``optbench decide --rule key=value``)."""

    tolerance: float = 0.001
    alpha: float = 0.05
    fast_factor: float = 2.0
    level: float = stats.LEVEL
    n_boot: int = stats.N_BOOT
    seed: int = 0
    timing: str = "warm"

    def __post_init__(self) -> None:
        checks = {"tolerance": 0 <= self.tolerance < 1, "alpha": 0 < self.alpha < 1, "level": 0 < self.level < 1,
                  "fast_factor": self.fast_factor >= 1, "n_boot": self.n_boot >= 100, "timing": self.timing in TIMINGS}
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise HarnessError(f"rule {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)} out of range: tolerance "
                               "in [0, 1), alpha and level in (0, 1), fast_factor ≥ 1, n_boot ≥ 100, "
                               f"timing one of {', '.join(TIMINGS)}")

    @property
    def min_instances(self) -> int:
        """Instances below which the paired test cannot reach ``alpha`` against one rival."""
        return paired.min_pairs(self.alpha)

    @property
    def time_column(self) -> str:
        return "warm_or_cold_s" if self.timing == "warm" else "wall_s"

    @classmethod
    def from_pairs(cls, pairs: dict) -> Rule:
        """Build from ``{"tolerance": 0.005, ...}``; unknown keys or wrong types raise HarnessError."""
        kinds = {f.name: f.type for f in fields(cls)}
        unknown = [k for k in pairs if k not in kinds]
        if unknown:
            raise HarnessError(f"unknown rule parameter(s) {unknown}; allowed: {list(kinds)}")
        casts = {"int": int, "float": float, "str": str}
        try:
            return cls(**{k: casts[str(kinds[k])](v) for k, v in pairs.items()})
        except (TypeError, ValueError):
            raise HarnessError(f"rule parameters {pairs} must be numbers (timing: warm or cold)") from None

    def sentence(self) -> str:
        """The default rule in one sentence (the report's decision block)."""
        return (f"Fastest {self.timing} class time among the configurations whose class quality is within "
                f"{100 * self.tolerance:g} % of the best and not significantly worse (one-sided Wilcoxon "
                f"signed-rank test paired by instance, Holm-corrected, alpha = {self.alpha:g}); a win needs it "
                f"significantly faster than each of them (win (faster)) or every rival significantly worse "
                f"(win (better)), and at least {self.min_instances} instances.")

    def describe(self) -> str:
        """The rule in words, as DECISION.md states it."""
        return (f"Each candidate (optimizer, options, budget) with no failed run has one sample per instance of "
                f"the class: its median quality and median {self.timing} wall time ({TIMING_TEXT[self.timing]}) "
                f"over that instance's distinct seeds (an optimizer that ignores its seed runs once per instance; "
                f"its copies are never extra samples). Take the candidates whose class quality (mean over "
                f"instances) is within {100 * self.tolerance:g} % of the best candidate's and not significantly "
                f"worse (one-sided Wilcoxon signed-rank test paired by instance, exact, Holm-corrected over the "
                f"rivals, alpha = {self.alpha:g}); pick the one with the smallest class time (sum over instances). "
                f"'{WIN_FASTER}': significantly faster than every other such candidate (same test, corrected); "
                f"'{WIN_BETTER}': the only such candidate, every rival significantly worse; otherwise 'tie'. "
                f"With n instances the test's smallest p-value is 1 / 2^n, so below {self.min_instances} "
                f"instances (more against several rivals) the verdict is '{NOT_ENOUGH_INSTANCES}', never a win. "
                f"Preset fast: the same among candidates within {self.fast_factor:g}× the fastest time of a "
                f"non-baseline candidate (baselines: {', '.join(BASELINES)}). Preset thorough: tolerance 0.")


@dataclass(frozen=True)
class Candidate:
    """One configuration at one budget, with one sample per instance (the instances in sorted order:
    the median over that instance's distinct seeds) and the class estimates over instances."""

    config: str
    budget_label: str
    optimizer: str
    optimizer_options: dict
    budget: dict
    seeds: int  # the most seeds any instance ran (1 for an optimizer that ignores its seed)
    instances: tuple[str, ...]
    quality_samples: tuple[float, ...]  # per instance
    time_samples: tuple[float, ...]  # per instance, by the rule's timing
    quality: stats.Estimate  # mean over instances
    wall_s: stats.Estimate  # sum over instances (one run of each), by the rule's timing
    cold_wall_s: stats.Estimate
    warm_wall_s: stats.Estimate
    n_evals: float

    @property
    def key(self) -> str:
        return f"{self.config} @ {self.budget_label}"


def _total(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sum(x, axis=axis)


def candidates(g_cls: pd.DataFrame, rule: Rule) -> tuple[list[Candidate], list[Excluded]]:
    """Usable candidates of one class (or of some of its instances), and the excluded ones with the reason."""
    instances = sorted(set(g_cls["objective_label"]))
    usable: list[Candidate] = []
    excluded: list[Excluded] = []
    for (config, budget_label), g in g_cls.groupby(["config", "budget_label"], sort=True):
        covered = set(g["objective_label"])
        if (~g["ok"]).any():
            excluded.append(Excluded(config, budget_label, f"{int((~g['ok']).sum())} failed run(s)"))
        elif len(covered) < len(instances):
            excluded.append(Excluded(config, budget_label,
                                     f"ran on {len(covered)} of the class's {len(instances)} objectives"))
        elif g["quality"].isna().any():
            excluded.append(Excluded(config, budget_label, "quality unknown: needs random search at the same budget"))
        else:
            runs = g.assign(warm_or_cold_s=g["warm_wall_s"].fillna(g["wall_s"])).drop_duplicates(
                ["objective_label", "seed"])
            per = runs.groupby("objective_label").agg(
                quality=("quality", "median"), wall_s=("wall_s", "median"),
                warm_or_cold_s=("warm_or_cold_s", "median"), seeds=("seed", "nunique"),
                n_evals=("n_evals", "median")).loc[instances]
            first = g.iloc[0]
            boot: dict[str, Any] = {"level": rule.level, "n_boot": rule.n_boot, "seed": rule.seed}
            cold = stats.bootstrap(per["wall_s"], statistic=_total, **boot)
            warm = stats.bootstrap(per["warm_or_cold_s"], statistic=_total, **boot)
            usable.append(Candidate(
                config, budget_label, first["optimizer"], dict(first["optimizer_options"]), dict(first["budget"]),
                int(per["seeds"].max()), tuple(instances), tuple(per["quality"]), tuple(per[rule.time_column]),
                stats.bootstrap(per["quality"], statistic=np.mean, **boot),
                warm if rule.time_column == "warm_or_cold_s" else cold, cold, warm, float(per["n_evals"].sum())))
    return usable, excluded


@lru_cache(maxsize=4096)
def _less_p(x: tuple[float, ...], y: tuple[float, ...]) -> float:
    """``paired.signed_rank_less_p``, once per pair of samples (the presets test the same pairs again)."""
    return paired.signed_rank_less_p(x, y)


def choose(pool: list[Candidate], rule: Rule, tolerance: float) -> PresetDecision:
    """Apply the rule to ``pool``: the choice, the verdict, which test decided it, and each candidate's tests."""
    if not pool:
        return PresetDecision("none", reason="no usable candidate")
    best = sorted(pool, key=lambda c: (-c.quality.value, c.wall_s.value, c.key))[0]
    floor = best.quality.value - tolerance * abs(best.quality.value)
    rivals = [c for c in pool if c is not best]
    p_worse = dict(zip([c.key for c in rivals], paired.holm([_less_p(c.quality_samples, best.quality_samples)
                                                             for c in rivals])))
    tested = [(c, p_worse.get(c.key, 1.0), c.quality.value >= floor and not p_worse.get(c.key, 1.0) < rule.alpha)
              for c in pool]
    eligible = sorted((c for c, _, ok in tested if ok), key=lambda c: (c.wall_s.value, c.key))
    winner = eligible[0]
    others = eligible[1:]
    p_faster = dict(zip([c.key for c in others], paired.holm([_less_p(winner.time_samples, c.time_samples)
                                                              for c in others])))
    tied = [c.key for c in others if not p_faster[c.key] < rule.alpha]
    faster = [c for c, _, ok in tested if not ok and c.wall_s.value < winner.wall_s.value]
    n = len(winner.instances)
    verdict: Verdict
    if others:
        verdict, test = (TIE if tied else WIN_FASTER), "time"
    else:
        verdict, test = (TIE if any(not p < rule.alpha for p in p_worse.values()) else WIN_BETTER), "quality"
    if n < paired.min_pairs(rule.alpha, len(others) or len(rivals)):  # the test cannot tell: no win, no tie
        verdict = NOT_ENOUGH_INSTANCES
    decided_by = (f"{'time' if test == 'time' else 'quality'}: one-sided Wilcoxon signed-rank test paired by "
                  f"instance ({n} instance(s), exact), Holm-corrected over {len(others) or len(rivals)} rival(s), "
                  f"alpha = {rule.alpha:g}")
    table = tuple(Compared(c.key, c.quality, c.wall_s, c.cold_wall_s, c.warm_wall_s, c.seeds, len(c.instances),
                         float(p), p_faster.get(c.key), bool(ok))
                  for c, p, ok in sorted(tested, key=lambda t: (not t[2], t[0].wall_s.value, t[0].key)))
    choice = Choice(winner.key, winner.optimizer, winner.optimizer_options, winner.budget, winner.quality,
                    winner.wall_s, winner.cold_wall_s, winner.warm_wall_s, winner.n_evals, winner.seeds, n)
    return PresetDecision(verdict, decided_by, choice, best.key, float(floor), tuple(tied),
                          tuple(c.key for c in others[:3]), tuple(c.key for c in faster), table)


def decide_class(g_cls: pd.DataFrame, rule: Rule, holdout: float | None = None,
                 held: Collection[str] | None = None) -> ClassDecision:
    """All presets for one objective class, chosen on its training instances, and the default
    preset's check on the held-out ones (``validate``; ``holdout`` None: the default fraction;
    ``held``: the held-out instances' labels, given instead of drawn)."""
    instances = sorted(g_cls["objective_label"].unique())
    if held is None:
        fraction = validate.fraction_for(len(instances), holdout)
        training, held_out = validate.split(instances, fraction, rule.seed)
    else:
        training, held_out = [i for i in instances if i not in held], [i for i in instances if i in held]
        fraction = len(held_out) / len(instances)
    train = g_cls[g_cls["objective_label"].isin(training)]
    pool, excluded = candidates(train, rule)
    presets = {"default": choose(pool, rule, rule.tolerance), "thorough": choose(pool, rule, 0.0)}
    contenders = [c for c in pool if c.optimizer not in BASELINES] or pool
    fastest = min((c.wall_s.value for c in contenders), default=math.nan)
    presets["fast"] = choose([c for c in pool if c.wall_s.value <= rule.fast_factor * fastest], rule, rule.tolerance)
    shipped = presets["default"].choice
    if held_out and shipped is not None:
        held_pool, _ = candidates(g_cls[g_cls["objective_label"].isin(held_out)], rule)
        checked = validate.validation(shipped.candidate, held_pool, training, held_out, rule.tolerance)
    else:
        checked = validate.unvalidated(len(instances), fraction)
    known = g_cls.groupby("objective_label")[["best_known_kind", "best_known_value", "best_known_run"]].first()
    return ClassDecision(tuple(instances), tuple(sorted(g_cls["objective"].unique())),
                         {str(label): BestKnown(r.best_known_kind, float(r.best_known_value), str(r.best_known_run))
                          for label, r in known.iterrows()},
                         fraction, checked, {p: presets[p] for p in PRESETS}, tuple(excluded))


def decide(df: pd.DataFrame, rule: Rule, holdout: float | None = None,
           held: Collection[str] | None = None) -> dict[str, ClassDecision]:
    """The decision for every objective class in an analysed frame (deterministic: no clock, seeded
    CIs and split). ``holdout``: the share of each class's instances held out (None: 1/3 from 6 on);
    ``held``: the labels of the instances to hold out, chosen by the caller instead (``advise``)."""
    if holdout is not None and not 0 <= holdout < 1:
        raise HarnessError(f"holdout {holdout!r} out of range: a fraction in [0, 1)")
    return {cls: decide_class(g, rule, holdout, held) for cls, g in df.groupby("family", sort=True)}

