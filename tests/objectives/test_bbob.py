"""BBOB through optbench (ioh) against COCO's own implementation (cocoex): the same values, and
the instance's optimum reached at its point."""

import pickle

import numpy as np
import pytest

from optbench import objectives
from optbench.objectives.bbob import N_FUNCTIONS

CASES = [(1, 2, 1), (8, 5, 3), (10, 3, 2), (15, 5, 1), (21, 10, 7), (24, 2, 5), (5, 3, 1)]


def cocoex_problem(function, dim, instance):
    cocoex = pytest.importorskip("cocoex")
    suite = cocoex.Suite("bbob", "instances: 1-15", "")
    return suite.get_problem_by_function_dimension_instance(function, dim, instance)


@pytest.mark.parametrize("function, dim, instance", CASES)
def test_values_match_cocoex(function, dim, instance):
    obj = objectives.get("bbob", function=function, dim=dim, instance=instance)
    coco = cocoex_problem(function, dim, instance)
    f_opt = coco(obj.x_opt)  # COCO's value at the optimum the instance declares
    xs = np.random.default_rng(function).uniform(-5, 5, (50, dim))
    expected = np.array([coco(x) for x in xs]) - f_opt
    np.testing.assert_allclose(obj.batch(xs), expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose([obj(obj.space.decode(x)) for x in xs[:5]], expected[:5], rtol=1e-12, atol=1e-9)
    assert obj.f_opt == pytest.approx(f_opt, abs=1e-9)


@pytest.mark.parametrize("function, dim, instance", CASES)
def test_optimum_reached_at_its_point_and_is_a_minimum(function, dim, instance):
    obj = objectives.get("bbob", function=function, dim=dim, instance=instance)
    ref = obj.reference()
    assert ref.value == 0.0 and obj.knowledge == "optimum"
    assert abs(obj(ref.point)) < 1e-9
    x_opt = obj.space.encode(ref.point)
    rng = np.random.default_rng(0)
    near = np.clip(x_opt + rng.normal(0, 1e-3, (100, dim)), -5, 5)
    far = rng.uniform(-5, 5, (200, dim))
    assert (obj.batch(near) > -1e-9).all() and (obj.batch(far) > 0).all()


def test_every_function_is_zero_at_its_optimum():
    for function in range(1, N_FUNCTIONS + 1):
        obj = objectives.get("bbob", function=function, dim=3, instance=2)
        assert abs(obj(obj.reference().point)) < 1e-9, function
        assert np.all(np.abs(obj.x_opt) <= 5.0)


def test_instances_differ_and_bad_options_are_refused():
    a, b = (objectives.get("bbob", function=15, dim=2, instance=i) for i in (1, 2))
    assert not np.allclose(a.x_opt, b.x_opt)
    for bad in (dict(function=25), dict(function=0), dict(dim=1), dict(instance=0)):
        with pytest.raises(objectives.ObjectiveError):
            objectives.get("bbob", **bad)


def test_pickles_and_declares_itself():
    obj = objectives.get("bbob", function="8", dim="5", instance="3")  # command-line strings coerced
    copy = pickle.loads(pickle.dumps(obj))
    x = np.full((1, 5), 0.5)
    assert copy.batch(x)[0] == obj.batch(x)[0]
    assert obj.family == "bbob" and not obj.gain
    assert all(1 <= v["function"] <= N_FUNCTIONS for v in type(obj).variants())
