"""The study's measured tables besides the modes, as typed rows: storage costs, plain-sqlite insert
costs and per-trial profiles. JSON (``study.json``) only at the boundary: ``StudyTables.to_json``
and ``StudyTables.from_json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from optbench.harness.core.errors import HarnessError


@dataclass(frozen=True)
class StorageCost:
    """Per-trial cost of one Optuna storage kind, ms (``storage.storage_costs`` says what each measures)."""

    storage: str
    n_trials: int
    ask_tell_ms: float
    ask_tell_cpu_ms: float
    add_trial_ms: float
    read_all_ms: float
    trials_at_read: int
    load_ms: float  # NaN for the in-memory storage


@dataclass(frozen=True)
class InsertCost:
    """Plain sqlite3 (or a file's append + fsync): ms per row by one setup and method."""

    setup: str
    method: str
    n_rows: int
    ms_per_row: float


@dataclass(frozen=True)
class TrialProfile:
    """Where a cheap trial's time goes with one storage: wall and CPU ms per trial, whole and per group
    (the groups sum to the whole); ``profile`` and ``top``: the cProfile'd run's file and heaviest functions."""

    storage: str
    n_trials: int
    ms_per_trial: float
    cpu_ms_per_trial: float
    objective_ms: float
    objective_cpu_ms: float
    sampler_ms: float
    sampler_cpu_ms: float
    storage_ms: float
    storage_cpu_ms: float
    optuna_loop_ms: float
    optuna_loop_cpu_ms: float
    profile: str = ""
    top: str = ""


@dataclass(frozen=True)
class StudyTables:
    """The tables a study measured (each empty when not measured)."""

    storage: tuple[StorageCost, ...] = ()
    inserts: tuple[InsertCost, ...] = ()
    profile: tuple[TrialProfile, ...] = ()

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """The measured tables as ``study.json`` holds them (rows as objects)."""
        return {f.name: [asdict(row) for row in getattr(self, f.name)] for f in fields(self) if getattr(self, f.name)}

    @classmethod
    def from_json(cls, tables: dict[str, Any]) -> StudyTables:
        """The tables of a ``study.json`` (other keys, such as ``modes``, are not these tables)."""
        kinds = {"storage": StorageCost, "inserts": InsertCost, "profile": TrialProfile}
        try:
            return cls(**{name: tuple(kind(**row) for row in tables[name]) for name, kind in kinds.items()
                          if name in tables})
        except TypeError as exc:
            raise HarnessError(f"study.json: a table row does not fit ({exc})") from None
