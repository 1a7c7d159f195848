"""``optbench.objective(fn, bounds)``: parameters from bounds, every return type, batching, a
reference point, CUDA where there is one, and bad definitions refused with a clear message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import optbench
from optbench.harness.core.budget import Budget
from optbench.harness.core.instrument import Instrument
from optbench.objectives import CategoricalParam, FloatParam, IntParam, ObjectiveError, Reference
from optbench.objectives.function import FunctionObjective
from optbench.registry import Entry

BOUNDS = {"h": (-0.03, 0.03), "n": (1, 20), "kind": ["a", "b"]}


def scalar(h: float, n: int, kind: str) -> float:
    """Hand-checkable: (h − 0.01)² + n + 2 for "b"."""
    assert isinstance(n, int) and kind in ("a", "b")
    return (h - 0.01) ** 2 + n + (2.0 if kind == "b" else 0.0)


def batched(xs):
    """The same function on a (k, 3) numpy array or tensor: categorical as its index."""
    return (xs[:, 0] - 0.01) ** 2 + xs[:, 1] + 2.0 * xs[:, 2]


def test_bounds_become_float_int_and_categorical_parameters():
    obj = optbench.objective(scalar, BOUNDS)
    assert obj.space.params == (FloatParam("h", -0.03, 0.03), IntParam("n", 1, 20), CategoricalParam("kind", ("a", "b")))
    assert (obj.name, obj.knowledge, obj.gain, obj.family, obj.reference()) == ("scalar", "none", False, "", None)
    assert obj({"h": 0.02, "n": 3, "kind": "b"}) == pytest.approx(0.0001 + 3 + 2, abs=1e-15)


@pytest.mark.parametrize("wrap", [float, np.float64, lambda v: np.array([v]), torch.tensor,
                                  lambda v: torch.tensor([v], dtype=torch.float32)],
                         ids=["float", "numpy scalar", "numpy (1,)", "tensor", "float32 tensor (1,)"])
def test_every_return_type_gives_a_0d_tensor_and_the_same_value(wrap):
    obj = optbench.objective(lambda **p: wrap(scalar(**p)), BOUNDS)
    x = obj.space.encode({"h": 0.0, "n": 4, "kind": "a"})
    value = obj.compute(x)
    assert isinstance(value, torch.Tensor) and value.shape == ()
    assert value.item() == pytest.approx(0.0001 + 4, rel=1e-6)


@pytest.mark.parametrize("as_tensor", [False, True], ids=["numpy in", "tensor in"])
def test_batched_function_gets_the_whole_batch_and_equals_the_scalar_function(as_tensor):
    seen = []

    def fn(xs):
        seen.append((type(xs), xs.shape))
        return batched(xs)

    obj = optbench.objective(fn, BOUNDS, batched=True, device="cpu" if as_tensor else None)
    reference = optbench.objective(scalar, BOUNDS)
    xs = np.array([[-0.03, 1, 0], [0.01, 20, 1], [0.0, 7, 1]], dtype=float)
    got = obj.batch(xs)
    assert seen == [(torch.Tensor if as_tensor else np.ndarray, (3, 3))]  # one call for the batch
    np.testing.assert_allclose(got, [reference(obj.space.decode(x)) for x in xs], rtol=1e-15)
    assert obj.compute(xs[1]).shape == ()
    np.testing.assert_allclose(reference.batch(xs), got, rtol=1e-15)  # the unbatched one loops


def test_a_reference_point_gives_optimum_knowledge_with_fns_value_there():
    obj = optbench.objective(scalar, BOUNDS, reference={"h": 0.01, "n": 1, "kind": "a"}, gain=True, family="toy")
    assert obj.knowledge == "optimum" and obj.reference() == Reference(1.0, {"h": 0.01, "n": 1, "kind": "a"})
    assert (obj.gain, obj.family) == (True, "toy")
    bound = optbench.objective(scalar, BOUNDS, reference=Reference(0.5, {}), knowledge="bound")
    assert bound.reference().value == 0.5


def test_an_instrumented_run_splits_compute_from_item_for_a_tensor_result():
    obj = optbench.objective(batched, BOUNDS, batched=True, device="cpu")
    instrument = Instrument(obj, Budget(max_evals=4))
    instrument.evaluate(np.array([0.0, 2.0, 1.0]))
    assert instrument.n_evals == 1 and instrument.best_value == pytest.approx(0.0001 + 2 + 2)
    assert instrument.compute_s > 0 and instrument.item_s > 0


@pytest.mark.parametrize("bounds, fn, words", [
    ({"h": (1.0, 1.0)}, scalar, "need low < high"),
    ({"h": "wide"}, scalar, "must be (low, high) numbers or a list"),
    ({"k": []}, scalar, "non-empty list of distinct"),
    ({}, scalar, "at least one parameter"),
    (BOUNDS, "not callable", "needs a function"),
])
def test_bad_definitions_are_refused_naming_the_problem(bounds, fn, words):
    with pytest.raises(ObjectiveError, match=words.replace("(", r"\(").replace(")", r"\)")):
        FunctionObjective(fn, bounds)


def test_a_wrong_number_of_values_is_an_objective_error():
    obj = optbench.objective(lambda xs: np.zeros(len(xs) + 1), BOUNDS, batched=True)
    with pytest.raises(ObjectiveError, match="returned 3 value"):
        obj.batch(np.array([[0.0, 1, 0], [0.0, 2, 0]]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_tensors_in_and_out_stay_on_the_device_until_item():
    obj = optbench.objective(batched, BOUNDS, batched=True, device="cuda")
    xs = np.array([[0.0, 2, 1], [0.01, 3, 0]])
    assert obj.compute(xs[0]).device.type == "cuda"
    np.testing.assert_allclose(obj.batch(xs), [0.0001 + 4, 3.0], rtol=1e-12)


def test_a_factory_of_function_objectives_declares_nothing_it_cannot_know_without_building(monkeypatch):
    from optbench import objectives

    def make(scale: float = 1.0) -> FunctionObjective:
        return optbench.objective(scalar, BOUNDS, gain=True)

    monkeypatch.setitem(objectives.REGISTRY.entries, "tmp.factory", Entry(make, "run time"))
    assert objectives.declaration("tmp.factory") is None  # its class's defaults would say "optimum", no gain
    built = objectives.get("tmp.factory", scale=2)
    assert (built.gain, built.knowledge, built.options) == (True, "none", {"scale": 2.0})


def test_equal_bounds_share_one_space_and_equal_numbers_of_another_type_do_not():
    """The space is built once per distinct bounds; (1, 5) is an integer range, (1.0, 5.0) a real one,
    although 1 == 1.0; unhashable choices are refused with the objective's error."""
    first, again = optbench.objective(scalar, dict(BOUNDS)), optbench.objective(lambda **p: 0.0, dict(BOUNDS))
    assert first.space is again.space
    assert optbench.objective(scalar, {"n": (1, 5)}).space.params == (IntParam("n", 1, 5),)
    assert optbench.objective(scalar, {"n": (1.0, 5.0)}).space.params == (FloatParam("n", 1.0, 5.0),)
    assert optbench.objective(scalar, {"n": [1, 5]}).space.params == (CategoricalParam("n", (1, 5)),)
    choices = [[1], [2]]
    with pytest.raises(ObjectiveError, match="must be hashable"):
        optbench.objective(scalar, {"k": choices})


def test_relaxed_bounds_are_built_once_and_read_only():
    space = optbench.objective(scalar, BOUNDS).space
    lower, upper = space.relaxed_bounds()
    assert space.relaxed_bounds()[0] is lower and not lower.flags.writeable and not upper.flags.writeable
    pad = 0.5 - 1e-9  # integer and categorical axes widened by half a step (less a hair)
    assert lower.tolist() == [-0.03, 1 - pad, 0 - pad] and upper.tolist() == [0.03, 20 + pad, 1 + pad]
