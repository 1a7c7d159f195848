"""``optbench report``: tables (Markdown, CSV), plots (PNG, SVG) and an HTML page from the store."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from optbench.harness.commands.common import console, parse_pairs
from optbench.harness.store import DEFAULT_PATH

STORE_HELP = f"results store (default {DEFAULT_PATH}, where `optbench run` writes), or a JSON/JSON-lines file of records"
RULE_HELP = ("decision rule parameter key=value (repeatable): tolerance, alpha, fast_factor, level, n_boot, seed, "
             "timing (warm, the default, or cold)")
MAX_FIGURES = 100_000
HOLDOUT_HELP = ("share of each class's instances held out to check the choice on (seeded split; default 1/3 "
                "from 6 instances on, else 0: no check)")


def register(app: typer.Typer) -> None:
    app.command("report", help="Write the report (index.html, report.md, CSV tables, PNG/SVG plots) "
                               "from the results store.")(report)


def report(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    out: Path = typer.Option(Path("results/report"), "--out", help="output folder"),
    n_boot: int = typer.Option(2000, "--n-boot", min=100, help="bootstrap resamples per confidence interval"),
    seed: int = typer.Option(0, "--seed", help="seed of the bootstrap"),
    study: Path = typer.Option(Path("results/study.sqlite"), "--study",
                               help="`optbench study` results to add as a section (skipped when absent)"),
    rule: list[str] | None = typer.Option(None, "--rule", help=RULE_HELP),
    decision: Path | None = typer.Option(None, "--decision", help="the DECISION.md the page links to "
                                                                     "(default: DECISION.md beside the --out folder)"),
    holdout: float | None = typer.Option(None, "--holdout", help=HOLDOUT_HELP),
    figures: int | None = typer.Option(None, "--figures", min=0, max=MAX_FIGURES,
                                       help="draw the per-objective figures for the first N objectives of each "
                                            "class only (default: every objective)"),
) -> None:
    from optbench.harness.coco.commands import coco_sections
    from optbench.harness.decision.decide import Rule
    from optbench.harness.paths import check_output_folder
    from optbench.harness.report.build import write_report
    from optbench.harness.report.frame import load

    parsed = Rule.from_pairs({"n_boot": n_boot, "seed": seed, **parse_pairs(rule, "--rule")})
    link = os.path.relpath(decision or out.parent / "DECISION.md", out)
    check_output_folder(out, "--out")
    frame = load(store)  # a bad store is refused before the study section writes its plots
    extra = _study_sections(out / "plots", study) + coco_sections(out)
    index = write_report(frame, out, n_boot=n_boot, seed=seed, extra=extra, rule=parsed, decision_link=link,
                         holdout=holdout, figures_per_class=figures)
    console.print(f"report: {index}  (also {out / 'report.md'}, CSV tables and plots/ in {out}; "
                  f"from {store or DEFAULT_PATH})")


def _study_sections(plots_dir: Path, study: Path) -> list:
    """The study's section; its module (which imports the objectives, torch) only when there is a study."""
    if not study.exists():
        return []
    from optbench.harness.study.report import study_sections

    return study_sections(plots_dir, store=study)
