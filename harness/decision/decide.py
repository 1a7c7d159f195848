"""The production decision: which optimizer configuration (optimizer, options, budget) to ship
for each objective class, by a stated, configurable rule.

Per class, a candidate is a configuration at one budget. Its per-seed *class quality* is the mean,
over the class's objectives, of the run's ``quality`` (see ``frame``: the share of the gap between
random search's median and the best known value closed, in [−1, 1]) and its per-seed *class time* is
the sum of those runs' wall times: warm (``warm_wall_s``, a repeat of the cell in the same process;
the cold time where no repeat was measured) by default, cold (``wall_s``) with ``timing=cold``.
Candidates with a failed run, or with no seed covering every objective of the class, are excluded
(and listed). Every test is the exact one-sided rank test of ``stats.worse_p_value`` over seeds. Then:

- **default** — let B be the candidate with the highest median quality. Eligible: median quality
  ≥ B's − ``tolerance``·|B's| *and* not significantly worse than B (p ≥ ``alpha``). The choice is the
  eligible candidate with the smallest median time. Verdict: ``win`` when the choice is significantly
  faster than every other eligible candidate, else ``tie`` (the fastest is still the choice a caller
  gets, and the tie is named); ``not enough seeds`` when a test the verdict rests on (the choice's
  time against each other eligible candidate, and the quality of each faster candidate against B)
  cannot reach p < ``alpha`` with the seeds it has (``stats.min_seeds``): never a win.
- **fast** — the same rule among candidates whose median time ≤ ``fast_factor`` × the fastest
  non-baseline candidate's (the baselines, random and grid, are quick and poor by design: timing
  against them would make "fast" mean "a baseline").
- **thorough** — the same rule with ``tolerance = 0``: the best quality, speed only among equals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import WARM_REPEAT_MAX_S
from optbench.harness.report import stats

PRESETS = ("default", "fast", "thorough")
BASELINES = ("random", "grid")
TIMINGS = ("warm", "cold")
NOT_ENOUGH_SEEDS = "not enough seeds"
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
    def min_seeds(self) -> int:
        """Seeds per candidate below which the rank test cannot reach ``alpha`` (n against n)."""
        return stats.min_seeds(self.alpha)

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
        return (f"Fastest {self.timing} median class time among the configurations whose median quality is within "
                f"{100 * self.tolerance:g} % of the best and not significantly worse (exact one-sided rank test, "
                f"alpha = {self.alpha:g}); a win needs it to be significantly faster than each of them, and at "
                f"least {self.min_seeds} seeds.")

    def describe(self) -> str:
        """The rule in words, as DECISION.md states it."""
        return (f"Among candidates (optimizer, options, budget) with no failed run, take those whose median "
                f"class quality is within {100 * self.tolerance:g} % of the best candidate's and not "
                f"significantly worse (exact one-sided Mann–Whitney rank test over seeds, alpha = {self.alpha:g}); "
                f"pick the one with the smallest median class wall time, {self.timing} ({TIMING_TEXT[self.timing]}). "
                f"It is a win only if its time is significantly lower than every other such candidate's (same "
                f"test); otherwise a tie. With n seeds against m the test's smallest p-value is 1 / C(n+m, n), "
                f"so below {self.min_seeds} seeds per candidate it cannot reach alpha = {self.alpha:g}: the "
                f"verdict is then '{NOT_ENOUGH_SEEDS}', never a win. Preset fast: the same among candidates "
                f"within {self.fast_factor:g}× the fastest median time of a non-baseline candidate (baselines: "
                f"{', '.join(BASELINES)}). Preset thorough: the same with tolerance 0.")


@dataclass(frozen=True)
class Candidate:
    """One configuration at one budget, with its per-seed class samples and estimates."""

    config: str
    budget_label: str
    optimizer: str
    optimizer_options: dict
    budget: dict
    seeds: int
    quality_samples: tuple
    time_samples: tuple
    quality: stats.Estimate
    wall_s: stats.Estimate  # by the rule's timing
    cold_wall_s: stats.Estimate
    warm_wall_s: stats.Estimate
    n_evals: float

    @property
    def key(self) -> str:
        return f"{self.config} @ {self.budget_label}"


def candidates(g_cls: pd.DataFrame, rule: Rule) -> tuple[list[Candidate], list[dict]]:
    """Usable candidates of one class, and the excluded ones with the reason."""
    objectives = set(g_cls["objective_label"])
    usable, excluded = [], []
    for (config, budget_label), g in g_cls.groupby(["config", "budget_label"], sort=True):
        key = {"config": config, "budget": budget_label}
        complete = g.groupby("seed").filter(lambda s: set(s["objective_label"]) == objectives)
        if (~g["ok"]).any():
            excluded.append({**key, "reason": f"{int((~g['ok']).sum())} failed run(s)"})
        elif complete.empty:
            covered = len(set(g["objective_label"]))
            excluded.append({**key, "reason": f"ran on {covered} of the class's {len(objectives)} objectives"
                             if covered < len(objectives) else "no seed ran on every objective of the class"})
        elif complete["quality"].isna().any():
            excluded.append({**key, "reason": "quality unknown: needs random search at the same budget"})
        else:
            per_seed = complete.assign(warm_or_cold_s=complete["warm_wall_s"].fillna(complete["wall_s"])).groupby(
                "seed").agg(quality=("quality", "mean"), wall_s=("wall_s", "sum"), warm_or_cold_s=("warm_or_cold_s", "sum"))
            first = g.iloc[0]
            boot: dict[str, Any] = {"level": rule.level, "n_boot": rule.n_boot, "seed": rule.seed}
            cold = stats.bootstrap(per_seed["wall_s"], **boot)
            warm = stats.bootstrap(per_seed["warm_or_cold_s"], **boot)
            usable.append(Candidate(
                config, budget_label, first["optimizer"], dict(first["optimizer_options"]), dict(first["budget"]),
                len(per_seed), tuple(per_seed["quality"]), tuple(per_seed[rule.time_column]),
                stats.bootstrap(per_seed["quality"], **boot), warm if rule.time_column == "warm_or_cold_s" else cold,
                cold, warm, float(complete.groupby("seed")["n_evals"].sum().median())))
    return usable, excluded


@lru_cache(maxsize=4096)
def _worse_p_value(candidate: tuple[float, ...], best: tuple[float, ...]) -> float:
    """``stats.worse_p_value``, once per pair of samples: the presets test the same pairs again, and
    the exact test costs ~1 s at 10 seeds."""
    return stats.worse_p_value(candidate, best)


def choose(pool: list[Candidate], rule: Rule, tolerance: float) -> dict:
    """Apply the rule to ``pool``: the choice, the verdict, and each candidate's tests."""
    if not pool:
        return {"verdict": "none", "reason": "no usable candidate", "choice": None}
    best = sorted(pool, key=lambda c: (-c.quality.value, c.wall_s.value, c.key))[0]
    floor = best.quality.value - tolerance * abs(best.quality.value)
    tested = []
    for c in pool:
        p = _worse_p_value(c.quality_samples, best.quality_samples) if c is not best else 1.0
        tested.append((c, p, c.quality.value >= floor and p >= rule.alpha))
    eligible = sorted((c for c, _, ok in tested if ok), key=lambda c: (c.wall_s.value, c.key))
    winner = eligible[0]
    p_faster = {c.key: _worse_p_value(winner.time_samples, c.time_samples) for c in eligible[1:]}
    tied = [c.key for c in eligible[1:] if not p_faster[c.key] < rule.alpha]
    faster = [c for c, _, ok in tested if not ok and c.wall_s.value < winner.wall_s.value]
    pairs = [(winner, c) for c in eligible[1:]] + [(c, best) for c in faster]
    separable = winner.seeds >= rule.min_seeds and all(
        stats.smallest_p_value(a.seeds, b.seeds) < rule.alpha for a, b in pairs)
    table = [{"candidate": c.key, "quality": _est(c.quality), "wall_s": _est(c.wall_s),
              "cold_wall_s": _est(c.cold_wall_s), "warm_wall_s": _est(c.warm_wall_s), "seeds": c.seeds,
              "p_worse_than_best": p, "p_choice_faster": p_faster.get(c.key), "eligible": ok}
             for c, p, ok in sorted(tested, key=lambda t: (not t[2], t[0].wall_s.value, t[0].key))]
    return {
        "verdict": NOT_ENOUGH_SEEDS if not separable else "tie" if tied else "win",
        "choice": {"candidate": winner.key, "optimizer": winner.optimizer,
                   "optimizer_options": winner.optimizer_options, "budget": winner.budget,
                   "quality": _est(winner.quality), "wall_s": _est(winner.wall_s),
                   "cold_wall_s": _est(winner.cold_wall_s), "warm_wall_s": _est(winner.warm_wall_s),
                   "n_evals": winner.n_evals, "seeds": winner.seeds},
        "best_quality": best.key,
        "quality_floor": floor,
        "tied_with": tied,
        "runners_up": [c.key for c in eligible[1:4]],
        "faster_but_worse": [c.key for c in faster],
        "tests": table,
    }


def _est(e: stats.Estimate) -> dict:
    return {"median": e.value, "low": e.low, "high": e.high, "interval": e.kind}


def decide_class(g_cls: pd.DataFrame, rule: Rule) -> dict:
    """All presets for one objective class."""
    pool, excluded = candidates(g_cls, rule)
    presets = {"default": choose(pool, rule, rule.tolerance), "thorough": choose(pool, rule, 0.0)}
    contenders = [c for c in pool if c.optimizer not in BASELINES] or pool
    fastest = min((c.wall_s.value for c in contenders), default=math.nan)
    presets["fast"] = choose([c for c in pool if c.wall_s.value <= rule.fast_factor * fastest], rule, rule.tolerance)
    known = g_cls.groupby("objective_label")[["best_known_kind", "best_known_value", "best_known_run"]].first()
    return {"objectives": sorted(g_cls["objective_label"].unique()),
            "objective_names": sorted(g_cls["objective"].unique()),
            "best_known": {label: {"kind": r.best_known_kind, "value": r.best_known_value, "found_by": r.best_known_run}
                           for label, r in known.iterrows()},
            "presets": {p: presets[p] for p in PRESETS}, "excluded": excluded}


def decide(df: pd.DataFrame, rule: Rule) -> dict:
    """The decision for every objective class in an analysed frame (deterministic: no clock, seeded CIs)."""
    return {cls: decide_class(g, rule) for cls, g in df.groupby("family", sort=True)}


def rounded(obj, digits: int = 6):
    """Floats to ``digits`` significant digits (NaN/inf as None), recursively, for stable JSON."""
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v, digits) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(f"{obj:.{digits}g}") if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj

