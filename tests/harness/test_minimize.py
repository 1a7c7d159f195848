"""``optbench.minimize``: the library's own answer, the fallback, plain functions and Objectives, and
clear errors; ``optbench.run`` on an Objective."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import direct

import optbench
from optbench.harness import optimizers
from optbench.harness.core.errors import HarnessError
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.objectives import ObjectiveError

BOX = {"x": (-1.0, 1.0), "y": (-1.0, 3.0)}


def bowl(x: float, y: float) -> float:
    return (x - 0.3) ** 2 + (y + 0.2) ** 2


class Raises(OptimizerAdapter):
    """Evaluates one point, then fails the way a library bug would."""

    name = "test.minimize_raises"

    def minimize(self, problem, seed):
        problem.evaluate(problem.lower)
        raise RuntimeError("library bug")


optbench.register_optimizer(Raises.name, Raises)


def test_one_evaluation_of_direct_is_the_centre_of_the_box():
    result = optbench.minimize(bowl, BOX, optimizer="scipy.direct", max_evals=1)
    assert result.point == {"x": 0.0, "y": 1.0}  # DIRECT's first point, worked by hand
    assert (result.value, result.n_evals, result.optimizer) == (bowl(0.0, 1.0), 1, "scipy.direct")


def test_direct_gives_the_librarys_own_result():
    library = direct(lambda v: bowl(*v), list(BOX.values()), maxfun=500)  # converges before 500
    result = optbench.minimize(bowl, BOX, optimizer="scipy.direct", max_evals=500)
    assert [result.point["x"], result.point["y"]] == library.x.tolist()
    assert result.value == library.fun and result.n_evals == library.nfev < 500


def test_a_budget_that_cuts_the_run_keeps_the_best_of_the_evaluations_it_allowed():
    seen: list[float] = []
    direct(lambda v: seen.append(bowl(*v)) or seen[-1], list(BOX.values()), maxfun=500)
    result = optbench.minimize(bowl, BOX, optimizer="scipy.direct", max_evals=40)
    assert result.n_evals == 40 and result.value == min(seen[:40]) > min(seen)
    assert result.message == "evaluation budget reached"


def test_parameters_are_passed_by_name_whatever_the_order_of_the_bounds():
    calls: list[int] = []

    def shifted(y: float, x: float) -> float:
        calls.append((x, y))
        return bowl(x, y)

    result = optbench.minimize(shifted, BOX, optimizer="scipy.direct", max_evals=500)
    assert calls[0] == (0.0, 1.0)  # the centre, x first as in BOX
    assert math.isclose(result.point["x"], 0.3, abs_tol=1e-4) and math.isclose(result.point["y"], -0.2, abs_tol=1e-4)


def test_mixed_spaces_call_by_keyword_with_decoded_values():
    def pick(n: int, kind: str) -> float:
        assert isinstance(n, int) and kind in ("a", "b")
        return abs(n - 7) + (0.5 if kind == "a" else 0.0)

    result = optbench.minimize(pick, {"n": (0, 20), "kind": ["a", "b"]}, optimizer="random", max_evals=400)
    assert result.point == {"n": 7, "kind": "b"} and result.value == 0.0


def test_an_objective_gives_the_same_result_as_a_run():
    sphere = optbench.get("sphere", dim=2)
    result = optbench.minimize(sphere, optimizer="scipy.de", max_evals=300, seed=3)
    record = optbench.run("sphere", "scipy.de", max_evals=300, seed=3, options={"dim": 2})
    assert (result.point, result.value, result.n_evals) == (record.point, record.value, record.n_evals)


def test_a_function_objective_is_taken_as_it_is():
    wrapped = optbench.objective(bowl, BOX)
    assert optbench.minimize(wrapped, optimizer="scipy.direct", max_evals=500).value == \
        optbench.minimize(bowl, BOX, optimizer="scipy.direct", max_evals=500).value


def test_a_raising_optimizer_hands_over_to_the_fallback_and_the_result_says_so():
    result = optbench.minimize(bowl, BOX, optimizer=Raises.name, fallback="scipy.direct", max_evals=50)
    assert result.optimizer == "scipy.direct" and result.n_evals == 50
    assert result.failed == {Raises.name: "RuntimeError: library bug"}
    assert result.value == optbench.minimize(bowl, BOX, optimizer="scipy.direct", max_evals=50).value


def test_without_a_fallback_the_optimizers_exception_propagates():
    with pytest.raises(RuntimeError, match="library bug"):
        optbench.minimize(bowl, BOX, optimizer=Raises.name, max_evals=50)
    with pytest.raises(RuntimeError, match="library bug") as raised:
        optbench.minimize(bowl, BOX, optimizer=Raises.name, fallback=Raises.name, max_evals=50)
    assert any("had raised first" in note for note in raised.value.__notes__)


def test_a_recommendation_gives_optimizer_options_and_budget():
    chosen = optbench.Recommendation("scipy.direct", {"locally_biased": False}, {"max_evals": 60}, "toy",
                                     "default", "win", "test")
    result = optbench.minimize(bowl, BOX, recommendation=chosen)
    assert (result.optimizer, result.n_evals, result.optimizer_options["locally_biased"]) == ("scipy.direct", 60, False)
    assert optbench.minimize(bowl, BOX, recommendation=chosen, max_evals=10).n_evals == 10


def test_non_finite_values_never_become_the_best():
    def holes(x: float, y: float) -> float:
        return math.nan if x < 0.2 else bowl(x, y)

    result = optbench.minimize(holes, BOX, optimizer="scipy.direct", max_evals=300)
    assert result.point["x"] >= 0.2 and math.isfinite(result.value)


def test_a_time_only_budget_stops_on_time():
    def rastrigin(x: float, y: float) -> float:
        return 20 + x * x + y * y - 10 * (math.cos(2 * math.pi * x) + math.cos(2 * math.pi * y))

    # dual annealing plans for 100 000 evaluations without an evaluation budget: far more than fit
    result = optbench.minimize(rastrigin, {"x": (-5.0, 5.0), "y": (-4.0, 5.0)}, optimizer="scipy.dual_annealing",
                               max_seconds=0.05)
    assert result.message == "wall-time budget reached" and result.n_evals > 0


@pytest.mark.parametrize("call, words", [
    (lambda: optbench.minimize(42, BOX, optimizer="random", max_evals=5), "needs a function or an Objective, got int"),
    (lambda: optbench.minimize(bowl, optimizer="random", max_evals=5), "needs bounds="),
    (lambda: optbench.minimize(optbench.get("sphere"), BOX, optimizer="random", max_evals=5), "carries its own space"),
    (lambda: optbench.minimize(bowl, BOX, max_evals=5), "exactly one of optimizer="),
    (lambda: optbench.minimize(bowl, BOX, optimizer="scipy.direct"), "give max_evals and/or max_seconds"),
    (lambda: optbench.minimize(bowl, BOX, optimizer="no.such", max_evals=5), "unknown optimizer 'no.such'"),
    (lambda: optbench.minimize(bowl, BOX, optimizer="random", fallback="no.such", max_evals=5), "unknown optimizer"),
    (lambda: optbench.minimize(bowl, BOX, optimizer="scipy.direct", options={"nope": 1}, max_evals=5), "nope"),
    (lambda: optbench.minimize(bowl, BOX, optimizer="random", max_evals=0), "max_evals=0"),
])
def test_bad_input_is_a_clear_harness_error(call, words):
    with pytest.raises(HarnessError, match=words):
        call()


def test_bad_bounds_are_the_objectives_error():
    with pytest.raises(ObjectiveError, match="need low < high"):
        optbench.minimize(bowl, {"x": (1.0, 0.0), "y": (0.0, 1.0)}, optimizer="random", max_evals=5)


def test_run_takes_an_objective():
    wrapped = optbench.objective(bowl, BOX)
    record = optbench.run(wrapped, "scipy.direct", max_evals=100)
    assert (record.status, record.objective, record.n_evals) == ("ok", "bowl", 100)
    assert record.value == optbench.minimize(bowl, BOX, optimizer="scipy.direct", max_evals=100).value
    assert optbench.run(optbench.get("sphere", dim=2), "random", max_evals=20).reference_value == 0.0
    with pytest.raises(HarnessError, match="options= configure a registered name"):
        optbench.run(wrapped, "random", options={"dim": 2})
    with pytest.raises(HarnessError, match="objective name or an Objective, got list"):
        optbench.run([1], "random")  # type: ignore[arg-type]
    assert np.isfinite(optbench.run("sphere", "random", max_evals=20).value)


@pytest.mark.parametrize("name", [n for n in optimizers.names() if optimizers.adapter_class(n).keeps_in_box])
@pytest.mark.parametrize("box", [{"a": (-1.0, 1.0), "b": (-1.0, 3.0), "c": (0.0, 1.0)},
                                 {"a": (0.1, 0.7), "b": (-1e-3, 2e-3), "c": (-7.3, 11.9)},
                                 {"a": (1e6, 1e6 + 1.0), "b": (-1e-9, 0.0), "c": (2.0 / 3.0, 0.7)}])
def test_an_optimizer_that_claims_to_keep_points_in_the_box_does(name, box):
    """Its points reach the function unchecked, so every one of them must be inside the bounds."""
    outside = []

    def record(a: float, b: float, c: float) -> float:
        outside.extend(v for v, (lo, hi) in zip((a, b, c), box.values()) if not lo <= v <= hi)
        return math.sin(3 * a) + math.cos(5 * b) * c

    result = optbench.minimize(record, box, optimizer=name, max_evals=300)
    assert result.n_evals == 300 and outside == []


def test_the_bounds_check_snaps_points_of_an_optimizer_that_leaves_the_box():
    seen = []

    class Outside(OptimizerAdapter):
        name = "test.minimize_outside"

        def minimize(self, problem, seed):
            problem.evaluate(np.array([5.0, -9.0]))

    optbench.register_optimizer(Outside.name, Outside)
    result = optbench.minimize(lambda x, y: seen.append((x, y)) or 0.0, BOX, optimizer=Outside.name, max_evals=5)
    assert seen == [(1.0, -1.0)] and result.point == {"x": 1.0, "y": -1.0}


def _by_signature(fn, names):
    """The slow, general answer: ``inspect.signature``, as for callables without a code object."""
    import inspect

    params = list(inspect.signature(fn).parameters.values())[:len(names)]
    return len(params) == len(names) and all(p.kind is p.POSITIONAL_OR_KEYWORD and p.name == n
                                             for p, n in zip(params, names))


def _wrapped(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def _two(x, y): ...
def _two_swapped(y, x): ...
def _three(x, y, z=0.0): ...
def _one(x): ...
def _only_positional(x, y, /): ...
def _keyword_only(*, x, y): ...
def _varargs(*values): ...
def _kwargs(**point): ...


@pytest.mark.parametrize("fn", [_two, _two_swapped, _three, _one, _only_positional, _keyword_only, _varargs, _kwargs,
                                lambda x, y: 0.0, _wrapped(_two), _wrapped(_two_swapped), Raises().minimize],
                         ids=lambda fn: getattr(fn, "__name__", "fn"))
def test_positional_calls_are_chosen_exactly_when_the_signature_says_they_mean_the_same(fn):
    from optbench.harness.decision.minimize import _takes_in_order

    assert _takes_in_order(fn, ("x", "y")) == _by_signature(fn, ("x", "y"))


def test_the_overhead_benchmark_compares_like_with_like_and_reports_the_median_pair():
    from optbench.harness.perf import minimize_overhead as bench

    fn, bounds = bench.CASES["2-d Rastrigin"]
    m = bench.measure(fn, bounds, n=3)
    # minimize stops at the budget; DIRECT finishes the iteration it is in (509 points in 2-d), and the
    # fixed cost is taken at its first iteration, which runs whatever maxfun says: counted here by hand
    calls: list[int] = []
    direct(lambda v: calls.append(1) or fn(*v), list(bounds.values()), maxfun=1)
    assert (m.minimize_evals, m.direct_evals, m.fixed_evals) == (500, 509, len(calls)) and len(calls) > 1
    assert m.ratio == pytest.approx(m.minimize_s / m.direct_s)  # the two times are the median pair's
    assert m.minimize_s > 0 and m.direct_s > 0 and m.ratio_equal_work > 0
