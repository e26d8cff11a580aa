/* What the roles measure beyond their counters, on request: per-message samples (--samples,
 * transport/trace.h) and hardware counters of the publishing thread (--counters, PAPI through
 * experiments/counters.h). */
#ifndef SB_CLI_MEASURE_H
#define SB_CLI_MEASURE_H

#include <jansson.h>

#include "cli/role_opts.h"
#include "transport/trace.h"

struct sb_counters;

/* The trace --samples asks for, sized for the fleet fc (NULL: the gateway alone), or NULL
 * without --samples. On failure prints why and sets *failed. */
sb_trace *cli_trace_new(const cli_role *r, const sb_fleet_config *fc, uint64_t warmup,
                        int *failed);

/* Write it to --samples; prints why on failure. Returns 0 or 1. */
int cli_trace_write(const cli_role *r, sb_trace *t);

/* Counting around the publish phase, on the calling thread. */
typedef struct cli_counting {
    struct sb_counters *c;
    uint64_t cycles, instructions, ns;
    uint64_t t0;
} cli_counting;

void cli_counting_start(cli_counting *k, int wanted);
void cli_counting_stop(cli_counting *k);
/* {"available": bool, "why": ..., "events": ..., "scope": ..., "cycles": n, "instructions": n}
 * or NULL when not wanted. Closes the counters. */
json_t *cli_counting_json(cli_counting *k);


/* This process's CPU time (user, system; and the calling thread's) and peak RSS, from
 * getrusage: {"cpu_user_s", "cpu_sys_s", "main_thread_cpu_s", "peak_rss_kb"}. */
json_t *cli_process_json(void);

/* CPU seconds (user and system) another process of ours has used so far, from
 * /proc/PID/stat: {"cpu_user_s", "cpu_sys_s"}, or NULL when it cannot be read. */
json_t *cli_pid_cpu_json(long pid);

#endif
