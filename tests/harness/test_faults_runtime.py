"""Runtime faults on real processes through the real ``optbench`` command: a cell that stops
(SIGSTOP) its sandbox child or its pool worker; a plug-in that prints everywhere under ``--json``;
Ctrl-C twice in quick succession; a 5,000-character objective name in ``profile`` and ``report``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import psutil
import pytest

from .test_cli_usage import run_script
from .test_run_command import _rows, _run_statuses, _start_and_wait

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


LOUD = '''
import os
import optbench
from optbench.harness.optimizers.base import OptimizerAdapter

print("LOUD import")
os.write(1, b"LOUD fd 1 import\\n")  # below sys.stdout, as C code writes


def make_loud(scale: float = 1.0):
    print("LOUD factory")
    os.write(1, b"LOUD fd 1 factory\\n")

    def square(x0):
        print("LOUD evaluation")
        return scale * x0 * x0

    return optbench.objective(square, bounds={"x0": (-1.0, 1.0)})


class Loud(OptimizerAdapter):
    name = "t.loud"

    def __init__(self, **options):
        print("LOUD adapter")
        super().__init__(**options)

    def minimize(self, problem, seed):
        print("LOUD minimize")
        problem.evaluate(problem.lower)


optbench.register_objective("t.loud", make_loud)
optbench.register_optimizer("t.loud", Loud)
'''


def test_with_json_stdout_carries_only_json_whatever_plugins_factories_and_objectives_print(tmp_path):
    (tmp_path / "loud.py").write_text(LOUD)
    matrix = ["--objective", "t.loud", "--objective", "loud.py:make_loud", "--optimizer", "t.loud", "--optimizer",
              "random", "--budget", "5", "--no-store", "--json", "--quiet"]
    for extra, key in (([], "status"), (["--dry-run"], "done")):
        done = run_script(["--plugin", "loud.py", "run", *matrix, *extra], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in done.stdout.splitlines()]  # every line is JSON
        assert len(rows) == 4 and all(key in row for row in rows), done.stdout
        printed = set(done.stderr.splitlines())
        assert {"LOUD import", "LOUD fd 1 import", "LOUD factory", "LOUD fd 1 factory", "LOUD adapter"} <= printed
        if not extra:
            assert {"LOUD evaluation", "LOUD minimize"} <= printed and all(r["status"] == "ok" for r in rows)


@pytest.mark.parametrize("gap_s", [0.0, 0.05, 0.2])  # the second lands in the unwinding, or in the exit
def test_ctrl_c_twice_in_quick_succession_is_one_interrupted_line_exit_130_and_keeps_the_finished_rows(
        tmp_path, gap_s):
    proc, _, workers = _start_and_wait(tmp_path, seeds=16, done=1)
    proc.send_signal(signal.SIGINT)
    time.sleep(gap_s)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    err = proc.stderr.read()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert [line for line in err.splitlines() if "interrupted" in line] == ["interrupted"], err
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    kept = _rows(tmp_path / "s.sqlite")
    assert 1 <= len(kept) < 16 and all(row[0] == "ok" for row in kept.values())
    assert _run_statuses(tmp_path / "s.sqlite") == ["interrupted"]


LONG_NAME = "n" * 5000
LONG = f'''
import optbench

optbench.register_objective("{LONG_NAME}", optbench.objective(lambda x0: x0 * x0, bounds={{"x0": (-1.0, 1.0)}}))
'''


def _names_fit(folder) -> bool:
    """Every file name under ``folder`` fits the usual 255-byte limit."""
    return all(len(p.name.encode()) <= 255 for p in folder.rglob("*"))


def test_a_5000_character_objective_name_profiles_into_files_that_fit(tmp_path):
    (tmp_path / "long.py").write_text(LONG)
    done = run_script(["--plugin", "long.py", "profile", "--objective", LONG_NAME, "--optimizer", "random",
                       "--budget", "10", "--no-py-spy", "--trace", "--out", "prof"], cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    files = sorted(p.name for p in (tmp_path / "prof").iterdir())
    assert len(files) == 3 and _names_fit(tmp_path / "prof")  # .prof, .profile.json, .trace.json
    (profile,) = [f for f in files if f.endswith(".profile.json")]
    assert json.loads((tmp_path / "prof" / profile).read_text())["cell"]["objective"] == LONG_NAME


@pytest.mark.slow
def test_a_5000_character_objective_name_runs_and_reports_into_files_that_fit(tmp_path):
    (tmp_path / "long.py").write_text(LONG)
    done = run_script(["--plugin", "long.py", "run", "--objective", LONG_NAME, "--optimizer", "random",
                       "--optimizer", "scipy.de", "--budget", "20", "--seeds", "2", "--store", "s.sqlite", "--quiet"],
                      cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    report = run_script(["report", "--store", "s.sqlite", "--out", "rep"], cwd=tmp_path)
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr[-2000:]
    assert _names_fit(tmp_path / "rep") and len(list((tmp_path / "rep" / "plots").iterdir())) > 2
