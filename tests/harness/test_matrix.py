"""The matrix: expansion, validation, isolation of crashes and hangs, parallel = serial, Dask, suites."""

from __future__ import annotations

import pytest

from optbench.harness.core.budget import Budget
from optbench.harness.core.errors import HarnessError
from optbench.harness.execution import suites
from optbench.harness.execution.matrix import expand, resolve, run_cells, run_matrix
from optbench.harness.store import Store, load_records

from . import matrix_doubles  # noqa: F401  (registers test.hang, test.crash, test.slow)

# the values a run produces: everything but times and memory
_VALUES = ("status", "point", "value", "n_evals", "reference_value")


def _values(records):
    return [(r.objective, r.options, r.optimizer, r.seed, *(getattr(r, k) for k in _VALUES),
             [(i, v) for i, _, v in r.trace]) for r in records]


def test_expand_is_the_seed_major_product():
    cells = expand([("sphere", {}), ("ackley", {"dim": 3})], [("random", {}), ("grid", {})],
                   [Budget(10), Budget(20)], [0, 1])
    assert len(cells) == 12  # 2 objectives × 2 budgets × (random at seeds 0, 1 + grid, unseedable, at seed 0)
    assert {c.seed for c in cells if c.optimizer == "grid"} == {0}
    assert [(c.seed, c.budget.max_evals, c.objective, c.optimizer) for c in cells[:5]] == [
        (0, 10, "sphere", "random"), (0, 10, "sphere", "grid"), (0, 10, "ackley", "random"),
        (0, 10, "ackley", "grid"), (0, 20, "sphere", "random")]


def test_resolve_completes_options_and_drops_duplicates():
    cells = expand([("sphere", {}), ("sphere", {"dim": 2}), ("sphere", {"dim": "2"})], [("random", {})],
                   [Budget(10)], [0])
    (cell,) = resolve(cells)
    assert cell.options == {"dim": 2, "seed": 0, "work": 1} and cell.optimizer_options == {"batch_size": 64}


def test_resolve_lists_every_problem_at_once():
    cells = expand([("sphere", {}), ("nope", {}), ("sphere", {"dim": 0})], [("random", {}), ("missing.opt", {})],
                   [Budget(10)], [0])
    with pytest.raises(HarnessError) as err:
        resolve(cells)
    message = str(err.value)
    assert "3 problem(s)" in message and "'nope'" in message and "'missing.opt'" in message and "dim=0" in message
    with pytest.raises(HarnessError, match="empty"):
        resolve([])


def test_resolve_keeps_a_cuda_device_without_starting_cuda_in_the_parent():
    torch = pytest.importorskip("torch")
    (cell,) = resolve(expand([("maxdiff", {"device": "cuda", "n": 20})], [("random", {})], [Budget(5)], [0]))
    assert cell.options["device"] == "cuda" and cell.options["n"] == 20
    assert not torch.cuda.is_initialized()  # forked workers could not use CUDA otherwise


def test_serial_and_two_workers_give_identical_values():
    optimizers = [(name, {}) for name in ("random", "grid", "scipy.de", "optuna.tpe")]
    cells = resolve(expand([("rastrigin", {}), ("maxdiff", {"n": 50})], optimizers, [Budget(60)], [0, 1]))
    serial = run_matrix(cells, workers=1, quiet=True).records
    parallel = run_matrix(cells, workers=2, quiet=True).records
    assert all(r.status == "ok" for r in serial)
    assert _values(serial) == _values(parallel)


def test_hanging_and_crashing_cells_become_rows_and_the_matrix_goes_on(tmp_path):
    cells = resolve(expand([("sphere", {})], [("test.hang", {}), ("test.crash", {}), ("random", {})],
                           [Budget(20)], [0, 1]))
    with Store.open(tmp_path / "s.sqlite") as store:
        result = run_matrix(cells, store, workers=2, cell_timeout_s=1.0, quiet=True)
    statuses = {(r.optimizer, r.seed): r.status for r in load_records(tmp_path / "s.sqlite")}
    assert statuses == {("test.hang", 0): "timeout", ("test.hang", 1): "timeout", ("test.crash", 0): "crashed",
                        ("test.crash", 1): "crashed", ("random", 0): "ok", ("random", 1): "ok"}
    crashed = next(r for r in result.records if r.status == "crashed")
    assert "SIGSEGV" in crashed.message and result.failed == 4


def test_a_rerun_skips_ok_cells_and_force_reruns_them(tmp_path):
    cells = resolve(expand([("sphere", {})], [("random", {}), ("test.crash", {})], [Budget(20)], [0]))
    with Store.open(tmp_path / "s.sqlite") as store:
        first = run_matrix(cells, store, workers=1, quiet=True)
        again = run_matrix(cells, store, workers=1, quiet=True)
        forced = run_matrix(cells, store, workers=1, quiet=True, force=True)
    assert (first.ran, again.ran, again.skipped, forced.ran) == (2, 1, 1, 2)
    assert _values(again.records) == _values(first.records)


def test_dask_local_cluster_runs_a_small_matrix_like_the_pool(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setenv("OPTBENCH_PLUGINS", matrix_doubles.PLUGIN)  # Dask's workers are fresh interpreters
    cells = resolve(expand([("sphere", {}), ("ackley", {})], [("random", {}), ("test.crash", {})],
                           [Budget(30)], [0]))
    with run_cells(cells, workers=1, dask="local", cell_timeout_s=30) as finished:
        on_dask = sorted(finished, key=lambda cell_record: cells.index(cell_record[0]))
    with run_cells(cells, workers=1) as finished:
        on_pool = sorted(finished, key=lambda cell_record: cells.index(cell_record[0]))
    assert [r.status for _, r, _ in on_dask] == ["ok", "crashed", "ok", "crashed"]
    assert _values(r for _, r, _ in on_dask) == _values(r for _, r, _ in on_pool)


def test_suites_expand_as_documented():
    backtest = suites.cells("backtest")
    per_configuration = {(c.optimizer, c.budget): 0 for c in backtest}
    for c in backtest:
        per_configuration[(c.optimizer, c.budget)] += 1
    assert set(per_configuration.values()) == {280}  # 70 windows × 2 strategies × 2 close policies
    assert {(c.options["window"], c.options["always_on"], c.options["close_at_eod"]) for c in backtest} == {
        (w, a, e) for w in range(70) for a in (False, True) for e in (False, True)}
    quick = suites.cells("quick")
    assert {c.budget.max_evals for c in quick} == {200, 500, 100_000} and {c.seed for c in quick} == {0, 1, 2}
    assert {c.optimizer for c in quick if c.budget.max_evals == 500} == {"scipy.de", "scipy.direct", "random"}
    assert {c.optimizer for c in quick if c.budget.max_evals == 200} == {"nevergrad.ngopt", "optuna.tpe", "random"}
    assert {c.optimizer for c in quick if c.budget.max_evals == 100_000} == {"batched.exact", "batched.grid", "random"}
    # 25 instances (12 MaxDiff, 12 synthetic, ma_crossover): scipy.de and random × 3 seeds, scipy.direct once,
    # the 200-evaluation block once each; 12 MaxDiff instances × 3 batched configurations
    assert len(quick) == 25 * (2 * 3 + 1) + 25 * 3 + 12 * 3
    bbob = suites.cells("bbob")  # 5 functions × 2 dims × 3 instances × (7 optimizers × 4 seeds + scipy.direct once)
    assert len(bbob) == 30 * (7 * 4 + 1)
    assert {c.budget.max_evals for c in bbob} == {1000} and {c.objective for c in bbob} == {"bbob"}
    assert set(suites.names()) == {"quick", "full", "backtest", "bbob"}
    with pytest.raises(HarnessError, match="unknown suite 'nope'"):
        suites.cells("nope")
