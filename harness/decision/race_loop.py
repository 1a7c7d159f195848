"""The race loop of ``optbench advise``: run the plan's first block, drop the contenders the race's
books call significantly worse, size each next block from the measured cost of the last one to the
time left (the validation round and the report's share set aside), then run the validation round on
the held-out instances; and write what the race did (``race.csv``, ``race.json``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.decision.advise import (
    CELL_OVERHEAD_S,
    SAFETY,
    Plan,
    pool_seconds,
    reserve_s,
    run_seconds,
)
from optbench.harness.decision.decide import Rule
from optbench.harness.decision.race import Block, Contender, Drop, Race

RATIO_RANGE = (0.5, 3.0)  # measured ÷ estimated block time, clipped: a resumed block costs nothing
MIN_BLOCK = 2  # training instances in a later block, at least (when they fit)


@dataclass
class Cost:
    """Seconds per cell of each contender — the calibration's estimate until a block measured it, then
    the mean measured cell — and the last block's measured ÷ estimated wall time (load, pool start)."""

    workers: int
    per_cell: dict[Contender, float]
    ratio: float = 1.0
    slowdown: float = 1.0  # the plan's factor on the pool's start

    @classmethod
    def of(cls, plan: Plan) -> Cost:
        return cls(plan.workers, {c: run_seconds(plan.calibrations[c.optimizer], c.budget) for c in plan.contenders},
                   slowdown=plan.slowdown)

    def seconds(self, cells: Sequence[Cell]) -> float:
        """Estimated wall time of running ``cells``."""
        return self.ratio * self._base(cells)

    def _base(self, cells: Sequence[Cell]) -> float:
        return pool_seconds([self.per_cell[_contender(c)] for c in cells], self.workers, self.slowdown)

    def measured(self, cells: Sequence[Cell], records: Sequence[RunRecord], wall_s: float) -> None:
        """Take a block's measured cells and its wall time."""
        runs: dict[Contender, list[float]] = {}
        for cell, r in zip(cells, records):
            warm = r.warm_wall_s if r.warm_wall_s == r.warm_wall_s else 0.0
            runs.setdefault(_contender(cell), []).append(CELL_OVERHEAD_S + r.wall_s + warm)
        self.per_cell.update({c: float(np.mean(v)) for c, v in runs.items()})
        base = self._base(cells)
        if base > 0:
            self.ratio = float(np.clip(wall_s / base, *RATIO_RANGE))


def _contender(cell: Cell) -> Contender:
    return Contender(cell.optimizer, int(cell.budget.max_evals or 0))


Execute = Callable[[list[Cell]], tuple[list[RunRecord], float]]  # run cells: their records and the wall time


@dataclass
class Outcome:
    """What the race ran: its books, the validation round's records, and why it stopped."""

    race: Race
    validation: list[RunRecord]
    stopped: str

    @property
    def records(self) -> list[RunRecord]:
        return [*self.race.records, *self.validation]

    @property
    def drops(self) -> list[Drop]:
        return self.race.drops


def run_race(plan: Plan, rule: Rule, execute: Execute, left_s: Callable[[], float],
             say: Callable[[str], None] = lambda _: None) -> Outcome:
    """Race the plan's contenders (step 4), then validate every one on the held-out instances (step 5).
    ``left_s()`` is the time left to the deadline; ``say`` gets one line per block and per drop."""
    race = Race(plan.objective, plan.training, plan.contenders, rule, seeds=plan.seeds)
    validation = race.cells(plan.held_out, range(plan.seeds), plan.contenders, plan.caps)
    cost = Cost.of(plan)
    block: Block | None = race.next_block(plan.first_block, plan.caps)
    stopped = "the next block does not fit in the time left"  # unless the race finishes first
    while block is not None:
        records, wall_s = execute(block.cells)
        cost.measured(block.cells, records, wall_s)
        what = (f"{block.instances} new training instance(s) × {race.seeds} seed(s)" if block.instances else
                f"one more seed on {len(block.reseeded)} training instance(s)")
        say(f"block: {what}, {len(block.cells)} runs of {len(race.running)} contender(s): {wall_s:.1f} s")
        for drop in race.record(block, records):
            say(drop.sentence())
        if race.finished:
            stopped = ("one contender remains" if len(race.alive) <= 1 else
                       "every training instance ran at every seed")
            break
        room = (left_s() - SAFETY * cost.seconds(validation)
                - reserve_s(len(race.records) + len(validation), race.done + len(plan.held_out), plan.slowdown))
        block = fitting_block(race, cost, room, plan.caps)
    if validation:
        records, wall_s = execute(validation)
        say(f"validation: {len(validation)} runs of every contender on {len(plan.held_out)} held-out "
            f"instance(s): {wall_s:.1f} s")
    else:
        records = []
    return Outcome(race, records, stopped)


def fitting_block(race: Race, cost: Cost, room_s: float, caps: dict[int, float]) -> Block | None:
    """The largest next block, up to half the instances run so far (at least ``MIN_BLOCK``), whose
    estimate times ``SAFETY`` fits ``room_s``: new instances, or one more seed on some, halved until it fits."""
    n = max(MIN_BLOCK, math.ceil(race.done / 2))
    while n >= 1:
        block = race.next_block(n, caps)
        if not block.cells:
            return None
        if SAFETY * cost.seconds(block.cells) <= room_s:
            return block
        n = max(block.instances, len(block.reseeded)) // 2
    return None


def held_out_labels(df: pd.DataFrame, validation: Sequence[RunRecord]) -> set[str]:
    """The instance labels (``objective_label`` of the analysed frame ``df``) the validation round ran on."""
    keys = {json.dumps(r.options, sort_keys=True, default=str) for r in validation}
    return {label for label, o in zip(df["objective_label"], df["options"])
            if json.dumps(o, sort_keys=True, default=str) in keys}


def write_race(outcome: Outcome, out: Path) -> tuple[Path, Path]:
    """``race.csv`` and ``race.json`` under ``out``: each contender, still racing or dropped, when and why."""
    dropped = {d.contender: d for d in outcome.drops}
    rows = [{"contender": c.key, "optimizer": c.optimizer, "budget": c.budget,
             "status": "dropped" if c in dropped else "racing",
             "after_instances": dropped[c].instances if c in dropped else outcome.race.done,
             "reason": dropped[c].reason if c in dropped else ""} for c in outcome.race.contenders]
    out.mkdir(parents=True, exist_ok=True)
    csv, js = out / "race.csv", out / "race.json"
    pd.DataFrame(rows).to_csv(csv, index=False)
    js.write_text(json.dumps({"stopped": outcome.stopped, "contenders": rows}, indent=2) + "\n")
    return csv, js
