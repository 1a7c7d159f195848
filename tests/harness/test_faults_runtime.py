"""Runtime faults on real processes through the real ``optbench`` command: a cell that stops
(SIGSTOP) its sandbox child or its pool worker."""

from __future__ import annotations

import os
import sqlite3

import psutil

from .test_cli_usage import run_script

STOPPERS = '''
import os, signal
import optbench


def stops_itself(x0):
    os.kill(os.getpid(), signal.SIGSTOP)
    return x0 * x0


def stops_its_worker(x0):
    os.kill(os.getppid(), signal.SIGSTOP)  # the sandbox's parent: the pool worker that enforces --cell-timeout
    return x0 * x0


for fn in (stops_itself, stops_its_worker):
    optbench.register_objective("t." + fn.__name__, optbench.objective(fn, bounds={"x0": (-1.0, 1.0)}))
'''


def _marked(mark: str) -> list[psutil.Process]:
    """Live processes whose environment carries ``OPTBENCH_TEST_MARK=mark``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("OPTBENCH_TEST_MARK") == mark:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def test_a_stopped_sandbox_or_worker_is_a_timeout_row_killed_and_the_matrix_goes_on(tmp_path):
    (tmp_path / "stoppers.py").write_text(STOPPERS)
    mark = str(tmp_path)
    done = run_script(["--plugin", "stoppers.py", "run", "--objective", "t.stops_itself", "--objective",
                       "t.stops_its_worker", "--objective", "sphere", "--optimizer", "random", "--budget", "5",
                       "--cell-timeout", "2", "--workers", "2", "--store", "s.sqlite", "--quiet"],
                      cwd=tmp_path, env={**os.environ, "OPTBENCH_TEST_MARK": mark})
    assert done.returncode == 1, done.stderr  # two cells failed
    assert "Traceback" not in done.stderr
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    rows = dict((obj, (status, message)) for obj, status, message in
                conn.execute("SELECT objective, status, message FROM records"))
    conn.close()
    assert rows == {
        "t.stops_itself": ("timeout", "no result after 2 s (--cell-timeout); worker killed"),
        "t.stops_its_worker": ("timeout", "no result after 4 s: its worker did not answer (stopped, or stuck in the "
                                          "kernel) and was killed"),  # 2 s + the parent's 2 s of grace
        "sphere": ("ok", "evaluation budget reached"),
    }
    assert _marked(mark) == []  # no stopped worker or child is left behind
