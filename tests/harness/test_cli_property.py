"""Property: whatever argument list a user types, built from the real options of ``run``, ``export``
and ``list`` (wrong types, out-of-range numbers, unknown names and flags, impossible paths), the CLI
exits 0, 1, 2 or 130, never with a traceback, and leaves every file byte-identical when it exits 2."""

from __future__ import annotations

import contextlib
import io
import subprocess
import tempfile
from pathlib import Path

import pytest
import typer.main
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optbench.harness.cli import app, main

from .test_cli_usage import optbench_command
from .test_store import _make_store

VERBS = ("run", "export", "list")
PATHS = ["{store}", "{tmp}/new.sqlite", "{tmp}/records.csv", "{file}", "{file}/x.sqlite", "{folder}",
         "/proc/optbench-no/x.csv", "/etc/hostname/x.sqlite"]
# Values by option for the free-text ones; cheap valid ones only (a valid run must stay short).
TEXT = {
    "--objective": ["sphere", "nope", ""],
    "--optimizer": ["random", "grid", "nope"],
    "--option": ["dim=2", "dim=0", "bogus=1", "noequals", "=3"],
    "--opt": ["batch_size=8", "batch_size=0", "batch_size=-3", f"batch_size={10**20}", "nope=1", "batch_size=abc"],
    "--suite": ["nope"],  # a real suite runs for minutes
    "--dask": ["tcp://127.0.0.1:1", "not an address"],
    "--format": ["csv", "parquet", "txt", ""],
}
EXIT_CODES = {0, 1, 2, 130}


def _values(param) -> list[list[str]]:
    """Argument snippets for one real option: valid, wrong type, out of range, unknown."""
    name = param.opts[0]
    if param.is_flag:
        return [[name], [name, "true"]]
    kind = param.type_descriptor.annotation
    if name in TEXT:
        values = TEXT[name]
    elif kind is Path:
        values = PATHS
    elif kind in (int, list[int]):
        low = param.min if param.min is not None else 0
        values = [str(low), str(low + 1), str(low - 1), str(10**20), "abc", "1.5", ""]
        if param.max is not None:
            values.append(str(param.max + 1))
    else:  # float
        values = ["0.05", "0", "-1", "nan", "inf", "1e30", "abc"]
    return [[name, v] for v in values]


# A valid start that the drawn snippets then change, so that some lists run (exit 0 or 1) too.
VALID = {"run": ["--objective", "sphere", "--optimizer", "random", "--budget", "5", "--workers", "1", "--quiet"],
         "export": ["--store", "{store}", "--out", "{tmp}/records.csv"], "list": []}


def _argv(verb: str) -> st.SearchStrategy[list[str]]:
    params = [p for p in typer.main.get_command(app).commands[verb].params if p.opts[0] != "--help"]
    snippet = st.one_of(*(st.sampled_from(_values(p)) for p in params),
                        st.sampled_from([["--no-such-flag"], ["stray"], ["--budget"]]))
    return st.tuples(st.sampled_from([[], VALID[verb]]), st.lists(snippet, max_size=4)).map(
        lambda drawn: [verb, *drawn[0], *(a for part in drawn[1] for a in part)])


ARGV = st.one_of(st.sampled_from(VERBS).flatmap(_argv), st.just(["nosuchverb"]), st.just([]))


@contextlib.contextmanager
def _workspace():
    """A fresh folder holding a store, a text file and an empty folder, as the working directory."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        root = Path(tmp)
        _make_store(root / "s.sqlite")
        (root / "file").write_text("not a store\n")
        (root / "folder").mkdir()
        yield root, {"store": root / "s.sqlite", "tmp": root, "file": root / "file", "folder": root / "folder"}


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


def _exit_code(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
            code = 0
        except SystemExit as exit_:  # anything else escaping main would be a traceback: the test fails
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, err.getvalue()


@pytest.fixture(scope="module", autouse=True)
def _fast_dask_failure():
    """An unreachable scheduler fails after 1 s instead of 30."""
    pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        yield


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ARGV)
def test_any_argument_list_exits_0_1_2_or_130_without_a_traceback_in_process(argv):
    with _workspace() as (root, paths):
        argv = [a.format(**paths) for a in argv]
        before = _snapshot(root)
        code, err = _exit_code(argv)
        event(f"exit {code}")
        assert code in EXIT_CODES and "Traceback" not in err, (argv, code, err)
        if code == 2:
            assert _snapshot(root) == before, argv
            assert err.startswith("error: "), (argv, err)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ARGV)
def test_any_argument_list_through_the_console_script(argv):
    with _workspace() as (root, paths):
        argv = [a.format(**paths) for a in argv]
        before = _snapshot(root)
        done = subprocess.run([*optbench_command(), *argv], cwd=root, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
        assert done.returncode in EXIT_CODES and "Traceback" not in done.stderr, (argv, done.returncode, done.stderr)
        if done.returncode == 2:
            assert _snapshot(root) == before, argv
