"""Synthetic functions: f(x*) = 0, known values elsewhere, the work knob does not change values."""

import math

import numpy as np
import pytest

from optbench import objectives
from optbench.objectives.synthetic import FUNCTIONS

KINDS = list(FUNCTIONS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dim", [2, 5])
def test_value_at_optimum_is_zero(kind, dim):
    obj = objectives.get(kind, dim=dim, seed=3)
    ref = obj.reference()
    assert ref.value == 0.0
    assert abs(obj(ref.point)) < 1e-9
    assert np.all(np.abs(obj.x_star) <= 4.0)


@pytest.mark.parametrize("kind", KINDS)
def test_optimum_is_a_minimum_nearby(kind):
    obj = objectives.get(kind, dim=3, seed=1)
    xs = obj.x_star + np.random.default_rng(0).normal(0, 0.05, (200, 3))
    assert (obj.batch(np.clip(xs, -5, 5)) > -1e-9).all()


def test_known_values_computed_by_hand():
    sphere = objectives.get("sphere", dim=2, seed=0)
    z = np.array([1.0, -2.0])
    assert sphere(sphere.space.decode(sphere.x_star + z)) == pytest.approx(5.0, rel=1e-12)
    rastrigin = objectives.get("rastrigin", dim=2, seed=0)
    # z = (1, 1): 20 + (1 - 10cos 2π) * 2 = 20 + 2*(1 - 10) = 2
    assert rastrigin(rastrigin.space.decode(rastrigin.x_star + 1.0)) == pytest.approx(2.0, abs=1e-9)
    ackley = objectives.get("ackley", dim=2, seed=0)
    expected = -20 * math.exp(-0.2) - math.exp(math.cos(2 * math.pi)) + 20 + math.e  # z = (1, 1)
    assert ackley(ackley.space.decode(ackley.x_star + 1.0)) == pytest.approx(expected, rel=1e-12)
    rosen = objectives.get("rosenbrock", dim=2, seed=0)
    # z = (-1, 0): y = (0, 1): 100 (1 - 0)^2 + (1 - 0)^2 = 101
    assert rosen(rosen.space.decode(rosen.x_star + np.array([-1.0, 0.0]))) == pytest.approx(101.0, rel=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_work_knob_keeps_values_and_batch_matches_scalar(kind):
    light = objectives.get(kind, dim=4, seed=2)
    heavy = objectives.get(kind, dim=4, seed=2, work=500)
    xs = np.random.default_rng(4).uniform(-5, 5, (25, 4))
    scalar = np.array([light(light.space.decode(x)) for x in xs])
    np.testing.assert_allclose(heavy.batch(xs), scalar, rtol=1e-12)
    np.testing.assert_allclose([heavy(heavy.space.decode(x)) for x in xs[:3]], scalar[:3], rtol=1e-12)


@pytest.mark.parametrize("opts, match", [(dict(dim=0), "dim"), (dict(work=0), "work"), (dict(dim="x"), "must be int")])
def test_bad_options(opts, match):
    with pytest.raises(objectives.ObjectiveError, match=match):
        objectives.get("sphere", **opts)
