"""An objective whose value at one point changes between calls (noise, state kept between calls): the
runner evaluates the returned point again and the record's message says it did not reproduce (status
stays ok); the report lists those runs. Deterministic objectives, batched or not, are never flagged."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from optbench.harness.core import runner
from optbench.harness.core.record import NOT_REPRODUCIBLE
from optbench.harness.report import tables
from optbench.harness.report.frame import analyse, load

from .test_cli_usage import run_script

NOISY = '''
import itertools, random
import optbench

_calls = itertools.count()


def noisy(x0):
    return x0 * x0 + random.random()  # the same point gives another value each call


def drifting(x0):
    return x0 * x0 + 1e-3 * next(_calls)  # state kept between calls


def steady(x0):
    return (x0 - 0.5) ** 2


for fn in (noisy, drifting, steady):
    optbench.register_objective("t." + fn.__name__, optbench.objective(fn, bounds={"x0": (-1.0, 1.0)}))
'''
AGAIN = re.compile(rf"; {NOT_REPRODUCIBLE} the returned point evaluated again gave (\S+), the run saw (\S+)$")


@pytest.fixture
def noisy_store(tmp_path):
    """A store of random and batched.de on two objectives that do not reproduce and two that do; the
    records ``run --json`` printed."""
    (tmp_path / "noisy.py").write_text(NOISY)
    done = run_script(["--plugin", "noisy.py", "run", "--objective", "t.noisy", "--objective", "t.drifting",
                       "--objective", "t.steady", "--objective", "sphere", "--optimizer", "random", "--optimizer",
                       "batched.de", "--budget", "30", "--store", "s.sqlite", "--json", "--quiet"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "s.sqlite", [json.loads(line) for line in done.stdout.splitlines()]


def test_a_value_that_changes_between_calls_is_stated_in_the_record_and_listed_apart(noisy_store):
    store, records = noisy_store
    assert len(records) == 8 and all(r["status"] == "ok" for r in records)
    for r in records:
        found = AGAIN.search(r["message"])
        if r["objective"] in ("t.steady", "sphere"):
            assert found is None and NOT_REPRODUCIBLE not in r["message"], r["message"]
            continue
        assert found is not None, r["message"]
        again, seen = map(float, found.groups())
        assert seen == pytest.approx(r["trace"][-1][2], rel=1e-9)  # what the run saw: its best-so-far
        gap = again - seen
        if r["objective"] == "t.drifting":  # 1e-3 per call since: 2 calls at least (the value, then this one)
            assert gap >= 2e-3 - 1e-9 and gap == pytest.approx(1e-3 * round(gap / 1e-3), abs=1e-8)
        else:
            assert again != seen
    listed = tables.unreproducible(analyse(load(store)))
    assert sorted(zip(listed["objective"], listed["config"])) == [
        ("t.drifting", "batched.de"), ("t.drifting", "random"), ("t.noisy", "batched.de"), ("t.noisy", "random")]


@pytest.mark.slow
def test_the_report_shows_the_runs_that_did_not_reproduce(noisy_store):
    store, _ = noisy_store
    report = run_script(["report", "--store", str(store), "--out", "rep"], cwd=store.parent)
    assert report.returncode == 0, report.stderr
    text = (store.parent / "rep" / "report.md").read_text()
    section = text[text.index("## Not reproducible"):text.index("## Failures")]
    rows = [line for line in section.splitlines() if line.startswith("| t.")]
    assert len(rows) == 4 and {row.split(" | ")[0][2:] for row in rows} == {"t.noisy", "t.drifting"}
    assert "Not reproducible" in (store.parent / "rep" / "index.html").read_text()


class _Fixed:
    """A stand-in objective whose ``compute`` returns ``value`` as a tensor of ``dtype``."""

    def __init__(self, value: float, dtype: torch.dtype):
        self.value, self.dtype = value, dtype

    def compute(self, x):
        return torch.tensor(self.value, dtype=self.dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rounding_of_the_results_float_type_is_not_a_mismatch_but_more_is(dtype):
    eps = torch.finfo(dtype).eps
    x = np.zeros(1)
    for seen in (0.0, 3e-9, 0.75, -250.0):
        scale = max(1.0, abs(seen))
        assert runner._reproduced(_Fixed(seen + 40 * eps * scale, dtype), x, seen) == ""  # rounding
        moved = seen + 4 * runner.ROUNDING_ULPS * eps * scale
        if torch.tensor(moved, dtype=dtype).item() != seen:
            assert NOT_REPRODUCIBLE in runner._reproduced(_Fixed(moved, dtype), x, seen)
