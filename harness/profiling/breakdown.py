"""Attribute a cProfile run's time to groups: optimizer, objective, item (sync), harness, other.

Every function's *own* time (tottime) goes to exactly one place, so the groups sum to the
profile's total. Code is *owned* by its file: the profiled objective's class files (and a function
objective's ``fn`` file) and ``objectives/`` are ``objective``, the adapter's class files, the
adapters (``harness/optimizers/``) and the optimizer library's package are ``optimizer``, wherever
they live (a plug-in's code included); the rest of ``harness/`` is ``harness``;
torch's host syncs (``.item()``, ``.cpu()``, ``.numpy()``, ``.tolist()``, ``cuda.synchronize``) are
``item`` wherever they are called. Everything else
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
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

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


# Where code is owned: (path prefix, group) for files and packages, (path, group, first line, last
# line) for one class's methods; group None means "inherit from callers".
Owner = tuple[str, str | None] | tuple[str, str | None, int, int]


def owners(library: str, objective: Any = None, adapter: type | None = None) -> list[Owner]:
    """Owner entries in match order: the profiled objective's and adapter's own classes (so one
    plug-in file may hold both), then their whole files, then the packages."""
    from optbench import harness, objectives
    from optbench.harness.optimizers.base import OptimizerAdapter
    from optbench.objectives import base
    from optbench.objectives.base import Objective

    objective_classes = _own_classes(type(objective), Objective) if objective is not None else []
    adapter_classes = _own_classes(adapter, OptimizerAdapter) if adapter is not None else []
    fn = getattr(objective, "fn", None)  # a function objective's function
    out: list[Owner] = [(base.__file__, None)]
    out += [*_spans(objective_classes, "objective"), *_spans(adapter_classes, "optimizer")]
    out += [(path, "objective") for path in _files([*objective_classes, *([inspect.unwrap(fn)] if callable(fn) else [])])]
    out += [(path, "optimizer") for path in _files(adapter_classes)]
    packages = [(_package_dir(f"{harness.__name__}.optimizers"), "optimizer")]
    if library not in ("optbench", "harness"):
        packages.append((_package_dir(library), "optimizer"))
    packages += [(_package_dir(objectives.__name__), "objective"), (_package_dir(harness.__name__), "harness")]
    return out + [(prefix, group) for prefix, group in packages if prefix]


def _own_classes(cls: type, base: type) -> list[type]:
    """``cls`` and its bases below ``base`` (the interface's own code inherits from callers)."""
    return [c for c in cls.__mro__ if issubclass(c, base) and c is not base]


def _spans(classes: list[type], group: str) -> list[tuple[str, str, int, int]]:
    spans = []
    for cls in classes:
        try:
            lines, first = inspect.getsourcelines(cls)
        except (OSError, TypeError):  # no source (built in C, or made at run time)
            continue
        spans.append((inspect.getsourcefile(cls) or "", group, first, first + len(lines) - 1))
    return spans


def _files(things: list[Any]) -> list[str]:
    files: dict[str, None] = {}
    for thing in things:
        try:
            path = inspect.getsourcefile(thing)
        except TypeError:  # a builtin or C function has no source file
            path = None
        if path:
            files[path] = None
    return list(files)


class _Attributor:
    """Each function's shares of the groups, solved over the caller graph: an owned function is
    all its group; any other function is the average of its callers' shares weighted by their
    cumulative time through it (iterated to the fixed point, so recursion is handled)."""

    def __init__(self, stats: dict, owner_prefixes: list[Owner], sweeps: int = 1000):
        self.stats, self.prefixes = stats, owner_prefixes
        self.index = {f: i for i, f in enumerate(stats)}
        column = {g: j for j, g in enumerate(GROUPS)}
        fixed = np.zeros((len(stats), len(GROUPS)))
        edge_list: list[tuple[int, int, float]] = []  # (function, caller, caller's weight in its calls)
        self.groups = [self.owner(func) for func in stats]  # each function's owner, None for helpers
        for i, (func, group) in enumerate(zip(stats, self.groups)):
            edges = {} if group else {c: ct or nc * 1e-9 for c, (nc, _cc, _tt, ct) in stats[func][4].items()
                                      if c != func}
            total = sum(edges.values())
            if group or total <= 0:  # owned, or called only from the profiler itself
                fixed[i, column[group or "other"]] = 1.0
            edge_list += [(i, self.index[caller], w / total) for caller, w in edges.items()]
        links = np.array(edge_list).reshape(-1, 3)
        rows, cols, weights = links[:, 0].astype(int), links[:, 1].astype(int), links[:, 2]
        shares = fixed
        for _ in range(sweeps):  # shares = fixed + W @ shares, W[i, j] = weight of caller j in i's calls
            through = [np.bincount(rows, weights * shares[cols, g], len(stats)) for g in range(len(GROUPS))]
            shares, previous = fixed + np.stack(through, 1), shares
            if np.abs(shares - previous).max() < 1e-12:
                break
        shares[:, column["other"]] += np.clip(1.0 - shares.sum(1), 0.0, None)  # never reaches an owner
        self.shares = shares

    def owner(self, func: Func) -> str | None:
        filename, line, name = func
        if filename == "~":
            return "item" if _SYNC.search(name) else None
        return next((entry[1] for entry in self.prefixes if filename.startswith(entry[0])
                     and (len(entry) == 2 or entry[2] <= line <= entry[3])), None)

    def own_time(self, func: Func) -> dict[str, float]:
        """``func``'s own time split by group; a helper's by each caller edge's own time."""
        i, (_cc, _nc, tt, _ct, callers) = self.index[func], self.stats[func]
        split = self.shares[i] * tt
        if not self.groups[i] and tt > 0:
            parts = {self.index[c]: edge[2] for c, edge in callers.items() if c != func}
            explained = sum(parts.values())
            scale = tt / max(explained, tt)  # own time no edge explains keeps func's own shares
            split = self.shares[i] * (tt - explained * scale)
            for j, edge_tt in parts.items():
                split = split + self.shares[j] * edge_tt * scale
        return {g: float(v) for g, v in zip(GROUPS, split) if v}


def label(func: Func) -> str:
    """``pkg/module.py:12(name)`` relative to site-packages or the project, or ``{builtin}``."""
    filename, line, name = func
    if filename == "~":
        return "{" + name.strip("<>") + "}"
    path = Path(filename)
    anchor = next((a for a in ("site-packages", "dist-packages") if a in path.parts), None)
    if anchor:
        path = Path(*path.parts[path.parts.index(anchor) + 1:])
    else:
        for root in (Path(__file__).resolve().parent.parent, Path(sysconfig.get_paths()["stdlib"])):
            if root in path.parents:
                path = path.relative_to(root)
                break
    return f"{path}:{line}({name})"


def code_key(function) -> Func:
    """The pstats key of a Python function (its code object's file, first line, name)."""
    code = inspect.unwrap(function).__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def breakdown(stats: pstats.Stats, library: str, eval_functions, top_n: int = 15, objective: Any = None,
              adapter: type | None = None) -> Breakdown:
    """Group the own time of ``stats`` (``objective`` and ``adapter``: the profiled run's, whose
    files are owned wherever they live). Of ``eval_functions`` (the objective's ``compute`` and
    ``compute_batch``) the one with the most cumulative time is reported with its calls."""
    raw = stats.stats  # type: ignore[attr-defined]
    attributor = _Attributor(raw, owners(library, objective, adapter))
    groups = dict.fromkeys(GROUPS, 0.0)
    rows = []
    for func, (_cc, nc, tt, ct, _callers) in raw.items():
        split = attributor.own_time(func)
        for g, seconds in split.items():
            groups[g] += seconds
        main = max(split, key=lambda g: split[g]) if split else "other"
        rows.append(HotFunction(label(func), main, nc, tt, ct))
    rows.sort(key=lambda r: r.own_s, reverse=True)
    none: tuple = (0, 0, 0.0, 0.0, {})
    eval_key = max(map(code_key, eval_functions), key=lambda k: raw.get(k, none)[3])
    _, eval_calls, _, eval_cum, _ = raw.get(eval_key, none)
    items = [v for k, v in raw.items() if k[0] == "~" and "method 'item' of 'torch" in k[2]]
    return Breakdown(groups=groups, total_s=sum(v[2] for v in raw.values()), eval_function=label(eval_key),
                     eval_calls=eval_calls, eval_cum_s=eval_cum, item_calls=sum(v[1] for v in items),
                     item_s=sum(v[2] for v in items), top=rows[:top_n])
