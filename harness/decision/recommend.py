"""``optbench.recommended(kind, preset)``: the optimizer a backtest should use, read from the decision
that ``optbench decide`` wrote — so production code imports the decision instead of hard-coding it.

Where it looks, in this order: ``path`` if given, else ``$OPTBENCH_DECISION``, else
``results/decision.json`` of the current project (relative to the working directory), so it works
the same from a regular install as from a checkout.
``$OPTBENCH_OPTIMIZER`` (an optimizer name, e.g. ``scipy.de``) overrides the choice:
that optimizer with its default options, keeping the decision's budget when there is one (a name
that is not registered is refused with the registered names; checking it loads the registry). Cheap to
import and call: json only, no torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from optbench.harness.core.errors import HarnessError

if TYPE_CHECKING:
    from optbench.harness.decision.model import ClassDecision, Decision, Verdict

ENV = "OPTBENCH_DECISION"
PROJECT_PATH = Path("results") / "decision.json"  # relative: the current project's shipped decision


@dataclass(frozen=True)
class Recommendation:
    """What to run: ``optbench.minimize(fn, bounds, recommendation=r)`` runs optimizer ``r.optimizer``
    with ``r.optimizer_options`` under ``r.budget`` (``max_evals`` and/or ``max_seconds``)."""

    optimizer: str
    optimizer_options: dict
    budget: dict
    family: str
    preset: str
    verdict: Verdict | Literal["override"]  # see DECISION.md; "override": $OPTBENCH_OPTIMIZER chose
    source: str


def decision_path(path: str | Path | None = None) -> tuple[Path, str]:
    """The decision file to read and which rule chose it: the argument, ``$OPTBENCH_DECISION``, or
    ``results/decision.json`` under the working directory."""
    if path:
        return Path(path), "path argument"
    if os.environ.get(ENV):
        return Path(os.environ[ENV]), f"${ENV}"
    return Path.cwd() / PROJECT_PATH, "./results/decision.json"


def load(path: Path, how: str = "path argument") -> Decision:
    """The decision at ``path`` (``how``: which rule found it, for the message); a missing, unreadable
    or malformed file is one HarnessError naming the file and what is wrong."""
    from optbench.harness.decision.model import Decision, DecisionFormatError
    from optbench.harness.paths import check_file_kind

    check_file_kind(path, "the decision")  # a FIFO would block the read
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise HarnessError(f"no decision at {path} ({how}): give path=..., set ${ENV}, run from a project "
                           "with results/decision.json (`optbench decide`), or set OPTBENCH_OPTIMIZER") from None
    except (OSError, ValueError) as exc:  # ValueError: bad JSON, or bytes that are not UTF-8
        raise HarnessError(f"cannot read the decision at {path} ({how}): {exc}") from None
    except RecursionError:
        raise HarnessError(f"cannot read the decision at {path} ({how}): nested too deeply") from None
    try:
        return Decision.from_json(doc)
    except DecisionFormatError as exc:
        raise HarnessError(f"{path} is not a decision optbench can read: {exc}; rerun `optbench decide`") from None


def _class_of(family: str, classes: Mapping[str, ClassDecision]) -> str:
    for name, entry in classes.items():
        if family == name or family in entry.objective_names or family in entry.objectives:
            return name
    known = sorted({*classes, *(n for e in classes.values() for n in e.objective_names)})
    raise HarnessError(f"no decision for objective family {family!r}; decided: {', '.join(known)}")


def _override() -> str:
    """``$OPTBENCH_OPTIMIZER``, refused unless it names a registered optimizer ("" when unset)."""
    override = os.environ.get("OPTBENCH_OPTIMIZER", "").strip()
    if override:
        from optbench.harness import optimizers  # names only: the adapters' libraries load on use

        registered = optimizers.names()
        if override not in registered:
            raise HarnessError(f"OPTBENCH_OPTIMIZER={override!r} is not a registered optimizer; "
                               f"registered: {', '.join(registered)}")
    return override


def recommended(family: str, preset: str = "default", path: str | Path | None = None) -> Recommendation:
    """The decided optimizer for an objective family (``maxdiff``, ``ma_crossover``, ``synthetic``)
    or any objective name in it, under ``preset`` (``default``, ``fast`` or ``thorough``)."""
    path, how = decision_path(path)
    override = _override()
    if override and not path.exists():
        return Recommendation(override, {}, {}, family, preset, "override", "OPTBENCH_OPTIMIZER")
    classes = load(path, how).classes
    cls = _class_of(family, classes)
    presets = classes[cls].presets
    if preset not in presets:
        raise HarnessError(f"unknown preset {preset!r}; allowed: {', '.join(presets)}")
    entry = presets[preset]
    choice = entry.choice
    if override:
        return Recommendation(override, {}, dict(choice.budget) if choice else {}, cls, preset, "override",
                              "OPTBENCH_OPTIMIZER")
    if choice is None:
        raise HarnessError(f"{path} has no choice for {cls}/{preset}: {entry.reason or 'no usable candidate'}")
    return Recommendation(choice.optimizer, dict(choice.optimizer_options), dict(choice.budget), cls,
                          preset, entry.verdict, str(path))
