"""``optbench demo``: the main job on its defaults — run the quick suite, report, decide.

The store, the report and the decision go to ``--out`` (default ``results/demo/``), apart from
``optbench run``'s default store. The decision never replaces the one production code reads
(``optbench.recommended``: ``$OPTBENCH_DECISION`` or ``./results/decision.json``) unless
``--overwrite-decision``: with ``--out results`` and a shipped decision there, the demo writes its
own to ``results/demo/`` and says so.
"""

from __future__ import annotations

from pathlib import Path

import typer

from optbench.harness.commands.common import MAX_WORKERS, WORKERS_HELP, console, invoke

DEFAULT_OUT = Path("results/demo")
STORE_NAME = "optbench.sqlite"  # the demo's store is in its --out folder, apart from `optbench run`'s
FIGURES_PER_CLASS = 2  # matplotlib took most of the demo's time drawing every objective's figures


def register(app: typer.Typer) -> None:
    app.command("demo", help="The main job: run the `quick` suite into --out's store (resuming what it has), write "
                             "the report and the decision into --out (default results/demo/); a shipped "
                             "decision is only replaced with --overwrite-decision.")(demo)


def demo(
    store: Path | None = typer.Option(None, "--store", help=f"the SQLite results store (default OUT/{STORE_NAME})"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="folder for report/, DECISION.md, decision.json"),
    suite: str = typer.Option("quick", "--suite", help="the suite to run (see harness/execution/suites.toml)"),
    workers: int = typer.Option(0, "--workers", min=0, max=MAX_WORKERS, help=WORKERS_HELP),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
    overwrite_decision: bool = typer.Option(False, "--overwrite-decision", "--force",
                                            help="replace the shipped decision if --out holds it"),
) -> None:
    from optbench.harness.commands.decide import decide
    from optbench.harness.commands.report import report
    from optbench.harness.commands.run import run
    from optbench.harness.paths import check_output_folder
    from optbench.harness.store import check

    store = store or out / STORE_NAME
    check(store)
    check_output_folder(out, "--out")
    decision_out = decision_folder(out, overwrite_decision)
    check_output_folder(decision_out, "the decision's folder")
    console.rule(f"optbench run --suite {suite}")
    code = invoke(run, suite=suite, store=store, workers=workers, quiet=quiet)
    if code not in (0, 1):  # 1: some cells failed, they are rows in the report
        raise typer.Exit(code)
    console.rule("optbench report")
    invoke(report, store=store, out=out / "report", figures=FIGURES_PER_CLASS)
    console.rule("optbench decide")
    invoke(decide, store=store, out=decision_out)
    if decision_out != out:
        console.print(f"[yellow]kept the shipped decision in {out} (it is what optbench.recommended() reads); "
                      f"this run's decision is in {decision_out} (--overwrite-decision replaces the shipped one)"
                      "[/yellow]")
    console.print(f"\nDone. Open {out / 'report' / 'index.html'}; the decision is in {decision_out / 'DECISION.md'}.")


def decision_folder(out: Path, overwrite: bool) -> Path:
    """Where the demo writes its decision: ``out``, unless ``out`` holds the decision that
    ``optbench.recommended()`` reads now and ``overwrite`` is off (then ``results/demo/``)."""
    from optbench.harness.decision.recommend import decision_path

    shipped, _ = decision_path()
    holds_it = shipped.resolve().parent == out.resolve() and (shipped.exists() or (out / "DECISION.md").exists())
    return DEFAULT_OUT if holds_it and not overwrite and out.resolve() != DEFAULT_OUT.resolve() else out
