"""The MaxDiff batch paths against each other and the numpy re-implementation: the eager chunked
batch (the reference), the fused expression evaluated eagerly, and that expression compiled."""

import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench import objectives
from optbench.objectives import maxdiff_compiled
from optbench.objectives.maxdiff import profit_batch

from .numpy_maxdiff import maxdiff_value_np
from .test_maxdiff import OPTION_SETS

SLOW = os.environ.get("OPTBENCH_SLOW", "") not in ("", "0")


def fused_eager(obj, xs):
    d = obj.tensors
    x = torch.as_tensor(xs, dtype=d.c.dtype)
    fee = torch.tensor(d.fee, dtype=d.c.dtype)
    return -maxdiff_compiled.fused_profit(x, d.c, d.H, d.L, d.hp, d.lp, d.long, d.short, fee, obj.close_at_eod).numpy()


def numpy_values(obj, xs):
    o = obj.options
    return np.array([maxdiff_value_np(h, l, obj.days, o["close_at_eod"], o["always_on"]) for h, l in xs])


def far_from_breakpoints(days, xs, gap=1e-5):
    """Rows of ``xs`` where float32 rounding cannot move a fill or an exit across a breakpoint."""
    h_bps = np.concatenate([days.H - days.hp, -days.hp])
    l_bps = np.concatenate([days.L - days.lp, -days.lp])
    keep = [np.abs(h_bps - h).min() > gap and np.abs(l_bps - l).min() > gap for h, l in xs]
    return xs[np.array(keep)]


@pytest.fixture
def compiled_on():
    if maxdiff_compiled.failure:
        pytest.skip(f"torch.compile is unavailable here: {maxdiff_compiled.failure}")
    previous = maxdiff_compiled.set_enabled(True)
    yield
    maxdiff_compiled.set_enabled(previous)


@pytest.mark.parametrize("opts", OPTION_SETS, ids=str)
def test_fused_expression_matches_eager_batch_and_numpy(opts):
    obj = objectives.get("maxdiff", **opts)
    xs = np.random.default_rng(3).uniform(-0.03, 0.03, (300, 2))
    expected = numpy_values(obj, xs)
    np.testing.assert_allclose(fused_eager(obj, xs), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(obj.batch(xs), expected, rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(points=st.lists(st.tuples(st.floats(-0.03, 0.03), st.floats(-0.03, 0.03)), min_size=1, max_size=30),
       eod=st.booleans(), always_on=st.booleans(), window=st.integers(0, 69))
def test_fused_expression_equals_eager_batch_anywhere(points, eod, always_on, window):
    obj = objectives.get("maxdiff", data="goog", window=window, close_at_eod=eod, always_on=always_on)
    xs = np.array(points, dtype=float)
    eager = -profit_batch(torch.as_tensor(xs), obj.tensors, eod).numpy()
    np.testing.assert_allclose(fused_eager(obj, xs), eager, rtol=1e-12, atol=1e-14)


def test_fused_expression_in_float32_agrees_away_from_breakpoints():
    for eod in (False, True):
        o32 = objectives.get("maxdiff", dtype="float32", close_at_eod=eod)
        xs = far_from_breakpoints(o32.days, np.random.default_rng(4).uniform(-0.03, 0.03, (400, 2)))
        assert len(xs) > 20
        np.testing.assert_allclose(fused_eager(o32, xs), numpy_values(o32, xs), rtol=1e-4, atol=1e-5)


def test_default_batch_does_not_compile(monkeypatch):
    monkeypatch.setattr(maxdiff_compiled, "_enabled", False)
    monkeypatch.setattr(torch, "compile", lambda *a, **k: pytest.fail("compiled without being asked"))
    obj = objectives.get("maxdiff", n=50)
    xs = np.random.default_rng(5).uniform(-0.03, 0.03, (20, 2))
    np.testing.assert_allclose(obj.batch(xs), numpy_values(obj, xs), rtol=1e-12, atol=1e-14)


def test_a_failing_compile_falls_back_to_the_eager_batch_with_one_warning(monkeypatch):
    def broken(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no C++ compiler found\nlong details")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(maxdiff_compiled, "_compiled", None)
    monkeypatch.setattr(maxdiff_compiled, "failure", "")
    monkeypatch.setattr(maxdiff_compiled, "_enabled", True)
    obj = objectives.get("maxdiff", n=60, close_at_eod=True)
    xs = np.random.default_rng(6).uniform(-0.03, 0.03, (25, 2))
    with pytest.warns(RuntimeWarning, match=r"no C\+\+ compiler found\); using the eager batch"):
        first = obj.batch(xs)
    assert maxdiff_compiled.failure == "RuntimeError: no C++ compiler found" and not maxdiff_compiled.enabled()
    np.testing.assert_allclose(first, numpy_values(obj, xs), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(obj.batch(xs), first)  # no second attempt, no second warning


# A cold compile costs 10–40 s per (dtype, policy) here: the compiled kernel is checked with
# OPTBENCH_SLOW=1; the default suite checks its source expression eagerly (above).
@pytest.mark.skipif(not SLOW, reason="compiles with inductor (tens of seconds): set OPTBENCH_SLOW=1")
@pytest.mark.parametrize("dtype, eod", [(dt, eod) for dt in ("float64", "float32") for eod in (False, True)])
def test_compiled_batch_matches_eager_and_numpy(compiled_on, dtype, eod):
    for opts in [o for o in OPTION_SETS if o["close_at_eod"] == eod]:
        obj = objectives.get("maxdiff", dtype=dtype, **opts)
        xs = np.random.default_rng(7).uniform(-0.03, 0.03, (257, 2))
        if dtype == "float32":
            xs = far_from_breakpoints(obj.days, xs)
        expected = numpy_values(obj, xs)
        compiled = obj.batch(xs)
        assert not maxdiff_compiled.failure
        tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(compiled, expected, **tol)
        np.testing.assert_allclose(obj.batch(xs[:1]), expected[:1], **tol)  # a batch of one (padded)
        eager = -profit_batch(torch.as_tensor(xs, dtype=obj.tensors.c.dtype), obj.tensors, eod).numpy()
        np.testing.assert_allclose(compiled, eager, **tol)
    assert ("cpu", dtype, eod) in maxdiff_compiled.first_call_s


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("eod", [False, True])
def test_cuda_batch_matches_cpu(eod):
    cpu = objectives.get("maxdiff", close_at_eod=eod)
    gpu = objectives.get("maxdiff", close_at_eod=eod, device="cuda")
    xs = np.random.default_rng(8).uniform(-0.03, 0.03, (500, 2))
    np.testing.assert_allclose(gpu.batch(xs), cpu.batch(xs), rtol=1e-12, atol=1e-14)
    assert gpu({"h": 0.01, "l": -0.01}) == pytest.approx(cpu({"h": 0.01, "l": -0.01}), abs=1e-14)
