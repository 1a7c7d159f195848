"""Every library adapter behind the one interface: runs on every objective family within budget,
reports re-evaluated values, finds easy optima, is reproducible, and rejects bad input."""

from __future__ import annotations

import pytest

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.cli import main
from optbench.harness.core.budget import Budget
from optbench.harness.core.instrument import Instrument
from optbench.harness.core.record import Cell
from optbench.harness.core.runner import run_cell

LIBRARY = ["scipy.de", "scipy.de_vectorized", "scipy.direct", "scipy.dual_annealing", "scipy.shgo",
           "nevergrad.ngopt", "nevergrad.oneplusone", "nevergrad.twopointsde", "nevergrad.cma",
           "optuna.tpe", "optuna.cmaes", "botorch.qlogei", "evotorch.cmaes", "evotorch.snes"]
EVERY = LIBRARY + ["random", "grid"]
FAMILIES = {"maxdiff": {"n": 60}, "ma_crossover": {}, "sphere": {"dim": 3}}


def small_budget(optimizer: str) -> int:
    return 10 if optimizer == "botorch.qlogei" else 30  # a GP step costs ~0.1–1 s


def run(objective: str, optimizer: str, budget: Budget, seed: int = 0, options=None, **optimizer_options):
    options = FAMILIES.get(objective, {}) if options is None else options
    cell = Cell(objective, optimizer, budget, seed, dict(options), optimizer_options)
    return run_cell(cell, with_reference=False)


def test_every_spec_name_is_registered():
    assert set(EVERY) <= set(optimizers.names())


@pytest.mark.parametrize("objective", FAMILIES)
@pytest.mark.parametrize("optimizer", EVERY)
def test_runs_on_every_family_within_budget(optimizer, objective):
    budget = small_budget(optimizer)
    record = run(objective, optimizer, Budget(budget), seed=1)
    assert record.status == "ok", record.message
    assert 1 <= record.n_evals <= budget
    assert record.value == objectives.get(objective, **FAMILIES[objective]).exact_value(record.point)
    indices, elapsed, best = zip(*record.trace)
    assert list(indices) == sorted(set(indices)) and indices[-1] <= record.n_evals
    assert list(elapsed) == sorted(elapsed)
    assert all(b < a for a, b in zip(best, best[1:]))
    assert best[-1] == pytest.approx(record.value, rel=1e-9, abs=1e-12)


# Budgets at which each adapter reliably reaches the 2-D sphere optimum (measured on seeds 0–2).
# nevergrad.ngopt gets 500 (it picks CMA there); at 200–400 evaluations in 2-D it picks MetaModel.
SPHERE_BUDGET = {"nevergrad.ngopt": 500, "nevergrad.twopointsde": 500, "scipy.de_vectorized": 500}


@pytest.mark.parametrize("optimizer", [o for o in LIBRARY if o != "botorch.qlogei"])
def test_finds_the_sphere_optimum(optimizer):
    record = run("sphere", optimizer, Budget(SPHERE_BUDGET.get(optimizer, 300)), options={"dim": 2})
    assert record.status == "ok", record.message
    assert record.value < 1e-3


@pytest.mark.slow
def test_botorch_gets_near_the_sphere_optimum():
    # Within 1e-2, not 1e-3: SingleTaskGP infers a noise level and stops refining there (seed 0
    # stalls at 0.009 with 40 or 60 evaluations, with 2 or 8 restarts alike).
    record = run("sphere", "botorch.qlogei", Budget(40), options={"dim": 2})
    assert record.status == "ok", record.message
    assert record.value < 1e-2


# Only optimizers whose result at this budget is settled; where a library's result moves between releases
# (NGOpt reached 0.989 of the reference with one resolution, the reference with the next), it is measured and
# reported by `optbench perf optimizer_table`, never pinned here.
@pytest.mark.parametrize("optimizer", ["scipy.de", "scipy.direct"])
def test_maxdiff_within_one_percent_of_reference(optimizer):
    record = run("maxdiff", optimizer, Budget(500), options={})
    reference = objectives.get("maxdiff").reference().value
    assert record.status == "ok", record.message
    assert record.value / reference >= 0.99


@pytest.mark.parametrize("budget", [200, 300])
def test_ngopt_metamodel_budgets_finish(budget):
    # NGOpt picks MetaModel here; nevergrad 1.0.12 crashes in it under numpy 2 without our shim.
    record = run("maxdiff", "nevergrad.ngopt", Budget(budget), options={})
    assert record.status == "ok", record.message
    assert record.n_evals == budget


SEEDABLE = [o for o in EVERY if optimizers.adapter_class(o).seedable]


@pytest.mark.parametrize("optimizer", SEEDABLE)
def test_same_seed_same_result(optimizer):
    budget = Budget(small_budget(optimizer))
    first, again = (run("maxdiff", optimizer, budget, seed=7) for _ in range(2))
    assert (first.point, first.value, first.n_evals) == (again.point, again.value, again.n_evals)
    assert [t[::2] for t in first.trace] == [t[::2] for t in again.trace]


@pytest.mark.parametrize("optimizer", SEEDABLE)
def test_the_seed_matters(optimizer):
    # At <= 100 evaluations in 2-D, NGOpt picks a deterministic local method started at the box
    # centre; at 500 it picks CMA, which uses the seed.
    budget = Budget(500 if optimizer == "nevergrad.ngopt" else small_budget(optimizer))
    first, other = (run("maxdiff", optimizer, budget, seed=s) for s in (7, 8))
    assert [t[2] for t in first.trace] != [t[2] for t in other.trace]


@pytest.mark.parametrize("optimizer", ["nevergrad.ngopt", "nevergrad.cma", "optuna.tpe", "optuna.cmaes"])
def test_native_mixed_space_is_reproducible(optimizer):
    first, again = (run("ma_crossover", optimizer, Budget(30), seed=3) for _ in range(2))
    assert (first.point, first.value) == (again.point, again.value)


@pytest.mark.parametrize("optimizer", [o for o in EVERY if not optimizers.adapter_class(o).seedable])
def test_unseedable_optimizers_are_deterministic(optimizer):
    first, other = (run("maxdiff", optimizer, Budget(30), seed=s) for s in (0, 1))
    assert (first.point, first.value, first.n_evals) == (other.point, other.value, other.n_evals)


@pytest.mark.parametrize("optimizer, options", [
    ("scipy.de_vectorized", {"polish": False}),
    ("nevergrad.oneplusone", {"num_workers": 4}),
    ("nevergrad.twopointsde", {"num_workers": 8}),
    ("evotorch.cmaes", {}),
    ("evotorch.snes", {}),
])
def test_population_adapters_evaluate_in_batches(monkeypatch, optimizer, options):
    def no_scalar_calls(self, x):
        raise AssertionError("scalar evaluate called")

    monkeypatch.setattr(Instrument, "evaluate", no_scalar_calls)
    record = run("maxdiff", optimizer, Budget(50), **options)
    assert record.status == "ok", record.message
    assert record.n_evals == 50


def test_library_limits_are_passed_through():
    record = run("maxdiff", "scipy.direct", Budget(300), maxfun=40)
    assert record.status == "ok" and record.message == "optimizer finished"
    assert 40 <= record.n_evals < 100  # DIRECT overshoots maxfun a little, never by a whole budget


@pytest.mark.parametrize("optimizer", ["scipy.de", "nevergrad.oneplusone", "optuna.tpe", "evotorch.snes"])
def test_wall_time_budget_ends_the_run(optimizer):
    record = run("sphere", optimizer, Budget(max_seconds=0.3))
    assert record.status == "ok", record.message
    assert record.n_evals > 0 and record.wall_s < 5


def test_botorch_records_gp_and_acquisition_time():
    record = run("maxdiff", "botorch.qlogei", Budget(10), n_init=6, q=2)
    assert record.status == "ok", record.message
    assert record.n_evals == 10
    assert record.phases_s["fit_gp"] > 0 and record.phases_s["optimize_acqf"] > 0


@pytest.mark.parametrize("args, expected", [
    (["--optimizer", "scipy.nope"], "unknown optimizer 'scipy.nope'"),
    (["--optimizer", "scipy.de", "--opt", "maxiterr=5"], "unknown option(s) ['maxiterr'] for optimizer 'scipy.de'"),
    (["--optimizer", "scipy.de", "--opt", "maxiter=many"], "option maxiter='many' of optimizer 'scipy.de' must be int"),
    (["--optimizer", "scipy.de", "--budget", "0"], "'--budget': Input should be greater than or equal to 1"),
    (["--optimizer", "scipy.de", "--budget", "-3"], "'--budget': Input should be greater than or equal to 1"),
])
def test_bad_input_exits_2_with_a_clear_message(capsys, args, expected):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--objective", "sphere", *args])
    assert exit_.value.code == 2
    assert expected in capsys.readouterr().err
