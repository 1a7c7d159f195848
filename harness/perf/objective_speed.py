"""MaxDiff ``ar200`` on the CPU: one scalar evaluation against a 1024-candidate batch, the batch
both eager (the reference path, unchanged from before the fused kernel) and fused by
``torch.compile`` (target: batch ≤ 20× one scalar evaluation at n = 200, float64).

All in one process on one torch thread, best of 5 timings each in this thread's CPU time (on a
shared machine wall time swings several-fold; with one torch thread every kernel, eager or
compiled, runs in this thread). Compile time (wall time) is reported apart:
the first compiled call of each dtype minus one steady call (dynamo tracing and inductor's C++
build; inductor's on-disk cache makes later processes faster than the first one on a machine).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from optbench.harness.core.timing import per_call_s
from optbench.objectives import maxdiff_compiled
from optbench.objectives.maxdiff import MaxDiffObjective

SIZES = (200, 10_000)
DTYPES = ("float64", "float32")
BATCH = 1024


def _batch_s(obj: MaxDiffObjective, xs: np.ndarray, compiled: bool) -> float:
    previous = maxdiff_compiled.set_enabled(compiled)
    try:
        return per_call_s(lambda: obj.batch(xs), calls=max(3, 2_000_000 // (len(obj.days) * len(xs)) + 3), warmup=2,
                          clock=time.thread_time)
    finally:
        maxdiff_compiled.set_enabled(previous)


def _compile_s(obj: MaxDiffObjective, xs: np.ndarray) -> float | None:
    """Seconds the first compiled call of this objective's kernel took beyond a steady call (0 when
    this process compiled it already); None where compiling failed."""
    key = maxdiff_compiled.compile_key(obj.tensors, obj.close_at_eod)
    if key in maxdiff_compiled.first_call_s:
        return 0.0
    previous = maxdiff_compiled.set_enabled(True)
    try:
        obj.batch(xs)
    finally:
        maxdiff_compiled.set_enabled(previous)
    return None if maxdiff_compiled.failure else maxdiff_compiled.first_call_s[key]


def measure(n: int, dtype: str = "float64", k: int = BATCH, compiled: bool = True) -> dict:
    """µs per scalar evaluation (with ``.item()``), µs per candidate of a k-batch eager and compiled,
    the ratios batch ÷ scalar, and the compile time (None: not compiled or compiling failed)."""
    obj = MaxDiffObjective(n=n, dtype=dtype)
    x = np.array([0.001, -0.002])
    xs = np.random.default_rng(0).uniform(-0.03, 0.03, (k, 2))
    scalar = per_call_s(lambda: obj.compute(x).item(), calls=max(20, 200_000 // n), clock=time.thread_time)
    eager = _batch_s(obj, xs, compiled=False)
    out = {"n": n, "dtype": dtype, "k": k, "scalar_us": scalar * 1e6, "eager_us_per_candidate": eager / k * 1e6,
           "eager_over_scalar": eager / scalar, "compile_s": None, "compiled_us_per_candidate": None,
           "compiled_over_scalar": None}
    first = _compile_s(obj, xs) if compiled else None
    if first is not None:
        fused = _batch_s(obj, xs, compiled=True)
        out.update(compile_s=max(first - fused, 0.0), compiled_us_per_candidate=fused / k * 1e6,
                   compiled_over_scalar=fused / scalar, break_even_batches=first / max(eager - fused, 1e-12))
    return out


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    torch.set_num_threads(1)
    rows = [measure(n, dtype) for n in SIZES for dtype in DTYPES]
    table = Table(title=f"MaxDiff ar200 on CPU, 1 torch thread: scalar vs {BATCH}-candidate batch, eager and compiled")
    for col in ("n", "dtype", "µs / scalar eval", "eager µs / candidate", "eager ÷ scalar",
                "compiled µs / candidate", "compiled ÷ scalar (target ≤ 20 at n=200 f64)", "compile s"):
        table.add_column(col, justify="right")
    for m in rows:
        table.add_row(str(m["n"]), m["dtype"], f"{m['scalar_us']:.1f}", f"{m['eager_us_per_candidate']:.3f}",
                      f"{m['eager_over_scalar']:.1f}", _fmt(m["compiled_us_per_candidate"], ".3f"),
                      _fmt(m["compiled_over_scalar"], ".1f"),
                      "reused" if m["compile_s"] == 0.0 else _fmt(m["compile_s"], ".1f"))
    console = Console(width=160)
    console.print(table)
    if maxdiff_compiled.failure:
        console.print(f"compiled path unavailable: {maxdiff_compiled.failure}")
    for m in rows:
        if m.get("break_even_batches"):
            console.print(f"n={m['n']} {m['dtype']}: compiling pays off after "
                          f"{m['break_even_batches']:.0f} batches of {BATCH} in one process")
