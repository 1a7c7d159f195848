"""``optbench export --format coco``'s work: write the folders, run cocopp, cross-check, and the
report's link to cocopp's pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from optbench.harness.coco.export import export, group_runs
from optbench.harness.core.errors import HarnessError

COCOPP_FOLDER = "cocopp"  # under the export folder: cocopp's pages (index.html)


def cocopp_command(folders: list[Path], out: Path) -> list[str]:
    """``python -m cocopp -o OUT FOLDER …``: cocopp's standard pages for these algorithms."""
    return [sys.executable, "-m", "cocopp", "-o", str(out), *map(str, folders)]


def run_cocopp(folders: list[Path], out: Path) -> Path:
    """Run cocopp (offline: it only warns that its online archive is unreachable); returns its index page."""
    done = subprocess.run(cocopp_command(folders, out), capture_output=True, text=True)
    index = out / "index.html"
    if done.returncode != 0 or not index.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise HarnessError(f"cocopp failed (exit {done.returncode}): {' | '.join(tail)}")
    return index


def export_coco(store: Path, out: Path, with_cocopp: bool = False, check: bool = False) -> None:
    """Write the store's BBOB runs under ``out``; optionally run cocopp and the cross-check."""
    from optbench.harness.commands.common import console
    from optbench.harness.store import load_records

    groups = group_runs(load_records(store))
    try:
        written = export(groups, out)
    except OSError as exc:
        raise HarnessError(f"cannot write COCO data under {out}: {exc.strerror or exc} ({exc.filename})") from None
    if not written:
        raise HarnessError(f"{store} holds no runs of a BBOB objective (run `optbench run --suite bbob` first)")
    folders = [out / name for name in sorted(written)]
    console.print(f"wrote COCO data for {sum(written.values())} runs of {len(written)} optimizers under {out}; "
                  f"post-process with: python {' '.join(cocopp_command(folders, out / COCOPP_FOLDER)[1:])}", highlight=False)
    if with_cocopp:
        console.print(f"cocopp pages: {run_cocopp(folders, out / COCOPP_FOLDER)}", highlight=False)
    if check:
        from optbench.harness.coco.crosscheck import TOLERANCE, compare

        rows = compare(groups, out)
        worst = max(r["rel_diff"] for r in rows)
        differ = sum(not r["same_hitting_times"] for r in rows)
        console.print(f"cross-check over {len(rows)} (optimizer, function, dim, target) cells: largest relative "
                      f"ERT difference optbench vs cocopp {worst:.2g} (tolerance {TOLERANCE:g}); hitting times "
                      f"differ in {differ}", highlight=False)
        if worst > TOLERANCE or differ:
            raise HarnessError("optbench's and cocopp's ERT / hitting times disagree (see above)")


def coco_sections(report_out: Path, coco_out: Path = Path("results/coco")) -> list:
    """The report's hook: a section naming cocopp's pages (path relative to ``report_out``) when
    ``optbench export --format coco --out results/coco --cocopp`` has written them, else ``[]``."""
    from optbench.harness.report.render import Section

    index = coco_out / COCOPP_FOLDER / "index.html"
    if not index.exists():
        return []
    return [Section("COCO post-processing (cocopp)", items=[
        f"[cocopp's standard pages]({os.path.relpath(index, report_out)}) for the BBOB runs (ERT tables, "
        "runtime ECDFs, scaling with dimension)"])]
