"""The typed decision at its file boundary: ``Decision.to_json`` and ``Decision.from_json`` lose nothing."""

from __future__ import annotations

import json
import math
from pathlib import Path

from optbench.harness.decision import decision_doc
from optbench.harness.decision.model import (
    Choice,
    ClassDecision,
    Compared,
    Decision,
    PresetDecision,
    Provenance,
    RaceAccount,
    Validation,
)
from optbench.harness.report.estimate import Estimate

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_decision_reads_and_writes_back_unchanged():
    raw = json.loads((ROOT / "results" / "decision.json").read_text())
    doc = Decision.from_json(raw)
    assert doc.to_json() == raw
    assert set(doc.classes) == set(raw["classes"])
    for name, entry in doc.classes.items():
        choice = entry.presets["default"].choice
        assert choice is not None and choice.optimizer == raw["classes"][name]["presets"]["default"]["choice"]["optimizer"]


def test_nan_is_written_as_null_and_floats_to_six_digits():
    e = Estimate(0.123456789, math.nan, 2 / 3, "CI")
    tested = Compared("a @ 10 evals", e, e, e, e, 3, 8, 1 / 3, None, True)
    choice = Choice("a @ 10 evals", "a", {"k": 1}, {"max_evals": 10, "max_seconds": None}, e, e, e, e, 80.0, 3, 8)
    preset = PresetDecision("tie", "quality: a test", choice, "a @ 10 evals", math.nan, ("b @ 10 evals",), (), (),
                            (tested,))
    validation = Validation(("x",), ("y",), "held", "", 0.5, 1, 2, "a @ 10 evals", 0.5, 0.0)
    doc = Decision("cmd", {"alpha": 0.05}, "text", 8, "warm", Provenance("s", 1, 0, "h", {}, {}, {}, {}, "d"),
                   {"c": ClassDecision(("x", "y"), ("o",), {}, 0.5, validation, {"default": preset})})
    written = doc.to_json()
    default = written["classes"]["c"]["presets"]["default"]
    assert default["choice"]["quality"] == {"median": 0.123457, "low": None, "high": 0.666667, "interval": "CI"}
    assert default["quality_floor"] is None and default["tests"][0]["p_choice_faster"] is None
    back = Decision.from_json(json.loads(json.dumps(written)))
    assert back.to_json() == written
    read = back.classes["c"].presets["default"]
    assert math.isnan(read.quality_floor) and read.tests[0].p_choice_faster is None and read.tied_with == ("b @ 10 evals",)
    assert back.classes["c"].validation.checked and back.classes["c"].validation.rank == 1


def test_advise_s_race_reads_and_writes_back_and_is_told_in_decision_md():
    race = RaceAccount(6, 2, 4, 2, 3, "time is up", ("a @ 10 evals",), ("dropped b @ 10 evals after 2 instance(s): …",))
    doc = Decision("advise", {}, "text", 5, "warm", Provenance("s", 1, 0, "h", {}, {}, {}, {}, "d"), {}, race)
    written = json.loads(json.dumps(doc.to_json()))
    assert written["race"]["alive"] == ["a @ 10 evals"] and Decision.from_json(written) == doc
    md = decision_doc.markdown(Decision.from_json(written))
    assert "## How advise raced" in md and "started on 2 of the 6 training instances" in md
    assert Decision.from_json({k: v for k, v in written.items() if k != "race"}).race is None
