"""Attribute a cProfile run's time to groups: optimizer, objective, item (sync), harness, other.

Every function's *own* time (tottime) goes to exactly one place, so the groups sum to the
profile's total. Code is *owned* by its file: the optimizer library's package and the adapters
(``harness/optimizers/``) are ``optimizer``, ``objectives/`` is ``objective``, the rest of
``harness/`` is ``harness``; torch's host syncs (``.item()``, ``.cpu()``, ``.numpy()``,
``.tolist()``, ``cuda.synchronize``) are ``item`` wherever they are called. Everything else
(torch ops, numpy, builtins, library dependencies) inherits from its callers: its own time is
split by cProfile's per-caller own time, and what it calls in turn is split by the per-caller
cumulative time (an approximation for helpers shared by several groups). What reaches no owned
caller is ``other``.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import pstats
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

GROUPS = ("optimizer", "objective", "item", "harness", "other")
Func = tuple[str, int, str]  # pstats' key: (filename, first line, function name)
_SYNC = re.compile(r"<method '(item|cpu|numpy|tolist)' of 'torch\._C\.TensorBase' objects>|_cuda_synchronize")


@dataclass(frozen=True)
class HotFunction:
    """One row of the top-N list: a function, the group most of its own time went to, its times."""

    label: str
    group: str
    calls: int
    own_s: float
    cum_s: float


@dataclass(frozen=True)
class Breakdown:
    """Own time per group (sums to ``total_s``), the evaluation function's and ``.item()``'s
    calls, and the functions with the most own time."""

    groups: dict[str, float]
    total_s: float
    eval_function: str
    eval_calls: int
    eval_cum_s: float
    item_calls: int
    item_s: float
    top: list[HotFunction]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Breakdown:
        return cls(**{**data, "top": [HotFunction(**row) for row in data["top"]]})


def _package_dir(module: str) -> str | None:
    spec = importlib.util.find_spec(module)
    locations = spec.submodule_search_locations if spec else None
    return os.path.join(next(iter(locations)), "") if locations else None


def owners(library: str) -> list[tuple[str, str | None]]:
    """(path prefix, group) pairs in match order; group None means "inherit from callers"."""
    import harness
    import objectives
    from objectives import base

    pairs = [(base.__file__, None), (_package_dir(f"{harness.__name__}.optimizers"), "optimizer")]
    if library not in ("optbench", "harness"):
        pairs.append((_package_dir(library), "optimizer"))
    pairs += [(_package_dir(objectives.__name__), "objective"), (_package_dir(harness.__name__), "harness")]
    return [(prefix, group) for prefix, group in pairs if prefix]


class _Attributor:
    """Resolves each function's group distribution from the caller graph (memoized)."""

    def __init__(self, stats: dict, owner_prefixes: list[tuple[str, str | None]]):
        self.stats = stats
        self.prefixes = owner_prefixes
        self.memo: dict[Func, dict[str, float]] = {}
        self.visiting: set[Func] = set()

    def owner(self, func: Func) -> str | None:
        filename, _, name = func
        if filename == "~":
            return "item" if _SYNC.search(name) else None
        return next((group for prefix, group in self.prefixes if filename.startswith(prefix)), None)

    def dist(self, func: Func) -> dict[str, float] | None:
        """Fractions of ``func``'s calls on behalf of each group; None while on the current path."""
        if func in self.memo:
            return self.memo[func]
        group = self.owner(func)
        if group:
            self.memo[func] = {group: 1.0}
            return self.memo[func]
        if func in self.visiting:  # a cycle: this edge carries no information
            return None
        self.visiting.add(func)
        acc: dict[str, float] = defaultdict(float)
        for caller, (nc, _cc, _tt, ct) in self.stats[func][4].items():
            weights = self.dist(caller) if caller != func else None
            for g, share in (weights or {}).items():
                acc[g] += share * (ct or nc * 1e-9)
        self.visiting.discard(func)
        total = sum(acc.values())
        self.memo[func] = {g: v / total for g, v in acc.items()} if total > 0 else {"other": 1.0}
        return self.memo[func]

    def own_time(self, func: Func) -> dict[str, float]:
        """``func``'s own time split by group, using each caller edge's own time where it can."""
        _cc, _nc, tt, _ct, callers = self.stats[func]
        if self.owner(func) or tt <= 0:
            return {g: share * tt for g, share in self.dist(func).items()}
        parts = {c: edge[2] for c, edge in callers.items() if c != func}
        explained = sum(parts.values())
        out: dict[str, float] = defaultdict(float)
        scale = tt / max(explained, tt)  # own time not explained by an edge stays with func's dist
        for caller, edge_tt in parts.items():
            for g, share in (self.dist(caller) or self.dist(func)).items():
                out[g] += share * edge_tt * scale
        for g, share in self.dist(func).items():
            out[g] += share * (tt - explained * scale)
        return out


def label(func: Func) -> str:
    """``pkg/module.py:12(name)`` relative to site-packages or the project, or ``{builtin}``."""
    filename, line, name = func
    if filename == "~":
        return "{" + name.strip("<>") + "}"
    path = Path(filename)
    parts = path.parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts:
            path = Path(*parts[parts.index(anchor) + 1:])
            break
    else:
        root = Path(__file__).resolve().parent.parent
        if path.is_absolute() and root in path.parents:
            path = path.relative_to(root)
    return f"{path}:{line}({name})"


def code_key(function) -> Func:
    """The pstats key of a Python function (its code object's file, first line, name)."""
    code = inspect.unwrap(function).__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def breakdown(stats: pstats.Stats, library: str, eval_functions, top_n: int = 15) -> Breakdown:
    """Group the own time of ``stats``. Of ``eval_functions`` (the objective's ``compute`` and
    ``compute_batch``) the one with the most cumulative time is reported with its calls."""
    raw = stats.stats  # type: ignore[attr-defined]
    attributor = _Attributor(raw, owners(library))
    groups = dict.fromkeys(GROUPS, 0.0)
    rows = []
    for func, (_cc, nc, tt, ct, _callers) in raw.items():
        split = attributor.own_time(func)
        for g, seconds in split.items():
            groups[g] += seconds
        main = max(split, key=split.get) if split else "other"
        rows.append(HotFunction(label(func), main, nc, tt, ct))
    rows.sort(key=lambda r: r.own_s, reverse=True)
    none = (0, 0, 0.0, 0.0, {})
    eval_key = max(map(code_key, eval_functions), key=lambda k: raw.get(k, none)[3])
    _, eval_calls, _, eval_cum, _ = raw.get(eval_key, none)
    items = [v for k, v in raw.items() if k[0] == "~" and "method 'item' of 'torch" in k[2]]
    return Breakdown(groups=groups, total_s=sum(v[2] for v in raw.values()), eval_function=label(eval_key),
                     eval_calls=eval_calls, eval_cum_s=eval_cum, item_calls=sum(v[1] for v in items),
                     item_s=sum(v[2] for v in items), top=rows[:top_n])
