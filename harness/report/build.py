"""``write_report``: store frame → CSV tables, PNG/SVG plots, ``report.md`` and ``index.html``."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from optbench.harness.report import plots, stats, tables
from optbench.harness.report.frame import analyse, uses_ratio
from optbench.harness.report.render import Figure, Section, Table, markdown, page

TITLE = "optbench report"
COLUMNS = {"value": "value", "regret": "regret", "ratio": "ratio to optimum", "score": "score (random=0, opt=100)",
           "wall_s": "wall s", "n_evals": "evals", "overhead_ms_per_eval": "overhead ms/eval"}


def fmt(v: float) -> str:
    """Four significant digits; ``–`` for missing."""
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4g}"


def with_ci(row: pd.Series, col: str) -> str:
    """``"median [low, high]"`` from a summary row."""
    if math.isnan(row[col]):
        return "–"
    return f"{fmt(row[col])} [{fmt(row[f'{col}_lo'])}, {fmt(row[f'{col}_hi'])}]"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def summary_display(rows: pd.DataFrame, ratio: bool, has_random: bool) -> pd.DataFrame:
    """Formatted summary rows for one objective and budget."""
    cols = [c for c in COLUMNS if ratio or c != "ratio"]
    out = pd.DataFrame({"optimizer": rows["config"], "ok/runs": [f"{o}/{n}" for o, n in zip(rows["ok"], rows["runs"])]})
    for col in cols:
        out[COLUMNS[col]] = [with_ci(r, col) for _, r in rows.iterrows()]
    if not has_random:
        out[COLUMNS["score"]] = "N/A (no random search at this budget)"
    return out


def targets_display(rows: pd.DataFrame) -> pd.DataFrame:
    """Config × target pivot of "success % [CI] · ERT evals"."""
    cell = [f"{100 * r.success:.0f}% [{100 * r.success_lo:.0f}–{100 * r.success_hi:.0f}] · "
            + ("∞" if math.isinf(r.ert_evals) else f"{r.ert_evals:.4g}") for r in rows.itertuples()]
    pivot = rows.assign(cell=cell).pivot(index="config", columns="target", values="cell")
    return pivot[list(dict.fromkeys(rows["target"]))].rename_axis(None, axis=1).reset_index(names="optimizer")


def objective_section(g_obj: pd.DataFrame, summary: pd.DataFrame, target_rows: pd.DataFrame, colors: dict,
                      plots_dir: Path) -> Section:
    """One objective: convergence, Pareto and time-split figures, then per budget its two tables."""
    obj = g_obj["objective_label"].iloc[0]
    stem, s_obj = slug(obj), summary[summary["objective"] == obj]
    sec = Section(obj, level=3, items=[
        Figure(plots.save(plots.convergence(g_obj, colors), plots_dir, f"convergence_{stem}"),
               f"{obj}: best-so-far regret vs evaluations and seconds"),
        Figure(plots.save(plots.pareto(s_obj, colors), plots_dir, f"pareto_{stem}"),
               f"{obj}: time vs quality with the Pareto front"),
        Figure(plots.save(plots.time_split(g_obj, colors), plots_dir, f"time_split_{stem}"),
               f"{obj}: overhead / compute / .item() per evaluation")])
    for budget in dict.fromkeys(g_obj["budget_label"]):
        has_random = g_obj.loc[g_obj["budget_label"] == budget, "random_value"].notna().any()
        sec.items.append(Table(summary_display(s_obj[s_obj["budget"] == budget], uses_ratio(g_obj), has_random),
                               f"{obj}, budget {budget}: median [95 % CI]"))
        t_rows = target_rows[(target_rows["objective"] == obj) & (target_rows["budget"] == budget)]
        if len(t_rows):
            sec.items.append(Table(targets_display(t_rows),
                                   f"{obj}, budget {budget}: success rate [95 % CI] · ERT (evaluations)"))
    return sec


def write_report(frame: pd.DataFrame, out: Path, n_boot: int = stats.N_BOOT, seed: int = 0,
                 extra: Sequence[Section] = ()) -> Path:
    """Write the whole report under ``out``; returns the path of ``index.html``. ``extra`` sections
    (e.g. ``harness.report_study.study_section``, figures saved under ``out/plots``) go before the failures."""
    out = Path(out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    df = analyse(frame)
    summary = tables.summary(df, n_boot, seed)
    target_rows = tables.target_table(df, n_boot, seed)
    failed, fight, borda = tables.failures(df), tables.fight(df), tables.borda(df)
    for name, table in (("summary", summary), ("targets", target_rows), ("failures", failed), ("borda", borda)):
        table.to_csv(out / f"{name}.csv", index=False)
    fight.to_csv(out / "fight.csv")
    colors = plots.palette(df["config"].unique())

    sections = [Section("How to read this", items=[
        f"{len(df)} runs ({int(df['ok'].sum())} succeeded, {len(failed)} failed) of {df['config'].nunique()} "
        f"optimizer configurations on {df['objective_label'].nunique()} objectives. Every statistic is the median "
        f"over seeds with a seeded {int(100 * stats.LEVEL)} % percentile-bootstrap CI ({n_boot} resamples) in "
        "brackets. regret = value − optimum (lower is better); ratio to optimum = value / reference where the "
        "optimum is a gain (MaxDiff: profit ratio; MA crossover: Sharpe ratio); score = bayesmark normalized "
        "score, 100·(1 − regret / (random search's median − optimum)) "
        "at the same budget. Success = final value at the target; ERT = evaluations summed over all runs ÷ "
        "runs that reached it (COCO). Failed runs are listed at the end and excluded from medians; they count "
        "as misses in success rates and as losses in the fight matrix.",
        "CSV: summary.csv, targets.csv, fight.csv, borda.csv, failures.csv; figures in plots/ (PNG and SVG)."])]
    overview = Section("Across objectives: fight matrix and Borda ranking")
    if len(fight):
        overview.items += [Table(borda.assign(share_beaten=borda["share_beaten"].map(fmt)),
                                 "Borda ranking: per objective × budget problem, one point per configuration "
                                 "beaten on median value (ties ½); share_beaten = mean share of opponents beaten"),
                           Figure(plots.save(plots.fight_heatmap(fight), out / "plots", "fight"),
                                  "Fight matrix: share of problems where the row beats the column")]
    sections.append(overview)

    for cls, g_cls in df.groupby("objective_class", sort=True):
        sections.append(Section(f"Objective class: {cls}", items=[Figure(
            plots.save(plots.ecdf(g_cls, colors), out / "plots", f"ecdf_{slug(cls)}"),
            f"{cls}: runtime ECDFs over targets, by evaluations and by seconds")]))
        sections += [objective_section(g_obj, summary, target_rows, colors, out / "plots")
                     for _, g_obj in g_cls.groupby("objective_label", sort=True)]

    sections.extend(extra)
    sections.append(Section("Failures", items=[Table(failed.assign(message=failed["message"].str.slice(0, 200)),
                                                     "runs that did not succeed")] if len(failed) else ["none"]))
    (out / "report.md").write_text(markdown(TITLE, sections))
    index = out / "index.html"
    index.write_text(page(TITLE, sections, out / "plots"))
    return index
