"""Quality columns, tables and the fight matrix on hand-made records with known answers."""

import math

import pytest

from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import failed_record
from optbench.harness.report import tables
from optbench.harness.report.frame import analyse, records_frame

from .records import rec


def test_quality_is_the_share_of_the_gap_closed_between_random_and_the_optimum():
    records = [rec("a", 0, -0.9), rec("b", 0, -0.5),  # MaxDiff-like: reference −1 (a gain: profit 1)
               rec("random", 0, -0.6), rec("random", 1, -0.4),  # random median −0.5
               rec("random", 0, 4.0, objective="sphere", reference=0.0),
               rec("random", 1, 2.0, objective="sphere", reference=0.0),  # random median = 3
               rec("a", 0, 0.3, objective="sphere", reference=0.0),
               rec("b", 0, 300.0, objective="sphere", reference=0.0)]  # 99 gaps below random: the floor
    df = analyse(records_frame(records)).set_index(["objective", "optimizer", "seed"])
    assert df.loc[("maxdiff", "a", 0), "ratio"] == pytest.approx(0.9)
    assert df.loc[("maxdiff", "a", 0), "regret"] == pytest.approx(0.1)
    assert df.loc[("maxdiff", "a", 0), "gain_value"] == pytest.approx(0.9)  # profit shown as profit
    assert df.loc[("maxdiff", "a", 0), "quality"] == pytest.approx((-0.5 + 0.9) / (-0.5 + 1))
    assert df.loc[("maxdiff", "b", 0), "quality"] == pytest.approx(0.0)
    assert df.loc[("sphere", "a", 0), "quality"] == pytest.approx(1 - 0.3 / 3.0)
    assert df.loc[("sphere", "random", 0), "quality"] == pytest.approx(1 - 4 / 3)
    assert df.loc[("sphere", "b", 0), "quality"] == -1.0
    assert math.isnan(df.loc[("sphere", "a", 0), "gain_value"]) and math.isnan(df.loc[("sphere", "a", 0), "ratio"])
    assert set(df["best_known_kind"]) == {"optimum"}


def test_quality_without_random_search_is_unknown():
    df = analyse(records_frame([rec("a", 0, -0.9)]))
    assert math.isnan(df.loc[0, "quality"]) and df.loc[0, "ratio"] == pytest.approx(0.9)


def test_failures_are_rows_not_crashes():
    crashed = failed_record(Cell("maxdiff", "b", Budget(100), 1), "crashed", "worker died (signal 9)")
    records = [rec("a", 0, -0.9), rec("b", 0, -0.8), rec("a", 1, None, status="error"), crashed]
    df = analyse(records_frame(records))
    failed = tables.failures(df)
    assert sorted(zip(failed["config"], failed["seed"], failed["status"])) == [("a", 1, "error"), ("b", 1, "crashed")]
    summary = tables.summary(df, n_boot=200).set_index("config")
    assert (summary.loc["a", "runs"], summary.loc["a", "ok"], summary.loc["a", "ratio"]) == (2, 1, pytest.approx(0.9))
    targets = tables.target_table(df, n_boot=200)
    at = targets[(targets["config"] == "b") & (targets["target"] == "ratio≥0.8")].iloc[0]
    assert at["success"] == 0.5 and at["ert_evals"] == pytest.approx((50 + 0) / 1)  # the crash spent nothing


def test_fight_matrix_hand_worked():
    # medians per problem (lower value wins); c fails once on P2, so it loses there
    values = {("P1", "a"): -3, ("P1", "b"): -2, ("P1", "c"): -1,
              ("P2", "a"): -1, ("P2", "b"): -2, ("P2", "c"): -3}
    records = [rec(opt, 0, v, options={"window": int(p[1])}) for (p, opt), v in values.items()]
    records.append(rec("c", 1, None, options={"window": 2}, status="error"))
    df = analyse(records_frame(records))
    fight = tables.fight(df)
    assert fight.loc["a", "b"] == 0.5 and fight.loc["b", "a"] == 0.5
    assert fight.loc["a", "c"] == 1.0 and fight.loc["c", "a"] == 0.0
    assert math.isnan(fight.loc["a", "a"])
    long = tables.fight_long({"maxdiff": fight}).set_index(["config", "opponent"])["win_rate"]
    assert len(long) == 6 and long[("a", "c")] == 1.0  # the diagonal (never met) is left out


def test_a_store_from_before_objectives_described_themselves_is_read_as_data_only():
    # rows as an old store loads them: no family / gain / knowledge / option_defaults values,
    # no warm_wall_s column; the report consults no registry, so the fallbacks are the name, False, "optimum"
    old = records_frame([rec("a", 0, -0.9), rec("a", 1, -0.8, options={"window": 3}),
                         rec("random", 0, 3.0, objective="sphere", reference=0.0)])
    old[["family", "gain", "knowledge", "option_defaults"]] = None
    df = analyse(old.drop(columns="warm_wall_s")).set_index("objective")
    assert df.loc["maxdiff", ["family", "gain", "knowledge"]].values.tolist() == [
        ["maxdiff", False, "optimum"]] * 2
    assert df.loc["sphere", ["family", "gain"]].tolist() == ["sphere", False]
    assert sorted(df.loc["maxdiff", "objective_label"]) == ["maxdiff", "maxdiff(window=3)"]  # what varies
    assert math.isnan(df.loc["sphere", "gain_value"]) and math.isnan(df.loc["sphere", "warm_wall_s"])
