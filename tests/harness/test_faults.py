"""Process faults on real processes: a pool worker killed with ``kill -9``, SIGTERM, an unreachable
Dask scheduler, two concurrent ``optbench run`` on one store, and outputs on a real read-only folder."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psutil
import pytest

from optbench.harness.cli import main

from . import matrix_doubles
from .test_cli_usage import optbench_command
from .test_run_command import REPO, _rows, _run_statuses, _start_and_wait
from .test_store import _make_store


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes (None for a folder) under ``folder``."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def _claims(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM claims").fetchone()[0]
    finally:
        conn.close()


def test_kill_9_of_a_pool_worker_becomes_a_crashed_row_and_the_matrix_goes_on(tmp_path):
    proc, _, _ = _start_and_wait(tmp_path, seeds=8, done=1)
    workers = [p for p in psutil.Process(proc.pid).children() if p.children()]  # a pool worker has a sandbox child
    workers[0].kill()
    assert proc.wait(timeout=120) == 1  # one cell failed
    rows = _rows(tmp_path / "s.sqlite")
    statuses = Counter(row[0] for row in rows.values())
    assert sorted(rows) == list(range(8)) and statuses == {"ok": 7, "crashed": 1}  # no row lost
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    (message,) = conn.execute("SELECT message FROM records WHERE status='crashed'").fetchone()
    conn.close()
    assert "pool worker process died" in message and "SIGKILL" in message
    assert _run_statuses(tmp_path / "s.sqlite") == ["finished"] and _claims(tmp_path / "s.sqlite") == 0


def test_sigterm_is_handled_like_ctrl_c_exit_143_rows_kept_run_interrupted(tmp_path):
    proc, _, workers = _start_and_wait(tmp_path, seeds=16, done=2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    err = proc.stderr.read()
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    kept = _rows(tmp_path / "s.sqlite")
    assert 2 <= len(kept) < 16 and all(row[0] == "ok" for row in kept.values())
    assert _run_statuses(tmp_path / "s.sqlite") == ["interrupted"] and _claims(tmp_path / "s.sqlite") == 0


def test_unreachable_dask_scheduler_exits_2_and_leaves_the_store_byte_identical(tmp_path, capsys):
    pytest.importorskip("distributed")  # its config defaults must be loaded before one is overridden
    import dask
    _make_store(tmp_path / "s.sqlite")
    before = _snapshot(tmp_path)
    for store in ("s.sqlite", "new.sqlite"):
        with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), pytest.raises(SystemExit) as exit_:
            main(["run", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--quiet",
                  "--dask", "tcp://127.0.0.1:1", "--store", str(tmp_path / store)])
        assert exit_.value.code == 2 and "cannot reach the Dask scheduler" in capsys.readouterr().err
        assert _snapshot(tmp_path) == before  # no run row, and no new store


def test_two_concurrent_runs_on_one_store_execute_each_cell_once_and_lose_no_row(tmp_path):
    seeds = 10
    args = ["run", "--objective", "sphere", "--optimizer", "test.counted", "--opt", "delay=0.05", "--budget", "4",
            "--seeds", str(seeds), "--workers", "2", "--store", str(tmp_path / "s.sqlite"), "--quiet"]
    env = {**os.environ, "OPTBENCH_PLUGINS": matrix_doubles.PLUGIN, "PYTHONPATH": str(REPO)}
    logs = [tmp_path / f"executions-{i}.log" for i in range(2)]  # one per run: which cells each run executed
    procs = [subprocess.Popen([*optbench_command(), *args], cwd=tmp_path, env={**env, "OPTBENCH_TEST_LOG": str(log)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for log in logs]
    errs = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    # a run may execute a cell more than once itself (its warm repeat, see runner.run_cell), never the other's
    executed = [{int(line.split()[0]) for line in log.read_text().splitlines()} if log.exists() else set()
                for log in logs]
    assert executed[0] & executed[1] == set() and executed[0] | executed[1] == set(range(seeds))
    rows = _rows(tmp_path / "s.sqlite")
    assert sorted(rows) == list(range(seeds)) and all(row[0] == "ok" for row in rows.values())  # no row lost
    assert _run_statuses(tmp_path / "s.sqlite") == ["finished", "finished"] and _claims(tmp_path / "s.sqlite") == 0


# --- outputs that cannot be written -------------------------------------------------------------

def _read_only_prefix(folder: Path) -> list[str]:
    """A command prefix running the rest with ``folder`` bind-mounted read-only in a private mount
    namespace. We run as root, for whom chmod leaves every folder writable; a read-only mount is not."""
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"',
            str(folder)]


def _read_only_works(folder: Path) -> bool:
    try:
        done = subprocess.run([*_read_only_prefix(folder), "touch", str(folder / "probe")], capture_output=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode != 0 and not (folder / "probe").exists()


@pytest.fixture
def read_only(tmp_path) -> Path:
    """A folder (holding a store) that the commands run by :func:`_in_read_only` see read-only."""
    folder = tmp_path / "ro"
    folder.mkdir()
    _make_store(folder / "s.sqlite")
    if not _read_only_works(folder):
        pytest.skip("no read-only bind mount here (unshare -m needs CAP_SYS_ADMIN); the /proc and file cases run")
    return folder


# Run in one interpreter under the read-only mount (one torch import for all cases, not one each).
_DRIVER = """
import contextlib, io, json, sys
from optbench.harness.cli import main
for args in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(args)
            code = 0
        except SystemExit as exit_:
            code = exit_.code
    print(json.dumps([code, err.getvalue()]))
"""

OUTPUT_CASES = [
    ["report", "--store", "{store}", "--out", "{ro}/report"],
    ["decide", "--store", "{store}", "--out", "{ro}/decision"],
    ["export", "--store", "{store}", "--out", "{ro}/records.csv"],
    ["profile", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--out", "{ro}/profiles"],
    ["run", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--store", "{ro}/new.sqlite"],
    ["run", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--store", "{ro}/s.sqlite"],
    ["demo", "--store", "{ro}/s.sqlite", "--out", "{tmp}/results"],
]
DRY_RUN = ["run", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--dry-run", "--store", "{ro}/s.sqlite"]


def test_outputs_in_a_read_only_folder_exit_2_and_leave_it_untouched_but_a_dry_run_works(read_only):
    before = _snapshot(read_only.parent)
    cases = [[a.format(ro=read_only, store=read_only / "s.sqlite", tmp=read_only.parent) for a in args]
             for args in [*OUTPUT_CASES, DRY_RUN]]
    done = subprocess.run([*_read_only_prefix(read_only), sys.executable, "-c", _DRIVER, json.dumps(cases)],
                          cwd=read_only.parent, capture_output=True, text=True, timeout=180)
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(cases), done.stderr
    for args, (code, err) in zip(OUTPUT_CASES, results):
        assert code == 2 and err.startswith("error: ") and "not writable" in err, (args, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert results[-1][0] == 0  # a dry run writes nothing: a read-only store is fine
    assert _snapshot(read_only.parent) == before


@pytest.mark.parametrize("out_of, args", [
    ("a file where a folder is expected", ["report", "--out", "{file}"]),
    ("a file where a folder is expected", ["decide", "--out", "{file}"]),
    ("a file where a folder is expected", ["profile", "--objective", "sphere", "--optimizer", "random", "--out", "{file}"]),
    ("a folder where a file is expected", ["export", "--out", "{folder}"]),
    ("a folder where a file is expected", ["run", "--objective", "sphere", "--optimizer", "random", "--store",
                                           "{folder}"]),
    ("a parent that is a file", ["report", "--out", "{file}/sub/report"]),
    ("a parent that is a file", ["export", "--out", "{file}/records.csv"]),
    ("a parent that is a file", ["run", "--objective", "sphere", "--optimizer", "random", "--store", "{file}/s.sqlite"]),
    ("a parent that cannot be created (/proc)", ["decide", "--out", "/proc/optbench-no/decision"]),
    ("a parent that cannot be created (/proc)", ["export", "--out", "/proc/optbench-no/records.csv"]),
])
def test_impossible_output_paths_exit_2_before_any_work_and_create_nothing(tmp_path, capsys, out_of, args):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    _make_store(tmp_path / "s.sqlite")
    before = _snapshot(tmp_path)
    argv = [a.format(file=tmp_path / "file", folder=tmp_path / "folder") for a in args]
    if "--store" not in argv:
        argv += ["--store", str(tmp_path / "s.sqlite")] if argv[0] != "profile" else []
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert _snapshot(tmp_path) == before and not any((tmp_path / "folder").iterdir())
