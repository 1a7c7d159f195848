"""The experiment matrix: objectives × optimizers × budgets × seeds, run on all cores or on Dask.

Data flows one way: :func:`expand` makes cells, :func:`resolve` checks every cell and completes its
options before anything runs, :func:`run_cells` runs cells on a process pool or a Dask cluster
(each in its worker's sandbox, see :mod:`harness.sandbox` and :mod:`harness.executors`) and yields
records as they finish, and :func:`run_matrix` writes each record to the store from this process
(the run's only writer), skipping the cells the store already holds with status ``ok`` and those
another live run on the same store has claimed (see :mod:`harness.claims`).
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from optbench import objectives
from optbench.errors import OptbenchError
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.construction import prebuild
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.core.runner import describe, failed_record
from optbench.harness.execution.claims import Holder
from optbench.harness.execution.executors import DaskPool, LocalPool, cell_pool, dask_executor
from optbench.harness.execution.progress import MatrixProgress
from optbench.harness.execution.recorder import Recorder
from optbench.harness.store import Store, cell_key, ok_records, to_json
from optbench.harness.store.patience import Patience, StoreUnavailable

T = TypeVar("T")

__all__ = ["MatrixResult", "dask_executor", "default_workers", "expand", "resolve", "run_cells", "run_matrix"]

Named = tuple[str, dict[str, Any]]  # a name and its options


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def expand(objective_specs: Sequence[Named], optimizer_specs: Sequence[Named], budgets: Sequence[Budget],
           seeds: Sequence[int]) -> list[Cell]:
    """Every combination, seed-major: an interrupted matrix has whole seeds done, and ETAs are fair.
    An optimizer that ignores its seed (``seedable = False``) runs at the first seed only: its other
    seeds would be copies, not samples."""
    first = seeds[:1]
    return [Cell(obj, opt, budget, seed, dict(obj_options), dict(opt_options))
            for seed in seeds for budget in budgets
            for obj, obj_options in objective_specs for opt, opt_options in optimizer_specs
            if _seedable(opt) or seed in first]


def _seedable(name: str) -> bool:
    """Whether optimizer ``name`` uses its seed; an unknown name counts as seedable (``resolve`` refuses it)."""
    from optbench.harness import optimizers

    try:
        return bool(optimizers.adapter_class(name).seedable)
    except Exception:
        return True


def resolve(cells: Sequence[Cell]) -> list[Cell]:
    """Check every cell and complete its options with the defaults (so equal runs have equal store
    keys); duplicates are dropped. Raises one ``HarnessError`` listing every problem, before
    anything runs: unknown names, bad options, an empty matrix."""
    if not cells:
        raise HarnessError("the matrix is empty: give at least one --objective and one --optimizer, or --suite NAME")
    problems: dict[str, None] = {}  # an ordered set of messages
    full_objective: dict[tuple, tuple[dict, str] | None] = {}  # (every option, family)
    full_optimizer: dict[tuple, dict | None] = {}
    out: dict[tuple, Cell] = {}
    for cell in cells:
        obj_key, opt_key = (cell.objective, to_json(cell.options)), (cell.optimizer, to_json(cell.optimizer_options))
        if obj_key not in full_objective:
            full_objective[obj_key] = _checked(problems, lambda: _objective_options(cell.objective, cell.options))
        if opt_key not in full_optimizer:
            full_optimizer[opt_key] = _checked(
                problems, lambda: optimizers.make(cell.optimizer, **cell.optimizer_options).options)
        obj_full, opt_full = full_objective[obj_key], full_optimizer[opt_key]
        if obj_full is not None and opt_full is not None:
            options, family = obj_full
            refused = optimizers.misfit(cell.optimizer, cell.objective, family)
            if refused:
                problems[refused] = None
                continue
            full = replace(cell, options=dict(options), optimizer_options=dict(opt_full))
            out.setdefault(cell_key(full), full)
    if problems:
        raise HarnessError(f"{len(problems)} problem(s) in the matrix, nothing was run:\n  " + "\n  ".join(problems))
    return list(out.values())


def _objective_options(name: str, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """All of an objective's options and its family, found by building it here, on the CPU: CUDA
    started in this process would be unusable in the workers forked from it (the workers' cells
    start their own)."""
    device = options.get("device")
    on_gpu = isinstance(device, str) and device.startswith("cuda")
    built = (objectives.get(name, **{**options, "device": "cpu"}) if on_gpu
             else prebuild(name, options))  # kept for the workers forked from here: see harness.core.construction
    full, family = built.options, describe(built)["family"]
    return ({**full, "device": device} if on_gpu else full), family


def _checked(problems: dict[str, None], build: Callable[[], T]) -> T | None:
    try:
        return build()
    except OptbenchError as exc:
        problems[str(exc)] = None
        return None


POLL_S = 0.5  # how often cells held by another live run are asked for again
MAX_POOL_BREAKS = 3  # a cell running when the pool broke this often is recorded as crashed
# This process's own deadline for a cell, past the worker's --cell-timeout: a worker that is stopped
# (SIGSTOP) or stuck in the kernel cannot enforce the timeout itself.
GRACE_S, GRACE_SHARE = 2.0, 0.25


def parent_deadline_s(cell_timeout_s: float | None) -> float | None:
    """How long this process waits for a cell's result before it kills the cell's worker."""
    return None if cell_timeout_s is None else cell_timeout_s + max(GRACE_S, GRACE_SHARE * cell_timeout_s)


@contextmanager
def run_cells(cells: Sequence[Cell], *, workers: int | None = None, dask: str | None = None,
              cell_timeout_s: float | None = None,
              claim: Callable[[Cell], RunRecord | Holder | None] | None = None,
              ) -> Iterator[Iterator[tuple[Cell, RunRecord, bool]]]:
    """Start the workers, then give an iterator of ``(cell, record, ran)`` as cells finish (any order).

    ``dask=None`` uses a local process pool of ``workers`` (default: every core), forked here before
    any other thread (a progress bar) starts; ``dask="local"`` starts a Dask ``LocalCluster`` of
    ``workers`` processes; any other value is the address of a running Dask scheduler. At most one
    cell per worker is submitted at a time, each after ``claim(cell)`` (None: run it; a record: take
    it, ``ran`` False; a :class:`Holder`: another live run has it, ask again later). On the local
    pool, a cell with no result :func:`parent_deadline_s` after its submission is a ``timeout`` row
    and its worker is killed (a Dask worker starts cold, and Dask watches its own workers). Leaving
    the block early (Ctrl-C) drops the queued cells and kills the local workers.
    """
    if not cells:
        yield iter(())
        return
    n = min(workers or default_workers(), len(cells))
    with cell_pool(n, dask, cell_timeout_s) as pool:
        deadline_s = parent_deadline_s(cell_timeout_s) if isinstance(pool, LocalPool) else None
        yield _Dispatch(pool, n, claim or (lambda cell: None), deadline_s).run(cells)


class _Dispatch:
    """The scheduling loop of :func:`run_cells` and what it tracks between iterations."""

    def __init__(self, pool: LocalPool | DaskPool, n: int, claim: Callable[[Cell], RunRecord | Holder | None],
                 deadline_s: float | None):
        self.pool, self.claim, self.deadline_s = pool, claim, deadline_s
        self.running: dict[Future, tuple[int, Cell]] = {}
        self.due: dict[Future, float] = {}  # when this process gives up on a running cell
        self.expired: dict[int, str] = {}  # slot -> why its worker was killed for outliving its deadline
        self.free_slots = list(range(n))
        self.breaks: Counter[tuple] = Counter()

    def run(self, cells: Sequence[Cell]) -> Iterator[tuple[Cell, RunRecord, bool]]:
        pending, held, running = deque(cells), deque[Cell](), self.running
        while pending or held or running:
            while pending and self.free_slots:
                cell = pending.popleft()
                verdict = self.claim(cell)
                if verdict is None:
                    self._submit(cell)
                elif isinstance(verdict, RunRecord):
                    yield cell, verdict, False
                else:
                    held.append(cell)
            if not running:
                time.sleep(POLL_S)  # only cells other runs hold are left: ask again in a moment
            else:
                finished, _ = wait(running, timeout=self._wait_s(bool(held)), return_when=FIRST_COMPLETED)
                self._expire(finished)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in finished):
                    yield from self._recover(pending)
                for future in finished & running.keys():
                    cell = self._pop(future)[1]
                    yield cell, _result(future, cell), True
            pending.extend(held)
            held.clear()

    def _submit(self, cell: Cell) -> None:
        slot = self.free_slots.pop()
        future = self.pool.submit(slot, cell)
        self.running[future] = (slot, cell)
        self.due[future] = math.inf if self.deadline_s is None else time.monotonic() + self.deadline_s

    def _pop(self, future: Future) -> tuple[int, Cell, str | None]:
        """Free a finished cell's slot; returns the slot, the cell, and why it was expired (None if not)."""
        slot, cell = self.running.pop(future)
        del self.due[future]
        self.free_slots.append(slot)
        return slot, cell, self.expired.pop(slot, None)

    def _wait_s(self, held: bool) -> float | None:
        """How long to wait for a result: until the next deadline, at most ``POLL_S`` while cells are held."""
        left = min(self.due.values(), default=math.inf) - time.monotonic()
        wait_s = min(max(0.0, left), POLL_S if held else math.inf)
        return None if wait_s == math.inf else wait_s

    def _expire(self, finished: set[Future]) -> None:
        """Kill the workers of cells past this process's deadline; each such cell is a ``timeout`` row
        when the pool, broken by the kill, is recovered."""
        now = time.monotonic()
        for future in [f for f, due in self.due.items() if due <= now and f not in finished]:
            slot = self.running[future][0]
            self.due[future] = math.inf  # once
            self.expired[slot] = (f"no result after {self.deadline_s:g} s: its worker did not answer (stopped, or "
                                  f"stuck in the kernel) and was killed")
            assert isinstance(self.pool, LocalPool)  # the only pool given a deadline
            self.pool.expire(slot)

    def _recover(self, pending: deque[Cell]) -> Iterator[tuple[Cell, RunRecord, bool]]:
        """A pool worker died: its cell becomes ``crashed`` (``timeout`` if this process killed it for
        its deadline), the other running cells go back to the queue (the pool stopped them; a cell
        caught in ``MAX_POOL_BREAKS`` breaks is ``crashed`` too)."""
        wait(self.running)  # the broken pool fails every running task
        assert isinstance(self.pool, LocalPool)
        dead = self.pool.recover()
        for future, (slot, cell) in list(self.running.items()):
            if not isinstance(future.exception(), BrokenProcessPool):
                continue
            expired = self._pop(future)[2]
            self.breaks[cell_key(cell)] += 1
            if expired:
                yield cell, failed_record(cell, "timeout", expired), True
            elif slot in dead or self.breaks[cell_key(cell)] >= MAX_POOL_BREAKS:
                how = dead.get(slot, f"the pool broke {MAX_POOL_BREAKS} times while it ran")
                yield cell, failed_record(cell, "crashed", f"the pool worker process died running this cell ({how})"), True
            else:
                pending.appendleft(cell)


def _result(future: Future, cell: Cell) -> RunRecord:
    """The task's record; a task lost with its worker (Dask's ``KilledWorker``) is a ``crashed`` row."""
    exc = future.exception()
    if exc is None:
        return future.result()
    return failed_record(cell, "crashed", f"the worker was lost running this cell ({type(exc).__name__}: {exc})")


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


def run_matrix(cells: Sequence[Cell], store: Store | Path | None = None, *, workers: int | None = None,
               dask: str | None = None, cell_timeout_s: float | None = None, force: bool = False,
               quiet: bool = False, command: str = "", patience: Patience | None = None) -> MatrixResult:
    """Run the resolved ``cells`` not yet ``ok`` in ``store`` (all with ``force``), writing each
    record as it finishes; a progress bar on stderr unless ``quiet``, and a summary line at the end.

    A store given as a path is opened only once the workers are up, so a failed start (an unreachable
    Dask scheduler) leaves it untouched. Cells are claimed in the store as they are submitted, so
    concurrent runs on one store never run a cell twice. Ctrl-C (and SIGTERM, see ``harness.cli``)
    keeps the finished cells, drops the running ones, marks the run interrupted and re-raises. A store
    that stays locked or full past ``patience`` (default ``harness.store.patience.PATIENCE``) stops
    the run with a ``HarnessError``, its finished records kept (see :mod:`harness.execution.recorder`).
    """
    done = _ok_records(store) if store is not None and not force else {}
    todo = [cell for cell in cells if cell_key(cell) not in done]
    progress = MatrixProgress(len(todo), skipped=len(cells) - len(todo), quiet=quiet,
                              store=Path(store) if isinstance(store, Path | str) else store.path if store is not None else None)
    results: dict[tuple, RunRecord] = {}
    t0 = time.perf_counter()
    with ExitStack() as stack:
        recorder = None if store is None else Recorder(store, stack, command=command, n_cells=len(cells), force=force,
                                                       patience=patience,
                                                       note=progress.note)
        try:
            with run_cells(todo, workers=workers, dask=dask, cell_timeout_s=cell_timeout_s,
                           claim=recorder.claim if recorder else None) as finished, progress:
                for cell, record, ran in finished:
                    if ran and recorder is not None:
                        recorder.put(record)
                    results[cell_key(cell)] = record
                    progress.advance(record, ran)
            if recorder is not None:
                recorder.close("finished", progress.counts())
        except KeyboardInterrupt:
            if recorder is not None:
                recorder.close("interrupted", progress.counts(), patient=False)
            progress.report_interrupted()
            raise
        except StoreUnavailable as exc:
            assert recorder is not None  # only a store raises it
            raise recorder.stopped(exc, progress.counts()) from None
    progress.report_done()
    records = [results.get(cell_key(c)) or done[cell_key(c)] for c in cells]
    return MatrixResult(records, ran=progress.ran, skipped=len(cells) - progress.ran, wall_s=time.perf_counter() - t0)


def _ok_records(store: Store | Path | str) -> dict[tuple, RunRecord]:
    if isinstance(store, Store):
        return store.ok_records()
    return ok_records(store)
