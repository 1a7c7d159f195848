"""Odd ``--store`` paths (a FIFO, a dangling link into a missing folder, a folder, a character device,
a FIFO as the store's companion file, a name too long): every verb that takes ``--store`` refuses them
with one ``error:`` line and exit 2, opens nothing and leaves nothing behind (no ``/dev/full-journal``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli_usage import run_script
from .test_faults import _DRIVER
from .test_store import _make_store

VERBS = [
    ["run", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--quiet"],
    ["report", "--out", "{tmp}/report"],
    ["decide", "--out", "{tmp}/decision"],
    ["export", "--out", "{tmp}/records.csv"],
    ["study", "--trials", "2", "--out", "{tmp}"],
    ["demo", "--out", "{tmp}/demo", "--quiet"],
    ["advise", "--objective", "sphere", "--minutes", "0.1", "--out", "{tmp}/advise"],
]
KINDS = {  # what the store is, and the words the refusal names it with
    "fifo": ("a FIFO", "is a FIFO"),
    "dangling": ("a link into a missing folder", "which does not exist"),
    "folder": ("a folder", "is a folder"),
    "/dev/full": ("a character device", "is a character device"),
    "beside": ("a store whose -wal file is a FIFO", "store companion"),
    "x" * 300: ("a name too long", "File name too long"),
}


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder``: a regular file's bytes, else what it is (a FIFO is never opened)."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() and not p.is_symlink() else
            f"link to {os.readlink(p)}" if p.is_symlink() else "folder" if p.is_dir() else "other"
            for p in sorted(folder.rglob("*"))}


def _odd_paths(tmp: Path) -> None:
    os.mkfifo(tmp / "fifo")
    (tmp / "dangling").symlink_to(tmp / "missing" / "s.sqlite")
    (tmp / "folder").mkdir()
    _make_store(tmp / "beside")
    os.mkfifo(tmp / "beside-wal")


def test_every_verb_refuses_every_odd_store_path_in_one_line_and_touches_nothing(tmp_path):
    _odd_paths(tmp_path)
    before, journal_before = _snapshot(tmp_path), Path("/dev/full-journal").exists()
    cases = [[*(a.format(tmp=tmp_path) for a in verb), "--store", store] for store in KINDS for verb in VERBS]
    done = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(cases)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)  # a FIFO opened by mistake would block: the timeout fails it
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(cases), done.stderr
    for args, (code, err) in zip(cases, results):
        words = KINDS[args[-1]][1]
        assert code == 2 and err.startswith("error: ") and words in err, (args, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, (args, err)
    assert _snapshot(tmp_path) == before
    assert Path("/dev/full-journal").exists() == journal_before and not (tmp_path / "missing").exists()


@pytest.mark.parametrize("verb, store", [(VERBS[0], "/dev/full"), (VERBS[1], "fifo"), (VERBS[0], "dangling")])
def test_the_console_script_refuses_an_odd_store_with_exit_2(tmp_path, verb, store):
    _odd_paths(tmp_path)
    done = run_script([*(a.format(tmp=tmp_path) for a in verb), "--store", store], cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and KINDS[store][1] in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "missing").exists()
