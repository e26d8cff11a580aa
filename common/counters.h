/* Hardware counters (cycles and instructions retired) through PAPI, for the calling thread.
 *
 * Never made up: where the machine has no counters (a VM without a virtual PMU, a kernel with
 * perf_event_paranoid too high, PAPI finding no component), sb_counters_open still succeeds,
 * sb_counters_available() is 0 and sb_counters_why() says why in one line, and callers leave
 * the counter columns empty. Nothing here falls back to a clock. */
#ifndef SB_COMMON_COUNTERS_H
#define SB_COMMON_COUNTERS_H

#include <stdint.h>

typedef struct sb_counters sb_counters;

/* Counters for the calling thread (PAPI counts per thread). Returns NULL only when out of
 * memory. Call from the thread that will be measured; one set per thread. */
sb_counters *sb_counters_open(void);

/* 1 if start/stop count real events. */
int sb_counters_available(const sb_counters *c);

/* Why not, when not available ("PAPI 7.0.0.0: event PAPI_TOT_CYC not available on this
 * machine (no hardware counters; a VM?)"). Empty string when available. */
const char *sb_counters_why(const sb_counters *c);

/* Start counting. A no-op when not available. */
void sb_counters_start(sb_counters *c);

/* Stop counting and add the events since start to *cycles and *instructions (left unchanged
 * when not available). A PAPI failure here leaves them unchanged too and turns the counters
 * off for good, with the reason in sb_counters_why: check sb_counters_available after stop
 * before trusting the sums. */
void sb_counters_stop(sb_counters *c, uint64_t *cycles, uint64_t *instructions);

/* The names of the two events as the counters are set up ("PAPI_TOT_CYC", "PAPI_TOT_INS"). */
const char *sb_counters_events(void);

/* The PAPI library version loaded ("7.0.0.0"), or "unavailable". */
const char *sb_counters_version(void);

/* Stop if running and release. NULL is a no-op. */
void sb_counters_close(sb_counters *c);

#endif
