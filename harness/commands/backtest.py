"""``optbench backtest``: solve the 280-problem goog workload per optimizer and compare them."""

from __future__ import annotations

import json
import math

import typer
from rich.table import Table

from optbench.harness.commands.common import console

COLUMNS = {  # summary key -> (heading, format)
    "wall_s": ("wall s", "{:.3f}"),
    "problems_per_s": ("problems/s", "{:.1f}"),
    "total_profit": ("total profit", "{:.4f}"),
    "decision_profit": ("decision profit", "{:.4f}"),
    "median_ratio": ("median ratio", "{:.5f}"),
    "p5_ratio": ("p5 ratio", "{:.4f}"),
    "share_at_0999": ("≥ 0.999", "{:.1%}"),
    "worse_than_baseline": ("worse than baseline", "{:.0f}"),
    "evals_per_problem": ("evals/problem", "{:.0f}"),
}


def register(app: typer.Typer) -> None:
    app.command("backtest", help="Solve the backtest workload (70 goog windows × entry/exit, always-on × both "
                                 "close policies = 280 MaxDiff problems) and compare optimizers.")(backtest)


def backtest(
    optimizer: list[str] | None = typer.Option(None, "--optimizer", help="optimizer (repeatable); "
                                                  "default batched.exact"),
    baseline: str = typer.Option("scipy.direct", "--baseline", help="optimizer the 'worse than' column "
                                 "compares with (always run); 'none' to skip"),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda"),
    workers: int = typer.Option(1, "--workers", help="processes sharing the workload"),
    budget: int = typer.Option(500, "--budget", help="evaluations per one-by-one run (batched ones size themselves)"),
    seed: int = typer.Option(0, "--seed", help="optimizer seed"),
    windows: int = typer.Option(70, "--windows", help="use the first N goog windows (4 problems each)"),
    one_by_one: bool = typer.Option(False, "--one-by-one", help="run batched optimizers problem by problem too"),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
) -> None:
    from optbench.harness.workloads.maxdiff import backtest as bt
    from optbench.plugins import stdout_to_stderr

    probs = bt.problems(range(windows))
    names = list(dict.fromkeys(optimizer or [bt.DEFAULT_OPTIMIZER]))
    if baseline != "none" and baseline not in names:
        names.append(baseline)
    with stdout_to_stderr():  # the optimizers (plug-ins among them) run here; stdout is for the figures
        outcomes = {n: bt.run(n, probs=probs, device=device, workers=workers, budget=budget, seed=seed,
                              one_by_one=one_by_one) for n in names}
    reference = bt.reference_profits(probs)
    base = outcomes.get(baseline)
    figures = {n: bt.summarize(o, probs, reference, base) for n, o in outcomes.items()}
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    table = Table(title=f"backtest: {len(probs)} problems on goog, device {device}, {workers} worker(s)")
    table.add_column("optimizer")
    for heading, _ in COLUMNS.values():
        table.add_column(heading, justify="right")
    for name, row in figures.items():
        cells = ("-" if math.isnan(row[key]) else fmt.format(row[key]) for key, (_, fmt) in COLUMNS.items())
        table.add_row(name, *cells)
    console.print(table)
    console.print("ratio = 1 − shortfall ÷ |reference profit| (profit ÷ reference where it is positive); the reference "
                  "is MaxDiff's breakpoint optimum. Profits are float64 re-evaluations after the (0, 0) rule.")
