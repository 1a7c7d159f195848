"""Usage errors through the real ``optbench`` console script: one line, exit 2, no traceback; flags
shown as flags in ``--help``; numeric options refused outside their ranges before any work."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optbench.harness.cli import main

from .test_store import _make_store, _snapshot


def optbench_command() -> list[str]:
    """The installed console script (what a user runs), else the module (a checkout without install)."""
    script = Path(sys.executable).with_name("optbench")
    if script.exists():
        return [str(script)]
    return [shutil.which("optbench")] if shutil.which("optbench") else [sys.executable, "-m", "optbench.harness.cli"]


def run_script(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*optbench_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          **kwargs)


# each of these was once a ~54-line traceback and exit 1 under typer 0.29
@pytest.mark.parametrize("args, words", [
    (["run", "--budget", "abc"], "'--budget'"),
    (["run", "--budget", "1.5"], "'--budget'"),
    (["run", "--seed", "abc"], "--seed 'abc'"),
    (["run", "--objective", "sphere", "--optimizer", "random", "--seed", "-1"], "--seed '-1'"),
    (["run", "--objective", "sphere", "--optimizer", "random", "--seed", "5:3"], "range(5, 3, 1) is empty"),
    (["run", "--objective", "sphere", "--optimizer", "random", "--seed", "0:4:0"], "the step must not be 0"),
    (["run", "--objective", "sphere", "--optimizer", "random", "--seed", str(2**32)], "seeds run from 0 to"),
    (["run", "--objective", "sphere", "--optimizer", "random", "--seed", "1", "--seeds", "3"], "not both"),
    (["run", "--workers", "abc"], "'--workers'"),
    (["run", "--no-such-flag"], "No such option: --no-such-flag"),
    (["run", "--objective"], "'--objective' requires an argument"),
    (["nosuchverb"], "No such command 'nosuchverb'"),
    (["run", "--force", "true"], "flags such as --force take no value"),
])
def test_usage_errors_through_the_console_script_are_one_line_and_exit_2(tmp_path, args, words):
    done = run_script(args, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ") and words in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_top_help_does_not_promise_known_optima(tmp_path):
    done = run_script(["--help"], tmp_path, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    text = " ".join(done.stdout.split())
    assert done.returncode == 0 and "known optima" not in text and "with or without a known optimum" in text


def test_help_shows_boolean_flags_as_flags(tmp_path):
    done = run_script(["run", "--help"], tmp_path, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    force = next(line for line in done.stdout.splitlines() if "--force" in line)
    budget = next(line for line in done.stdout.splitlines() if "--budget" in line)
    assert "<bool>" not in force and "<list[int]>" in budget  # options that take a value still show its type


RUN = ["run", "--objective", "sphere", "--store", "{store}"]


@pytest.mark.parametrize("args, words", [
    ([*RUN, "--optimizer", "random", "--budget", str(10**20)], "'--budget'"),
    ([*RUN, "--optimizer", "random", "--opt", "batch_size=0"], "batch_size=0"),
    ([*RUN, "--optimizer", "random", "--opt", "batch_size=-3"], "batch_size=-3"),
    ([*RUN, "--optimizer", "scipy.de", "--opt", f"maxiter={10**20}"], "maxiter="),
    ([*RUN, "--optimizer", "random", "--seconds", "nan"], "max_seconds=nan"),
    ([*RUN, "--optimizer", "random", "--seeds", str(10**9)], "'--seeds'"),
    ([*RUN, "--optimizer", "random", "--workers", "-1"], "'--workers'"),
    (["study", "--repeats", "0", "--store", "{store}", "--out", "{out}"], "'--repeats'"),
    (["study", "--cost-ms", "nan", "--store", "{store}", "--out", "{out}"], "--cost-ms 'nan'"),
    (["profile", "--objective", "sphere", "--optimizer", "random", "--top", "-1", "--out", "{out}"], "'--top'"),
])
def test_numeric_options_out_of_range_are_refused_before_any_work(tmp_path, capsys, args, words):
    _make_store(tmp_path / "s.sqlite")
    before = _snapshot(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main([a.format(store=tmp_path / "s.sqlite", out=tmp_path / "out") for a in args])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and words in err and "Traceback" not in err, err
    assert _snapshot(tmp_path) == before


def test_study_refuses_a_store_that_is_not_one_before_running(tmp_path, capsys):
    (tmp_path / "text.sqlite").write_text("not a store\n")
    with pytest.raises(SystemExit) as exit_:
        main(["study", "--store", str(tmp_path / "text.sqlite"), "--out", str(tmp_path / "out"), "--mode", "single"])
    assert exit_.value.code == 2 and "not an SQLite database" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text.sqlite"]  # no study ran: no --out folder


def test_workers_0_means_every_core_for_run_and_demo(tmp_path, capsys):
    main(["run", "--objective", "sphere", "--optimizer", "random", "--budget", "5", "--workers", "0", "--no-store",
          "--quiet", "--json"])
    assert '"status": "ok"' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:  # the same range is declared for demo (refused before it runs)
        main(["demo", "--workers", "-1", "--store", str(tmp_path / "s.sqlite")])
    assert exit_.value.code == 2 and "'--workers'" in capsys.readouterr().err


def test_usage_errors_of_click_itself_are_one_line_too(monkeypatch, capsys):
    """A verb built on click (a plug-in) raises click's own classes, which typer 0.29's are not."""
    click = pytest.importorskip("click")
    from optbench.harness.cli import app

    def boom() -> None:
        raise click.BadParameter("must be positive", param_hint="'--n'")

    monkeypatch.setattr(app, "registered_commands", list(app.registered_commands))
    app.command("boom")(boom)
    with pytest.raises(SystemExit) as exit_:
        main(["boom"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.strip() == "error: Invalid value for '--n': must be positive (see `optbench boom --help`)"


def test_a_repeated_option_key_is_refused_in_one_line():
    proc = subprocess.run([*optbench_command(), "run", "--objective", "sphere", "--option", "dim=2", "--option", "dim=3",
                           "--optimizer", "random", "--budget", "10", "--store", "/dev/null/never"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "error: --option 'dim' is given twice (2 and 3); give it once"]


@pytest.mark.parametrize("text", ["not json\n", "[1, 2]", '{"objective": "x"}\n', '[{"no_such_field": 1}]'])
def test_a_records_file_that_is_not_records_is_one_error_line(tmp_path, text):
    (tmp_path / "runs.jsonl").write_text(text)
    done = run_script(["report", "--store", "runs.jsonl", "--out", "rep"], tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert "not a JSON (or JSON-lines) file of run records" in lines[0]
