"""The results store: one SQLite file (WAL), one row per cell, written only by the matrix's parent.

Layout: ``records`` has one column per :class:`RunRecord` field (dicts and lists as JSON; the key
is objective, options, optimizer, optimizer_options, budget, seed) plus ``run_id`` and
``finished_at``; ``runs`` holds one row per ``optbench run`` (command, start/end, status, versions,
machine, git commit, and the pid/host of its process); ``claims`` holds the cells running now (see
:mod:`harness.claims`: concurrent runs on one store never run a cell twice). The file is marked
with ``PRAGMA application_id`` (so another program's SQLite file is refused) and ``PRAGMA
user_version`` (the schema version). When the store is next opened for writing, tables that
differ from this version's (a schema-1 store without pids or claims, a field added to ``RunRecord``
since) are rebuilt to exactly this version's, or the store is refused untouched (see
:mod:`harness.store.schema`); runs a dead process left ``running`` become ``abandoned``.

Every check that can refuse a store (:func:`check`) reads bytes only (the folder's writability is
probed with a file it removes at once), so a refused file is left exactly as it was.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import RENAMED_FIELDS, Cell, RunRecord
from optbench.harness.execution import claims
from optbench.harness.paths import check_file_kind, check_output_file
from optbench.harness.store import unsaved
from optbench.harness.store.schema import (
    APPLICATION_ID,
    FIELDS,
    JSON_FIELDS,
    KEY_FIELDS,
    SCHEMA_VERSION,
    Transaction,
    create_or_migrate,
    problems,
)

DEFAULT_PATH = Path("results/runs.sqlite")  # run, report, decide and export; the demo keeps its own
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0  # waiting for another writer's transaction (another `optbench run` on this file)
COMPANIONS = ("-wal", "-shm", "-journal", unsaved.SUFFIX)  # the files SQLite (and a stopped run) keep beside a store
LOCK_CHECK_S = 2.0  # at open: longer than any of our transactions, short enough to fail fast

_NAN_FIELDS = {f.name for f in fields(RunRecord) if str(f.type) == "float"}  # SQLite stores NaN as NULL


def to_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): equal values give equal text, so it can be a key."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)  # numpy scalars, else their text


def cell_key(cell: Cell) -> tuple:
    """The store key of a cell (equal to :func:`record_key` of its record)."""
    return (cell.objective, to_json(cell.options), cell.optimizer, to_json(cell.optimizer_options),
            to_json({"max_evals": cell.budget.max_evals, "max_seconds": cell.budget.max_seconds}), cell.seed)


def record_key(record: RunRecord) -> tuple:
    """The store key of a record."""
    return tuple(to_json(getattr(record, k)) if k in JSON_FIELDS else getattr(record, k) for k in KEY_FIELDS)


def check(path: Path | str, *, must_exist: bool = False, write: bool = True) -> bool:
    """Refuse a path that cannot be an optbench store, touching nothing; True if the store exists.

    Raises ``HarnessError`` naming the problem: unwritable (with ``write``) or impossible path (a
    folder, FIFO, device or dangling link, there or as a companion file), a file that is not an SQLite
    database or not an optbench store, a newer schema, or a corrupt file.
    """
    path = Path(path)
    exists = check_file_kind(path, "store")
    for companion in COMPANIONS:  # SQLite opens these beside the store: a FIFO there would block it
        check_file_kind(f"{path}{companion}", "store companion")
    if not exists or path.stat().st_size == 0:
        if must_exist:
            raise HarnessError(f"store {path} does not exist or is empty (run `optbench run … --store {path}` first)")
        if write:
            check_output_file(path, "store")
        return False
    with path.open("rb") as f:
        header = f.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise HarnessError(f"{path} is not an optbench store: it is not an SQLite database")
    app_id, version = int.from_bytes(header[68:72], "big"), int.from_bytes(header[60:64], "big")
    if app_id != APPLICATION_ID:
        raise HarnessError(f"{path} is an SQLite database but not an optbench store "
                           f"(application_id {app_id:#x}, expected {APPLICATION_ID:#x}); give another --store")
    if version > SCHEMA_VERSION:
        raise HarnessError(f"store {path} has schema version {version}; this optbench reads ≤ {SCHEMA_VERSION}")
    if write:  # the folder too: a WAL store writes -wal and -shm files beside it
        check_output_file(path, "store")
    _check_integrity(path, write)
    return True


def _readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection that creates no -wal/-shm files (``immutable``) unless a WAL is present."""
    wal = Path(f"{path}-wal")
    mode = "mode=ro" if wal.exists() and wal.stat().st_size else "immutable=1"
    return sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)


def _check_integrity(path: Path, write: bool) -> None:
    """Refuse a corrupt store, and one whose tables cannot be read (or, to ``write``, rebuilt) as
    optbench's (see :mod:`harness.store.schema`)."""
    try:
        conn = _readonly(path)
        try:
            damage = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            mismatch = problems(conn, write=write) if {"records", "runs"} <= tables else []
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise HarnessError(f"store {path} is locked by another process ({exc})") from None
        raise HarnessError(f"store {path} is corrupt ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise HarnessError(f"store {path} is corrupt ({exc})") from None
    if damage != ["ok"]:
        raise HarnessError(f"store {path} is corrupt: {'; '.join(damage)}")
    if not {"records", "runs"} <= tables:
        raise HarnessError(f"store {path} is corrupt: tables records/runs missing (found {sorted(tables)})")
    if mismatch:
        raise HarnessError(f"store {path} does not match optbench's schema and is left as it is: {'; '.join(mismatch)}")


class Store:
    """The writer: open with :meth:`open` (checks first), then ``begin_run`` / ``put`` / ``end_run``."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path, self.conn = path, conn
        self.recovered = (0, 0)  # records moved in from the unsaved file at open, and lines unreadable there

    def _take_unsaved(self) -> tuple[int, int]:
        kept = unsaved.path_of(self.path)
        if not kept.exists():
            return 0, 0
        entries, unreadable = unsaved.read(self.path)
        with Transaction(self.conn):
            for entry in entries:
                self._write(entry.record, entry.run_id, entry.finished_at)
        if unreadable:
            unsaved.set_aside(self.path, unreadable)
        kept.unlink()
        return len(entries), len(unreadable)

    @classmethod
    def open(cls, path: Path | str = DEFAULT_PATH, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Store:
        """Check ``path``, create it if new, and take the write lock once to refuse a locked store;
        records a stopped run kept beside it (:mod:`harness.store.unsaved`) are moved in (``recovered``
        counts them, and the lines that could not be read)."""
        path = Path(path)
        check(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=LOCK_CHECK_S, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            create_or_migrate(conn, path)  # before WAL: the marker lands in the main file's header at once
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a kill -9 loses no committed cell
            conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            with Transaction(conn):
                claims.mark_abandoned(conn, _now())
            store = cls(path, conn)
            store.recovered = store._take_unsaved()
        except HarnessError:
            conn.close()
            raise
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise HarnessError(f"store {path} is locked by another process ({exc}); "
                                   f"wait for it or give another --store") from None
            raise HarnessError(f"cannot write store {path} ({exc})") from None
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def begin_run(self, command: str, n_cells: int, versions: dict[str, str]) -> int:
        """Record the start of a run by this process; returns its ``run_id``."""
        pid, host, started = claims.this_process()
        with Transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO runs (started_at, status, command, n_cells, versions, machine, git_commit, pid, host, "
                "pid_started) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), command, n_cells, to_json(versions), versions.get("machine", ""),
                 versions.get("git_commit", ""), pid, host, started))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def end_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        """Record how a run ended (finished, interrupted) and release the cells it still claims."""
        with Transaction(self.conn):
            self.conn.execute("UPDATE runs SET finished_at=?, status=?, summary=? WHERE run_id=?",
                              (_now(), status, to_json(summary), run_id))
            claims.release(self.conn, run_id)

    def claim(self, cell: Cell, run_id: int, *, force: bool = False) -> RunRecord | claims.Holder | None:
        """Claim ``cell`` for ``run_id`` before running it. None: claimed, run it. A record: skip the
        cell, it is stored ``ok`` (unless ``force``) or a live concurrent run stored it. A holder: a live
        run is running it now (ask again later)."""
        key = cell_key(cell)
        with Transaction(self.conn):
            stored = self._record(key)
            if stored is not None and stored.status == "ok" and not force:
                return stored
            holder = claims.holder(self.conn, to_json(key), run_id)
            if holder is None:
                claims.claim(self.conn, to_json(key), run_id)
            elif holder.done and stored is not None:
                return stored
        return holder

    def _record(self, key: tuple) -> RunRecord | None:
        cur = self.conn.execute(f"SELECT * FROM records WHERE {' AND '.join(f'{k}=?' for k in KEY_FIELDS)}", key)
        row = cur.fetchone()
        return None if row is None else _from_row(cur.description, row)

    def put(self, record: RunRecord, run_id: int | None = None) -> None:
        """Write one record in its own transaction, replacing the cell's earlier row (and marking
        ``run_id``'s claim on it done)."""
        with Transaction(self.conn):
            self._write(record, run_id, _now())

    def _write(self, record: RunRecord, run_id: int | None, finished_at: str | None) -> None:
        row = _to_row(record)
        names = [*row, "run_id", "finished_at"]
        self.conn.execute(f"INSERT OR REPLACE INTO records ({', '.join(names)}) "
                          f"VALUES ({', '.join('?' * len(names))})", [*row.values(), run_id, finished_at])
        if run_id is not None:
            claims.mark_done(self.conn, run_id, to_json(record_key(record)))

    def runs(self) -> list[dict[str, Any]]:
        """Every run row (status ``running``, ``finished``, ``interrupted``, ``stopped`` (its store could
        not be written) or ``abandoned``)."""
        cur = self.conn.execute("SELECT * FROM runs ORDER BY run_id")
        return [dict(zip((d[0] for d in cur.description), row)) for row in cur]

    def ok_records(self) -> dict[tuple, RunRecord]:
        """Records with status ``ok``, by key: the cells a re-run skips."""
        cur = self.conn.execute("SELECT * FROM records WHERE status='ok'")
        records = [_from_row(cur.description, row) for row in cur]
        return {record_key(r): r for r in records}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _to_row(record: RunRecord) -> dict[str, Any]:
    data = record.to_dict()
    return {k: to_json(data[k]) if k in JSON_FIELDS else data[k] for k in FIELDS}


def _from_row(description, row) -> RunRecord:
    data = {RENAMED_FIELDS.get(d[0], d[0]): value for d, value in zip(description, row)}  # old stores read as is
    values = {}
    for name in FIELDS:
        value = data.get(name)
        if name in JSON_FIELDS and value is not None:
            value = json.loads(value)
        elif name in _NAN_FIELDS and value is None:
            value = math.nan
        values[name] = value
    return RunRecord.from_dict(values)


def _entries(path: Path | str) -> list[unsaved.Entry]:
    """Every record of the store, in the order they finished: its rows, then the records a stopped
    run kept beside it (these replace rows of the same cell: they finished later)."""
    path = Path(path)
    check(path, must_exist=True, write=False)
    conn = _readonly(path)
    try:
        cur = conn.execute("SELECT * FROM records ORDER BY finished_at, rowid")
        names = [d[0] for d in cur.description]
        rows = [(_from_row(cur.description, row), dict(zip(names, row))) for row in cur]
    finally:
        conn.close()
    kept, _ = unsaved.read(path)
    later = {record_key(e.record) for e in kept}
    return [unsaved.Entry(record, row["run_id"], row["finished_at"]) for record, row in rows
            if record_key(record) not in later] + kept


def load_records(path: Path | str = DEFAULT_PATH) -> list[RunRecord]:
    """Every record in the store, in the order they finished."""
    return [e.record for e in _entries(path)]


def ok_records(path: Path | str) -> dict[tuple, RunRecord]:
    """The store's records with status ``ok``, by key (the cells a re-run skips), read without writing
    anything; ``{}`` when the store does not exist yet."""
    return {record_key(r): r for r in load_records(path) if r.status == "ok"} if check(path, write=False) else {}


def load_frame(path: Path | str = DEFAULT_PATH):
    """A pandas DataFrame, one row per record: the RunRecord fields (dicts and lists decoded) plus
    ``run_id`` and ``finished_at``."""
    import pandas as pd

    entries = _entries(path)
    frame = pd.DataFrame([e.record.to_dict() for e in entries], columns=FIELDS)
    frame["run_id"] = [e.run_id for e in entries]
    frame["finished_at"] = [e.finished_at for e in entries]
    return frame


def export(path: Path | str, out: Path | str, fmt: str) -> int:
    """Write the store's records to parquet or CSV (dict and list fields as JSON text); returns rows."""
    frame = load_frame(path)
    for name in JSON_FIELDS:
        frame[name] = frame[name].map(to_json)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
    elif fmt == "csv":
        frame.to_csv(out, index=False)
    else:
        raise HarnessError(f"export format {fmt!r} is unknown; allowed: parquet, csv")
    return len(frame)
