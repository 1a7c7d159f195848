"""Profile attribution by source file: a plug-in's objective and adapter, defined in a file outside
optbench, count as objective and optimizer time (not "harness" or "other")."""

from __future__ import annotations

import pstats

import pytest

from optbench import objectives, plugins
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.record import Cell
from optbench.harness.profiling.breakdown import owners
from optbench.harness.profiling.cell import run_cprofile

PLUGIN_SOURCE = '''
import numpy as np
import torch

import optbench
from optbench.harness.optimizers.base import OptimizerAdapter
from optbench.objectives import FloatParam, Objective, SearchSpace


class SlowSquare(Objective):
    """Pure-Python math, so its own time is its file's."""

    name = "tmp.slow_square"
    space = SearchSpace((FloatParam("x", -1.0, 1.0),))
    knowledge = "none"

    def __init__(self):
        self.options = {}

    def compute(self, x):
        total = 0.0
        for i in range(3000):
            total += (float(x[0]) - 0.1) ** 2 / 3000
        return torch.tensor(total)

    def compute_batch(self, xs):
        return torch.stack([self.compute(x) for x in xs])


class BusyWalk(OptimizerAdapter):
    """A random walk that does pure-Python work of its own between evaluations."""

    name = "tmp.busy_walk"

    def minimize(self, problem, seed):
        rng = np.random.default_rng(seed)
        while True:
            noise = 0.0
            for i in range(3000):
                noise += rng.random() if i == 0 else 0.0
            problem.evaluate(np.array([2 * noise - 1]))


def plain(x):
    return x * x


optbench.register_objective("tmp.slow_square", SlowSquare)
optbench.register_optimizer("tmp.busy_walk", BusyWalk)
FUNCTION = optbench.objective(plain, {"x": (-1.0, 1.0)})
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    path = tmp_path / "attribution_plugin.py"
    path.write_text(PLUGIN_SOURCE)
    monkeypatch.setattr(plugins, "_loaded", dict(plugins._loaded))
    plugins.load(str(path))
    yield path
    for registry, name in ((objectives, "tmp.slow_square"), (optimizers, "tmp.busy_walk")):
        registry.REGISTRY.entries.pop(name, None)


def test_a_plugin_objectives_and_adapters_files_are_owned_wherever_they_live(plugin, tmp_path):
    cell = Cell("tmp.slow_square", "tmp.busy_walk", Budget(40), 0)
    record, breakdown = run_cprofile(cell, tmp_path / "p.prof")
    assert record.status == "ok" and record.n_evals == 40
    stats = pstats.Stats(str(tmp_path / "p.prof")).stats  # type: ignore[attr-defined]
    own = {name: tt for (file, _, name), (_, _, tt, _, _) in stats.items() if file == str(plugin)}
    # each function's own time lands in its file's group (the groups may hold more: torch ops they call)
    assert breakdown.groups["objective"] >= own["compute"] > 0
    assert breakdown.groups["optimizer"] >= own["minimize"] > 0
    assert breakdown.groups["objective"] + breakdown.groups["optimizer"] > 0.8 * breakdown.total_s
    assert breakdown.groups["harness"] < own["compute"]


def test_a_function_objectives_fn_file_is_owned_as_objective(plugin):
    module = next(m for m in __import__("sys").modules.values() if getattr(m, "__file__", None) == str(plugin))
    pairs = owners("optbench", module.FUNCTION, optimizers.adapter_class("random"))
    groups = {entry[0]: entry[1] for entry in pairs if len(entry) == 2}  # whole files and packages
    assert groups[str(plugin)] == "objective"
    assert groups[optimizers.adapter_class("random").minimize.__code__.co_filename] == "optimizer"
    assert pairs[0][1] is None  # the Objective base class's own code inherits from its callers
