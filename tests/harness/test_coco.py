"""COCO export: the files' lines worked out by hand, ERT against a hand count and against cocopp
reading the files back, and cocopp's pages made offline from a tiny BBOB matrix."""

import math

import pytest

from optbench.harness.coco.commands import coco_sections, run_cocopp
from optbench.harness.coco.crosscheck import TARGETS, compare
from optbench.harness.coco.export import export, group_runs
from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell, RunRecord
from optbench.harness.core.runner import run_cell
from optbench.harness.report.render import inline
from optbench.objectives.bbob import BBOBObjective


def bbob_record(instance: int, trace, n_evals: int, optimizer: str = "random", seed: int = 0) -> RunRecord:
    return RunRecord(objective="bbob", options=dict(function=1, dim=2, instance=instance), optimizer=optimizer,
                     optimizer_options={}, budget={"max_evals": 100, "max_seconds": None}, seed=seed,
                     status="ok", value=trace[-1][2], n_evals=n_evals, trace=trace, family="bbob")


# Two runs on f1 2-D: run A reaches 1e-1 at evaluation 10 and 1e-3 at 60; run B reaches 1e-1 at 40, never 1e-3.
RUN_A = bbob_record(1, [(1, 0.0, 50.0), (10, 0.0, 0.05), (60, 0.0, 5e-4)], 100)
RUN_B = bbob_record(2, [(1, 0.0, 20.0), (40, 0.0, 0.09)], 80)


def test_files_hold_the_runs_lines_and_the_info_entries(tmp_path):
    assert export(group_runs([RUN_A, RUN_B]), tmp_path) == {"random": 2}
    f_opt = BBOBObjective(1, 2, 1).f_opt
    dat = (tmp_path / "random/data_f1/bbobexp_f1_DIM2.dat").read_text().splitlines()
    assert dat[0].startswith("% f evaluations") and f"({f_opt:.12e})" in dat[0]
    assert dat[1:5] == [f"1 0 +5.000000000e+01 {f_opt + 50:+.9e} {f_opt + 50:+.9e}",
                        f"10 0 +5.000000000e-02 {f_opt + 0.05:+.9e} {f_opt + 0.05:+.9e}",
                        f"60 0 +5.000000000e-04 {f_opt + 5e-4:+.9e} {f_opt + 5e-4:+.9e}",
                        f"100 0 +5.000000000e-04 {f_opt + 5e-4:+.9e} {f_opt + 5e-4:+.9e}"]  # the run's last evaluation
    assert (tmp_path / "random/data_f1/bbobexp_f1_DIM2.tdat").read_text().splitlines() == dat
    info = (tmp_path / "random/bbobexp_f1.info").read_text().splitlines()
    assert "funcId = 1, DIM = 2" in info[0] and "algId = 'random'" in info[0]
    assert info[2] == "data_f1/bbobexp_f1_DIM2.dat, 1:100|5.0e-04, 2:80|9.0e-02"


def test_ert_matches_a_hand_count_and_cocopp(tmp_path):
    export(group_runs([RUN_A, RUN_B]), tmp_path)
    rows = {r["target"]: r for r in compare(group_runs([RUN_A, RUN_B]), tmp_path)}
    # 1e-1: both reached, at 10 and 40 -> (10 + 40) / 2 = 25.
    # 1e-3: A at 60, B spent 80 without -> (60 + 80) / 1 = 140. 1e-4: nobody -> inf.
    for target, expected in ((1e-1, 25.0), (1e-3, 140.0), (1e-4, math.inf), (1e2, 1.0)):
        assert rows[target]["ert_optbench"] == expected
        assert rows[target]["ert_cocopp"] == expected
        assert rows[target]["same_hitting_times"]


def test_a_tiny_matrix_exports_and_cocopp_makes_its_pages_offline(tmp_path):
    cells = [Cell("bbob", optimizer, Budget(max_evals=150), seed, dict(function=f, dim=2, instance=i))
             for optimizer in ("random", "scipy.de") for f in (1, 15) for i in (1, 2) for seed in (0, 1)]
    records = [run_cell(cell) for cell in cells]
    assert {r.status for r in records} == {"ok"}
    written = export(group_runs(records), tmp_path / "coco")
    assert written == {"random": 8, "scipy.de": 8}
    rows = compare(group_runs(records), tmp_path / "coco")
    assert len(rows) == 2 * 2 * len(TARGETS)
    assert all(r["rel_diff"] == 0 and r["same_hitting_times"] for r in rows)
    index = run_cocopp([tmp_path / "coco" / name for name in sorted(written)], tmp_path / "coco" / "cocopp")
    assert index.exists() and "<html" in index.read_text().lower()
    [section] = coco_sections(tmp_path / "report", tmp_path / "coco")
    assert "../coco/cocopp/index.html" in section.items[0]
    assert '<a href="../coco/cocopp/index.html">' in inline(section.items[0])  # a link in the HTML report


def test_cli_export_coco_refuses_a_store_without_bbob_runs_and_an_unwritable_folder(tmp_path):
    from optbench.harness.cli import main
    from optbench.harness.store import Store

    with Store.open(tmp_path / "s.sqlite") as store:
        store.put(RunRecord(**{**RUN_A.to_dict(), "objective": "sphere", "options": {"dim": 2},
                               "family": "synthetic"}))
    with Store.open(tmp_path / "bbob.sqlite") as store:
        store.put(RUN_A)
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--format", "coco", "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "c")])
    assert exit_info.value.code == 2
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as exit_info:  # an output path under a file: one line, exit 2
        main(["export", "--format", "coco", "--store", str(tmp_path / "bbob.sqlite"), "--out", str(tmp_path / "file")])
    assert exit_info.value.code == 2
