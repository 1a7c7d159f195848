"""Worker-side isolation: cells run in a forked child that a crash or hang cannot take down with it.

Each worker (a process-pool worker or a Dask worker thread) keeps one :class:`Sandbox`: a child
forked from the worker that runs cells one after another, so library imports, data loading and
reference optima are paid once per child, not once per cell. A cell that crashes the child
(segfault, ``os._exit``, out-of-memory kill) becomes a ``crashed`` record, one that outlives its
time limit is killed and becomes a ``timeout`` record; the next cell gets a freshly forked child.
The child dies with its worker (``PR_SET_PDEATHSIG`` on Linux), so nothing outlives a run
(``forked`` runs one function the same way, in a child of its own with a deadline).

Inside the child, torch/BLAS use one thread (workers must not oversubscribe the cores), the global
random generators are seeded with the cell's seed before each cell (so values do not depend on
which cells a child ran before), and stdout is sent to stderr (a run's ``--json`` stays clean).
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import random
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, Pipe

from optbench import plugins
from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.core.runner import failed_record, run_cell

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_PR_SET_PDEATHSIG = 1
_local = threading.local()
_slots: list[int] | None = None  # a local pool's shared slot -> worker pid table (see harness.executors)


def execute(cell: Cell, timeout_s: float | None = None, slot: int | None = None,
            plugin_specs: Sequence[str] = ()) -> RunRecord:
    """Run ``cell`` in this thread's sandbox (the task every executor runs); a local pool's task
    first writes this worker's pid into its ``slot``, so the parent knows whose cell died with it.
    The submitter's plug-ins are loaded here first (a Dask worker is a fresh interpreter; the
    sandbox forks from it)."""
    if slot is not None and _slots is not None:
        _slots[slot] = os.getpid()
    try:
        plugins.load_all(plugin_specs)
    except plugins.PluginError as exc:  # a plug-in this worker cannot import: the cell's row says so
        return failed_record(cell, "error", str(exc))
    if getattr(_local, "sandbox", None) is None:
        _local.sandbox = Sandbox()
    return _local.sandbox.run(cell, timeout_s)


def worker_init(slots: list[int] | None = None) -> None:
    """Process-pool initializer: leave Ctrl-C to the parent, die with it, and take SIGTERM plainly
    (the parent's SIGTERM handler was inherited by the fork)."""
    global _slots
    _slots = slots
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the thread that forked it ends (no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def limit_threads() -> None:
    """One torch/BLAS thread per worker, for this process and anything it starts."""
    for name in THREAD_ENV:
        os.environ[name] = "1"
    import torch

    torch.set_num_threads(1)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's intra-op threads set to ``n`` inside the block (e.g. one core per worker), restored after."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


class Sandbox:
    """A forked child that runs cells sent over a pipe; see the module docstring."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.conn: Connection | None = None

    def run(self, cell: Cell, timeout_s: float | None) -> RunRecord:
        pid, conn = self._child()
        try:
            conn.send(cell)
        except BrokenPipeError:  # it died just after the check: one fresh child
            self._reap()
            pid, conn = self._child()
            conn.send(cell)
        if conn.poll(timeout_s):
            try:
                return conn.recv()
            except EOFError:  # the child died while running the cell
                pass
            return failed_record(cell, "crashed", f"the worker process died running this cell ({self._reap()})")
        os.kill(pid, signal.SIGKILL)
        self._reap()
        return failed_record(cell, "timeout", f"no result after {timeout_s:g} s (--cell-timeout); worker killed")

    def close(self) -> None:
        """Close the pipe (a live child then exits) and reap the child, live or dead: no zombie is left."""
        if self.pid is not None and self.conn is not None:
            self.conn.close()
            self._reap()

    def _child(self) -> tuple[int, Connection]:
        """The child's pid and pipe, forked now if there is no live one."""
        if not self._alive():
            self._start()
        assert self.pid is not None and self.conn is not None
        return self.pid, self.conn

    def _alive(self) -> bool:
        if self.pid is None or self.conn is None:
            return False
        if os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            return True
        self.conn.close()  # it died while idle (its worker thread ended): start a new one
        self.pid = self.conn = None
        return False

    def _start(self) -> None:
        parent_end, child_end = Pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: serve cells until the worker closes the pipe, then exit
            parent_end.close()
            code = 1
            try:
                _serve(child_end)
                code = 0
            finally:
                os._exit(code)
        child_end.close()
        self.pid, self.conn = pid, parent_end

    def _reap(self) -> str:
        """Wait for the dead child; describe how it ended."""
        assert self.pid is not None and self.conn is not None
        _, status = os.waitpid(self.pid, 0)
        self.conn.close()
        self.pid = self.conn = None
        return ended(status)


def ended(status: int) -> str:
    """How a child whose ``waitpid`` status this is ended."""
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def raised(exc: BaseException) -> str:
    """An exception in a few words: ``SystemExit (code 7)``, ``KeyboardInterrupt``, ``ValueError: why``."""
    if isinstance(exc, SystemExit):
        return f"SystemExit (code {exc.code})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def isolate() -> None:
    """Set up a forked child: it dies with its parent, leaves Ctrl-C to it, writes stdout to stderr
    and uses one torch/BLAS thread."""
    die_with_parent()
    faulthandler.disable()  # a crash is reported as a row or a message, not as a traceback over the progress bar
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (see harness.cli)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    limit_threads()


def _serve(conn: Connection) -> None:
    isolate()
    while True:
        try:
            cell = conn.recv()
        except EOFError:
            return
        conn.send(run_seeded(cell))
        sys.stderr.flush()


def run_seeded(cell: Cell) -> RunRecord:
    """Run ``cell`` as a matrix worker does: global generators seeded with the cell's seed, peak
    memory reset; a cell that cannot even be built becomes an ``error`` record."""
    import numpy as np
    import torch

    random.seed(cell.seed)
    np.random.seed(cell.seed % 2**32)
    torch.manual_seed(cell.seed)
    _reset_peak_memory()
    try:
        return run_cell(cell, warm_repeat=True)
    except Exception as exc:  # building the objective or adapter failed: a row, not a dead worker
        return failed_record(cell, "error", f"{type(exc).__name__}: {exc}")
    except (SystemExit, KeyboardInterrupt) as exc:  # raised by the cell's own code (Ctrl-C is ignored here)
        return failed_record(cell, "crashed", f"{raised(exc)} raised inside the cell's code")


def _reset_peak_memory() -> None:
    """Make ``peak_mem_mb`` (ru_maxrss) this cell's peak, not the child's lifetime peak (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
