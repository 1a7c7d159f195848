"""One rule for turning a given option value (a command-line string or a Python value) into the type
of the option's default, shared by objectives and optimizers. Imports nothing from optbench.

- ``bool`` default: a bool, or one of ``1 true yes on`` / ``0 false no off`` (any case; also 1 and 0);
- ``int`` default: an int, or a number or numeric string with an integral value (``"3"``, ``"3.0"``,
  ``3.0``, ``"1e3"``); ``"3.5"`` and bools are refused;
- ``float`` default: any number or numeric string (bools refused);
- ``str`` default: a string (numbers are written out: ``3`` → ``"3"``);
- ``tuple`` default: a tuple or list, one number (kept as a float) or comma-separated numbers;
- ``None`` default (any type): a numeric string becomes an int or a float, other values are kept;
- any other default: a value of the default's type.
"""

from __future__ import annotations

import math
from typing import Any

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def coerce(value: Any, default: Any) -> Any:
    """``value`` as the type of ``default``; ``ValueError`` if it is not one (see the module's rule)."""
    try:
        return _coerce(value, default)
    except TypeError:
        raise ValueError(value) from None


def _coerce(value: Any, default: Any) -> Any:
    if default is None:
        return _number(value) if isinstance(value, str) and _is_number(value) else value
    if isinstance(default, bool):
        text = str(value).strip().lower()
        if isinstance(value, bool) or text in (*_TRUE, *_FALSE):
            return value if isinstance(value, bool) else text in _TRUE
        raise ValueError(value)
    if isinstance(value, bool) and isinstance(default, int | float):
        raise ValueError(value)
    if isinstance(default, int):
        return _integral(value)
    if isinstance(default, float):
        return float(value.strip() if isinstance(value, str) else value)
    if isinstance(default, str):
        if isinstance(value, str | int | float):
            return str(value)
        raise ValueError(value)
    if isinstance(default, tuple):
        return _tuple(value)
    if isinstance(value, type(default)):
        return value
    raise ValueError(value)


def coerce_option(owner: str, key: str, value: Any, default: Any, error: type[Exception]) -> Any:
    """:func:`coerce`, raising ``error`` with one line naming the option and its ``owner``
    (e.g. ``objective 'maxdiff'``) when ``value`` does not fit."""
    try:
        return coerce(value, default)
    except ValueError:
        raise error(f"option {key}={value!r} of {owner} must be {type(default).__name__} "
                    f"(default {default!r})") from None


def _integral(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    as_float = float(value.strip() if isinstance(value, str) else value)
    if not math.isfinite(as_float) or as_float != int(as_float):
        raise ValueError(value)
    return int(as_float)


def _tuple(value: Any) -> tuple | float:
    if isinstance(value, tuple | list):
        return tuple(value)
    if isinstance(value, int | float):
        return float(value)
    parts = [float(p) for p in str(value).split(",")]
    return parts[0] if len(parts) == 1 else tuple(parts)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(text: str) -> int | float:
    try:
        return int(text.strip())
    except ValueError:
        return float(text)
