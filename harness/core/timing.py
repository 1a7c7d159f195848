"""A small timing helper shared by the perf checks: best-of-repeats per-call time."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_call_s(fn: Callable[[], object], calls: int, repeats: int = 5,
               clock: Callable[[], float] = time.perf_counter, warmup: int = 50) -> float:
    """Seconds per call of ``fn``: the best of ``repeats`` timings of ``calls`` calls (after up to
    ``warmup`` calls). ``clock=time.thread_time`` measures this thread's CPU time instead, which
    does not grow when other processes share the cores."""
    for _ in range(min(calls, warmup)):
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = clock()
        for _ in range(calls):
            fn()
        best = min(best, (clock() - t0) / calls)
    return best
