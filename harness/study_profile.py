"""Where a trial's time goes: cProfile on a short single-process TPE study per storage kind.

Own time is grouped with ``profile_breakdown``'s attribution (each function's own time goes to
the group owning it by file, or to its callers' groups: sqlalchemy and sqlite3 to ``storage``,
torch ops to ``objective``), with the groups of :data:`GROUPS`. ``harness.profiling`` profiles a
cell (an optimizer adapter's run); a study with a storage is not a cell, so the study is
profiled here and only the attribution is shared.
"""

from __future__ import annotations

import cProfile
import os
import pstats
from pathlib import Path
from typing import Any

import objectives

from . import study_cost
from .profile_breakdown import _Attributor
from .study import TrialFunction, _warm_up
from .study_cost import Burn, torch_threads
from .study_storage import close_storage, open_storage, remove_storage_files

GROUPS = ("objective", "sampler", "storage", "optuna", "harness", "other")


def _owners() -> list[tuple[str, str]]:
    """(path prefix, group) in match order: Optuna's samplers and storages before the rest of it.
    SQLAlchemy is owned by ``storage`` (only Optuna's RDB storage uses it here): its recursive
    internals would defeat attribution through callers."""
    import optuna
    import sqlalchemy

    def folder(module) -> str:
        return os.path.join(os.path.dirname(module.__file__), "")

    optuna_dir = folder(optuna)
    return [(optuna_dir + "samplers" + os.sep, "sampler"), (optuna_dir + "storages" + os.sep, "storage"),
            (folder(sqlalchemy), "storage"),
            (optuna_dir, "optuna"), (folder(objectives), "objective"), (study_cost.__file__, "objective"),
            (os.path.join(os.path.dirname(__file__), ""), "harness")]


def grouped(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per group of :data:`GROUPS` (they sum to the profile's total)."""
    raw = stats.stats  # type: ignore[attr-defined]
    attributor = _Attributor(raw, _owners())
    out = dict.fromkeys(GROUPS, 0.0)
    for func in raw:
        for group, seconds in attributor.own_time(func).items():
            out["objective" if group == "item" else group] += seconds
    return out


def profile_study(objective: str, options: dict[str, Any], n_trials: int, storage: str, workdir: Path,
                  prof_path: Path | None = None, seed: int = 0) -> dict[str, Any]:
    """Profile ``study.optimize`` of ``n_trials`` TPE trials on ``storage``; ms per trial per group.
    The study is built and warmed up before the profiler starts; ``prof_path`` keeps the raw profile
    (open it with ``snakeviz``)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    workdir.mkdir(parents=True, exist_ok=True)
    with torch_threads(1):
        trial_fn = TrialFunction(objectives.get(objective, **options), Burn())
        _warm_up(trial_fn)
        store = open_storage(storage, workdir)
        try:
            study = optuna.create_study(storage=store, sampler=optuna.samplers.TPESampler(seed=seed))
            profiler = cProfile.Profile()
            profiler.runcall(study.optimize, trial_fn, n_trials=n_trials)
        finally:
            close_storage(store)
            remove_storage_files(workdir)
    if prof_path is not None:
        profiler.dump_stats(prof_path)
    groups = grouped(pstats.Stats(profiler))
    total = sum(groups.values())
    return {"storage": storage, "n_trials": n_trials, "ms_per_trial": 1e3 * total / n_trials,
            **{f"{g}_ms": 1e3 * s / n_trials for g, s in groups.items()},
            "profile": str(prof_path) if prof_path else ""}
