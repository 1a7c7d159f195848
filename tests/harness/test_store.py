"""The SQLite results store: round trips, one row per cell, refusal of bad files without touching them."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import RENAMED_FIELDS, Cell, RunRecord
from optbench.harness.core.runner import failed_record
from optbench.harness.store import SCHEMA_VERSION, Store, cell_key, check, export, load_frame, load_records, record_key


def _record(seed: int, value: float = 1.5, status: str = "ok") -> RunRecord:
    return RunRecord(objective="sphere", options={"dim": 2, "seed": 0, "work": 1}, optimizer="random",
                     optimizer_options={"batch_size": 64}, budget={"max_evals": 10, "max_seconds": None},
                     seed=seed, status=status, message="m", point={"x0": 0.25, "x1": -1.0}, value=value,
                     n_evals=10, wall_s=0.5, compute_s=0.1, item_s=0.05, overhead_s=0.35, peak_mem_mb=100.0,
                     versions={"torch": "x"}, trace=[(1, 0.01, 3.0), (4, 0.02, value)], reference_value=0.0,
                     phases_s={"fit": 0.1})


def _make_store(path: Path, n: int = 3) -> None:
    with Store.open(path) as store:
        run_id = store.begin_run("test", n, {"machine": "m", "git_commit": "c"})
        for seed in range(n):
            store.put(_record(seed), run_id)
        store.end_run(run_id, "finished", {"ok": n})


def test_records_round_trip_with_nan_trace_and_dicts(tmp_path):
    path = tmp_path / "s.sqlite"
    crashed = failed_record(Cell("sphere", "random", Budget(10), 7, {"dim": 2}), "crashed", "killed by SIGSEGV")
    with Store.open(path) as store:
        store.put(_record(0))
        store.put(crashed)
    ok, back_crashed = load_records(path)
    assert ok == _record(0)
    assert back_crashed.status == "crashed" and math.isnan(back_crashed.wall_s) and back_crashed.value is None
    assert back_crashed == RunRecord.from_dict({**crashed.to_dict(), "wall_s": back_crashed.wall_s})


def test_one_row_per_cell_the_latest_wins(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        store.put(_record(0, status="crashed", value=None))
        store.put(_record(0, value=2.0))
        store.put(_record(1))
        assert set(store.ok_records()) == {record_key(_record(0)), record_key(_record(1))}
    assert [(r.seed, r.value) for r in load_records(path)] == [(0, 2.0), (1, 1.5)]


def test_cell_key_matches_its_record_key():
    cell = Cell("sphere", "random", Budget(10), 3, {"dim": 2, "seed": 0, "work": 1}, {"batch_size": 64})
    assert cell_key(cell) == record_key(failed_record(cell, "timeout", ""))


def test_frame_has_record_fields_decoded_and_export_round_trips(tmp_path):
    path = tmp_path / "s.sqlite"
    _make_store(path)
    frame = load_frame(path)
    assert list(frame.columns[:len(RunRecord.__dataclass_fields__)]) == list(RunRecord.__dataclass_fields__)
    assert frame["options"][0] == {"dim": 2, "seed": 0, "work": 1} and frame["trace"][1][1] == (4, 0.02, 1.5)
    assert frame["seed"].tolist() == [0, 1, 2] and frame["run_id"].tolist() == [1, 1, 1]
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        assert export(path, out, fmt) == 3
        back = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
        assert back["value"].tolist() == [1.5] * 3 and back["options"][0] == '{"dim":2,"seed":0,"work":1}'


def test_runs_table_records_command_versions_and_summary(tmp_path):
    path = tmp_path / "s.sqlite"
    _make_store(path)
    conn = sqlite3.connect(path)
    row = conn.execute("SELECT command, status, n_cells, machine, git_commit, summary, started_at FROM runs").fetchone()
    conn.close()
    assert row[:6] == ("test", "finished", 3, "m", "c", '{"ok":3}') and row[6]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _not_sqlite(path: Path) -> None:
    path.write_text("name,value\na,1\n")


def _other_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def _garbage_page(path: Path) -> None:
    _make_store(path, n=40)
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # page 2: a b-tree page
    path.write_bytes(bytes(data))


def _truncated(path: Path) -> None:
    _make_store(path, n=40)
    path.write_bytes(path.read_bytes()[: 3 * 4096])


@pytest.mark.parametrize("make, words", [
    (_not_sqlite, "not an SQLite database"),
    (_other_sqlite, "not an optbench store"),
    (_garbage_page, "corrupt"),
    (_truncated, "corrupt"),
])
def test_bad_files_are_refused_and_left_byte_identical(tmp_path, make, words):
    path = tmp_path / "s.sqlite"
    make(path)
    before = _snapshot(tmp_path)
    with pytest.raises(HarnessError, match=words):
        Store.open(path)
    with pytest.raises(HarnessError, match=words):
        load_records(path)
    assert _snapshot(tmp_path) == before


def test_locked_store_is_refused_and_left_byte_identical(tmp_path):
    path = tmp_path / "s.sqlite"
    _make_store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    before = path.read_bytes()
    with pytest.raises(HarnessError, match="locked"):
        Store.open(path)
    holder.execute("ROLLBACK")
    holder.close()
    assert path.read_bytes() == before


def test_unwritable_paths_are_refused_and_nothing_is_created(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(HarnessError, match="not a directory"):
        Store.open(tmp_path / "file" / "s.sqlite")
    with pytest.raises(HarnessError, match="is a folder"):
        Store.open(tmp_path)
    assert _snapshot(tmp_path) == {"file": b"x"}


def test_check_tells_new_from_existing(tmp_path):
    path = tmp_path / "sub" / "s.sqlite"
    assert check(path) is False and not path.parent.exists()
    with pytest.raises(HarnessError, match="does not exist"):
        load_frame(path)
    _make_store(path)
    assert check(path) is True


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _set_run_process(path: Path, run_id: int, pid: int | None, status: str = "running") -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE runs SET pid=?, pid_started=NULL, status=? WHERE run_id=?", (pid, status, run_id))
    conn.commit()
    conn.close()


def test_a_schema_1_store_is_migrated_and_its_running_runs_become_abandoned(tmp_path):
    path = tmp_path / "s.sqlite"
    _make_store(path)
    before = load_records(path)
    conn = sqlite3.connect(path)  # back to schema 1: no process columns, no claims, a run left running
    for column in ("pid", "host", "pid_started"):
        conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    conn.execute("DROP TABLE claims")
    conn.execute("UPDATE runs SET status='running', finished_at=NULL")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    assert check(path) is True and load_records(path) == before  # readable as it is
    with Store.open(path) as store:
        (run,) = store.runs()
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
        claims = store.conn.execute("SELECT count(*) FROM claims").fetchone()[0]
    assert version == SCHEMA_VERSION and claims == 0 and run["status"] == "abandoned" and run["pid"] is None
    assert load_records(path) == before


def test_a_schema_2_store_reads_its_old_column_names_and_is_renamed_when_written(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        store.put(replace(_record(0), family="bowls", knowledge="bound"))
    conn = sqlite3.connect(path)  # back to schema 2: the columns under their old names
    for old, new in RENAMED_FIELDS.items():
        conn.execute(f"ALTER TABLE records RENAME COLUMN {new} TO {old}")
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()
    (read,) = load_records(path)  # read-only: nothing migrated, the old columns read as the new fields
    assert (read.family, read.knowledge) == ("bowls", "bound")
    assert {"objective_class", "reference_kind"} <= _columns(path)
    with Store.open(path) as store:
        store.put(_record(1))
    assert {"family", "knowledge"} <= _columns(path) and not {"objective_class", "reference_kind"} & _columns(path)
    assert [(r.seed, r.family, r.knowledge) for r in load_records(path)] == [(0, "bowls", "bound"), (1, "", "optimum")]
    old_json = {("objective_class" if k == "family" else k): v for k, v in read.to_dict().items()}
    assert RunRecord.from_dict(old_json) == read  # a record printed by an earlier release


def _columns(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[1] for row in conn.execute("PRAGMA table_info(records)")}
    finally:
        conn.close()


def test_runs_of_dead_processes_become_abandoned_and_live_ones_stay_running(tmp_path):
    import os

    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        dead, live = store.begin_run("a", 1, {}), store.begin_run("b", 1, {})
    _set_run_process(path, dead, _dead_pid())
    _set_run_process(path, live, os.getpid())
    with Store.open(path) as store:
        assert [r["status"] for r in store.runs()] == ["abandoned", "running"]


def test_a_claim_of_a_live_run_is_respected_and_a_dead_runs_claim_is_taken_over(tmp_path):
    cell = Cell("sphere", "random", Budget(10), 0, {"dim": 2, "seed": 0, "work": 1}, {"batch_size": 64})
    with Store.open(tmp_path / "s.sqlite") as store:
        first, second = store.begin_run("first", 1, {}), store.begin_run("second", 1, {})
        assert store.claim(cell, first) is None  # claimed: run it
        holder = store.claim(cell, second)
        assert holder.run_id == first and not holder.done and "first" in str(holder)  # first is alive (this process)
        record = failed_record(cell, "error", "failed in the first run")
        store.put(record, first)
        assert store.claim(cell, second) == record  # the live first run stored it, even failed: not run again
        store.end_run(first, "finished", {})
        assert store.claim(cell, second) is None  # the first run is over: a failed cell may run again
        third = store.begin_run("third", 1, {})
    _set_run_process(tmp_path / "s.sqlite", second, _dead_pid())
    with Store.open(tmp_path / "s.sqlite") as store:  # second died holding the claim: abandoned, claim dropped
        assert store.claim(cell, third) is None
        store.put(_record(0), third)  # the same cell, now ok
        assert store.claim(cell, store.begin_run("fourth", 1, {})).status == "ok"  # ok in the store: skip it
