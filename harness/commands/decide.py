"""``optbench decide``: apply the decision rule to the store; write DECISION.md and decision.json."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from optbench.harness.commands.common import add_text_row, console, narrow_table, parse_pairs
from optbench.harness.commands.report import HOLDOUT_HELP, RULE_HELP, STORE_HELP

if TYPE_CHECKING:
    from optbench.harness.decision.decide import Rule
    from optbench.harness.decision.model import Decision


def register(app: typer.Typer) -> None:
    app.command("decide", help="Decide which optimizer to ship per objective class (rule: see DECISION.md); "
                               "writes DECISION.md and decision.json.")(decide)


def decide(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    rule: list[str] | None = typer.Option(None, "--rule", help=RULE_HELP),
    out: Path = typer.Option(Path("results"), "--out", help="folder for DECISION.md and decision.json"),
    holdout: float | None = typer.Option(None, "--holdout", help=HOLDOUT_HELP),
) -> None:
    from optbench.harness.decision import decision_doc
    from optbench.harness.decision.decide import Rule
    from optbench.harness.paths import check_output_folder
    from optbench.harness.report.frame import load
    from optbench.harness.store import DEFAULT_PATH

    parsed = Rule.from_pairs(parse_pairs(rule, "--rule"))
    check_output_folder(out, "--out")
    store = store or DEFAULT_PATH
    command = shlex.join(["optbench", "decide", "--store", str(store), *(a for r in rule or [] for a in ("--rule", r)),
                          *(("--holdout", f"{holdout:g}") if holdout is not None else ()), "--out", str(out)])
    doc = decision_doc.build(load(store), parsed, str(store), command, holdout)
    js, md = decision_doc.write(doc, out)
    print_decision(doc, parsed, js, md)


def print_decision(doc: Decision, rule: Rule, js: Path, md: Path) -> None:
    """The decision's table, each class's held-out check, and where it was written."""
    from optbench.harness.decision import validate
    from optbench.harness.decision.model import PRESETS
    from optbench.harness.report.display import fmt

    table = narrow_table(["class", "preset", "choice", "verdict", "quality", f"class s ({rule.timing})"],
                         f"Decision: class quality and time (see {md.name}; a win needs ≥ "
                         f"{rule.min_instances} instances)", left=("class", "preset", "choice", "verdict"))
    for cls, entry in doc.classes.items():
        for preset in PRESETS:
            p = entry.presets[preset]
            c = p.choice
            figures = (fmt(c.quality.value), fmt(c.wall_s.value)) if c else ("–", "–")
            add_text_row(table, (cls, preset, c.candidate if c else "–", p.verdict, *figures))
    console.print(table)
    for cls, entry in doc.classes.items():
        v = entry.validation
        tested = validate.significance(v)
        detail = (f"rank {v.rank} of {v.candidates}, regret {fmt(v.regret)} on {len(v.held_out)} "
                  f"held-out instance(s){'; ' + tested if tested else ''}" if v.checked else v.reason)
        console.print(f"{cls}: held-out check: {v.status} ({detail})")
    console.print(f"wrote {md} and {js}")
