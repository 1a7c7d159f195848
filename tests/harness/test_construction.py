"""A cell's objective is built once, where it runs: the reference comes from that build, and the
build the matrix makes to check the options is taken by the first cell of each worker (unless it drew
from the global random generators: then every cell builds its own, seeded). Counted with a factory
that logs each construction, through the real ``optbench run``."""

from __future__ import annotations

import json
import math
import os
import random

from .test_cli_usage import run_script

COUNTED = '''
import os, random
import optbench


def _logged():
    with open(os.environ["OPTBENCH_TEST_LOG"], "a") as log:  # O_APPEND: one short line is atomic
        log.write(f"{os.getpid()}\\n")


def make_counted(scale: float = 1.0):
    _logged()
    return optbench.objective(lambda x0: scale * (x0 - 0.5) ** 2, bounds={"x0": (-1.0, 1.0)}, reference={"x0": 0.5})


def make_random_shift():
    _logged()
    shift = random.random()  # the global generator: a build depends on the seed it was made under
    return optbench.objective(lambda x0: (x0 - shift) ** 2 + shift, bounds={"x0": (-1.0, 1.0)},
                              reference={"x0": shift})


optbench.register_objective("t.counted", make_counted)
optbench.register_objective("t.random_shift", make_random_shift)
'''


def _run(tmp_path, *args: str) -> tuple[list[dict], list[str]]:
    """``optbench run … --json`` with the counting plug-in: its records and one pid per construction."""
    (tmp_path / "counted.py").write_text(COUNTED)
    log = tmp_path / "constructions.log"
    log.unlink(missing_ok=True)
    done = run_script(["--plugin", "counted.py", "run", *args, "--optimizer", "random", "--budget", "10",
                       "--no-store", "--json", "--quiet"], cwd=tmp_path,
                      env={**os.environ, "OPTBENCH_TEST_LOG": str(log)})
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()], log.read_text().split()


def test_one_cell_builds_its_objective_once_and_records_the_construction_apart(tmp_path):
    records, builds = _run(tmp_path, "--objective", "t.counted")
    assert len(builds) == 1  # was 3: the matrix's check, the cell, the cell's reference
    (record,) = records
    assert record["status"] == "ok" and record["reference_value"] == 0.0  # the reference from that build
    assert math.isfinite(record["construction_s"]) and record["construction_s"] >= 0


def test_a_worker_takes_the_checked_build_for_its_first_cell_and_builds_fresh_for_the_next(tmp_path):
    records, builds = _run(tmp_path, "--objective", "t.counted", "--seeds", "3", "--workers", "1")
    assert len(records) == 3 and all(r["status"] == "ok" for r in records)
    assert len(builds) == 3  # the check (taken by seed 0's cell), then seeds 1 and 2; was 7
    assert len(set(builds[1:])) == 1 and builds[0] not in builds[1:]  # those two in the worker's sandbox


def test_a_build_that_draws_from_the_global_generators_is_made_by_each_cell_under_its_seed(tmp_path):
    records, builds = _run(tmp_path, "--objective", "t.random_shift", "--seeds", "3", "--workers", "1")
    assert len(builds) == 4  # the check, then every cell its own
    for record in records:
        random.seed(record["seed"])  # what the sandbox does before building the cell's objective
        shift = random.random()
        assert record["value"] == (record["point"]["x0"] - shift) ** 2 + shift  # the objective built under it
