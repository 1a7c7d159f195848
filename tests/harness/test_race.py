"""advise's race on a fake runner and a fake clock: who is dropped after which block and with which
p-value (worked by hand), what each block runs, that it stops at the deadline, and that the validation
round runs every contender, dropped ones included, on the held-out instances."""

from __future__ import annotations

import math

import pytest

from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.decision import race_loop
from optbench.harness.decision.advise import Plan
from optbench.harness.decision.calibration import Calibration
from optbench.harness.decision.decide import Rule
from optbench.harness.decision.race import Contender, Race
from optbench.harness.report.frame import analyse, records_frame

# value = the instance's difficulty + the optimizer's gap (+ a seed's jitter for the seedable ones)
GAP = {"random": 1.0, "scipy.de": 0.01, "scipy.direct": 0.5, "nevergrad.oneplusone": 0.011}


def _record(cell: Cell, gap: dict[str, float], wall_s: float) -> RunRecord:
    i = int(cell.options["i"])
    value = 10.0 * i + gap[cell.optimizer] + 1e-4 * cell.seed
    return RunRecord("toy", dict(cell.options), cell.optimizer, {}, {"max_evals": cell.budget.max_evals}, cell.seed, "ok",
                     value=value, n_evals=int(cell.budget.max_evals or 0), wall_s=wall_s, family="toy",
                     knowledge="none", option_defaults={})


class FakeMachine:
    """Runs cells instantly, each costing ``cell_s`` on a fake clock shared by ``workers``."""

    def __init__(self, cell_s: float, workers: int = 2, gap: dict[str, float] | None = None):
        self.now, self.cell_s, self.workers, self.gap, self.ran = 0.0, cell_s, workers, gap or GAP, []

    def execute(self, cells: list[Cell]) -> tuple[list[RunRecord], float]:
        self.ran.append(list(cells))
        wall = self.cell_s * math.ceil(len(cells) / self.workers)
        self.now += wall
        return [_record(c, self.gap, self.cell_s) for c in cells], wall


def _plan(n_training: int, n_held: int, optimizers: tuple[str, ...], first: int, seeds: int = 1) -> Plan:
    cal = {o: Calibration(o, linear_s=1e-3, quadratic_s=0.0) for o in optimizers}
    return Plan("toy", [{"i": i} for i in range(n_training)], [{"i": 100 + i} for i in range(n_held)],
                n_held / (n_training + n_held), n_training + n_held, cal, [100], seeds, first, 2, 0.0)


def test_clearly_worse_contenders_are_dropped_after_the_first_block_with_the_hand_worked_p_value():
    plan = _plan(12, 4, ("random", "scipy.de", "scipy.direct"), first=6)
    machine = FakeMachine(cell_s=0.1)
    outcome = race_loop.run_race(plan, Rule(), machine.execute, lambda: 1e6 - machine.now)
    # 6 instances, scipy.de better on every one: exact one-sided signed-rank p = 1/2^6, Holm over 2 rivals: 2/64
    assert [(d.contender, d.instances) for d in outcome.drops] == [
        (Contender("random", 100), 6), (Contender("scipy.direct", 100), 6)]
    assert all("p = 0.0312" in d.reason and "scipy.de @ 100 evals" in d.reason for d in outcome.drops)
    assert outcome.race.alive == [Contender("scipy.de", 100)] and outcome.stopped == "one contender remains"
    first, validation = machine.ran[0], machine.ran[-1]
    assert len(machine.ran) == 2 and {c.options["i"] for c in first} == set(range(6))
    # the validation round: every contender, dropped ones included, on every held-out instance
    assert {(c.optimizer, c.options["i"]) for c in validation} == {(o, 100 + i) for o in plan.optimizers
                                                                   for i in range(4)}
    assert outcome.validation and len(outcome.records) == len(first) + len(validation)


def test_an_optimizer_that_ignores_its_seed_runs_once_per_instance():
    plan = _plan(3, 0, ("random", "scipy.de", "scipy.direct"), first=3, seeds=3)
    machine = FakeMachine(cell_s=0.1)
    race_loop.run_race(plan, Rule(), machine.execute, lambda: 1e6 - machine.now)
    first = machine.ran[0]
    per_optimizer = {o: sorted((c.options["i"], c.seed) for c in first if c.optimizer == o) for o in plan.optimizers}
    assert per_optimizer["scipy.direct"] == [(i, 0) for i in range(3)]  # unseedable: seed 0 only
    assert per_optimizer["scipy.de"] == sorted((i, s) for i in range(3) for s in range(3))


def test_equal_contenders_race_on_until_the_time_left_holds_no_block():
    # scipy.de and oneplusone differ by 0.001 on every instance: after 6 instances p = 1/64 (Holm ×1
    # after random is dropped... both tested at once: Holm ×2 = 0.031 < 0.05 drops oneplusone too) —
    # so make them equal instead: neither can be dropped, the race runs on the clock
    gap = {**GAP, "nevergrad.oneplusone": GAP["scipy.de"]}
    plan = _plan(40, 5, ("random", "scipy.de", "nevergrad.oneplusone"), first=6)
    machine = FakeMachine(cell_s=1.0, gap=gap)
    deadline = 60.0
    outcome = race_loop.run_race(plan, Rule(), machine.execute, lambda: deadline - machine.now)
    assert outcome.stopped == "the next block does not fit in the time left"
    assert {c.optimizer for c in outcome.race.alive} == {"scipy.de", "nevergrad.oneplusone"}
    # the race keeps its deadline: the report's share stays free, the validation round included
    assert machine.now <= deadline - race_loop.reserve_s(0, 0) + 1e-9
    sizes = [len({c.options["i"] for c in block}) for block in machine.ran[:-1]]
    assert sizes[0] == 6 and all(n >= race_loop.MIN_BLOCK for n in sizes[1:-1])
    assert outcome.race.done == sum(sizes)


def test_a_failed_contender_is_dropped_as_excluded():
    plan = _plan(6, 0, ("random", "scipy.de", "nevergrad.oneplusone"), first=6)
    machine = FakeMachine(cell_s=0.1, gap={**GAP, "nevergrad.oneplusone": GAP["scipy.de"]})

    def execute(cells):
        records, wall = machine.execute(cells)
        return [RunRecord(**{**r.to_dict(), "status": "capped"}) if r.optimizer == "nevergrad.oneplusone" and
                r.options["i"] == 2 else r for r in records], wall

    outcome = race_loop.run_race(plan, Rule(), execute, lambda: 1e6 - machine.now)
    assert any(d.contender.optimizer == "nevergrad.oneplusone" and "1 run(s) cut by the deadline's wall-time cap" in d.reason
               for d in outcome.drops)


def test_the_held_out_labels_are_those_the_validation_round_ran():
    plan = _plan(6, 3, ("random", "scipy.de", "scipy.direct"), first=6)
    machine = FakeMachine(cell_s=0.1)
    outcome = race_loop.run_race(plan, Rule(), machine.execute, lambda: 1e6 - machine.now)
    df = analyse(records_frame(outcome.records))
    assert race_loop.held_out_labels(df, outcome.validation) == {"toy(i=100)", "toy(i=101)", "toy(i=102)"}


def test_race_books_add_seeds_where_fewest_ran_once_the_instances_are_used_up():
    contenders = [Contender("random", 10), Contender("scipy.de", 10), Contender("scipy.direct", 10)]
    race = Race("toy", [{"i": 0}, {"i": 1}, {"i": 2}], contenders, Rule(), seeds=1)
    machine = FakeMachine(cell_s=0.1, gap={**GAP, "scipy.direct": GAP["scipy.de"]})
    block = race.next_block(5, {})
    assert block.instances == 3 and {c.seed for c in block.cells} == {0}
    race.record(block, machine.execute(block.cells)[0])
    assert race.seeds_of == [1, 1, 1] and race.done == 3
    more = race.next_block(2, {})  # seed 1 on the first two; scipy.direct ignores its seed: not run
    assert more.instances == 0 and more.reseeded == (0, 1)
    assert sorted((c.optimizer, c.options["i"], c.seed) for c in more.cells) == [
        ("random", 0, 1), ("random", 1, 1), ("scipy.de", 0, 1), ("scipy.de", 1, 1)]
    race.record(more, machine.execute(more.cells)[0])
    assert race.seeds_of == [2, 2, 1]
    assert race.next_block(2, {}).reseeded == (2, 0)  # the instance with the fewest seeds first


@pytest.mark.parametrize("n", [1, 4, 12])
def test_seeds_spread_over_few_instances(n):
    from optbench.harness.decision.advise import MIN_SEEDS, seeds_for

    assert seeds_for(n) == {1: MIN_SEEDS, 4: 2, 12: 1}[n]


def test_a_seed_block_that_does_not_fit_is_halved_before_the_race_gives_up():
    plan = _plan(4, 0, ("random", "scipy.de", "nevergrad.oneplusone"), first=4)
    machine = FakeMachine(cell_s=1.0, gap={**GAP, "nevergrad.oneplusone": GAP["scipy.de"]})
    race = Race("toy", plan.training, plan.contenders, Rule(), seeds=1)
    first = race.next_block(4, {})
    race.record(first, machine.execute(first.cells)[0])
    cost = race_loop.Cost.of(plan)
    cost.measured(first.cells, race.records, 6.0)
    two = race_loop.fitting_block(race, cost, 1e6, {})
    assert two is not None and two.reseeded == (0, 1)  # half the 4 instances run: 2 get one more seed
    tight = race_loop.SAFETY * cost.seconds(race.next_block(1, {}).cells) + 1e-9
    one = race_loop.fitting_block(race, cost, tight, {})
    assert one is not None and one.reseeded == (0,)  # 2 do not fit in that room, 1 does
    assert race_loop.fitting_block(race, cost, 0.0, {}) is None
