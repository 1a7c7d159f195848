"""``write_report``: store frame → CSV tables, PNG/SVG plots, ``report.md`` and ``index.html``.

The page opens with the decision (the same ``decide`` and rule as ``optbench decide``), then one
section per objective class (ranking, per-objective quality, fight matrix, runtime ECDFs) with its
objectives collapsed beneath it, then the failures. Any mix of failures gives a complete report:
configurations without a successful run are in the failures table and left out of the figures.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import pandas as pd

from optbench.harness.decision.decide import Rule, decide
from optbench.harness.decision.decision_view import decision_block
from optbench.harness.decision.model import ClassDecision
from optbench.harness.paths import file_stem
from optbench.harness.report import display, plots, stats, tables
from optbench.harness.report.frame import BEST_FOUND, SCALE, analyse
from optbench.harness.report.render import Figure, Section, Table, markdown, md_text, page

TITLE = "optbench report"


def _scale_note(g_obj: pd.DataFrame) -> str:
    kind, value = g_obj["best_known_kind"].iloc[0], g_obj["best_known_value"].iloc[0]
    if pd.isna(value):
        return "Best known value: none (no successful run): quality unknown."
    shown = display.fmt(-value) + " (gain)" if bool(g_obj["gain"].iloc[0]) else display.fmt(value)
    found = f", found by {md_text(g_obj['best_known_run'].iloc[0])}" if kind == BEST_FOUND else ""
    return f"Top of the quality scale: the {kind}, {shown}{found}."


def objective_section(g_obj: pd.DataFrame, summary: pd.DataFrame, target_rows: pd.DataFrame, style: plots.Style,
                      plots_dir: Path, figures: bool = True) -> Section:
    """One objective, collapsed: convergence, Pareto and time-split figures (unless ``figures`` is
    False), then per budget its two tables."""
    obj = g_obj["objective_label"].iloc[0]
    stem, s_obj, kind = file_stem(obj), summary[summary["objective"] == obj], str(g_obj["best_known_kind"].iloc[0])
    name = md_text(obj)  # in captions: a name is text, not Markdown
    sec = Section(obj, level=3, collapsed=True, items=[_scale_note(g_obj)])
    if not figures:
        sec.items.append("Figures left out (a report of many instances draws them for the first few only; "
                         "`optbench report` draws every one).")
    elif g_obj["ok"].any():
        sec.items += [
            Figure(plots.save(plots.convergence(g_obj, style), plots_dir, f"convergence_{stem}"),
                   f"{name}: best-so-far gap to the {kind} vs evaluations and seconds"),
            Figure(plots.save(plots.pareto(s_obj, style, kind), plots_dir, f"pareto_{stem}"),
                   f"{name}: time vs quality with the Pareto front"),
            Figure(plots.save(plots.time_split(g_obj), plots_dir, f"time_split_{stem}"),
                   f"{name}: overhead / compute / .item() per evaluation")]
    else:
        sec.items.append("No successful run: no figures (see Failures).")
    for budget in dict.fromkeys(g_obj["budget_label"]):
        rows, interval = display.summary_display(s_obj[s_obj["budget"] == budget], g_obj)
        no_random = "" if g_obj.loc[g_obj["budget_label"] == budget, "random_value"].notna().any() else \
            " — quality unknown: no random search at this budget"
        sec.items.append(Table(rows, f"{name}, budget {budget}: {interval}{no_random}"))
        t_rows = target_rows[(target_rows["objective"] == obj) & (target_rows["budget"] == budget)]
        if len(t_rows):
            sec.items.append(Table(display.targets_display(t_rows),
                                   f"{name}, budget {budget}: success rate (final value at the target) · ERT "
                                   "(evaluations summed over runs ÷ runs that reached it)"))
    return sec


def class_section(cls: str, g_cls: pd.DataFrame, decided: ClassDecision, fight: pd.DataFrame, style: plots.Style,
                  plots_dir: Path) -> Section:
    """The class summary (ranking, per-objective quality, fight matrix, ECDFs); objectives collapsed below."""
    sec = Section(f"Objective class: {cls}")
    tests = decided.presets["default"].tests
    if tests:
        sec.items.append(Table(display.ranking_display(tests),
                               "Ranking of the decision's candidates (every one ran every objective of the class): "
                               "median class quality over seeds, then time; " + display.interval_name(
                                   t.quality.kind for t in tests)))
    if decided.excluded:
        sec.items.append("Not ranked: " + "; ".join(md_text(f"{e.config} @ {e.budget} ({e.reason})")
                                                    for e in decided.excluded) + ".")
    sec.items.append(Table(display.class_quality_detail(g_cls), "Median quality per objective (what the class "
                           "quality averages): 0 = random search's median, 1 = the best known value"))
    if fight.notna().any().any():
        sec.items.append(Figure(plots.save(plots.fight_heatmap(fight, f"{cls}: fight matrix (median value, ties ½)"),
                                           plots_dir, f"fight_{file_stem(cls)}"),
                                f"{md_text(cls)}: share of problems (objective × budget) where the row beats the column"))
    if g_cls["ok"].any():
        sec.items.append(Figure(plots.save(plots.ecdf(g_cls, style), plots_dir, f"ecdf_{file_stem(cls)}"),
                                f"{md_text(cls)}: runtime ECDFs over targets, by evaluations and by seconds"))
    return sec


def write_report(frame: pd.DataFrame, out: Path, n_boot: int = stats.N_BOOT, seed: int = 0,
                 extra: Sequence[Section] = (), rule: Rule | None = None,
                 decision_link: str = "../DECISION.md", holdout: float | None = None,
                 held: Collection[str] | None = None, figures_per_class: int | None = None) -> Path:
    """Write the whole report under ``out``; returns the path of ``index.html``. ``extra`` sections
    (e.g. ``study.report.study_section``, figures saved under ``out/plots``) go before the failures;
    ``decision_link`` is where the page links DECISION.md (relative to ``out``); ``holdout`` and
    ``held`` as in ``decide``; ``figures_per_class``: draw the per-objective figures for that many
    objectives of each class only (None: all)."""
    out = Path(out)
    plots_dir = out / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    rule = rule or Rule(n_boot=n_boot, seed=seed)
    df = analyse(frame)
    decided = decide(df, rule, holdout, held)
    summary = tables.summary(df, n_boot, seed)
    target_rows = tables.target_table(df, n_boot, seed)
    failed = tables.failures(df)
    fights = {cls: tables.fight(g) for cls, g in df.groupby("family", sort=True)}
    for name, table in (("summary", summary), ("targets", target_rows), ("failures", failed),
                        ("ranking", tables.ranking(decided)), ("fight", tables.fight_long(fights))):
        table.to_csv(out / f"{name}.csv", index=False)
    style = plots.Style(df[df["ok"]])

    sections = [Section("How to read this", items=[
        f"{len(df)} runs ({int(df['ok'].sum())} succeeded, {len(failed)} failed) of {df['config'].nunique()} "
        f"optimizer configurations on {df['objective_label'].nunique()} objectives in "
        f"{df['family'].nunique()} classes. Figures are medians over seeds; the interval beside a "
        f"median is the range over seeds below {stats.MIN_CI_SAMPLES} seeds and a seeded "
        f"{int(100 * stats.LEVEL)} % percentile-bootstrap CI ({n_boot} resamples) from there. Wall time: cold = "
        "the cell's first run in its worker; warm = a repeat right after it in the same process. Success = final "
        "value at the target; ERT = evaluations summed over all runs ÷ runs that reached it (COCO). Failed runs "
        "are listed at the end, left out of medians and figures; they count as misses in success rates and as "
        "losses in the fight matrix. The quality scale is stated in the decision block above.",
        "CSV (full precision): summary.csv, targets.csv, ranking.csv, fight.csv, failures.csv; figures in plots/ "
        "(PNG and SVG)."])]
    for cls, g_cls in df.groupby("family", sort=True):
        sec = class_section(cls, g_cls, decided[cls], fights[cls], style, plots_dir)
        sec.items += [objective_section(g_obj, summary, target_rows, style, plots_dir,
                                        figures_per_class is None or k < figures_per_class)
                      for k, (_, g_obj) in enumerate(g_cls.groupby("objective_label", sort=True))]
        sections.append(sec)
    sections.extend(extra)
    unreproducible = tables.unreproducible(df)
    if len(unreproducible):
        sections.append(Section("Not reproducible", items=[
            "The returned point of these runs, evaluated again after the run, gave another value than the run "
            "saw: the objective is not deterministic (noise, state kept between calls). Their values are kept "
            "but are not exact; compare them with care.",
            Table(display.failures_display(unreproducible), "runs whose best point did not reproduce")]))
    sections.append(Section("Failures", items=[Table(display.failures_display(failed), "runs that did not succeed")]
                            if len(failed) else ["none"]))
    decision = decision_block(decided, rule, SCALE, decision_link)
    (out / "report.md").write_text(markdown(TITLE, sections, decision))
    index = out / "index.html"
    index.write_text(page(TITLE, sections, plots_dir, decision))
    return index
