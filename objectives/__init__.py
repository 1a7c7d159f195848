"""Objectives to minimize, registered by name: ``objectives.get("maxdiff", data="goog", window=3)``.

Adding an objective is one module plus one line in ``REGISTRY``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from optbench.objectives.base import (
    CategoricalParam,
    FloatParam,
    IntParam,
    Objective,
    ObjectiveError,
    Reference,
    SearchSpace,
)
from optbench.objectives.bbob import BBOBObjective
from optbench.objectives.ma_crossover import MACrossoverObjective
from optbench.objectives.maxdiff import MaxDiffObjective
from optbench.objectives.synthetic import FUNCTIONS, SyntheticObjective

REGISTRY: dict[str, Callable[..., Objective]] = {
    "maxdiff": MaxDiffObjective,
    "ma_crossover": MACrossoverObjective,
    **{kind: partial(SyntheticObjective, kind) for kind in FUNCTIONS},
    "bbob": BBOBObjective,
}

__all__ = ["Objective", "ObjectiveError", "Reference", "SearchSpace", "FloatParam", "IntParam",
           "CategoricalParam", "REGISTRY", "get", "names", "option_defaults", "option_help"]


def names() -> list[str]:
    """Registered objective names."""
    return list(REGISTRY)


def _factory(name: str) -> Callable[..., Objective]:
    if name not in REGISTRY:
        raise ObjectiveError(f"unknown objective {name!r}; registered: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def option_defaults(name: str) -> dict[str, Any]:
    """The options an objective accepts, with their defaults."""
    sig = inspect.signature(_factory(name))
    return {k: p.default for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}


def option_help(name: str) -> dict[str, str]:
    """One-line help per option."""
    factory = _factory(name)
    cls = factory.func if isinstance(factory, partial) else factory
    return dict(getattr(cls, "option_help", {}))


def get(name: str, **options: Any) -> Objective:
    """Build objective ``name``; options are checked against its signature and coerced to the
    defaults' types (so ``"3"`` from a command line becomes ``3``)."""
    defaults = option_defaults(name)
    unknown = [k for k in options if k not in defaults]
    if unknown:
        raise ObjectiveError(f"unknown option(s) {unknown} for objective {name!r}; allowed: {list(defaults)}")
    coerced = {k: _coerce(name, k, v, defaults[k]) for k, v in options.items()}
    return _factory(name)(**coerced)


def _coerce(objective: str, key: str, value: Any, default: Any) -> Any:
    kind = type(default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    try:
        if kind is bool:
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind is int:
            as_float = float(value)
            if as_float != int(as_float):
                raise ValueError
            return int(as_float)
        return kind(value)
    except (TypeError, ValueError):
        raise ObjectiveError(
            f"option {key}={value!r} of objective {objective!r} must be {kind.__name__} (default {default!r})"
        ) from None
