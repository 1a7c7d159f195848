"""The one Registry type: a taken name is refused (naming both origins) unless ``replace=True``, for
run-time registrations, plug-in files and installed entry points alike; ``list`` names each origin;
an optimizer that requires an objective family is refused on any other, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_cell, validate
from optbench.harness.execution.matrix import expand, resolve
from optbench.registry import Registry

from .test_cli_usage import run_script


def _accept(name: str, target: object) -> int:
    if not isinstance(target, int):
        raise HarnessError(f"{name}: not an int")
    return target


def _registry() -> Registry[int]:
    return Registry("thing", "optbench.test-things", HarnessError, _accept, "module:attr")


def test_a_taken_name_is_refused_naming_both_origins_unless_replaced():
    things = _registry()
    things.register("a", 1, origin="builtin")
    with pytest.raises(HarnessError, match=r"thing name 'a' is taken \(builtin\); run time cannot register it again"):
        things.register("a", 2)
    assert things.get("a") == 1 and things.origin("a") == "builtin"
    things.register("a", 2, replace=True)
    assert (things.get("a"), things.origin("a"), things.names()) == (2, "run time", ["a"])


def test_targets_are_checked_and_strings_resolved_on_first_use():
    things = _registry()
    things.register("pi", "math:pi")  # a float: refused when first used, with its origin
    with pytest.raises(HarnessError, match="pi: not an int"):
        things.get("pi")
    things.register("b", "x")  # a string, kept until used: then it must be module:attr
    with pytest.raises(HarnessError, match=r"thing 'b' \(run time\): 'x' must look like"):
        things.get("b")
    with pytest.raises(HarnessError, match=r"unknown thing 'c'; registered: pi, b \(or give module:attr\)"):
        things.get("c")
    assert things.get("errno:EINTR") == 4 and things.origin("errno:EINTR") == "one-off"


def _plugin(path: Path, body: str) -> Path:
    path.write_text(f"import optbench\n{body}\n")
    return path


SQUARE = "optbench.objective(lambda x0: x0 * x0, bounds={'x0': (-1.0, 1.0)})"


def _one_error_line(done) -> str:
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: "), done.stderr
    return done.stderr


def test_a_plugin_registering_a_builtin_name_is_one_error_line_through_the_console_script(tmp_path):
    plugin = _plugin(tmp_path / "shadow.py", f"optbench.register_objective('sphere', {SQUARE})")
    err = _one_error_line(run_script(["--plugin", str(plugin), "list"], tmp_path))
    assert f"objective name 'sphere' is taken (builtin); plugin file {plugin} cannot register it again" in err


def test_two_plugins_registering_one_name_are_refused_naming_both(tmp_path):
    first = _plugin(tmp_path / "first.py", f"optbench.register_objective('tmp.same', {SQUARE})")
    second = _plugin(tmp_path / "second.py", f"optbench.register_objective('tmp.same', {SQUARE})")
    err = _one_error_line(run_script(["--plugin", str(first), "--plugin", str(second), "list"], tmp_path))
    assert f"'tmp.same' is taken (plugin file {first}); plugin file {second} cannot register it again" in err


def test_replace_true_replaces_a_builtin_and_list_shows_the_new_origin(tmp_path):
    plugin = _plugin(tmp_path / "mine.py", f"optbench.register_objective('sphere', {SQUARE}, replace=True)\n"
                                           "optbench.register_optimizer('tmp.rand', "
                                           "'optbench.harness.optimizers.baselines:RandomSearch')")
    done = run_script(["--plugin", str(plugin), "list"], tmp_path, env={"COLUMNS": "1000", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert f"plugin file {plugin}" in rows["sphere"] and f"plugin file {plugin}" in rows["tmp.rand"]
    assert "builtin" in rows["rastrigin"] and "builtin" in rows["scipy.de"] and "maxdiff only" in rows["batched.exact"]


def test_an_installed_entry_point_with_a_taken_name_is_refused_naming_its_distribution(tmp_path):
    site = tmp_path / "site"
    info = site / "shadowing_dist-1.2.dist-info"  # what pip installs: metadata and entry points
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shadowing-dist\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text("[optbench.optimizers]\nscipy.de = math:pi\n")
    err = _one_error_line(run_script(["list"], tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}))
    assert ("optimizer name 'scipy.de' is taken (builtin); entry point shadowing-dist 1.2 cannot register it "
            "again: uninstall one of them or rename its entry point") in err


MAXDIFF_ONLY = [n for n in optimizers.names() if optimizers.adapter_class(n).requires == "maxdiff"]


def test_the_maxdiff_solvers_declare_it_and_the_registry_filters_by_family():
    assert "batched.exact" in MAXDIFF_ONLY and not {"batched.grid", "batched.de"} & set(MAXDIFF_ONLY)  # searches
    assert not set(MAXDIFF_ONLY) & set(optimizers.names("synthetic"))
    assert set(optimizers.names("maxdiff")) == set(optimizers.names())
    assert "random" in optimizers.names("synthetic") and "random" in optimizers.names("maxdiff")


@pytest.mark.parametrize("name", MAXDIFF_ONLY)
def test_a_maxdiff_only_solver_is_refused_on_another_objective_everywhere(name):
    words = f"optimizer {name!r} solves only 'maxdiff' objectives (it uses their structure); objective 'sphere' " \
            "is of family 'synthetic'"
    cell = Cell("sphere", name, Budget(50))
    with pytest.raises(HarnessError, match=words.replace("(", r"\(").replace(")", r"\)")):
        validate(cell)
    with pytest.raises(HarnessError, match="1 problem"):
        resolve(expand([("sphere", {})], [(name, {})], [Budget(50)], [0]))
    record = run_cell(cell)  # a cell that got past validation (a function objective's family is per instance)
    assert (record.status, record.message, record.n_evals) == ("error", words, 0)
    validate(Cell("maxdiff", name, Budget(50)))  # its own family: accepted


def test_a_maxdiff_only_solver_on_another_objective_is_refused_through_the_console_script(tmp_path):
    done = run_script(["run", "--objective", "rastrigin", "--optimizer", "batched.exact", "--no-store"], tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert "optimizer 'batched.exact' solves only 'maxdiff' objectives" in done.stderr and list(tmp_path.iterdir()) == []
    assert objectives.REGISTRY.origin("rastrigin") == "builtin"
