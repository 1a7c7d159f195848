"""Objectives to minimize, registered by name: ``objectives.get("maxdiff", data="goog", window=3)``.

Adding an objective is one module plus one :func:`register` call (or a plug-in: see
:mod:`optbench.plugins`). A registered factory is a class or function returning an
``Objective`` (its keyword arguments are the options), an ``Objective`` instance (no options), or
a ``module:attr`` string imported on first use.
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
from optbench.objectives.function import FunctionObjective, objective
from optbench.objectives.ma_crossover import MACrossoverObjective
from optbench.objectives.maxdiff import MaxDiffObjective
from optbench.objectives.synthetic import FUNCTIONS, SyntheticObjective
from optbench.options import coerce_option
from optbench.registry import Registry

Factory = Callable[..., Objective]

#: Instances declared at registration (``register(name, factory, instances=[...])``).
INSTANCES: dict[str, list[dict[str, Any]]] = {}

__all__ = ["Objective", "ObjectiveError", "Reference", "SearchSpace", "FloatParam", "IntParam",
           "CategoricalParam", "FunctionObjective", "REGISTRY", "get", "names", "objective",
           "coerced_options", "declaration", "instances", "option_defaults", "option_help", "register"]


def _accept(name: str, target: Any) -> Factory:
    """What the registry keeps for ``target``: a factory (an Objective instance becomes one)."""
    if isinstance(target, Objective):
        return partial(_itself, target)
    if not callable(target):
        raise ObjectiveError(f"objective {name!r}: expected a factory, an Objective or 'module:attr', "
                             f"got {type(target).__name__}")
    return target


def _itself(objective: Objective) -> Objective:
    return objective


#: Every objective name: builtins, entry points (group ``optbench.objectives``), plug-ins, one-offs.
REGISTRY: Registry[Factory] = Registry("objective", "optbench.objectives", ObjectiveError, _accept,
                                       "package.module:factory")


def register(name: str, factory: Factory | Objective | str, origin: str | None = None,
             instances: list[dict[str, Any]] | None = None, *, replace: bool = False) -> None:
    """Register ``factory`` as ``name`` (see :meth:`Registry.register`: a taken name is refused
    unless ``replace``). ``instances`` (option sets) declares the problems it is a family of,
    overriding what the class declares (see :func:`instances`)."""
    if instances is not None and (not isinstance(instances, list) or not instances
                                  or not all(isinstance(i, dict) for i in instances)):
        raise ObjectiveError(f"objective {name!r}: instances must be a non-empty list of option dicts")
    REGISTRY.register(name, factory, origin=origin, replace=replace)
    if instances is not None:
        INSTANCES[name] = [dict(i) for i in instances]
    else:
        INSTANCES.pop(name, None)


_BUILTINS: dict[str, Factory] = {"maxdiff": MaxDiffObjective, "ma_crossover": MACrossoverObjective,
                                  **{kind: partial(SyntheticObjective, kind) for kind in FUNCTIONS},
                                  "bbob": BBOBObjective}
for _name, _factory_of in _BUILTINS.items():
    register(_name, _factory_of, origin="builtin")


def names() -> list[str]:
    """Registered objective names (plug-ins included)."""
    return REGISTRY.names()


def _factory(name: str) -> Factory:
    return REGISTRY.get(name)


def declaration(name: str) -> type[Objective] | Objective | None:
    """What ``name`` declares about itself (``family``, ``gain``, ``knowledge``, ``variants``, option
    help), found without building it: a registered instance, else the class the factory builds
    (the factory itself, a partial's function or a function's return annotation); None when unknown."""
    factory = _factory(name)
    if isinstance(factory, partial):
        if factory.func is _itself:
            return factory.args[0]
        factory = factory.func
    if isinstance(factory, type) and issubclass(factory, Objective):
        return factory
    try:
        returned = inspect.signature(factory, eval_str=True).return_annotation
    except Exception:  # an annotation that does not evaluate: unknown, not an error
        return None
    if not (isinstance(returned, type) and issubclass(returned, Objective)) or issubclass(returned, FunctionObjective):
        return None  # a function objective declares family, gain and knowledge per instance, not per class
    return returned


def instances(name: str) -> list[dict[str, Any]]:
    """The instances ``name`` is a family of, as option sets: those given to :func:`register`, else the
    class's ``instances()``, else one instance (its options as given)."""
    _factory(name)  # loads plug-ins; raises for an unknown name
    if name in INSTANCES:
        return [dict(i) for i in INSTANCES[name]]
    declared = declaration(name)
    found = declared.instances() if declared is not None else [{}]
    return [dict(i) for i in found]


def option_defaults(name: str) -> dict[str, Any]:
    """The options an objective accepts, with their defaults."""
    sig = inspect.signature(_factory(name))
    return {k: p.default for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}


def option_help(name: str) -> dict[str, str]:
    """One-line help per option."""
    return dict(getattr(declaration(name), "option_help", None) or getattr(_factory(name), "option_help", {}))


def get(name: str, **options: Any) -> Objective:
    """Build objective ``name``; options are checked against its signature and coerced to the
    defaults' types (so ``"3"`` from a command line becomes ``3``)."""
    given = coerced_options(name, options)
    built = _factory(name)(**given)
    if not isinstance(built, Objective):
        raise ObjectiveError(f"objective {name!r} ({REGISTRY.origin(name)}) built a {type(built).__name__}, not an "
                             "Objective: wrap a plain function with optbench.objective(fn, bounds=...)")
    if not built.options:  # a factory wrapping a function: its options are what it was called with
        built.options = {**option_defaults(name), **given}
    return built


def coerced_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` checked against objective ``name``'s signature and coerced to the defaults' types."""
    defaults = option_defaults(name)
    unknown = [k for k in options if k not in defaults]
    if unknown:
        raise ObjectiveError(f"unknown option(s) {unknown} for objective {name!r}; allowed: {list(defaults)}")
    return {k: coerce_option(f"objective {name!r}", k, v, defaults[k], ObjectiveError) for k, v in options.items()}
