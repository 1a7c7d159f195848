"""The study report: efficiency vs evaluation cost per mode (PNG + SVG), tables, and a
recommendation written from the measured numbers only.

:func:`study_sections` is the main report's hook (``harness/report``), built on :func:`study_section`;
:func:`write_study_report` writes a standalone ``study.md``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from optbench.harness.report import plots
from optbench.harness.report.render import Figure, Section, Table, markdown
from optbench.harness.study.modes import MODES, ModeResult, with_efficiency
from optbench.harness.study.results import DEFAULT_OUT, DEFAULT_STORE, load_rows, load_tables
from optbench.harness.study.tables import StudyTables

TITLE = "Parallel Optuna studies"
PLOT_STEM = "study_efficiency"


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.0f} %"


def _g(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def _speedup(r: ModeResult) -> float:
    return r.efficiency * r.workers


def cpu_bounds(rows: list[ModeResult]) -> dict[int, float]:
    """Per row (by ``id``) of a process mode: workers × single's CPU ms per trial ÷ the mode's — the
    speedup N idle cores would give if workers never waited for each other (locks, fsync). It
    uses CPU time only, so other load on the machine barely moves it; the GIL makes it
    meaningless for threads, which get none."""
    single = {(r.burn, r.cost_ms): r.cpu_ms_per_trial for r in rows if r.mode == "single"}
    return {id(r): r.workers * single[(r.burn, r.cost_ms)] / r.cpu_ms_per_trial for r in rows
            if r.mode not in ("single", "threads") and (r.burn, r.cost_ms) in single}


def rows_of(source: Sequence[ModeResult] | pd.DataFrame | str | Path) -> list[ModeResult]:
    """Mode rows from a list (as is), a frame of ``modes`` rows, ``study.json`` or a results store."""
    if isinstance(source, pd.DataFrame):
        return with_efficiency(ModeResult(**row) for row in source.to_dict("records"))
    if isinstance(source, (str, Path)):
        return load_rows(source)
    return list(source)


def _cost_x(rows: list[ModeResult]) -> dict[tuple[str, float], float]:
    """Per (burn, target cost): the single mode's measured CPU ms per evaluation (the target where
    absent); CPU time, because other load on the machine inflates wall time."""
    x = {(r.burn, r.cost_ms): r.cost_ms for r in rows}
    x.update({(r.burn, r.cost_ms): r.eval_cpu_ms for r in rows if r.mode == "single"})
    return x


def efficiency_figure(rows: list[ModeResult]):
    """Per burn kind, parallel efficiency vs evaluation cost, one line per mode: measured (top) and
    the CPU-bound efficiency of the process modes (bottom: CPU-bound speedup ÷ workers)."""
    import matplotlib
    import matplotlib.pyplot as plt

    burns = list(dict.fromkeys(r.burn for r in rows))
    fig, axes = plt.subplots(2, len(burns), figsize=(5.5 * len(burns), 7), squeeze=False, sharex="col", sharey=True)
    x_of, bound = _cost_x(rows), cpu_bounds(rows)
    for col, burn in enumerate(burns):
        for i, mode in enumerate(m for m in MODES if m != "single"):
            mine = [r for r in rows if r.burn == burn and r.mode == mode]
            for ax, y in ((axes[0][col], lambda r: r.efficiency), (axes[1][col], lambda r: bound[id(r)] / r.workers)):
                pts = sorted((x_of[(r.burn, r.cost_ms)], y(r)) for r in mine if ax is axes[0][col] or id(r) in bound)
                if pts:
                    ax.plot(*zip(*pts), marker=plots.MARKERS[i], color=f"C{i}", label=mode)
        axes[0][col].set_title(f"burn: {burn} — measured")
        axes[1][col].set_title(f"burn: {burn} — CPU-bound (idle cores, no waiting)")
        axes[1][col].set_xlabel("evaluation cost, CPU ms (measured, single process)")
    for ax in axes.flat:
        ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    workers = max((r.workers for r in rows), default=0)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"parallel efficiency ({workers} workers; 1 = ideal)")
    axes[0][-1].legend(fontsize=8)
    return fig


def modes_table(rows: list[ModeResult]) -> pd.DataFrame:
    """Display rows, one per burn × cost × mode."""
    bound = cpu_bounds(rows)
    return pd.DataFrame([{
        "burn": r.burn, "target ms": _g(r.cost_ms), "eval ms": _g(r.eval_ms), "eval CPU ms": _g(r.eval_cpu_ms),
        "mode": r.mode, "workers": r.workers, "trials": r.n_trials, "wall s": _g(r.wall_s),
        "startup s": _g(r.startup_s), "trials/s": _g(r.trials_per_s), "speedup": f"×{_g(_speedup(r))}",
        "efficiency": _pct(r.efficiency), "CPU ms/trial": _g(r.cpu_ms_per_trial),
        "CPU-bound speedup": f"×{_g(bound[id(r)])}" if id(r) in bound else "–", "best value": _g(r.best_value),
        "load 1m": f"{r.load_avg:.1f}", "leftovers": ", ".join(r.leftovers) or "none"} for r in rows])


def recommendation(rows: list[ModeResult], tables: StudyTables = StudyTables()) -> list[str]:
    """Bullets stating what the numbers show, ending with the choice they support; nothing else."""
    out, choice = [], []
    by = {(r.burn, r.cost_ms, r.mode): r for r in rows}
    x_of, bound = _cost_x(rows), cpu_bounds(rows)
    loads = [r.load_avg for r in rows]
    loaded = bool(loads) and max(loads) > (os.cpu_count() or 1)
    for burn in dict.fromkeys(r.burn for r in rows):
        costs = sorted({r.cost_ms for r in rows if r.burn == burn})
        for cost in costs:
            parallel = [r for r in rows if r.burn == burn and r.cost_ms == cost and r.mode != "single"]
            if not parallel:
                continue
            best = max(parallel, key=lambda r: r.trials_per_s)
            others = ", ".join(f"{r.mode} {_pct(r.efficiency)}" for r in parallel if r is not best)
            where = f"{_g(x_of[(burn, cost)])} CPU ms per evaluation (burn `{burn}`)"
            bounds = {r.mode: bound[id(r)] for r in parallel if id(r) in bound}
            out.append(f"At {where}, the fastest parallel mode is **{best.mode}**: {_g(best.trials_per_s)} trials/s, "
                       f"{_pct(best.efficiency)} efficiency, ×{_g(_speedup(best))} the single process ({others}). "
                       "CPU-bound speedups (idle cores, no waiting): "
                       + ", ".join(f"{m} ×{_g(b)}" for m, b in bounds.items()) + ".")
            if loaded and bounds:  # wall clock is unreliable: choose among process modes by CPU accounting
                m = max(bounds, key=lambda mode: bounds[mode])
                choice.append(f"at {where}: {m} (CPU-bound ×{_g(bounds[m])})" if bounds[m] >= 1.1 else
                              f"at {where}: a single process (no process mode could be 10 % faster)")
            else:
                choice.append(f"at {where}: {best.mode}" if _speedup(best) >= 1.1 else
                              f"at {where}: a single process (no mode was 10 % faster)")
        shared = [c for c in costs if (burn, c, "sqlite") in by and by[(burn, c, "sqlite")].efficiency >= 0.5]
        if any((burn, c, "sqlite") in by for c in costs):
            out.append("Sharing one study through SQLite reaches 50 % efficiency "
                       + (f"from {_g(x_of[(burn, shared[0])])} CPU ms per evaluation on (burn `{burn}`)."
                          if shared else f"at none of the measured costs (burn `{burn}`)."))
    top = max((r.cost_ms for r in rows), default=0.0)
    threads = {r.burn: r for r in rows if r.mode == "threads" and r.cost_ms == top}
    if len(threads) > 1:
        out.append("Threads at the highest cost: " + ", ".join(f"{_pct(r.efficiency)} with burn `{b}`"
                                                                 for b, r in threads.items())
                   + " (`work` is torch, which releases the GIL inside its kernels; `python` holds it).")
    if tables.profile:
        out.append("Per cheap trial (one process, TPE, timers on the storage and sampler; wall ms / CPU ms): "
                   + "; ".join(f"{p.storage}: {_g(p.ms_per_trial)} / {_g(p.cpu_ms_per_trial)}, of which sampler "
                               f"{_g(p.sampler_ms)} / {_g(p.sampler_cpu_ms)}, storage {_g(p.storage_ms)} / "
                               f"{_g(p.storage_cpu_ms)}, objective {_g(p.objective_ms)} / {_g(p.objective_cpu_ms)}"
                               for p in tables.profile) + ".")
    if tables.storage:
        out.append("Storage per trial (ask + tell, wall ms / CPU ms): " + ", ".join(
            f"{s.storage} {_g(s.ask_tell_ms)} / {_g(s.ask_tell_cpu_ms)}" for s in tables.storage)
            + "; cold load of a study: " + ", ".join(
            f"{s.storage} {_g(s.load_ms)} ms" for s in tables.storage if not math.isnan(s.load_ms)) + ".")
    if loaded:
        out.append(f"Caution: the 1-minute load average was {min(loads):.1f}–{max(loads):.1f} on "
                   f"{os.cpu_count()} cores during these runs: other processes shared the cores, so wall times, "
                   f"trials/s and efficiencies are inflated and noisy (rerun on an idle machine, or with --repeats); "
                   f"CPU ms per evaluation and per trial are much less sensitive to that.")
    if choice:
        out.append("**Use** " + "; ".join(choice) + (" (chosen by CPU accounting: the machine was loaded)."
                                                      if loaded else "."))
    return [f"- {line}" for line in out]


def study_section(source: Sequence[ModeResult] | pd.DataFrame | str | Path, out_dir: Path,
                  tables: StudyTables = StudyTables()) -> tuple[Section, list[Path]]:
    """The report section (tables, recommendation, the efficiency figure saved under ``out_dir``) and
    the figure's paths. ``source``: see :func:`rows_of`; ``tables``: the study's other measurements."""
    rows = rows_of(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    figure = Figure(plots.save(efficiency_figure(rows), out_dir, PLOT_STEM), "parallel efficiency vs evaluation cost")
    sec = Section(TITLE, items=[
        "Throughput of one Optuna TPE study per parallel mode, at several evaluation costs. Efficiency = "
        "trials/s ÷ (workers × single-process trials/s at the same cost); wall time excludes worker start-up "
        "(shown apart). `sqlite` = SQLite with WAL; `independent`/`dask` run one study per worker.",
        figure, Table(modes_table(rows), "modes: measured"), "Recommendation:",
        "\n".join(recommendation(rows, tables))])
    for found, caption in ((tables.storage, "storage cost per trial, ms"),
                           (tables.inserts, "plain sqlite3 inserts (one commit per row vs one for all)"),
                           (tables.profile, "where a cheap trial's time goes, ms per trial (top: cProfile's heaviest)")):
        if found:
            cells = pd.DataFrame([asdict(row) for row in found]).map(lambda v: _g(v) if isinstance(v, float) else str(v))
            sec.items.append(Table(cells, caption))
    return sec, [out_dir / f"{PLOT_STEM}.{ext}" for ext in ("png", "svg")]


def study_sections(plots_dir: Path, store: Path = DEFAULT_STORE,
                   tables: Path = DEFAULT_OUT / "study.json") -> list[Section]:
    """The main report's hook: ``[section]`` when ``store`` holds study rows (with the storage and
    profile tables of ``tables`` if that file exists), else ``[]``."""
    rows = load_rows(store) if Path(store).exists() else []
    if not rows:
        return []
    return [study_section(rows, plots_dir, load_tables(tables) if Path(tables).exists() else StudyTables())[0]]


def write_study_report(out: Path, rows: list[ModeResult], tables: StudyTables = StudyTables()) -> Path:
    """``study.md`` under ``out`` with the figure under ``out/plots``; returns its path."""
    sec, _ = study_section(rows, out / "plots", tables)
    path = out / "study.md"
    path.write_text(markdown("optbench study", [sec]))
    return path
