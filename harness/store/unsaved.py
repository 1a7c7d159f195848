"""Finished records a run could not write to its store (another process held it too long, the disk
was full), kept beside it in ``STORE.unsaved`` — one JSON line each — so that no finished record is
lost: readers of the store read them as part of it, and the next run that opens the store for
writing moves them in (see ``Store.open``). The lines are data: parsed as JSON, nothing else.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from optbench.harness.core.record import RunRecord

SUFFIX = ".unsaved"


@dataclass(frozen=True)
class Entry:
    """One record as the store holds it: the record, the run that stored it and when it finished."""

    record: RunRecord
    run_id: int | None
    finished_at: str | None


def path_of(store: Path | str) -> Path:
    """Where the records ``store`` could not take are kept."""
    return Path(f"{store}{SUFFIX}")


def keep(store: Path | str, entries: list[Entry]) -> None:
    """Append ``entries`` to the store's unsaved file and flush it to disk (raises ``OSError``)."""
    from optbench.harness.store import to_json

    text = "".join(to_json({"record": e.record.to_dict(), "run_id": e.run_id, "finished_at": e.finished_at}) + "\n"
                   for e in entries)
    fd = os.open(path_of(store), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read(store: Path | str) -> tuple[list[Entry], list[str]]:
    """The entries kept beside ``store`` (none if there is no file) and the lines that could not be
    read as one (a line cut short when the process writing it was killed)."""
    try:
        lines = path_of(store).read_bytes().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return [], []
    entries, unreadable = [], []
    for line in lines:
        try:
            entries.append(_entry(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError):
            unreadable.append(line)
    return entries, unreadable


def _entry(data: dict) -> Entry:
    run_id, finished_at = data["run_id"], data["finished_at"]
    if not (run_id is None or isinstance(run_id, int)) or not (finished_at is None or isinstance(finished_at, str)):
        raise TypeError("run_id or finished_at of the wrong type")
    return Entry(RunRecord.from_dict(data["record"]), run_id, finished_at)


def set_aside(store: Path | str, lines: list[str]) -> Path:
    """Append ``lines`` (unreadable ones) to ``STORE.unsaved-unreadable``; returns that path."""
    aside = Path(f"{path_of(store)}-unreadable")
    with aside.open("a") as f:
        f.writelines(f"{line}\n" for line in lines)
    return aside
