"""Does the CI gate catch a real regression and stay quiet on none? In temporary clones of HEAD
(``harness/asv/regression.py``): an empty commit (a) and a commit adding a small loop to
``Instrument.evaluate_encoded`` (b), compared with their parents by ``asv continuous --factor 1.02``,
under the instruction tracks and, at the same time in a second clone, under a few wall-clock
``time_`` benchmarks.

Prints the gate's exit codes on (a) and (b) and the size of the injected regression as counted;
how often each kind of track flags the empty commit in ``REPEATS`` repeats (false alarms); and the
largest relative difference per instruction track between every count of the unchanged code (the
base, the empty commit at each repeat and again in (b)). Takes tens of minutes under valgrind.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console

from optbench.harness.asv import instructions
from optbench.harness.asv import regression as r
from optbench.harness.core.errors import HarnessError

REPEATS = 5
# A few wall-clock benchmarks: the instrument's time twin and two scalar evaluations, CPU time.
TIME_BENCH = r"^bench_objectives\.(InstrumentEvaluation\.time_|ScalarEvaluation\.time_scalar\('(maxdiff-ar200|rastrigin-2d)'\))"


def _flag_rate(verdicts: list[r.Verdict]) -> str:
    flagged = sorted({name for v in verdicts for name in v.flagged})
    return (f"{sum(v.exit_code == 1 for v in verdicts)}/{len(verdicts)}"
            + (f" (flagged: {', '.join(flagged)})" if flagged else ""))


def main() -> None:
    reason = instructions.unavailable()
    if reason:
        raise HarnessError(reason)
    console = Console(highlight=False)
    with tempfile.TemporaryDirectory(prefix="optbench-regression-") as tmp:
        clones = [r.make_clone(Path(tmp) / lane) for lane in ("instructions", "time")]
        console.print(f"clones of {clones[0].base[:8]}: (a) an empty commit, (b) on it, "
                      f"{r.INJECTED_LOOP.split('#')[0].strip()} in Instrument.evaluate_encoded")

        def lane(clone: r.Clone, bench: str) -> tuple[list[r.Verdict], r.Verdict]:
            """(a) by ``asv continuous``, REPEATS − 1 more counts of (a) (``asv continuous`` for time
            tracks; for the deterministic instruction tracks a re-run of the empty commit compared
            with the base's figures, the same table at half the cost), then (b) by ``asv continuous``."""
            again = r.rerun if bench == r.INSTRUCTION_BENCH else r.continuous
            quiet = [r.continuous(clone, clone.base, clone.empty, bench)]
            quiet += [again(clone, clone.base, clone.empty, bench) for _ in range(REPEATS - 1)]
            loud = r.continuous(clone, clone.empty, clone.loop, bench)
            console.print(f"  -b {bench}: (a) exits {[v.exit_code for v in quiet]}, (b) exit {loud.exit_code}")
            return quiet, loud

        with ThreadPoolExecutor(2) as pool:  # the time lane runs while the instruction lane loads the machine
            counted, timed_lane = pool.submit(lane, clones[0], r.INSTRUCTION_BENCH), pool.submit(lane, clones[1], TIME_BENCH)
            (quiet, loud), (timed, timed_loop) = counted.result(), timed_lane.result()

    track, instrument_time = r.INSTRUMENT_TRACK, "bench_objectives.InstrumentEvaluation.time_evaluate_encoded"
    console.print(f"asv continuous --factor {r.FACTOR} -b {r.INSTRUCTION_BENCH}: (a) empty commit exit "
                  f"{quiet[0].exit_code}, (b) small loop exit {loud.exit_code} (target 0 and 1)")
    console.print(f"injected loop, as counted: {track.rsplit('.', 1)[1]} {loud.before[track]:.0f} → "
                  f"{loud.after[track]:.0f} instructions (+{loud.after[track] - loud.before[track]:.0f}, "
                  f"×{loud.ratio(track):.3f}); flagged on (b):")
    for name in loud.flagged:
        console.print(f"  {name}: ×{loud.ratio(name):.3f}")
    console.print(f"false alarms on the empty commit in {REPEATS} repeats: instruction tracks {_flag_rate(quiet)}; "
                  f"time tracks (-b {TIME_BENCH}) {_flag_rate(timed)}")
    console.print(f"time tracks on (b): exit {timed_loop.exit_code}, {instrument_time.rsplit('.', 1)[1]} "
                  f"×{timed_loop.ratio(instrument_time):.3f}")
    same_code = [quiet[0].before, *(v.after for v in quiet), loud.before]
    console.print(f"determinism: largest relative difference per instruction track over {len(same_code)} "
                  "counts of the same code (target ≤ 0.5 %):")
    for name, diff in r.spread([{k: v for k, v in m.items() if ".track_instructions_" in k}
                                for m in same_code]).items():
        console.print(f"  {name}: {100 * diff:.3f} %")


if __name__ == "__main__":
    main()
