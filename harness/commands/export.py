"""``optbench export``: the results store as one parquet or CSV table (one row per cell), or its
BBOB runs as COCO data folders that cocopp post-processes."""

from __future__ import annotations

from pathlib import Path

import typer

from optbench.harness.commands.common import console
from optbench.harness.store import DEFAULT_PATH

FORMATS = ("parquet", "csv", "coco")


def register(app: typer.Typer) -> None:
    app.command("export", help="Write the results store as a parquet or CSV table, one row per cell "
                               "(dict and list fields as JSON text); or, with --format coco, its BBOB runs "
                               "as COCO data folders (one per optimizer) for `python -m cocopp`.")(export)


def export(
    out: Path = typer.Option(..., "--out", help="output file (a folder for --format coco)"),
    fmt: str | None = typer.Option(None, "--format", help="parquet, csv or coco (default: from --out's suffix)"),
    store: Path = typer.Option(DEFAULT_PATH, "--store", help="the SQLite results store"),
    cocopp: bool = typer.Option(False, "--cocopp", help="coco: also run cocopp into OUT/cocopp (offline; slow)"),
    check: bool = typer.Option(False, "--check", help="coco: compare optbench's ERT and hitting times with "
                                                      "cocopp's reading of the written files"),
) -> None:
    from optbench.harness.core.errors import HarnessError
    from optbench.harness.paths import check_output_file, check_output_folder
    from optbench.harness.store import check as check_store
    from optbench.harness.store import export as write

    fmt = fmt or out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise HarnessError(f"export format {fmt or '(none)'!r} is unknown; give --format parquet, csv or coco "
                           f"(or an --out ending in .parquet / .csv)")
    check_store(store, must_exist=True, write=False)
    if fmt == "coco":
        from optbench.harness.coco.commands import export_coco

        check_output_folder(out, "--out")
        export_coco(store, out, with_cocopp=cocopp, check=check)
        return
    check_output_file(out, "--out")
    rows = write(store, out, fmt)
    console.print(f"wrote {rows} records from {store} to {out} ({fmt})", highlight=False)
