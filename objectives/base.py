"""The objective interface: a named search space, scalar and batched evaluation, a reference optimum.

Every objective is minimized. Points are given as mappings ``{name: value}``; internally they are
*encoded* as float64 vectors (integers as their value, categoricals as the index of the choice), which
is what optimizer adapters and batched evaluation work with.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import torch

from optbench.errors import OptbenchError

#: What an objective's :meth:`Objective.reference` knows (see ``Objective.knowledge``).
Knowledge = Literal["optimum", "bound", "none"]
KNOWLEDGE: tuple[Knowledge, ...] = get_args(Knowledge)


class ObjectiveError(OptbenchError):
    """A user mistake when building or evaluating an objective (bad name, option or point)."""


@dataclass(frozen=True)
class FloatParam:
    """A real parameter in the closed box ``[low, high]``."""

    name: str
    low: float
    high: float


@dataclass(frozen=True)
class IntParam:
    """An integer parameter in ``[low, high]`` (both included)."""

    name: str
    low: int
    high: int


@dataclass(frozen=True)
class CategoricalParam:
    """A parameter taking one of ``choices``; encoded as the choice's index."""

    name: str
    choices: tuple[str, ...]

    @property
    def low(self) -> int:
        return 0

    @property
    def high(self) -> int:
        return len(self.choices) - 1


Param = FloatParam | IntParam | CategoricalParam


@dataclass(frozen=True)
class SearchSpace:
    """An ordered tuple of named parameters with encode/decode between mappings and vectors."""

    params: tuple[Param, ...]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def dim(self) -> int:
        return len(self.params)

    @cached_property
    def lower(self) -> np.ndarray:
        """Lower bounds (read-only, built once: snapping runs on every evaluation)."""
        return _read_only(np.array([p.low for p in self.params], dtype=float))

    @cached_property
    def upper(self) -> np.ndarray:
        """Upper bounds (read-only, built once)."""
        return _read_only(np.array([p.high for p in self.params], dtype=float))

    @cached_property
    def is_continuous(self) -> bool:
        """True when every parameter is a float (no rounding needed)."""
        return all(isinstance(p, FloatParam) for p in self.params)

    def relaxed_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Box for continuous optimizers: integer/categorical axes widened by 0.5 so rounding
        (see :meth:`snap`) gives every value the same share of the box (read-only, built once)."""
        return self._relaxed

    @cached_property
    def _relaxed(self) -> tuple[np.ndarray, np.ndarray]:
        pad = np.array([0.0 if isinstance(p, FloatParam) else 0.5 - 1e-9 for p in self.params])
        return _read_only(self.lower - pad), _read_only(self.upper + pad)

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Map a relaxed vector (or a (k, dim) array) into the space: round discrete axes, clip all."""
        x = np.asarray(x, dtype=float)
        if self.is_continuous:  # maximum/minimum: a third of np.clip's cost on tiny arrays
            return np.minimum(np.maximum(x, self.lower), self.upper)
        out = x.copy()
        for j, p in enumerate(self.params):
            if not isinstance(p, FloatParam):
                out[..., j] = np.rint(out[..., j])
        return np.clip(out, self.lower, self.upper)

    def encode(self, point: Mapping[str, Any]) -> np.ndarray:
        """Validate a mapping and return its float64 vector; raises ObjectiveError naming the problem."""
        if not isinstance(point, Mapping):
            raise ObjectiveError(f"a point must be a mapping {{name: value}}, got {type(point).__name__}")
        missing = [n for n in self.names if n not in point]
        extra = [n for n in point if n not in self.names]
        if missing or extra:
            raise ObjectiveError(
                f"point {dict(point)!r}: missing {missing}, unknown {extra}; parameters are {self.names}"
            )
        return np.array([_encode_value(p, point[p.name]) for p in self.params], dtype=float)

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """Turn an encoded vector back into a mapping of plain Python values."""
        out: dict[str, Any] = {}
        for p, v in zip(self.params, np.asarray(x, dtype=float)):
            if isinstance(p, FloatParam):
                out[p.name] = float(v)
            elif isinstance(p, IntParam):
                out[p.name] = int(round(v))
            else:
                out[p.name] = p.choices[int(round(v))]
        return out

    def check_array(self, x: np.ndarray) -> np.ndarray:
        """Validate an encoded (k, dim) array: finite, in bounds, integral on discrete axes."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ObjectiveError(f"expected an array of shape (k, {self.dim}) for {self.names}, got {x.shape}")
        if not np.isfinite(x).all():
            raise ObjectiveError(f"point contains NaN or inf: {x[~np.isfinite(x).all(axis=1)][0].tolist()}")
        bad = (x < self.lower) | (x > self.upper)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            p = self.params[j]
            raise ObjectiveError(f"{p.name}={x[i, j]!r} is out of bounds [{p.low}, {p.high}]")
        for j, p in enumerate(self.params):
            if not isinstance(p, FloatParam) and not np.all(x[:, j] == np.rint(x[:, j])):
                raise ObjectiveError(f"{p.name} must be an integer index/value, got {x[:, j].tolist()[:5]}")
        return x

    def describe(self) -> str:
        """One line per parameter, for `optbench list`."""
        parts = []
        for p in self.params:
            if isinstance(p, CategoricalParam):
                parts.append(f"{p.name} in {list(p.choices)}")
            else:
                kind = "float" if isinstance(p, FloatParam) else "int"
                parts.append(f"{p.name}: {kind} [{p.low}, {p.high}]")
        return ", ".join(parts)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _encode_value(p: Param, value: Any) -> float:
    if isinstance(p, CategoricalParam):
        if value not in p.choices:
            raise ObjectiveError(f"{p.name}={value!r} is not one of {list(p.choices)}")
        return float(p.choices.index(value))
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ObjectiveError(f"{p.name}={value!r} has the wrong type; expected a number")
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        raise ObjectiveError(f"{p.name}={value!r} is not finite")
    if isinstance(p, IntParam) and v != round(v):
        raise ObjectiveError(f"{p.name}={value!r} must be an integer in [{p.low}, {p.high}]")
    if not p.low <= v <= p.high:
        raise ObjectiveError(f"{p.name}={value!r} is out of bounds [{p.low}, {p.high}]")
    return v


@dataclass(frozen=True)
class Reference:
    """The best known value of an objective and a point attaining it."""

    value: float
    point: dict[str, Any]


class Objective(ABC):
    """A function to minimize over a :class:`SearchSpace`.

    Subclasses implement :meth:`compute` (one encoded point -> 0-d tensor, no host sync) and
    :meth:`compute_batch` ((k, dim) array -> 1-d tensor). The split lets the instrument time the
    tensor math apart from the ``.item()``/device synchronisation.
    """

    name: str
    space: SearchSpace
    options: dict[str, Any]
    #: What the decision groups by (one shipped optimizer per family); "" means the objective's name.
    family: ClassVar[str] = ""
    #: True when the value is a negated gain (profit, Sharpe): reports show ``-value`` as the gain.
    gain: ClassVar[bool] = False
    #: What :meth:`reference` knows: ``"optimum"`` (proven best value and point), ``"bound"`` (a value
    #: no point can beat) or ``"none"`` (nothing: quality is measured against the best value found).
    knowledge: ClassVar[Knowledge] = "optimum"

    @abstractmethod
    def compute(self, x: np.ndarray) -> torch.Tensor:
        """Value at one encoded, valid point as a 0-d tensor (still on the objective's device)."""

    @abstractmethod
    def compute_batch(self, xs: np.ndarray) -> torch.Tensor:
        """Values at k encoded, valid points as a 1-d tensor, in one tensor pass."""

    def reference(self) -> Reference | None:
        """The proven optimum (``knowledge == "optimum"``), a bound (``"bound"``) or ``None``."""
        return None

    @classmethod
    def variants(cls) -> list[dict[str, Any]]:
        """Representative option sets (what ``optbench study`` iterates); the defaults alone here."""
        return [{}]

    @classmethod
    def instances(cls) -> list[dict[str, Any]]:
        """The problem instances this objective is a family of, as option sets applied over the options
        given (``optbench run --instances declared``; a decision is made and validated across them).
        By default one instance: the options as given."""
        return [{}]

    def __call__(self, point: Mapping[str, Any]) -> float:
        """Evaluate one point given as ``{name: value}``."""
        x = self.space.encode(point)
        return float(self.compute(x).item())

    def batch(self, points: np.ndarray | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Evaluate many points: a (k, dim) encoded array or a list of mappings."""
        if isinstance(points, np.ndarray) or (len(points) and not isinstance(points[0], Mapping)):
            xs = self.space.check_array(np.atleast_2d(np.asarray(points, dtype=float)))
        else:
            xs = np.array([self.space.encode(p) for p in points], dtype=float).reshape(-1, self.space.dim)
        if len(xs) == 0:
            return np.empty(0)
        return self.compute_batch(xs).detach().cpu().numpy().astype(float)

    def exact_value(self, point: Mapping[str, Any]) -> float:
        """The value reported for a returned point; objectives with a float64 definition override it."""
        return self(point)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"
