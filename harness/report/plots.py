"""Report figures (matplotlib, Agg), each saved as PNG and SVG; every function returns the figure.

Quality is drawn as regret (value − reference) floored at ``REGRET_FLOOR`` so it fits a log axis;
axes switch to log scale when their data span more than two decades.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from optbench.harness.report import stats  # noqa: E402
from optbench.harness.report.frame import targets, uses_ratio  # noqa: E402

REGRET_FLOOR = 1e-12
MARKERS = "osD^v<>Ph*X"
plt.rcParams.update({"svg.hashsalt": "optbench", "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3,
                     "font.size": 9})


def palette(configs) -> dict[str, tuple]:
    """One stable colour per configuration (sorted names), shared by every figure."""
    cmap = plt.get_cmap("tab20")
    return {c: cmap(i % 20) for i, c in enumerate(sorted(configs))}


def save(fig, out: Path, stem: str) -> str:
    """Write ``stem``.png and ``stem``.svg under ``out`` and close the figure."""
    fig.savefig(out / f"{stem}.png", dpi=100)
    fig.savefig(out / f"{stem}.svg", metadata={"Date": None})
    plt.close(fig)
    return stem


def _autolog(ax, axis: str, values) -> None:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) and v.max() / v.min() > 100:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def best_so_far(trace, grid: np.ndarray, column: int) -> np.ndarray:
    """Best value at each grid point (eval index ``column=0`` or seconds ``column=1``); inf before the first."""
    if not trace:
        return np.full(len(grid), np.inf)
    xs = np.array([row[column] for row in trace], dtype=float)
    vals = np.array([row[2] for row in trace], dtype=float)
    idx = np.searchsorted(xs, grid, side="right") - 1
    return np.where(idx >= 0, vals[np.maximum(idx, 0)], np.inf)


def _budgets(g: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(g["budget_label"]))


def _grid(n_rows: int) -> tuple[plt.Figure, np.ndarray]:
    """One row per budget; columns: by evaluations, by seconds."""
    return plt.subplots(n_rows, 2, figsize=(11, 3.8 * n_rows + 0.6), squeeze=False, layout="constrained")


UNITS = ((0, "evaluations"), (1, "seconds"))  # trace column, axis unit


def convergence(g_obj: pd.DataFrame, colors: dict) -> plt.Figure:
    """Best-so-far regret vs evaluations (left) and vs seconds (right), one row per budget:
    median over successful runs with the interquartile band."""
    budgets = _budgets(g_obj)
    fig, axes = _grid(len(budgets))
    ref = float(g_obj["reference_value"].iloc[0])
    for i, budget in enumerate(budgets):
        g_b = g_obj[(g_obj["budget_label"] == budget) & g_obj["ok"]]
        for j, (column, unit) in enumerate(UNITS):
            ax, ys = axes[i, j], []
            ax.set_xlabel(f"{unit} (log scale)")
            ax.set_ylabel("best-so-far regret (value − optimum)")
            ax.set_title(f"{budget}: regret vs {unit}")
            stops = [t[0][column] for t in g_b["trace"] if t]
            end = g_b["n_evals"].max() if column == 0 else g_b["wall_s"].max()
            if not stops or not end > 0:
                continue
            grid = np.geomspace(max(min(stops), 1e-6), max(end, min(stops) * 1.01), 200)
            for config, g_c in g_b.groupby("config", sort=True):
                curves = np.array([best_so_far(t, grid, column) for t in g_c["trace"]]) - ref
                curves = np.where(np.isfinite(curves), np.maximum(curves, REGRET_FLOOR), np.nan)
                with warnings.catch_warnings():  # grid points before any run's first value are all-NaN
                    warnings.simplefilter("ignore", RuntimeWarning)
                    q1, med, q3 = np.nanquantile(curves, [0.25, 0.5, 0.75], axis=0, method="inverted_cdf")
                ax.plot(grid, med, color=colors[config], label=config, lw=1.4)
                ax.fill_between(grid, q1, q3, color=colors[config], alpha=0.15, lw=0)
                ys.extend(med[np.isfinite(med)])
            ax.set_xscale("log")
            _autolog(ax, "y", ys)
    axes[0, 0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{g_obj['objective_label'].iloc[0]} — median and interquartile band over seeds")
    return fig


def ecdf(g_class: pd.DataFrame, colors: dict) -> plt.Figure:
    """Runtime ECDFs (COCO): share of (run, target) pairs reached within a number of evaluations
    (left) and seconds (right), pooled over the class's objectives; one row per budget."""
    budgets = _budgets(g_class)
    fig, axes = _grid(len(budgets))
    for i, budget in enumerate(budgets):
        g_b = g_class[g_class["budget_label"] == budget]
        for config in sorted(g_b["config"].unique()):
            hits = ([], [])
            for _, g_obj in g_b[g_b["config"] == config].groupby("objective_label"):
                for trace, ok in zip(g_obj["trace"], g_obj["ok"]):
                    for _, target in targets(g_obj):
                        for column, _ in UNITS:
                            hits[column].append(stats.hitting_time(trace, target, column) if ok else np.inf)
            for column, _ in UNITS:
                x, y = stats.runtime_ecdf(hits[column])
                axes[i, column].step(np.r_[x[:1], x], np.r_[0, y], where="post", color=colors[config], label=config)
        for column, unit in UNITS:
            ax = axes[i, column]
            ax.set_xscale("log")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(f"{unit} (log scale)")
            ax.set_ylabel("fraction of (run, target) pairs reached")
            ax.set_title(f"{budget}: runtime ECDF vs {unit}")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    kinds = {uses_ratio(g) for _, g in g_class.groupby("objective_label")}
    what = {frozenset({True}): "targets: ratios to the optimum 0.5…0.999",
            frozenset({False}): "targets: regrets 10^2…10^-8",
            frozenset({True, False}): "targets: ratios to the optimum 0.5…0.999, or regrets 10^2…10^-8 "
                                      "where the optimum is not a gain"}[frozenset(kinds)]
    fig.suptitle(f"{g_class['objective_class'].iloc[0]}: runtime ECDFs ({what})")
    return fig


def pareto(summary_obj: pd.DataFrame, colors: dict) -> plt.Figure:
    """Median wall time vs median regret per configuration and budget (95 % CIs as error bars);
    the non-dominated points (Pareto front: faster or better than every other) are joined."""
    fig, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    s = summary_obj[summary_obj["ok"] > 0].copy()
    for col in ("regret", "regret_lo", "regret_hi"):
        s[col] = s[col].clip(lower=REGRET_FLOOR)
    markers = {b: MARKERS[i % len(MARKERS)] for i, b in enumerate(dict.fromkeys(s["budget"]))}
    for _, r in s.iterrows():
        ax.errorbar(r["wall_s"], r["regret"], xerr=[[r["wall_s"] - r["wall_s_lo"]], [r["wall_s_hi"] - r["wall_s"]]],
                    yerr=[[r["regret"] - r["regret_lo"]], [r["regret_hi"] - r["regret"]]], fmt=markers[r["budget"]],
                    color=colors[r["config"]], ms=6, elinewidth=0.8, alpha=0.9)
    front = s.sort_values(["wall_s", "regret"])
    front = front[front["regret"] < front["regret"].cummin().shift(fill_value=np.inf)]
    ax.plot(front["wall_s"], front["regret"], "k--", lw=1, drawstyle="steps-post", label="Pareto front")
    ax.scatter(front["wall_s"], front["regret"], s=160, facecolors="none", edgecolors="k", lw=1.2)
    handles = [plt.Line2D([], [], color=colors[c], marker="o", ls="", label=c) for c in sorted(s["config"].unique())]
    handles += [plt.Line2D([], [], color="grey", marker=m, ls="", label=b) for b, m in markers.items()]
    handles.append(plt.Line2D([], [], color="k", ls="--", label="Pareto front"))
    ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    _autolog(ax, "x", s[["wall_s_lo", "wall_s_hi"]].to_numpy().ravel())
    _autolog(ax, "y", s[["regret_lo", "regret_hi"]].to_numpy().ravel())
    ax.set_xlabel("median wall time per run (s)")
    ax.set_ylabel("median regret (value − optimum)")
    ax.set_title(f"{s['objective'].iloc[0] if len(s) else ''}: time vs quality (lower-left is better)")
    return fig


def time_split(g_obj: pd.DataFrame, colors: dict) -> plt.Figure:
    """Per configuration (successful runs, all budgets): time per evaluation split into the
    optimizer's overhead, the objective's compute and the ``.item()`` sync — absolute and shares."""
    parts = {"overhead_s": "optimizer overhead", "compute_s": "objective compute", "item_s": ".item() sync"}
    ok = g_obj[g_obj["ok"]]
    sums = ok.groupby("config")[[*parts, "n_evals", "wall_s"]].sum()
    per_eval = sums[list(parts)].div(sums["n_evals"], axis=0) * 1e3
    shares = sums[list(parts)].div(sums["wall_s"], axis=0) * 100
    fig, (ax_ms, ax_pct) = plt.subplots(1, 2, figsize=(11, 0.45 * len(sums) + 1.8), sharey=True,
                                         layout="constrained")
    y = np.arange(len(sums))
    for ax, table in ((ax_ms, per_eval), (ax_pct, shares)):
        left = np.zeros(len(sums))
        for (col, label), colour in zip(parts.items(), ("#d62728", "#1f77b4", "#ff7f0e")):
            ax.barh(y, table[col], left=left, color=colour, label=label)
            left += table[col].to_numpy()
    for yi, total in zip(y, per_eval.sum(axis=1)):
        ax_ms.text(total, yi, f" {total:.3g} ms", va="center", fontsize=7)
    ax_ms.set_yticks(y, sums.index)
    ax_ms.set_xlabel("time per evaluation (ms)")
    ax_pct.set_xlabel("share of wall time (%)")
    ax_pct.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{g_obj['objective_label'].iloc[0]}: where the time goes (per evaluation)")
    return fig


def fight_heatmap(matrix: pd.DataFrame) -> plt.Figure:
    """The fight matrix: share of problems where the row configuration beats the column one."""
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(0.6 * n + 3, 0.5 * n + 2), layout="constrained")
    im = ax.imshow(matrix.to_numpy(dtype=float), cmap="RdBu", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            v = matrix.iat[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(v - 0.5) > 0.35 else "black")
    ax.set_xticks(range(n), matrix.columns, rotation=60, ha="right")
    ax.set_yticks(range(n), matrix.index)
    ax.set_xlabel("opponent")
    ax.set_ylabel("configuration")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="win rate (share of objective × budget problems)")
    ax.set_title("Fight matrix: median value at equal budget (ties ½)")
    return fig
