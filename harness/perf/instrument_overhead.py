"""The instrument's own cost per evaluation: instrumented vs bare calls on a cheap objective."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from optbench import objectives
from optbench.harness.budget import Budget
from optbench.harness.instrument import Instrument
from optbench.harness.timing import per_call_s


def measure(calls: int = 20_000) -> dict[str, float]:
    """µs per evaluation of ``sphere`` (dim 2): bare ``compute().item()`` vs the instrument's core."""
    obj = objectives.get("sphere", dim=2)
    x = np.array([0.5, -0.5])
    bare = per_call_s(lambda: obj.compute(x).item(), calls)
    inst = Instrument(obj, Budget(max_evals=10**12))
    instrumented = per_call_s(lambda: inst.evaluate_encoded(x), calls)
    return {"bare_us": bare * 1e6, "instrumented_us": instrumented * 1e6, "overhead_us": (instrumented - bare) * 1e6}


def main() -> None:
    m = measure()
    Console().print(f"sphere dim 2: bare {m['bare_us']:.2f} µs/eval, instrumented {m['instrumented_us']:.2f} µs/eval, "
                    f"instrument overhead {m['overhead_us']:.2f} µs/eval (target ≤ 1 µs)")


if __name__ == "__main__":
    main()
