"""MaxDiff objective against hand-worked cases, a numpy re-implementation, and its reference optimum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench import objectives
from optbench.objectives.maxdiff import day_tensors, profit
from optbench.objectives.maxdiff_data import MaxDiffDays

from .numpy_maxdiff import maxdiff_value_np

OPTION_SETS = [
    dict(data=data, close_at_eod=eod, always_on=ao, **extra)
    for data, extra in (("ar200", {}), ("ar200", {"seed": 7, "n": 50}), ("goog", {"window": 3}), ("goog", {"window": 69}))
    for eod in (False, True)
    for ao in (False, True)
]


def one_day(c, H, L, hp, lp, p, fee=0.001):
    a = lambda v: np.array([v], dtype=float)  # noqa: E731
    return MaxDiffDays(a(c), a(H), a(L), a(hp), a(lp), a(p), fee)


def profit_of(days, h, l, eod):
    return float(profit(h, l, day_tensors(days, False, "cpu", "float64"), eod))


# Each case: day inputs, (h, l), close_at_eod, expected profit worked by hand.
HAND_CASES = [
    # long fills (lp'=-0.01 > L=-0.02); hp'=0.02 ≤ H=0.02 (take-profit at equality): 0.02-(-0.01) - fee
    (dict(c=0.01, H=0.02, L=-0.02, hp=0.02, lp=-0.01, p=1), (0.0, 0.0), False, 0.03 - 0.001),
    # same day closed at end of day: c - lp' - fee = 0.01 + 0.01 - 0.001
    (dict(c=0.01, H=0.02, L=-0.02, hp=0.02, lp=-0.01, p=1), (0.0, 0.0), True, 0.02 - 0.001),
    # take-profit not reached (hp'=0.02 > H=0.015): exit at close, c - lp' - fee
    (dict(c=0.01, H=0.015, L=-0.02, hp=0.02, lp=-0.01, p=1), (0.0, 0.0), False, 0.02 - 0.001),
    # no long fill at equality (lp' = L, strict): nothing happens, no fee
    (dict(c=0.01, H=0.02, L=-0.01, hp=0.02, lp=-0.01, p=1), (0.0, 0.0), False, 0.0),
    # short fills (hp'=0.01 < H=0.02); exit lp'=-0.02 ≥ L=-0.02 at equality: -1·(lp' - hp') - fee
    (dict(c=-0.01, H=0.02, L=-0.02, hp=0.01, lp=-0.02, p=-1), (0.0, 0.0), False, 0.03 - 0.001),
    # no short fill at equality (hp' = H, strict)
    (dict(c=-0.01, H=0.01, L=-0.02, hp=0.01, lp=-0.02, p=-1), (0.0, 0.0), False, 0.0),
    # short, close at end of day: short·(c - hp') - fee = -1·(-0.01 - 0.01) - fee
    (dict(c=-0.01, H=0.02, L=-0.02, hp=0.01, lp=-0.02, p=-1), (0.0, 0.0), True, 0.02 - 0.001),
    # hp + h clamps at 0: hp' = 0 < H fills the short; eod: -1·(c - 0) - fee
    (dict(c=0.004, H=0.002, L=-0.02, hp=-0.005, lp=-0.02, p=-1), (-0.01, 0.0), True, -0.004 - 0.001),
    # lp + l clamps at 0: lp' = 0 > L fills the long; eod: (c - 0) - fee
    (dict(c=0.004, H=0.02, L=-0.01, hp=0.02, lp=0.005, p=1), (0.0, 0.01), True, 0.004 - 0.001),
    # position size 2 scales profit and fee: 2·(0.02 - (-0.01)) - 2·fee
    (dict(c=0.01, H=0.02, L=-0.02, hp=0.02, lp=-0.01, p=2), (0.0, 0.0), False, 0.06 - 0.002),
]


@pytest.mark.parametrize("inputs, hl, eod, expected", HAND_CASES)
def test_hand_worked_cases(inputs, hl, eod, expected):
    days = one_day(**inputs)
    assert profit_of(days, *hl, eod) == pytest.approx(expected, abs=1e-15)
    assert -maxdiff_value_np(*hl, days, eod, False) == pytest.approx(expected, abs=1e-15)


def test_always_on_is_buy_leg_plus_sell_leg():
    days = one_day(c=0.01, H=0.02, L=-0.02, hp=0.01, lp=-0.01, p=1)
    both = float(profit(0.0, 0.0, day_tensors(days, True, "cpu", "float64"), False))
    # buy: fills (−0.01 > −0.02), take-profit 0.01 ≤ 0.02: 0.02 − fee; sell: fills (0.01 < 0.02), lp' ≥ L: 0.02 − fee
    assert both == pytest.approx(0.04 - 0.002, abs=1e-15)


@pytest.mark.parametrize("opts", OPTION_SETS, ids=str)
def test_matches_numpy_reimplementation(opts):
    obj = objectives.get("maxdiff", **opts)
    rng = np.random.default_rng(1)
    xs = rng.uniform(-0.03, 0.03, (60, 2))
    expected = [maxdiff_value_np(h, l, obj.days, opts["close_at_eod"], opts["always_on"]) for h, l in xs]
    scalar = [obj({"h": h, "l": l}) for h, l in xs]
    np.testing.assert_allclose(scalar, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(obj.batch(xs), expected, rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(points=st.lists(st.tuples(st.floats(-0.03, 0.03), st.floats(-0.03, 0.03)), min_size=1, max_size=40),
       eod=st.booleans(), always_on=st.booleans())
def test_batch_equals_one_by_one(points, eod, always_on):
    obj = objectives.get("maxdiff", close_at_eod=eod, always_on=always_on)
    xs = np.array(points, dtype=float)
    one_by_one = np.array([obj({"h": h, "l": l}) for h, l in xs])
    np.testing.assert_allclose(obj.batch(xs), one_by_one, rtol=1e-12, atol=1e-14)
    mappings = [{"h": h, "l": l} for h, l in xs]
    np.testing.assert_allclose(obj.batch(mappings), one_by_one, rtol=1e-12, atol=1e-14)


def test_float32_agrees_with_float64_away_from_breakpoints():
    o64 = objectives.get("maxdiff")
    o32 = objectives.get("maxdiff", dtype="float32")
    d = o64.days
    h_bps = np.concatenate([d.H - d.hp, -d.hp])
    l_bps = np.concatenate([d.L - d.lp, -d.lp])
    xs = np.random.default_rng(2).uniform(-0.03, 0.03, (400, 2))
    far = [(h, l) for h, l in xs if np.abs(h_bps - h).min() > 1e-5 and np.abs(l_bps - l).min() > 1e-5]
    assert len(far) > 20
    far = np.array(far)
    np.testing.assert_allclose(o32.batch(far), o64.batch(far), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("opts", OPTION_SETS[:8:2] + OPTION_SETS[8::3], ids=str)
def test_reference_at_least_as_good_as_dense_grid(opts):
    obj = objectives.get("maxdiff", **opts)
    ref = obj.reference()
    grid = np.linspace(-0.03, 0.03, 241)
    xs = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    assert ref.value <= obj.batch(xs).min() + 1e-12
    # the point sits EPS beside the optimum's corner (fills are strict: the corner is approached, not reached);
    # the second implementation's value there is the supremum plus at most slope × EPS
    at_point = maxdiff_value_np(ref.point["h"], ref.point["l"], obj.days, opts["close_at_eod"], opts["always_on"])
    assert ref.value - 1e-15 <= at_point < ref.value + 1e-6


def test_reference_beats_random_points_near_its_own_candidates():
    obj = objectives.get("maxdiff", seed=3, n=80)
    ref = obj.reference()
    xs = np.random.default_rng(0).uniform(-0.03, 0.03, (20000, 2))
    assert ref.value <= obj.batch(xs).min() + 1e-12


def test_ar200_is_seeded_and_goog_windows_follow_spec():
    a, b = objectives.get("maxdiff", seed=5).days, objectives.get("maxdiff", seed=5).days
    assert np.array_equal(a.c, b.c) and not np.array_equal(a.c, objectives.get("maxdiff", seed=6).days.c)
    from backtesting.test import GOOG

    close, high = GOOG["Close"].to_numpy(float), GOOG["High"].to_numpy(float)
    w = objectives.get("maxdiff", data="goog", window=2).days
    t0 = 21 + 25 * 2
    assert len(w) == 200
    assert w.c[0] == pytest.approx(close[t0] / close[t0 - 1] - 1, rel=1e-12)
    assert w.H[5] == pytest.approx(high[t0 + 5] / close[t0 + 4] - 1, rel=1e-12)
    past_H = high[t0 - 20:t0] / close[t0 - 21:t0 - 1] - 1  # days t-20 .. t-1
    assert w.hp[0] == pytest.approx(past_H.mean(), rel=1e-12)
    assert w.fee == 0.0005 and set(np.unique(w.p)) <= {-1.0, 1.0}


@pytest.mark.parametrize("bad, match", [
    (dict(data="nope"), "data='nope' is unknown"),
    (dict(n=1), "out of range"),
    (dict(window=70), "out of range"),
    (dict(dtype="float16"), "float16"),
    (dict(device="tpu"), "device"),
    (dict(colour=1), "unknown option"),
    (dict(n="many"), "must be int"),
])
def test_bad_options_raise_clear_errors(bad, match):
    with pytest.raises(objectives.ObjectiveError, match=match):
        objectives.get("maxdiff", **bad)


@pytest.mark.parametrize("point, match", [
    ({"h": 0.0}, "missing"),
    ({"h": 0.0, "l": 0.0, "z": 1}, "unknown"),
    ({"h": 0.5, "l": 0.0}, "out of bounds"),
    ({"h": "x", "l": 0.0}, "wrong type"),
    ({"h": float("nan"), "l": 0.0}, "not finite"),
])
def test_bad_points_raise_clear_errors(point, match):
    with pytest.raises(objectives.ObjectiveError, match=match):
        objectives.get("maxdiff")(point)


def test_unknown_objective_names_the_registered_ones():
    with pytest.raises(objectives.ObjectiveError, match="registered: maxdiff"):
        objectives.get("maxdif")
