"""A store that another process holds locked, or that is full, in the middle of a run: the run
retries with backoff, and if it must stop it ends with one ``error:`` line (exit 2), keeps every
finished record (in the store, or beside it until the next run moves it in) and the next run
resumes — no cell that finished runs again. Real processes throughout: the run, and the process
holding ``BEGIN IMMEDIATE``; waits are kept short through ``Patience``, not by sleeping."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from optbench.harness.store import Store, load_records, unsaved
from optbench.harness.store.patience import Patience, StoreUnavailable, patiently

from . import store_doubles
from .test_cli_usage import run_script
from .test_run_command import REPO, _run_statuses
from .test_store import _record

# The run, in its own process, with short waits; FULL_PAGES set: the store may grow by that many pages.
_RUN = """
import json, os, sys
from optbench.harness.store import Store, patience
patience.PATIENCE = patience.Patience(**json.loads(os.environ["PATIENCE"]))
if "FULL_PAGES" in os.environ:  # a disk that fills up: SQLite refuses to grow the file past its pages
    opened = Store.open.__func__
    def limited(cls, path, busy_timeout_s):
        store = opened(cls, path, busy_timeout_s)
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count={pages + int(os.environ['FULL_PAGES'])}")
        return store
    Store.open = classmethod(limited)
from optbench.harness.cli import main
main(sys.argv[1:])
"""

# Holds the store's write lock from the moment the running cell hands over until its stdin closes.
_LOCKER = """
import sqlite3, sys
fifo, store = sys.argv[1], sys.argv[2]
with open(fifo + ".go") as go:
    go.read()
conn = sqlite3.connect(store, timeout=60, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
with open(fifo + ".locked", "w") as locked:
    locked.write("locked")
sys.stdin.read()
conn.execute("ROLLBACK")
"""

SHORT = {"busy_timeout_s": 0.05, "retries": 2, "first_delay_s": 0.01}


def _env(tmp_path: Path, patience: dict, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OPTBENCH_PLUGINS": store_doubles.PLUGIN,
            "OPTBENCH_TEST_LOG": str(tmp_path / "log"), "PATIENCE": json.dumps(patience), **extra}


def _args(tmp_path: Path, optimizer: str, seeds: int) -> list[str]:
    return ["run", "--objective", "sphere", "--optimizer", optimizer, "--budget", "20", "--seeds", str(seeds),
            "--workers", "1", "--quiet", "--store", str(tmp_path / "s.sqlite")]


def _stored_seeds(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return sorted(row[0] for row in conn.execute("SELECT seed FROM records"))
    finally:
        conn.close()


def _runs_per_seed(tmp_path: Path) -> Counter[int]:
    return Counter(int(line.split()[0]) for line in (tmp_path / "log").read_text().splitlines())


def _one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and stderr.strip().splitlines()[-1] == errors[0] and "Traceback" not in stderr, stderr
    return errors[0]


def _resumed(tmp_path: Path, optimizer: str, seeds: int, first: dict[int, float]) -> None:
    """The same command again, through the console script: it moves the kept records in, runs only
    the cells that never finished, and every record that finished before is there, unchanged."""
    runs_before = _runs_per_seed(tmp_path)
    done = run_script(_args(tmp_path, optimizer, seeds), cwd=tmp_path, env=_env(tmp_path, {}))
    assert done.returncode == 0, done.stderr
    records = {r.seed: r.value for r in load_records(tmp_path / "s.sqlite")}
    assert _stored_seeds(tmp_path / "s.sqlite") == list(range(seeds)) and not unsaved.path_of(tmp_path / "s.sqlite").exists()
    assert all(records[seed] == value for seed, value in first.items())
    ran = _runs_per_seed(tmp_path)
    once = ran[0]  # a cell that ran once (its warm repeat included)
    assert set(ran.values()) == {once} and all(runs_before[s] == once for s in first), ran  # no cell ran twice


def test_a_full_store_stops_the_run_in_one_line_keeps_the_record_and_the_next_run_resumes(tmp_path):
    seeds = 12
    done = subprocess.run([sys.executable, "-c", _RUN, *_args(tmp_path, "test.logged", seeds)], cwd=tmp_path,
                          env=_env(tmp_path, SHORT, FULL_PAGES="0"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert "could not store a finished record in 3 tries (database or disk is full)" in line and "kept in" in line
    assert done.stderr.count("trying again") == 2
    path = tmp_path / "s.sqlite"
    in_store, (kept, unreadable) = _stored_seeds(path), unsaved.read(path)
    assert in_store and [e.record.seed for e in kept] == [len(in_store)] and unreadable == []
    assert _run_statuses(path) == ["stopped"]  # a full store still takes the run's mark
    first = {r.seed: r.value for r in load_records(path)}  # readers see the kept record as part of the store
    assert sorted(first) == list(range(len(in_store) + 1))
    _resumed(tmp_path, "test.logged", seeds, first)


def _locked_run(tmp_path: Path, patience: dict) -> tuple[subprocess.Popen, subprocess.Popen]:
    """A 3-cell run whose cell at seed 1 finishes while another process holds the store's write lock."""
    fifo = tmp_path / "handoff"
    os.mkfifo(f"{fifo}.go")
    os.mkfifo(f"{fifo}.locked")
    locker = subprocess.Popen([sys.executable, "-c", _LOCKER, str(fifo), str(tmp_path / "s.sqlite")],
                              stdin=subprocess.PIPE, text=True)
    run = subprocess.Popen([sys.executable, "-c", _RUN, *_args(tmp_path, "test.handoff", 3)], cwd=tmp_path,
                           env=_env(tmp_path, patience, OPTBENCH_TEST_HANDOFF=str(fifo), OPTBENCH_TEST_HANDOFF_SEED="1"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return locker, run


def _release(locker: subprocess.Popen) -> None:
    assert locker.stdin is not None
    locker.stdin.close()
    assert locker.wait(timeout=60) == 0


def test_a_store_locked_for_good_stops_the_run_keeps_the_record_and_the_next_run_resumes(tmp_path):
    locker, run = _locked_run(tmp_path, SHORT)
    try:
        _, stderr = run.communicate(timeout=300)
    finally:
        run.kill()  # a no-op once it ended
        _release(locker)
    assert run.returncode == 2
    line = _one_error_line(stderr)
    assert "could not store a finished record in 3 tries (database is locked)" in line and "kept in" in line
    path = tmp_path / "s.sqlite"
    kept, _ = unsaved.read(path)
    assert _stored_seeds(path) == [0] and [e.record.seed for e in kept] == [1]
    assert _run_statuses(path) == ["running"]  # the lock kept its mark out too: the next run marks it abandoned
    first = {r.seed: r.value for r in load_records(path)}
    _resumed(tmp_path, "test.handoff", 3, first)
    assert _run_statuses(path) == ["abandoned", "finished"]


def test_a_lock_released_while_the_run_retries_loses_nothing_and_the_run_finishes(tmp_path):
    locker, run = _locked_run(tmp_path, {"busy_timeout_s": 0.05, "retries": 9, "first_delay_s": 0.01})
    try:
        assert run.stderr is not None
        for line in run.stderr:  # the run says it waits: let the lock go
            if "trying again" in line:
                break
        _release(locker)
        _, rest = run.communicate(timeout=300)
    finally:
        run.kill()  # a no-op once it ended
        locker.kill()
    assert run.returncode == 0 and "Traceback" not in rest, rest
    path = tmp_path / "s.sqlite"
    assert _stored_seeds(path) == [0, 1, 2] and not unsaved.path_of(path).exists()
    assert _run_statuses(path) == ["finished"] and set(_runs_per_seed(tmp_path).values()) == {_runs_per_seed(tmp_path)[0]}


def test_patiently_retries_with_doubling_delays_then_gives_up_and_other_errors_at_once(tmp_path):
    slept, notes, calls = [], [], []

    def locked() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("database is locked")

    patience = Patience(busy_timeout_s=0.0, retries=3, first_delay_s=0.5, sleep=slept.append)
    with pytest.raises(StoreUnavailable, match=r"could not store it in 4 tries \(database is locked\)"):
        patiently(locked, "store it", tmp_path, patience, notes.append)
    assert (len(calls), slept, len(notes)) == (4, [0.5, 1.0, 2.0], 3) and "(3/3)" in notes[-1]
    answers = iter([sqlite3.OperationalError("database or disk is full"), "written"])

    def full_once() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert patiently(full_once, "store it", tmp_path, patience, notes.append) == "written"

    def corrupt() -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    slept.clear()
    with pytest.raises(StoreUnavailable, match="DatabaseError"):
        patiently(corrupt, "store it", tmp_path, patience, notes.append)
    assert slept == []


def test_kept_records_are_moved_in_at_open_and_a_line_cut_short_is_kept_apart(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        store.put(_record(0))
    unsaved.keep(path, [unsaved.Entry(_record(1, value=7.0), None, "2026-01-01T00:00:00+0000")])
    with unsaved.path_of(path).open("a") as f:
        f.write('{"record": {"objective": "sph')  # the process writing it was killed
    assert [(r.seed, r.value) for r in load_records(path)] == [(0, 1.5), (1, 7.0)]
    with Store.open(path) as store:
        assert store.recovered == (1, 1)
    assert _stored_seeds(path) == [0, 1] and not unsaved.path_of(path).exists()
    assert Path(f"{unsaved.path_of(path)}-unreadable").read_text() == '{"record": {"objective": "sph\n'
    (moved,) = [r for r in load_records(path) if r.seed == 1]
    kept = _record(1, value=7.0)
    assert (moved.value, moved.trace, moved.point, moved.n_evals) == (kept.value, kept.trace, kept.point, kept.n_evals)
