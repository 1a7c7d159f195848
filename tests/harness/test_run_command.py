"""``optbench run``: bad input leaves the store byte-identical; kill -9 and Ctrl-C, then resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from optbench.harness.cli import main

from . import matrix_doubles
from .test_cli_usage import run_script
from .test_store import _garbage_page, _make_store, _not_sqlite, _other_sqlite, _snapshot

REPO = Path(__file__).resolve().parents[2]


def _locked(path: Path):
    _make_store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


@pytest.mark.parametrize("args, make_store, words", [
    (["--objective", "nope", "--optimizer", "random"], _make_store, "unknown objective 'nope'"),
    (["--objective", "sphere", "--optimizer", "random", "--optimizer", "nope"], _make_store,
     "unknown optimizer 'nope'"),
    (["--objective", "sphere", "--option", "dim=0", "--optimizer", "random"], _make_store, "dim=0"),
    (["--objective", "sphere"], _make_store, "the matrix is empty"),
    (["--suite", "quick", "--seeds", "2"], _make_store, "--suite quick defines the whole matrix"),
    (["--objective", "sphere", "--optimizer", "random"], _not_sqlite, "not an SQLite database"),
    (["--objective", "sphere", "--optimizer", "random"], _other_sqlite, "not an optbench store"),
    (["--objective", "sphere", "--optimizer", "random"], _garbage_page, "corrupt"),
    (["--objective", "sphere", "--optimizer", "random"], _locked, "locked"),
])
def test_bad_input_exits_2_naming_the_problem_and_leaves_the_store_byte_identical(tmp_path, capsys, args,
                                                                                   make_store, words):
    path = tmp_path / "s.sqlite"
    holder = make_store(path)
    before = _snapshot(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["run", *args, "--budget", "5", "--store", str(path), "--quiet"])
    assert exit_.value.code == 2 and words in capsys.readouterr().err
    assert _snapshot(tmp_path) == before
    if holder is not None:
        holder.close()


def test_unwritable_store_path_exits_2_and_creates_nothing(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--objective", "sphere", "--optimizer", "random", "--store", str(tmp_path / "file" / "s.sqlite")])
    assert exit_.value.code == 2 and "not a directory" in capsys.readouterr().err
    assert _snapshot(tmp_path) == {"file": b"x"}


def test_one_cell_prints_its_record_as_json_and_a_rerun_reads_it_back(tmp_path, capsys):
    args = ["run", "--objective", "sphere", "--optimizer", "random", "--budget", "50", "--seed", "3",
            "--store", str(tmp_path / "s.sqlite"), "--quiet", "--json"]
    main(args)
    record = json.loads(capsys.readouterr().out)
    assert (record["objective"], record["seed"], record["n_evals"], record["status"]) == ("sphere", 3, 50, "ok")
    main(args)
    out = capsys.readouterr()
    assert json.loads(out.out) == record and "1 skipped" in out.err


def test_dry_run_lists_cells_and_creates_no_store(tmp_path, capsys):
    main(["run", "--objective", "sphere", "--objective", "ackley", "--optimizer", "random", "--seeds", "3",
          "--budget", "10", "--budget", "20", "--dry-run", "--json", "--store", str(tmp_path / "s.sqlite")])
    cells = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(cells) == 12 and not any(c["done"] for c in cells)
    assert list(tmp_path.iterdir()) == []


def _rows(path: Path) -> dict[int, tuple]:
    """seed -> (status, value, finished_at, run_id), read while the run may still be writing."""
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT seed, status, value, finished_at, run_id FROM records").fetchall()
    except sqlite3.OperationalError:  # the tables are not created yet
        rows = []
    conn.close()
    return {row[0]: row[1:] for row in rows}


def _run_statuses(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT status FROM runs ORDER BY run_id")]
    finally:
        conn.close()


def _default_sigint() -> None:
    """A shell starts background jobs with SIGINT ignored, and Python keeps it so: undo that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_and_wait(tmp_path: Path, seeds: int, done: int) -> tuple[subprocess.Popen, list[str], list]:
    """Start a slow matrix in a subprocess; return once ``done`` cells are stored, with its workers."""
    args = ["run", "--objective", "sphere", "--optimizer", "test.slow", "--opt", "delay=0.1", "--budget", "6",
            "--seeds", str(seeds), "--workers", "2", "--store", str(tmp_path / "s.sqlite"), "--quiet"]
    env = {**os.environ, "OPTBENCH_PLUGINS": matrix_doubles.PLUGIN, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "optbench.harness.cli", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    deadline = time.monotonic() + 120
    while len(_rows(tmp_path / "s.sqlite")) < done:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr and proc.stderr.read()
        time.sleep(0.05)
    return proc, args, psutil.Process(proc.pid).children(recursive=True)


def test_kill_9_mid_run_then_rerun_completes_exactly_the_missing_cells(tmp_path, capsys):
    proc, args, workers = _start_and_wait(tmp_path, seeds=16, done=4)
    proc.kill()
    proc.wait()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "workers outlived their killed parent"
    before = _rows(tmp_path / "s.sqlite")
    assert 4 <= len(before) < 16
    main([*args, "--dry-run"])  # writes nothing: the killed run is still marked running
    assert _run_statuses(tmp_path / "s.sqlite") == ["running"]
    main(args)  # the same command again, in this process
    assert _run_statuses(tmp_path / "s.sqlite") == ["abandoned", "finished"]  # found dead when the store opened
    after = _rows(tmp_path / "s.sqlite")
    assert sorted(after) == list(range(16)) and all(row[0] == "ok" for row in after.values())
    assert {seed: after[seed] for seed in before} == before  # earlier rows untouched
    assert sum(row[3] == 2 for row in after.values()) == 16 - len(before)  # run 2 ran only the missing ones
    assert f"{len(before)} skipped" in capsys.readouterr().err


def test_ctrl_c_keeps_finished_cells_stops_workers_and_exits_130(tmp_path):
    proc, _, workers = _start_and_wait(tmp_path, seeds=16, done=2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert "interrupted" in proc.stderr.read()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    kept = _rows(tmp_path / "s.sqlite")
    assert 2 <= len(kept) < 16 and all(row[0] == "ok" for row in kept.values())
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    conn.close()


def test_export_writes_the_store_as_csv_and_refuses_an_unknown_format(tmp_path, capsys):
    _make_store(tmp_path / "s.sqlite")
    main(["export", "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "out" / "r.csv")])
    assert (tmp_path / "out" / "r.csv").read_text().count("\n") == 4  # header + 3 records
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "r.txt")])
    assert exit_.value.code == 2 and "export format 'txt'" in capsys.readouterr().err


def test_repeated_seeds_and_ranges_accumulate(tmp_path, capsys):
    main(["run", "--objective", "sphere", "--optimizer", "random", "--seed", "7", "--seed", "2:6:2", "--seed", "4",
          "--seed", "0:2", "--dry-run", "--json", "--store", str(tmp_path / "s.sqlite")])
    seeds = [json.loads(line)["seed"] for line in capsys.readouterr().out.splitlines()]
    assert seeds == [7, 2, 4, 0, 1]  # in the order given, 4 once


def test_a_run_without_store_writes_results_runs_sqlite_and_says_so(tmp_path):
    done = run_script(["run", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.sqlite")) == ["results/runs.sqlite"]
    assert "store results/runs.sqlite" in done.stderr  # the summary line
    assert done.stderr.splitlines()[-1].startswith("stored in results/runs.sqlite, the default store")


def test_the_demo_keeps_its_store_in_its_out_folder(tmp_path, monkeypatch):
    from optbench.harness.commands import demo

    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(demo, "invoke", lambda verb, **given: calls.append((verb.__name__, given)) or 0)
    monkeypatch.chdir(tmp_path)
    main(["demo", "--out", "elsewhere", "--quiet"])
    assert {name: given["store"] for name, given in calls} == dict.fromkeys(
        ("run", "report", "decide"), Path("elsewhere/optbench.sqlite"))
    assert dict(calls)["report"]["figures"] == demo.FIGURES_PER_CLASS  # not every objective's figures
