"""Optuna trial storages by name, their teardown, and what each costs per trial.

Kinds (``STORAGE_KINDS``):
- ``memory``: ``InMemoryStorage`` (one process only).
- ``sqlite``: ``RDBStorage`` on a SQLite file with SQLite's defaults (rollback journal,
  ``synchronous=FULL``); Optuna wraps it in its ``_CachedStorage`` as it always does.
- ``sqlite-wal``: the same with ``journal_mode=WAL`` and ``synchronous=NORMAL`` set on every
  connection, through a ``sqlite3.Connection`` factory passed in ``engine_kwargs``.
- ``journal``: ``JournalStorage`` on a ``JournalFileBackend`` (append-only file, symlink lock).

Those live in a temporary folder and are deleted. A storage the user keeps (``optbench study
--storage URL``) is opened by :func:`open_kept` and filled by :func:`keep_study` after each mode
is measured, so keeping studies costs the measured modes nothing.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optbench.harness.core.errors import HarnessError
from optbench.harness.study.tables import InsertCost, StorageCost

STORAGE_KINDS = ("memory", "sqlite", "sqlite-wal", "journal")
_FILES = {"sqlite": "study.db", "sqlite-wal": "study-wal.db", "journal": "study.journal"}
# What a clean teardown leaves nothing of: journal lock symlinks and SQLite's WAL/SHM/rollback files.
LEFTOVER_PATTERNS = ("*.lock", "*-wal", "*-shm", "*-journal")


class WALConnection(sqlite3.Connection):
    """A sqlite3 connection that turns on WAL and ``synchronous=NORMAL`` when it opens."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA journal_mode=WAL")
        self.execute("PRAGMA synchronous=NORMAL")


def check_kind(kind: str) -> str:
    if kind not in STORAGE_KINDS:
        raise HarnessError(f"unknown storage {kind!r}; allowed: {', '.join(STORAGE_KINDS)}")
    return kind


def open_storage(kind: str, workdir: str | Path):
    """A storage of ``kind`` whose file (if any) lives in ``workdir``; the same call in several
    processes opens the same storage."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    check_kind(kind)
    if kind == "memory":
        return optuna.storages.InMemoryStorage()
    path = Path(workdir) / _FILES[kind]
    if kind == "journal":
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    engine_kwargs = {"connect_args": {"factory": WALConnection}} if kind == "sqlite-wal" else {}
    return optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs=engine_kwargs)


def close_storage(storage) -> None:
    """Close an RDB storage's connections (SQLite then checkpoints and removes its WAL/SHM files);
    the other kinds hold no open handles between calls."""
    engine = getattr(storage, "engine", None)
    if engine is not None:
        storage.scoped_session.remove()
        engine.dispose()


@contextmanager
def opened(kind: str, workdir: str | Path) -> Iterator[Any]:
    """:func:`open_storage` for the block, closed after it."""
    storage = open_storage(kind, workdir)
    try:
        yield storage
    finally:
        close_storage(storage)


def kept_file(url: str) -> Path | None:
    """The local file behind ``--storage URL`` (an SQLite URL or a journal path); None for a server URL."""
    if "://" not in url:
        return Path(url).expanduser()
    return Path(url.removeprefix("sqlite:///")).expanduser() if url.startswith("sqlite:///") else None


def open_kept(url: str):
    """The storage ``optbench study --storage URL`` keeps studies in: an RDB URL (``sqlite:///path.db``)
    or, without ``://``, a journal file path; missing parent folders are created."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if "://" in url:
        if (file := kept_file(url)) is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        try:
            return optuna.storages.RDBStorage(url)
        except Exception as exc:  # SQLAlchemy's many error types: a bad URL or an unreachable database
            raise HarnessError(f"cannot open Optuna storage {url!r}: {type(exc).__name__}: {exc}") from None
    path = Path(url).expanduser()
    if path.is_dir():
        raise HarnessError(f"--storage {url!r} is a folder; give sqlite:///FILE.db or a journal FILE path")
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def keep_study(storage, name: str, trials: list, attrs: dict[str, Any]) -> str:
    """Write one finished study (its ``FrozenTrial`` list) into a kept storage as ``name`` (``name #2``,
    ``#3`` … when taken, e.g. by ``--repeats``), with ``attrs`` as user attributes; returns the name used."""
    import optuna

    taken = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    unique = name if name not in taken else next(f"{name} #{k}" for k in range(2, len(taken) + 3)
                                                  if f"{name} #{k}" not in taken)
    study = optuna.create_study(storage=storage, study_name=unique, direction="minimize")
    study.add_trials(trials)
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    return unique


def leftover_files(workdir: str | Path) -> list[str]:
    """Lock, WAL, SHM and rollback-journal files left in ``workdir`` (empty after a clean teardown)."""
    root = Path(workdir)
    return sorted(str(p.relative_to(root)) for pattern in LEFTOVER_PATTERNS for p in root.rglob(pattern))


def remove_storage_files(workdir: str | Path) -> None:
    """Delete the storage files this module creates in ``workdir``."""
    for name in _FILES.values():
        Path(workdir, name).unlink(missing_ok=True)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def storage_costs(distributions: dict, n_trials: int, workdir: str | Path,
                  kinds: tuple[str, ...] = STORAGE_KINDS) -> list[StorageCost]:
    """Per-trial storage cost of each kind, in ms, on a study of ``n_trials`` trials over ``distributions``:

    - ``ask_tell_ms`` (``ask_tell_cpu_ms``: its CPU time; the rest is waiting, e.g. for fsync):
      ``study.ask(distributions)`` + ``study.tell`` with a RandomSampler (the writes an optimize loop
      makes per trial; the sampler's own share is the ``memory`` row);
    - ``add_trial_ms``: ``study.add_trial`` of a finished trial (one insert; Optuna's
      ``add_trials`` is a loop over it, so there is no batched path);
    - ``read_all_ms``: ``study.get_trials(deepcopy=False)`` on the open study (what TPE reads per trial);
    - ``load_ms``: open a new storage object, ``load_study``, read all trials and close it (a
      worker's or a resume's start; not applicable to ``memory``).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows: list[StorageCost] = []
    for kind in kinds:
        storage = open_storage(kind, workdir)
        study = optuna.create_study(storage=storage, study_name=f"bench-{kind}",
                                    sampler=optuna.samplers.RandomSampler(seed=0))

        def ask_tell():
            for i in range(n_trials):
                study.tell(study.ask(distributions), float(i))

        t0, c0 = time.perf_counter(), time.thread_time()
        ask_tell()
        ask_tell_s, ask_tell_cpu_s = time.perf_counter() - t0, time.thread_time() - c0
        finished = [optuna.trial.create_trial(params=t.params, distributions=distributions, value=t.value)
                    for t in study.get_trials(deepcopy=False)]
        add_s = _timed(lambda: study.add_trials(finished))  # a loop over add_trial
        n_read = 5
        read_s = _timed(lambda: [study.get_trials(deepcopy=False) for _ in range(n_read)]) / n_read
        close_storage(storage)
        load_ms = float("nan")
        if kind != "memory":

            def load():
                with opened(kind, workdir) as fresh:  # JournalStorage replays its log when it opens
                    optuna.load_study(study_name=f"bench-{kind}", storage=fresh).get_trials(deepcopy=False)

            load_ms = 1e3 * _timed(load)
        rows.append(StorageCost(storage=kind, n_trials=n_trials, ask_tell_ms=1e3 * ask_tell_s / n_trials,
                                ask_tell_cpu_ms=1e3 * ask_tell_cpu_s / n_trials,
                                add_trial_ms=1e3 * add_s / n_trials, read_all_ms=1e3 * read_s,
                                trials_at_read=2 * n_trials, load_ms=load_ms))
    remove_storage_files(workdir)
    return rows


def sqlite_insert_costs(n_rows: int, workdir: str | Path) -> list[InsertCost]:
    """The origin scripts' comparison with plain ``sqlite3``: ms per row inserted one commit per row vs all
    rows in one transaction (``executemany``), with SQLite's defaults and with WAL + NORMAL; and
    the cost of one file append + fsync, which the journal backend pays per write."""
    rows: list[InsertCost] = []
    for setup in ("sqlite default", "sqlite WAL"):
        path = Path(workdir, "inserts.db")
        con = sqlite3.connect(path, factory=WALConnection if setup == "sqlite WAL" else sqlite3.Connection)
        con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, params TEXT, value REAL)")
        data = [(i, '{"fast": 10, "slow": 100, "ma_type": "sma"}', 0.5) for i in range(2 * n_rows)]

        def one_by_one():
            for row in data[:n_rows]:
                con.execute("INSERT INTO t VALUES (?, ?, ?)", row)
                con.commit()

        def batch():
            with con:
                con.executemany("INSERT INTO t VALUES (?, ?, ?)", data[n_rows:])

        for method, fn in (("commit per row", one_by_one), ("one transaction", batch)):
            rows.append(InsertCost(setup, method, n_rows, 1e3 * _timed(fn) / n_rows))
        con.close()
        path.unlink()
    path, n_appends = Path(workdir, "fsync.log"), max(1, n_rows // 10)  # fsyncs are slow: fewer suffice
    with open(path, "ab") as f:  # what the journal backend does per write: append, flush, fsync

        def append_fsync():
            for _ in range(n_appends):
                f.write(b"x" * 100 + b"\n")
                f.flush()
                os.fsync(f.fileno())

        rows.append(InsertCost("plain file (journal backend)", "append + fsync", n_appends,
                               1e3 * _timed(append_fsync) / n_appends))
    path.unlink()
    return rows
