"""``--instances``: the problem instances a run covers, as option sets merged over ``--option``.

Each spec is ``KEY=V1,V2,…`` (values as Python literals, else strings) or ``KEY=START:STOP[:STEP]``
(the integers of Python's ``range(START, STOP, STEP)``: STOP excluded); several specs give their
cartesian product. ``declared`` takes the objective's own instances (``Objective.instances()`` or
those given to ``register_objective(..., instances=...)``).
"""

from __future__ import annotations

import ast
import itertools
import re
from typing import Any

from optbench.harness.core.errors import HarnessError

DECLARED = "declared"
MAX_INSTANCES = 100_000
_RANGE = re.compile(r"^\s*(-?\d+)\s*:\s*(-?\d+)\s*(?::\s*(-?\d+)\s*)?$")


def _literal(raw: str) -> Any:
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def int_range(raw: str, what: str) -> range | None:
    """``"0:6:2"`` -> ``range(0, 6, 2)`` (STOP excluded); None when ``raw`` is not ``START:STOP[:STEP]``.
    A zero step or an empty range is refused, naming ``what``."""
    found = _RANGE.match(raw)
    if not found:
        return None
    start, stop, step = (int(g) if g is not None else 1 for g in found.groups())
    if step == 0:
        raise HarnessError(f"{what}: the step must not be 0")
    if not range(start, stop, step):
        raise HarnessError(f"{what}: range({start}, {stop}, {step}) is empty (STOP is excluded)")
    return range(start, stop, step)


def values(spec: str) -> tuple[str, list[Any]]:
    """``"window=0:6:2"`` -> ``("window", [0, 2, 4])``; ``"eod=True,False"`` -> ``("eod", [True, False])``."""
    key, sep, raw = spec.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise HarnessError(f"--instances {spec!r} must look like KEY=V1,V2,… or KEY=START:STOP[:STEP]")
    found = int_range(raw, f"--instances {spec!r}")
    if found is not None:
        return key, list(found)
    if ":" in raw and not raw.strip().startswith(("'", '"')):
        raise HarnessError(f"--instances {spec!r}: a range is START:STOP[:STEP] with integers")
    parts = [p.strip() for p in raw.split(",")]
    if any(not p for p in parts):
        raise HarnessError(f"--instances {spec!r}: an empty value in the list")
    return key, [_literal(p) for p in parts]


def product(specs: list[str] | None) -> list[dict[str, Any]] | None:
    """The cartesian product of the specs as option dicts; None for no specs or for ``declared`` alone."""
    if not specs:
        return None
    if DECLARED in (s.strip() for s in specs):
        if len(specs) > 1:
            raise HarnessError("--instances declared takes the objective's own instances: give it alone")
        return None
    axes = [values(s) for s in specs]
    keys = [k for k, _ in axes]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise HarnessError(f"--instances names {', '.join(repeated)} more than once: list every value in one spec")
    size = 1
    for _, vs in axes:
        size *= len(vs)
    if size > MAX_INSTANCES:
        raise HarnessError(f"--instances gives {size} instances, more than {MAX_INSTANCES}")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(vs for _, vs in axes))]


def wants_declared(specs: list[str] | None) -> bool:
    """True when the specs are ``declared`` alone."""
    return bool(specs) and [s.strip() for s in specs or []] == [DECLARED]


def overlap(options: dict[str, Any], instances: list[dict[str, Any]]) -> list[str]:
    """Keys set both by ``--option`` and by the instances (ambiguous: refused by the caller)."""
    return sorted({k for i in instances for k in i if k in options})


def of_objective(name: str, options: dict[str, Any], specs: list[str] | None,
                 declared_by_default: bool = False) -> list[dict[str, Any]]:
    """The option sets of ``name``'s instances, each merged over ``options``: the product of
    ``specs``, the objective's declared instances for ``declared`` (or for no specs when
    ``declared_by_default``), else the one instance ``options`` give."""
    from optbench import objectives

    given = product(specs)
    declared = wants_declared(specs) or (declared_by_default and not specs)
    chosen = objectives.instances(name) if declared else given or [{}]
    both = overlap(options, chosen)
    if both:
        raise HarnessError(f"--option and the instances of {name} both set {', '.join(both)}: give it in one place")
    return [{**options, **i} for i in chosen]
