"""Write the decision: ``decision.json`` (machine-readable, read by ``optbench.recommended``) and
``DECISION.md`` (the winner, runners-up, the figures behind it, the rule, the data's provenance).

Both are functions of the store and the rule only — no generation timestamp — so the same store
gives byte-identical files."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from optbench.harness.core.versions import LIBRARIES as RECORDED_LIBRARIES
from optbench.harness.decision import validate
from optbench.harness.decision.decide import NOT_ENOUGH_INSTANCES, WINS, Rule, decide
from optbench.harness.decision.model import PRESETS, BestKnown, Decision, PresetDecision, Provenance, RaceAccount, Validation
from optbench.harness.report.display import estimate, fmt
from optbench.harness.report.frame import BEST_FOUND, SCALE, analyse
from optbench.harness.report.render import md_code, md_text
from optbench.harness.report.stats import MIN_CI_SAMPLES

LIBRARIES = ("python", *RECORDED_LIBRARIES)  # what DECISION.md's provenance lists
DATE_COLUMNS = ("finished_at",)  # written by the results store


def _counts(values) -> dict[str, int]:
    return dict(sorted(Counter(str(v) for v in values).items()))


def provenance(df: pd.DataFrame, store: str) -> Provenance:
    """Where the numbers come from: commits, library versions, machines, dates and a digest of the runs."""
    versions = df["versions"].map(lambda v: v if isinstance(v, dict) else {})
    date_col = next((c for c in DATE_COLUMNS if c in df.columns), None)
    dates = sorted(str(d)[:10] for d in df[date_col].dropna()) if date_col else []
    core = ["objective", "options", "optimizer", "optimizer_options", "budget", "seed", "status", "value", "wall_s"]
    digest = hashlib.sha256("\n".join(sorted(json.dumps(r, sort_keys=True, default=str)
                                             for r in df[core].to_dict("records"))).encode()).hexdigest()
    return Provenance(
        store, len(df), int((~df["ok"]).sum()), digest,
        _counts(versions.map(lambda v: v.get("git_commit", "unknown"))),
        _counts(versions.map(lambda v: v.get("machine", "unknown"))),
        _counts(versions.map(lambda v: v.get("platform", "unknown"))),
        {lib: _counts(versions.map(lambda v, lib=lib: v.get(lib, "unknown"))) for lib in LIBRARIES},
        f"{dates[0]} … {dates[-1]}" if dates else "not recorded in the runs")


def build(frame: pd.DataFrame, rule: Rule, store: str, command: str, holdout: float | None = None,
          held: Collection[str] | None = None, race: RaceAccount | None = None) -> Decision:
    """The decision document, with the figures as ``decision.json`` holds them (6 significant digits);
    ``holdout`` and ``held`` as in ``decide``; ``race``: how ``advise`` raced, when it did."""
    df = analyse(frame)
    doc = Decision(command, asdict(rule), rule.describe(), rule.min_instances, rule.timing, provenance(df, store),
                   decide(df, rule, holdout, held), race)
    return Decision.from_json(doc.to_json())


def scale_top(best_known: dict[str, BestKnown]) -> str:
    """What quality 1 means in a class: the optimum, the best found, or either, per objective."""
    kinds = sorted({k.kind for k in best_known.values()})
    return f"the {kinds[0]} on every objective" if len(kinds) == 1 else f"the {' / '.join(kinds)}, per objective"


def verdict_text(preset: PresetDecision) -> str:
    """A preset's verdict in words, with what decided it."""
    v = preset.verdict
    if v in WINS:
        return f"**{v}** ({preset.decided_by})"
    if v == NOT_ENOUGH_INSTANCES:
        return f"**{v}** (a best guess, not a win: {preset.decided_by})"
    return (f"**tie, not a win** (not distinguishable from {', '.join(preset.tied_with) or 'a rival'}; "
            f"{preset.decided_by})")


def _choice_line(name: str, preset: PresetDecision) -> str:
    c = preset.choice
    if c is None:
        return f"- **{name}**: no decision — {md_text(preset.reason)}"
    return (f"- **{name}**: {md_code(c.candidate)} — {verdict_text(preset)}; quality {estimate(c.quality)}, "
            f"class wall time {estimate(c.wall_s)} s (cold {estimate(c.cold_wall_s)} s), {fmt(c.n_evals)} "
            f"evals, {c.instances} instances × up to {c.seeds} seeds")


def validation_text(v: Validation) -> str:
    """The held-out check in one paragraph: first what the shipped configuration did on unseen instances."""
    if v.status == "not validated":
        return f"**Held-out check: not validated** — {md_text(v.reason)}."
    tested = validate.significance(v)
    return (f"**Held-out check: {v.status}** — chosen on {len(v.training)} training instance(s), checked on "
            f"{len(v.held_out)} held out ({md_text(', '.join(v.held_out))}): the shipped configuration's "
            f"held-out quality {fmt(v.quality)}, rank {v.rank} of {v.candidates}; held-out best "
            f"{md_code(v.best)} ({fmt(v.best_quality)}); regret {fmt(v.regret)}"
            f"{'; ' + md_text(tested) if tested else ''}.")


def markdown(doc: Decision) -> str:
    """DECISION.md from the decision document."""
    prov = doc.provenance
    lines = ["# Decision: which optimizer to ship", "",
             f"Produced by {md_code(doc.command)} from {prov.runs} runs ({prov.failed_runs} failed) in "
             f"{md_code(prov.store)}. `optbench.recommended(kind, preset)` reads the companion `decision.json`; "
             "`OPTBENCH_OPTIMIZER` overrides it.", "",
             SCALE, "",
             f"Class wall time: {doc.timing} (see the rule). Figures: class quality = mean over instances, class "
             f"time = sum over instances, each instance the median over its seeds [range over instances below "
             f"{MIN_CI_SAMPLES}, else 95 % bootstrap CI]. The paired test needs at least {doc.min_instances} "
             "instances to reach the rule's alpha; below that no verdict is a win.", ""]
    if doc.race is not None:
        lines += race_lines(doc.race)
    for cls, d in doc.classes.items():
        lines += [f"## {md_text(cls)}", "", f"Objectives (quality 1 = {scale_top(d.best_known)}): "
                  f"{md_text(', '.join(d.objectives))}.", "", validation_text(d.validation), ""]
        found = {o: k for o, k in d.best_known.items() if k.kind == BEST_FOUND}
        if found:
            lines += ["No known optimum, quality against the best found: " + "; ".join(
                f"{md_text(o)}: {fmt(k.value)} by {md_text(k.found_by)}" for o, k in found.items()) + ".", ""]
        lines += [_choice_line(p, d.presets[p]) for p in PRESETS] + [""]
        default = d.presets["default"]
        if default.choice is not None:
            lines += [f"Runners-up (default): {md_text(', '.join(default.runners_up) or 'none')}. "
                      f"Faster but worse quality: {md_text(', '.join(default.faster_but_worse) or 'none')}. "
                      f"Best quality: {md_code(default.best_quality)}; quality floor {fmt(default.quality_floor)}.", "",
                      "| candidate | quality, mean [interval] | time s (warm) | time s (cold) | instances | "
                      "p worse than best (paired, Holm) | p choice faster (paired, Holm) | eligible |",
                      "|---|---|---|---|---|---|---|---|"]
            lines += [f"| {md_text(t.candidate)} | {estimate(t.quality)} | {estimate(t.warm_wall_s)} | "
                      f"{estimate(t.cold_wall_s)} | {t.instances} | {fmt(t.p_worse_than_best)} | "
                      f"{fmt(t.p_choice_faster)} | {'yes' if t.eligible else 'no'} |" for t in default.tests]
            lines.append("")
        if d.excluded:
            lines += ["Excluded: " + "; ".join(md_text(f"{e.config} @ {e.budget} ({e.reason})")
                                               for e in d.excluded) + ".", ""]
    lines += ["## Rule", "", doc.rule_text, "",
              "Parameters: " + ", ".join(f"{k}={v}" for k, v in doc.rule.items()) + ".", "",
              "## Provenance", "",
              f"- runs digest (sha256 of the runs' identities, values and wall times): `{prov.runs_sha256}`",
              f"- commits: {_fmt_counts(prov.commits)}", f"- machines: {_fmt_counts(prov.machines)}",
              f"- platforms: {_fmt_counts(prov.platforms)}", f"- dates: {md_text(prov.dates)}"]
    lines += [f"- {lib}: {_fmt_counts(v)}" for lib, v in prov.versions.items()]
    return "\n".join(lines) + "\n"


def race_lines(race: RaceAccount) -> list[str]:
    """DECISION.md's account of the race: what ran, what was dropped when and why, why it stopped."""
    drops = [f"- {md_text(d)}" for d in race.drops] or ["- none"]
    return ["## How advise raced", "",
            md_text(f"Every contender (optimizer at a budget) started on {race.first_block} of the "
                    f"{race.training} training instances at {race.seeds} seed(s) each; after each block the "
                    f"contenders significantly worse than the best were dropped. {race.raced} training "
                    f"instance(s) raced, at up to {race.seeds_run} seed(s); it stopped because "
                    f"{race.stopped}. Still racing at the end: {', '.join(race.alive) or 'none'}. Dropped "
                    f"contenders show below as excluded (they ran on fewer instances)."), "", *drops, ""]


def _fmt_counts(counts: dict) -> str:
    return ", ".join(f"{md_text(k)} ({n} runs)" for k, n in counts.items())


def write(doc: Decision, out: Path) -> tuple[Path, Path]:
    """Write ``decision.json`` and ``DECISION.md`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / "decision.json", out / "DECISION.md"
    js.write_text(json.dumps(doc.to_json(), indent=2, ensure_ascii=False) + "\n")
    md.write_text(markdown(doc))
    return js, md
