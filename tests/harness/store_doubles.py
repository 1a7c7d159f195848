"""Test-double optimizers for the store-fault tests: ``test.logged`` logs each execution (``seed pid``
appended to ``$OPTBENCH_TEST_LOG``: how often each cell really ran) and evaluates seeded random
points; ``test.handoff`` does the same, and at the seed ``$OPTBENCH_TEST_HANDOFF_SEED`` first hands
over to a process holding the store: it writes a line to the FIFO ``$OPTBENCH_TEST_HANDOFF.go`` and
waits until that process answers on ``$OPTBENCH_TEST_HANDOFF.locked`` that it holds the store's
write lock — so the cell finishes, and its record must be written, while the store is locked.

Importing this module registers them (``OPTBENCH_PLUGINS=tests.harness.store_doubles``).
"""

from __future__ import annotations

import os

import numpy as np

from optbench.harness.core.instrument import Instrument
from optbench.harness.optimizers import register
from optbench.harness.optimizers.base import OptimizerAdapter

PLUGIN = __name__


class Logged(OptimizerAdapter):
    """Logs the execution, then evaluates seeded uniform random points until the budget ends."""

    name = "test.logged"

    def minimize(self, problem: Instrument, seed: int) -> None:
        with open(os.environ["OPTBENCH_TEST_LOG"], "a") as log:  # O_APPEND: one short line is atomic
            log.write(f"{seed} {os.getpid()}\n")
        rng = np.random.default_rng(seed)
        while True:
            problem.evaluate(rng.uniform(problem.lower, problem.upper))


class Handoff(Logged):
    """``test.logged`` that, at one seed, waits until another process holds the store's write lock."""

    name = "test.handoff"

    def minimize(self, problem: Instrument, seed: int) -> None:
        fifo = os.environ.get("OPTBENCH_TEST_HANDOFF")
        if fifo and seed == int(os.environ["OPTBENCH_TEST_HANDOFF_SEED"]) and not os.path.exists(f"{fifo}.done"):
            open(f"{fifo}.done", "w").close()  # once: not again in the cell's warm repeat
            with open(f"{fifo}.go", "w") as go:
                go.write("go\n")
            with open(f"{fifo}.locked") as locked:
                locked.read()
        super().minimize(problem, seed)


for _cls in (Logged, Handoff):
    register(_cls.name, f"{__name__}:{_cls.__name__}")
