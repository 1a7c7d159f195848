"""The example plug-in as this checkout has it (loaded from its file, whatever is installed): its data
windows are the instances, the strategy's parameters the search space, and its values match an
independent day-by-day computation of the rule."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optbench
from optbench import objectives

SOURCE = Path(__file__).resolve().parents[1] / "examples" / "optbench-example-plugin" / "src" / "optbench_example_plugin"
pytest.importorskip("backtesting")


@pytest.fixture(scope="module")
def bollinger():
    spec = importlib.util.spec_from_file_location("example_bollinger_under_test", SOURCE / "bollinger.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def day_by_day(close: np.ndarray, window: int, k: float, side: str, days: range, fee: float) -> float:
    """−Sharpe of the rule, one day at a time."""
    c = pd.Series(close)
    z = ((c - c.rolling(window).mean()) / c.rolling(window).std()).to_numpy()
    pos = [1.0 if z_t < -k else -1.0 if (z_t > k and side == "long_short") else 0.0 for z_t in z]  # NaN: 0
    r = c.pct_change().fillna(0.0).to_numpy()
    s = np.array([pos[t - 1] * r[t] - fee * abs(pos[t - 1] - pos[t - 2]) for t in days])
    sd = s.std(ddof=1)
    return 0.0 if sd == 0 else float(-np.sqrt(252.0) * s.mean() / sd)


def test_the_data_windows_are_the_instances_and_the_strategy_parameters_the_search_space(bollinger):
    assert bollinger.BollingerGoog.instances() == [{"period": p} for p in range(bollinger.PERIODS)]
    optbench.register_objective("tmp.bollinger_windows", bollinger.BollingerGoog, replace=True)
    try:
        assert objectives.instances("tmp.bollinger_windows") == [{"period": p} for p in range(6)]
        built = objectives.get("tmp.bollinger_windows", period=3)
        assert built.space.names == ["window", "k", "side"] and built.options["period"] == 3
        assert (built.family, built.gain, built.knowledge, built.reference()) == ("mean_reversion", True, "none", None)
    finally:
        objectives.REGISTRY.entries.pop("tmp.bollinger_windows")


def test_the_periods_split_the_scored_days_into_consecutive_windows(bollinger):
    n = len(bollinger.goog_close())
    periods = [bollinger.scored_days(p, n) for p in range(bollinger.PERIODS)]
    assert [d for r in periods for d in r] == list(bollinger.scored_days(None, n)) == list(range(bollinger.FIRST, n))
    assert max(map(len, periods)) - min(map(len, periods)) <= 1


@pytest.mark.parametrize("period", [None, 0, 5])
def test_values_match_a_day_by_day_computation(bollinger, period):
    objective = bollinger.BollingerGoog(period)
    close = bollinger.goog_close()
    points = [{"window": 20, "k": 1.5, "side": "long"}, {"window": 47, "k": 0.7, "side": "long_short"},
              {"window": 5, "k": 3.0, "side": "long_short"}]
    expected = [day_by_day(close, p["window"], p["k"], p["side"], objective.days, bollinger.FEE) for p in points]
    assert [objective(p) for p in points] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert objective.batch(points) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_a_period_outside_the_windows_is_refused(bollinger):
    with pytest.raises(objectives.ObjectiveError, match="period=6 must be a data window 0 … 5"):
        bollinger.BollingerGoog(6)
