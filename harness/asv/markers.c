/* Start/stop markers for instruction counts under callgrind (see harness/asv/instructions.py):
   the process runs with instrumentation off; a measured region turns it on, zeroes the counters,
   and ends with a labelled dump. Outside valgrind these client requests are a few no-op instructions. */
#include <valgrind/callgrind.h>

void optbench_region_start(void) {
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
}

void optbench_region_stop(const char *label) {
    CALLGRIND_DUMP_STATS_AT(label);
    CALLGRIND_STOP_INSTRUMENTATION;
}
