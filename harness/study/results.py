"""``optbench study`` results: mode rows as run records in a results store, and CSV/JSON files.

A mode row becomes a :class:`RunRecord` of optimizer ``optuna.tpe`` whose ``optimizer_options``
name the mode (``study_mode``, ``workers``, ``burn``, ``cost_ms``, ``storage``, ``problems``,
``repeats``), so re-running a configuration replaces its row. Field meanings for these records: ``budget`` = trials
per study, ``n_evals`` = trials run by all workers, ``compute_s`` = evaluation seconds summed over
workers, ``overhead_s`` = ``workers × wall_s − compute_s`` (worker-seconds spent outside the
objective), ``phases_s`` = ``startup_s``, ``cpu_s`` (all workers' processes), ``eval_cpu_s`` (the
evaluations' thread CPU time) and ``load_avg_1m`` (the machine's 1-minute
load average when the mode started: not a time, but the context that makes a time trustworthy).
They go to their own store file by default so they do not mix with optimizer comparisons.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from optbench.harness.core.record import RunRecord
from optbench.harness.core.versions import versions
from optbench.harness.study.modes import ModeResult, with_efficiency
from optbench.harness.study.tables import StudyTables

DEFAULT_STORE = Path("results/study.sqlite")
DEFAULT_OUT = Path("results/study")
OPTIMIZER = "optuna.tpe"
_LEFTOVERS = "leftover files: "


def to_record(row: ModeResult, reference_value: float | None = None) -> RunRecord:
    """The run record of one mode row (see the module docstring for the field meanings)."""
    options = {"study_mode": row.mode, "workers": row.workers, "burn": row.burn, "cost_ms": row.cost_ms,
               "storage": row.storage, "problems": row.problems, "repeats": row.repeats}
    compute_s = row.eval_ms * row.n_trials / 1e3
    return RunRecord(
        objective=row.objective, options=dict(row.options), optimizer=OPTIMIZER, optimizer_options=options,
        budget={"max_evals": row.study_trials, "max_seconds": None}, seed=row.seed,
        status="error" if row.leftovers else "ok",
        message=_LEFTOVERS + ", ".join(row.leftovers) if row.leftovers else "",
        point=dict(row.best_point), value=row.best_value, n_evals=row.n_trials, wall_s=row.wall_s,
        compute_s=compute_s, overhead_s=row.workers * row.wall_s - compute_s, versions=versions(),
        reference_value=reference_value,
        phases_s={"startup_s": row.startup_s, "cpu_s": row.cpu_ms_per_trial * row.n_trials / 1e3,
                  "eval_cpu_s": row.eval_cpu_ms * row.n_trials / 1e3, "load_avg_1m": row.load_avg})


def is_study_record(record: RunRecord) -> bool:
    return record.optimizer == OPTIMIZER and "study_mode" in record.optimizer_options


def from_record(record: RunRecord) -> ModeResult:
    """The mode row a record was made from (efficiency left NaN: see ``with_efficiency``)."""
    o, n = record.optimizer_options, max(record.n_evals, 1)
    return ModeResult(
        mode=o["study_mode"], objective=record.objective, options=dict(record.options), burn=o["burn"],
        cost_ms=float(o["cost_ms"]), eval_ms=1e3 * record.compute_s / n,
        eval_cpu_ms=1e3 * record.phases_s["eval_cpu_s"] / n, workers=int(o["workers"]),
        study_trials=int(record.budget["max_evals"]), n_trials=record.n_evals, wall_s=record.wall_s,
        startup_s=record.phases_s["startup_s"], trials_per_s=record.n_evals / record.wall_s,
        efficiency=math.nan, best_value=math.nan if record.value is None else record.value, best_point=dict(record.point or {}),
        cpu_ms_per_trial=1e3 * record.phases_s["cpu_s"] / n, storage=o["storage"], problems=o["problems"],
        load_avg=record.phases_s["load_avg_1m"], repeats=int(o.get("repeats", 1)), seed=record.seed,
        leftovers=record.message.removeprefix(_LEFTOVERS).split(", ") if record.message.startswith(_LEFTOVERS) else [])


def save_to_store(rows: Iterable[ModeResult], path: Path | str, command: str,
                  reference_value: float | None = None) -> int:
    """Write the rows as one run of the results store at ``path``; returns the number written."""
    from optbench.harness.store import Store

    rows = list(rows)
    with Store.open(path) as store:
        run_id = store.begin_run(command, len(rows), versions())
        for row in rows:
            store.put(to_record(row, reference_value), run_id)
        store.end_run(run_id, "finished", {"rows": len(rows)})
    return len(rows)


def load_rows(path: Path | str = DEFAULT_STORE) -> list[ModeResult]:
    """The mode rows of a ``study.json``, or of the latest ``optbench study`` run in a results store
    (earlier runs may have had other settings), with efficiencies filled in."""
    from optbench.harness.store import load_frame

    if Path(path).suffix == ".json":
        return with_efficiency(ModeResult(**row) for row in json.loads(Path(path).read_text())["modes"])
    frame = load_frame(path)
    records = [RunRecord.from_dict(row) for row in frame.drop(columns=["run_id", "finished_at"]).to_dict("records")]
    mine = [(run_id, r) for run_id, r in zip(frame["run_id"], records) if is_study_record(r)]
    latest = max((run_id for run_id, _ in mine), default=None)
    return with_efficiency(from_record(r) for run_id, r in mine if run_id == latest)


def load_tables(path: Path | str = DEFAULT_OUT / "study.json") -> StudyTables:
    """The storage, inserts and profile tables of a ``study.json``."""
    return StudyTables.from_json(json.loads(Path(path).read_text()))


def write_files(out: Path, tables: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """Each table as ``NAME.csv`` and all of them in ``study.json`` under ``out``."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rows in tables.items():
        path = out / f"{name}.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        paths.append(path)
    path = out / "study.json"
    path.write_text(json.dumps(tables, indent=1, default=str))
    return [*paths, path]


def mode_dicts(rows: Iterable[ModeResult]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
