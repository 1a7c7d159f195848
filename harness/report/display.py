"""Numbers and tables as a reader sees them: three significant figures, integers as integers, gains
as gains, intervals named for what they are (a range over seeds or a bootstrap CI). The CSV files keep
full precision; only the page is rounded."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optbench.harness.report.estimate import Estimate
from optbench.harness.report.frame import uses_ratio

if TYPE_CHECKING:
    from optbench.harness.decision.model import Compared

MISSING = "–"


def fmt(v) -> str:
    """Three significant figures; integral values as integers (``34960``, not ``3.5e+04``); ``–`` for missing."""
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return MISSING
    v = float(v)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    if v == round(v) and abs(v) < 1e15:
        return f"{int(round(v))}"
    if 1e3 <= abs(v) < 1e15:  # 3 significant figures, written out: 12345.6 → 12300
        return f"{int(round(v, 2 - int(math.floor(math.log10(abs(v))))))}"
    return f"{v:.3g}"


def interval_name(kinds) -> str:
    """How a table's column header names its intervals."""
    kinds = set(kinds) - {None}
    if kinds == {"range"}:
        return "median [range over seeds]"
    if kinds == {"CI"}:
        return "median [95 % CI]"
    return "median [range, or 95 % CI from 8 seeds]"


def with_interval(median, low, high) -> str:
    """``"median [low, high]"``; just the median when the interval is a single point."""
    if median is None or (isinstance(median, float) and math.isnan(median)):
        return MISSING
    if fmt(low) == fmt(high) == fmt(median):
        return fmt(median)
    return f"{fmt(median)} [{fmt(low)}, {fmt(high)}]"


def estimate(e: Estimate | None) -> str:
    """An estimate as ``median [low, high]``."""
    return MISSING if e is None else with_interval(e.value, e.low, e.high)


def summary_display(rows: pd.DataFrame, g_obj: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Formatted summary rows for one objective and budget, and the interval kind for the caption."""
    gain = bool(g_obj["gain"].iloc[0])
    kind = str(g_obj["best_known_kind"].iloc[0])
    columns = {"gain_value" if gain else "value": "gain (−value)" if gain else "value",
               "quality": "quality (0 random, 1 " + kind + ")",
               "regret": f"gap to {kind}"}
    if uses_ratio(g_obj):
        columns["ratio"] = "gain ÷ optimum's"
    columns.update({"wall_s": "wall s (cold)", "warm_wall_s": "wall s (warm)", "n_evals": "evals",
                    "overhead_ms_per_eval": "overhead ms/eval"})
    out = pd.DataFrame({"configuration": rows["config"],
                        "ok/runs": [f"{o}/{n}" for o, n in zip(rows["ok"], rows["runs"])]})
    for col, title in columns.items():
        out[title] = [with_interval(r[col], r[f"{col}_lo"], r[f"{col}_hi"]) for _, r in rows.iterrows()]
    return out, interval_name(rows["quality_interval"])


def targets_display(rows: pd.DataFrame) -> pd.DataFrame:
    """Config × target pivot of "success % · ERT evals"."""
    cell = [f"{100 * r.success:.0f}% · " + ("∞" if math.isinf(r.ert_evals) else fmt(r.ert_evals))
            for r in rows.itertuples()]
    pivot = rows.assign(cell=cell).pivot(index="config", columns="target", values="cell")
    return pivot[list(dict.fromkeys(rows["target"]))].rename_axis(None, axis=1).reset_index(names="configuration")


def _or_inf(v: float) -> float:
    return math.inf if math.isnan(v) else v


def quality_order(test: Compared) -> float:
    """Sort key of a decision test row: best median quality first, unknown quality last."""
    return _or_inf(-test.quality.value)


def ranking_display(tests: Sequence[Compared]) -> pd.DataFrame:
    """The decision's candidates of one class, best median quality first, then by time."""
    ordered = sorted(tests, key=lambda t: (quality_order(t), _or_inf(t.wall_s.value), t.candidate))
    return pd.DataFrame([{
        "rank": i + 1, "configuration @ budget": t.candidate, "class quality": estimate(t.quality),
        "class time s (warm)": estimate(t.warm_wall_s), "class time s (cold)": estimate(t.cold_wall_s),
        "seeds": t.seeds, "p (worse than best)": fmt(t.p_worse_than_best),
        "eligible": "yes" if t.eligible else "no"} for i, t in enumerate(ordered)])


def class_quality_detail(g_cls: pd.DataFrame) -> pd.DataFrame:
    """Median quality per objective (rows) and configuration @ budget (columns): what the class mean averages,
    with each objective's best known value and its kind."""
    ok = g_cls[g_cls["ok"]]
    med = ok.groupby(["objective_label", ok["config"] + " @ " + ok["budget_label"]])["quality"].median()
    table = med.unstack().map(fmt).fillna(MISSING).rename_axis(None, axis=1)
    known = g_cls.groupby("objective_label").agg(kind=("best_known_kind", "first"), value=("best_known_value", "first"),
                                                 gain=("gain", "first"))
    shown = [f"{fmt(-v)} gain" if g else fmt(v) for v, g in zip(known["value"], known["gain"])]
    table.insert(0, "best known value", [f"{s} ({k})" for s, k in zip(shown, known["kind"])])
    return table.reset_index(names="objective")


def failures_display(failed: pd.DataFrame) -> pd.DataFrame:
    """The failures table with messages cut to 200 characters."""
    return failed.assign(message=failed["message"].str.slice(0, 200))
