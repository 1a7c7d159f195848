"""A matrix run's writes to its store, so that no finished record is lost.

The store is opened at the first claim (the workers are up). Each finished record is kept in memory
until it is written; a write (or a claim) that finds the store locked by another process or the
disk full is tried again with backoff (:mod:`harness.store.patience`). When the retries are spent
the run stops: the records still unwritten are tried once more, the rest are kept beside the store
(:mod:`harness.store.unsaved`, moved in by the next run), the run is marked ``stopped``, and the
command ends with one ``error:`` line. Ctrl-C keeps unwritten records the same way.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.core.versions import versions
from optbench.harness.execution.claims import Holder
from optbench.harness.store import Store, unsaved
from optbench.harness.store import patience as waiting
from optbench.harness.store.patience import Patience, StoreUnavailable, patiently


class Recorder:
    """The run's side of the store: ``claim`` before a cell runs, ``put`` when it finished, ``close``
    at the end (or ``stopped`` when the store could not be written)."""

    def __init__(self, store: Store | Path | str, stack: ExitStack, *, command: str, n_cells: int, force: bool,
                 patience: Patience | None, note: Callable[[str], None]):
        self.store, self.stack, self.command, self.n_cells, self.force = store, stack, command, n_cells, force
        self.patience, self.note = patience or waiting.PATIENCE, note  # read now: a test may set PATIENCE
        self.path = store.path if isinstance(store, Store) else Path(store)
        self.writer: Store | None = None
        self.run_id: int | None = None
        self.unwritten: list[unsaved.Entry] = []
        self.holders: set[int] = set()

    def _open(self) -> tuple[Store, int]:
        if self.writer is None:
            self.writer = self.store if isinstance(self.store, Store) else self.stack.enter_context(
                Store.open(self.store, self.patience.busy_timeout_s))
            moved, unreadable = self.writer.recovered
            if moved or unreadable:
                self.note(f"moved {moved} finished record(s) that a stopped run kept beside the store into it"
                          + (f"; {unreadable} line(s) there could not be read (kept in "
                             f"{unsaved.path_of(self.path)}-unreadable)" if unreadable else ""))
        if self.run_id is None:
            writer = self.writer
            self.run_id = self._patiently(lambda: writer.begin_run(self.command, self.n_cells, versions()),
                                          "record the run's start")
        return self.writer, self.run_id

    def _patiently(self, write: Callable[[], Any], what: str) -> Any:
        return patiently(write, what, self.path, self.patience, self.note)

    def claim(self, cell: Cell) -> RunRecord | Holder | None:
        """Claim ``cell`` before it runs (see ``Store.claim``), trying again while the store is locked."""
        writer, run_id = self._open()
        verdict = self._patiently(lambda: writer.claim(cell, run_id, force=self.force), "claim a cell")
        if isinstance(verdict, Holder) and verdict.run_id not in self.holders:
            self.holders.add(verdict.run_id)
            self.note(f"cells held by {verdict} are left to it; this run takes their records when stored")
        return verdict

    def put(self, record: RunRecord) -> None:
        """Keep ``record`` until it is written, and write every record kept (oldest first)."""
        writer, run_id = self._open()
        self.unwritten.append(unsaved.Entry(record, run_id, time.strftime("%Y-%m-%dT%H:%M:%S%z")))
        while self.unwritten:
            entry = self.unwritten[0]
            self._patiently(lambda: writer.put(entry.record, run_id), "store a finished record")
            self.unwritten.pop(0)

    def close(self, status: str, summary: dict[str, Any], *, patient: bool = True) -> str:
        """Write the records the store takes now (one try each), keep the others beside it, and record
        how the run ended (``patient``: with retries); returns where the finished records are."""
        if self.writer is None or self.run_id is None:
            return "every finished record is stored"
        writer, run_id = self.writer, self.run_id
        try:
            while self.unwritten:
                writer.put(self.unwritten[0].record, run_id)
                self.unwritten.pop(0)
        except sqlite3.Error:
            pass
        where = self._keep()

        def end() -> None:
            writer.end_run(run_id, status, summary)

        try:
            if patient:
                self._patiently(end, "record how the run ended")
            else:
                end()
        except (sqlite3.Error, StoreUnavailable):
            pass  # the next run that opens the store marks this one abandoned
        return where

    def _keep(self) -> str:
        if not self.unwritten:
            return "every finished record is stored"
        kept, n = unsaved.path_of(self.path), len(self.unwritten)
        try:
            unsaved.keep(self.path, self.unwritten)
        except OSError as exc:
            return f"{n} finished record(s) could not be kept ({exc.strerror}): their cells will run again"
        self.unwritten.clear()
        return f"{n} finished record(s) are kept in {kept} (the next run on this store moves them in)"

    def stopped(self, exc: StoreUnavailable, summary: dict[str, Any]) -> HarnessError:
        """After the store could not be written: close the run as ``stopped``; the error to end with."""
        where = self.close("stopped", {**summary, "reason": str(exc)}, patient=False)
        return HarnessError(f"{exc}; the run stopped and {where}; run the same command again to finish the rest")
