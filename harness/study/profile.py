"""Where a trial's time goes, per storage kind, on a short single-process TPE study.

Two runs of the same study (same seed):
1. timed, without a profiler (whose overhead would inflate Python-heavy code such as SQLAlchemy):
   the study's storage object and its sampler have their public methods wrapped in timers that
   keep *exclusive* wall and CPU time (a storage read the sampler makes counts as storage, not
   sampler; wall − CPU is waiting, e.g. for fsync). Groups:
   ``objective`` (the evaluations), ``sampler``, ``storage``, and ``optuna_loop`` = the rest of the
   wall time (trial objects, the suggest API, tell bookkeeping, this harness's glue).
2. under plain ``cProfile`` (``harness.profiling`` profiles an optimizer cell, not a study with a
   storage): the ``.prof`` file for snakeviz and the functions with the most own time (pstats).
The timers wrap ``study._storage``, the storage object Optuna actually calls (for SQLite that is
its ``_CachedStorage`` in front of ``RDBStorage``), so the cache's own work counts as storage.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import defaultdict
from functools import wraps
from pathlib import Path
from typing import Any

from optbench import objectives
from optbench.harness.execution.sandbox import torch_threads
from optbench.harness.study.cost import Burn
from optbench.harness.study.modes import TrialFunction, _warm_up
from optbench.harness.study.storage import opened, remove_storage_files, sqlite_insert_costs, storage_costs
from optbench.harness.study.tables import InsertCost, StorageCost, StudyTables, TrialProfile

GROUPS = ("objective", "sampler", "storage", "optuna_loop")
PROFILED_STORAGES = ("memory", "sqlite-wal", "journal")
SAMPLER_METHODS = ("infer_relative_search_space", "sample_relative", "sample_independent", "before_trial",
                   "after_trial")


class ExclusiveTimers:
    """Wall and CPU (``thread_time``) seconds per region, exclusive of nested timed regions (one
    thread). Wall − CPU in a region is waiting: for I/O such as fsync, or for a core."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu_seconds: dict[str, float] = defaultdict(float)
        self.stack: list[str] = []

    def wrap(self, obj: Any, region: str, names) -> None:
        """Replace ``obj``'s methods ``names`` (on the instance) by timed versions."""
        for name in names:
            setattr(obj, name, self._timed(region, getattr(obj, name)))

    def _timed(self, region: str, method):
        @wraps(method)
        def timed(*args, **kwargs):
            self.stack.append(region)
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                dt, dc = time.perf_counter() - t0, time.thread_time() - c0
                self.stack.pop()
                self.seconds[region] += dt
                self.cpu_seconds[region] += dc
                if self.stack:  # the enclosing region keeps only its exclusive time
                    self.seconds[self.stack[-1]] -= dt
                    self.cpu_seconds[self.stack[-1]] -= dc
        return timed


def _study(optuna, storage, seed: int):
    return optuna.create_study(storage=storage, sampler=optuna.samplers.TPESampler(seed=seed))


def profile_study(objective: str, options: dict[str, Any], n_trials: int, storage: str, workdir: Path,
                  prof_path: Path | None = None, seed: int = 0, top_n: int = 5) -> TrialProfile:
    """Wall and CPU ms per trial in each of :data:`GROUPS` (summing to the run's wall / CPU time),
    and with ``prof_path`` the cProfile'd run's file and its ``top_n`` functions by own time."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    workdir.mkdir(parents=True, exist_ok=True)
    profile, top = "", ""
    with torch_threads(1):
        trial_fn = TrialFunction(objectives.get(objective, **options), Burn())
        _warm_up(trial_fn)
        try:
            with opened(storage, workdir) as store:
                seconds, cpu_seconds = _timed_run(optuna, _study(optuna, store, seed), trial_fn, n_trials)
            remove_storage_files(workdir)
            if prof_path is not None:
                with opened(storage, workdir) as store:
                    profiler = cProfile.Profile()
                    profiler.runcall(_study(optuna, store, seed).optimize, trial_fn, n_trials=n_trials)
                profiler.dump_stats(prof_path)
                profile, top = str(prof_path), top_functions(pstats.Stats(profiler), top_n)
        finally:
            remove_storage_files(workdir)
    ms = {g: 1e3 * seconds[g] / n_trials for g in GROUPS}
    cpu_ms = {g: 1e3 * cpu_seconds[g] / n_trials for g in GROUPS}
    return TrialProfile(storage, n_trials, sum(ms.values()), sum(cpu_ms.values()), ms["objective"],
                        cpu_ms["objective"], ms["sampler"], cpu_ms["sampler"], ms["storage"], cpu_ms["storage"],
                        ms["optuna_loop"], cpu_ms["optuna_loop"], profile, top)


def _timed_run(optuna, study, trial_fn: TrialFunction, n_trials: int) -> tuple[dict[str, float], dict[str, float]]:
    """Wall and CPU seconds per group of one ``study.optimize``, with timers on its storage and sampler."""
    timers = ExclusiveTimers()
    names = [n for n in dir(optuna.storages.BaseStorage) if not n.startswith("_")]
    timers.wrap(study._storage, "storage", [n for n in names if callable(getattr(study._storage, n))])
    timers.wrap(study.sampler, "sampler", SAMPLER_METHODS)
    trial_fn.clear()
    t0, c0 = time.perf_counter(), time.thread_time()
    study.optimize(trial_fn, n_trials=n_trials)
    wall_s, cpu_s = time.perf_counter() - t0, time.thread_time() - c0
    wall = {"objective": sum(trial_fn.eval_s), **{g: timers.seconds[g] for g in ("sampler", "storage")}}
    cpu = {"objective": sum(trial_fn.eval_cpu_s), **{g: timers.cpu_seconds[g] for g in ("sampler", "storage")}}
    return {**wall, "optuna_loop": wall_s - sum(wall.values())}, {**cpu, "optuna_loop": cpu_s - sum(cpu.values())}


def top_functions(stats: pstats.Stats, n: int) -> str:
    """``label own-ms`` of the ``n`` functions with the most own time, joined by ``; ``."""
    from optbench.harness.profiling.breakdown import label

    raw = stats.stats  # type: ignore[attr-defined]
    top = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:n]
    return "; ".join(f"{label(func)} {1e3 * tt:.0f} ms" for func, (_cc, _nc, tt, _ct, _callers) in top)


def measure_overheads(objective: str, options: dict[str, Any], storage_trials: int, profile_trials: int,
                      profiles_dir: Path, seed: int = 0) -> StudyTables:
    """The ``storage`` and ``inserts`` tables (``storage_trials`` > 0) and the ``profile`` table
    (``profile_trials`` > 0, ``.prof`` files under ``profiles_dir``); scratch files in a temporary folder."""
    import shutil
    import tempfile

    import optuna

    from optbench.harness.optimizers.optuna_adapters import distributions

    storage: list[StorageCost] = []
    inserts: list[InsertCost] = []
    profile: list[TrialProfile] = []
    workdir = Path(tempfile.mkdtemp(prefix="optbench-study-"))
    try:
        if storage_trials:
            space = objectives.get(objective, **options).space
            storage = storage_costs(distributions(optuna, space), storage_trials, workdir)
            inserts = sqlite_insert_costs(storage_trials, workdir)
        if profile_trials:
            profiles_dir.mkdir(parents=True, exist_ok=True)
            profile = [profile_study(objective, options, profile_trials, kind, workdir,
                                     profiles_dir / f"study-{kind}.prof", seed) for kind in PROFILED_STORAGES]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return StudyTables(tuple(storage), tuple(inserts), tuple(profile))
