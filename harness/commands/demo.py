"""``optbench demo``: the main job on its defaults — run the quick suite, report, decide."""

from __future__ import annotations

from pathlib import Path

import typer

from optbench.harness.commands.common import MAX_WORKERS, WORKERS_HELP, console


def register(app: typer.Typer) -> None:
    app.command("demo", help="The main job: run the `quick` suite (resuming what the store already has), "
                             "write the report and the decision (results/DECISION.md).")(demo)


def demo(
    store: Path = typer.Option(Path("results/optbench.sqlite"), "--store", help="the SQLite results store"),
    out: Path = typer.Option(Path("results"), "--out", help="folder for report/, DECISION.md, decision.json"),
    suite: str = typer.Option("quick", "--suite", help="the suite to run (see harness/suites.toml)"),
    workers: int = typer.Option(0, "--workers", min=0, max=MAX_WORKERS, help=WORKERS_HELP),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    from optbench.harness.cli import app
    from optbench.harness.paths import check_output_folder
    from optbench.harness.store import check

    check(store)
    check_output_folder(out, "--out")
    steps = [
        ["run", "--suite", suite, "--store", str(store), *(["--workers", str(workers)] if workers else []),
         *(["--quiet"] if quiet else [])],
        ["report", "--store", str(store), "--out", str(out / "report")],
        ["decide", "--store", str(store), "--out", str(out)],
    ]
    for step in steps:
        console.rule(f"optbench {' '.join(step)}")
        try:
            app(args=step, standalone_mode=False)
        except SystemExit as exit_:  # `run` exits 1 when some cells failed: they are rows in the report
            if exit_.code not in (0, 1, None):
                raise
    console.print(f"\nDone. Open {out / 'report' / 'index.html'}; the decision is in {out / 'DECISION.md'}.")
