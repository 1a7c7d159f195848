"""The decision as typed, frozen values: what ``decide`` returns, ``decision_doc`` writes and
``recommended`` reads. JSON exists only at the file boundary: ``Decision.to_json`` (floats rounded to
6 significant digits, NaN as null) and ``Decision.from_json``, the one parser of ``decision.json``,
which refuses a malformed file with a :class:`DecisionFormatError` naming the field.

Cheap to import (no numpy, pandas or scipy): ``optbench.recommended`` reads through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from optbench.harness.decision.json_fields import DecisionFormatError, JsonObject
from optbench.harness.report.estimate import Estimate

SCHEMA = 3  # 3: per-instance samples, paired tests, verdicts with their reason, held-out validation
Verdict = Literal["win (better)", "win (faster)", "tie", "not enough instances", "none"]
ValidationStatus = Literal["held", "did not hold", "not validated"]
BestKnownKind = Literal["optimum", "bound", "best found"]  # an objective's knowledge, or the best any run found
Preset = Literal["default", "fast", "thorough"]
PRESETS: tuple[Preset, ...] = get_args(Preset)
DIGITS = 6


@dataclass(frozen=True)
class Choice:
    """The configuration a preset ships, with its class estimates (quality: mean over instances;
    times: sum over instances)."""

    candidate: str  # "config @ budget"
    optimizer: str
    optimizer_options: dict[str, Any]
    budget: dict[str, Any]  # max_evals, max_seconds
    quality: Estimate
    wall_s: Estimate  # by the rule's timing
    cold_wall_s: Estimate
    warm_wall_s: Estimate
    n_evals: float
    seeds: int
    instances: int


@dataclass(frozen=True)
class Compared:
    """One candidate's figures and tests in a preset (the choice included)."""

    candidate: str
    quality: Estimate
    wall_s: Estimate
    cold_wall_s: Estimate
    warm_wall_s: Estimate
    seeds: int
    instances: int
    p_worse_than_best: float  # paired, Holm-corrected
    p_choice_faster: float | None  # None: not tested (not eligible, or the choice itself)
    eligible: bool


@dataclass(frozen=True)
class PresetDecision:
    """A preset's outcome: the choice and verdict, what decided it, and every candidate's tests; with no
    usable candidate, ``choice`` is None and ``reason`` says why."""

    verdict: Verdict
    decided_by: str = ""
    choice: Choice | None = None
    best_quality: str = ""  # the candidate with the highest class quality
    quality_floor: float = math.nan
    tied_with: tuple[str, ...] = ()
    runners_up: tuple[str, ...] = ()
    faster_but_worse: tuple[str, ...] = ()
    tests: tuple[Compared, ...] = ()
    reason: str = ""  # why there is no choice


@dataclass(frozen=True)
class Validation:
    """The held-out check of the default preset's choice (``validate``); the figures only when checked."""

    training: tuple[str, ...]
    held_out: tuple[str, ...]
    status: ValidationStatus
    reason: str = ""  # why it was not validated
    quality: float = math.nan  # the shipped configuration's mean quality on the held-out instances
    rank: int | None = None  # among the candidates there, 1 = best
    candidates: int | None = None
    best: str = ""
    best_quality: float = math.nan
    regret: float = math.nan
    p_best_better: float = math.nan  # one-sided paired test on the held-out instances; NaN when it is the best

    @property
    def checked(self) -> bool:
        return self.rank is not None


@dataclass(frozen=True)
class BestKnown:
    """What quality 1 means on one objective: its optimum or bound, or the best value any run found."""

    kind: BestKnownKind
    value: float
    found_by: str = ""  # the run that found it, for "best found"


@dataclass(frozen=True)
class Excluded:
    """A candidate left out of a class's decision, and why."""

    config: str
    budget: str
    reason: str


@dataclass(frozen=True)
class ClassDecision:
    """One objective class: its instances, the presets chosen on the training ones, the held-out check."""

    objectives: tuple[str, ...]  # instance labels
    objective_names: tuple[str, ...]
    best_known: dict[str, BestKnown]  # by instance label
    holdout: float
    validation: Validation
    presets: dict[Preset, PresetDecision]
    excluded: tuple[Excluded, ...] = ()


@dataclass(frozen=True)
class Provenance:
    """Where the numbers come from: counts of runs per commit, machine, platform and library version."""

    store: str
    runs: int
    failed_runs: int
    runs_sha256: str
    commits: dict[str, int]
    machines: dict[str, int]
    platforms: dict[str, int]
    versions: dict[str, dict[str, int]]
    dates: str


@dataclass(frozen=True)
class RaceAccount:
    """How ``optbench advise`` raced: instances and seeds run, what was dropped when and why, why it stopped."""

    training: int  # training instances
    first_block: int  # instances of the first block
    raced: int  # training instances raced
    seeds: int  # seeds per instance at the start
    seeds_run: int
    stopped: str
    alive: tuple[str, ...]  # contenders still racing at the end
    drops: tuple[str, ...]  # one sentence per dropped contender

    @classmethod
    def from_json(cls, race: object, where: str = "race") -> RaceAccount:
        r = JsonObject(race, where)
        return cls(r.get("training", int), r.get("first_block", int), r.get("raced", int), r.get("seeds", int),
                   r.get("seeds_run", int), r.get("stopped", str), r.strings("alive"), r.strings("drops"))


@dataclass(frozen=True)
class Decision:
    """The whole decision document (``decision.json``)."""

    command: str
    rule: dict[str, Any]  # the rule's parameters as ``--rule key=value`` takes them
    rule_text: str
    min_instances: int
    timing: str
    provenance: Provenance
    classes: dict[str, ClassDecision] = field(default_factory=dict)
    race: RaceAccount | None = None  # advise's race, when it raced
    schema: int = SCHEMA

    def to_json(self) -> dict[str, Any]:
        """The JSON document: floats to 6 significant digits, NaN and infinities as null."""
        return rounded({"schema": self.schema, "command": self.command, "rule": {**self.rule, "text": self.rule_text},
                        "min_instances": self.min_instances, "timing": self.timing,
                        "provenance": _plain(self.provenance),
                        "classes": {name: _class_json(c) for name, c in self.classes.items()},
                        **({"race": _plain(self.race)} if self.race is not None else {})})

    @classmethod
    def from_json(cls, doc: object) -> Decision:
        """Parse a JSON document (as ``json.loads`` gives it); anything malformed is a
        :class:`DecisionFormatError` naming the field."""
        top = JsonObject(doc, "")
        schema = top.raw("schema", None)
        if schema != SCHEMA:
            raise DecisionFormatError(f"schema {'missing' if schema is None else schema}, this optbench reads "
                                      f"schema {SCHEMA} (another format)")
        rule = top.obj("rule")
        prov = top.obj("provenance")
        return cls(top.get("command", str), {k: v for k, v in rule.d.items() if k != "text"},
                   rule.get("text", str), top.get("min_instances", int), top.get("timing", str),
                   Provenance(prov.get("store", str), prov.get("runs", int), prov.get("failed_runs", int),
                              prov.get("runs_sha256", str), prov.counts("commits"), prov.counts("machines"),
                              prov.counts("platforms"),
                              {lib: prov.obj("versions").counts(lib) for lib in prov.obj("versions").d},
                              prov.get("dates", str)),
                   {name: _class_from(c) for name, c in top.members("classes").items()},
                   RaceAccount.from_json(top.raw("race")) if "race" in top.d else None, schema)


def rounded(obj: Any, digits: int = DIGITS) -> Any:
    """Floats to ``digits`` significant digits (NaN/inf as None), recursively, for stable JSON."""
    import numpy as np  # numpy scalars come from the statistics; reading a decision never needs them

    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v, digits) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(f"{obj:.{digits}g}") if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def estimate_json(e: Estimate) -> dict[str, Any]:
    """An estimate as the file stores it (``median``, ``low``, ``high``, ``interval``)."""
    return {"median": e.value, "low": e.low, "high": e.high, "interval": e.kind}


# --- writing ---------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A dataclass as a JSON-ready dict in field order (estimates as the file stores them)."""
    if isinstance(value, Estimate):
        return estimate_json(value)
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _preset_json(p: PresetDecision) -> dict[str, Any]:
    if p.choice is None:
        return {"verdict": p.verdict, "reason": p.reason, "choice": None}
    out = _plain(p)
    del out["reason"]
    return out


def _validation_json(v: Validation) -> dict[str, Any]:
    out = _plain(v)
    drop: tuple[str, ...] = ("quality", "rank", "candidates", "best", "best_quality", "regret") if not v.checked else ("reason",)
    if math.isnan(v.p_best_better):  # the shipped one is the held-out best (or a decision written before the test)
        drop += ("p_best_better",)
    return {k: val for k, val in out.items() if k not in drop}


def _class_json(c: ClassDecision) -> dict[str, Any]:
    return {"objectives": list(c.objectives), "objective_names": list(c.objective_names),
            "best_known": {label: _plain(k) for label, k in c.best_known.items()}, "holdout": c.holdout,
            "validation": _validation_json(c.validation),
            "presets": {name: _preset_json(p) for name, p in c.presets.items()},
            "excluded": [_plain(e) for e in c.excluded]}


# --- reading ---------------------------------------------------------------------------------------

def _choice_from(c: JsonObject) -> Choice:
    return Choice(c.get("candidate", str), c.get("optimizer", str), c.mapping("optimizer_options"),
                  c.budget("budget"), c.estimate("quality"), c.estimate("wall_s"), c.estimate("cold_wall_s"),
                  c.estimate("warm_wall_s"), c.number("n_evals"), c.get("seeds", int), c.get("instances", int))


def _compared_from(t: JsonObject) -> Compared:
    faster = t.raw("p_choice_faster", None)
    return Compared(t.get("candidate", str), t.estimate("quality"), t.estimate("wall_s"), t.estimate("cold_wall_s"),
                  t.estimate("warm_wall_s"), t.get("seeds", int), t.get("instances", int),
                  t.number("p_worse_than_best"), None if faster is None else t.number("p_choice_faster"),
                  t.get("eligible", bool))


def _preset_from(p: JsonObject) -> PresetDecision:
    verdict = p.literal("verdict", get_args(Verdict))
    choice = p.raw("choice")
    if choice is None:
        return PresetDecision(verdict, reason=p.get("reason", str, ""))
    return PresetDecision(verdict, p.get("decided_by", str), _choice_from(p.obj("choice")), p.get("best_quality", str),
                          p.number("quality_floor"), p.strings("tied_with"), p.strings("runners_up"),
                          p.strings("faster_but_worse"), tuple(_compared_from(t) for t in p.items("tests")))


def _validation_from(v: JsonObject) -> Validation:
    return Validation(v.strings("training"), v.strings("held_out"), v.literal("status", get_args(ValidationStatus)),
                      v.get("reason", str, ""), v.number("quality", True),
                      v.optional_int("rank"), v.optional_int("candidates"), v.get("best", str, ""),
                      v.number("best_quality", True), v.number("regret", True), v.number("p_best_better", True))


def _class_from(c: JsonObject) -> ClassDecision:
    presets = c.members("presets")
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown:
        raise DecisionFormatError(f"{c.at('presets')} has unknown preset(s) {', '.join(unknown)}")
    known = c.members("best_known")
    return ClassDecision(
        c.strings("objectives"), c.strings("objective_names"),
        {label: BestKnown(k.literal("kind", get_args(BestKnownKind)), k.number("value"), k.get("found_by", str, ""))
         for label, k in known.items()},
        c.number("holdout"), _validation_from(c.obj("validation")),
        {name: _preset_from(p) for name, p in presets.items()},  # type: ignore[misc]
        tuple(Excluded(e.get("config", str), e.get("budget", str), e.get("reason", str))
              for e in c.items("excluded", optional=True)))
