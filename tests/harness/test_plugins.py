"""Plug-ins: a ``.py`` file given by ``--plugin`` or ``$OPTBENCH_PLUGINS``, a one-off
``file.py:factory`` objective, installed entry points; they reach the process pool and Dask workers,
``optbench list`` says where each name comes from, and a broken one is one line and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from optbench import objectives, plugins
from optbench.harness import optimizers
from optbench.harness.cli import main
from optbench.harness.core.budget import Budget
from optbench.harness.execution.matrix import expand, resolve, run_cells

PLUGIN_SOURCE = '''
import optbench
from optbench.harness.optimizers.base import OptimizerAdapter


def tilted(x0, x1):
    """A float-returning user function: minimum 0 at (0.25, -0.5)."""
    return (x0 - 0.25) ** 2 + abs(x1 + 0.5)


def make_tilted(scale: float = 1.0):
    return optbench.objective(lambda x0, x1: scale * tilted(x0, x1), bounds={"x0": (-1.0, 1.0), "x1": (-1.0, 1.0)})


class LowerCorner(OptimizerAdapter):
    """Evaluates the box's lower corner once."""

    name = "tmp.corner"

    def minimize(self, problem, seed):
        problem.evaluate(problem.lower)


optbench.register_objective("tmp.tilted", optbench.objective(tilted, bounds={"x0": (-1.0, 1.0), "x1": (-1.0, 1.0)}))
optbench.register_optimizer("tmp.corner", LowerCorner)
'''
CORNER_VALUE = (-1.0 - 0.25) ** 2 + abs(-1.0 + 0.5)  # tilted at (-1, -1), worked by hand: 1.5625 + 0.5


@pytest.fixture
def plugin_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_plugin.py"
    path.write_text(PLUGIN_SOURCE)
    return path


def _cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real console entry point in a fresh interpreter (usage errors are only honest there)."""
    return subprocess.run([sys.executable, "-m", "optbench.harness.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "1000", **(env or {})}, cwd=cwd, timeout=300)


def test_a_plugin_file_given_by_env_runs_in_the_worker_pool_and_list_names_its_origin(plugin_file, tmp_path):
    env = {plugins.ENV: str(plugin_file)}
    run = _cli("run", "--objective", "tmp.tilted", "--optimizer", "tmp.corner", "--optimizer", "random",
               "--budget", "30", "--workers", "2", "--no-store", "--json", "--quiet", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    records = {r["optimizer"]: r for r in map(json.loads, run.stdout.splitlines())}
    assert records["tmp.corner"]["value"] == CORNER_VALUE and records["tmp.corner"]["n_evals"] == 1
    assert records["random"]["status"] == "ok" and records["random"]["value"] < CORNER_VALUE
    assert records["random"]["knowledge"] == "none" and records["random"]["reference_value"] is None
    listing = _cli("--plugin", str(plugin_file), "list", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line for line in listing.stdout.splitlines() if line.strip()}
    assert f"plugin file {plugin_file}" in rows["tmp.tilted"] and f"plugin file {plugin_file}" in rows["tmp.corner"]
    assert "builtin" in rows["sphere"] and "builtin" in rows["scipy.de"]


def test_a_one_off_file_factory_objective_takes_options_like_a_registered_one(plugin_file, tmp_path):
    name = f"{plugin_file}:make_tilted"
    run = _cli("run", "--objective", name, "--option", "scale=2", "--optimizer", "grid", "--opt", "points_per_axis=3",
               "--budget", "9", "--no-store", "--json", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    # the 3x3 grid's best point is (0, 0): 2 * (0.0625 + 0.5)
    assert record["objective"] == name and record["options"] == {"scale": 2.0} and record["value"] == 2 * 0.5625


def test_a_broken_plugin_is_a_clear_message_and_exit_code_2(capsys, monkeypatch):
    monkeypatch.setenv(plugins.ENV, "")
    for args, words in ((["--plugin", "no_such_module_anywhere", "list"],
                         "plug-in 'no_such_module_anywhere' could not be loaded"),
                        (["run", "--objective", "no_such_module_anywhere:make", "--optimizer", "random", "--no-store"],
                         "cannot load 'no_such_module_anywhere:make'")):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and words in err and "Traceback" not in err


def test_plugins_loaded_here_reach_dask_workers_with_the_cells(plugin_file, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setenv(plugins.ENV, "")  # only the specs sent with the cells can tell the workers
    monkeypatch.setattr(plugins, "_loaded", dict(plugins._loaded))
    plugins.load(str(plugin_file))
    try:
        cells = resolve(expand([("tmp.tilted", {})], [("tmp.corner", {})], [Budget(5)], [0]))
        with run_cells(cells, workers=1, dask="local", cell_timeout_s=60) as finished:
            [(_, record, _)] = list(finished)
    finally:
        for registry, name in ((objectives, "tmp.tilted"), (optimizers, "tmp.corner")):
            registry.REGISTRY.entries.pop(name, None)
    assert (record.status, record.value) == ("ok", CORNER_VALUE), record.message


def test_registrations_made_while_a_plugin_loads_carry_its_origin(monkeypatch, tmp_path):
    (tmp_path / "origin_probe.py").write_text(
        "import optbench\noptbench.register_optimizer('tmp.probe', 'optbench.harness.optimizers.baselines:RandomSearch')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_loaded", dict(plugins._loaded))
    monkeypatch.setenv(plugins.ENV, "")
    try:
        plugins.add("origin_probe")
        assert optimizers.REGISTRY.origin("tmp.probe") == "plugin origin_probe"
        assert os.environ[plugins.ENV] == "origin_probe"  # child processes load it too
        optimizers.register("tmp.later", "optbench.harness.optimizers.baselines:RandomSearch")
        assert optimizers.REGISTRY.origin("tmp.later") == "run time"
    finally:
        for name in ("tmp.probe", "tmp.later"):
            optimizers.REGISTRY.entries.pop(name, None)


def _example_installed() -> bool:
    try:
        distribution("optbench-example-plugin")
    except PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _example_installed(), reason="pip install ./examples/optbench-example-plugin (CI does)")
def test_the_installed_example_plugin_is_found_through_its_entry_points():
    version = distribution("optbench-example-plugin").version
    assert {"bollinger_goog", "example.halton"} <= {*objectives.names(), *optimizers.names()}
    assert objectives.REGISTRY.origin("bollinger_goog") == f"entry point optbench-example-plugin {version}"
    assert optimizers.REGISTRY.origin("example.halton") == f"entry point optbench-example-plugin {version}"
    built = objectives.get("bollinger_goog")
    assert (built.knowledge, built.gain, built.family, built.reference()) == ("none", True, "mean_reversion", None)


def test_the_asv_suite_takes_plugged_in_objectives_from_the_environment(plugin_file, tmp_path):
    script = ("from optbench.harness.asv import support as s\n"
              "print(s.make_objective('tmp.tilted').name, 'tmp.tilted' in s.SCALAR_OBJECTIVES, "
              "'tmp.tilted' in s.OPTIMIZE_OBJECTIVES)")
    env = {**os.environ, plugins.ENV: str(plugin_file), "OPTBENCH_ASV_OBJECTIVES": "tmp.tilted"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.stdout.split() == ["tilted", "True", "True"], run.stderr
