"""``optbench advise``: one command for a user's objective — measure it, size a matrix to the minutes
given, run it with progress, write the report and the decision, print the decision."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer
from rich.table import Table

from optbench.harness.commands.common import MAX_WORKERS, WORKERS_HELP, console, invoke, parse_pairs


def register(app: typer.Typer) -> None:
    app.command("advise", help="Which optimizer for YOUR objective? Measures one evaluation, sizes a matrix "
                               "(optimizers, budgets, seeds) to --minutes, runs it, writes the report and "
                               "the decision.")(advise)


def advise(
    objective: str = typer.Option(..., "--objective", help="objective name (`optbench list`) or package.module:factory"),
    option: list[str] | None = typer.Option(None, "--option", help="objective option key=value (repeatable)"),
    minutes: float = typer.Option(5.0, "--minutes", help="the whole command's wall time, report included"),
    optimizer: list[str] | None = typer.Option(None, "--optimizer",
                                                  help="optimizers to consider (repeatable; default: a general set)"),
    store: Path | None = typer.Option(None, "--store", help="results store (default results/advise/NAME/runs.sqlite)"),
    out: Path | None = typer.Option(None, "--out", help="folder for report/ and the decision (default results/advise/NAME)"),
    workers: int = typer.Option(0, "--workers", min=0, max=MAX_WORKERS, help=WORKERS_HELP),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    from optbench.harness.commands.decide import decide
    from optbench.harness.decision import advise as advice
    from optbench.harness.paths import file_stem
    from optbench.harness.report.build import write_report
    from optbench.harness.report.frame import load
    from optbench.harness.store import Store

    folder = Path("results/advise") / file_stem(objective)
    out, store = out or folder, store or (out or folder) / "runs.sqlite"
    console.print(f"measuring {objective} and calibrating the optimizers…")
    plan, scalar_s, batch_s = advice.plan(objective, parse_pairs(option, "--option"), minutes, optimizer,
                                          workers or None, spent_s=advice.process_age_s())
    print_plan(plan, scalar_s, batch_s, minutes, advice.process_age_s())
    store.parent.mkdir(parents=True, exist_ok=True)
    with Store.open(store) as opened:
        ran = advice.run(plan, opened, minutes, quiet, shlex.join(["optbench", *sys.argv[1:]]))
    if (ran.seeds, ran.budgets) != (plan.seeds, plan.budgets):
        console.print(f"time was left: ran budgets {ran.budgets} × {ran.seeds} seeds")
    index = write_report(load(store), out / "report", n_boot=1000)
    console.print(f"report: {index}")
    invoke(decide, store=store, out=out)
    total = advice.process_age_s()
    console.print(f"advise took {total / 60:.2f} min of the {minutes:g} given ({100 * total / (60 * minutes):.0f} %)")


def print_plan(plan, scalar_s: float, batch_s: float, minutes: float, spent_s: float) -> None:
    """What was measured and what will run."""
    console.print(f"one evaluation: {1e3 * scalar_s:.3g} ms scalar, {1e3 * batch_s:.3g} ms per candidate in a batch "
                  f"of 256; {spent_s:.1f} s spent so far (start-up, measuring, calibrating)")
    table = Table(title=f"plan for {minutes:g} min: budgets {plan.budgets} × {plan.seeds} seeds on {plan.workers} "
                        f"workers, matrix ~{plan.estimate_s:.0f} s")
    for col in ("optimizer", "objective ms/eval", "optimizer ms/eval", f"est. s per run at {plan.budgets[-1]}"):
        table.add_column(col, justify="left" if col == "optimizer" else "right")
    for name, cal in plan.calibrations.items():
        table.add_row(name, f"{1e3 * cal.eval_s:.3g}", f"{1e3 * cal.overhead_s:.3g}", f"{cal.cell_s(plan.budgets[-1]):.2f}")
    for name, why in plan.dropped.items():
        table.add_row(f"[yellow]{name}[/yellow]", "-", "-", f"[yellow]left out: {why}[/yellow]")
    console.print(table)
    caps = ", ".join(f"{plan.cap_s(b):g} s at {b}" for b in plan.budgets)
    console.print(f"budgets are evaluations (what the decision ships); to keep to the minutes each run is also "
                  f"capped at {caps} (CAP_FACTOR × the slowest estimate): a run the cap cuts is recorded "
                  f"'capped', not 'ok', and the cap is never shipped")
