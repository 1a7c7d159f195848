"""Report tables from an analysed frame (see ``frame.analyse``): per objective and budget, per
target, failures, the fight matrix (per class) and the decision's ranking.

Every statistic column ``x`` comes with ``x_lo`` / ``x_hi``: a seeded 95 % percentile-bootstrap CI
over the runs (seeds), or their range with fewer than ``stats.MIN_CI_SAMPLES`` (``x_interval`` says
which). Medians use successful runs; rates use all runs (a failure is a miss).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optbench.harness.core.record import NOT_REPRODUCIBLE
from optbench.harness.report import stats
from optbench.harness.report.frame import targets

if TYPE_CHECKING:
    from optbench.harness.decision.model import ClassDecision

CELL = ["objective_label", "budget_label", "config"]
MEDIANS = ("value", "gain_value", "quality", "regret", "ratio", "wall_s", "warm_wall_s", "n_evals",
           "overhead_ms_per_eval")


TARGET_COLUMNS = ["objective", "budget", "config", "target", "target_value", "success", "success_lo", "success_hi",
                  "success_interval", "ert_evals", "ert_s"]


def _with_ci(row: dict, name: str, est: stats.Estimate) -> None:
    row[name], row[f"{name}_lo"], row[f"{name}_hi"] = est.value, est.low, est.high
    row[f"{name}_interval"] = est.kind


def summary(df: pd.DataFrame, n_boot: int = stats.N_BOOT, seed: int = 0) -> pd.DataFrame:
    """One row per objective × budget × configuration: runs, successes, medians with CIs."""
    rows = []
    for (obj, budget, config), g in df.groupby(CELL, sort=False):
        ok = g[g["ok"]]
        row = {"objective": obj, "budget": budget, "config": config, "runs": len(g), "ok": len(ok)}
        for col in MEDIANS:
            _with_ci(row, col, stats.bootstrap(ok[col], n_boot=n_boot, seed=seed))
        rows.append(row)
    return pd.DataFrame(rows)


def target_table(df: pd.DataFrame, n_boot: int = stats.N_BOOT, seed: int = 0) -> pd.DataFrame:
    """Per objective × budget × configuration × target: success rate (CI), ERT in evals and seconds.

    Success is judged on the re-evaluated final ``value``; hitting times come from the trace."""
    rows = []
    for obj, g_obj in df.groupby("objective_label", sort=False):
        for label, target in targets(g_obj):
            for (budget, config), g in g_obj.groupby(["budget_label", "config"], sort=False):
                success = (g["ok"] & (g["value"] <= target)).astype(float)
                row = {"objective": obj, "budget": budget, "config": config, "target": label,
                       "target_value": target}
                _with_ci(row, "success", stats.bootstrap(success, np.mean, n_boot=n_boot, seed=seed))
                evals = [stats.hitting_time(t, target, 0) if ok else math.inf for t, ok in zip(g["trace"], g["ok"])]
                secs = [stats.hitting_time(t, target, 1) if ok else math.inf for t, ok in zip(g["trace"], g["ok"])]
                row["ert_evals"] = stats.ert(evals, g["n_evals"].fillna(0))
                row["ert_s"] = stats.ert(secs, g["wall_s"].fillna(0))
                rows.append(row)
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)


def failures(df: pd.DataFrame) -> pd.DataFrame:
    """Every run that did not succeed, with its status and message."""
    return _runs(df[~df["ok"]])


def unreproducible(df: pd.DataFrame) -> pd.DataFrame:
    """Every run whose returned point, evaluated again, gave another value than the run saw (its
    message says so): a value of a not deterministic objective, kept, but not to be taken as exact."""
    return _runs(df[df["message"].fillna("").astype(str).str.contains(NOT_REPRODUCIBLE, regex=False)])


def _runs(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` as a table of who they are, their status and message."""
    return pd.DataFrame({"objective": runs["objective_label"], "budget": runs["budget_label"],
                         "config": runs["config"], "seed": runs["seed"], "status": runs["status"],
                         "message": runs["message"].fillna("").astype(str)}).reset_index(drop=True)


def problem_medians(df: pd.DataFrame) -> pd.DataFrame:
    """Median value per problem (objective × budget, rows) and configuration (columns); a
    configuration with any failed run on a problem gets ``inf`` there (a failure loses)."""
    value = df["value"].where(df["ok"], math.inf)
    med = value.groupby([df["objective_label"], df["budget_label"], df["config"]], sort=False).median()
    return med.unstack("config")


def fight(df: pd.DataFrame) -> pd.DataFrame:
    """Win rate of the row configuration over the column one: the share of problems both ran on
    where its median value is lower (a tie counts one half). NaN where they never met. Configurations
    without any successful run are left out (they are in the failures table)."""
    med = problem_medians(df)
    med = med.loc[:, np.isfinite(med).any()]
    configs = sorted(med.columns)
    out = pd.DataFrame(np.nan, index=pd.Index(configs, name="config"), columns=configs)
    for a in configs:
        for b in configs:
            both = med[a].notna() & med[b].notna()
            if a != b and both.any():
                wins = (med[a][both] < med[b][both]).sum() + 0.5 * (med[a][both] == med[b][both]).sum()
                out.loc[a, b] = wins / both.sum()
    return out


def fight_long(fights: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per class fight matrices as one long table: class, config, opponent, win rate (pairs that met)."""
    rows = [{"class": cls, "config": a, "opponent": b, "win_rate": m.loc[a, b]}
            for cls, m in fights.items() for a in m.index for b in m.columns if not math.isnan(m.loc[a, b])]
    return pd.DataFrame(rows, columns=["class", "config", "opponent", "win_rate"])


def ranking(decided: Mapping[str, ClassDecision]) -> pd.DataFrame:
    """The default preset's candidates per class with their full-precision estimates and tests."""
    rows = []
    for cls, entry in decided.items():
        for t in entry.presets["default"].tests:
            row = {"class": cls, "candidate": t.candidate, "seeds": t.seeds, "eligible": t.eligible,
                   "p_worse_than_best": t.p_worse_than_best, "p_choice_faster": t.p_choice_faster}
            for name, e in (("quality", t.quality), ("wall_s", t.wall_s), ("warm_wall_s", t.warm_wall_s),
                            ("cold_wall_s", t.cold_wall_s)):
                row.update({f"{name}_median": e.value, f"{name}_low": e.low, f"{name}_high": e.high,
                            f"{name}_interval": e.kind})
            rows.append(row)
    return pd.DataFrame(rows)
