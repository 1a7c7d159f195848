"""``optbench run``: run one cell and print its record (a table, or ``--json``)."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

from .common import console, parse_pairs


def register(app: typer.Typer) -> None:
    app.command("run", help="Run one optimizer on one objective under a budget and print the run record.")(run)


def run(
    objective: str = typer.Option(..., "--objective", help="objective name (see `optbench list`)"),
    optimizer: str = typer.Option(..., "--optimizer", help="optimizer name (see `optbench list`)"),
    option: Optional[list[str]] = typer.Option(None, "--option", help="objective option key=value (repeatable)"),
    opt: Optional[list[str]] = typer.Option(None, "--opt", help="optimizer option key=value (repeatable)"),
    budget: Optional[int] = typer.Option(500, "--budget", help="maximum number of evaluations"),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="maximum wall time in seconds"),
    seed: int = typer.Option(0, "--seed", help="random seed of the optimizer"),
    as_json: bool = typer.Option(False, "--json", help="print the record as JSON"),
) -> None:
    from ..budget import Budget
    from ..runner import Cell, run_cell

    cell = Cell(objective, optimizer, Budget(budget, seconds), seed, parse_pairs(option, "--option"),
                parse_pairs(opt, "--opt"))
    cell.validate()
    record = run_cell(cell)
    if as_json:
        print(record.to_json(indent=2))
    else:
        print_record(record)
    raise typer.Exit(0 if record.status == "ok" else 1)


def print_record(record) -> None:
    """A two-column table of a record's fields (the trace summarized)."""
    table = Table(title=f"{record.optimizer} on {record.objective}", show_header=False)
    for key, value in record.to_dict().items():
        if key == "trace":
            value = f"{len(value)} improvements; last {value[-1] if value else '-'}"
        elif key == "versions":
            value = ", ".join(f"{k} {v}" for k, v in value.items() if k in ("python", "torch", "scipy", "git_commit"))
        elif isinstance(value, float):
            value = f"{value:.6g}"
        elif isinstance(value, dict):
            value = json.dumps(value, default=str)
        table.add_row(key, str(value))
    console.print(table)
