"""Optimizer speed and quality: one seeded optimization per (objective, optimizer) under the same
evaluation budget. ``time_``/``peakmem_`` run it; the ``track_`` figures come from one cached run
per cell (``setup_cache``). Optimizers this checkout does not register are skipped."""

from optbench.harness.asv import support as s


class _OneRunPerCell:
    """Shared by the quality classes: asv runs this ``setup_cache`` once for both."""

    def setup_cache(self):
        return s.run_matrix(s.OPTIMIZE_OBJECTIVES, s.OPTIMIZERS)

    setup_cache.timeout = 1800  # every cell, one after another (OPTBENCH_ASV_SLOW=1 adds botorch)


class Optimize:
    params = [s.TIMED_OBJECTIVES, s.OPTIMIZERS]
    param_names = ["objective", "optimizer"]
    number = 1  # one call is one whole optimization
    repeat = (1, 5, 30.0)
    timeout = 300

    def setup(self, objective, optimizer):
        s.require_optimizer(optimizer)
        s.limit_threads()
        self.cell = s.cell(objective, optimizer)
        s.warm_up(self.cell)

    def time_optimize(self, objective, optimizer):
        s.optimize(self.cell)

    def peakmem_optimize(self, objective, optimizer):
        s.optimize(self.cell)


class OptimizeQuality(_OneRunPerCell):
    params = [s.OPTIMIZE_OBJECTIVES, s.OPTIMIZERS]
    param_names = ["objective", "optimizer"]
    def setup(self, results, objective, optimizer):
        s.require_optimizer(optimizer)

    def track_regret(self, results, objective, optimizer):
        return s.tracked(results, objective, optimizer, "regret")

    track_regret.unit = "value - reference"

    def track_n_evals(self, results, objective, optimizer):
        return s.tracked(results, objective, optimizer, "n_evals")

    track_n_evals.unit = "evaluations"

    def track_overhead_per_eval(self, results, objective, optimizer):
        return s.tracked(results, objective, optimizer, "overhead_us_per_eval")

    track_overhead_per_eval.unit = "us/evaluation"

    def track_item_share(self, results, objective, optimizer):
        return s.tracked(results, objective, optimizer, "item_pct")

    track_item_share.unit = "% of wall time"


class MaxDiffQuality(_OneRunPerCell):
    """1 − profit found / the reference (exact) optimum's profit, on the origin MaxDiff case (ar200): lower is
    better, as asv compares (the ratio itself would read an improvement as a regression)."""

    params = [["maxdiff-ar200", "maxdiff-ar200-eod"], s.OPTIMIZERS]
    param_names = ["objective", "optimizer"]
    def setup(self, results, objective, optimizer):
        s.require_optimizer(optimizer)

    def track_profit_shortfall(self, results, objective, optimizer):
        return s.tracked(results, objective, optimizer, "shortfall")

    track_profit_shortfall.unit = "1 - profit / reference profit"
