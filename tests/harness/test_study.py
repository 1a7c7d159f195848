"""optbench study: every parallel mode on a tiny study, determinism, clean teardown, storage costs,
profile grouping, store round trip, report section and the CLI."""

import json
import math
from dataclasses import replace

import optuna
import psutil
import pytest

from optbench import objectives
from optbench.harness.core.errors import HarnessError
from optbench.harness.optimizers.optuna_adapters import distributions
from optbench.harness.study.cost import Burn, calibrate
from optbench.harness.study.modes import MODES, ModeResult, StudyConfig, problem_options, run_mode, run_modes
from optbench.harness.study.profile import GROUPS, ExclusiveTimers, profile_study
from optbench.harness.study.report import study_section, study_sections
from optbench.harness.study.results import from_record, load_rows, save_to_store, to_record
from optbench.harness.study.storage import STORAGE_KINDS, leftover_files, sqlite_insert_costs, storage_costs
from optbench.harness.study.tables import StudyTables

CFG = StudyConfig(objective="sphere", options={"dim": 2}, n_trials=4, workers=2)


def worker_processes() -> list[psutil.Process]:
    """Children of this process, without multiprocessing's resource tracker (one per parent,
    started by spawn-context pools and kept until the parent exits)."""
    return [p for p in psutil.Process().children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())]


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_runs_a_tiny_study_and_tears_down_cleanly(mode, tmp_path):
    before = {p.pid for p in worker_processes()}
    row = run_mode(mode, CFG, Burn(), 0.1, tmp_path)
    per_study = 1 if mode in ("single", "threads", "sqlite", "journal") else CFG.workers
    assert row.n_trials == per_study * CFG.n_trials
    assert math.isfinite(row.best_value) and set(row.best_point) == {"x0", "x1"}
    assert row.wall_s > 0 and row.trials_per_s > 0 and row.startup_s >= 0
    assert row.leftovers == [] and leftover_files(tmp_path) == []
    assert list(tmp_path.iterdir()) == []  # the database / journal file is removed too
    assert {p.pid for p in worker_processes()} - before == set()


def test_single_process_mode_is_deterministic_for_a_seed(tmp_path):
    cfg = StudyConfig(n_trials=15, workers=1, seed=3)  # MA crossover, past TPE's 10 startup trials
    first, second = (run_mode("single", cfg, Burn(), 0.1, tmp_path / str(i)) for i in range(2))
    assert (first.best_value, first.best_point) == (second.best_value, second.best_point)
    assert first.best_value == pytest.approx(objectives.get("ma_crossover")(first.best_point))


def test_run_modes_fills_efficiency_relative_to_single(tmp_path):
    rows = run_modes(CFG, ["threads", "single"], costs_ms=[0.1], workdir=tmp_path)
    assert [r.mode for r in rows] == ["single", "threads"]
    assert rows[0].efficiency == 1.0
    assert rows[1].efficiency == pytest.approx(rows[1].trials_per_s / (2 * rows[0].trials_per_s))


def test_bad_mode_burn_or_config_is_a_harness_error(tmp_path):
    with pytest.raises(HarnessError, match="unknown mode"):
        run_modes(CFG, ["turbo"], workdir=tmp_path)
    with pytest.raises(HarnessError, match="unknown burn"):
        Burn("sleep")
    with pytest.raises(HarnessError, match="start method"):
        StudyConfig(start_method="forkserver")


def test_independent_problems_differ_where_the_objective_allows():
    assert problem_options("maxdiff", {"data": "goog", "window": 69}, 1) == ({"data": "goog", "window": 0}, "window variants")
    assert problem_options("maxdiff", {"data": "goog", "window": "3"}, 2)[0]["window"] == 5  # command-line text
    assert problem_options("sphere", {"seed": 5}, 2)[0]["seed"] == 7
    assert problem_options("ma_crossover", {}, 1) == ({}, "same problem, other sampler seeds")


def test_calibration_adds_burn_only_above_the_objectives_own_cost():
    sphere = objectives.get("sphere")
    assert calibrate(sphere, 1e-6, "work")[0].units == 0
    burn, base_ms = calibrate(sphere, 2.0, "python")
    assert burn.units > 0 and base_ms < 2.0


def test_storage_costs_cover_every_kind_and_leave_no_files(tmp_path):
    space = objectives.get("ma_crossover").space
    rows = storage_costs(distributions(optuna, space), 3, tmp_path)
    assert [r.storage for r in rows] == list(STORAGE_KINDS)
    assert all(r.ask_tell_ms > 0 and r.add_trial_ms > 0 for r in rows)
    assert math.isnan(rows[0].load_ms) and all(r.load_ms > 0 for r in rows[1:])
    inserts = sqlite_insert_costs(10, tmp_path)
    assert len(inserts) == 5 and all(r.ms_per_row > 0 for r in inserts)
    tables = StudyTables(tuple(rows), tuple(inserts))  # study.json's boundary loses nothing (NaN included)
    back = StudyTables.from_json(json.loads(json.dumps(tables.to_json())))
    assert back.inserts == tables.inserts and back.storage[1:] == tables.storage[1:] and math.isnan(back.storage[0].load_ms)
    assert list(tmp_path.iterdir()) == []


def test_profile_groups_sum_to_the_trial_time(tmp_path):
    row = profile_study("sphere", {}, 12, "journal", tmp_path / "w", tmp_path / "p.prof")
    groups = (row.objective_ms, row.sampler_ms, row.storage_ms, row.optuna_loop_ms)
    assert len(groups) == len(GROUPS) and sum(groups) == pytest.approx(row.ms_per_trial) and min(groups) > 0
    cpu = (row.objective_cpu_ms, row.sampler_cpu_ms, row.storage_cpu_ms, row.optuna_loop_cpu_ms)
    assert sum(cpu) == pytest.approx(row.cpu_ms_per_trial)
    assert (tmp_path / "p.prof").exists() and "fsync" in row.top  # the journal backend fsyncs every write
    assert list((tmp_path / "w").iterdir()) == []


def test_exclusive_timers_charge_nested_time_to_the_inner_region(monkeypatch):
    import types

    from optbench.harness.study import profile as study_profile

    now = [0.0]  # a fake clock: outer's own work takes 2 s, inner's 3 s
    fake = lambda: now[0]  # noqa: E731
    monkeypatch.setattr(study_profile, "time", types.SimpleNamespace(perf_counter=fake, thread_time=fake))

    class Thing:
        def outer(self):
            now[0] += 2.0
            return self.inner()

        def inner(self):
            now[0] += 3.0
            return 1

    thing, timers = Thing(), ExclusiveTimers()
    timers.wrap(thing, "outer", ["outer"])
    timers.wrap(thing, "inner", ["inner"])
    assert thing.outer() == 1
    assert (timers.seconds["outer"], timers.seconds["inner"]) == (2.0, 3.0)  # outer would be 5 if inner were not taken out


def _row(mode: str, tps: float, workers: int = 2) -> ModeResult:
    return ModeResult(mode=mode, objective="sphere", options={"dim": 2}, burn="work", cost_ms=10.0, eval_ms=10.5,
                      eval_cpu_ms=10.0, workers=workers, study_trials=4, n_trials=4, wall_s=4 / tps, startup_s=0.1,
                      trials_per_s=tps, efficiency=math.nan, best_value=0.25, best_point={"x0": 0.1, "x1": 0.2},
                      cpu_ms_per_trial=12.0, storage="memory", problems="one study", load_avg=0.5)


def test_store_round_trip_and_report_section(tmp_path):
    rows = [_row("single", 10.0, 1), _row("sqlite", 5.0), _row("independent", 18.0)]
    assert from_record(to_record(rows[1])) == rows[1]
    save_to_store([replace(_row("single", 99.0, 1), cost_ms=5.0)], tmp_path / "s.sqlite", "an earlier run")
    save_to_store(rows, tmp_path / "s.sqlite", "test")
    loaded = load_rows(tmp_path / "s.sqlite")  # the latest run only
    assert [r.mode for r in loaded] == ["single", "sqlite", "independent"]
    assert [r.efficiency for r in loaded] == pytest.approx([1.0, 0.25, 0.9])
    section, paths = study_section(loaded, tmp_path / "plots")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.exists() for p in paths)
    text = "\n".join(str(i) for i in section.items)
    assert "**independent**" in text and "at none of the measured costs" in text
    hooked = study_sections(tmp_path / "report", store=tmp_path / "s.sqlite", tables=tmp_path / "none.json")
    assert [s.title for s in hooked] == [section.title]
    assert study_sections(tmp_path / "report", store=tmp_path / "absent.sqlite") == []


def test_cli_study_writes_report_files_and_store(tmp_path, capsys):
    from optbench.harness.cli import main

    main(["study", "--objective", "sphere", "--mode", "single,threads", "--cost-ms", "0.1", "--trials", "4",
          "--storage-trials", "2", "--profile-trials", "12", "--out", str(tmp_path), "--store",
          str(tmp_path / "s.sqlite")])
    assert {"modes.csv", "storage.csv", "inserts.csv", "profile.csv", "study.json", "study.md"} <= \
        {p.name for p in tmp_path.iterdir()}
    assert [r.mode for r in load_rows(tmp_path / "s.sqlite")] == ["single", "threads"]
    from_json, from_store = load_rows(tmp_path / "study.json"), load_rows(tmp_path / "s.sqlite")
    assert [(r.mode, r.n_trials, r.best_value, r.wall_s) for r in from_json] == \
        [(r.mode, r.n_trials, r.best_value, r.wall_s) for r in from_store]
    with pytest.raises(SystemExit) as exit_info:
        main(["study", "--mode", "turbo", "--out", str(tmp_path)])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_cli_study_keeps_studies_in_a_storage_optuna_loads(kind, tmp_path):
    from optbench.harness.cli import main

    url = f"sqlite:///{tmp_path / 'kept.db'}" if kind == "sqlite" else str(tmp_path / "kept.journal")
    main(["study", "--objective", "sphere", "--mode", "single,sqlite,independent", "--cost-ms", "0.1", "--trials",
          "4", "--workers", "2", "--storage-trials", "0", "--profile-trials", "0", "--no-store",
          "--out", str(tmp_path / "out"), "--storage", url])
    storage = optuna.storages.RDBStorage(url) if kind == "sqlite" else optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(url))
    summaries = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    assert sorted(summaries) == ["independent/sphere(seed=0)/work-0.1ms",
                                 "independent/sphere(seed=1)/work-0.1ms",
                                 "single/sphere/work-0.1ms", "sqlite/sphere/work-0.1ms"]
    for name, summary in summaries.items():
        study = optuna.load_study(study_name=name, storage=storage)
        assert len(study.trials) == summary.n_trials == 4  # the shared study: 2 workers × 2 trials
        assert study.user_attrs["mode"] == name.split("/")[0]
        values = [t.value for t in study.trials]
        assert study.best_value == min(values) and all(v >= 0 for v in values)  # sphere ≥ f* = 0
        params = study.best_params
        assert objectives.get("sphere", **study.user_attrs["options"])(params) == pytest.approx(study.best_value)
    assert sorted(dashboard_study_names(storage)) == sorted(summaries)


def dashboard_study_names(storage) -> list[str]:
    """The studies optuna-dashboard lists (its ``/api/studies`` endpoint, called in-process: no server)."""
    import io
    import json
    import sys

    wsgi = pytest.importorskip("optuna_dashboard").wsgi
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/studies", "QUERY_STRING": "", "SERVER_NAME": "localhost",
               "SERVER_PORT": "0", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    status = []
    body = b"".join(wsgi(storage)(environ, lambda code, headers, exc_info=None: status.append(code)))
    assert status == ["200 OK"]
    return [s["study_name"] for s in json.loads(body)["study_summaries"]]


def test_a_folder_as_storage_is_refused_with_exit_2(tmp_path):
    from optbench.harness.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["study", "--mode", "single", "--storage", str(tmp_path), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_a_storage_that_cannot_be_written_is_refused_before_any_mode_runs(kind, tmp_path, capsys):
    from optbench.harness.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "sub" / "study.db"
    url = f"sqlite:///{target}" if kind == "sqlite" else str(target)
    with pytest.raises(SystemExit) as exit_info:
        main(["study", "--mode", "single", "--storage", url, "--out", str(tmp_path / "o"), "--no-store"])
    assert exit_info.value.code == 2
    assert "--storage" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # no --out folder, nothing partial
