"""Racing for ``optbench advise``: candidates run block by block of training instances, and after each
block those significantly worse than the best are dropped, so the time goes to the contenders.

A *contender* is one optimizer at one evaluation budget. After each block, the contenders still in
the race are compared on every training instance run so far, with the decision's own statistics
(``decide.candidates``: one sample per instance, the median over its seeds): the best (highest class
quality) against each other contender, the one-sided Wilcoxon signed-rank test paired by instance,
Holm-corrected over the rivals; a contender with an adjusted p-value below ``alpha`` is dropped, and
the drop says after how many instances, against whom and with which p-value. Random search keeps
running on every instance whatever happens to it as a contender: it is the quality scale's zero.

The race itself only keeps the books (what runs next, what was dropped); ``advise.run_race`` sizes
each block by the time left and runs it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.decision.decide import Candidate, Rule, candidates
from optbench.harness.decision.model import RaceAccount
from optbench.harness.report import paired
from optbench.harness.report.frame import RANDOM, analyse, records_frame


@dataclass(frozen=True, order=True)
class Contender:
    """One optimizer at one evaluation budget: what the race keeps or drops."""

    optimizer: str
    budget: int

    @property
    def key(self) -> str:
        return f"{self.optimizer} @ {self.budget} evals"

    @classmethod
    def of(cls, candidate: Candidate) -> Contender:
        return cls(candidate.optimizer, int(candidate.budget["max_evals"]))


@dataclass(frozen=True)
class Drop:
    """A contender the race dropped, after ``instances`` training instances, and why."""

    contender: Contender
    instances: int
    reason: str

    def sentence(self) -> str:
        return f"dropped {self.contender.key} after {self.instances} instance(s): {self.reason}"


def eliminate(pool: Sequence[Candidate], alive: Sequence[Contender], rule: Rule, instances: int) -> list[Drop]:
    """The contenders of ``alive`` significantly worse than the best of them in ``pool`` (candidates
    on the same training instances), Holm-corrected over the rivals."""
    contenders = [c for c in pool if Contender.of(c) in alive]
    if len(contenders) < 2:
        return []
    best = sorted(contenders, key=lambda c: (-c.quality.value, c.wall_s.value, c.key))[0]
    rivals = [c for c in contenders if c is not best]
    adjusted = paired.holm([paired.signed_rank_less_p(c.quality_samples, best.quality_samples) for c in rivals])
    return [Drop(Contender.of(c), instances,
                 f"class quality {c.quality.value:.3g} against {Contender.of(best).key}'s {best.quality.value:.3g}, "
                 f"significantly worse (paired signed-rank test, Holm-adjusted p = {p:.3g})")
            for c, p in zip(rivals, adjusted) if p < rule.alpha]


def seedable(name: str) -> bool:
    """Whether optimizer ``name`` uses its seed (one that does not runs at the first seed only)."""
    from optbench.harness import optimizers

    return bool(optimizers.adapter_class(name).seedable)


@dataclass(frozen=True)
class Block:
    """One round of the race: its cells, and either the new training instances they cover or the
    training instances (indices) they give one more seed."""

    cells: list[Cell]
    instances: int
    reseeded: tuple[int, ...] = ()


@dataclass
class Race:
    """The books of one race over ``training`` instances (their full option sets, in the order they are run)."""

    objective: str
    training: list[dict[str, Any]]
    contenders: list[Contender]
    rule: Rule
    seeds: int = 1  # seeds per instance when it first runs
    alive: list[Contender] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    done: int = 0  # training instances run
    records: list[RunRecord] = field(default_factory=list)
    seeds_of: list[int] = field(init=False, default_factory=list)  # seeds run, per training instance

    def __post_init__(self) -> None:
        self.alive = list(self.alive or self.contenders)
        self.seeds_of = [0] * len(self.training)

    @property
    def running(self) -> list[Contender]:
        """What a block runs: the contenders still in the race, and random search at every budget."""
        scale = [c for c in self.contenders if c.optimizer == RANDOM]
        return sorted(set(self.alive) | set(scale))

    @property
    def finished(self) -> bool:
        """One contender (or none) remains, or every training instance ran at the most seeds."""
        return len(self.alive) <= 1 or (self.done >= len(self.training) and not self.can_add_seed)

    @property
    def can_add_seed(self) -> bool:
        return (any(k < MAX_RACE_SEEDS for k in self.seeds_of[:self.done])
                and any(seedable(c.optimizer) for c in self.alive))

    def cells(self, instances: Sequence[dict[str, Any]], seeds: Sequence[int], who: Sequence[Contender],
              cap_s: dict[int, float]) -> list[Cell]:
        """Cells of ``who`` on ``instances`` × ``seeds`` (an optimizer that ignores its seed: the first)."""
        return [Cell(self.objective, c.optimizer, Budget(c.budget), seed, dict(instance),
                     cap_s=cap_s.get(c.budget))
                for seed in seeds for instance in instances for c in who
                if seed == 0 or seedable(c.optimizer)]

    def next_block(self, n: int, cap_s: dict[int, float]) -> Block:
        """The next ``n`` training instances for the running contenders at the race's seeds; with
        every instance run, one more seed on the ``n`` instances that have the fewest instead."""
        if self.done < len(self.training):
            chosen = self.training[self.done:self.done + n]
            return Block(self.cells(chosen, range(self.seeds), self.running, cap_s), len(chosen))
        fewest = sorted((k, i) for i, k in enumerate(self.seeds_of[:self.done]) if k < MAX_RACE_SEEDS)[:n]
        cells = [c for k, i in fewest for c in self.cells([self.training[i]], [k], self.running, cap_s)]
        return Block(cells, 0, tuple(i for _, i in fewest))

    def record(self, block: Block, records: Sequence[RunRecord]) -> list[Drop]:
        """Take a block's records; drop what is now significantly worse, or failed; returns the new drops."""
        self.records.extend(records)
        for i in range(self.done, self.done + block.instances):
            self.seeds_of[i] = self.seeds
        for i in block.reseeded:
            self.seeds_of[i] += 1
        self.done += block.instances
        pool, excluded = candidates(self.training_frame(), self.rule)
        failed = {Contender(e.config, _evals(e.budget)): e.reason for e in excluded}
        new = eliminate(pool, self.alive, self.rule, self.done)
        new += [Drop(c, self.done, self.failure(c) or f"excluded: {why}") for c, why in sorted(failed.items())
                if c in self.alive]
        self.drops += new
        self.alive = [c for c in self.alive if c not in {d.contender for d in new}]
        return new

    def failure(self, contender: Contender) -> str:
        """Why ``contender``'s runs did not count, in words (empty when none failed)."""
        statuses = Counter(r.status for r in self.records
                           if (r.optimizer, r.budget.get("max_evals")) == (contender.optimizer, contender.budget))
        capped, failed = statuses.pop("capped", 0), sum(n for status, n in statuses.items() if status != "ok")
        parts = ([f"{capped} run(s) cut by the deadline's wall-time cap: too slow for the minutes given at this "
                  "machine's load"] if capped else []) + ([f"{failed} run(s) failed"] if failed else [])
        return "; ".join(parts)

    def summary(self, first_block: int, stopped: str) -> RaceAccount:
        """The race for the decision document."""
        return RaceAccount(len(self.training), first_block, self.done, self.seeds, max(self.seeds_of, default=0),
                           stopped, tuple(c.key for c in self.alive), tuple(d.sentence() for d in self.drops))

    def training_frame(self) -> pd.DataFrame:
        """The analysed runs of the contenders still in the race (and random search), training instances only."""
        df = analyse(records_frame(self.records))
        keep = {(c.optimizer, c.budget) for c in self.running}
        return df[[(o, int(b)) in keep for o, b in zip(df["optimizer"], df["budget_evals"])]]


def _evals(budget_label: str) -> int:
    """``"400 evals"`` -> 400."""
    return int(budget_label.split()[0])


MAX_RACE_SEEDS = 15  # seeds per training instance stop here (a 12-window family used 7 in 3.5 of 5 minutes)
