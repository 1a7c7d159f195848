"""Run records → one analysed DataFrame: labels, objective classes and quality measures.

Quality (SPEC §5), per run, all computed from the float64 ``value`` and ``reference_value``:
- ``regret = value − reference_value`` (≥ 0; lower is better);
- ``ratio = value / reference_value`` where the reference is negative, i.e. the optimum is a gain
  (MaxDiff: profit ÷ reference profit; MA crossover: Sharpe ÷ best Sharpe); higher is better, 1 is
  the optimum (a MaxDiff window where no setting makes a profit has no ratio);
- ``score = 100 · (1 − regret / (random − reference))`` (bayesmark), ``random`` being random
  search's median value on the same objective and budget; NaN when random search is absent;
- ``quality`` = ``ratio`` where defined, else ``score / 100``: the one higher-is-better number
  the fight matrix and the decision compare.
A run *succeeded* when its status is ``ok`` and its value is finite; failed runs stay as rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from optbench import objectives
from optbench.harness.budget import HarnessError
from optbench.harness.record import RunRecord
from optbench.objectives.synthetic import FUNCTIONS

SYNTHETIC = tuple(FUNCTIONS)
RATIO_TARGETS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
REGRET_TARGETS = tuple(10.0**k for k in range(2, -9, -1))


def objective_class(objective: str) -> str:
    """The decision's grouping: ``maxdiff`` (all options), ``ma_crossover``, ``synthetic``."""
    return "synthetic" if objective in SYNTHETIC else objective


def records_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per record, columns = RunRecord fields (what the results store's loader returns)."""
    return pd.DataFrame([r.to_dict() for r in records], columns=list(RunRecord.__dataclass_fields__))


def load(path: str | Path | None = None) -> pd.DataFrame:
    """Records from the results store (default ``harness.store.DEFAULT_PATH``), or from a JSON /
    JSON-lines file of records (e.g. collected ``optbench run --json`` output)."""
    from optbench.harness import store

    path = Path(path or store.DEFAULT_PATH)
    if path.suffix not in (".json", ".jsonl"):
        return store.load_frame(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise HarnessError(f"cannot read records from {path}: {exc.strerror}") from None
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(s) for s in text.splitlines() if s]
    return records_frame(RunRecord.from_dict(r) for r in rows)


def objective_label(name: str, options: dict) -> str:
    """``name`` plus its options that differ from the defaults, e.g. ``maxdiff(data=goog, window=3)``."""
    try:
        defaults = objectives.option_defaults(name)
    except objectives.ObjectiveError:  # not registered here (a plug-in): show every option
        defaults = {}
    shown = {k: v for k, v in sorted(options.items()) if k not in defaults or defaults[k] != v}
    return name + ("(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else "")


def budget_label(budget: dict) -> str:
    """``"400 evals"``, ``"2 s"`` or ``"400 evals, 2 s"``."""
    parts = []
    if budget.get("max_evals") is not None:
        parts.append(f"{budget['max_evals']} evals")
    if budget.get("max_seconds") is not None:
        parts.append(f"{budget['max_seconds']:g} s")
    return ", ".join(parts)


def varying_labels(names: pd.Series, options: pd.Series) -> pd.Series:
    """``name`` plus the options that differ between that name's rows, e.g. ``scipy.direct[maxfun=100]``
    (options equal on every row of a name, such as filled-in defaults, are left out)."""
    keys = options.map(lambda o: json.dumps(o, sort_keys=True, default=str))
    labels = names.astype(str).copy()
    for name, index in names.groupby(names).groups.items():
        distinct = [json.loads(k) for k in sorted(keys[index].unique())]
        varying = sorted({k for o in distinct for k in o if any(o.get(k) != d.get(k) for d in distinct)})
        if varying:
            labels[index] = [f"{name}[" + ", ".join(f"{k}={o.get(k)}" for k in varying) + "]"
                             for o in options[index]]
    return labels


def analyse(frame: pd.DataFrame) -> pd.DataFrame:
    """Add labels, success flags and quality columns; rows sorted deterministically."""
    if frame.empty:
        raise HarnessError("the store holds no runs: run a matrix first (`optbench run --suite quick`)")
    df = frame.copy()
    for col in ("value", "reference_value", "wall_s", "compute_s", "item_s", "overhead_s", "n_evals"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df["options"] = df["options"].map(lambda o: dict(o or {}))
    df["objective_label"] = [objective_label(n, o) for n, o in zip(df["objective"], df["options"])]
    df["objective_class"] = df["objective"].map(objective_class)
    # failed cells may carry no reference; the objective (name + options) determines it
    df["reference_value"] = df.groupby("objective_label")["reference_value"].transform("first")
    df["budget_label"] = df["budget"].map(budget_label)
    df["budget_evals"] = df["budget"].map(lambda b: b.get("max_evals") or math.inf)
    df["budget_seconds"] = df["budget"].map(lambda b: b.get("max_seconds") or math.inf)
    df["config"] = varying_labels(df["optimizer"], df["optimizer_options"])
    df["ok"] = (df["status"] == "ok") & np.isfinite(df["value"])
    df["regret"] = df["value"] - df["reference_value"]
    df["ratio"] = np.where(df["reference_value"] < 0, df["value"] / df["reference_value"], np.nan)
    random_value = (df[df["ok"] & (df["optimizer"] == "random")]
                    .groupby(["objective_label", "budget_label"])["value"].median().rename("random_value"))
    df = df.join(random_value, on=["objective_label", "budget_label"])
    spread = df["random_value"] - df["reference_value"]
    df["score"] = np.where(spread > 0, 100 * (1 - df["regret"] / spread), np.nan)
    df["quality"] = df["ratio"].fillna(df["score"] / 100)
    for part in ("overhead", "compute", "item"):
        df[f"{part}_ms_per_eval"] = 1e3 * df[f"{part}_s"] / df["n_evals"].where(df["n_evals"] > 0)
    df = df.sort_values(["objective_label", "budget_evals", "budget_seconds", "config", "seed"], kind="stable")
    return df.reset_index(drop=True)


def uses_ratio(group: pd.DataFrame) -> bool:
    """True for objectives whose quality is a ratio to the (negative) reference value."""
    return bool((group["reference_value"] < 0).all())


def targets(group: pd.DataFrame) -> list[tuple[str, float]]:
    """COCO targets for one objective: (label, target value) — profit ratios, or regrets 10^2…10^-8."""
    ref = float(group["reference_value"].iloc[0])
    if math.isnan(ref):
        return []
    if uses_ratio(group):
        return [(f"ratio≥{r:g}", r * ref) for r in RATIO_TARGETS]
    return [(f"regret≤{d:.0e}", ref + d) for d in REGRET_TARGETS]
