"""optbench's fixed-target figures against cocopp's, on the same runs.

For every algorithm, function, dimension and COCO target Δ = 10^2 … 10^−8 (precision f − f_opt):
- ERT: optbench's ``stats.ert`` over the records' hitting times vs cocopp's ``DataSet.detERT``
  read back from the exported files;
- runtime ECDF: optbench's hitting times (``stats.hitting_time``; ``inf`` = never) vs cocopp's
  ``DataSet.detEvals`` (NaN = never), compared run by run — the ECDF over (run, target) pairs is a
  function of these alone.
Both are counts of evaluations, so they should agree exactly; ``TOLERANCE`` (relative) only
absorbs the 10 significant digits the data files keep.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from pathlib import Path

import numpy as np

from optbench.harness.coco.export import CocoRun
from optbench.harness.report import stats

TARGETS = tuple(10.0**k for k in range(2, -9, -1))
TOLERANCE = 1e-9


def _hits(run: CocoRun, target: float) -> float:
    return stats.hitting_time([(n, 0.0, v) for n, v in run.steps], target)


def compare(groups: dict[str, list[CocoRun]], folder: Path) -> list[dict]:
    """One row per (algorithm, function, dim, target): both ERTs, their relative difference, and
    whether the per-run hitting times agree; ``folder`` holds what ``export`` wrote from ``groups``."""
    # cocopp warns about fewer than 15 instances and its unreachable online archive, and prints a
    # consistency line per data set: keep both out of optbench's output
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        from cocopp.pproc import DataSetList

        rows = []
        for name, runs in groups.items():
            for ds in DataSetList(str(Path(folder) / name)):
                mine = sorted((r for r in runs if (r.function, r.dim) == (ds.funcId, ds.dim)),
                              key=lambda r: r.instance)  # cocopp keeps runs in file order: by instance
                coco_ert = ds.detERT(list(TARGETS))
                coco_evals = ds.detEvals(list(TARGETS))
                for target, ert_coco, evals_coco in zip(TARGETS, coco_ert, coco_evals):
                    hits = [_hits(r, target) for r in mine]
                    ert_mine = stats.ert(hits, [r.evals for r in mine])
                    ert_coco = float(ert_coco)
                    same_hits = bool(np.array_equal(np.nan_to_num(np.asarray(hits, float), posinf=-1),
                                                    np.nan_to_num(np.asarray(evals_coco, float), nan=-1)))
                    rows.append(dict(algorithm=name, function=ds.funcId, dim=ds.dim, target=target, runs=len(mine),
                                     ert_optbench=ert_mine, ert_cocopp=ert_coco, rel_diff=_rel_diff(ert_mine, ert_coco),
                                     same_hitting_times=same_hits))
    return rows


def _rel_diff(a: float, b: float) -> float:
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    return abs(a - b) / max(abs(a), abs(b), 1.0)
