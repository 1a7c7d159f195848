"""Objective evaluation speed: one scalar evaluation (the tensor math and its ``.item()``, as the
instrument calls it) and one 1024-candidate ``batch``.

Timed in CPU time of the benchmark process (torch on one thread): the figure a code change moves,
and one that other work on a shared 2-core machine barely disturbs (wall time there varies 3×).
"""

import time

from optbench import objectives
from optbench.harness.asv import support as s
from optbench.harness.core.budget import Budget
from optbench.harness.core.instrument import Instrument
from optbench.harness.perf import objective_speed
from optbench.objectives import maxdiff_compiled


class ScalarEvaluation:
    params = [s.SCALAR_OBJECTIVES]
    param_names = ["objective"]
    timer = time.process_time

    def setup(self, objective):
        s.limit_threads()
        self.objective = s.make_objective(objective)
        self.x = s.centre_point(self.objective)
        s.evaluate_scalar(self.objective, self.x)  # first-call costs stay out of `--quick` figures

    def time_scalar(self, objective):
        s.evaluate_scalar(self.objective, self.x)


class InstrumentEvaluation:
    """The instrument's per-evaluation core (``evaluate_encoded``) on sphere dim 2, CPU time: the
    time twin of ``track_instructions_instrument_per_eval`` (objective included here)."""

    timer = time.process_time

    def setup(self):
        s.limit_threads()
        objective = objectives.get("sphere", dim=2)
        self.instrument, self.x = Instrument(objective, Budget(max_evals=10**12)), s.centre_point(objective)
        self.instrument.evaluate_encoded(self.x)

    def time_evaluate_encoded(self):
        self.instrument.evaluate_encoded(self.x)


class BatchEvaluation:
    params = [s.BATCH_OBJECTIVES]
    param_names = ["objective"]
    timer = time.process_time

    def setup(self, objective):
        s.limit_threads()
        self.objective = s.make_objective(objective)
        self.xs = s.candidates(self.objective)
        self.objective.batch(self.xs)

    def time_batch_1024(self, objective):
        self.objective.batch(self.xs)


class MaxDiffKernels:
    """MaxDiff ``ar200`` at n = 200 days, float64 (with ``OPTBENCH_ASV_SLOW=1`` also 10 000 days and
    float32): one scalar evaluation, and a 1024-candidate batch eager and fused by ``torch.compile``
    (compiled in ``setup``; its time is tracked by :class:`MaxDiffCompile`); the figures of
    ``optbench perf objective_speed``."""

    params = [s.KERNEL_SIZES, s.KERNEL_DTYPES, ["eager", "compiled"]]
    param_names = ["n", "dtype", "batch"]
    timer = time.process_time
    timeout = 240  # a cold inductor compile takes tens of seconds on a shared 2-core machine

    def setup(self, n, dtype, batch):
        s.limit_threads()
        self.objective = objectives.get("maxdiff", n=n, dtype=dtype)
        self.x = s.centre_point(self.objective)
        self.xs = s.candidates(self.objective)
        maxdiff_compiled.set_enabled(batch == "compiled")
        self.objective.batch(self.xs)  # compiles here, outside the timed call
        if batch == "compiled" and maxdiff_compiled.failure:
            raise s.Skip(f"torch.compile is unavailable: {maxdiff_compiled.failure}")
        s.evaluate_scalar(self.objective, self.x)

    def time_batch_1024(self, n, dtype, batch):
        self.objective.batch(self.xs)

    def time_scalar(self, n, dtype, batch):
        s.evaluate_scalar(self.objective, self.x)

    def track_batch_over_scalar(self, n, dtype, batch):
        """One 1024-candidate batch ÷ one scalar evaluation (target ≤ 20 at n = 200, float64)."""
        m = objective_speed.measure(n, dtype, compiled=batch == "compiled")
        return m[f"{batch}_over_scalar"]

    track_batch_over_scalar.unit = "ratio"


class MaxDiffCompile:
    """Seconds of the first compiled MaxDiff batch in a fresh process (dynamo tracing, inductor's
    C++ build — faster with its on-disk cache warm — and one run), per dtype."""

    params = [s.KERNEL_DTYPES]
    param_names = ["dtype"]
    timeout = 240

    def setup(self, dtype):
        s.limit_threads()
        maxdiff_compiled.set_enabled(True)

    def track_compile_s(self, dtype):
        objective = objectives.get("maxdiff", dtype=dtype)
        objective.batch(s.candidates(objective))
        if maxdiff_compiled.failure:
            raise RuntimeError(f"torch.compile failed: {maxdiff_compiled.failure}")  # a failed figure, not a number
        return maxdiff_compiled.first_call_s[maxdiff_compiled.compile_key(objective.tensors, objective.close_at_eod)]

    track_compile_s.unit = "seconds"
