"""Report figures (matplotlib, Agg), each saved as PNG and SVG; every function returns the figure.

One colour per optimizer in every figure (:func:`palette`: distinct hues, keyed by optimizer name);
variants of one optimizer (other options) share its colour and differ by line style. Every figure
has one legend covering all its panels. Quality is drawn as the gap to the best known value
(optimum, bound or best found); a gap of exactly zero is drawn on a marked floor line one decade
below the smallest positive gap, labelled "0 (optimum reached)" (or "best found"), never at an
arbitrary tiny number. Axes switch to log scale when their data span more than two decades.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from optbench.harness.report import stats  # noqa: E402
from optbench.harness.report.frame import BEST_FOUND, targets, uses_ratio  # noqa: E402

MARKERS = "osD^v<>Ph*X"
LINESTYLES = ("-", "--", ":", "-.")
# 20 distinct hues (Trubetskoy's list of 20 simple, distinct colours), then tab10 for more than 20.
HUES = ("#e6194b", "#4363d8", "#3cb44b", "#f58231", "#911eb4", "#42d4f4", "#9a6324", "#f032e6", "#808000",
        "#000075", "#469990", "#800000", "#a9a9a9", "#000000", "#ffe119", "#bfef45", "#dcbeff", "#fabed4",
        "#aaffc3", "#ffd8b1")  # strong hues first, in an order where neighbours differ most; pale ones last
NEVER_MET = "#d9d9d9"
plt.rcParams.update({"svg.hashsalt": "optbench", "svg.fonttype": "none",  # SVG text stays text: searchable, small
                     "text.parse_math": False,  # names are text: a "$" in one is not mathtext (nor its errors)
                     "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9})


class Style:
    """Colour by optimizer, line style by configuration within it; built once per report."""

    def __init__(self, configs: pd.DataFrame):
        pairs = configs[["config", "optimizer"]].drop_duplicates().sort_values(["optimizer", "config"])
        hues = palette(pairs["optimizer"].unique())
        self.color = {c: hues[o] for c, o in zip(pairs["config"], pairs["optimizer"])}
        self.linestyle = {}
        for _, g in pairs.groupby("optimizer"):
            self.linestyle.update({c: LINESTYLES[i % len(LINESTYLES)] for i, c in enumerate(g["config"])})

    def handles(self, configs) -> list:
        """Legend entries for ``configs`` (sorted)."""
        return [plt.Line2D([], [], color=self.color[c], ls=self.linestyle[c], lw=2, label=c) for c in sorted(configs)]


def palette(optimizers) -> dict[str, str]:
    """One distinct hue per optimizer name (sorted), the same in every figure of a report."""
    names = sorted(optimizers)
    more = [matplotlib.colors.to_hex(plt.get_cmap("tab10")(i % 10)) for i in range(max(0, len(names) - len(HUES)))]
    return dict(zip(names, [*HUES, *more]))


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


def zero_floor(values) -> float:
    """Where a gap of exactly 0 is drawn on a log axis: one decade below the smallest positive gap."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return 10.0 ** (math.floor(math.log10(v.min())) - 1) if len(v) else 1e-3


def _mark_floor(ax, floor: float, kind: str) -> None:
    ax.axhline(floor, color="grey", ls=":", lw=1)
    ax.annotate(f"0 ({'best found reached' if kind == BEST_FOUND else kind + ' reached'})", xy=(0.01, floor),
                xycoords=("axes fraction", "data"), va="bottom", fontsize=7, color="dimgrey")


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
    return plt.subplots(n_rows, 2, figsize=(11, 3.6 * n_rows + 0.9), squeeze=False, layout="constrained")


def _shared_legend(fig, style: Style, configs, extra: list | None = None) -> None:
    fig.legend(handles=style.handles(configs) + (extra or []), loc="outside lower center",
               ncol=min(4, len(configs) + len(extra or [])), fontsize=8, frameon=False)


UNITS = ((0, "evaluations"), (1, "seconds"))  # trace column, axis unit


def _gap_label(kind: str) -> str:
    return f"best-so-far gap to the {kind} (value − {kind})"


def convergence(g_obj: pd.DataFrame, style: Style) -> plt.Figure:
    """Best-so-far gap to the best known value vs evaluations (left) and vs seconds (right), one row
    per budget: median over successful runs with the interquartile band."""
    budgets = _budgets(g_obj)
    fig, axes = _grid(len(budgets))
    ref, kind = float(g_obj["best_known_value"].iloc[0]), str(g_obj["best_known_kind"].iloc[0])
    shown = set()
    for i, budget in enumerate(budgets):
        g_b = g_obj[(g_obj["budget_label"] == budget) & g_obj["ok"]]
        for j, (column, unit) in enumerate(UNITS):
            ax = axes[i, j]
            ax.set_xlabel(f"{unit} (log scale)")
            ax.set_ylabel(_gap_label(kind))
            ax.set_title(f"{budget}: gap vs {unit}")
            stops = [t[0][column] for t in g_b["trace"] if t]
            end = g_b["n_evals"].max() if column == 0 else g_b["wall_s"].max()
            if not stops or not end > 0:
                continue
            grid = np.geomspace(max(min(stops), 1e-6), max(end, min(stops) * 1.01), 200)
            curves = {}
            for config, g_c in g_b.groupby("config", sort=True):
                gaps = np.array([best_so_far(t, grid, column) for t in g_c["trace"]]) - ref
                with warnings.catch_warnings():  # grid points before any run's first value are all-NaN
                    warnings.simplefilter("ignore", RuntimeWarning)
                    curves[config] = np.nanquantile(np.where(np.isfinite(gaps), gaps, np.nan), [0.25, 0.5, 0.75],
                                                    axis=0, method="inverted_cdf")
            floor = zero_floor(np.concatenate([c.ravel() for c in curves.values()]))
            for config, bands in curves.items():
                q1, med, q3 = np.maximum(bands, floor)
                ax.plot(grid, med, color=style.color[config], ls=style.linestyle[config], lw=1.4)
                ax.fill_between(grid, q1, q3, color=style.color[config], alpha=0.12, lw=0)
                shown.add(config)
            ax.set_xscale("log")
            if any(np.nanmin(b[1]) <= 0 for b in curves.values() if np.isfinite(b[1]).any()):
                ax.set_yscale("log")
                _mark_floor(ax, floor, kind)
            else:
                _autolog(ax, "y", np.concatenate([b[1] for b in curves.values()]))
    _shared_legend(fig, style, shown)
    fig.suptitle(f"{g_obj['objective_label'].iloc[0]} — median and interquartile band over seeds")
    return fig


def ecdf(g_class: pd.DataFrame, style: Style) -> plt.Figure:
    """Runtime ECDFs (COCO): share of (run, target) pairs reached within a number of evaluations
    (left) and seconds (right), pooled over the class's objectives; one row per budget. Configurations
    without a successful run are left out (they are in the failures table)."""
    budgets = _budgets(g_class)
    fig, axes = _grid(len(budgets))
    shown = set()
    for i, budget in enumerate(budgets):
        g_b = g_class[g_class["budget_label"] == budget]
        for config in sorted(g_b.loc[g_b["ok"], "config"].unique()):
            hits: tuple[list, list] = ([], [])
            for _, g_obj in g_b[g_b["config"] == config].groupby("objective_label"):
                for trace, ok in zip(g_obj["trace"], g_obj["ok"]):
                    for _, target in targets(g_obj):
                        for column, _ in UNITS:
                            hits[column].append(stats.hitting_time(trace, target, column) if ok else np.inf)
            for column, _ in UNITS:
                x, y = stats.runtime_ecdf(hits[column])
                if len(x):
                    axes[i, column].step(np.r_[x[:1], x], np.r_[0, y], where="post", color=style.color[config],
                                         ls=style.linestyle[config])
                    shown.add(config)
        for column, unit in UNITS:
            ax = axes[i, column]
            ax.set_xscale("log")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(f"{unit} (log scale)")
            ax.set_ylabel("fraction of (run, target) pairs reached")
            ax.set_title(f"{budget}: runtime ECDF vs {unit}")
    _shared_legend(fig, style, shown)
    kinds = {uses_ratio(g) for _, g in g_class.groupby("objective_label")}
    what = {frozenset({True}): "targets: ratios to the optimum 0.5…0.999",
            frozenset({False}): "targets: gaps to the best known value 10^2…10^-8",
            frozenset({True, False}): "targets: ratios to the optimum 0.5…0.999 where it is a gain, else gaps "
                                      "to the best known value 10^2…10^-8"}.get(frozenset(kinds), "")
    fig.suptitle(f"{g_class['family'].iloc[0]}: runtime ECDFs ({what})")
    return fig


def pareto(summary_obj: pd.DataFrame, style: Style, kind: str) -> plt.Figure:
    """Median wall time vs median gap to the best known value per configuration and budget (intervals
    as error bars); the non-dominated points (Pareto front: faster or better than every other) are joined."""
    fig, ax = plt.subplots(figsize=(8.5, 5.0), layout="constrained")
    s = summary_obj[summary_obj["ok"] > 0].copy()
    floor = zero_floor(s[["regret", "regret_lo", "regret_hi"]].to_numpy().ravel())
    reached = (s["regret"] <= 0).any()
    for col in ("regret", "regret_lo", "regret_hi"):
        s[col] = s[col].clip(lower=floor)
    markers = {b: MARKERS[i % len(MARKERS)] for i, b in enumerate(dict.fromkeys(s["budget"]))}
    for _, r in s.iterrows():
        ax.errorbar(r["wall_s"], r["regret"], xerr=[[r["wall_s"] - r["wall_s_lo"]], [r["wall_s_hi"] - r["wall_s"]]],
                    yerr=[[r["regret"] - r["regret_lo"]], [r["regret_hi"] - r["regret"]]], fmt=markers[r["budget"]],
                    color=style.color[r["config"]], ms=6, elinewidth=0.8, alpha=0.9)
    front = s.sort_values(["wall_s", "regret"])
    front = front[front["regret"] < front["regret"].cummin().shift(fill_value=np.inf)]
    ax.plot(front["wall_s"], front["regret"], "k--", lw=1, drawstyle="steps-post")
    ax.scatter(front["wall_s"], front["regret"], s=160, facecolors="none", edgecolors="k", lw=1.2)
    handles = style.handles(s["config"].unique())
    handles += [plt.Line2D([], [], color="grey", marker=m, ls="", label=b) for b, m in markers.items()]
    handles.append(plt.Line2D([], [], color="k", ls="--", label="Pareto front"))
    ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    _autolog(ax, "x", s[["wall_s_lo", "wall_s_hi"]].to_numpy().ravel())
    if reached:
        ax.set_yscale("log")
        _mark_floor(ax, floor, kind)
    else:
        _autolog(ax, "y", s[["regret_lo", "regret_hi"]].to_numpy().ravel())
    ax.set_xlabel("median wall time per run, cold (s)")
    ax.set_ylabel(f"median gap to the {kind} (value − {kind})")
    ax.set_title(f"{s['objective'].iloc[0] if len(s) else ''}: time vs quality (lower-left is better)")
    return fig


PARTS = {"overhead_s": ("optimizer overhead", "#d62728"), "compute_s": ("objective compute", "#1f77b4"),
         "item_s": (".item() sync", "#ff7f0e")}


def time_split(g_obj: pd.DataFrame) -> plt.Figure:
    """Per configuration (successful runs, all budgets): time per evaluation of the optimizer's
    overhead, the objective's compute and the ``.item()`` sync side by side on a log axis (left), and
    their shares of the wall time stacked (right)."""
    ok = g_obj[g_obj["ok"]]
    sums = ok.groupby("config")[[*PARTS, "n_evals", "wall_s"]].sum()
    per_eval = sums[list(PARTS)].div(sums["n_evals"], axis=0) * 1e3
    shares = sums[list(PARTS)].div(sums["wall_s"], axis=0) * 100
    fig, (ax_ms, ax_pct) = plt.subplots(1, 2, figsize=(11, 0.55 * len(sums) + 2.2), sharey=True,
                                         layout="constrained")
    y = np.arange(len(sums))
    height = 0.8 / len(PARTS)
    for k, (col, (label, colour)) in enumerate(PARTS.items()):
        ax_ms.barh(y - 0.4 + (k + 0.5) * height, per_eval[col].where(per_eval[col] > 0), height=height,
                   color=colour, label=label)
    left = np.zeros(len(sums))
    for col, (_, colour) in PARTS.items():
        ax_pct.barh(y, shares[col], left=left, color=colour)
        left += shares[col].fillna(0).to_numpy()
    ax_ms.set_xscale("log")
    ax_ms.set_yticks(y, sums.index)
    ax_ms.invert_yaxis()
    ax_ms.set_xlabel("time per evaluation (ms, log scale)")
    ax_pct.set_xlabel("share of wall time (%)")
    ax_pct.set_xlim(0, 100)
    fig.legend(*ax_ms.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"{g_obj['objective_label'].iloc[0]}: where the time goes (per evaluation, cold runs)")
    return fig


def fight_heatmap(matrix: pd.DataFrame, title: str) -> plt.Figure:
    """The fight matrix: share of problems where the row configuration beats the column one; pairs
    that never met on a problem are grey and hatched with "—"."""
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.6 * n + 4), max(4.5, 0.5 * n + 2.5)), layout="constrained")
    values = matrix.to_numpy(dtype=float)
    im = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            v = values[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(v - 0.5) > 0.35 else "black")
            elif i != j:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=NEVER_MET, edgecolor="grey", hatch="///",
                                       lw=0))
                ax.text(j, i, "—", ha="center", va="center", fontsize=8, color="black")
            else:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor="none"))
    ax.set_xticks(range(n), matrix.columns, rotation=60, ha="right")
    ax.set_yticks(range(n), matrix.index)
    ax.set_xlabel("opponent")
    ax.set_ylabel("configuration")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="win rate (share of objective × budget problems)")
    ax.set_title(f"{title}\ngrey hatched —: never met on the same objective and budget", fontsize=9)
    return fig
