"""``optbench list``: every registered objective (options, parameters) and optimizer."""

from __future__ import annotations

import typer
from rich.table import Table

from optbench.harness.commands.common import console


def register(app: typer.Typer) -> None:
    app.command("list", help="List registered objectives (with options and parameters) and optimizers.")(list_all)


def list_all() -> None:
    from optbench import objectives
    from optbench.harness import optimizers

    table = Table(title="Objectives (minimized)")
    for col in ("name", "options (default)", "parameters"):
        table.add_column(col)
    for name in objectives.names():
        defaults = objectives.option_defaults(name)
        helps = objectives.option_help(name)
        opts = "\n".join(f"{k}={v!r}  {helps.get(k, '')}" for k, v in defaults.items()) or "-"
        table.add_row(name, opts, objectives.get(name).space.describe())
    console.print(table)
    opt_table = Table(title="Optimizers")
    for col in ("name", "options (default)", "seedable"):
        opt_table.add_column(col)
    for name in optimizers.names():
        cls = optimizers.adapter_class(name)
        opt_table.add_row(name, ", ".join(f"{k}={v!r}" for k, v in cls.defaults.items()) or "-",
                          "yes" if cls.seedable else "no")
    console.print(opt_table)
