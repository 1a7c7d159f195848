"""``optbench profile``: cProfile + py-spy profiles of one cell (or of every optimizer with ``--all``)
and the breakdown of where the time went."""

from __future__ import annotations

import shutil
import subprocess
import webbrowser
from pathlib import Path

import typer
from rich.table import Table

from optbench.harness.commands.common import MAX_SEED, console, err_console, parse_pairs
from optbench.harness.core.budget import MAX_EVALS


def register(app: typer.Typer) -> None:
    app.command("profile", help="Profile a cell with cProfile (NAME.prof) and py-spy (NAME.svg, "
                                "NAME.speedscope.json) and print where the time went.")(profile)


def profile(
    objective: str = typer.Option(..., "--objective", help="objective name (see `optbench list`)"),
    optimizer: str | None = typer.Option(None, "--optimizer", help="optimizer name; omit with --all"),
    option: list[str] | None = typer.Option(None, "--option", help="objective option key=value (repeatable)"),
    opt: list[str] | None = typer.Option(None, "--opt", help="optimizer option key=value (repeatable)"),
    budget: int | None = typer.Option(500, "--budget", min=1, max=MAX_EVALS, help="maximum number of evaluations"),
    seconds: float | None = typer.Option(None, "--seconds", help="maximum wall time in seconds"),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED, help="random seed of the optimizer"),
    out: Path = typer.Option(Path("profiles"), "--out", help="folder for the generated files"),
    native: bool = typer.Option(False, "--native", help="py-spy --native: include C/C++ frames (libtorch)"),
    open_: bool = typer.Option(False, "--open", help="launch snakeviz on the .prof (with --all: open index.html)"),
    all_: bool = typer.Option(False, "--all", help="profile every registered optimizer; writes index.html, breakdown.csv"),
    top: int = typer.Option(15, "--top", min=1, max=10_000, help="how many functions to list by own time"),
    no_py_spy: bool = typer.Option(False, "--no-py-spy", help="cProfile only (skip the two py-spy child runs)"),
    trace: bool = typer.Option(False, "--trace", help="also write NAME.trace.json: the timeline of one run "
                                                      "(Chrome trace: Perfetto, chrome://tracing, speedscope)"),
    torch_profiler: bool = typer.Option(False, "--torch-profiler",
                                        help="with --trace: merge torch.profiler's CPU/CUDA activity into it"),
) -> None:
    from optbench.harness import optimizers
    from optbench.harness.core.budget import Budget
    from optbench.harness.core.errors import HarnessError
    from optbench.harness.core.record import Cell
    from optbench.harness.core.runner import declared_family, validate
    from optbench.harness.paths import check_output_folder
    from optbench.harness.profiling.cell import profile_cell, write_csv, write_index

    if all_ == (optimizer is not None):
        raise HarnessError("give either --optimizer NAME or --all (every registered optimizer that solves it)")
    if torch_profiler and not trace:
        raise HarnessError("--torch-profiler merges into the timeline: give --trace too")
    if all_ and opt:
        raise HarnessError("--opt applies to one optimizer; it cannot be combined with --all")
    names = optimizers.names(declared_family(objective)) if all_ or optimizer is None else [optimizer]
    cells = [Cell(objective, name, Budget(budget, seconds), seed, parse_pairs(option, "--option"),
                  parse_pairs(opt, "--opt")) for name in names]
    for cell in cells:
        validate(cell)
    check_output_folder(out, "--out")
    results = []
    for i, cell in enumerate(cells, 1):
        if all_:
            console.print(f"[bold]({i}/{len(cells)}) profiling {cell.optimizer}…[/bold]")
        result = profile_cell(cell, out, native=native, py_spy=not no_py_spy, top_n=top, trace=trace,
                              torch_profiler=torch_profiler)
        print_result(result, out)
        results.append(result)
    if all_:
        write_index(results, out / "index.html")
        write_csv(results, out / "breakdown.csv")
        console.print(f"wrote {out / 'index.html'} and {out / 'breakdown.csv'}")
    if open_:
        _open(out / "index.html" if all_ else out / results[0].files["prof"])


def print_result(result, out: Path) -> None:
    """The breakdown table, the calls line, the top functions and the files written."""
    from optbench.harness.profiling.cell import calls_summary, comparison_rows, run_summary

    rec = result.record
    rows = comparison_rows(result)
    table = Table(title=f"{rec.optimizer} on {rec.objective} {rec.options or ''}: {rec.status}, "
                        f"{rec.n_evals} evals, value {rec.value}")
    for col in rows[0]:
        table.add_column(col, justify="left" if col in ("group", "instrument") else "right",
                         no_wrap=col == "group")
    for row in rows[1:]:
        table.add_row(*row, end_section=row[0] == "other")
    console.print(table)
    console.print("cProfile own time by group; the instrument's split of the profiled run and of a plain run")
    console.print(calls_summary(result))
    console.print(run_summary(result))
    if result.syncs and result.syncs.warning():
        err_console.print(f"[yellow]{result.syncs.warning()}[/yellow]")
    top = Table(title="top functions by own time (cProfile)")
    for col in ("own s", "calls", "cum s", "group", "function"):
        top.add_column(col, justify="left" if col == "function" else "right")
    for h in result.breakdown.top:
        top.add_row(f"{h.own_s:.4f}", str(h.calls), f"{h.cum_s:.4f}", h.group, h.label)
    console.print(top)
    if result.py_spy_message:
        err_console.print(f"[yellow]{result.py_spy_message}[/yellow]")
    else:
        inside, total = result.py_spy_samples
        console.print(f"py-spy: {total} samples, {inside / max(total, 1):.0%} inside the measured runs "
                      f"(the cell ran {result.py_spy_runs}× after its warm-up)")
    console.print(f"wrote in {out}/: " + ", ".join(result.files.values()))
    console.print(f"view the profile: snakeviz {out / result.files['prof']}")
    if "trace" in result.files:
        console.print(f"view the timeline: drop {out / result.files['trace']} on https://ui.perfetto.dev "
                      "(or chrome://tracing, speedscope); offline: see profiles/README.md")


def _open(path: Path) -> None:
    if path.suffix == ".html":
        webbrowser.open(path.resolve().as_uri())
    elif shutil.which("snakeviz"):
        subprocess.Popen(["snakeviz", str(path)])
    else:
        err_console.print("[yellow]snakeviz is not installed (pip install snakeviz)[/yellow]")
