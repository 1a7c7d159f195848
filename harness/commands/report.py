"""``optbench report``: tables (Markdown, CSV), plots (PNG, SVG) and an HTML page from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import console

STORE_HELP = "results store (default results/optbench.sqlite), or a JSON/JSON-lines file of records"


def register(app: typer.Typer) -> None:
    app.command("report", help="Write the report (index.html, report.md, CSV tables, PNG/SVG plots) "
                               "from the results store.")(report)


def report(
    store: Optional[Path] = typer.Option(None, "--store", help=STORE_HELP),
    out: Path = typer.Option(Path("results/report"), "--out", help="output folder"),
    n_boot: int = typer.Option(2000, "--n-boot", min=100, help="bootstrap resamples per confidence interval"),
    seed: int = typer.Option(0, "--seed", help="seed of the bootstrap"),
    study: Optional[Path] = typer.Option(None, "--study", help="also report `optbench study` results from this store"),
) -> None:
    from ..report.build import write_report
    from ..report.frame import load

    extra = []
    if study is not None:
        from ..report_study import study_section

        extra.append(study_section(study, out / "plots")[0])
    index = write_report(load(store), out, n_boot=n_boot, seed=seed, extra=extra)
    console.print(f"report: {index}  (also {out / 'report.md'}, CSV tables and plots/ in {out})")
