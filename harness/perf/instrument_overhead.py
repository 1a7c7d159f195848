"""The instrument's own cost per evaluation: instrumented vs bare calls on a cheap objective.

The two are timed alternately, ``ROUNDS`` times each, in this thread's CPU time (``thread_time``):
on a shared machine wall time varies by several µs per call, more than the figure measured, and
alternating keeps a slow spell from landing on one side only. The best round of each is compared.
"""

from __future__ import annotations

import time

import numpy as np
from rich.console import Console

from optbench import objectives
from optbench.harness.core.budget import Budget
from optbench.harness.core.instrument import Instrument
from optbench.harness.core.timing import per_call_s

ROUNDS = 9


def measure(calls: int = 20_000, rounds: int = ROUNDS) -> dict[str, float]:
    """µs per evaluation of ``sphere`` (dim 2): bare ``compute().item()`` vs the instrument's core."""
    obj = objectives.get("sphere", dim=2)
    x = np.array([0.5, -0.5])
    inst = Instrument(obj, Budget(max_evals=10**12))
    calls_of = {"bare": lambda: obj.compute(x).item(), "instrumented": lambda: inst.evaluate_encoded(x)}
    best = dict.fromkeys(calls_of, float("inf"))
    for _ in range(rounds):
        for name, fn in calls_of.items():
            best[name] = min(best[name], per_call_s(fn, calls, repeats=1, clock=time.thread_time))
    return {"bare_us": best["bare"] * 1e6, "instrumented_us": best["instrumented"] * 1e6,
            "overhead_us": (best["instrumented"] - best["bare"]) * 1e6}


def main() -> None:
    m = measure()
    Console().print(f"sphere dim 2: bare {m['bare_us']:.2f} µs/eval, instrumented {m['instrumented_us']:.2f} µs/eval, "
                    f"instrument overhead {m['overhead_us']:.2f} µs/eval (target ≤ 1 µs); thread CPU time, best of "
                    f"{ROUNDS} alternating rounds")


if __name__ == "__main__":
    main()
