"""A small timing helper shared by the perf checks: best-of-repeats per-call time."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_call_s(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """Seconds per call of ``fn``: the best of ``repeats`` timings of ``calls`` calls (after a warm-up)."""
    for _ in range(min(calls, 50)):
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best
