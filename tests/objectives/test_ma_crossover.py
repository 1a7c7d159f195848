"""MA-crossover Sharpe against an independent pandas computation."""

import numpy as np
import pytest

from optbench import objectives


def pandas_sharpe(fast: int, slow: int, ma_type: str) -> float:
    from backtesting.test import GOOG

    close = GOOG["Close"].astype(float).reset_index(drop=True)
    if ma_type == "sma":
        f, s = close.rolling(fast).mean(), close.rolling(slow).mean()
    else:
        f, s = close.ewm(span=fast, adjust=False).mean(), close.ewm(span=slow, adjust=False).mean()
    signal = (f > s).astype(float)  # NaN comparisons are False: undefined MA -> 0
    ret = close.pct_change()
    strat = signal.shift(1) * ret - 0.001 * (signal.shift(1) - signal.shift(2)).abs()
    scored = strat.iloc[252:]
    std = scored.std(ddof=1)
    return 0.0 if std == 0 else float(np.sqrt(252) * scored.mean() / std)


@pytest.mark.parametrize("fast, slow, ma_type", [(2, 51, "sma"), (10, 100, "sma"), (50, 250, "sma"),
                                                 (4, 57, "ema"), (20, 200, "ema"), (33, 77, "ema")])
def test_sharpe_matches_pandas(fast, slow, ma_type):
    obj = objectives.get("ma_crossover")
    value = obj({"fast": fast, "slow": slow, "ma_type": ma_type})
    assert value == pytest.approx(-pandas_sharpe(fast, slow, ma_type), rel=1e-9, abs=1e-12)


def test_batch_equals_scalar_and_reference_is_the_enumerated_best():
    obj = objectives.get("ma_crossover")
    pts = [{"fast": f, "slow": s, "ma_type": m} for f, s, m in [(3, 60, "sma"), (7, 120, "ema"), (49, 250, "ema")]]
    np.testing.assert_allclose(obj.batch(pts), [obj(p) for p in pts], rtol=1e-12)
    ref = obj.reference()
    assert ref.value == pytest.approx(obj(ref.point), rel=1e-12)
    rng = np.random.default_rng(0)
    sample = [{"fast": int(rng.integers(2, 51)), "slow": int(rng.integers(51, 251)),
               "ma_type": str(rng.choice(["sma", "ema"]))} for _ in range(300)]
    assert ref.value <= obj.batch(sample).min()


@pytest.mark.parametrize("point, match", [
    ({"fast": 2.5, "slow": 60, "ma_type": "sma"}, "integer"),
    ({"fast": 1, "slow": 60, "ma_type": "sma"}, "out of bounds"),
    ({"fast": 5, "slow": 60, "ma_type": "wma"}, "not one of"),
])
def test_mixed_space_rejects_bad_points(point, match):
    with pytest.raises(objectives.ObjectiveError, match=match):
        objectives.get("ma_crossover")(point)

