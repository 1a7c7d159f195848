"""advise's measuring and calibrating run the user's code in sandboxed children with a deadline: an
objective that ends its process, hangs or raises ``KeyboardInterrupt`` is one ``error:`` line through
the real ``optbench advise`` (exit 2, no traceback), and an optimizer whose calibration does the same
is left out of the plan with the reason while the others are calibrated."""

from __future__ import annotations

import pytest

from optbench.harness.decision import sandboxed

from . import matrix_doubles
from .test_cli_usage import run_script

HOSTILE = '''
import os, time
import optbench


def ends_with_exit_3(x0):
    os._exit(3)


def sleeps_forever(x0):
    while True:
        time.sleep(1)


def raises_interrupt(x0):
    raise KeyboardInterrupt


for fn in (ends_with_exit_3, sleeps_forever, raises_interrupt):
    optbench.register_objective("t." + fn.__name__, optbench.objective(fn, bounds={"x0": (-1.0, 1.0)}))
'''


@pytest.mark.parametrize("objective, words", [
    ("t.ends_with_exit_3", "its process died (exit code 3)"),
    ("t.sleeps_forever", "no result after 1.5 s; its process was killed"),  # --minutes 0.1: a quarter is 1.5 s
    ("t.raises_interrupt", "KeyboardInterrupt raised"),
])
def test_an_objective_that_ends_hangs_or_interrupts_its_process_is_one_error_line(tmp_path, objective, words):
    (tmp_path / "hostile.py").write_text(HOSTILE)
    done = run_script(["--plugin", "hostile.py", "advise", "--objective", objective, "--minutes", "0.1",
                       "--out", "out", "--quiet"], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: measuring one evaluation of the objective failed: {words}"], done.stderr
    assert "Traceback" not in done.stderr and "interrupted" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("parallel", [1, 3])  # one child at a time, or three (as many as the workers)
def test_an_optimizer_whose_calibration_crashes_hangs_or_interrupts_is_left_out_with_why(parallel):
    names = ["random", matrix_doubles.Exit.name, matrix_doubles.Crash.name, matrix_doubles.Hang.name,
             matrix_doubles.Interrupt.name]
    calibrations, failed = sandboxed.calibrate("sphere", {"dim": 2}, names, deadline_s=1.0, parallel=parallel)
    assert list(calibrations) == ["random"] and calibrations["random"].linear_s > 0
    assert failed == {
        "test.exit": "failed its calibration run: its process died (exit code 3)",
        "test.crash": "failed its calibration run: its process died (killed by SIGSEGV)",
        "test.hang": "failed its calibration run: no result after 1 s; its process was killed",
        "test.interrupt": "failed its calibration run: KeyboardInterrupt raised",
    }
    assert list(failed) == names[1:]  # in the order asked, whichever child finished first
