"""Named suites (``optbench run --suite NAME``): matrices kept in ``suites.toml`` beside this module."""

from __future__ import annotations

import itertools
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell
from optbench.harness.execution.matrix import Named, expand

SUITES_FILE = Path(__file__).with_name("suites.toml")
_BLOCK_KEYS = {"seeds", "budgets", "seconds", "optimizers", "objectives"}


@lru_cache(maxsize=1)
def _suites() -> dict[str, dict[str, Any]]:
    with SUITES_FILE.open("rb") as f:
        return tomllib.load(f)


def names() -> list[str]:
    """The suites' names."""
    return list(_suites())


def description(name: str) -> str:
    return _suite(name).get("description", "")


def cells(name: str) -> list[Cell]:
    """The suite's cells, unchecked (``harness.matrix.resolve`` checks them)."""
    out: list[Cell] = []
    for i, block in enumerate(_suite(name).get("blocks", [])):
        where = f"suite {name!r} block {i + 1}"
        unknown = set(block) - _BLOCK_KEYS
        if unknown:
            raise HarnessError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_BLOCK_KEYS)}")
        budgets = [Budget(int(n), block.get("seconds")) for n in block.get("budgets", [500])]
        objectives = [spec for entry in block.get("objectives", []) for spec in _objective_specs(entry, where)]
        optimizers = [_named(entry, where) for entry in block.get("optimizers", [])]
        out += expand(objectives, optimizers, budgets, range(int(block.get("seeds", 1))))
    return out


def _suite(name: str) -> dict[str, Any]:
    if name not in _suites():
        raise HarnessError(f"unknown suite {name!r}; defined in {SUITES_FILE.name}: {', '.join(_suites())}")
    return _suites()[name]


def _named(entry: str | dict[str, Any], where: str) -> Named:
    if isinstance(entry, str):
        return entry, {}
    if not isinstance(entry, dict) or "name" not in entry:
        raise HarnessError(f"{where}: {entry!r} must be a name or {{ name = …, options = {{ … }} }}")
    return entry["name"], dict(entry.get("options", {}))


def _objective_specs(entry: str | dict[str, Any], where: str) -> list[Named]:
    name, options = _named(entry, where)
    sweep = entry.get("sweep", {}) if isinstance(entry, dict) else {}
    axes = [[(key, v) for v in _values(values, f"{where} sweep {key}")] for key, values in sweep.items()]
    return [(name, {**options, **dict(combo)}) for combo in itertools.product(*axes)]


def _values(values: Any, where: str) -> list[Any]:
    if isinstance(values, list):
        return values
    if isinstance(values, dict) and set(values) == {"from", "to"}:
        return list(range(int(values["from"]), int(values["to"]) + 1))
    raise HarnessError(f"{where}: {values!r} must be a list or {{ from = A, to = B }}")
