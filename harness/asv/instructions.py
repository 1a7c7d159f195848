"""Instruction counts of one unit of work, measured under valgrind's callgrind: figures that do not
depend on the machine's load, for the asv suite's ``track_instructions_*`` benchmarks.

One process (``harness.asv.instruction_workloads``) runs under
``setarch -R valgrind --tool=callgrind --instr-atstart=no`` with ``PYTHONHASHSEED=0``,
``PYTHONMALLOC=malloc``, one torch/BLAS thread and a fixed, minimal environment: it imports a fixed
set of modules uninstrumented (about 10× native instead of 50–90×) and forks one fresh child per
workload, so a workload's count does not depend on which others are measured or in what order.
Each measured region is bracketed by client requests (``markers.c``, compiled here with the system
C compiler and valgrind's ``callgrind.h``) that switch instrumentation on, zero the counters and end
with a labelled dump. Every workload is run unmeasured first (Python's adaptive bytecode, lazy
imports and the allocator settle), then measured at ``n`` and ``2n`` units, each after a full
garbage collection; ``(I(2n) − I(n)) / n`` is the cost of one unit with every fixed cost (the
markers, the loop's set-up) cancelled.

The allocator: with Python's own (pymalloc) the cost of an allocation depends on how full its
memory pools happen to be, which moved a fixed loop's count per iteration by 2 % between two
children of the same parent; with the C library's (``PYTHONMALLOC=malloc``) they agree exactly.
glibc's per-thread cache raised to 65 535 chunks per size (``GLIBC_TUNABLES``) and two warm-up runs
at ``2n`` keep its slower paths, whose cost depends on the heap's history, out of the measured runs
(they moved a MaxDiff evaluation by 0.6 % between processes; 0.05 % with both).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from optbench.harness.core.errors import HarnessError

MARKERS_C = Path(__file__).with_name("markers.c")
CALLGRIND_H = Path("/usr/include/valgrind/callgrind.h")
# PYTHONMALLOC and a large tcache: see the module's docstring.
DETERMINISTIC_ENV = {"PYTHONHASHSEED": "0", "PYTHONMALLOC": "malloc", "GLIBC_TUNABLES": "glibc.malloc.tcache_count=65535",
                     "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                     "NUMEXPR_NUM_THREADS": "1"}
# The only variables the child inherits: another caller's environment (asv's, a shell's) would move
# the initial stack and whatever reads it.
KEPT_ENV = ("PATH", "HOME", "TMPDIR", "LD_LIBRARY_PATH")
_TOTALS = re.compile(r"^totals:\s*(\d+)", re.MULTILINE)
_LABEL = re.compile(r"^desc: Trigger: Client Request: (.*)$", re.MULTILINE)


def unavailable() -> str | None:
    """Why instruction counts cannot be measured here (None when they can)."""
    for tool in ("valgrind", "setarch", "cc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: instruction-count benchmarks need valgrind (callgrind), setarch and a C compiler"
    if not CALLGRIND_H.is_file():
        return f"{CALLGRIND_H} is missing (valgrind's development headers)"
    return None


def _build_markers(folder: Path) -> Path:
    lib = folder / "markers.so"
    done = subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(lib), str(MARKERS_C)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise HarnessError(f"cannot compile {MARKERS_C}: {done.stderr.strip()}")
    return lib


def read_dumps(folder: Path, stem: str = "callgrind.out") -> dict[str, int]:
    """``{label: instructions}`` of every labelled dump callgrind wrote in ``folder``."""
    counts = {}
    for path in folder.glob(f"{stem}.*"):
        text = path.read_text()
        label, totals = _LABEL.search(text), _TOTALS.search(text)
        if label and totals:
            counts[label.group(1)] = int(totals.group(1))
    return counts


def child_env() -> dict[str, str]:
    """The child's whole environment: :data:`KEPT_ENV`, :data:`DETERMINISTIC_ENV`, and a PYTHONPATH
    (absolute) that reaches this ``optbench`` from the child's scratch folder."""
    import optbench

    paths = [str(Path(optbench.__file__).resolve().parents[1]),
             *(os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    kept = {name: os.environ[name] for name in KEPT_ENV if name in os.environ}
    return dict(kept, PYTHONPATH=os.pathsep.join(dict.fromkeys(paths)), **DETERMINISTIC_ENV)


def measure(workloads: list[str], timeout_s: float = 900.0) -> dict[str, float]:
    """Instructions per unit of each named workload (see ``instruction_workloads.WORKLOADS``), each
    in its own child forked from one callgrind process; raises HarnessError when one fails."""
    from optbench.harness.asv.instruction_workloads import units

    reason = unavailable()
    if reason:
        raise HarnessError(reason)
    with tempfile.TemporaryDirectory(prefix="optbench-callgrind-") as tmp:
        folder = Path(tmp)
        lib = _build_markers(folder)
        work = folder / "work"  # the child's working folder, for its files only (-P: not on sys.path)
        work.mkdir()
        cmd = ["setarch", "-R", "valgrind", "-q", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={folder / 'callgrind.out'}.%p", sys.executable, "-P", "-m",
               "optbench.harness.asv.instruction_workloads", str(lib), *workloads]
        done = subprocess.run(cmd, cwd=work, env=child_env(), capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise HarnessError(f"instruction-count child failed (exit {done.returncode}): {done.stderr[-2000:]}")
        counts = read_dumps(folder)
    return {name: per_unit(counts, name, units(name)) for name in workloads}


def per_unit(counts: dict[str, int], name: str, n: int) -> float:
    """``(I(2n) − I(n)) / n`` from the dumps labelled ``name n`` and ``name 2n``."""
    try:
        return (counts[f"{name} {2 * n}"] - counts[f"{name} {n}"]) / n
    except KeyError as missing:
        raise HarnessError(f"no callgrind dump {missing} for workload {name!r}") from None


# The suite's tracks: name -> the workload it reads; the instrument's own cost is its workload minus
# the bare evaluation of the same zero-cost objective; an optimizer's track is its workload's name.
UNIT_TRACKS = {"maxdiff_scalar": "maxdiff_scalar", "maxdiff_per_candidate": "maxdiff_batch",
               "store_record": "store_record"}
INSTRUMENT_WORKLOADS = ["instrumented_evaluation", "bare_evaluation"]


def measure_tracks(optimizers: list[str]) -> dict[str, float]:
    """Every ``track_instructions_*`` figure in one callgrind process: the instrument's own work per
    evaluation, each :data:`UNIT_TRACKS` unit, and per evaluation of a seeded run of each optimizer on
    the zero-cost objective (its own work, plus the instrument and a ~8 000-instruction evaluation),
    keyed ``optimizer:NAME``."""
    from optbench.harness.asv.instruction_workloads import OPTIMIZER_PREFIX

    runs = [OPTIMIZER_PREFIX + name for name in optimizers]
    counts = measure([*INSTRUMENT_WORKLOADS, *dict.fromkeys(UNIT_TRACKS.values()), *runs])
    tracks = {name: counts[workload] for name, workload in UNIT_TRACKS.items()}
    tracks["instrument_per_eval"] = counts["instrumented_evaluation"] - counts["bare_evaluation"]
    return tracks | {run: counts[run] for run in runs}
