"""Instruction counts of one unit of work, measured under valgrind's callgrind: figures that do not
depend on the machine's load, for the asv suite's ``track_instructions_*`` benchmarks.

One child process (``harness.asv.instruction_workloads``) runs under
``setarch -R valgrind --tool=callgrind --instr-atstart=no`` with ``PYTHONHASHSEED=0`` and one
torch/BLAS thread: imports and set-up run uninstrumented (about 10× native instead of 50–90×); each
measured region is bracketed by client requests (``markers.c``, compiled here with the system C
compiler and valgrind's ``callgrind.h``) that switch instrumentation on, zero the counters and end
with a labelled dump. Every workload is run once unmeasured (Python's adaptive bytecode and lazy
imports settle), then measured at ``n`` and ``2n`` units; ``(I(2n) − I(n)) / n`` is the cost of one
unit with every fixed cost (the markers, the loop's set-up) cancelled.
"""

from __future__ import annotations

import json
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
DETERMINISTIC_ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "OPENBLAS_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}
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


def measure(workloads: list[str], timeout_s: float = 900.0) -> dict[str, float]:
    """Instructions per unit of each named workload (see ``instruction_workloads.WORKLOADS``),
    measured in one callgrind child; raises HarnessError when the child fails."""
    reason = unavailable()
    if reason:
        raise HarnessError(reason)
    with tempfile.TemporaryDirectory(prefix="optbench-callgrind-") as tmp:
        folder = Path(tmp)
        lib = _build_markers(folder)
        cmd = ["setarch", "-R", "valgrind", "-q", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={folder / 'callgrind.out'}", sys.executable, "-m",
               "optbench.harness.asv.instruction_workloads", str(lib), str(folder / "units.json"), *workloads]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONHASHSEED")}
        done = subprocess.run(cmd, env=dict(env, **DETERMINISTIC_ENV), capture_output=True, text=True,
                              timeout=timeout_s)
        if done.returncode != 0:
            raise HarnessError(f"instruction-count child failed (exit {done.returncode}): {done.stderr[-2000:]}")
        units = json.loads((folder / "units.json").read_text())
        counts = read_dumps(folder)
    return {name: per_unit(counts, name, units[name]) for name in workloads}


def per_unit(counts: dict[str, int], name: str, n: int) -> float:
    """``(I(2n) − I(n)) / n`` from the dumps labelled ``name n`` and ``name 2n``."""
    try:
        return (counts[f"{name} {2 * n}"] - counts[f"{name} {n}"]) / n
    except KeyError as missing:
        raise HarnessError(f"no callgrind dump {missing} for workload {name!r}") from None


# The suite's tracks: name -> the workload it reads; the instrument's own cost is its workload minus
# the bare evaluation of the same zero-cost objective.
UNIT_TRACKS = {"maxdiff_scalar": "maxdiff_scalar", "maxdiff_per_candidate": "maxdiff_batch",
               "store_record": "store_record"}
INSTRUMENT_WORKLOADS = ["instrumented_evaluation", "bare_evaluation"]


def measure_units() -> dict[str, float]:
    """Instructions of the instrument's own work per evaluation and of each :data:`UNIT_TRACKS` unit."""
    counts = measure([*INSTRUMENT_WORKLOADS, *dict.fromkeys(UNIT_TRACKS.values())])
    tracks = {name: counts[workload] for name, workload in UNIT_TRACKS.items()}
    tracks["instrument_per_eval"] = counts["instrumented_evaluation"] - counts["bare_evaluation"]
    return tracks


def measure_optimizers(names: list[str]) -> dict[str, float]:
    """Instructions per evaluation of a seeded run of each optimizer on the zero-cost objective
    (the optimizer's own work, plus the instrument and a ~8 000-instruction evaluation)."""
    from optbench.harness.asv.instruction_workloads import OPTIMIZER_PREFIX

    counts = measure([OPTIMIZER_PREFIX + name for name in names])
    return {name: counts[OPTIMIZER_PREFIX + name] for name in names}
