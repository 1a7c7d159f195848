"""The whole report from a small hand-made frame with failures: every output is written."""

import pandas as pd

from optbench.harness.budget import Budget
from optbench.harness.record import Cell
from optbench.harness.report.build import write_report
from optbench.harness.report.frame import records_frame
from optbench.harness.runner import failed_record

from .records import rec


def test_report_writes_tables_plots_and_page_and_lists_failures(tmp_path):
    records = [rec(opt, s, v + 0.01 * s, wall, options=o)
               for o in ({}, {"data": "goog"}) for opt, v, wall in (("a", -0.9, 0.5), ("random", -0.6, 0.01))
               for s in range(3)]
    records += [rec("a", s, 0.1 * (s + 1), 0.2, objective="sphere", reference=0.0) for s in range(3)]  # no random
    records.append(rec("a", 3, None, status="error"))
    records.append(failed_record(Cell("sphere", "a", Budget(100), 7), "timeout", "cell timed out after 1800 s"))
    index = write_report(records_frame(records), tmp_path, n_boot=200)

    html = index.read_text()
    figures = sorted(p.stem for p in (tmp_path / "plots").glob("*.png"))
    assert figures == sorted(p.stem for p in (tmp_path / "plots").glob("*.svg"))
    assert html.count("data:image/png;base64,") == len(figures) == 1 + 2 + 3 * 3  # fight, 2 ECDFs, 3 per objective
    failures = pd.read_csv(tmp_path / "failures.csv")
    assert sorted(failures["status"]) == ["error", "timeout"]
    assert "cell timed out" in html and "N/A (no random search at this budget)" in html
    summary = pd.read_csv(tmp_path / "summary.csv")
    row = summary[(summary["objective"] == "maxdiff") & (summary["config"] == "a")].iloc[0]
    assert (row["runs"], row["ok"], round(row["ratio"], 6)) == (4, 3, 0.89)  # median of 0.9, 0.89, 0.88
    assert "| a | 3/4 |" in (tmp_path / "report.md").read_text()
