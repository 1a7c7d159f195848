"""``optbench perf NAME``: side-by-side performance checks that print measured ratios.

These are benchmarks, not tests: each runs the contenders in one process and prints figures.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module

import typer

from optbench.harness import perf as perf_checks

# Every module in harness/perf with a ``main()`` is a check, named by its module name.
CHECKS = {m.name: m.name for m in pkgutil.iter_modules(perf_checks.__path__)}


def register(app: typer.Typer) -> None:
    app.command("perf", help="Run a performance check and print its figures: " + ", ".join(CHECKS))(perf)


def perf(name: str = typer.Argument(..., help="which check: " + ", ".join(CHECKS))) -> None:
    from optbench.harness.core.errors import HarnessError

    if name not in CHECKS:
        raise HarnessError(f"unknown perf check {name!r}; available: {', '.join(CHECKS)}")
    import_module(f"optbench.harness.perf.{CHECKS[name]}").main()
