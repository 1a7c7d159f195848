"""``optbench study``: one Optuna TPE study in each parallel mode and at each evaluation cost;
trials/s, parallel efficiency and best value per mode, storage costs, a profile, and a report."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from optbench.harness.commands.common import (
    MAX_SEED,
    MAX_WORKERS,
    add_text_row,
    console,
    console_markup,
    narrow_table,
    parse_pairs,
)

MAX_TRIALS = 1_000_000
MAX_COST_MS = 60_000.0  # a minute per evaluation
TERMINAL_COLUMNS = ["burn", "eval ms", "mode", "trials/s", "speedup", "efficiency", "startup s", "CPU ms/trial",
                    "best value"]


def register(app: typer.Typer) -> None:
    app.command("study", help="Run an Optuna TPE study in each parallel mode (single, threads, SQLite, journal, "
                              "independent studies, Dask) at several evaluation costs; report trials/s, "
                              "efficiency and best value, storage cost per trial and a profile.")(study)


def _floats(text: str, what: str) -> list[float]:
    from optbench.harness.core.errors import HarnessError

    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise HarnessError(f"{what} {text!r} must be comma-separated numbers") from None
    if not values or not all(0 < v <= MAX_COST_MS for v in values):  # False for NaN too
        raise HarnessError(f"{what} {text!r} must list numbers above 0 and at most {MAX_COST_MS:g}")
    return values


def study(
    objective: str = typer.Option("ma_crossover", "--objective", help="objective name (see `optbench list`)"),
    option: list[str] | None = typer.Option(None, "--option", help="objective option key=value (repeatable)"),
    trials: int = typer.Option(40, "--trials", min=1, max=MAX_TRIALS, help="trials per study"),
    workers: int = typer.Option(2, "--workers", min=1, max=MAX_WORKERS,
                                help="threads / processes / studies in the parallel modes"),
    mode: str = typer.Option("all", "--mode", help="comma-separated modes, or all: single, threads, sqlite, "
                                                   "journal, independent, dask"),
    cost_ms: str = typer.Option("0.1,10,200", "--cost-ms", help="evaluation costs to reach, ms (comma-separated)"),
    burn: str = typer.Option("work", "--burn", help="CPU work that sets the cost: work (synthetic sphere, torch) "
                                                    "and/or python (pure-Python loop, holds the GIL)"),
    repeats: int = typer.Option(1, "--repeats", min=1, max=100,
                                help="runs per mode; the fastest is kept (damps other load)"),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED,
                             help="TPE sampler seed (worker i of a shared study uses seed + i)"),
    start_method: str = typer.Option("fork", "--start-method", help="worker processes: fork or spawn"),
    storage_trials: int = typer.Option(100, "--storage-trials", min=0, max=MAX_TRIALS,
                                       help="trials in the storage benchmark (0: skip)"),
    profile_trials: int = typer.Option(60, "--profile-trials", min=0, max=MAX_TRIALS,
                                       help="trials in the profiled study (0: skip)"),
    store: Path | None = typer.Option(Path("results/study.sqlite"), "--store",
                                         help="results store the mode rows are written to"),
    no_store: bool = typer.Option(False, "--no-store", help="do not write the results store"),
    out: Path = typer.Option(Path("results/study"), "--out", help="folder for CSV/JSON, study.md and plots"),
    storage: str | None = typer.Option(None, "--storage", help="keep every study in this Optuna storage, named "
                                       "MODE/PROBLEM/BURN-COSTms: sqlite:///FILE.db or a journal file path "
                                       "(open with optuna.load_study or optuna-dashboard); default: temporary"),
) -> None:
    from optbench import objectives
    from optbench.harness.paths import check_output_file, check_output_folder
    from optbench.harness.store import check
    from optbench.harness.study.cost import Burn
    from optbench.harness.study.modes import MODES, StudyConfig, run_modes
    from optbench.harness.study.profile import measure_overheads
    from optbench.harness.study.report import modes_table, recommendation, write_study_report
    from optbench.harness.study.results import mode_dicts, save_to_store, write_files
    from optbench.harness.study.storage import kept_file

    options = parse_pairs(option, "--option")
    cfg = StudyConfig(objective, options, trials, workers, seed, start_method)
    modes = list(MODES) if mode == "all" else [m.strip() for m in mode.split(",")]
    costs, burns = _floats(cost_ms, "--cost-ms"), [b.strip() for b in burn.split(",")]
    for kind in burns:
        Burn(kind, 1)  # an unknown burn is refused now, not after the first modes ran
    check_output_folder(out, "--out")
    if not no_store and store is not None:
        check(store)
    if storage is not None and (kept := kept_file(storage)) is not None:
        check_output_file(kept, "--storage")
    rows = run_modes(cfg, modes, costs, burns, repeats=repeats, keep_in=storage, progress=lambda r: console.print(
        f"[dim]{r.burn} {r.cost_ms:g} ms · {r.mode}: {r.trials_per_s:.3g} trials/s, eval {r.eval_ms:.3g} ms, "
        f"start-up {r.startup_s:.2f} s, load {r.load_avg:.1f}[/dim]"))
    tables = measure_overheads(objective, options, storage_trials, profile_trials, out / "profiles", seed)
    files = write_files(out, {"modes": mode_dicts(rows), **tables.to_json()})
    report = write_study_report(out, rows, tables)
    if not no_store and store is not None:
        reference = objectives.get(objective, **options).reference()  # None: no known optimum (a plug-in)
        save_to_store(rows, store, "optbench " + " ".join(sys.argv[1:]), reference.value if reference else None)
    _print(modes_table(rows)[TERMINAL_COLUMNS], f"{objective}: {workers} workers, {trials} trials per study")
    for line in recommendation(rows, tables):
        console.print(console_markup(line))
    console.print(f"wrote {report}, {len(files)} data files under {out}"
                  + ("" if no_store or store is None else f", {len(rows)} rows to {store}")
                  + ("" if storage is None else f"; Optuna studies kept in {storage} (optuna-dashboard {storage})"))


def _print(frame, title: str) -> None:
    table = narrow_table([str(c) for c in frame.columns], title, left=("burn", "mode"))
    for row in frame.itertuples(index=False):
        add_text_row(table, row)
    console.print(table)
