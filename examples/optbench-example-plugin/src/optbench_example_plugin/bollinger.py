"""Bollinger-band mean reversion on GOOG's daily closes: a user's own objective, no known optimum,
declared as a family of instances — one per data window of the shipped history.

**Instances** (what the rule is tested on): ``period`` 0 … PERIODS − 1, the consecutive data windows
that split the scored days of GOOG's 2004–2013 history (about 1.4 years each); ``period=None``, the
default, scores every day at once. A decision is made on some windows and checked on the others.

**Search parameters** (what an optimizer tunes, the strategy's own): ``window`` (int, 5 … 60 days)
of the moving mean and standard deviation of the close, ``k`` (float, 0.5 … 3.0) the band's
half-width in standard deviations, ``side`` ("long" or "long_short").

Rule, per day t, with ``z_t = (C_t − mean_t) / std_t`` over the last ``window`` closes (t included,
std with ddof=1): the position is +1 when ``z_t < −k`` (below the lower band: buy the dip), −1 when
``z_t > k`` and ``side`` is "long_short", else 0. The position taken at day t's close earns day
t+1's return ``r_{t+1} = C_{t+1}/C_t − 1``; changing the position costs ``FEE`` per unit:
``s_t = pos_{t−1}·r_t − FEE·|pos_{t−1} − pos_{t−2}|``, scored on the period's days t (every
parameter set on the same days; the indicators use the closes before the period too, never after
t). Value: ``−Sharpe = −√252 · mean(s) / std(s, ddof=1)`` (0 when std is 0).

The data ship with the ``backtesting`` package (offline). The moving means and deviations of every
window are computed once per device and cached; one evaluation of k parameter sets is a gather and
a few vector ops over (k, days) tensors ending in k values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import torch

from optbench.objectives import ObjectiveError
from optbench.objectives.base import CategoricalParam, FloatParam, IntParam, Objective, SearchSpace

WINDOWS = range(5, 61)
FEE = 0.001
FIRST = WINDOWS.stop + 1  # the first scored day: every window's z exists at FIRST − 2
SIDES = ["long", "long_short"]
PERIODS = 6  # data windows: the instances


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


def scored_days(period: int | None, n_days: int) -> range:
    """The days t a period scores: consecutive, equal-length (±1) data windows of FIRST … n_days − 1
    (None: all of them)."""
    if period is None:
        return range(FIRST, n_days)
    edges = np.linspace(FIRST, n_days, PERIODS + 1).round().astype(int)
    return range(int(edges[period]), int(edges[period + 1]))


def negative_sharpe(xs: torch.Tensor, days: range, chunk_rows: int = 16) -> torch.Tensor:
    """−Sharpe of the rule on ``days`` for each row ``(window, k, side index)`` of ``xs`` (k, 3) -> (k,);
    in chunks of rows whose (rows, days) temporaries stay in cache (one big pass was 10x slower here)."""
    t = tables(str(xs.device))
    return torch.cat([_negative_sharpe(part, t, days) for part in xs.split(chunk_rows)])


def _negative_sharpe(xs: torch.Tensor, t: Tables, days: range) -> torch.Tensor:
    rows = xs[:, 0].long() - WINDOWS.start
    z = (t.close - t.mean[rows]) / t.std[rows]  # (k, T); NaN compares False: no position
    band = xs[:, 1:2]
    pos = (z < -band).double() - (xs[:, 2:3] == 1.0).double() * (z > band).double()
    a, b = days.start, days.stop
    held, before = pos[:, a - 1:b - 1], pos[:, a - 2:b - 2]
    s = held * t.returns[a:b] - FEE * (held - before).abs()
    std = s.std(dim=1)
    sharpe = torch.where(std > 0, math.sqrt(252.0) * s.mean(dim=1) / std.clamp_min(1e-300), 0.0)
    return -sharpe


class BollingerGoog(Objective):
    """The rule on one data window (``period``) of GOOG, or on all of it; its tensors are built at
    construction (outside any timed run) and shared by every period on a device."""

    family = "mean_reversion"
    gain = True
    knowledge = "none"
    space = SearchSpace((IntParam("window", WINDOWS.start, WINDOWS.stop - 1), FloatParam("k", 0.5, 3.0),
                         CategoricalParam("side", SIDES)))

    def __init__(self, period: int | None = None, device: str = "cpu"):
        if period is not None and not (isinstance(period, int) and 0 <= period < PERIODS):
            raise ObjectiveError(f"bollinger_goog: period={period!r} must be a data window 0 … {PERIODS - 1} "
                                 "(or None: every day)")
        self.name, self.options = "bollinger_goog", {"period": period, "device": device}
        self.device = device
        self.days = scored_days(period, len(tables(device).close))

    @classmethod
    def instances(cls) -> list[dict[str, Any]]:
        """One instance per data window."""
        return [{"period": p} for p in range(PERIODS)]

    def compute(self, x: np.ndarray) -> torch.Tensor:
        return self.compute_batch(np.asarray(x, dtype=float)[None, :])[0]

    def compute_batch(self, xs: np.ndarray) -> torch.Tensor:
        return negative_sharpe(torch.as_tensor(xs, dtype=torch.float64, device=self.device), self.days)


# What the entry point names: the class, a factory of one objective per period. The CPU tables are
# built at import (when optbench first uses the name, in the parent process, before matrix workers
# fork from it), so no run pays for the data.
OBJECTIVE = BollingerGoog
tables("cpu")
