"""A plain function becomes an objective, no subclassing: ``optbench.objective(fn, bounds={...})``.

``bounds`` maps each parameter name to ``(low, high)`` (floats: a real interval; two ints: an
integer range, both ends included) or to a list of choices (categorical). Without ``batched``,
``fn`` is called with one keyword argument per parameter (floats, ints, the chosen value); with
``batched=True`` it gets a ``(k, dim)`` array of points, columns in ``bounds`` order, integers as
integral floats and categoricals as the choice's index: a numpy array when ``device`` is None,
else a float64 torch tensor on ``device``. It may return a float, a numpy value or array, or a
torch tensor (CPU or CUDA).

A tensor result stays on its device until the instrument's ``.item()``, so the compute/sync split
is measured as for built-in objectives. A float or numpy result is already on the host: it is
wrapped into a CPU tensor, so ``item_s`` is then ~0 and all of ``fn``'s time is ``compute_s``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

from optbench.objectives.base import (
    KNOWLEDGE,
    CategoricalParam,
    FloatParam,
    IntParam,
    Objective,
    ObjectiveError,
    Param,
    Reference,
    SearchSpace,
)


class FunctionObjective(Objective):
    """An objective around a plain function; see the module docstring for ``fn``'s conventions."""

    def __init__(self, fn: Callable[..., Any], bounds: Mapping[str, Any], *, batched: bool = False,
                 device: str | None = None, family: str = "", gain: bool = False,
                 reference: Reference | Mapping[str, Any] | None = None, knowledge: str | None = None,
                 name: str | None = None):
        if not callable(fn):
            raise ObjectiveError(f"optbench.objective needs a function, got {type(fn).__name__}")
        if device is not None and str(device).startswith("cuda") and not torch.cuda.is_available():
            raise ObjectiveError(f"device={device!r} requested but CUDA is not available here")
        knowledge = knowledge or ("optimum" if reference is not None else "none")
        if knowledge not in KNOWLEDGE or (knowledge != "none") != (reference is not None):
            raise ObjectiveError(f"knowledge={knowledge!r} must be one of {list(KNOWLEDGE)}, and a reference is "
                                 "given exactly when it is not 'none'")
        self.fn, self.batched, self.device = fn, bool(batched), device
        self.name: str = name or str(getattr(fn, "__name__", "function"))
        self.space = _space(bounds)
        if not self.space.dim:
            raise ObjectiveError(f"objective {self.name!r}: bounds must name at least one parameter")
        self.options: dict[str, Any] = {}
        # Per instance: each wrapped function declares its own (the class defaults are for subclasses).
        self.family, self.gain, self.knowledge = family, bool(gain), knowledge  # type: ignore[misc]
        self._reference = reference

    def compute(self, x: np.ndarray) -> torch.Tensor:
        if self.batched:
            return _as_values(self.fn(self._matrix(np.asarray(x, dtype=float)[None, :])), 1, self.name)[0]
        value = _as_values(self.fn(**self.space.decode(x)), 1, self.name)
        return value.reshape(())

    def compute_batch(self, xs: np.ndarray) -> torch.Tensor:
        if self.batched:
            return _as_values(self.fn(self._matrix(xs)), len(xs), self.name)
        return torch.stack([self.compute(x) for x in xs])

    def reference(self) -> Reference | None:
        """The reference given (a point's value is computed here, by ``fn``), or None."""
        if self._reference is None or isinstance(self._reference, Reference):
            return self._reference
        point = dict(self._reference)
        return Reference(self(point), point)

    def _matrix(self, xs: np.ndarray) -> np.ndarray | torch.Tensor:
        return xs if self.device is None else torch.as_tensor(xs, dtype=torch.float64, device=self.device)

    def __repr__(self) -> str:
        return f"FunctionObjective({self.name}: {self.space.describe()})"


def objective(fn: Callable[..., Any], bounds: Mapping[str, Any], *, batched: bool = False,
              device: str | None = None, family: str = "", gain: bool = False,
              reference: Reference | Mapping[str, Any] | None = None, knowledge: str | None = None,
              name: str | None = None) -> FunctionObjective:
    """Wrap ``fn`` (minimized) as an Objective over ``bounds``; ``reference``: a known optimum
    (a ``Reference`` or a point whose value ``fn`` gives), else quality is judged by the best found."""
    return FunctionObjective(fn, bounds, batched=batched, device=device, family=family, gain=gain,
                             reference=reference, knowledge=knowledge, name=name)


def _space(bounds: Mapping[str, Any]) -> SearchSpace:
    """The space ``bounds`` describe, built once per distinct bounds: code that wraps a function per
    problem (``optbench.minimize`` in a loop) passes the same ones each time, and building a space
    touches enough code to cost ~0.2 ms between two optimizations (cold caches)."""
    if all(type(spec) in (list, tuple) for spec in bounds.values()):
        # the value's type is in the key: 1 == 1.0, but (1, 5) is an integer range and (1.0, 5.0) a real one
        key = tuple((name, type(spec) is list, tuple((type(v), v) for v in spec)) for name, spec in bounds.items())
        try:
            return _space_of(key)
        except TypeError:  # unhashable choices: built as given
            pass
    return SearchSpace(tuple(_param(k, v) for k, v in bounds.items()))


@lru_cache(maxsize=256)
def _space_of(key: tuple[tuple[str, bool, tuple[tuple[type, Any], ...]], ...]) -> SearchSpace:
    return SearchSpace(tuple(_param(name, [v for _, v in spec] if is_list else tuple(v for _, v in spec))
                             for name, is_list, spec in key))


def _param(name: str, spec: Any) -> Param:
    """``(low, high)`` -> FloatParam (IntParam when both are ints); a list -> CategoricalParam."""
    if isinstance(spec, list):
        try:
            distinct = len(set(spec)) == len(spec)
        except TypeError:
            raise ObjectiveError(f"{name}: the choices {spec!r} must be hashable (numbers, strings, tuples)") from None
        if not spec or not distinct:
            raise ObjectiveError(f"{name}: the choices {spec!r} must be a non-empty list of distinct values")
        return CategoricalParam(name, tuple(spec))
    if isinstance(spec, Sequence) and len(spec) == 2 and all(_is_number(v) for v in spec):
        low, high = spec
        if not low < high:
            raise ObjectiveError(f"{name}: bounds {spec!r} need low < high")
        if all(isinstance(v, Integral) for v in spec):
            return IntParam(name, int(low), int(high))
        return FloatParam(name, float(low), float(high))
    raise ObjectiveError(f"{name}: bounds must be (low, high) numbers or a list of choices, got {spec!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(float(value))


def _as_values(result: Any, k: int, name: str) -> torch.Tensor:
    """``fn``'s result as a 1-d tensor of ``k`` values; a tensor keeps its device (no sync here)."""
    values = result if isinstance(result, torch.Tensor) else torch.as_tensor(np.asarray(result, dtype=np.float64))
    if values.numel() != k:
        raise ObjectiveError(f"objective {name!r}: the function returned {values.numel()} value(s) for {k} point(s)")
    return values.reshape(k)
