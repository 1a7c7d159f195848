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
from dataclasses import dataclass
from pathlib import Path

from optbench.harness.core.errors import HarnessError

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
    verdict: str  # "win (better)", "win (faster)", "tie", "not enough instances" (see DECISION.md) or "override"
    source: str


def decision_path(path: str | Path | None = None) -> tuple[Path, str]:
    """The decision file to read and which rule chose it: the argument, ``$OPTBENCH_DECISION``, or
    ``results/decision.json`` under the working directory."""
    if path:
        return Path(path), "path argument"
    if os.environ.get(ENV):
        return Path(os.environ[ENV]), f"${ENV}"
    return Path.cwd() / PROJECT_PATH, "./results/decision.json"


def _load(path: Path, how: str) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise HarnessError(f"no decision at {path} ({how}): give path=..., set ${ENV}, run from a project "
                           "with results/decision.json (`optbench decide`), or set OPTBENCH_OPTIMIZER") from None
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read the decision at {path} ({how}): {exc}") from None


SCHEMA = 3  # what ``decision_doc`` writes; older files are refused (their verdicts meant something else)


def _classes(doc: object, path: Path) -> dict:
    """The document's classes, checked for every field ``recommended`` reads: a malformed or older file
    is one HarnessError naming the file and what is wrong, never a KeyError or TypeError."""
    def bad(what: str) -> HarnessError:
        return HarnessError(f"{path} is not a decision optbench can read: {what}; rerun `optbench decide`")

    if not isinstance(doc, dict):
        raise bad(f"a JSON {type(doc).__name__ if doc is not None else 'null'}, not an object")
    if doc.get("schema") != SCHEMA:
        raise bad(f"schema {doc.get('schema', 'missing')}, this optbench reads schema {SCHEMA} (an older format)")
    classes = doc.get("classes")
    if not isinstance(classes, dict):
        raise bad("no 'classes' object")
    for name, entry in classes.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("presets"), dict)
                and isinstance(entry.get("objective_names"), list) and isinstance(entry.get("objectives"), list)):
            raise bad(f"class {name!r} lacks presets, objective_names or objectives")
        for preset, p in entry["presets"].items():
            choice = p.get("choice", ...) if isinstance(p, dict) else ...
            ok = choice is None or (isinstance(choice, dict) and isinstance(choice.get("optimizer"), str)
                                    and isinstance(choice.get("optimizer_options"), dict)
                                    and isinstance(choice.get("budget"), dict))
            if not ok or not isinstance(p.get("verdict"), str):
                raise bad(f"{name}/{preset} lacks a choice (optimizer, optimizer_options, budget) or a verdict")
    return classes


def _class_of(family: str, classes: dict) -> str:
    for name, entry in classes.items():
        if family == name or family in entry["objective_names"] or family in entry["objectives"]:
            return name
    known = sorted({*classes, *(n for e in classes.values() for n in e["objective_names"])})
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
    classes = _classes(_load(path, how), path)
    cls = _class_of(family, classes)
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
