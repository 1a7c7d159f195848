"""CPU-side cost of one unit of work in instructions, counted under valgrind's callgrind
(``harness/asv/instructions.py``): the same on a loaded machine as on an idle one, so these are
the figures to gate a CI run on (``asv continuous --factor 1.02 -b instructions``).
Skipped, with the reason, where valgrind, setarch or a C compiler is missing."""

from optbench.harness.asv import support as s


class _OneCallgrindRun:
    """Shared by both classes: asv runs this ``setup_cache`` once for both (one callgrind process,
    one fresh child per workload)."""

    timeout = 900

    def setup_cache(self):
        return s.instruction_counts()

    setup_cache.timeout = 900


class Instructions(_OneCallgrindRun):
    """The instrument's own work per evaluation, one scalar MaxDiff ``ar200`` evaluation, one
    candidate of a MaxDiff batch, one record written to the store."""

    def setup(self, counts):
        s.instruction_count(counts, "instrument_per_eval")

    def track_instructions_instrument_per_eval(self, counts):
        return s.instruction_count(counts, "instrument_per_eval")

    def track_instructions_maxdiff_scalar(self, counts):
        return s.instruction_count(counts, "maxdiff_scalar")

    def track_instructions_maxdiff_per_candidate(self, counts):
        return s.instruction_count(counts, "maxdiff_per_candidate")

    def track_instructions_store_record(self, counts):
        return s.instruction_count(counts, "store_record")

    for _track in (track_instructions_instrument_per_eval, track_instructions_maxdiff_scalar,
                   track_instructions_maxdiff_per_candidate, track_instructions_store_record):
        _track.unit = "instructions"


class OptimizerInstructions(_OneCallgrindRun):
    """Each optimizer's cost per evaluation on a zero-cost objective: ``(I(2n) − I(n)) / n`` of
    seeded runs of ``n`` and ``2n`` evaluations, so start-up cancels."""

    params = [s.INSTRUCTION_OPTIMIZERS]
    param_names = ["optimizer"]

    def setup(self, counts, optimizer):
        s.require_optimizer(optimizer)
        s.instruction_count(counts, s.optimizer_track(optimizer))

    def track_instructions_optimizer_per_eval(self, counts, optimizer):
        return s.instruction_count(counts, s.optimizer_track(optimizer))

    track_instructions_optimizer_per_eval.unit = "instructions"
