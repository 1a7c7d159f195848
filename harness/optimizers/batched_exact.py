"""``batched.exact``: the exact MaxDiff optimum (SPEC §1's reference) through the objective's structure.

Two exact reductions, then one pass over a candidate grid for many problems at once:

1. **Candidates.** Between breakpoints profit is nondecreasing in ``h`` and nonincreasing in ``l``
   (∂/∂h = Σ long·fill·[exit at hp'] − Σ short·fill ≥ 0 as short ≤ 0; ∂/∂l ≤ 0 likewise). So of
   SPEC's candidates only the largest ``h`` and the smallest ``l`` of each linear piece can win:
   half of each axis, a quarter of the grid, and the same optimum as ``reference()``.
2. **Cross terms by prefix sums.** ``profit = u(l) + v(h) + C1(l, h) + C2(l, h)`` with
   ``C1 = Σ_i long_i·fill_i(l)·g_i(h)`` and ``C2 = Σ_i short_i·fill_i(h)·m_i(l)``. A day's fill is a
   step along its own axis (monotone in float arithmetic too), so C1 is a running sum over the
   l-candidates of the days that start filling there, and C2 a scatter of each day onto the
   h-candidate where it stops filling followed by a cumulative sum: O(k·n + k²) per problem instead
   of the O(k²·n) of two matrix products. With ``close_at_eod=True`` the cross terms do not depend on
   the other axis: profit = A(l) + B(h), maximized per axis.

Everything is computed in float64 on the objectives' device, chunked to ``chunk_elems`` elements.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from objectives import Objective
from objectives.maxdiff import DayTensors, MaxDiffObjective, breakpoint_candidates, position_rows

from ..budget import HarnessError
from ..instrument import Instrument
from .batched import CHUNK_ELEMS, BatchedAdapter, Solutions, maxdiff_objectives, stack_days


def dominant_candidates(shift: np.ndarray, limit: np.ndarray, jumps: np.ndarray, keep_largest: bool) -> np.ndarray:
    """SPEC's per-axis candidates reduced to one per piece between consecutive ``jumps``: the largest
    (h-axis) or the smallest (l-axis). Profit is continuous at the other breakpoints (the clip of
    hp' or lp' at 0), so pieces merge across them; a candidate exactly on a jump stays."""
    cands = breakpoint_candidates(shift, limit)
    bps = np.unique(jumps)
    piece = np.searchsorted(bps, cands, "left") + np.searchsorted(bps, cands, "right")  # odd: on a jump
    change = piece[1:] != piece[:-1]
    keep = np.r_[change, True] if keep_largest else np.r_[True, change]
    return cands[keep]


def candidate_grid(obj: MaxDiffObjective) -> tuple[np.ndarray, np.ndarray]:
    """The reduced (h, l) candidates of one problem, each sorted ascending. Profit jumps on the h-axis
    at ``H − hp`` of days whose short fills or (closing intraday) whose long exits there; likewise on
    the l-axis at ``L − lp``."""
    days = obj.days
    pos = position_rows(days.p, obj.options["always_on"])
    long, short = np.clip(pos, 0, 10).sum(0) != 0, np.clip(pos, -10, 0).sum(0) != 0
    h_days = short | (long & (not obj.close_at_eod))
    l_days = long | (short & (not obj.close_at_eod))
    return (dominant_candidates(days.hp, days.H, (days.H - days.hp)[h_days], True),
            dominant_candidates(days.lp, days.L, (days.L - days.lp)[l_days], False))


def _padded(rows: list[np.ndarray], device) -> torch.Tensor:
    """Rows of different lengths as one (P, k) tensor, each padded with its own last (largest) value,
    which keeps every row sorted and adds no new candidate."""
    k = max(len(r) for r in rows)
    return torch.as_tensor(np.stack([np.pad(r, (0, k - len(r)), mode="edge") for r in rows]), device=device)


def _count(cands: torch.Tensor, thr: torch.Tensor, holds) -> torch.Tensor:
    """Per day (P, n): how many of the ascending candidates (P, k) satisfy a per-day predicate that
    holds below a threshold. Located at the arithmetic threshold ``thr``, then corrected one step
    each way with the predicate itself, so rounding at the threshold cannot misplace a day."""
    k = cands.shape[1]
    count = torch.searchsorted(cands, thr)
    count += ((count < k) & holds(cands.gather(1, count.clamp(max=k - 1)))).long()
    count -= ((count > 0) & ~holds(cands.gather(1, (count - 1).clamp(min=0)))).long()
    return count


def _interval_sums(k: int, start: torch.Tensor, stop: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """For each candidate index b < k (P, k): the sum of the days' weights with start ≤ b < stop."""
    diff = torch.zeros(weight.shape[0], k + 1, dtype=weight.dtype, device=weight.device)
    diff.scatter_add_(1, start, weight).scatter_add_(1, torch.maximum(start, stop), -weight)
    return diff.cumsum_(1)[:, :k]


def _h_axis(d: DayTensors, h: torch.Tensor, close_at_eod: bool):
    """The h-only part of profit per h-candidate (P, kh) and, per day, on how many of the first
    h-candidates its short fills. hp' = hp + h once positive (0 before); the short fills while hp' < H."""
    kh = h.shape[1]
    fills = _count(h, torch.where(d.H > 0, d.H - d.hp, -torch.inf), lambda x: (d.hp + x).clamp(0.0, 10.0) < d.H)
    clipped = _count(h, -d.hp, lambda x: d.hp + x <= 0)
    const = d.short * (d.fee + d.c) if close_at_eod else d.short * d.fee
    zero = torch.zeros_like(fills)
    return (_interval_sums(kh, zero, fills, const) - _interval_sums(kh, clipped, fills, d.short * d.hp)
            - h * _interval_sums(kh, clipped, fills, d.short)), fills


def _l_axis(d: DayTensors, l: torch.Tensor, close_at_eod: bool):
    """The l-only part of profit per l-candidate (P, kl) and, per day, on how many of the first
    l-candidates its long does not fill. lp' = lp + l while negative (0 after); the long fills once lp' > L."""
    kl = l.shape[1]
    no_fill = _count(l, torch.where(d.L >= 0, torch.inf, d.L - d.lp), lambda x: (d.lp + x).clamp(-1.0, 0.0) <= d.L)
    negative = _count(l, -d.lp, lambda x: d.lp + x < 0)
    const = d.long * (d.c - d.fee) if close_at_eod else -d.long * d.fee
    end = torch.full_like(no_fill, kl)
    return (_interval_sums(kl, no_fill, end, const) - _interval_sums(kl, no_fill, negative, d.long * d.lp)
            - l * _interval_sums(kl, no_fill, negative, d.long)), no_fill


def _argmax_rows(x: torch.Tensor) -> torch.Tensor:
    """Row-wise argmax (first maximum); numpy's is ~7× faster than torch's on CPU float64 (measured)."""
    return x.argmax(1) if x.is_cuda else torch.from_numpy(x.numpy().argmax(1))


def _best_separable(d, h, l, chunk_elems):
    """close_at_eod=True: profit = A(l) + B(h); the best of each axis."""
    b, a = _h_axis(d, h, True)[0], _l_axis(d, l, True)[0]
    rows = torch.arange(len(h), device=h.device)
    return h[rows, _argmax_rows(b)], l[rows, _argmax_rows(a)]


def _best_coupled(d, h, l, chunk_elems):
    """close_at_eod=False: the whole (l × h) grid, in row blocks of l-candidates when one problem is
    too large for one block (stacked problems always fit one: ``solve_exact`` sizes the stacks)."""
    P, n = d.c.shape
    kh, kl = h.shape[1], l.shape[1]
    v, h_fills = _h_axis(d, h, False)
    u, first = _l_axis(d, l, False)
    # C2 = Σ short·m(l) over the days filled at h: days sorted by how many h-candidates they fill on
    # make that set a prefix (of length at_h), so C2 is a cumulative sum over days, then a gather.
    by_h = torch.argsort(h_fills, dim=1, descending=True, stable=True)
    lp, L, c, short = (t.gather(1, by_h)[:, None, :] for t in (d.lp, d.L, d.c, d.short))
    at_h = _interval_sums(kh, torch.zeros_like(h_fills), h_fills, torch.ones_like(d.c)).long()[:, None, :]
    # C1 = Σ long·g(h) over the days filled at l: a running sum over the l-candidates of the days
    # that start filling there (day i's long fills from l-candidate first[i] on), in that order.
    by_l = torch.argsort(first, dim=1, stable=True)
    first, hp, H, c_l, long = (t.gather(1, by_l) for t in (first, d.hp, d.H, d.c, d.long))
    long = long * (first < kl)  # days that never fill add nothing
    first = first.clamp(max=kl - 1)
    ka = kl if P > 1 else max(1, min(kl, chunk_elems // max(kh, n + 1)))
    sub = max(1, chunk_elems // (P * kh))
    carry = v  # C1 + v: each block's first row starts from the previous block's last
    best = torch.full((P,), -torch.inf, dtype=d.c.dtype, device=d.c.device)
    best_h, best_l = h[:, 0].clone(), l[:, 0].clone()
    problem_rows = torch.arange(P, device=d.c.device)[:, None]
    for a0 in range(0, kl, ka):
        rows = min(ka, kl - a0)
        lo, hi = (0, n) if P > 1 else torch.searchsorted(first[0], torch.tensor([a0, a0 + rows], device=first.device)).tolist()
        c1 = torch.zeros(P, rows, kh, dtype=d.c.dtype, device=d.c.device)
        c1[:, 0] = carry
        for s in range(lo, hi, sub):
            e = min(s + sub, hi)
            hpp = (hp[:, s:e, None] + h[:, None, :]).clamp_(0.0, 10.0)
            g = torch.where(hpp <= H[:, s:e, None], hpp, c_l[:, s:e, None]).mul_(long[:, s:e, None])
            c1.view(-1, kh).index_add_(0, (first[:, s:e] - a0 + rows * problem_rows).flatten(), g.view(-1, kh))
        c1 = c1.cumsum_(1)
        carry = c1[:, -1].clone()
        prefix = torch.empty(P, rows, n + 1, dtype=d.c.dtype, device=d.c.device)
        prefix[:, :, 0] = u[:, a0:a0 + rows]  # u rides along the cumulative sum
        m = torch.add(lp, l[:, a0:a0 + rows, None], out=prefix[:, :, 1:]).clamp_(-1.0, 0.0)
        torch.where(m >= L, m, c, out=m).mul_(short)
        grid = c1.add_(prefix.cumsum_(2).gather(2, at_h.expand(-1, rows, -1))).view(P, -1)
        at = _argmax_rows(grid)
        value = grid.gather(1, at[:, None])[:, 0]
        better = value > best
        best = torch.where(better, value, best)
        best_h = torch.where(better, h.gather(1, (at % kh)[:, None])[:, 0], best_h)
        best_l = torch.where(better, l.gather(1, (a0 + at // kh)[:, None])[:, 0], best_l)
    return best_h, best_l


def solve_exact(objectives: Sequence[MaxDiffObjective], chunk_elems: int = CHUNK_ELEMS,
                grids: Sequence[tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """The exact optimum (h, l) of each MaxDiff problem as a (P, 2) array, solved in stacked passes
    of at most about ``chunk_elems`` elements; ``grids`` are the problems' ``candidate_grid``s if known."""
    grids = [candidate_grid(o) for o in objectives] if grids is None else grids
    points = np.empty((len(objectives), 2))
    for eod, solve in ((False, _best_coupled), (True, _best_separable)):
        idx = [i for i, o in enumerate(objectives) if o.close_at_eod == eod]
        size = max([len(grids[i][0]) * max(len(grids[i][1]), len(objectives[i].days)) for i in idx], default=1)
        step = max(1, chunk_elems // size)
        for part in (idx[s:s + step] for s in range(0, len(idx), step)):
            d = stack_days([objectives[i] for i in part], "float64")
            h = _padded([grids[i][0] for i in part], d.c.device)
            l = _padded([grids[i][1] for i in part], d.c.device)
            points[part] = torch.stack(solve(d, h, l, chunk_elems), 1).cpu().numpy()
    return points


class BatchedExact(BatchedAdapter):
    """Exact MaxDiff optimum over the reduced breakpoint grid; counts every grid point as an evaluation."""

    name = "batched.exact"
    seedable = False
    defaults = {"chunk_elems": CHUNK_ELEMS}

    def solve_many(self, objectives: Sequence[Objective], seed: int) -> Solutions:
        objs = maxdiff_objectives(objectives)
        grids = [candidate_grid(o) for o in objs]
        sizes = np.array([len(h) * len(l) for h, l in grids])
        return Solutions(solve_exact(objs, self.options["chunk_elems"], grids), sizes)

    def minimize(self, problem: Instrument, seed: int) -> None:
        obj = problem.objective
        if not isinstance(obj, MaxDiffObjective):
            raise HarnessError(f"{self.name} uses MaxDiff's breakpoint structure; it cannot solve {obj!r}")
        h, l = grid = candidate_grid(obj)
        with problem.external(len(h) * len(l) - 1):  # the grid but its winner, evaluated below
            point = solve_exact([obj], self.options["chunk_elems"], [grid])[0]
        problem.evaluate(point)

