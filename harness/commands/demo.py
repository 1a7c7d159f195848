"""``optbench demo``: the main job on its defaults."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from .common import console


def register(app: typer.Typer) -> None:
    app.command("demo", help="Evaluate every registered objective once, with its reference optimum.")(demo)


def demo() -> None:
    import objectives

    table = Table(title="Objectives: one evaluation at the box centre, and the reference optimum")
    for col in ("objective", "value at centre", "reference value", "reference point", "eval µs"):
        table.add_column(col)
    for name in objectives.names():
        obj = objectives.get(name)
        centre = obj.space.snap((obj.space.lower + obj.space.upper) / 2)
        point = obj.space.decode(centre)
        t0 = time.perf_counter()
        value = obj(point)
        us = (time.perf_counter() - t0) * 1e6
        ref = obj.reference()
        pt = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in ref.point.items())
        table.add_row(name, f"{value:.6g}", f"{ref.value:.6g}", pt, f"{us:.0f}")
    console.print(table)
