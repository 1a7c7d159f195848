"""Test-double optimizers for the matrix tests: one that hangs, one that segfaults, one that ends its
process with ``os._exit(3)``, one that raises ``KeyboardInterrupt``, one that is slow, and a slow one
that logs each execution (to count executions across processes).

Importing this module registers them; worker processes started by a subprocess get them through
``OPTBENCH_PLUGINS=tests.harness.matrix_doubles`` (see ``optbench.plugins``).
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np

from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers import register
from optbench.harness.optimizers.base import OptimizerAdapter

PLUGIN = __name__


class Hang(OptimizerAdapter):
    """Evaluates one point, then never returns."""

    name = "test.hang"

    def minimize(self, problem: Instrument, seed: int) -> None:
        problem.evaluate(problem.lower)
        while True:
            time.sleep(1)


class Crash(OptimizerAdapter):
    """Evaluates one point, then kills its own process with SIGSEGV, like a crashing C extension."""

    name = "test.crash"

    def minimize(self, problem: Instrument, seed: int) -> None:
        problem.evaluate(problem.lower)
        os.kill(os.getpid(), signal.SIGSEGV)


class Exit(OptimizerAdapter):
    """Evaluates one point, then ends its process with ``os._exit(3)`` (no Python unwinding)."""

    name = "test.exit"

    def minimize(self, problem: Instrument, seed: int) -> None:
        problem.evaluate(problem.lower)
        os._exit(3)


class Interrupt(OptimizerAdapter):
    """Evaluates one point, then raises ``KeyboardInterrupt`` (not a Ctrl-C: the code's own)."""

    name = "test.interrupt"

    def minimize(self, problem: Instrument, seed: int) -> None:
        problem.evaluate(problem.lower)
        raise KeyboardInterrupt


class Slow(OptimizerAdapter):
    """Seeded uniform random points, sleeping ``delay`` seconds after each evaluation."""

    name = "test.slow"
    defaults = {"delay": 0.1}

    def minimize(self, problem: Instrument, seed: int) -> None:
        rng = np.random.default_rng(seed)
        while True:
            problem.evaluate(rng.uniform(problem.lower, problem.upper))
            time.sleep(self.options["delay"])


class Counted(Slow):
    """``test.slow`` that first appends a line (``seed pid``) to the file named by ``OPTBENCH_TEST_LOG``:
    a count of how often each cell really ran, whichever process ran it."""

    name = "test.counted"

    def minimize(self, problem: Instrument, seed: int) -> None:
        with open(os.environ["OPTBENCH_TEST_LOG"], "a") as log:  # O_APPEND: one short line is atomic
            log.write(f"{seed} {os.getpid()}\n")
        super().minimize(problem, seed)


for _cls in (Hang, Crash, Exit, Interrupt, Slow, Counted):
    register(_cls.name, f"{__name__}:{_cls.__name__}")
