"""Runs that share a store: who is alive, which cells they hold, and runs that died.

Each run row records the process that runs it (pid, host, the process's start time: a reused pid is
not mistaken for it). A cell is *claimed* (a ``claims`` row keyed by the cell's store key) in the
same transaction that checks it is not already ``ok`` in the store, just before it is submitted; the
transaction that stores its record marks the claim done, and the claims go when the run ends. So while
a run lives, the cells it ran or runs are left to it (the others take its stored records, even failed
ones); a claim held by a dead process is taken over. A run whose process died is marked
``abandoned`` when the store is next opened for writing. Processes on another host cannot be
checked from here: their claims expire after ``FOREIGN_CLAIM_S``.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from dataclasses import dataclass

import psutil

HOST = socket.gethostname()
FOREIGN_CLAIM_S = 24 * 3600.0


@dataclass(frozen=True)
class Holder:
    """The run that holds a claim (or the store): enough to name it in a message."""

    run_id: int
    pid: int | None
    host: str | None
    command: str
    done: bool  # it stored the cell's record already

    def __str__(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}: {self.command})"


def this_process() -> tuple[int, str, float]:
    """(pid, host, start time) of this process, as stored in the runs table."""
    me = psutil.Process()
    return me.pid, HOST, me.create_time()


def is_alive(pid: int | None, host: str | None, started: float | None) -> bool:
    """Whether the process that started a run is still running (True when it cannot be checked from
    here: another host). A run without a pid (a store written before pids were recorded) is dead."""
    if pid is None:
        return False
    if host != HOST:
        return True
    try:
        process = psutil.Process(pid)
        same = started is None or abs(process.create_time() - started) < 1.0
        return same and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def mark_abandoned(conn: sqlite3.Connection, now: str) -> list[int]:
    """Mark every ``running`` run whose process is dead as ``abandoned`` and drop its claims (call in
    a write transaction); returns their run ids."""
    rows = conn.execute("SELECT run_id, pid, host, pid_started FROM runs WHERE status='running'").fetchall()
    dead = [run_id for run_id, pid, host, started in rows if not is_alive(pid, host, started)]
    for run_id in dead:
        conn.execute("UPDATE runs SET status='abandoned', finished_at=? WHERE run_id=?", (now, run_id))
        conn.execute("DELETE FROM claims WHERE run_id=?", (run_id,))
    return dead


def holder(conn: sqlite3.Connection, key: str, run_id: int) -> Holder | None:
    """The live run, other than ``run_id``, that holds the claim on ``key``; None if the cell is free
    (unclaimed, claimed by this run, or by a run that is over or dead)."""
    row = conn.execute("SELECT c.run_id, c.claimed_at_s, c.done, r.pid, r.host, r.pid_started, r.status, r.command "
                       "FROM claims c LEFT JOIN runs r ON r.run_id = c.run_id WHERE c.key=?", (key,)).fetchone()
    if row is None or row[0] == run_id:
        return None
    other, claimed_at, done, pid, host, started, status, command = row
    expired = host != HOST and time.time() - (claimed_at or 0) > FOREIGN_CLAIM_S
    if status != "running" or expired or not is_alive(pid, host, started):
        return None
    return Holder(other, pid, host, command or "", bool(done))


def claim(conn: sqlite3.Connection, key: str, run_id: int) -> None:
    """Record that ``run_id`` runs the cell ``key`` now (call in a write transaction, after :func:`holder`)."""
    conn.execute("INSERT OR REPLACE INTO claims (key, run_id, claimed_at_s, done) VALUES (?, ?, ?, 0)",
                 (key, run_id, time.time()))


def mark_done(conn: sqlite3.Connection, run_id: int, key: str) -> None:
    """``run_id`` stored the record of ``key`` (call in the transaction that stores it)."""
    conn.execute("UPDATE claims SET done=1 WHERE run_id=? AND key=?", (run_id, key))


def release(conn: sqlite3.Connection, run_id: int) -> None:
    """Drop every claim of ``run_id`` (it ended)."""
    conn.execute("DELETE FROM claims WHERE run_id=?", (run_id,))
