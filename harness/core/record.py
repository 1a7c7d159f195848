"""The data types at the bottom of the flow: ``Cell`` (what to run) and ``RunRecord`` (the flat,
serializable result of one cell: objective × optimizer × budget × seed). Imports nothing heavy."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from optbench.harness.core.budget import Budget


@dataclass(frozen=True)
class Cell:
    """What to run: the unit of a matrix and the key of the results store."""

    objective: str
    optimizer: str
    budget: Budget
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    optimizer_options: dict[str, Any] = field(default_factory=dict)
    # A wall-time cap that protects a caller's deadline (advise), not part of the budget: it is not in
    # the store key nor the record's budget, and a run it cuts short is recorded as "capped".
    cap_s: float | None = None

    @property
    def limit(self) -> Budget:
        """The budget the run is held to: the cell's, its time limit lowered to ``cap_s`` if set."""
        if self.cap_s is None or (self.budget.max_seconds is not None and self.budget.max_seconds <= self.cap_s):
            return self.budget
        return Budget(self.budget.max_evals, self.cap_s)


WARM_REPEAT_MAX_S = 2.0  # a cell whose cold run took longer is not repeated: first-call costs are then a small share
# "capped": stopped by the cell's cap_s before its evaluation budget (a result, but not at full budget)
STATUSES = ("ok", "error", "timeout", "crashed", "interrupted", "capped")
#: Starts the part of an ``ok`` record's message saying that its returned point, evaluated again after
#: the run, gave another value than the run saw (beyond float rounding): the objective is not deterministic.
NOT_REPRODUCIBLE = "not reproducible:"
#: Fields an earlier release named otherwise (old name -> name): old stores and JSON records still read.
RENAMED_FIELDS = {"objective_class": "family", "reference_kind": "knowledge"}


@dataclass(frozen=True)
class RunRecord:
    """One run's outcome; field names are public and scripts depend on them (renamed ones in
    ``RENAMED_FIELDS`` are still read under their old names)."""

    objective: str
    options: dict[str, Any]
    optimizer: str
    optimizer_options: dict[str, Any]
    budget: dict[str, Any]
    seed: int
    status: str
    message: str = ""
    point: dict[str, Any] | None = None
    value: float | None = None
    n_evals: int = 0
    wall_s: float = 0.0
    compute_s: float = 0.0
    item_s: float = 0.0
    overhead_s: float = 0.0
    peak_mem_mb: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    trace: list[tuple[int, float, float]] = field(default_factory=list)
    reference_value: float | None = None
    phases_s: dict[str, float] = field(default_factory=dict)
    family: str = ""  # the objective's family: what the decision groups by
    gain: bool = False  # value is a negated gain (profit, Sharpe)
    knowledge: str = "optimum"  # what reference_value is: "optimum", "bound" or "none"
    warm_wall_s: float = math.nan  # a repeat of the cell in the same process right after it; NaN: not measured
    overrun_s: float = 0.0  # wall time beyond the budget's max_seconds (the optimizer step that crossed it)
    device_s: float = math.nan  # CUDA: the device's span per evaluation, sampled, scaled to the run; NaN: not measured
    item_wait_s: float = math.nan  # CUDA: the part of item_s spent waiting for the device (sampled ratio)
    item_copy_s: float = math.nan  # CUDA: the rest of item_s, the copy itself (item_wait_s + item_copy_s = item_s)
    option_defaults: dict[str, Any] | None = None  # the objective's options' defaults; None: not recorded (old store)
    construction_s: float = math.nan  # building the objective, never inside wall_s; NaN: built by the caller, old store

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **kwargs: Any) -> str:
        """The record as JSON for scripts: every field, plus the earlier names of renamed ones (scripts
        written against them keep working; new code reads the new names)."""
        data = self.to_dict()
        return json.dumps({**data, **{old: data[new] for old, new in RENAMED_FIELDS.items()}}, default=str, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        data = {RENAMED_FIELDS.get(k, k): v for k, v in data.items()}
        data["trace"] = [tuple(t) for t in data.get("trace") or []]
        return cls(**data)
