"""Objective evaluation speed: one scalar evaluation (the tensor math and its ``.item()``, as the
instrument calls it) and one 1024-candidate ``batch``.

Timed in CPU time of the benchmark process (torch on one thread): the figure a code change moves,
and one that other work on a shared 2-core machine barely disturbs (wall time there varies 3×).
"""

import time

from optbench.harness.asv import support as s


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
