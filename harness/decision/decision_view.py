"""The report's opening block: per objective class, the shipped configuration (default preset), its
verdict, and its quality and time against the runners-up, from the same ``decide`` output that
``optbench decide`` writes to decision.json."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict

import pandas as pd

from optbench.harness.decision.decide import Rule
from optbench.harness.decision.decision_doc import scale_top, validation_text, verdict_text
from optbench.harness.decision.model import ClassDecision, PresetDecision
from optbench.harness.report.display import estimate, fmt, quality_order
from optbench.harness.report.render import ClassBlock, DecisionBlock, Table, md_code, md_text

COMPARED = 4  # rows besides the choice: the nearest rivals are what a reader weighs


def _comparison(preset: PresetDecision) -> pd.DataFrame:
    tests = {t.candidate: t for t in preset.tests}
    assert preset.choice is not None
    choice = preset.choice.candidate
    roles = [(choice, "shipped")]
    roles += [(c, "tied" if c in preset.tied_with else "runner-up") for c in preset.runners_up]
    if preset.best_quality != choice:
        roles.append((preset.best_quality, "best quality"))
    roles += [(c, "faster, worse quality") for c in preset.faster_but_worse]
    by_quality = sorted(tests.values(), key=quality_order)
    roles += [(t.candidate, "slower or worse") for t in by_quality]
    seen: set[str] = set()
    rows: list[dict] = []
    for key, role in roles:
        if len(rows) > COMPARED:  # the choice plus COMPARED rivals
            break
        if key in seen:
            continue
        seen.add(key)
        t = tests[key]
        rows.append({"configuration @ budget": key, "role": role, "class quality": estimate(t.quality),
                     "time s (warm)": estimate(t.warm_wall_s), "time s (cold)": estimate(t.cold_wall_s),
                     "instances": t.instances, "seeds": t.seeds,
                     "p quality worse than best (paired, Holm)": fmt(t.p_worse_than_best),
                     "p shipped is faster (paired, Holm)": fmt(t.p_choice_faster)})
    return pd.DataFrame(rows)


def class_decision(cls: str, entry: ClassDecision, rule: Rule) -> ClassBlock:
    """One class's block."""
    preset = entry.presets["default"]
    choice = preset.choice
    if choice is None:
        excluded = (pd.DataFrame([asdict(e) for e in entry.excluded]) if entry.excluded
                    else pd.DataFrame({"reason": ["no runs"]}))
        return ClassBlock(cls, "nothing", "none", f"No decision: {md_text(preset.reason)}.", Table(excluded, "excluded"))
    n = len(entry.objectives)
    summary = (f"Class quality {estimate(choice.quality)} (0 = random search's median, 1 = "
               f"{scale_top(entry.best_known)}), "
               f"class time {estimate(choice.wall_s)} s {rule.timing} "
               f"(cold {estimate(choice.cold_wall_s)} s) for one run of each of the {n} objective(s), "
               f"{fmt(choice.n_evals)} evaluations, {choice.instances} instances × up to {choice.seeds} seeds. "
               f"Intervals: {'range over instances' if choice.quality.kind == 'range' else '95 % bootstrap CI'}.")
    notes = [validation_text(entry.validation), "Verdict: " + verdict_text(preset) + "."]
    others = {p: (c.candidate, entry.presets[p].verdict) for p in ("fast", "thorough")
              if (c := entry.presets[p].choice) is not None}
    if others:
        notes.append("Other presets: " + "; ".join(f"{p} → {md_code(c)} ({verdict})"
                                                    for p, (c, verdict) in others.items()) + ".")
    badge = f"{preset.verdict}, by {preset.decided_by.split(':')[0]}; held-out: {entry.validation.status}"
    return ClassBlock(cls, choice.candidate, badge, summary,
                      Table(_comparison(preset), "shipped configuration against its nearest rivals"), tuple(notes))


def decision_block(decided: Mapping[str, ClassDecision], rule: Rule, scale: str, link: str) -> DecisionBlock:
    """The whole block, classes in name order."""
    return DecisionBlock(tuple(class_decision(cls, entry, rule) for cls, entry in sorted(decided.items())),
                         rule.sentence(), scale, link)
