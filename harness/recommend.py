"""``harness.recommended(kind, preset)``: the optimizer a backtest should use, read from the decision
that ``optbench decide`` wrote — so production code imports the decision instead of hard-coding it.

Where it looks: ``path`` if given, else ``$OPTBENCH_DECISION``, else ``results/decision.json`` in
this checkout. ``$OPTBENCH_OPTIMIZER`` (an optimizer name, e.g. ``scipy.de``) overrides the choice:
that optimizer with its default options, keeping the decision's budget when there is one. Cheap to
import and call: json only, no torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from optbench.harness.budget import HarnessError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "results" / "decision.json"


@dataclass(frozen=True)
class Recommendation:
    """What to run: ``harness.optimizers.make(r.optimizer, **r.optimizer_options)`` under ``r.budget``."""

    optimizer: str
    optimizer_options: dict
    budget: dict
    objective_class: str
    preset: str
    verdict: str  # "win", "tie" (a choice, not a win: see DECISION.md) or "override" (environment)
    source: str


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise HarnessError(f"no decision at {path}: run `optbench decide` (or set OPTBENCH_OPTIMIZER)") from None


def _class_of(kind: str, classes: dict) -> str:
    for name, entry in classes.items():
        if kind == name or kind in entry["objective_names"] or kind in entry["objectives"]:
            return name
    known = sorted({*classes, *(n for e in classes.values() for n in e["objective_names"])})
    raise HarnessError(f"no decision for objective kind {kind!r}; decided: {', '.join(known)}")


def recommended(objective_kind: str, preset: str = "default", path: str | Path | None = None) -> Recommendation:
    """The decided optimizer for an objective class (``maxdiff``, ``ma_crossover``, ``synthetic``)
    or any objective name in it, under ``preset`` (``default``, ``fast`` or ``thorough``)."""
    path = Path(path or os.environ.get("OPTBENCH_DECISION") or DEFAULT_PATH)
    override = os.environ.get("OPTBENCH_OPTIMIZER", "").strip()
    if override and not path.exists():
        return Recommendation(override, {}, {}, objective_kind, preset, "override", "OPTBENCH_OPTIMIZER")
    classes = _load(path)["classes"]
    cls = _class_of(objective_kind, classes)
    presets = classes[cls]["presets"]
    if preset not in presets:
        raise HarnessError(f"unknown preset {preset!r}; allowed: {', '.join(presets)}")
    entry = presets[preset]
    choice = entry["choice"]
    if override:
        return Recommendation(override, {}, dict(choice["budget"]) if choice else {}, cls, preset, "override",
                              "OPTBENCH_OPTIMIZER")
    if choice is None:
        raise HarnessError(f"{path} has no choice for {cls}/{preset}: {entry.get('reason', 'no usable candidate')}")
    return Recommendation(choice["optimizer"], dict(choice["optimizer_options"]), dict(choice["budget"]), cls,
                          preset, entry["verdict"], str(path))
