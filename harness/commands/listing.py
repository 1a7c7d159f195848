"""``optbench list``: every registered objective (options, parameters) and optimizer, and where
each name comes from (builtin, an installed distribution's entry point, a plug-in module or file)."""

from __future__ import annotations

import typer

from optbench.harness.commands.common import add_text_row, console, narrow_table


def register(app: typer.Typer) -> None:
    app.command("list", help="List registered objectives (family, options, parameters, knowledge of their "
                             "optimum) and optimizers (the objectives each solves), and where each comes from.")(list_all)


def list_all() -> None:
    from optbench import objectives
    from optbench.harness import optimizers

    columns = ["name", "from", "family", "options (default)", "parameters", "knowledge"]
    table = narrow_table(columns, "Objectives (minimized)", left=tuple(columns))
    for name in objectives.names():
        add_text_row(table, [name, objectives.REGISTRY.origin(name), *_objective_columns(name)])
    console.print(table)
    columns = ["name", "from", "options (default)", "seedable", "solves"]
    opt_table = narrow_table(columns, "Optimizers", left=tuple(columns))
    for name in optimizers.names():
        try:
            cls = optimizers.adapter_class(name)
            row = [", ".join(f"{k}={v!r}" for k, v in cls.defaults.items()) or "-", "yes" if cls.seedable else "no",
                   f"{cls.requires} only" if cls.requires else "any objective"]
        except Exception as exc:  # a broken plug-in is a row that says so, not a failed listing
            row = [f"cannot load: {exc}", "-", "-"]
        add_text_row(opt_table, [name, optimizers.REGISTRY.origin(name), *row])
    console.print(opt_table)


def _objective_columns(name: str) -> list[str]:
    """The family, options with their help, the parameters and what the objective knows of its optimum."""
    from optbench import objectives

    try:
        defaults = objectives.option_defaults(name)
        helps = objectives.option_help(name)
        built = objectives.get(name)
    except Exception as exc:  # a broken plug-in is a row that says so, not a failed listing
        return ["-", f"cannot load: {exc}", "-", "-"]
    opts = "\n".join(f"{k}={v!r}  {helps.get(k, '')}" for k, v in defaults.items()) or "-"
    knowledge = "none (best found)" if built.knowledge == "none" else built.knowledge
    return [built.family or name, opts, built.space.describe(), knowledge]
