"""The README's "Use the decision" loop, run as written from the project root on the shipped decision."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import optbench

ROOT = Path(__file__).resolve().parents[1]


def _loop_code() -> str:
    section = (ROOT / "README.md").read_text().split("## Use the decision", 1)[1]
    section = section.split("\n## ", 1)[0]
    return next(block for block in re.findall(r"```python\n(.*?)```", section, re.S) if "optbench.minimize" in block)


def test_the_readme_loop_runs_on_the_shipped_decision_and_no_window_beats_its_optimum(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("OPTBENCH_DECISION", raising=False)
    monkeypatch.delenv("OPTBENCH_OPTIMIZER", raising=False)
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(_loop_code(), "README.md", "exec"), namespace)
    lines = printed.getvalue().splitlines()
    profits = namespace["profits"]
    assert len(lines) == 21 and len(profits) == 20 and lines[-1].startswith(f"{namespace['choice'].optimizer}:")
    for window in (0, 19):  # the exact optimum by enumeration bounds what any optimizer finds
        best = -optbench.get("maxdiff", data="goog", window=window).reference().value
        assert profits[window] <= best + 1e-12
