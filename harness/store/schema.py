"""The store's tables, exactly: created in a new store, and an older or altered store either rebuilt to
exactly these tables (columns, types, keys) or refused untouched.

A table whose ``CREATE`` text differs from :data:`TABLES` (an older schema, a field added to
``RunRecord`` since, a renamed field, a constraint someone added) is rebuilt in one transaction: renamed
aside, created afresh, its rows copied column by column, the old one dropped. A table that cannot be
rebuilt without losing or inventing data is refused before anything is written (:func:`problems`): it
lacks a column of its key (a ``records`` table without ``seed`` would merge the seeds of each cell into
one row), it has columns optbench does not write (their values would be dropped, and a ``NOT NULL`` one
would refuse every record), or the file holds triggers, views, indexes or tables optbench does not
create (a trigger or a unique index would change what a write does). Rows that collide under the key
refuse the rebuild too, and the transaction leaves the store as it was.
"""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from pathlib import Path

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import RENAMED_FIELDS, RunRecord

APPLICATION_ID = 0x6F707462  # "optb"
SCHEMA_VERSION = 3  # 2: runs.pid/host/pid_started and the claims table; 3: RENAMED_FIELDS renamed

FIELDS = [f.name for f in fields(RunRecord)]
JSON_FIELDS = {f.name for f in fields(RunRecord) if str(f.type).startswith(("dict", "list"))}
KEY_FIELDS = ("objective", "options", "optimizer", "optimizer_options", "budget", "seed")


def _sql_type(name: str) -> str:
    kind = next(str(f.type) for f in fields(RunRecord) if f.name == name)
    return "TEXT" if name in JSON_FIELDS or kind == "str" else "INTEGER" if kind == "int" else "REAL"


TABLES = {  # name: the exact CREATE statement (SQLite keeps this text in sqlite_master)
    "runs": "CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT, finished_at TEXT, "
            "status TEXT, command TEXT, n_cells INTEGER, summary TEXT, versions TEXT, machine TEXT, git_commit TEXT, "
            "pid INTEGER, host TEXT, pid_started REAL)",
    "records": f"CREATE TABLE records ({', '.join(f'{name} {_sql_type(name)}' for name in FIELDS)}, "
               f"run_id INTEGER, finished_at TEXT, PRIMARY KEY ({', '.join(KEY_FIELDS)}))",
    "claims": "CREATE TABLE claims (key TEXT PRIMARY KEY, run_id INTEGER, claimed_at_s REAL, done INTEGER)",
}
KEYS = {"runs": ("run_id",), "records": KEY_FIELDS, "claims": ("key",)}
_ASIDE = "optbench_rebuilt_"  # the old table's name while its rows are copied


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """The columns of ``table`` in the store (none if it has no such table)."""
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _wanted(table: str) -> list[str]:
    """The columns of ``table`` in a fresh store, read from an in-memory one."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(TABLES[table])
        return columns(conn, table)
    finally:
        conn.close()


def _sources(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    """Each column of the fresh ``table`` that the store's table holds, with the column it is in
    (a field's old name in a store written before it was renamed)."""
    have = set(columns(conn, table))
    renamed = {new: old for old, new in RENAMED_FIELDS.items()} if table == "records" else {}
    return {c: c if c in have else renamed[c] for c in _wanted(table) if c in have or renamed.get(c) in have}


def problems(conn: sqlite3.Connection, *, write: bool) -> list[str]:
    """Why the store cannot be rebuilt to exactly :data:`TABLES` (empty: it can). For reading
    (``write`` False) only a key column missing from ``records`` matters: its rows would read wrong."""
    found = []
    for table in TABLES if write else ["records"]:
        have = columns(conn, table)
        if not have:
            continue  # a new store, or a schema-1 store's claims: created
        sources = _sources(conn, table)
        lost = [k for k in KEYS[table] if k not in sources]
        extra = sorted(set(have) - set(sources.values()))
        if lost:
            found.append(f"its {table} table lacks key column(s) {', '.join(lost)}")
        if extra and write:
            found.append(f"its {table} table has column(s) {', '.join(extra)} that optbench does not write")
    if write:
        other = [f"{kind} {name}" for kind, name in conn.execute("SELECT type, name FROM sqlite_master")
                 if name not in TABLES and not name.startswith("sqlite_")]
        if other:
            found.append(f"it holds {', '.join(other)}, which optbench does not create")
    return found


def create_or_migrate(conn: sqlite3.Connection, path: Path | str) -> None:
    """Create the tables of a new store, or rebuild each table of an older one that differs from
    :data:`TABLES` (call on an autocommit connection holding no transaction). Raises ``HarnessError``,
    leaving the store as it was, when it cannot be rebuilt exactly."""
    sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type='table'").fetchall())
    stale = [table for table, create in TABLES.items() if sql.get(table) != create]
    if not stale and conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    found = problems(conn, write=True)
    if found:  # Store.open checked this already; another process may have changed the store since
        raise HarnessError(f"store {path} does not match optbench's schema and is left as it is: {'; '.join(found)}")
    try:
        with Transaction(conn):
            if not sql:
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            for table in stale:
                _rebuild(conn, table)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except sqlite3.IntegrityError as exc:
        raise HarnessError(f"store {path} cannot be brought to optbench's schema: two of its rows have one key "
                           f"({exc}); it is left as it is") from None


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_: object) -> None:
        try:
            if exc_type is None:
                self.conn.execute("COMMIT")  # this too can find the store locked or the disk full
        finally:
            if self.conn.in_transaction:  # an error, or a failed COMMIT (SQLite ends some transactions itself)
                self.conn.execute("ROLLBACK")


def _rebuild(conn: sqlite3.Connection, table: str) -> None:
    """``table`` created afresh from :data:`TABLES`, with the rows of the store's table if it has one."""
    if not columns(conn, table):
        conn.execute(TABLES[table])
        return
    sources = _sources(conn, table)
    conn.execute(f"ALTER TABLE {table} RENAME TO {_ASIDE}{table}")
    conn.execute(TABLES[table])
    conn.execute(f"INSERT INTO {table} ({', '.join(sources)}) SELECT {', '.join(sources.values())} "
                 f"FROM {_ASIDE}{table}")
    conn.execute(f"DROP TABLE {_ASIDE}{table}")
