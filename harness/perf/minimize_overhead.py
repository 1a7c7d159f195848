"""What ``optbench.minimize`` costs over calling the library: ``scipy.direct`` at ``EVALS`` evaluations
on cheap pure-Python functions, against ``scipy.optimize.direct`` called directly on the same one.

The direct call is given its strongest form: the point as Python floats (``v.tolist()``), as
``minimize`` passes it, so the comparison is of the wrapper's own work, not of numpy scalar
arithmetic. ``PAIRS`` pairs are timed alternately (which side goes first alternates too); the
median of the per-pair ratios is the figure. Asked for ``EVALS`` evaluations, ``minimize`` stops at
exactly that many while DIRECT finishes its iteration (509 in 2-d), so the ratio is also given at
equal work: ``maxfun`` passed through, no evaluation budget of its own. The fixed cost per call is
the median difference at the smallest budget DIRECT honours (its first iteration: 7 points in 2-d),
where both sides evaluate the same points and differ only by set-up. Two functions: a sine fit to 64
points (~12 µs an evaluation, the case the target is for) and a 2-d Rastrigin (~0.3 µs), where
the wrapper's cost per evaluation shows on its own.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console

EVALS, PAIRS = 500, 31
TARGET_RATIO, TARGET_FIXED_MS = 1.05, 1.0
_T = [i / 8 for i in range(64)]
_DATA = [1.3 * math.sin(2.1 * t) for t in _T]


def sine_fit(amplitude: float, frequency: float) -> float:
    """Squared error of ``amplitude·sin(frequency·t)`` against 64 samples of 1.3·sin(2.1·t):
    many local minima in the frequency, so DIRECT spends its whole budget."""
    return sum((d - amplitude * math.sin(frequency * t)) ** 2 for t, d in zip(_T, _DATA))


def rastrigin(x: float, y: float) -> float:
    """Shifted 2-d Rastrigin, about as cheap as a Python function gets."""
    a, b = x - 0.7, y + 1.3
    return 20.0 + a * a + b * b - 10.0 * (math.cos(2 * math.pi * a) + math.cos(2 * math.pi * b))


CASES: dict[str, tuple[Callable[..., float], dict[str, tuple[float, float]]]] = {
    "sine fit, 64 points": (sine_fit, {"amplitude": (0.0, 3.0), "frequency": (0.1, 5.0)}),
    "2-d Rastrigin": (rastrigin, {"x": (-5.12, 5.12), "y": (-5.12, 5.12)}),
}


@dataclass(frozen=True)
class Overhead:
    """Median figures of one case (seconds); the two wall times are those of the pair whose ratio is
    the median (medians taken side by side can come from different pairs on a machine whose speed shifts)."""

    minimize_s: float
    direct_s: float
    ratio: float
    ratio_equal_work: float
    added_s: float
    fixed_s: float
    fixed_evals: int
    minimize_evals: int
    direct_evals: int


def _sides(fn: Callable[..., float], bounds: dict[str, Any], evals: int,
           equal_work: bool = False) -> tuple[Callable[[], Any], ...]:
    """The (minimize, direct) calls; ``equal_work``: ``minimize`` passes ``maxfun`` to DIRECT and sets
    no evaluation budget, so both evaluate the same points."""
    from scipy.optimize import direct

    import optbench

    box = list(bounds.values())
    budget: dict[str, Any] = ({"max_evals": 10 * evals + 100, "options": {"maxfun": evals}} if equal_work
                              else {"max_evals": evals})
    return (lambda: optbench.minimize(fn, bounds, optimizer="scipy.direct", **budget),
            lambda: direct(lambda v: fn(*v.tolist()), box, maxfun=evals))


def pairs(fn: Callable[..., float], bounds: dict[str, Any], evals: int, n: int = PAIRS,
          equal_work: bool = False) -> list[tuple[float, float]]:
    """``n`` alternating (minimize, direct) wall times at ``evals`` evaluations each."""
    sides = _sides(fn, bounds, evals, equal_work)
    for side in sides:  # first calls pay imports and caches: not measured
        side()
    out = []
    gc.disable()
    try:
        for i in range(n):
            t = [0.0, 0.0]
            for j in ((0, 1) if i % 2 == 0 else (1, 0)):
                t0 = time.perf_counter()
                sides[j]()
                t[j] = time.perf_counter() - t0
            out.append((t[0], t[1]))
    finally:
        gc.enable()
    return out


def measure(fn: Callable[..., float], bounds: dict[str, Any], evals: int = EVALS, n: int = PAIRS) -> Overhead:
    """The median figures of ``n`` pairs at ``evals`` evaluations, at equal work, and at the smallest budget."""
    ours, theirs = (side() for side in _sides(fn, bounds, evals))
    smallest = _sides(fn, bounds, 1)[1]().nfev  # DIRECT's first iteration, whatever maxfun says
    full, same, first = (pairs(fn, bounds, evals, n), pairs(fn, bounds, evals, n, equal_work=True),
                         pairs(fn, bounds, smallest, n))
    middle = sorted(full, key=lambda pair: pair[0] / pair[1])[len(full) // 2]  # the pair of the median ratio
    return Overhead(*middle, middle[0] / middle[1], statistics.median(m / d for m, d in same),
                    statistics.median(m - d for m, d in full), statistics.median(m - d for m, d in first), smallest,
                    ours.n_evals, theirs.nfev)


def main() -> None:
    console = Console()
    console.print(f"optbench.minimize(fn, bounds, optimizer='scipy.direct', max_evals={EVALS}) vs "
                  f"scipy.optimize.direct(lambda v: fn(*v.tolist()), box, maxfun={EVALS}); median of {PAIRS} "
                  "alternating pairs")
    for name, (fn, bounds) in CASES.items():
        m = measure(fn, bounds)
        console.print(f"{name}: minimize {1e3 * m.minimize_s:.3f} ms ({m.minimize_evals} evals), direct "
                      f"{1e3 * m.direct_s:.3f} ms ({m.direct_evals} evals) in the median pair: ratio {m.ratio:.3f}× (target ≤ "
                      f"{TARGET_RATIO}×), {m.ratio_equal_work:.3f}× at equal work ({m.direct_evals} evals each); "
                      f"{1e3 * m.added_s:+.3f} ms per call; fixed cost {1e3 * m.fixed_s:+.3f} ms per call at "
                      f"{m.fixed_evals} evals each (target ≤ {TARGET_FIXED_MS:g} ms)")


if __name__ == "__main__":
    main()
