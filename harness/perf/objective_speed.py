"""MaxDiff ``ar200`` scalar vs 1024-candidate batch cost on the CPU (target: batch ≤ 20× scalar)."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from optbench import objectives
from optbench.harness.timing import per_call_s


def measure(n: int, k: int = 1024, dtype: str = "float64") -> dict[str, float]:
    """µs per scalar evaluation (with ``.item()``), µs per candidate in a k-batch, and their ratio."""
    obj = objectives.get("maxdiff", n=n, dtype=dtype)
    x = np.array([0.001, -0.002])
    xs = np.random.default_rng(0).uniform(-0.03, 0.03, (k, 2))
    scalar = per_call_s(lambda: obj.compute(x).item(), calls=max(20, 200_000 // n))
    batch = per_call_s(lambda: obj.batch(xs), calls=max(3, 2_000_000 // (n * k) + 3))
    return {"n": n, "dtype": dtype, "scalar_us": scalar * 1e6, "batch_us_per_candidate": batch / k * 1e6,
            "batch_us": batch * 1e6, "batch_over_scalar": batch / scalar}


def main() -> None:
    table = Table(title="MaxDiff ar200 on CPU: scalar vs 1024-candidate batch")
    for col in ("n", "dtype", "µs / scalar eval", "µs / candidate (batch)", "batch ÷ scalar (target ≤ 20)"):
        table.add_column(col, justify="right")
    for n in (200, 10_000):
        for dtype in ("float64", "float32"):
            m = measure(n, dtype=dtype)
            table.add_row(str(n), dtype, f"{m['scalar_us']:.1f}", f"{m['batch_us_per_candidate']:.2f}",
                          f"{m['batch_over_scalar']:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
