"""Profile one cell: cProfile (``NAME.prof`` + a breakdown by group) and py-spy (``NAME.svg``
flamegraph, ``NAME.speedscope.json``) recorded on a child process running the same cell.

The cProfile'd run is the cell's own ``run_cell``, so its ``RunRecord`` (the instrument's
``compute_s``/``item_s``/``overhead_s``) is shown beside the profile's groups, together with the
record of one plain (unprofiled) run that shows what cProfile's own overhead adds. Objective
construction, imports, the reference and a short run of the cell happen in a warm-up before any of
them, so neither the ``.prof`` nor the flamegraph contains them (the objective is built once before the
measured runs, and its construction time is reported apart): py-spy is attached (``--pid``) to a
child that has warmed up and waits; the child runs only once py-spy samples, repeats the cell until
``PY_SPY_MIN_S`` of run time (enough samples to read), and exits at once after the last run.

Child entry point: ``python -m optbench.harness.profiling.cell --child CELL_JSON MIN_S``.
"""

from __future__ import annotations

import cProfile
import csv
import dataclasses
import gc
import html
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.construction import build, reference_value
from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.core.runner import run_cell, validate, warm_up
from optbench.harness.paths import file_stem
from optbench.harness.profiling.breakdown import GROUPS, Breakdown, breakdown
from optbench.harness.profiling.syncs import SyncCount, count_syncs
from optbench.harness.profiling.trace import trace_cell

PY_SPY_RATE = 100  # py-spy's default; it pauses the child per sample, and 1000/s slowed runs ~40x here
PY_SPY_MIN_S = 2.0  # the child repeats a short cell until this much run time: ~200 samples at 100/s
PY_SPY_SAMPLING = "Sampling process"  # what py-spy prints once it is attached and sampling
CHILD_READY = "optbench-child-ready"
WARM_UP_EVALS = 10
PY_SPY_FORMATS = (("svg", "flamegraph", ".svg"), ("speedscope", "speedscope", ".speedscope.json"))
GROUP_TITLES = {"objective": "objective math", "item": ".item()/sync", "optimizer": "optimizer",
                "harness": "harness", "other": "other"}


@dataclass(frozen=True)
class ProfileResult:
    """Everything one profiled cell produced; ``files`` maps kind -> file name in the out folder."""

    name: str
    cell: dict
    record: RunRecord
    breakdown: Breakdown
    unprofiled: RunRecord | None = None
    files: dict[str, str] = field(default_factory=dict)
    py_spy_message: str = ""
    py_spy_runs: int = 0
    py_spy_samples: tuple[int, int] = (0, 0)  # (inside the measured runs, all): see samples_in_run
    construction_s: float = 0.0  # building the objective (data, tensors, a plug-in's cache), before any run
    syncs: SyncCount | None = None
    traced: RunRecord | None = None  # the run the timeline shows

    def to_dict(self) -> dict:
        return {"name": self.name, "cell": self.cell, "record": self.record.to_dict(),
                "breakdown": self.breakdown.to_dict(),
                "unprofiled": self.unprofiled.to_dict() if self.unprofiled else None,
                "construction_s": self.construction_s, "syncs": self.syncs.to_dict() if self.syncs else None,
                "traced": self.traced.to_dict() if self.traced else None,
                "files": self.files, "py_spy_message": self.py_spy_message, "py_spy_runs": self.py_spy_runs,
                "py_spy_samples": list(self.py_spy_samples)}


def cell_to_dict(cell: Cell) -> dict:
    return dataclasses.asdict(cell)


def cell_from_dict(data: dict) -> Cell:
    return Cell(**{**data, "budget": Budget(**data["budget"])})


def profile_name(cell: Cell) -> str:
    """A file-name-safe name: objective and options, optimizer and options, budget, seed."""
    def part(name: str, options: dict) -> str:
        return "-".join([name, *(f"{k}={v}" for k, v in sorted(options.items()))])

    budget = "-".join(filter(None, [f"{cell.budget.max_evals}ev" if cell.budget.max_evals else "",
                                    f"{cell.budget.max_seconds:g}s" if cell.budget.max_seconds else ""]))
    name = f"{part(cell.objective, cell.options)}__{part(cell.optimizer, cell.optimizer_options)}__{budget}_seed{cell.seed}"
    return file_stem(name)


def run_cprofile(cell: Cell, prof_path: Path, top_n: int = 15,
                 objective: objectives.Objective | None = None) -> tuple[RunRecord, Breakdown]:
    """Run the cell under cProfile on ``objective`` (built here if not given, before the profile),
    write ``prof_path`` and group its time."""
    objective = objective or build(cell.objective, cell.options)[0]
    warm_up(cell, WARM_UP_EVALS, objective)
    profiler = cProfile.Profile()
    record = profiler.runcall(run_cell, cell, with_reference=False, objective=objective, recheck=False)
    profiler.dump_stats(prof_path)
    record = dataclasses.replace(record, reference_value=reference_value(cell.objective, cell.options, objective))
    adapter = optimizers.adapter_class(cell.optimizer)
    kind = type(objective)
    return record, breakdown(pstats.Stats(str(prof_path)), adapter.library, [kind.compute, kind.compute_batch], top_n,
                             objective=objective, adapter=adapter)


def py_spy_path() -> str | None:
    """The py-spy executable, or None where it is not installed."""
    return shutil.which("py-spy")


def _py_spy_failure(returncode: int | None, output: str) -> str:
    tail = " ".join(output.strip().splitlines()[-3:])
    message = f"py-spy failed (exit {returncode}): {tail or 'no output'}"
    if re.search(r"ermission|ptrace|not permitted", tail):
        message += (" — py-spy needs ptrace: run as root, or grant CAP_SYS_PTRACE (docker run --cap-add "
                    "SYS_PTRACE), or set kernel.yama.ptrace_scope=0")
    return message


def _wait_for(path: Path, text: str, proc: subprocess.Popen, timeout_s: float) -> bool:
    """Poll ``path`` until it contains ``text``; False if ``proc`` exits or time runs out first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


def _record_attached(exe: str, cell: Cell, output: Path, fmt: str, rate: int, native: bool, min_s: float,
                     tmp: Path) -> tuple[int, str]:
    """Start a child that warms up and waits; attach ``py-spy record --pid`` to it; once py-spy
    samples, tell the child to run; py-spy stops when the child exits right after its runs.
    Returns (runs of the cell, a message: "" if all went well)."""
    child_err, spy_log = tmp / "child.err", tmp / "spy.log"
    child_failed = lambda: f"the profiled child failed: {child_err.read_text()[-300:].strip() or 'no output'}"  # noqa: E731
    procs: list[subprocess.Popen] = []
    try:
        with child_err.open("w") as err:
            child = subprocess.Popen([sys.executable, "-m", "optbench.harness.profiling.cell", "--child",
                                      json.dumps(cell_to_dict(cell)), str(min_s)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
        procs.append(child)
        assert child.stdin is not None and child.stdout is not None
        if child.stdout.readline().strip() != CHILD_READY:  # imports, warm-up and reference are done
            return 0, child_failed()
        with spy_log.open("w") as log:
            spy = subprocess.Popen([exe, "record", "--pid", str(child.pid), "--format", fmt, "--rate", str(rate),
                                    "--output", str(output), *(["--native"] if native else [])],
                                   stdout=log, stderr=subprocess.STDOUT, text=True)
        procs.append(spy)
        attached = _wait_for(spy_log, PY_SPY_SAMPLING, spy, timeout_s=60)
        child.stdin.write("go\n" if attached else "stop\n")
        child.stdin.flush()
        status = child.stdout.readline()
        child.wait(timeout=60)
        spy.wait(timeout=60)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    if not attached or spy.returncode != 0 or not output.exists():
        return 0, _py_spy_failure(spy.returncode, spy_log.read_text(errors="replace"))
    if not status.strip():
        return 0, child_failed()
    return json.loads(status)["runs"], ""


def run_py_spy(cell: Cell, out_dir: Path, name: str, native: bool = False, rate: int = PY_SPY_RATE,
               min_s: float = PY_SPY_MIN_S) -> tuple[dict[str, str], int, str]:
    """Record a flamegraph SVG and a speedscope file of the measured runs only: each format from
    its own child, sampled from after its warm-up until it exits (the cell at least once, repeated
    up to ``min_s`` of run time). Returns (kind -> file name, runs of the cell per child, a message:
    "" if all went well)."""
    exe = py_spy_path()
    if exe is None:
        return {}, 0, "py-spy is not installed or not on PATH (pip install py-spy): no flamegraph/speedscope"
    files: dict[str, str] = {}
    runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind, fmt, suffix in PY_SPY_FORMATS:
            output = out_dir / f"{name}{suffix}"
            output.unlink(missing_ok=True)
            runs, message = _record_attached(exe, cell, output, fmt, rate, native, min_s, Path(tmp))
            if message:
                return files, runs, message
            files[kind] = output.name
    return files, runs, ""


def samples_in_run(speedscope_path: Path, frame: str = "measured_runs") -> tuple[int, int]:
    """(samples whose stack passes through ``frame``, all samples) of a py-spy speedscope file:
    how much of the flamegraph is the measured run."""
    data = json.loads(Path(speedscope_path).read_text())
    hits = {i for i, f in enumerate(data["shared"]["frames"]) if f["name"] == frame}
    stacks = [stack for prof in data["profiles"] for stack in prof["samples"]]
    return sum(1 for stack in stacks if hits.intersection(stack)), len(stacks)


def profile_cell(cell: Cell, out_dir: Path, *, native: bool = False, py_spy: bool = True,
                 rate: int = PY_SPY_RATE, top_n: int = 15, trace: bool = False,
                 torch_profiler: bool = False) -> ProfileResult:
    """Profile ``cell`` with cProfile and (where available) py-spy, count its syncs per evaluation,
    and with ``trace`` write its timeline (``torch_profiler``: with torch's activity merged);
    writes NAME.* into ``out_dir``."""
    validate(cell)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = profile_name(cell)
    objective, construction_s = build(cell.objective, cell.options)
    record, groups = run_cprofile(cell, out_dir / f"{name}.prof", top_n, objective)  # warms up first
    unprofiled = run_cell(cell, with_reference=False, objective=objective)
    syncs = count_syncs(objective)
    files, runs, message, samples = {"prof": f"{name}.prof"}, 0, "py-spy skipped", (0, 0)
    traced = None
    if trace:
        files["trace"] = f"{name}.trace.json"
        traced = trace_cell(cell, objective, out_dir / files["trace"], torch_profiler=torch_profiler)
    if py_spy:
        spy_files, runs, message = run_py_spy(cell, out_dir, name, native, rate)
        files.update(spy_files)
        if "speedscope" in spy_files:
            samples = samples_in_run(out_dir / spy_files["speedscope"])
    files["json"] = f"{name}.profile.json"
    result = ProfileResult(name, cell_to_dict(cell), record, groups, unprofiled, files, message, runs, samples,
                           construction_s, syncs, traced)
    (out_dir / files["json"]).write_text(json.dumps(result.to_dict(), indent=1, default=str))
    return result


def comparison_rows(result: ProfileResult) -> list[list[str]]:
    """The breakdown beside the instrument's split of the profiled run and of the plain run:
    a header row, then one row per group, the instrument's overhead and the total."""
    b, runs = result.breakdown, (result.record, result.unprofiled)
    rest = sum(b.groups[g] for g in ("optimizer", "harness", "other"))

    def row(title: str, seconds: float, field_name: str = "") -> list[str]:
        cells = [title, f"{seconds:.4f}", f"{100 * seconds / (b.total_s or 1.0):.1f}", field_name]
        return cells + [f"{getattr(r, field_name):.4f}" if field_name and r else "" for r in runs]

    instrument_field = {"objective": "compute_s", "item": "item_s"}
    rows = [["group", "cProfile s", "%", "instrument", "profiled", "plain"]]
    rows += [row(GROUP_TITLES[g], b.groups[g], instrument_field.get(g, "")) for g in GROUPS]
    rows.append(row("optimizer+harness+other", rest, "overhead_s"))
    rows.append(row("total", b.total_s, "wall_s"))
    return rows


def calls_summary(result: ProfileResult) -> str:
    """Calls and time per call of the objective's evaluation function and of ``.item()``."""
    b, n = result.breakdown, result.record.n_evals
    per = lambda s, k: f"{1e3 * s / k:.4f} ms" if k else "-"  # noqa: E731
    return (f"{n} evaluations; {b.eval_function}: {b.eval_calls} calls × {per(b.eval_cum_s, b.eval_calls)} "
            f"(cumulative); .item(): {b.item_calls} calls × {per(b.item_s, b.item_calls)}")


def run_summary(result: ProfileResult) -> str:
    """The objective's construction time (outside every run) and its syncs per evaluation."""
    syncs = f"; {result.syncs.per_eval:g} sync(s) per evaluation" if result.syncs else ""
    return f"objective built in {result.construction_s:.4f} s before the measured runs (not in them){syncs}"


def write_csv(results: list[ProfileResult], path: Path) -> None:
    """One row per profiled cell: groups, both instrument splits, calls, files."""
    splits = ("wall_s", "compute_s", "item_s", "overhead_s")
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "objective", "options", "optimizer", "optimizer_options", "status", "n_evals",
                         "value", "profile_total_s", *(f"{g}_s" for g in GROUPS), *(f"record_{s}" for s in splits),
                         *(f"unprofiled_{s}" for s in splits), "eval_calls", "eval_cum_s", "item_calls",
                         "item_own_s", "prof", "svg", "speedscope", "py_spy_message"])
        for r in results:
            b, rec, un = r.breakdown, r.record, r.unprofiled
            writer.writerow([r.name, rec.objective, json.dumps(rec.options), rec.optimizer,
                             json.dumps(rec.optimizer_options, default=str), rec.status, rec.n_evals, rec.value,
                             b.total_s, *(b.groups[g] for g in GROUPS), *(getattr(rec, s) for s in splits),
                             *((getattr(un, s) for s in splits) if un else [""] * len(splits)),
                             b.eval_calls, b.eval_cum_s, b.item_calls, b.item_s,
                             *(r.files.get(k, "") for k in ("prof", "svg", "speedscope")), r.py_spy_message])


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f"<table><tr>{head}</tr>{body}</table>"


def write_index(results: list[ProfileResult], path: Path) -> None:
    """``index.html``: per cell, links to its files, the breakdown table and the top functions."""
    parts = ["<!doctype html><meta charset='utf-8'><title>optbench profiles</title><style>"
             "body{font-family:sans-serif}table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}"
             "</style><h1>optbench profiles</h1><p>How to read these: profiles/README.md in the optbench checkout.</p><ul>"]
    parts += [f"<li><a href='#{html.escape(r.name)}'>{html.escape(r.record.optimizer)}</a> "
              f"({html.escape(r.record.status)}, {r.record.n_evals} evals)</li>" for r in results]
    parts.append("</ul>")
    for r in results:
        links = " · ".join(f"<a href='{html.escape(f)}'>{html.escape(f)}</a>" for f in r.files.values())
        top = [["own s", "calls", "cum s", "group", "function"]]
        top += [[f"{h.own_s:.4f}", str(h.calls), f"{h.cum_s:.4f}", h.group, h.label] for h in r.breakdown.top]
        parts.append(f"<h2 id='{html.escape(r.name)}'>{html.escape(r.name)}</h2><p>{links}</p>"
                     f"<p>{html.escape(r.record.status)}: {html.escape(r.record.message)}. value {r.record.value}</p>"
                     + (f"<p><b>{html.escape(r.py_spy_message)}</b></p>" if r.py_spy_message else "")
                     + f"<p>{html.escape(run_summary(r))}</p>"
                     + (f"<p><b>{html.escape(r.syncs.warning())}</b></p>" if r.syncs and r.syncs.warning() else "")
                     + f"{_html_table(comparison_rows(r))}<p>{html.escape(calls_summary(r))}</p>"
                     f"<details><summary>top functions by own time</summary>{_html_table(top)}</details>")
    path.write_text("\n".join(parts))


def measured_runs(cell: Cell, min_s: float, objective: objectives.Objective) -> int:
    """Run ``cell`` at least once and until ``min_s`` of run time: what the flamegraph shows."""
    runs, spent = 0, 0.0
    while runs == 0 or spent < min_s:
        runs, spent = runs + 1, spent + run_cell(cell, with_reference=False, objective=objective).wall_s
    return runs


def child_main(argv: list[str]) -> None:
    """The py-spy child: warm up, print ``CHILD_READY``, wait for "go" on stdin (py-spy is attached
    by then), run the cell, print ``{"runs": N}`` and exit at once (no interpreter teardown in the
    samples). ``argv``: CELL_JSON MIN_S."""
    protocol = os.fdopen(os.dup(1), "w")  # stdout is the protocol; what libraries print goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    cell, min_s = cell_from_dict(json.loads(argv[0])), float(argv[1])
    objective = build(cell.objective, cell.options)[0]
    warm_up(cell, WARM_UP_EVALS, objective)
    gc.collect()  # the warm-up's garbage is collected before sampling, not during the run
    print(CHILD_READY, file=protocol, flush=True)
    if sys.stdin.readline().strip() != "go":
        os._exit(1)
    runs = measured_runs(cell, min_s, objective)
    print(json.dumps({"runs": runs}), file=protocol, flush=True)
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "--child":
        sys.exit("usage: python -m optbench.harness.profiling.cell --child CELL_JSON MIN_S")
    child_main(sys.argv[2:])
