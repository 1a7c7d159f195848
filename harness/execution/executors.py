"""Where a matrix's cells run: a local pool of forked worker processes, or a Dask cluster.

Both run :func:`harness.sandbox.execute` (each cell in its worker's sandbox child). The local pool
survives the death of a worker process (``kill -9``, the out-of-memory killer): Python's pool then
fails every running task and stops the other workers, so :meth:`LocalPool.recover` starts a new pool,
names the cell the dead worker was running (each task writes its worker's pid into a shared slot)
and lets the scheduler resubmit the others.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from multiprocessing import get_context
from multiprocessing.process import BaseProcess

from optbench import plugins
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell
from optbench.harness.execution import sandbox

LOOPBACK = "127.0.0.1"  # everything optbench starts listens here only


class LocalPool:
    """``workers`` forked processes; task ``slot`` (0 … workers−1) identifies a running cell's worker."""

    def __init__(self, workers: int, cell_timeout_s: float | None):
        self.workers, self.cell_timeout_s = workers, cell_timeout_s
        context = get_context("fork")  # workers start with torch and the objectives' data loaded
        self.context = context
        self.slots = context.Array("i", workers, lock=False)  # slot -> pid of the worker running it
        self.pool = self._new_pool()
        self.processes: dict[int, BaseProcess] = {}  # every worker ever started, kept for its exit code

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=self.context, initializer=sandbox.worker_init,
                                   initargs=(self.slots,))

    def submit(self, slot: int, cell: Cell) -> Future:
        self.slots[slot] = 0
        future = self.pool.submit(sandbox.execute, cell, self.cell_timeout_s, slot, plugins.specs())
        self.processes.update(self.pool._processes or {})  # started with the first task (fork)
        return future

    def expire(self, slot: int) -> None:
        """Kill the worker running ``slot``, whose cell outlived this process's own deadline (a
        stopped worker cannot enforce its own; SIGKILL ends a stopped process too): the pool breaks,
        and :meth:`recover` follows."""
        with suppress(ProcessLookupError):
            if self.slots[slot]:
                os.kill(self.slots[slot], signal.SIGKILL)  # its sandbox child follows (PDEATHSIG)

    def recover(self) -> dict[int, str]:
        """After the pool broke: wait for its workers, start a new pool, and return the slots whose
        worker died of something else than the pool's own SIGTERM, with how it ended."""
        self.pool.shutdown(wait=True)
        dead = {pid: process.exitcode for pid, process in self.processes.items()
                if process.exitcode is not None and process.exitcode != -signal.SIGTERM}
        self.processes.clear()
        self.pool = self._new_pool()
        return {slot: _ended(dead[pid]) for slot, pid in enumerate(self.slots) if pid in dead}

    def close(self, abort: bool) -> None:
        """Stop: at once (``abort``: queued tasks dropped, workers killed) or after the running tasks."""
        if abort:
            import psutil

            self.pool.shutdown(wait=False, cancel_futures=True)
            for pid in self.processes:
                try:
                    psutil.Process(pid).kill()  # the workers' sandbox children follow (PDEATHSIG)
                except psutil.NoSuchProcess:
                    pass
        self.pool.shutdown(wait=True)


def _ended(exitcode: int) -> str:
    return f"killed by {signal.Signals(-exitcode).name}" if exitcode < 0 else f"exit code {exitcode}"


class DaskPool:
    """A Dask executor with the same ``submit(slot, cell)``; Dask itself reruns a lost worker's task
    elsewhere and fails it (``KilledWorker``) when it keeps killing workers, and notices a worker
    that stopped answering (its ``distributed.scheduler.worker-ttl``)."""

    def __init__(self, executor: Executor, cell_timeout_s: float | None):
        self.executor, self.cell_timeout_s = executor, cell_timeout_s

    def submit(self, slot: int, cell: Cell) -> Future:
        return self.executor.submit(sandbox.execute, cell, self.cell_timeout_s, None, plugins.specs())


@contextmanager
def cell_pool(workers: int, dask: str | None, cell_timeout_s: float | None) -> Iterator[LocalPool | DaskPool]:
    """A started pool of ``workers``: local processes, or Dask (``"local"`` or a scheduler address).
    Leaving the block by an exception (Ctrl-C) drops the queued cells and stops the running ones now."""
    if dask is not None:
        with dask_executor(workers, dask) as executor:
            yield DaskPool(executor, cell_timeout_s)
        return
    pool = LocalPool(workers, cell_timeout_s)
    try:
        yield pool
    except BaseException:
        pool.close(abort=True)
        raise
    pool.close(abort=False)


@contextmanager
def dask_executor(workers: int, address: str) -> Iterator[Executor]:
    """An executor on the Dask scheduler at ``address``, or on a new ``LocalCluster`` of ``workers``
    single-threaded processes for ``"local"`` (closed on exit); its scheduler, workers, nannies and
    dashboard listen on 127.0.0.1 only."""
    from distributed import Client, LocalCluster

    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=LOOPBACK,
                               dashboard_address=f"{LOOPBACK}:0")
    try:
        try:
            client = Client(cluster if cluster is not None else address)
        except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address at all
            raise HarnessError(f"cannot reach the Dask scheduler at {address!r} ({exc})") from None
        with client:
            pool = client.get_executor(pure=False)
            try:
                yield pool
            finally:
                pool.shutdown(wait=False)
    finally:
        if cluster is not None:
            cluster.close()
