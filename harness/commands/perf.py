"""``optbench perf NAME``: side-by-side performance checks that print measured ratios.

These are benchmarks, not tests: each runs the contenders in one process and prints figures.
"""

from __future__ import annotations

from importlib import import_module

import typer

# name -> module in harness.perf with a ``main()`` that prints its figures.
CHECKS = {
    "objectives": "objective_speed",
    "instrument": "instrument_overhead",
}


def register(app: typer.Typer) -> None:
    app.command("perf", help="Run a performance check and print its figures: " + ", ".join(CHECKS))(perf)


def perf(name: str = typer.Argument(..., help="which check: " + ", ".join(CHECKS))) -> None:
    from ..budget import HarnessError

    if name not in CHECKS:
        raise HarnessError(f"unknown perf check {name!r}; available: {', '.join(CHECKS)}")
    import_module(f"harness.perf.{CHECKS[name]}").main()
