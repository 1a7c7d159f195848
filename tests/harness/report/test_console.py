"""Console output of `decide` and `study`: tables fit 100 columns with every header whole; no markdown."""

import pandas as pd
from rich.console import Console

from optbench.harness.commands import decide as decide_command
from optbench.harness.commands import study as study_command
from optbench.harness.commands.common import console_markup
from optbench.harness.commands.study import TERMINAL_COLUMNS

from .records import class_records

QUALITY = {"batched.exact[maxfun=100]": [1.0] * 4, "scipy.direct": [0.99] * 4, "random": [0.5] * 4}
WALL = {"batched.exact[maxfun=100]": [0.1] * 4, "scipy.direct": [1.0] * 4, "random": [0.01] * 4}


def _lines(console: Console) -> list[str]:
    return console.export_text().splitlines()


def test_decide_table_fits_100_columns_with_whole_headers(tmp_path, monkeypatch):
    wide = Console(width=100, record=True)
    monkeypatch.setattr(decide_command, "console", wide)
    store = tmp_path / "runs.jsonl"
    store.write_text("\n".join(r.to_json() for r in class_records(QUALITY, WALL)))
    decide_command.decide(store=store, rule=None, out=tmp_path, holdout=None)
    lines = _lines(wide)
    assert max(map(len, lines)) <= 100 and "…" not in "\n".join(lines)
    header = next(line for line in lines if "verdict" in line)
    assert all(h in header for h in ("class", "preset", "choice", "verdict", "quality", "class s (warm)"))
    assert any("batched.exact[maxfun=100] @ 100" in line and "not enough instances" in line for line in lines)


def test_study_table_fits_100_columns_and_markdown_becomes_markup(monkeypatch):
    wide = Console(width=100, record=True)
    monkeypatch.setattr(study_command, "console", wide)
    row = ["python", "0.123", "independent", "12.3", "×1.85", "92 %", "0.52", "13.21", "-1.2345"]
    study_command._print(pd.DataFrame([row, row], columns=TERMINAL_COLUMNS), "ma_crossover: 2 workers")
    wide.print(console_markup("- **Use** at `x` [threads]: 3 ms"))
    lines = _lines(wide)
    assert max(map(len, lines)) <= 100 and "…" not in "\n".join(lines)
    assert all(h in lines[1] for h in TERMINAL_COLUMNS) and "independent" in lines[2]
    assert lines[-1] == "- Use at x [threads]: 3 ms"
