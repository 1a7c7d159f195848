"""MaxDiff input data (docs/objectives.md): the seeded ``ar200`` set and the real ``goog`` windows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

GOOG_WINDOWS = 70
GOOG_WINDOW_DAYS = 200
GOOG_FIRST_DAY = 21
GOOG_WINDOW_STEP = 25


@dataclass(frozen=True, eq=False)  # hashed by identity: the loaders below cache one instance each
class MaxDiffDays:
    """Per-day float64 inputs of the MaxDiff profit: returns relative to the previous close."""

    c: np.ndarray
    H: np.ndarray
    L: np.ndarray
    hp: np.ndarray
    lp: np.ndarray
    p: np.ndarray
    fee: float

    def __len__(self) -> int:
        return len(self.c)


@lru_cache(maxsize=32)
def ar200(seed: int = 42, n: int = 200) -> MaxDiffDays:
    """The synthetic ar200 benchmark, drawn in the documented order (docs/objectives.md)."""
    rng = np.random.default_rng(seed)
    r = rng.standard_normal(n) * 0.02
    for i in range(1, n):
        r[i] = 0.7 * r[i - 1] + 0.3 * r[i]
    c = r
    H = c + np.abs(rng.standard_normal(n)) * 0.01
    L = c - np.abs(rng.standard_normal(n)) * 0.01
    hp = 0.6 * c + rng.standard_normal(n) * 0.015 + 0.005
    lp = 0.6 * c + rng.standard_normal(n) * 0.015 - 0.005
    p = np.where(np.abs(hp) > np.abs(lp), 1.0, -1.0)
    return MaxDiffDays(c, H, L, hp, lp, p, 0.0015)


@lru_cache(maxsize=1)
def _goog_all() -> MaxDiffDays:
    from backtesting.test import GOOG  # ships inside the backtesting wheel: no network

    close = GOOG["Close"].to_numpy(float)
    prev = close[:-1]
    c = close[1:] / prev - 1
    H = GOOG["High"].to_numpy(float)[1:] / prev - 1
    L = GOOG["Low"].to_numpy(float)[1:] / prev - 1
    # Index j here is day t = j + 1. Forecast for day t: mean over days t-20 .. t-1 (past only).
    n = len(c)
    hp = np.full(n, np.nan)
    lp = np.full(n, np.nan)
    csH = np.concatenate([[0.0], np.cumsum(H)])
    csL = np.concatenate([[0.0], np.cumsum(L)])
    hp[20:] = (csH[20:n] - csH[: n - 20]) / 20  # days t-20..t-1 must all be >= 1
    lp[20:] = (csL[20:n] - csL[: n - 20]) / 20
    p = np.where(np.abs(hp) > np.abs(lp), 1.0, -1.0)
    return MaxDiffDays(c, H, L, hp, lp, p, 0.0005)


@lru_cache(maxsize=GOOG_WINDOWS)
def goog(window: int = 0) -> MaxDiffDays:
    """Window ``k`` of the real GOOG data: 200 days starting at day 21 + 25·k."""
    if not 0 <= window < GOOG_WINDOWS:
        raise ValueError(f"window={window!r} is out of range [0, {GOOG_WINDOWS - 1}]")
    full = _goog_all()
    start = GOOG_FIRST_DAY + GOOG_WINDOW_STEP * window - 1  # array index of day t is t - 1
    sl = slice(start, start + GOOG_WINDOW_DAYS)
    return MaxDiffDays(full.c[sl], full.H[sl], full.L[sl], full.hp[sl], full.lp[sl], full.p[sl], full.fee)
