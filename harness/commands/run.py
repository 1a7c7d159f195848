"""``optbench run``: a matrix of cells (or one cell) on all cores or Dask, stored and resumable."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer
from rich.table import Table

from optbench.harness.commands.common import MAX_SEED, MAX_SEEDS, MAX_WORKERS, WORKERS_HELP, console, parse_pairs
from optbench.harness.core.budget import MAX_EVALS, MAX_SECONDS
from optbench.harness.store import DEFAULT_PATH

MATRIX_FLAGS = "--objective/--optimizer/--option/--instances/--opt/--budget/--seconds/--seed/--seeds"
SEED_HELP = "seed K or seeds START:STOP[:STEP] (STOP excluded), repeatable: all of them (default 0)"
STORE_HELP = f"the SQLite results store (default {DEFAULT_PATH}; the demo keeps its own)"
INSTANCES_HELP = ("problem instances, KEY=V1,V2,… or KEY=START:STOP[:STEP] (STOP excluded), repeatable: their "
                  "cartesian product, over --option; `declared`: the objective's own instances")


def register(app: typer.Typer) -> None:
    app.command("run", help="Run a matrix (objectives × optimizers × budgets × seeds, or --suite NAME) on "
                            "every core, store each result, skip cells already ok in the store; one "
                            "--objective and one --optimizer run one cell.")(run)


def run(
    objective: list[str] | None = typer.Option(None, "--objective",
                                                  help="objective name (repeatable; `optbench list`)"),
    optimizer: list[str] | None = typer.Option(None, "--optimizer", help="optimizer name (repeatable)"),
    option: list[str] | None = typer.Option(None, "--option",
                                               help="objective option key=value, for every objective (repeatable)"),
    instances: list[str] | None = typer.Option(None, "--instances", help=INSTANCES_HELP),
    opt: list[str] | None = typer.Option(None, "--opt",
                                            help="optimizer option key=value, for every optimizer (repeatable)"),
    budget: list[int] | None = typer.Option(None, "--budget", min=1, max=MAX_EVALS,
                                            help="maximum evaluations (repeatable; default 500)"),
    seconds: float | None = typer.Option(None, "--seconds", help="maximum wall time per cell in seconds"),
    seed: list[str] | None = typer.Option(None, "--seed", help=SEED_HELP),
    seeds: int | None = typer.Option(None, "--seeds", min=1, max=MAX_SEEDS, help="seeds 0 … N−1"),
    suite: str | None = typer.Option(None, "--suite",
                                        help="a named matrix from harness/execution/suites.toml: quick, full, backtest, bbob"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="do not read or write a store (no resume)"),
    workers: int = typer.Option(0, "--workers", min=0, max=MAX_WORKERS, help=WORKERS_HELP),
    dask: str | None = typer.Option(None, "--dask", help="a Dask scheduler address, or 'local' for a LocalCluster"),
    cell_timeout: float = typer.Option(1800.0, "--cell-timeout", min=0, max=MAX_SECONDS,
                                       help="seconds before a cell is killed (0: no limit)"),
    force: bool = typer.Option(False, "--force", help="re-run cells already ok in the store"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list the cells (and which are done) without running"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar (CI); the summary line is kept"),
    as_json: bool = typer.Option(False, "--json", help="print the records as JSON, one per line"),
) -> None:
    from optbench.harness.commands.common import err_console
    from optbench.harness.execution.matrix import resolve, run_matrix
    from optbench.harness.store import check
    from optbench.plugins import stdout_to_stderr

    path = None if no_store else store or DEFAULT_PATH
    with stdout_to_stderr():  # the user's factories and adapters run here; stdout is for the output below
        cells = resolve(_cells(suite, objective, optimizer, option, opt, budget, seconds, seed, seeds, instances))
        if path is not None and not dry_run:
            check(path)  # before any worker starts; run_matrix opens it once they are up
        result = None if dry_run else run_matrix(
            cells, path, workers=workers or None, dask=dask, cell_timeout_s=cell_timeout or None, force=force,
            quiet=quiet, command=shlex.join(["optbench", *sys.argv[1:]]))
    if result is None:
        _print_cells(cells, path, as_json)
        return
    if store is None and path is not None:  # said once the run is done: a refused start writes nothing
        err_console.print(f"stored in {path}, the default store (--store PATH for another, --no-store for none)",
                          highlight=False, soft_wrap=True)
    if as_json:
        for record in result.records:
            print(record.to_json())
    elif len(result.records) == 1:
        print_record(result.records[0])
    else:
        _print_records(result.records)
    if result.failed:
        sys.exit(1)


def _cells(suite, objective, optimizer, option, opt, budget, seconds, seed, seeds, instances=None):
    from optbench.harness.core.budget import Budget
    from optbench.harness.core.errors import HarnessError
    from optbench.harness.execution import suites
    from optbench.harness.execution.instances import of_objective
    from optbench.harness.execution.matrix import expand

    if suite is not None:
        if objective or optimizer or option or instances or opt or budget or seconds or seed or seeds is not None:
            raise HarnessError(f"--suite {suite} defines the whole matrix; drop {MATRIX_FLAGS}")
        return suites.cells(suite)
    if seed and seeds is not None:
        raise HarnessError("give --seed K or START:STOP (those seeds) or --seeds N (seeds 0 … N−1), not both")
    if seeds is not None and seeds < 1:
        raise HarnessError(f"--seeds {seeds} must be at least 1")
    objective_options, optimizer_options = parse_pairs(option, "--option"), parse_pairs(opt, "--opt")
    return expand([(name, i) for name in objective or [] for i in of_objective(name, objective_options, instances)],
                  [(name, optimizer_options) for name in optimizer or []],
                  [Budget(n, seconds) for n in budget or [500]],
                  range(seeds) if seeds is not None else parse_seeds(seed) or [0])


def parse_seeds(specs: list[str] | None) -> list[int]:
    """``["3", "5:8"]`` -> ``[3, 5, 6, 7]``: each ``--seed`` is one seed or a ``START:STOP[:STEP]``
    range (STOP excluded); repeats are kept once, in the order given."""
    from optbench.harness.core.errors import HarnessError
    from optbench.harness.execution.instances import int_range

    out: dict[int, None] = {}
    for spec in specs or []:
        what = f"--seed {spec!r}"
        text = spec.strip()
        one = text.isascii() and text.isdigit()
        found = int_range(text, what) if ":" in text else range(int(text), int(text) + 1) if one else None
        if found is None:
            raise HarnessError(f"{what} must be a seed (an integer from 0) or START:STOP[:STEP]")
        if len(found) > MAX_SEEDS or min(found[0], found[-1]) < 0 or max(found[0], found[-1]) > MAX_SEED:
            raise HarnessError(f"{what}: seeds run from 0 to {MAX_SEED}, at most {MAX_SEEDS} of them")
        out.update(dict.fromkeys(found))
    if len(out) > MAX_SEEDS:
        raise HarnessError(f"--seed gives {len(out)} seeds, more than {MAX_SEEDS}")
    return list(out)


def _changed(options: dict, defaults: dict) -> str:
    """The options that differ from their defaults, as ``k=v`` text."""
    return " ".join(f"{k}={v}" for k, v in options.items() if defaults.get(k, object()) != v)


def _labels(objective: str, options: dict, optimizer: str, optimizer_options: dict, budget: dict,
            seed: int) -> list[str]:
    """A cell's columns in the tables; options are shown where they differ from the defaults."""
    from optbench import objectives
    from optbench.harness import optimizers

    max_evals, max_s = budget["max_evals"], budget["max_seconds"]
    return [" ".join(filter(None, (objective, _changed(options, objectives.option_defaults(objective))))),
            " ".join(filter(None, (optimizer,
                                   _changed(optimizer_options, optimizers.adapter_class(optimizer).defaults)))),
            f"{max_evals}" + (f", {max_s:g} s" if max_s else ""), str(seed)]


def _cell_fields(c) -> dict:
    return {"objective": c.objective, "options": c.options, "optimizer": c.optimizer,
            "optimizer_options": c.optimizer_options,
            "budget": {"max_evals": c.budget.max_evals, "max_seconds": c.budget.max_seconds}, "seed": c.seed}


def _num(value) -> str:
    return "-" if value is None else f"{value:.6g}"


def _print_cells(cells, store_path: Path | None, as_json: bool) -> None:
    from optbench.harness.store import cell_key, ok_records

    done = ok_records(store_path) if store_path is not None else {}  # a dry run writes nothing
    if as_json:
        for c in cells:
            print(json.dumps({**_cell_fields(c), "done": cell_key(c) in done}, default=str))
        return
    table = Table(title=f"{len(cells)} cells, {sum(cell_key(c) in done for c in cells)} already ok in the store")
    for col in ("#", "objective", "optimizer", "budget", "seed", "state"):
        table.add_column(col)
    for i, c in enumerate(cells, 1):
        table.add_row(str(i), *_labels(**_cell_fields(c)), "done" if cell_key(c) in done else "to run")
    console.print(table)


MAX_TABLE_ROWS = 40


def _print_records(records) -> None:
    """Every cell of a small matrix; of a large one only the cells that are not ok."""
    title = f"{len(records)} cells"
    if len(records) > MAX_TABLE_ROWS:
        records = [r for r in records if r.status != "ok"]
        title += f"; the {len(records)} not ok (every row: --json, `optbench report`, `optbench export`)"
        if not records:
            console.print(title)
            return
    table = Table(title=title)
    for col in ("objective", "optimizer", "budget", "seed", "status", "value", "reference", "evals", "wall s"):
        table.add_column(col, justify="right" if col in ("value", "reference", "evals", "wall s") else "left")
    for r in records:
        status = r.status if r.status == "ok" else f"[red]{r.status}[/red]"
        table.add_row(*_labels(r.objective, r.options, r.optimizer, r.optimizer_options, r.budget, r.seed),
                      status, _num(r.value), _num(r.reference_value), str(r.n_evals), f"{r.wall_s:.3f}")
    console.print(table)


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
