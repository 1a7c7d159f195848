"""``optbench advise``: one command for a user's objective family — split its instances, measure an
evaluation, race the optimizers on the training instances in the minutes given, check the choice on
the held-out ones, write the report and the decision, print the decision."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from optbench.harness.commands.common import MAX_WORKERS, WORKERS_HELP, console, parse_pairs
from optbench.harness.commands.run import INSTANCES_HELP

if TYPE_CHECKING:
    from optbench.harness.decision.advise import Plan

ADVISE_HOLDOUT_HELP = ("share of the instances held out: never raced, used to check the choice (seeded split; "
                       "default 1/3 from 6 instances on, else 0: no check)")


def register(app: typer.Typer) -> None:
    app.command("advise", help="Which optimizer for YOUR objective family? Races the optimizers on its training "
                               "instances within --minutes (dropping the significantly worse ones as it goes), "
                               "checks the choice on held-out instances, writes the report and the decision.")(advise)


def advise(
    objective: str = typer.Option(..., "--objective", help="objective name (`optbench list`) or package.module:factory"),
    option: list[str] | None = typer.Option(None, "--option", help="objective option key=value (repeatable)"),
    instances: list[str] | None = typer.Option(None, "--instances",
                                                  help=INSTANCES_HELP + " (default: the declared instances)"),
    holdout: float | None = typer.Option(None, "--holdout", help=ADVISE_HOLDOUT_HELP),
    minutes: float = typer.Option(5.0, "--minutes", help="the whole command's wall time, report included"),
    optimizer: list[str] | None = typer.Option(None, "--optimizer",
                                                  help="optimizers to consider (repeatable; default: a general set)"),
    store: Path | None = typer.Option(None, "--store", help="results store (default results/advise/NAME/runs.sqlite)"),
    out: Path | None = typer.Option(None, "--out", help="folder for report/ and the decision (default results/advise/NAME)"),
    workers: int = typer.Option(0, "--workers", min=0, max=MAX_WORKERS, help=WORKERS_HELP),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    from optbench.harness.commands.decide import print_decision
    from optbench.harness.decision import advise as advice
    from optbench.harness.decision import decision_doc, race_loop
    from optbench.harness.decision.decide import Rule
    from optbench.harness.execution.matrix import resolve, run_matrix
    from optbench.harness.paths import check_output_folder, file_stem
    from optbench.harness.report.build import write_report
    from optbench.harness.report.frame import analyse, records_frame
    from optbench.harness.store import Store, check

    folder = Path("results/advise") / file_stem(objective)
    out, store = out or folder, store or (out or folder) / "runs.sqlite"
    check(store)  # before measuring: a store that cannot be used is refused at once
    check_output_folder(out, "--out")
    command = shlex.join(["optbench", *sys.argv[1:]])
    rule = Rule()
    console.print(f"measuring {objective} and calibrating the optimizers…")
    plan, scalar_s, batch_s = advice.plan(objective, parse_pairs(option, "--option"), minutes, optimizer,
                                          workers or None, advice.process_age_s(), instances, holdout, rule)
    print_plan(plan, scalar_s, batch_s, minutes, advice.process_age_s())
    store.parent.mkdir(parents=True, exist_ok=True)
    with Store.open(store) as opened:
        def execute(cells):
            result = run_matrix(resolve(cells), opened, workers=plan.workers, quiet=quiet, command=command)
            return result.records, result.wall_s

        outcome = race_loop.run_race(plan, rule, execute, lambda: advice.TARGET * minutes * 60 - advice.process_age_s(),
                                  lambda line: console.print(f"[{advice.process_age_s():5.0f} s] {line}"))
    console.print(f"the race stopped: {outcome.stopped}")
    frame = records_frame(outcome.records)
    held = race_loop.held_out_labels(analyse(frame), outcome.validation)
    race = outcome.race.summary(plan.first_block, outcome.stopped)
    race_loop.write_race(outcome, out)
    index = write_report(frame, out / "report", n_boot=1000, rule=rule, held=held,
                         figures_per_class=advice.REPORT_FIGURES)
    console.print(f"report: {index}")
    doc = decision_doc.build(frame, rule, str(store), command, held=held, race=race)
    print_decision(doc, rule, *decision_doc.write(doc, out))
    total = advice.process_age_s()
    console.print(f"advise took {total / 60:.2f} min of the {minutes:g} given ({100 * total / (60 * minutes):.0f} %)")


def print_plan(plan: Plan, scalar_s: float, batch_s: float, minutes: float, spent_s: float) -> None:
    """What was measured and what will race."""
    console.print(f"one evaluation: {1e3 * scalar_s:.3g} ms scalar, {1e3 * batch_s:.3g} ms per candidate in a batch "
                  f"of 256; {spent_s:.1f} s spent so far (start-up, measuring, calibrating)")
    held = (f"{round(plan.holdout * plan.n_instances)} held out (the validation round runs {len(plan.held_out)})"
            if plan.holdout else "none held out: the choice cannot be checked")
    console.print(f"instances: {plan.n_instances}; {len(plan.training)} for training, {held}")
    console.print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: pool starts and the report "
                  f"estimated at {plan.slowdown:.2g}× their idle-machine time")
    table = Table(title=f"race for {minutes:g} min: {len(plan.contenders)} contenders (budgets {plan.budgets}), first "
                        f"block {plan.first_block} instance(s) × {plan.seeds} seed(s) on {plan.workers} workers, "
                        f"~{plan.estimate_s:.0f} s with the validation round")
    for col in ("optimizer", "objective ms/eval", "optimizer ms/eval", f"est. s per run at {plan.budgets[-1]}"):
        table.add_column(col, justify="left" if col == "optimizer" else "right")
    for name, cal in plan.calibrations.items():
        table.add_row(name, f"{1e3 * cal.eval_s:.3g}", f"{1e3 * cal.overhead_s:.3g}", f"{cal.cell_s(plan.budgets[-1]):.2f}")
    for name, why in plan.dropped.items():
        table.add_row(f"[yellow]{name}[/yellow]", "-", "-", f"[yellow]left out: {why}[/yellow]")
    console.print(table)
    caps = ", ".join(f"{cap:g} s at {b}" for b, cap in plan.caps.items())
    console.print(f"budgets are evaluations (what the decision ships); to keep to the minutes each run is also "
                  f"capped at {caps} (CAP_FACTOR × the slowest estimate): a run the cap cuts is recorded "
                  f"'capped', not 'ok', and the cap is never shipped")
