"""``optbench export``: the results store as one parquet or CSV table (one row per cell)."""

from __future__ import annotations

from pathlib import Path

import typer

from optbench.harness.commands.common import console

FORMATS = ("parquet", "csv")


def register(app: typer.Typer) -> None:
    app.command("export", help="Write the results store as a parquet or CSV table, one row per cell "
                               "(dict and list fields as JSON text).")(export)


def export(
    out: Path = typer.Option(..., "--out", help="output file"),
    fmt: str | None = typer.Option(None, "--format", help="parquet or csv (default: from --out's suffix)"),
    store: Path = typer.Option(Path("results/optbench.sqlite"), "--store", help="the SQLite results store"),
) -> None:
    from optbench.harness.budget import HarnessError
    from optbench.harness.store import export as write

    fmt = fmt or out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise HarnessError(f"export format {fmt or '(none)'!r} is unknown; give --format parquet or csv "
                           f"(or an --out ending in .parquet / .csv)")
    rows = write(store, out, fmt)
    console.print(f"wrote {rows} records from {store} to {out} ({fmt})", highlight=False)
