"""A second, plain-numpy implementation of MaxDiff's profit, written leg by leg from docs/objectives.md (for tests)."""

import numpy as np


def maxdiff_profit_np(h, l, c, H, L, hp, lp, p, fee, close_at_eod):
    """Σ_i profit_i for one leg with signed positions p (docs/objectives.md, literally)."""
    hp2 = np.clip(hp + h, 0, 10)
    lp2 = np.clip(lp + l, -1, 0)
    long = np.clip(p, 0, 10)
    short = np.clip(p, -10, 0)
    long_fill = (lp2 > L).astype(float)
    short_fill = (hp2 < H).astype(float)
    cost = (long * long_fill + np.abs(short) * short_fill) * fee
    if close_at_eod:
        prof = long * (c - lp2) * long_fill + short * (c - hp2) * short_fill - cost
    else:
        long_leg = long * long_fill * np.where(hp2 <= H, hp2 - lp2, c - lp2)
        short_leg = short * short_fill * np.where(lp2 >= L, lp2 - hp2, c - hp2)
        prof = long_leg + short_leg - cost
    return prof.sum()


def maxdiff_value_np(h, l, days, close_at_eod, always_on):
    """f(h, l) = −Σ profit, with always-on's buy (+1) and sell (−1) legs."""
    args = (days.c, days.H, days.L, days.hp, days.lp)
    if always_on:
        ones = np.ones_like(days.p)
        total = (maxdiff_profit_np(h, l, *args, ones, days.fee, close_at_eod)
                 + maxdiff_profit_np(h, l, *args, -ones, days.fee, close_at_eod))
    else:
        total = maxdiff_profit_np(h, l, *args, days.p, days.fee, close_at_eod)
    return -total
