"""A run's timeline as a Chrome-trace JSON (``traceEvents`` of ``ph: "X"`` duration events, µs):
what Perfetto, ``chrome://tracing`` and speedscope open.

Built from a traced run's :class:`~optbench.harness.core.probe.EvalProbe`, on the run's clock
(``perf_counter``; 0 = the instrument's start). Track "run" (pid 1, tid 1) nests:

- ``run``: the whole measured run;
  - ``OPTIMIZER step``: every gap the instrument sees between evaluations (the optimizer's own
    work: ask/tell, a generation, a library's loop), with its named phases nested inside;
  - ``evaluation``: one per scalar evaluation, holding ``compute`` and ``.item()`` (on a sampled
    CUDA evaluation, ``.item()`` holds ``wait for device`` and ``copy``);
  - ``batch of K``: one batch evaluation, holding ``compute_batch`` and ``to host``;
  - ``external K``: evaluations an optimizer computed outside the objective.

A phase that spans evaluations goes to its own track "phases" (tid 2), where it cannot break the
nesting. torch.profiler's events, where merged, are shifted onto the same clock (pid 2: CPU ops,
pid 3: CUDA kernels and copies).
"""

from __future__ import annotations

import bisect
import json
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from optbench.harness.core.instrument import Instrument
from optbench.harness.core.probe import EvalProbe

RUN_PID, TORCH_CPU_PID, TORCH_CUDA_PID = 1, 2, 3
MAIN_TID, PHASES_TID = 1, 2
TORCH_MARK = "optbench.measured_run"
_CUDA_CATEGORIES = ("kernel", "gpu_memcpy", "gpu_memset", "gpu_user_annotation")
T = TypeVar("T")


@dataclass
class TraceBuilder:
    """Collects ``X`` events in µs relative to ``origin`` (perf_counter seconds)."""

    origin: float
    events: list[dict[str, Any]] = field(default_factory=list)

    def us(self, t: float) -> float:
        return round((t - self.origin) * 1e6, 3)

    def add(self, name: str, t0: float, t1: float, cat: str, tid: int = MAIN_TID, **args: Any) -> None:
        ts = self.us(t0)
        event = {"name": name, "cat": cat, "ph": "X", "ts": ts, "dur": round(self.us(t1) - ts, 3),
                 "pid": RUN_PID, "tid": tid}
        if args:
            event["args"] = args
        self.events.append(event)


def _metadata(title: str) -> list[dict[str, Any]]:
    meta = lambda kind, pid, tid, name: {"name": kind, "ph": "M", "pid": pid, "tid": tid,  # noqa: E731
                                         "args": {"name": name}}
    return [meta("process_name", RUN_PID, 0, title), meta("thread_name", RUN_PID, MAIN_TID, "run"),
            meta("thread_name", RUN_PID, PHASES_TID, "phases"),
            meta("process_name", TORCH_CPU_PID, 0, "torch.profiler: CPU"),
            meta("process_name", TORCH_CUDA_PID, 0, "torch.profiler: CUDA")]


def run_events(probe: EvalProbe, t_start: float, wall_s: float, optimizer: str) -> list[dict[str, Any]]:
    """The run's ``X`` events (see the module docstring), ts in µs from ``t_start``."""
    b = TraceBuilder(t_start)
    t_end = t_start + wall_s
    b.add("run", t_start, t_end, "run", optimizer=optimizer)
    waits = dict(probe.waits)  # compute end -> device done, on the sampled CUDA evaluations
    spans: list[tuple[float, float]] = []

    def add_wait_and_copy(t1: float, t2: float) -> None:  # a sampled CUDA transfer: waiting, then the copy
        if t1 in waits:
            b.add("wait for device", t1, waits[t1], "item")
            b.add("copy", waits[t1], t2, "item")

    for i, (t0, t1, t2) in enumerate(probe.evals, 1):
        b.add("evaluation", t0, t2, "evaluation", n=i)
        b.add("compute", t0, t1, "compute")
        b.add(".item()", t1, t2, "item")
        add_wait_and_copy(t1, t2)
        spans.append((t0, t2))
    for t0, t1, t2, k in probe.batches:
        b.add(f"batch of {k}", t0, t2, "evaluation", k=k)
        b.add("compute_batch", t0, t1, "compute")
        b.add("to host", t1, t2, "item")
        add_wait_and_copy(t1, t2)
        spans.append((t0, t2))
    for t0, t1, k in probe.externals:
        b.add(f"external {k}", t0, t1, "evaluation", k=k)
        spans.append((t0, t1))
    spans.sort()
    starts = [s for s, _ in spans]
    previous, done = t_start, 0
    for s, e in [*spans, (t_end, t_end)]:
        if s > previous:
            b.add(f"{optimizer} step", previous, s, "optimizer", after_evaluation_calls=done)
        previous, done = max(previous, e), done + 1
    for name, t0, t1 in probe.phases:  # nested in its gap unless an evaluation starts inside it
        inside = bisect.bisect_left(starts, t1) > bisect.bisect_left(starts, t0)
        b.add(name, t0, t1, "phase", tid=PHASES_TID if inside else MAIN_TID)
    return b.events


def chrome_trace(instrument: Instrument, wall_s: float, optimizer: str, title: str,
                 torch_events: list[dict[str, Any]] | None = None, **other: Any) -> dict[str, Any]:
    """The Chrome-trace document of a traced run (``other``: figures kept under ``otherData``)."""
    if instrument.probe is None or not instrument.probe.trace:
        raise ValueError("the run was not traced (Instrument(..., trace=True))")
    events = _metadata(title) + run_events(instrument.probe, instrument.t_start, wall_s, optimizer)
    return {"traceEvents": events + (torch_events or []), "displayTimeUnit": "ms",
            "otherData": {"clock": "time.perf_counter, µs from the run's start", **other}}


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None  # NaN is not JSON: viewers refuse the file


def write(document: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(document, separators=(",", ":"), allow_nan=False))


def with_torch_profiler(run: Callable[[], T]) -> tuple[T, float, list[dict[str, Any]]]:
    """Run ``run()`` under torch.profiler (CPU, and CUDA where available). Returns its result, the
    perf_counter time at which a marker range began, and torch's events with ts in µs relative to
    that marker (add the marker's time on the run's clock to place them)."""
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        mark = time.perf_counter()
        with record_function(TORCH_MARK):
            result = run()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "torch.json"
        prof.export_chrome_trace(str(path))
        raw = json.loads(path.read_text())
    raw_events = raw["traceEvents"] if isinstance(raw, dict) else raw
    timed = [e for e in raw_events if e.get("ph") == "X" and "ts" in e]
    marker = next(e for e in timed if e.get("name") == TORCH_MARK)
    zero = float(marker["ts"])
    events = []
    for e in timed:
        cuda = str(e.get("cat", "")) in _CUDA_CATEGORIES
        events.append({**e, "ts": float(e["ts"]) - zero, "pid": TORCH_CUDA_PID if cuda else TORCH_CPU_PID,
                       "tid": str(e.get("tid", 0))})
    return result, mark, events


def place(events: list[dict[str, Any]], mark: float, t_start: float) -> list[dict[str, Any]]:
    """torch events relative to a marker at perf_counter ``mark`` -> µs from the run's start."""
    shift = (mark - t_start) * 1e6
    return [{**e, "ts": round(e["ts"] + shift, 3)} for e in events]


def trace_cell(cell, objective, path: Path, *, torch_profiler: bool = False):
    """One traced run of ``cell`` on the prebuilt ``objective``; writes its timeline to ``path`` and
    returns the run's record (its split is the trace's own: tracing adds ~1 µs per evaluation)."""
    from optbench.harness.core.runner import run_instrumented

    run = lambda: run_instrumented(cell, with_reference=False, objective=objective, trace=True)  # noqa: E731
    if torch_profiler:
        (record, instrument), mark, raw = with_torch_profiler(run)
        torch_events = place(raw, mark, instrument.t_start)
    else:
        (record, instrument), torch_events = run(), []
    title = f"optbench: {cell.optimizer} on {cell.objective}"
    figures = {k: _finite_or_none(getattr(record, k)) for k in ("n_evals", "wall_s", "compute_s", "item_s", "overhead_s",
                                               "device_s", "item_wait_s", "item_copy_s")}
    write(chrome_trace(instrument, record.wall_s, cell.optimizer, title, torch_events,
                       torch_profiler=torch_profiler, record=figures), path)
    return record
