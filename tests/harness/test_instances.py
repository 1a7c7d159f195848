"""Instances as first-class: declared by objectives and at registration, given by ``--instances``
(cartesian product, integer ranges), and an unseedable optimizer run once per instance."""

from __future__ import annotations

import json

import pytest

import optbench
from optbench import objectives
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.execution import instances
from optbench.harness.execution.matrix import expand, resolve
from optbench.objectives import maxdiff_data

from .test_cli_usage import run_script


def test_product_of_lists_and_ranges():
    got = instances.product(["window=0:7:3", "close_at_eod=True,False"])
    assert got == [{"window": w, "close_at_eod": e} for w in (0, 3, 6) for e in (True, False)]
    assert instances.values("data=goog,ar200") == ("data", ["goog", "ar200"])
    assert instances.values("k=5:1:-2") == ("k", [5, 3])
    assert instances.product(None) is None and instances.product(["declared"]) is None


@pytest.mark.parametrize("spec", ["window", "=1,2", "window=", "window=0:3:0", "window=3:3", "window=a:b",
                                  "window=1,,2"])
def test_bad_specs_refused(spec):
    with pytest.raises(HarnessError):
        instances.product([spec])


def test_declared_instances():
    md = objectives.instances("maxdiff")
    assert len(md) == maxdiff_data.GOOG_WINDOWS * 4
    assert len({json.dumps(i, sort_keys=True) for i in md}) == len(md)
    assert objectives.instances("bbob") == [{"instance": i} for i in range(1, 16)]
    assert objectives.instances("sphere") == [{}]


def test_register_objective_with_instances():
    optbench.register_objective("_inst_probe", lambda shift=0.0: optbench.objective(
        lambda x: (x - shift) ** 2, bounds={"x": (-5.0, 5.0)}), instances=[{"shift": 1.0}, {"shift": -2.0}])
    try:
        assert objectives.instances("_inst_probe") == [{"shift": 1.0}, {"shift": -2.0}]
        with pytest.raises(objectives.ObjectiveError):
            optbench.register_objective("_inst_probe", lambda: None, instances=[])
    finally:
        objectives.REGISTRY.entries.pop("_inst_probe", None)
        objectives.INSTANCES.pop("_inst_probe", None)


def test_unseedable_optimizer_runs_once_per_instance():
    cells = resolve(expand([("sphere", {"dim": 2}), ("sphere", {"dim": 3})],
                           [("scipy.direct", {}), ("scipy.de", {})], [Budget(20, None)], [3, 4, 5]))
    direct = sorted((c.options["dim"], c.seed) for c in cells if c.optimizer == "scipy.direct")
    assert direct == [(2, 3), (3, 3)]
    assert sum(c.optimizer == "scipy.de" for c in cells) == 6


def test_cli_instances_dry_run(tmp_path):
    out = run_script(["run", "--no-store", "--dry-run", "--json", "--objective", "sphere", "--optimizer", "scipy.de",
                      "--optimizer", "scipy.direct", "--budget", "20", "--seeds", "2",
                      "--instances", "dim=2:4", "--instances", "seed=7,8"], tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    de = {(r["options"]["dim"], r["options"]["seed"], r["seed"]) for r in rows if r["optimizer"] == "scipy.de"}
    assert de == {(d, s, k) for d in (2, 3) for s in (7, 8) for k in (0, 1)}
    assert sum(r["optimizer"] == "scipy.direct" for r in rows) == 4  # once per instance, not per seed


@pytest.mark.parametrize("args, words", [
    (["--instances", "dim=2:2"], "is empty"),
    (["--instances", "dim"], "KEY=V1,V2"),
    (["--instances", "dim=2,3", "--option", "dim=2"], "both set dim"),
    (["--instances", "declared", "--instances", "dim=2"], "give it alone"),
    (["--instances", "nosuch=1,2"], "unknown option"),
])
def test_cli_bad_instances(tmp_path, args, words):
    out = run_script(["run", "--no-store", "--dry-run", "--objective", "sphere", "--optimizer", "random", *args],
                     tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith("error:") and words in out.stderr and "Traceback" not in out.stderr
