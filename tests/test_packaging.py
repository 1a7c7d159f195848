"""Packaging: one import name. Every package folder is listed in pyproject.toml, and a regular
(non-editable) install puts ``optbench`` — and neither ``harness`` nor ``objectives`` — on the
path, with ``optbench.recommended`` reading a decision given by path or environment. (The install
uses pip's build isolation: this environment's own setuptools cannot build wheels.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "optbench", "harness", "objectives")


@pytest.mark.parametrize("name", ["harness", "objectives"])
def test_the_visible_folders_are_the_packages_through_relative_symlinks(name):
    link = REPO / "optbench" / name
    assert link.is_symlink() and os.readlink(link) == f"../{name}"
    assert link.resolve() == (REPO / name).resolve()


def test_every_folder_of_python_modules_is_a_package_the_install_finds():
    from setuptools import find_packages

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "package-dir" not in config and config["packages"]["find"]["include"] == ["optbench*"]
    found = set(find_packages(str(REPO), include=["optbench*"]))
    folders = {".".join(("optbench", *module.parent.relative_to(REPO / "optbench").parts))
               for module in (REPO / "optbench").rglob("*.py")}
    assert folders - found == set(), "these folders of modules lack an __init__.py"


def test_a_bare_checkout_resolves_first_party_modules_to_its_own_files():
    code = ("import sys; sys.path.insert(0, '.'); import importlib.util as u; "
            "print(u.find_spec('optbench.harness.store').origin)")
    run = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()) == REPO / "optbench" / "harness" / "store" / "__init__.py"


CHECK = '''
import importlib.util, json, os, sys
import optbench
torch_at_import = "torch" in sys.modules
from optbench.harness.execution import suites
print(json.dumps({
    "file": optbench.__file__,
    "harness": importlib.util.find_spec("harness") is not None,
    "objectives": importlib.util.find_spec("objectives") is not None,
    "torch_at_import": torch_at_import,
    "suites": suites.names(),
    "by_path": optbench.recommended("toy", path=sys.argv[1]).optimizer,
}))
os.environ["OPTBENCH_DECISION"] = sys.argv[1]
print(optbench.recommended("toy_a").optimizer)
'''


@pytest.mark.slow  # ~25 s: a venv and a wheel build
def test_a_regular_install_exposes_only_optbench_and_reads_decisions_by_path_and_env(tmp_path):
    source = tmp_path / "source"  # a copy: pip builds in the tree it is given (build/, *.egg-info)
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, source / name)
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(source)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    decision = tmp_path / "d.json"
    choice = {"optimizer": "scipy.direct", "optimizer_options": {}, "budget": {"max_evals": 500}}
    decision.write_text(json.dumps({"schema": 3, "classes": {"toy": {"objective_names": ["toy_a"], "objectives": [],
                                                        "presets": {"default": {"choice": choice, "verdict": "win (faster)"}}}}}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPTBENCH_DECISION", "OPTBENCH_OPTIMIZER")}
    run = subprocess.run([python, "-c", CHECK, str(decision)], capture_output=True, text=True, cwd=elsewhere, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    first, by_env = run.stdout.strip().splitlines()
    found = json.loads(first)
    assert Path(found["file"]).is_relative_to(venv) and not Path(found["file"]).is_relative_to(REPO)
    assert (found["harness"], found["objectives"], found["torch_at_import"]) == (False, False, False)
    assert {"quick", "backtest"} <= set(found["suites"])  # package data (suites.toml) installed too
    assert (found["by_path"], by_env) == ("scipy.direct", "scipy.direct")


@pytest.mark.parametrize("name", ["harness", "objectives"])
def test_the_checkout_has_no_top_level_import_of_the_mapped_folders(name):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the interpreter's install, not a checkout on the path
    run = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd="/", env=env)
    assert run.returncode != 0 and "No module named" in run.stderr
