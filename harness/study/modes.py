"""Parallel Optuna studies: one TPE study run in each parallel mode, every mode timed the same way.

Modes (``MODES``); N = ``workers``, T = ``n_trials``:
- ``single``: one process, in-memory storage, T trials: the baseline.
- ``threads``: ``study.optimize(n_jobs=N)`` in one process, in-memory storage, T trials.
- ``sqlite``: N processes (a ``ProcessPoolExecutor``) share one study in SQLite with WAL
  (``study.storage``'s ``sqlite-wal``); each runs its share of the T trials.
- ``journal``: the same on ``JournalStorage`` with a file backend.
- ``independent``: N processes, each its own in-memory study of T trials on its own problem
  (see :func:`problem_options`): "parallelize across symbols".
- ``dask``: the same independent studies as tasks on a ``dask.distributed.LocalCluster`` of N
  single-threaded worker processes (started here, with the matrix runner's cluster settings).
Worker processes start by ``fork`` (the default, as in the matrix runner) or ``spawn``.

Every worker pins torch to one thread, builds its objective, warms up, opens its storage and then
starts its clock. ``wall_s`` = last worker done − first worker ready; ``startup_s`` = last worker
ready − submission (process start, imports, objective build). Throughput = trials ÷ ``wall_s``;
parallel efficiency = throughput ÷ (N × the single mode's throughput at the same evaluation cost).
Every sampler is ``TPESampler(seed=…)`` with Optuna's defaults; worker i of a
shared study uses seed + i (equal seeds would propose the same startup points).

With ``keep_in`` (``optbench study --storage URL``) every study a mode ran is copied, after the
mode is measured, into that Optuna storage as ``MODE/PROBLEM/BURN-COSTms`` (see :func:`study_name`).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from optbench import objectives
from optbench.harness.core.errors import HarnessError
from optbench.harness.execution.sandbox import torch_threads
from optbench.harness.study.cost import Burn, calibrate
from optbench.harness.study.storage import (
    close_storage,
    keep_study,
    leftover_files,
    open_kept,
    opened,
    remove_storage_files,
)
from optbench.objectives import CategoricalParam, FloatParam, SearchSpace

MODES = ("single", "threads", "sqlite", "journal", "independent", "dask")
SHARED_STORAGE = {"sqlite": "sqlite-wal", "journal": "journal"}
START_METHODS = ("fork", "spawn")  # not forkserver: its server process would outlive the run


def suggest(trial, space: SearchSpace) -> dict[str, Any]:
    """Ask an Optuna trial for every parameter of ``space`` (the define-by-run form of
    ``optuna_adapters.distributions``)."""
    point: dict[str, Any] = {}
    for p in space.params:
        if isinstance(p, FloatParam):
            point[p.name] = trial.suggest_float(p.name, p.low, p.high)
        elif isinstance(p, CategoricalParam):
            point[p.name] = trial.suggest_categorical(p.name, p.choices)
        else:
            point[p.name] = trial.suggest_int(p.name, p.low, p.high)
    return point


class TrialFunction:
    """The Optuna objective: suggest, evaluate, burn; records each evaluation's wall seconds and
    its thread's CPU seconds (wall > CPU: the thread waited, for the GIL or for a core)."""

    def __init__(self, objective: objectives.Objective, burn: Burn):
        self.objective = objective
        self.burn = burn.make()
        self.eval_s: list[float] = []  # list.append is atomic: n_jobs threads may share these
        self.eval_cpu_s: list[float] = []

    def __call__(self, trial) -> float:
        point = suggest(trial, self.objective.space)
        t0, c0 = time.perf_counter(), time.thread_time()
        value = self.objective(point)
        self.burn()
        self.eval_cpu_s.append(time.thread_time() - c0)
        self.eval_s.append(time.perf_counter() - t0)
        return value

    def clear(self) -> None:
        self.eval_s.clear()
        self.eval_cpu_s.clear()


@dataclass(frozen=True)
class Job:
    """What one worker runs: a study (or its share of a shared one) on one problem."""

    objective: str
    options: dict[str, Any]
    burn: Burn
    n_trials: int
    seed: int
    storage: str = "memory"
    workdir: str = ""
    study_name: str = "study"
    n_jobs: int = 1


@dataclass(frozen=True)
class JobResult:
    """A worker's clock readings (``time.monotonic``: one clock for every process on a machine),
    trials run, evaluation wall and CPU seconds, process CPU seconds, its study's best so far and
    its study's trials (``FrozenTrial``s, read after the clock stopped)."""

    t_ready: float
    t_done: float
    n_trials: int
    eval_s: float
    eval_cpu_s: float
    cpu_s: float
    best_value: float
    best_point: dict[str, Any]
    trials: list[Any] = field(default_factory=list)


def _warm_up(trial_fn: TrialFunction) -> None:
    """A few throwaway TPE trials, so first-call costs (lazy imports, first torch ops) count as
    start-up and not as measured trials."""
    import optuna

    optuna.create_study(sampler=optuna.samplers.TPESampler(n_startup_trials=2, seed=0)).optimize(trial_fn, n_trials=4)
    trial_fn.clear()


def run_job(job: Job) -> JobResult:
    """Run one worker's study; module-level so process pools and Dask can pickle it."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with torch_threads(1):
        trial_fn = TrialFunction(objectives.get(job.objective, **job.options), job.burn)
        _warm_up(trial_fn)
        with opened(job.storage, job.workdir) as storage:
            study = optuna.create_study(study_name=job.study_name, storage=storage, load_if_exists=True,
                                        sampler=optuna.samplers.TPESampler(seed=job.seed))
            cpu0, t_ready = time.process_time(), time.monotonic()
            study.optimize(trial_fn, n_trials=job.n_trials, n_jobs=job.n_jobs)
            t_done, cpu_s = time.monotonic(), time.process_time() - cpu0
            best_value, best_params, trials = study.best_value, study.best_params, study.get_trials(deepcopy=False)
    return JobResult(t_ready, t_done, len(trial_fn.eval_s), sum(trial_fn.eval_s), sum(trial_fn.eval_cpu_s), cpu_s,
                     best_value, best_params, trials)


SAME_PROBLEM = "same problem, other sampler seeds"


def problem_options(objective: str, options: dict[str, Any], k: int) -> tuple[dict[str, Any], str]:
    """Options of the k-th independent problem and how problems differ: the objective's own
    ``variants()`` in order, from the one ``options`` select, among the variants setting the same
    options (MaxDiff ``goog``: the next windows); with no such variant or only one, the same
    problem (only the sampler seed differs)."""
    declaration = objectives.declaration(objective)
    variants = declaration.variants() if declaration is not None else [{}]
    full = {**objectives.option_defaults(objective), **objectives.coerced_options(objective, options)}
    selected = next((v for v in variants if all(full.get(key) == value for key, value in v.items())), None)
    pool = [v for v in variants if selected is not None and v.keys() == selected.keys()]
    if selected is None or len(pool) < 2:
        return dict(options), SAME_PROBLEM
    chosen = pool[(pool.index(selected) + k) % len(pool)]
    varying = [key for key in chosen if len({repr(v[key]) for v in pool}) > 1]
    return {**options, **chosen}, f"{', '.join(varying)} variants"


@dataclass(frozen=True)
class StudyConfig:
    """What every mode runs: objective, trials per study, workers, sampler seed, process start."""

    objective: str = "ma_crossover"
    options: dict[str, Any] = field(default_factory=dict)
    n_trials: int = 40
    workers: int = 2
    seed: int = 0
    start_method: str = "fork"

    def __post_init__(self) -> None:
        if self.n_trials < 1 or self.workers < 1:
            raise HarnessError(f"trials={self.n_trials} and workers={self.workers} must both be ≥ 1")
        if self.start_method not in START_METHODS:
            raise HarnessError(f"start method {self.start_method!r} is unknown; allowed: {', '.join(START_METHODS)}")
        objectives.get(self.objective, **self.options)  # a bad name or option fails here, before any run


@dataclass(frozen=True)
class ModeResult:
    """One mode at one evaluation cost: the row of the table, the store and the plot.

    ``cost_ms`` is the target, ``eval_ms`` / ``eval_cpu_ms`` the measured mean wall / CPU time per
    evaluation (objective + burn);
    ``study_trials`` = trials per study, ``n_trials`` = trials run by all workers; ``load_avg`` =
    the machine's 1-minute load average at the start; ``leftovers`` = lock/WAL files found after;
    ``repeats`` = runs this row is the fastest of; ``seed`` = the sampler seed (worker i: seed + i).
    """

    mode: str
    objective: str
    options: dict[str, Any]
    burn: str
    cost_ms: float
    eval_ms: float
    eval_cpu_ms: float
    workers: int
    study_trials: int
    n_trials: int
    wall_s: float
    startup_s: float
    trials_per_s: float
    efficiency: float
    best_value: float
    best_point: dict[str, Any]
    cpu_ms_per_trial: float
    storage: str
    problems: str
    load_avg: float
    leftovers: list[str] = field(default_factory=list)
    repeats: int = 1
    seed: int = 0


def _jobs(mode: str, cfg: StudyConfig, burn: Burn, workdir: Path) -> tuple[list[Job], str]:
    base = Job(cfg.objective, dict(cfg.options), burn, cfg.n_trials, cfg.seed, workdir=str(workdir))
    if mode == "single":
        return [base], "one study"
    if mode == "threads":
        return [replace(base, n_jobs=cfg.workers)], "one shared study"
    if mode in SHARED_STORAGE:
        shares = [cfg.n_trials // cfg.workers + (i < cfg.n_trials % cfg.workers) for i in range(cfg.workers)]
        return [replace(base, n_trials=n, seed=cfg.seed + i, storage=SHARED_STORAGE[mode])
                for i, n in enumerate(shares) if n], "one shared study"
    jobs, how = [], ""
    for k in range(cfg.workers):
        options, how = problem_options(cfg.objective, cfg.options, k)
        jobs.append(replace(base, options=options, seed=cfg.seed + k))
    return jobs, f"{cfg.workers} independent studies ({how})"


def _on_processes(jobs: list[Job], workers: int, start_method: str) -> list[JobResult]:
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(start_method)) as pool:
        return list(pool.map(run_job, jobs))


def _on_dask(jobs: list[Job], workers: int) -> list[JobResult]:
    # The matrix runner's LocalCluster. Note: Dask's nanny starts workers with
    # MALLOC_TRIM_THRESHOLD_=65536, which made the torch burn cost 1.8-2.6x the CPU here (measured).
    from optbench.harness.execution.matrix import dask_executor

    with dask_executor(workers, "local") as pool:
        return list(pool.map(run_job, jobs))


def _create_shared(job: Job) -> None:
    """Create the shared study once, up front: concurrent creation of a fresh database races."""
    import optuna

    with opened(job.storage, job.workdir) as storage:
        optuna.create_study(study_name=job.study_name, storage=storage)


def _read_shared(job: Job) -> tuple[float, dict[str, Any], list[Any]]:
    """A shared study's best value, best point and finished trials."""
    import optuna

    with opened(job.storage, job.workdir) as storage:
        study = optuna.load_study(study_name=job.study_name, storage=storage)
        done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        return study.best_value, study.best_params, done


def study_name(mode: str, job: Job, cost_ms: float) -> str:
    """The name a kept study gets: mode, problem (objective and options) and evaluation cost,
    e.g. ``independent/sphere(dim=2, seed=1)/work-0.1ms``."""
    options = ", ".join(f"{k}={v}" for k, v in sorted(job.options.items()))
    return f"{mode}/{job.objective}" + (f"({options})" if options else "") + f"/{job.burn.kind}-{cost_ms:g}ms"


def _keep(kept, mode: str, jobs: list[Job], studies: list[list[Any]], cost_ms: float, workers: int) -> None:
    for job, trials in zip(jobs, studies):
        attrs = dict(mode=mode, objective=job.objective, options=job.options, burn=job.burn.kind,
                     cost_ms=cost_ms, workers=workers, sampler="TPESampler", seed=job.seed)
        keep_study(kept, study_name(mode, job, cost_ms), trials, attrs)


def run_mode(mode: str, cfg: StudyConfig, burn: Burn, cost_ms: float, workdir: Path, kept=None) -> ModeResult:
    """Run ``mode`` once and measure it; storage files live in ``workdir`` and are removed after.
    ``kept``: an Optuna storage the mode's studies are copied into afterwards (see :func:`run_modes`)."""
    if mode not in MODES:
        raise HarnessError(f"unknown mode {mode!r}; allowed: {', '.join(MODES)}")
    workdir.mkdir(parents=True, exist_ok=True)
    jobs, problems = _jobs(mode, cfg, burn, workdir)
    try:
        if mode in SHARED_STORAGE:
            _create_shared(jobs[0])
        load_avg, t_submit = os.getloadavg()[0], time.monotonic()
        if mode in ("single", "threads"):
            results = [run_job(jobs[0])]
        elif mode == "dask":
            results = _on_dask(jobs, cfg.workers)
        else:
            results = _on_processes(jobs, cfg.workers, cfg.start_method)
        best, point, n_trials = results[0].best_value, results[0].best_point, sum(r.n_trials for r in results)
        studies = [r.trials for r in results]
        if mode in SHARED_STORAGE:
            best, point, shared = _read_shared(jobs[0])
            jobs, studies, n_trials = jobs[:1], [shared], len(shared)
        leftovers = leftover_files(workdir)
        if kept is not None:
            _keep(kept, mode, jobs, studies, cost_ms, 1 if mode == "single" else cfg.workers)
    finally:
        remove_storage_files(workdir)
    wall_s = max(r.t_done for r in results) - min(r.t_ready for r in results)
    per_trial_ms = 1e3 / n_trials
    return ModeResult(
        mode=mode, objective=cfg.objective, options=dict(cfg.options), burn=burn.kind, cost_ms=cost_ms,
        eval_ms=per_trial_ms * sum(r.eval_s for r in results),
        eval_cpu_ms=per_trial_ms * sum(r.eval_cpu_s for r in results),
        workers=1 if mode == "single" else cfg.workers, study_trials=cfg.n_trials, n_trials=n_trials,
        wall_s=wall_s, startup_s=max(r.t_ready for r in results) - t_submit, trials_per_s=n_trials / wall_s,
        efficiency=float("nan"), best_value=best, best_point=point,
        cpu_ms_per_trial=per_trial_ms * sum(r.cpu_s for r in results), storage=SHARED_STORAGE.get(mode, "memory"),
        problems=problems, load_avg=load_avg, leftovers=leftovers, seed=cfg.seed)


def with_efficiency(rows: Iterable[ModeResult]) -> list[ModeResult]:
    """Fill ``efficiency`` = throughput ÷ (workers × single's throughput at the same burn and cost)."""
    rows = list(rows)
    single = {(r.burn, r.cost_ms): r.trials_per_s for r in rows if r.mode == "single"}
    return [replace(r, efficiency=r.trials_per_s / (r.workers * single[(r.burn, r.cost_ms)])
                    if (r.burn, r.cost_ms) in single else float("nan")) for r in rows]


def run_modes(cfg: StudyConfig, modes: Iterable[str] = MODES, costs_ms: Iterable[float] = (0.1, 10.0, 200.0),
              burns: Iterable[str] = ("work",), workdir: Path | None = None, repeats: int = 1,
              progress: Callable[[ModeResult], None] = lambda row: None, keep_in: str | None = None) -> list[ModeResult]:
    """Every mode at every evaluation cost and burn kind (``single`` first in each group, as the
    others' reference), each the fastest of ``repeats`` runs (other load on the machine only ever
    slows a run down); storage files go to a temporary folder unless ``workdir`` is given. With
    ``keep_in`` (an RDB URL or a journal file path) every study run is also kept there."""
    modes = list(dict.fromkeys(modes))
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise HarnessError(f"unknown mode(s) {unknown}; allowed: {', '.join(MODES)}")
    modes.sort(key=MODES.index)
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="optbench-study-"))
    objective = objectives.get(cfg.objective, **cfg.options)
    kept = open_kept(keep_in) if keep_in else None
    rows = []
    try:
        for kind in burns:
            for cost_ms in costs_ms:
                burn, _ = calibrate(objective, cost_ms, kind)
                for mode in modes:
                    runs = [run_mode(mode, cfg, burn, cost_ms, root / f"{mode}-{kind}-{cost_ms:g}", kept)
                            for _ in range(repeats)]
                    rows.append(replace(max(runs, key=lambda r: r.trials_per_s), repeats=repeats))
                    progress(rows[-1])
    finally:
        if kept is not None:
            close_storage(kept)
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    return with_efficiency(rows)
