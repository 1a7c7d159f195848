"""A store whose tables differ from optbench's is rebuilt to exactly the schema a new store gets
(columns, types, keys, indexes), or refused untouched with one line: never written into."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import RENAMED_FIELDS
from optbench.harness.store import Store, load_records

from .test_cli_usage import run_script
from .test_store import _make_store, _record


def _shape(path: Path) -> dict:
    """Everything SQLite says about the store's tables: columns (name, type, not null, default, place
    in the key), indexes with their columns and collations, foreign keys, and the CREATE text."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        shape = {"objects": sorted(conn.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()),
                 "user_version": conn.execute("PRAGMA user_version").fetchone()[0],
                 "application_id": conn.execute("PRAGMA application_id").fetchone()[0]}
        for table in tables:
            indexes = {}
            for _, name, unique, origin, partial in conn.execute(f"PRAGMA index_list({table})"):
                indexes[name] = (unique, origin, partial, conn.execute(f"PRAGMA index_xinfo({name})").fetchall())
            shape[table] = {"columns": sorted(r[1:] for r in conn.execute(f"PRAGMA table_info({table})")),
                            "indexes": indexes, "foreign_keys": conn.execute(f"PRAGMA foreign_key_list({table})").fetchall(),
                            "sql": conn.execute("SELECT sql FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]}
        return shape
    finally:
        conn.close()


def _alter(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for statement in statements:
            conn.execute(statement)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _replace_records(path: Path, create: str, columns: str) -> list[str]:
    """The records table replaced by ``create`` (a CREATE TABLE records_new …), keeping ``columns``."""
    return [create, f"INSERT INTO records_new ({columns}) SELECT {columns} FROM records", "DROP TABLE records",
            "ALTER TABLE records_new RENAME TO records"]


@pytest.fixture
def fresh(tmp_path) -> dict:
    path = tmp_path / "fresh.sqlite"
    _make_store(path)
    return _shape(path)


def _schema_1(path: Path) -> None:
    _alter(path, *(f"ALTER TABLE runs DROP COLUMN {c}" for c in ("pid", "host", "pid_started")), "DROP TABLE claims",
           "PRAGMA user_version=1")


def _schema_2(path: Path) -> None:
    _alter(path, *(f"ALTER TABLE records RENAME COLUMN {new} TO {old}" for old, new in RENAMED_FIELDS.items()),
           "PRAGMA user_version=2")


def _lacks_a_field(path: Path) -> None:  # a store written before ``phases_s`` existed
    _alter(path, "ALTER TABLE records DROP COLUMN phases_s")


def _constrained(path: Path) -> None:  # one of its own columns NOT NULL, another with a default
    conn = sqlite3.connect(path)
    create = conn.execute("SELECT sql FROM sqlite_master WHERE name='records'").fetchone()[0]
    names = ", ".join(r[1] for r in conn.execute("PRAGMA table_info(records)"))
    conn.close()
    create = create.replace("CREATE TABLE records", "CREATE TABLE records_new").replace(
        "message TEXT", "message TEXT NOT NULL").replace("value REAL", "value REAL DEFAULT 0")
    _alter(path, *_replace_records(path, create, names))


@pytest.mark.parametrize("make", [_schema_1, _schema_2, _lacks_a_field, _constrained])
def test_an_older_or_altered_store_is_rebuilt_to_exactly_a_fresh_stores_schema(tmp_path, fresh, make):
    path = tmp_path / "s.sqlite"
    _make_store(path)
    before = load_records(path)
    make(path)
    assert _shape(path) != fresh
    with Store.open(path) as store:
        store.put(_record(7), store.begin_run("after", 1, {}))
    assert _shape(path) == fresh
    after = load_records(path)
    kept = [r.seed for r in after if r.seed != 7]
    assert kept == [r.seed for r in before] and len(after) == len(before) + 1
    if make is not _lacks_a_field:  # that store never held phases_s: it reads back empty
        assert after[:-1] == before


def _lost_seed(path: Path) -> None:  # the cell key without its seed
    conn = sqlite3.connect(path)
    names = [r[1] for r in conn.execute("PRAGMA table_info(records)") if r[1] != "seed"]
    conn.close()
    keys = "objective, options, optimizer, optimizer_options, budget"
    _alter(path, "CREATE TABLE kept AS SELECT * FROM records WHERE seed = 0", "DROP TABLE records",
           f"CREATE TABLE records ({', '.join(names)}, PRIMARY KEY ({keys}))",
           f"INSERT INTO records SELECT {', '.join(names)} FROM kept", "DROP TABLE kept")


def _extra_not_null(path: Path) -> None:
    _alter(path, "ALTER TABLE records ADD COLUMN reviewer TEXT NOT NULL DEFAULT 'ann'")


def _trigger(path: Path) -> None:  # it would empty the table on every write
    _alter(path, "CREATE TRIGGER wipe AFTER INSERT ON records BEGIN DELETE FROM records; END")


def _unique_index(path: Path) -> None:  # INSERT OR REPLACE would drop every other seed's row
    _alter(path, "DELETE FROM records WHERE seed > 0", "CREATE UNIQUE INDEX one_per_objective ON records (objective)")


REFUSED = [(_lost_seed, "records table lacks key column(s) seed"),
           (_extra_not_null, "has column(s) reviewer that optbench does not write"),
           (_trigger, "holds trigger wipe, which optbench does not create"),
           (_unique_index, "holds index one_per_objective")]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("make, words", REFUSED)
def test_a_store_that_cannot_be_rebuilt_exactly_is_refused_by_run_and_never_written(tmp_path, make, words):
    path = tmp_path / "s.sqlite"
    _make_store(path)
    make(path)
    before = _files(tmp_path)
    done = run_script(["run", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--seeds", "4",
                       "--quiet", "--store", str(path)], cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith(f"error: store {path} does not match"), done.stderr
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert _files(tmp_path) == before  # the -wal and -shm files too: none was made


def test_a_store_without_its_seed_column_is_refused_for_reading_too(tmp_path):
    path = tmp_path / "s.sqlite"
    _make_store(path)
    _lost_seed(path)
    done = run_script(["report", "--store", str(path), "--out", str(tmp_path / "report")], cwd=tmp_path)
    assert done.returncode == 2 and "lacks key column(s) seed" in done.stderr and not (tmp_path / "report").exists()


def test_rows_that_collide_under_the_key_refuse_the_rebuild_and_leave_the_store_as_it_was(tmp_path):
    path = tmp_path / "s.sqlite"
    _make_store(path)
    conn = sqlite3.connect(path)
    names = ", ".join(r[1] for r in conn.execute("PRAGMA table_info(records)"))
    conn.close()  # a records table without a key, holding one cell twice
    _alter(path, f"CREATE TABLE records_new ({names})", f"INSERT INTO records_new SELECT {names} FROM records",
           "DROP TABLE records", "ALTER TABLE records_new RENAME TO records",
           f"INSERT INTO records SELECT {names} FROM records WHERE seed = 0")
    before = _files(tmp_path)
    with pytest.raises(HarnessError, match="two of its rows have one key .*left as it is"):
        Store.open(path)
    assert _files(tmp_path) == before
