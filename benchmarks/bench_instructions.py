"""CPU-side cost of one unit of work in instructions, counted under valgrind's callgrind
(``harness/asv/instructions.py``): the same on a loaded machine as on an idle one, so these are
the figures to gate a CI run on (``asv continuous --factor 1.02 -b instructions``).
Skipped, with the reason, where valgrind, setarch or a C compiler is missing."""

from optbench.harness.asv import instructions
from optbench.harness.asv import support as s


class Instructions:
    """The instrument's own work per evaluation, one scalar MaxDiff ``ar200`` evaluation, one
    candidate of a MaxDiff batch, one record written to the store (one callgrind child for all)."""

    timeout = 900

    def setup_cache(self):
        return s.instruction_counts(instructions.measure_units)

    setup_cache.timeout = 900

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


class OptimizerInstructions:
    """Each optimizer's cost per evaluation on a zero-cost objective: ``(I(2n) − I(n)) / n`` of
    seeded runs of ``n`` and ``2n`` evaluations, so start-up cancels."""

    params = [s.INSTRUCTION_OPTIMIZERS]
    param_names = ["optimizer"]
    timeout = 900

    def setup_cache(self):
        names = [name for name in s.INSTRUCTION_OPTIMIZERS if name in s.optimizers.names()]
        return s.instruction_counts(lambda: instructions.measure_optimizers(names))

    setup_cache.timeout = 900

    def setup(self, counts, optimizer):
        s.require_optimizer(optimizer)
        s.instruction_count(counts, optimizer)

    def track_instructions_optimizer_per_eval(self, counts, optimizer):
        return s.instruction_count(counts, optimizer)

    track_instructions_optimizer_per_eval.unit = "instructions"
