"""Moving-average crossover Sharpe on real GOOG closes (docs/objectives.md): a mixed int/categorical space."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch

from optbench.objectives.base import CategoricalParam, IntParam, Objective, Reference, SearchSpace

FAST = (2, 50)
SLOW = (51, 250)
MA_TYPES = ("sma", "ema")
SCORE_FROM = 252
TRADE_COST = 0.001


def _ema(close: np.ndarray, w: int) -> np.ndarray:
    """pandas ``ewm(span=w, adjust=False).mean()``: started at the first close."""
    alpha = 2.0 / (w + 1)
    out = np.empty_like(close)
    out[0] = close[0]
    for t in range(1, len(close)):
        out[t] = alpha * close[t] + (1 - alpha) * out[t - 1]
    return out


def _sma(close: np.ndarray, w: int) -> np.ndarray:
    cs = np.concatenate([[0.0], np.cumsum(close)])
    out = np.full(len(close), np.nan)
    out[w - 1:] = (cs[w:] - cs[:-w]) / w
    return out


@lru_cache(maxsize=1)
def ma_table() -> tuple[torch.Tensor, torch.Tensor]:
    """Cached (2, 251, T) tensor of every SMA/EMA window (NaN where undefined) and daily returns."""
    from backtesting.test import GOOG

    close = GOOG["Close"].to_numpy(float)
    table = np.full((2, SLOW[1] + 1, len(close)), np.nan)
    for w in range(FAST[0], SLOW[1] + 1):
        table[0, w] = _sma(close, w)
        table[1, w] = _ema(close, w)
    returns = np.concatenate([[0.0], close[1:] / close[:-1] - 1])
    return torch.as_tensor(table), torch.as_tensor(returns)


def sharpe_of_signals(signal: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """Sharpe ratio per row of a (k, T) 0/1 signal, scored on days SCORE_FROM … T−1."""
    t = torch.arange(SCORE_FROM, signal.shape[-1])
    prev, prev2 = signal[..., t - 1], signal[..., t - 2]
    s = prev * returns[t] - TRADE_COST * (prev - prev2).abs()
    std = s.std(dim=-1, unbiased=True)
    sharpe = (252 ** 0.5) * s.mean(dim=-1) / std
    return torch.where(std > 0, sharpe, torch.zeros_like(sharpe))


class MACrossoverObjective(Objective):
    """−Sharpe of a long-only fast/slow moving-average crossover on GOOG (19 600 points)."""

    name = "ma_crossover"
    family = "ma_crossover"
    gain = True  # the value is minus the Sharpe ratio
    space = SearchSpace((IntParam("fast", *FAST), IntParam("slow", *SLOW), CategoricalParam("ma_type", MA_TYPES)))
    option_help: dict[str, str] = {}

    def __init__(self) -> None:
        self.options: dict[str, Any] = {}
        self.table, self.returns = ma_table()

    def _signals(self, xs: np.ndarray) -> torch.Tensor:
        idx = torch.as_tensor(np.rint(xs).astype(np.int64))
        fast = self.table[idx[:, 2], idx[:, 0]]
        slow = self.table[idx[:, 2], idx[:, 1]]
        return (fast > slow).to(torch.float64)  # NaN (undefined MA) compares False -> 0

    def compute(self, x: np.ndarray) -> torch.Tensor:
        return -sharpe_of_signals(self._signals(x[None, :]), self.returns)[0]

    def compute_batch(self, xs: np.ndarray) -> torch.Tensor:
        return -torch.cat([sharpe_of_signals(self._signals(part), self.returns)
                           for part in np.array_split(xs, max(1, len(xs) // 2048))])

    @lru_cache(maxsize=1)
    def reference(self) -> Reference:
        """Exact optimum by enumerating all 19 600 points in batches."""
        grid = np.array([(f, s, m) for m in range(len(MA_TYPES))
                         for f in range(FAST[0], FAST[1] + 1) for s in range(SLOW[0], SLOW[1] + 1)], float)
        values = self.compute_batch(grid).numpy()
        best = int(np.argmin(values))
        point = self.space.decode(grid[best])
        return Reference(float(values[best]), point)
