"""The experiment matrix: objectives × optimizers × budgets × seeds, run on all cores or on Dask.

Data flows one way: :func:`expand` makes cells, :func:`resolve` checks every cell and completes its
options before anything runs, :func:`run_cells` runs cells on a process pool or a Dask cluster
(each in its worker's sandbox, see :mod:`harness.sandbox`) and yields records as they finish, and
:func:`run_matrix` writes each record to the store from this process (the only writer), skipping
the cells the store already holds with status ``ok``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing import get_context
from typing import Any

from optbench import objectives
from optbench.harness import optimizers, sandbox
from optbench.harness.budget import Budget, HarnessError
from optbench.harness.progress import MatrixProgress
from optbench.harness.record import Cell, RunRecord
from optbench.harness.store import Store, cell_key, to_json
from optbench.harness.versions import versions

Named = tuple[str, dict[str, Any]]  # a name and its options


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def expand(objective_specs: Sequence[Named], optimizer_specs: Sequence[Named], budgets: Sequence[Budget],
           seeds: Sequence[int]) -> list[Cell]:
    """Every combination, seed-major: an interrupted matrix has whole seeds done, and ETAs are fair."""
    return [Cell(obj, opt, budget, seed, dict(obj_options), dict(opt_options))
            for seed in seeds for budget in budgets
            for obj, obj_options in objective_specs for opt, opt_options in optimizer_specs]


def resolve(cells: Sequence[Cell]) -> list[Cell]:
    """Check every cell and complete its options with the defaults (so equal runs have equal store
    keys); duplicates are dropped. Raises one ``HarnessError`` listing every problem, before
    anything runs: unknown names, bad options, an empty matrix."""
    if not cells:
        raise HarnessError("the matrix is empty: give at least one --objective and one --optimizer, or --suite NAME")
    problems: dict[str, None] = {}  # an ordered set of messages
    full_objective: dict[tuple, dict | None] = {}
    full_optimizer: dict[tuple, dict | None] = {}
    out: dict[tuple, Cell] = {}
    for cell in cells:
        obj_key, opt_key = (cell.objective, to_json(cell.options)), (cell.optimizer, to_json(cell.optimizer_options))
        if obj_key not in full_objective:
            full_objective[obj_key] = _checked(problems, lambda: _objective_options(cell.objective, cell.options))
        if opt_key not in full_optimizer:
            full_optimizer[opt_key] = _checked(
                problems, lambda: optimizers.make(cell.optimizer, **cell.optimizer_options).options)
        if full_objective[obj_key] is not None and full_optimizer[opt_key] is not None:
            full = replace(cell, options=dict(full_objective[obj_key]), optimizer_options=dict(full_optimizer[opt_key]))
            out.setdefault(cell_key(full), full)
    if problems:
        raise HarnessError(f"{len(problems)} problem(s) in the matrix, nothing was run:\n  " + "\n  ".join(problems))
    return list(out.values())


def _objective_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """All of an objective's options, found by building it here, on the CPU: CUDA started in this
    process would be unusable in the workers forked from it (the workers' cells start their own)."""
    device = options.get("device")
    on_gpu = isinstance(device, str) and device.startswith("cuda")
    full = objectives.get(name, **{**options, "device": "cpu"} if on_gpu else options).options
    return {**full, "device": device} if on_gpu else full


def _checked(problems: dict[str, None], build) -> dict | None:
    try:
        return build()
    except (objectives.ObjectiveError, HarnessError) as exc:
        problems[str(exc)] = None
        return None


@contextmanager
def run_cells(cells: Sequence[Cell], *, workers: int | None = None, dask: str | None = None,
              cell_timeout_s: float | None = None) -> Iterator[Iterator[tuple[Cell, RunRecord]]]:
    """Submit ``cells`` now and give an iterator of ``(cell, record)`` as each finishes (any order).

    ``dask=None`` uses a local process pool of ``workers`` (default: every core), forked here before
    any other thread (a progress bar) starts; ``dask="local"`` starts a Dask ``LocalCluster`` of
    ``workers`` processes; any other value is the address of a running Dask scheduler. Leaving the
    block early (Ctrl-C) drops the queued cells and kills the local workers.
    """
    if not cells:
        yield iter(())
        return
    with _executor(min(workers or default_workers(), len(cells)), dask) as pool:
        futures = {pool.submit(sandbox.execute, cell, cell_timeout_s): cell for cell in cells}
        yield ((futures[future], future.result()) for future in as_completed(futures))


@contextmanager
def _executor(workers: int, dask: str | None) -> Iterator[Executor]:
    if dask is not None:
        with dask_executor(workers, dask) as pool:
            yield pool
        return
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    # fork: workers start with torch and the objectives' data already loaded (no 2 s import each)
    pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=sandbox.worker_init)
    try:
        yield pool
    except BaseException:  # Ctrl-C or an early close: drop queued cells, stop the running ones now
        pool.shutdown(wait=False, cancel_futures=True)
        for child in psutil.Process().children(recursive=True):
            if child.pid not in before:
                child.kill()
        raise
    finally:
        pool.shutdown(wait=True)


@contextmanager
def dask_executor(workers: int, address: str) -> Iterator[Executor]:
    """An executor on the Dask scheduler at ``address``, or on a new ``LocalCluster`` of ``workers``
    single-threaded processes for ``"local"`` (closed on exit)."""
    from distributed import Client, LocalCluster

    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    try:
        with Client(cluster if cluster is not None else address) as client:
            pool = client.get_executor(pure=False)
            try:
                yield pool
            finally:
                pool.shutdown(wait=False)
    except OSError as exc:
        raise HarnessError(f"cannot reach the Dask scheduler at {address!r} ({exc})") from None
    finally:
        if cluster is not None:
            cluster.close()


@dataclass(frozen=True)
class MatrixResult:
    """What a matrix run did: every cell's record in matrix order (stored ones for skipped cells)."""

    records: list[RunRecord]
    ran: int
    skipped: int
    wall_s: float

    @property
    def failed(self) -> int:
        return sum(r.status != "ok" for r in self.records)


def run_matrix(cells: Sequence[Cell], store: Store | None = None, *, workers: int | None = None,
               dask: str | None = None, cell_timeout_s: float | None = None, force: bool = False,
               quiet: bool = False, command: str = "") -> MatrixResult:
    """Run the resolved ``cells`` not yet ``ok`` in ``store`` (all with ``force``), writing each
    record as it finishes; a progress bar on stderr unless ``quiet``, and a summary line at the end.
    Ctrl-C keeps the finished cells, drops the running ones and re-raises ``KeyboardInterrupt``."""
    done = store.ok_records() if store is not None and not force else {}
    todo = [cell for cell in cells if cell_key(cell) not in done]
    run_id = store.begin_run(command, len(cells), versions()) if store is not None else None
    progress = MatrixProgress(len(todo), skipped=len(cells) - len(todo), quiet=quiet, store=store and store.path)
    results: dict[tuple, RunRecord] = {}
    t0 = time.perf_counter()
    try:
        with run_cells(todo, workers=workers, dask=dask, cell_timeout_s=cell_timeout_s) as finished, progress:
            for cell, record in finished:
                if store is not None:
                    store.put(record, run_id)
                results[cell_key(cell)] = record
                progress.advance(record)
    except KeyboardInterrupt:
        if store is not None:
            store.end_run(run_id, "interrupted", progress.counts())
        progress.report_interrupted()
        raise
    if store is not None:
        store.end_run(run_id, "finished", progress.counts())
    progress.report_done()
    records = [results.get(cell_key(c)) or done[cell_key(c)] for c in cells]
    return MatrixResult(records, ran=len(todo), skipped=len(cells) - len(todo), wall_s=time.perf_counter() - t0)
