"""Helpers shared by the verbs: ``key=value`` parsing and rich output."""

from __future__ import annotations

import ast
from typing import Any

from rich.console import Console

from optbench.harness.budget import HarnessError

console = Console()
err_console = Console(stderr=True)


def parse_pairs(pairs: list[str] | None, what: str) -> dict[str, Any]:
    """``["n=500", "data=goog"]`` -> ``{"n": 500, "data": "goog"}`` (Python literals, else strings)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise HarnessError(f"{what} {pair!r} must look like key=value")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        out[key.strip()] = value
    return out
