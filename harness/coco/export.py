"""Runs of BBOB objectives → COCO data folders (the ``bbob`` logger's documented file format).

One folder per optimizer configuration (COCO's "algorithm"), holding per function ``f``:
- ``bbobexp_f{f}.info``: per dimension, a header line (suite, funcId, DIM, Precision, algId,
  logger, data_format), a comment line, and ``data_f{f}/bbobexp_f{f}_DIM{d}.dat, i:evals|precision, …``
  (one entry per run: its instance, evaluations spent and final precision f − f_opt);
- ``data_f{f}/bbobexp_f{f}_DIM{d}.dat`` and ``.tdat``: per run a ``%`` header naming f_opt, then one
  line ``evals 0 best_precision best_f best_f`` per improvement of the best-so-far value (the
  record's trace) and a last line at the run's final evaluation count.
COCO's loggers write ``.dat`` lines when a target is crossed and ``.tdat`` lines on an evaluation
grid; lines at every improvement describe the same best-so-far step function, which is all cocopp
reads (columns 1 and 3), so both files hold the same lines. A run's trials are its (instance, seed)
pairs: COCO aggregates over instances, optbench's seeds add repetitions.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from optbench.harness.core.record import RunRecord
from optbench.harness.paths import file_stem

BBOB = "bbob"  # the built-in objective (and its family) whose runs are exported
PRECISION = 1e-8  # COCO's final target (f − f_opt) for bbob
DATA_FORMAT = "bbob-new2"  # columns: f evals, g evals, best f − f_opt, measured f, best measured f
_HEADER = ("% f evaluations | g evaluations | best noise-free fitness - Fopt ({f_opt:.12e}) + sum g_i+ | "
           "measured fitness | best measured fitness or single-digit g-values")


@dataclass(frozen=True)
class CocoRun:
    """One run as COCO sees it: the problem, f_opt, and its best-so-far precision steps."""

    function: int
    dim: int
    instance: int
    f_opt: float
    steps: tuple[tuple[int, float], ...]  # (evaluations, best f − f_opt so far), evaluations increasing

    @property
    def evals(self) -> int:
        return self.steps[-1][0]

    @property
    def final(self) -> float:
        return self.steps[-1][1]


def coco_run(record: RunRecord) -> CocoRun | None:
    """The COCO view of a record of the built-in BBOB objective; ``None`` for other objectives, runs
    that evaluated nothing, and options that are not the three integers a BBOB problem is named by
    (a store is data: only the built-in problem is ever built from it, for its f_opt)."""
    if record.objective != BBOB or record.family != BBOB or not record.trace or record.n_evals <= 0:
        return None
    o = {k: record.options.get(k) for k in ("function", "dim", "instance")}
    if not all(type(v) is int for v in o.values()):
        return None
    function, dim, instance = (int(v) for v in o.values())  # type: ignore[arg-type]  # checked just above
    from optbench.objectives import ObjectiveError
    from optbench.objectives.bbob import BBOBObjective

    try:
        f_opt = BBOBObjective(function, dim, instance).f_opt
    except ObjectiveError:
        return None
    steps = [(int(n), float(v)) for n, _, v in record.trace]
    if record.n_evals > steps[-1][0]:
        steps.append((int(record.n_evals), steps[-1][1]))
    return CocoRun(function, dim, instance, f_opt, tuple(steps))


def _configuration(record: RunRecord) -> tuple[str, str, str]:
    return (record.optimizer, json.dumps(record.optimizer_options, sort_keys=True, default=str),
            json.dumps(record.budget, sort_keys=True))


def _names(configurations: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """The optimizer's name, or, where one optimizer ran with several options or budgets, the name plus
    its evaluation budget and a short hash of its options (``scipy.de-1000-3fa2c1``); made a safe
    folder name by :func:`harness.paths.file_stem` (``..`` or ``a/b`` stay under the export folder)."""
    configurations = sorted(set(configurations))
    count: dict[str, int] = defaultdict(int)
    for optimizer, _, _ in configurations:
        count[optimizer] += 1
    names = {}
    for optimizer, options, budget in configurations:
        name = optimizer
        if count[optimizer] > 1:
            evals = json.loads(budget).get("max_evals") or "t"
            name += f"-{evals}-{hashlib.sha1(options.encode()).hexdigest()[:6]}"
        names[optimizer, options, budget] = file_stem(name)
    return names


def group_runs(records: Iterable[RunRecord]) -> dict[str, list[CocoRun]]:
    """BBOB runs per algorithm name (see :func:`_names`); records of other objectives are left out."""
    runs = [(record, run) for record in records if (run := coco_run(record)) is not None]
    names = _names(_configuration(record) for record, _ in runs)
    out: dict[str, list[CocoRun]] = defaultdict(list)
    for record, run in runs:
        out[names[_configuration(record)]].append(run)
    return dict(out)


def _run_lines(run: CocoRun) -> list[str]:
    lines = [_HEADER.format(f_opt=run.f_opt)]
    for evals, best in run.steps:
        f = run.f_opt + best
        lines.append(f"{evals} 0 {best:+.9e} {f:+.9e} {f:+.9e}")
    return lines


def write_algorithm(folder: Path, name: str, runs: list[CocoRun]) -> None:
    """One algorithm's COCO data folder (see the module docstring)."""
    from cocoex import __version__ as coco_version

    by_problem: dict[tuple[int, int], list[CocoRun]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: (r.function, r.dim, r.instance)):
        by_problem[run.function, run.dim].append(run)
    info: dict[int, list[str]] = defaultdict(list)
    for (function, dim), group in sorted(by_problem.items()):
        data = Path(f"data_f{function}") / f"bbobexp_f{function}_DIM{dim}"
        (folder / data.parent).mkdir(parents=True, exist_ok=True)
        text = "\n".join(line for run in group for line in _run_lines(run)) + "\n"
        for suffix in (".dat", ".tdat"):
            (folder / data).with_suffix(suffix).write_text(text)
        entries = ", ".join(f"{r.instance}:{r.evals}|{r.final:.1e}" for r in group)
        info[function] += [f"suite = 'bbob', funcId = {function}, DIM = {dim}, Precision = {PRECISION:.3e}, "
                           f"algId = '{name}', coco_version = '{coco_version}', logger = 'bbob', "
                           f"data_format = '{DATA_FORMAT}', settings = ''",
                           "% exported by optbench from its results store",
                           f"{data.as_posix()}.dat, {entries}"]
    for function, lines in info.items():
        (folder / f"bbobexp_f{function}.info").write_text("\n".join(lines) + "\n")


def export(groups: dict[str, list[CocoRun]], out: Path) -> dict[str, int]:
    """Write each algorithm's runs (:func:`group_runs`) under ``out/<algorithm>/``; returns runs per algorithm."""
    for name, runs in groups.items():
        write_algorithm(Path(out) / name, name, runs)
    return {name: len(runs) for name, runs in groups.items()}
