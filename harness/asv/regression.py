"""The regression gate checked end to end, in a temporary clone of this repository's HEAD: an empty
commit and a commit that adds a small loop to the instrument's per-evaluation path, each compared
with its parent by ``asv continuous`` in the ``sharedvenv`` environment (offline: every commit is
built and installed from the clone, the dependencies are this interpreter's).

Used by ``optbench perf regression_detection`` and the slow test in ``tests/test_asv.py``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from optbench.harness.core.errors import HarnessError

ROOT = Path(__file__).resolve().parents[2]
ASV = [sys.executable, "-m", "asv"]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
MACHINE = "optbench-regression"
FACTOR = 1.02
INSTRUCTION_BENCH = "instructions"  # asv's -b regex: every track_instructions_* benchmark
INSTRUMENT_TRACK = "bench_instructions.Instructions.track_instructions_instrument_per_eval"
INSTRUMENT_FILE = Path("harness/core/instrument.py")
# Inserted after Instrument.evaluate_encoded's docstring: a few hundred instructions per evaluation.
INJECTED_LOOP = "        for _ in range(2):  # injected regression\n            pass\n"
_EVALUATE_ENCODED = re.compile(r"    def evaluate_encoded\(.*?\n        \"\"\".*?\"\"\"\n", re.DOTALL)
_GIT = ["git", "-c", "user.name=optbench regression", "-c", "user.email=regression@optbench.invalid"]


def asv_env(home: Path) -> dict[str, str]:
    """Environment for asv subprocesses: a private HOME (``asv machine`` leaves ~ alone), no
    PYTHONPATH (asv clears it anyway), no slow cells, and pip told never to reach an index."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPTBENCH_ASV_SLOW")}
    return dict(env, HOME=str(home), PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")


def sh(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, ok=(0,),
       timeout_s: float = 3600) -> subprocess.CompletedProcess:
    """Run ``cmd``; HarnessError (with its output's tail) unless its exit code is in ``ok``."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode not in ok:
        raise HarnessError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@dataclass(frozen=True)
class Clone:
    """A temporary clone: ``base`` (the source's HEAD), ``empty`` (an empty commit on it) and
    ``loop`` (on ``empty``: :data:`INJECTED_LOOP` in ``Instrument.evaluate_encoded``)."""

    repo: Path
    env: dict[str, str]
    base: str
    empty: str
    loop: str


def inject_loop(text: str) -> str:
    """``instrument.py``'s text with :data:`INJECTED_LOOP` at the top of ``evaluate_encoded``."""
    found = _EVALUATE_ENCODED.search(text)
    if found is None:
        raise HarnessError(f"no Instrument.evaluate_encoded with a docstring in {INSTRUMENT_FILE}")
    return text[:found.end()] + INJECTED_LOOP + text[found.end():]


def make_clone(folder: Path, source: Path = ROOT) -> Clone:
    """Clone ``source``'s HEAD into ``folder``/repo, register the asv machine, make both commits."""
    repo, home = folder / "repo", folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    sh(["git", "clone", "-q", str(source), str(repo)], folder)
    env = asv_env(home)
    sh(ASV + ["machine", "--yes", "--machine", MACHINE], repo, env)

    def head() -> str:
        return sh(["git", "rev-parse", "HEAD"], repo).stdout.strip()

    base = head()
    sh(_GIT + ["commit", "-q", "--allow-empty", "-m", "empty commit"], repo)
    empty = head()
    path = repo / INSTRUMENT_FILE
    path.write_text(inject_loop(path.read_text()))
    sh(_GIT + ["commit", "-qam", "a small loop in Instrument.evaluate_encoded"], repo)
    return Clone(repo, env, base, empty, head())


@dataclass(frozen=True)
class Verdict:
    """One ``asv continuous`` comparison: its exit code (1: a regression), the benchmarks it marked
    slower, and every figure of both commits read from asv's results files."""

    exit_code: int
    flagged: list[str]
    before: dict[str, float]
    after: dict[str, float]

    def ratio(self, name: str) -> float:
        return self.after[name] / self.before[name]


def continuous(clone: Clone, before: str, after: str, bench: str, factor: float = FACTOR) -> Verdict:
    """``asv continuous --factor FACTOR -b BENCH BEFORE AFTER`` in the clone's sharedvenv."""
    proc = sh(ASV + ["continuous", "--factor", str(factor), "-E", f"sharedvenv:{PYTHON}", "-b", bench,
                     "--machine", MACHINE, before, after], clone.repo, clone.env, ok=(0, 1))
    flagged = [name for name, (mark, _) in table_rows(proc.stdout).items() if mark == "+"]
    folder = clone.repo / ".asv" / "results" / MACHINE
    return Verdict(proc.returncode, flagged, results(folder, before), results(folder, after))


def rerun(clone: Clone, before: str, after: str, bench: str, factor: float = FACTOR) -> Verdict:
    """``after`` measured again (``asv run``) and compared with ``before``'s stored figures by ``asv
    compare --factor FACTOR``: the table ``asv continuous`` prints and fails on (exit code 1 when it
    marks a benchmark slower), without measuring ``before`` again."""
    sh(ASV + ["run", "-E", f"sharedvenv:{PYTHON}", "-b", bench, "--machine", MACHINE, f"{after}^!"],
       clone.repo, clone.env)
    proc = sh(ASV + ["compare", "--factor", str(factor), "--machine", MACHINE, before, after], clone.repo, clone.env)
    flagged = [name for name, (mark, _) in table_rows(proc.stdout).items() if mark == "+"]
    folder = clone.repo / ".asv" / "results" / MACHINE
    return Verdict(int(bool(flagged)), flagged, results(folder, before), results(folder, after))


def table_rows(output: str) -> dict[str, tuple[str, str]]:
    """``{benchmark: (change mark, ratio)}`` from an ``asv compare``/``continuous`` table, whose rows
    read ``| + | 36.8±1μs | 74.1±2μs | 2.01 | bench_objectives.…('sphere-2d-1ms') |``; the mark is
    ``+`` slower, ``-`` faster, blank or ``~`` for no significant change."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[4].startswith("bench_"):
            rows[cells[4]] = (cells[0], cells[3])
    return rows


def results(folder: Path, commit: str) -> dict[str, float]:
    """``{benchmark: value}`` of one commit's asv results file in ``folder``, parameterized ones
    named as asv's tables name them (``name('random')``); failed or skipped figures left out."""
    paths = sorted(folder.glob(f"{commit[:8]}-*.json"))
    if not paths:
        raise HarnessError(f"no asv results for {commit[:8]} in {folder}")
    data = json.loads(paths[0].read_text())
    values = {}
    for name, row in data["results"].items():
        row = dict(zip(data["result_columns"], row))
        for combo, value in zip(itertools.product(*row["params"]), row["result"]):
            if value is not None and value == value:
                values[f"{name}({', '.join(combo)})" if combo else name] = float(value)
    return values


def spread(measurements: list[dict[str, float]]) -> dict[str, float]:
    """Per benchmark, (largest − smallest) ÷ smallest over ``measurements`` that all hold it."""
    common = set.intersection(*(set(m) for m in measurements))
    return {name: (max(m[name] for m in measurements) - min(m[name] for m in measurements))
            / min(m[name] for m in measurements) for name in sorted(common)}
