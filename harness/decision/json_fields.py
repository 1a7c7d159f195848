"""Typed reading of a JSON document, field by field: a :class:`JsonObject` knows where it sits in the
document (``classes/maxdiff/presets``), so a malformed file is refused with a
:class:`DecisionFormatError` that names the field and says what it is instead (``decision.json``'s
one parser, ``model.Decision.from_json``, reads through it). Cheap to import, like ``model``.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar, get_args

from optbench.harness.core.errors import HarnessError
from optbench.harness.report.estimate import Estimate, IntervalKind


class DecisionFormatError(HarnessError):
    """A ``decision.json`` this optbench cannot read; the message says which field and why."""


T = TypeVar("T")
_MISSING: Any = object()


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number",
            float: "number"}.get(type(value), type(value).__name__)


class JsonObject:
    """A JSON object being read, with where it sits in the document (``classes/maxdiff/presets``)."""

    def __init__(self, value: object, where: str):
        if not isinstance(value, dict):
            raise DecisionFormatError(f"{where or 'the document'} is a JSON {_kind(value)}, not an object")
        self.d: dict[str, Any] = value
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}/{key}" if self.where else key

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        if key in self.d:
            return self.d[key]
        if default is _MISSING:
            raise DecisionFormatError(f"{self.at(key)} is missing")
        return default

    def get(self, key: str, kind: type[T], default: Any = _MISSING) -> T:
        """A string, integer or boolean field (``default`` when absent, if given)."""
        if key not in self.d and default is not _MISSING:
            return default
        value = self.raw(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            wanted = {str: "a string", int: "an integer", bool: "a boolean"}.get(kind, kind.__name__)
            raise DecisionFormatError(f"{self.at(key)} is a JSON {_kind(value)}, not {wanted}")
        return value

    def number(self, key: str, optional: bool = False) -> float:
        """A number; null (how NaN is written) reads as NaN, and so does an ``optional`` one absent."""
        value = self.raw(key, None if optional else _MISSING)
        if value is None:
            return math.nan
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DecisionFormatError(f"{self.at(key)} is a JSON {_kind(value)}, not a number")
        return float(value)

    def optional_int(self, key: str) -> int | None:
        value = self.raw(key, None)
        return None if value is None else self.get(key, int)

    def literal(self, key: str, allowed: tuple[str, ...]) -> Any:
        value = self.get(key, str)
        if value not in allowed:
            raise DecisionFormatError(f"{self.at(key)} is {value!r}, not one of {', '.join(allowed)}")
        return value

    def strings(self, key: str, default: Any = _MISSING) -> tuple[str, ...]:
        if key not in self.d and default is not _MISSING:
            return tuple(default)
        values = self.raw(key)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DecisionFormatError(f"{self.at(key)} is not a list of strings")
        return tuple(values)

    def obj(self, key: str) -> JsonObject:
        return JsonObject(self.raw(key), self.at(key))

    def mapping(self, key: str) -> dict[str, Any]:
        """A free-form object (options, a budget)."""
        return dict(self.obj(key).d)

    def budget(self, key: str) -> dict[str, Any]:
        """A budget as ``Budget`` takes it: max_evals (an integer) and/or max_seconds (a number), in range."""
        from optbench.harness.core.budget import Budget

        budget = self.mapping(key)
        kinds = {"max_evals": (int,), "max_seconds": (int, float)}
        wrong = [f"{k}={v!r}" for k, v in budget.items()
                 if k not in kinds or not (v is None or isinstance(v, kinds[k]) and not isinstance(v, bool))]
        if wrong:
            raise DecisionFormatError(f"{self.at(key)} is not max_evals (an integer) and/or max_seconds (a number): "
                                      f"{', '.join(wrong)}")
        try:
            Budget(budget.get("max_evals"), budget.get("max_seconds"))
        except HarnessError as exc:
            raise DecisionFormatError(f"{self.at(key)}: {exc}") from None
        return budget

    def counts(self, key: str) -> dict[str, int]:
        counts = self.obj(key)
        return {k: counts.get(k, int) for k in counts.d}

    def members(self, key: str) -> dict[str, JsonObject]:
        found = self.obj(key)
        return {name: found.obj(name) for name in found.d}

    def items(self, key: str, optional: bool = False) -> list[JsonObject]:
        values = self.raw(key, [] if optional else _MISSING)
        if not isinstance(values, list):
            raise DecisionFormatError(f"{self.at(key)} is a JSON {_kind(values)}, not a list")
        return [JsonObject(v, f"{self.at(key)}/{i}") for i, v in enumerate(values)]

    def estimate(self, key: str) -> Estimate:
        e = self.obj(key)
        kind: IntervalKind = e.literal("interval", get_args(IntervalKind))
        return Estimate(e.number("median"), e.number("low"), e.number("high"), kind)
