"""A store is data, whoever wrote it: the verbs that read one (report, decide, export, a resumed run)
import, resolve and build nothing it names, write only under their --out whatever the names in it,
and render no name as markup — tried on real stores through the real console script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_cell
from optbench.harness.store import Store

from .test_cli_usage import optbench_command, run_script

PAYLOAD = """import pathlib
pathlib.Path({marker!r}).write_text("imported")
def make(**options):
    pathlib.Path({marker!r}).write_text("called")
"""
LONG = "x" * 5000
HOSTILE = ("..", "../../up/$\\frac{1$", "a/b/c", "a_b_c", LONG, "[click me](javascript:alert%281%29)",
           "<script>alert(1)</script> **b** `c` | pipe\nnew line")


def _real_records():
    """Real records of four small cells (a synthetic objective and BBOB, random search and DIRECT)."""
    return [run_cell(Cell(objective, optimizer, Budget(20), seed, options))
            for objective, options in (("sphere", {"dim": 2}), ("bbob", {"function": 1, "dim": 2, "instance": 1}))
            for optimizer in ("random", "scipy.direct") for seed in (0, 1)]


@pytest.fixture(scope="module")
def records():
    return _real_records()


def _store(path: Path, records) -> Path:
    with Store.open(path) as store:
        run_id = store.begin_run("test", len(records), {})
        for record in records:
            store.put(record, run_id)
        store.end_run(run_id, "finished", {})
    return path


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_a_store_naming_a_payload_file_runs_nothing_in_any_verb(tmp_path, records):
    marker = tmp_path / "MARKER"
    payload = tmp_path / "payload.py"
    payload.write_text(PAYLOAD.format(marker=str(marker)))
    target = f"{payload}:make"
    crafted = [replace(r, objective=target, family="", option_defaults=None) for r in records]
    store = _store(tmp_path / "s.sqlite", [*records, *crafted])
    verbs = [["report", "--out", "rep"], ["decide", "--out", "dec"], ["export", "--out", "e.csv"],
             ["export", "--out", "coco", "--format", "coco"],
             ["run", "--objective", "sphere", "--option", "dim=2", "--optimizer", "random", "--budget", "20",
              "--seeds", "2", "--quiet"]]
    for verb in verbs:
        done = run_script([*verb, "--store", str(store)], tmp_path)
        assert done.returncode == 0, (verb, done.stderr)
        assert not marker.exists(), verb
    csv = (tmp_path / "e.csv").read_text()
    assert csv.count(target) == len(crafted)  # the rows are there, as data


def test_report_reads_only_the_store_it_imports_no_torch(tmp_path, records):
    store = _store(tmp_path / "s.sqlite", records)
    code = ("import sys\nfrom optbench.harness.cli import main\n"
            f"try:\n    main(['report', '--store', {str(store)!r}, '--out', {str(tmp_path / 'rep')!r}])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in ('torch', 'ioh', 'cocoex', 'optbench.objectives') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "rep" / "index.html").exists()


def _hostile(records):
    """Every record under every hostile objective name (its class too) and every hostile optimizer name."""
    out = list(records)
    for name in HOSTILE:
        out += [replace(r, objective=name, family=name) for r in records if r.objective == "sphere"]
        out += [replace(r, optimizer=name) for r in records if r.optimizer == "scipy.direct"]
    return out


def test_a_hostile_name_store_writes_only_under_out_and_renders_no_name_as_markup(tmp_path, records):
    work = tmp_path / "work"
    (work / "deep").mkdir(parents=True)
    store = _store(work / "s.sqlite", _hostile(records))
    before = _files(tmp_path)
    outs = {"report": work / "deep" / "rep", "decide": work / "deep" / "dec", "coco": work / "deep" / "coco"}
    for verb in (["report", "--n-boot", "100", "--out", str(outs["report"])],
                 ["decide", "--rule", "n_boot=100", "--out", str(outs["decide"])],
                 ["export", "--format", "coco", "--out", str(outs["coco"])]):
        done = subprocess.run([*optbench_command(), *verb, "--store", str(store)], cwd=work, capture_output=True,
                              text=True, timeout=900)  # a report of ten objectives' figures: minutes on a busy machine
        assert done.returncode == 0 and "Traceback" not in done.stderr, (verb, done.stderr[-2000:])
    new = _files(tmp_path) - before
    outside = [p for p in new if not any(p.is_relative_to(out) for out in outs.values())]
    assert new and outside == [], outside
    assert all(len(p.name) < 255 for p in new)

    # names that read alike after slugging get figures of their own: one convergence plot per objective label
    plots = {p.name for p in (outs["report"] / "plots").glob("convergence_*.png")}
    assert len(plots) == len(HOSTILE) + 2  # the hostile names, sphere(dim=2)… and bbob
    # every COCO algorithm (optimizer) gets its own folder inside --out, "..", "a/b/c" and "a_b_c" included
    assert len([p for p in outs["coco"].iterdir() if p.is_dir()]) == len(HOSTILE) + 2

    page = (outs["report"] / "index.html").read_text()
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", page, re.I)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for md in (outs["report"] / "report.md", outs["decide"] / "DECISION.md"):
        text = md.read_text()
        assert not re.search(r"(?<!\\)\]\(javascript:|(?<!\\)<script", text), md  # only escaped forms
        assert "\\[click me\\](javascript:alert%281%29)" in text or md.name == "DECISION.md"
        assert not any(line.startswith("new line") for line in text.splitlines()), md  # no name breaks a line
    decision = json.loads((outs["decide"] / "decision.json").read_text())
    assert set(HOSTILE) <= set(decision["classes"])  # names stay themselves in the data


DASK_SOCKETS = """import os, psutil
from optbench.harness.execution.executors import dask_executor
if __name__ == "__main__":
    with dask_executor(2, "local") as executor:
        executor.submit(os.getpid).result()
        processes = [psutil.Process(), *psutil.Process().children(recursive=True)]
        print(sorted({c.laddr.ip for p in processes for c in p.net_connections(kind="inet")
                      if c.status == psutil.CONN_LISTEN}))
"""


def test_a_local_dask_cluster_listens_on_127_0_0_1_only(tmp_path):
    pytest.importorskip("distributed")
    script = tmp_path / "sockets.py"
    script.write_text(DASK_SOCKETS)  # a file: Dask's nannies start their workers by importing __main__
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "['127.0.0.1']"  # scheduler, nannies, workers, dashboard
