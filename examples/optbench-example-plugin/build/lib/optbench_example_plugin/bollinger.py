"""Bollinger-band mean reversion on GOOG's daily closes: a user's own objective, no known optimum.

Parameters: ``window`` (int, 5 … 60 days) of the moving mean and standard deviation of the close,
``k`` (float, 0.5 … 3.0) the band's half-width in standard deviations, ``side`` ("long" or
"long_short").

Rule, per day t, with ``z_t = (C_t − mean_t) / std_t`` over the last ``window`` closes (t included,
std with ddof=1): the position is +1 when ``z_t < −k`` (below the lower band: buy the dip), −1 when
``z_t > k`` and ``side`` is "long_short", else 0. The position taken at day t's close earns day
t+1's return ``r_{t+1} = C_{t+1}/C_t − 1``; changing the position costs ``FEE`` per unit:
``s_t = pos_{t−1}·r_t − FEE·|pos_{t−1} − pos_{t−2}|``, scored on the same days t = FIRST … T−1
for every parameter set. Value: ``−Sharpe = −√252 · mean(s) / std(s, ddof=1)`` (0 when std is 0).

The data ship with the ``backtesting`` package (offline). The moving means and deviations of every
window are computed once per device and cached; one evaluation of k parameter sets is a gather and
a few vector ops over (k, T) tensors ending in k values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import torch

import optbench
import optbench.objectives

WINDOWS = range(5, 61)
FEE = 0.001
FIRST = WINDOWS.stop + 1  # the first scored day: every window's z exists at FIRST − 2
SIDES = ["long", "long_short"]


@dataclass(frozen=True)
class Tables:
    """GOOG's closes and returns, and every window's moving mean and std, on one device."""

    close: torch.Tensor  # (T,)
    returns: torch.Tensor  # (T,), returns[0] = 0
    mean: torch.Tensor  # (len(WINDOWS), T), NaN before a window is full
    std: torch.Tensor  # (len(WINDOWS), T)


def goog_close() -> np.ndarray:
    """GOOG's daily closes as shipped by ``backtesting`` (2148 days, 2004-08-19 … 2013-03-01)."""
    from backtesting.test import GOOG

    return GOOG["Close"].to_numpy(dtype=float)


@lru_cache(maxsize=4)
def tables(device: str) -> Tables:
    """Built once per device: the only place that touches pandas."""
    close = pd.Series(goog_close())
    returns = close.pct_change().fillna(0.0)
    mean = np.stack([close.rolling(w).mean().to_numpy() for w in WINDOWS])
    std = np.stack([close.rolling(w).std().to_numpy() for w in WINDOWS])
    t = lambda a: torch.tensor(np.asarray(a, dtype=float), device=device)  # noqa: E731
    return Tables(t(close), t(returns), t(mean), t(std))


def negative_sharpe(xs: torch.Tensor, chunk_rows: int = 16) -> torch.Tensor:
    """−Sharpe of the rule for each row ``(window, k, side index)`` of ``xs`` (k, 3) -> (k,); in
    chunks of rows whose (rows, T) temporaries stay in cache (one big pass was 10x slower here)."""
    t = tables(str(xs.device))
    return torch.cat([_negative_sharpe(part, t) for part in xs.split(chunk_rows)])


def _negative_sharpe(xs: torch.Tensor, t: Tables) -> torch.Tensor:
    rows = xs[:, 0].long() - WINDOWS.start
    z = (t.close - t.mean[rows]) / t.std[rows]  # (k, T); NaN compares False: no position
    band = xs[:, 1:2]
    pos = (z < -band).double() - (xs[:, 2:3] == 1.0).double() * (z > band).double()
    held, before = pos[:, FIRST - 1:-1], pos[:, FIRST - 2:-2]
    s = held * t.returns[FIRST:] - FEE * (held - before).abs()
    std = s.std(dim=1)
    sharpe = torch.where(std > 0, math.sqrt(252.0) * s.mean(dim=1) / std.clamp_min(1e-300), 0.0)
    return -sharpe


def make(device: str = "cpu") -> optbench.objectives.FunctionObjective:
    """The objective on ``device`` ("cpu", "cuda"), its tensors built now (outside any timed run)."""
    tables(device)
    return optbench.objective(
        negative_sharpe, bounds={"window": (WINDOWS.start, WINDOWS.stop - 1), "k": (0.5, 3.0), "side": SIDES},
        batched=True, device=device, family="mean_reversion", gain=True, name="bollinger_goog")


# What the entry point names: built when optbench first uses the name (in the parent process, before
# matrix workers fork from it), so no run pays for the data.
OBJECTIVE = make("cpu")
