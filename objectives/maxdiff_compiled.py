"""The MaxDiff batch as one fused loop: the profit written as a single expression that
``torch.compile`` (inductor) turns into one pass over the k × n (candidate, day) elements.

The eager batch (:func:`optbench.objectives.maxdiff.profit` in chunks) makes ~18 passes over
memory, some of them slow (``torch.where``, comparisons); the fused loop reads each day's inputs
once per candidate and never stores a k × n temporary. It is opt-in because a compile costs
seconds (4–6 s here with inductor's on-disk cache warm, 11–36 s cold, per dtype × policy ×
device): it pays off only for processes that evaluate thousands of batches. Turn it on with
``OPTBENCH_COMPILE=1`` or :func:`set_enabled`. Any compile failure (no C++ compiler, an
unsupported platform) falls back to the eager batch with one warning; the values agree with it to
float64 rounding (the day sum runs in another order).
"""

from __future__ import annotations

import os
import time
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from optbench.objectives.maxdiff import DayTensors

_enabled = os.environ.get("OPTBENCH_COMPILE", "") not in ("", "0")
_compiled = None
#: Seconds the first call of each (device, dtype, close_at_eod) took: compilation plus one run.
first_call_s: dict[tuple[str, str, bool], float] = {}
#: Why compilation failed (empty while it has not); once set, the eager batch is used.
failure = ""


def fused_profit(x: torch.Tensor, c, H, L, hp, lp, long, short, fee: torch.Tensor,
                 close_at_eod: bool) -> torch.Tensor:
    """Total profit per candidate row ``x = (h, l)`` of a (k, 2) tensor: the profit in one expression
    (the source ``torch.compile`` fuses; eagerly it is correct but slower than the chunked path)."""
    h, l = x[:, :1], x[:, 1:]
    hpp = (hp + h).clamp(0.0, 10.0)
    lpp = (lp + l).clamp(-1.0, 0.0)
    if close_at_eod:
        long_gain, short_gain = c - lpp, c - hpp
    else:  # take-profit inside the day; exits are non-strict
        long_gain = torch.where(hpp <= H, hpp, c) - lpp
        short_gain = torch.where(lpp >= L, lpp, c) - hpp
    long_gain = torch.where(lpp > L, long_gain - fee, 0.0)  # strict fills
    short_gain = torch.where(hpp < H, short_gain + fee, 0.0)
    return (long_gain * long + short_gain * short).sum(-1)


def enabled() -> bool:
    """Whether the batch path uses the compiled kernel (``OPTBENCH_COMPILE``, :func:`set_enabled`)."""
    return _enabled and not failure


def set_enabled(on: bool) -> bool:
    """Turn the compiled batch path on or off for this process; returns the previous setting."""
    global _enabled
    previous, _enabled = _enabled, bool(on)
    return previous


def compile_key(d: DayTensors, close_at_eod: bool) -> tuple[str, str, bool]:
    """The key of ``first_call_s``: one compiled graph per device, dtype and close policy."""
    return (str(d.c.device), str(d.c.dtype).removeprefix("torch."), close_at_eod)


@lru_cache(maxsize=64)
def _fee_tensor(fee: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The fee as a tensor (a float would be baked into the graph), made once per value, dtype and
    device rather than copied to the device on every batch."""
    return torch.tensor(fee, dtype=dtype, device=device)


def profit(x: torch.Tensor, d: DayTensors, close_at_eod: bool) -> torch.Tensor | None:
    """Compiled :func:`fused_profit` of the (k, 2) tensor ``x`` on ``d``; None if compiling failed
    (the caller then uses the eager batch)."""
    global _compiled, failure
    if failure:
        return None
    k = len(x)
    if k == 1:  # a batch of one would compile a second, size-specialized graph: pad it to two rows
        x = x.expand(2, 2)
    t0 = time.perf_counter()
    try:
        if _compiled is None:
            _compiled = torch.compile(fused_profit, dynamic=True, fullgraph=True)
        out = _compiled(x, d.c, d.H, d.L, d.hp, d.lp, d.long, d.short, _fee_tensor(d.fee, d.c.dtype, d.c.device),
                        close_at_eod)
    except Exception as exc:  # any backend failure: keep working on the eager path
        failure = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        warnings.warn(f"torch.compile of the MaxDiff batch failed ({failure}); using the eager batch",
                      RuntimeWarning, stacklevel=2)
        return None
    first_call_s.setdefault(compile_key(d, close_at_eod), time.perf_counter() - t0)
    return out[:k]
