"""Run records → one analysed DataFrame: labels, objective classes and quality measures.

Everything comes from the records themselves — nothing read from a store is imported, resolved or
built (a store is data): what an objective is (``family``, ``gain``, ``knowledge``) and its
options' defaults (``option_defaults``) are filled by the runner from the objective's own declarations.
Records of a store written before those fields existed fall back to the objective's name, ``gain``
False, "optimum", and to showing the options that differ between that objective's rows.

Quality (one scale for every objective, so a class can average them), per run, from the float64 ``value``:
- ``best_known_value`` T: the objective's proven optimum or bound (``reference_value``), or, for an
  objective that knows neither (``knowledge == "none"``), the best value any successful run in
  the data reached (``best_known_kind`` says which: "optimum", "bound" or "best found"; the run
  that found it is ``best_known_run``);
- ``random_value`` R: random search's median value on the same objective and budget;
- ``quality = (R − value) / (R − T)`` clipped to [−1, 1]: the share of the gap between random search's
  median (0) and T (1) that the run closes; −1 means at least as far below random search as T is above
  it, so no single objective can pull a class mean further down. Where R already equals T, a run that
  reaches T scores 1 and any other 0. NaN without random search at that budget.
- ``regret = value − T`` (≥ 0 against an optimum or bound; lower is better); ``ratio = value / T`` where
  T is a proven optimum that is a gain (MaxDiff: profit ÷ reference profit);
- ``gain_value = −value`` for objectives whose value is a negated gain (profit, Sharpe): what tables show.
A run *succeeded* when its status is ``ok`` and its value is finite; failed runs stay as rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import RunRecord
from optbench.harness.paths import check_file_kind

RATIO_TARGETS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
REGRET_TARGETS = tuple(10.0**k for k in range(2, -9, -1))
RANDOM = "random"  # the baseline whose median is quality 0
QUALITY_FLOOR = -1.0
BEST_FOUND = "best found"
SCALE = (  # the scale in words, as the report and DECISION.md state it
    "Quality, one scale for every objective: the share of the gap between random search's median value "
    "at the same budget (0) and the best known value (1) that a run closes, clipped to [−1, 1] (−1: at least "
    "as far below random search as the best known value is above it). The best known value is the proven "
    "optimum, a proven bound, or, for an objective that knows neither, the **best value found** by any run "
    "in this store (named with the run that found it; a later, better run moves it). Class quality = mean "
    "over the class's objectives of a seed's runs; class time = their summed wall time.")


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
    check_file_kind(path, "records file")
    try:
        text = path.read_text()
    except OSError as exc:
        raise HarnessError(f"cannot read records from {path}: {exc.strerror}") from None
    try:
        rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(s) for s in text.splitlines() if s]
        return records_frame([RunRecord.from_dict(r) for r in rows])
    except (ValueError, TypeError, AttributeError) as exc:  # bad JSON, or JSON that is not a list of records
        raise HarnessError(f"{path} is not a JSON (or JSON-lines) file of run records: {exc}") from None


def objective_label(name: str, options: dict, defaults: dict) -> str:
    """``name`` plus its options that differ from ``defaults``, e.g. ``maxdiff(data=goog, window=3)``."""
    shown = {k: v for k, v in sorted(options.items()) if k not in defaults or defaults[k] != v}
    return name + ("(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else "")


def _label_defaults(df: pd.DataFrame) -> dict[str, dict]:
    """Per objective name, the option defaults its records carry; for records that carry none (an old
    store) the options every row of that name shares, so only the varying ones are shown."""
    out: dict[str, dict] = {}
    carried = df["option_defaults"] if "option_defaults" in df.columns else pd.Series(None, index=df.index)
    for name, index in df.groupby("objective").groups.items():
        recorded = [d for d in carried[index] if isinstance(d, dict)]
        if recorded:
            out[name] = recorded[0]
            continue
        rows = list(df.loc[index, "options"])
        out[name] = {k: v for k, v in rows[0].items() if all(k in o and o[k] == v for o in rows[1:])}
    return out


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


def _traits(df: pd.DataFrame) -> None:
    """Fill ``family``, ``gain`` and ``knowledge`` where the records lack them (old
    stores): the objective's name, False and "optimum"."""
    for col, fallback in (("family", df["objective"]), ("gain", False), ("knowledge", "optimum")):
        known = df[col] if col in df.columns else pd.Series(None, index=df.index, dtype=object)
        missing = known.isna() | (known == "")
        df[col] = known.where(~missing, fallback)
    df["gain"] = df["gain"].astype(bool)


def _best_known(df: pd.DataFrame) -> None:
    """``best_known_value`` / ``_kind`` / ``_run`` per objective: the reference, or the best value found."""
    reference = df.groupby("objective_label")["reference_value"].transform("first")
    found = df["knowledge"].eq("none") | reference.isna()
    df["best_known_value"] = reference.where(~found)
    df["best_known_kind"] = df["knowledge"].where(~found, BEST_FOUND)
    df["best_known_run"] = ""
    ok = df[df["ok"] & found]
    if len(ok):
        best = ok.loc[ok.groupby("objective_label")["value"].idxmin()].set_index("objective_label")
        runs = best["config"] + " @ " + best["budget_label"] + ", seed " + best["seed"].astype(str)
        df.loc[found, "best_known_value"] = df.loc[found, "objective_label"].map(best["value"])
        df.loc[found, "best_known_run"] = df.loc[found, "objective_label"].map(runs).fillna("")


def quality(value: pd.Series, random_value: pd.Series, best_known: pd.Series) -> pd.Series:
    """Share of the gap between random search's median and the best known value closed, in [−1, 1]."""
    gap = random_value - best_known
    tiny = 1e-12 * np.maximum(1.0, best_known.abs())
    closed = ((random_value - value) / gap.where(gap > tiny)).clip(QUALITY_FLOOR, 1.0)
    reached = (value <= best_known + tiny).astype(float)
    return closed.where(~(gap <= tiny), reached).where(random_value.notna() & best_known.notna())


def analyse(frame: pd.DataFrame) -> pd.DataFrame:
    """Add labels, success flags and quality columns; rows sorted deterministically."""
    if frame.empty:
        raise HarnessError("the store holds no runs: run a matrix first (`optbench run --suite quick`)")
    df = frame.copy()
    if "warm_wall_s" not in df.columns:
        df["warm_wall_s"] = math.nan
    for col in ("value", "reference_value", "wall_s", "warm_wall_s", "compute_s", "item_s", "overhead_s", "n_evals"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df["options"] = df["options"].map(lambda o: dict(o or {}))
    _traits(df)
    defaults = _label_defaults(df)
    df["objective_label"] = [objective_label(n, o, defaults[n]) for n, o in zip(df["objective"], df["options"])]
    df["budget_label"] = df["budget"].map(budget_label)
    df["budget_evals"] = df["budget"].map(lambda b: b.get("max_evals") or math.inf)
    df["budget_seconds"] = df["budget"].map(lambda b: b.get("max_seconds") or math.inf)
    df["config"] = varying_labels(df["optimizer"], df["optimizer_options"])
    df["ok"] = (df["status"] == "ok") & np.isfinite(df["value"])
    _best_known(df)
    df["regret"] = df["value"] - df["best_known_value"]
    true_gain = (df["best_known_kind"] == "optimum") & (df["best_known_value"] < 0)
    df["ratio"] = (df["value"] / df["best_known_value"]).where(true_gain)
    df["gain_value"] = (-df["value"]).where(df["gain"])
    random_value = (df[df["ok"] & (df["optimizer"] == RANDOM)]
                    .groupby(["objective_label", "budget_label"])["value"].median().rename("random_value"))
    df = df.join(random_value, on=["objective_label", "budget_label"])
    df["quality"] = quality(df["value"], df["random_value"], df["best_known_value"])
    for part in ("overhead", "compute", "item"):
        df[f"{part}_ms_per_eval"] = 1e3 * df[f"{part}_s"] / df["n_evals"].where(df["n_evals"] > 0)
    df = df.sort_values(["objective_label", "budget_evals", "budget_seconds", "config", "seed"], kind="stable")
    return df.reset_index(drop=True)


def uses_ratio(group: pd.DataFrame) -> bool:
    """True for objectives whose optimum is known and a gain: their targets are ratios to it."""
    return bool(((group["best_known_kind"] == "optimum") & (group["best_known_value"] < 0)).all())


def targets(group: pd.DataFrame) -> list[tuple[str, float]]:
    """COCO targets for one objective: (label, target value) — ratios to a gain optimum, or regrets
    10^2…10^-8 from the best known value (an optimum, a bound or the best found)."""
    ref = float(group["best_known_value"].iloc[0])
    if math.isnan(ref):
        return []
    if uses_ratio(group):
        return [(f"ratio≥{r:g}", r * ref) for r in RATIO_TARGETS]
    return [(f"regret≤{d:.0e}", ref + d) for d in REGRET_TARGETS]
