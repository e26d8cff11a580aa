/* A C interface to Google Benchmark (experiments/gbench.cc), for the microbenchmarks.
 *
 * Google Benchmark decides how many operations a repetition needs (at least min_time_s of
 * real time), repeats, and times with its own clock; this wrapper hands it C callbacks and
 * gives back every repetition's figures, not GB's aggregates, so that the statistics are
 * computed in one place (common/stats.h) like everywhere else in the suite. GB's console
 * output and command-line flags are kept out: nothing is printed, and no flag of the user's
 * command line reaches GB's parser.
 *
 * Counting: when counters are given and available, PAPI cycles and instructions are read
 * around the timed loop of each call of the benchmark and travel with GB's own report of that
 * call (as user counters), so a repetition's counts belong to exactly the iterations it timed.
 * Everything runs on the calling thread (one GB thread), the one the counters belong to.
 *
 * No C++ exception crosses into C: sb_gb_run catches them and returns an error. */
#ifndef SB_EXPERIMENTS_GBENCH_H
#define SB_EXPERIMENTS_GBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Inside the linkage block: counters.h is a C header without guards of its own. */
#include "common/counters.h"

#define SB_GB_NAME_MAX 160
#define SB_GB_ERROR_MAX 256

typedef struct sb_gb_case {
    char name[SB_GB_NAME_MAX]; /* for humans; need not be unique */
    void *ctx;
    /* Run n operations back to back: the timed region. 0 on success; otherwise write why to
     * err and return non-zero, which fails the case. */
    int (*batch)(void *ctx, uint64_t n, char *err, size_t err_cap);
    /* Optional, outside the timed region, before every timed loop: fresh inputs. Same
     * return convention. GB may call the loop more than once per repetition while it finds
     * the iteration count, so this runs at least once per repetition. */
    int (*prepare)(void *ctx, char *err, size_t err_cap);
    /* Operations per call of batch (0 means 1): large enough that the indirect call and GB's
     * loop test vanish next to the work, small enough that GB's overshoot (up to one batch)
     * stays small. */
    uint64_t batch_ops;
} sb_gb_case;

/* One repetition as GB reported it. */
typedef struct sb_gb_rep {
    uint64_t iterations;        /* operations timed */
    double real_ns_per_op;      /* GB real time (see sb_gb_timer) / iterations */
    double cpu_ns_per_op;       /* this thread's CPU time (CLOCK_THREAD_CPUTIME_ID) / iterations */
    double cycles_per_op;       /* NAN when not counted */
    double instructions_per_op; /* NAN when not counted */
} sb_gb_rep;

typedef struct sb_gb_result {
    sb_gb_rep *reps;    /* n_reps entries in repetition order (malloc'd) */
    unsigned n_reps;    /* repetitions without error */
    int counted;        /* 1 when every repetition in reps has counter figures */
    int failed;         /* some repetition reported an error */
    char error[SB_GB_ERROR_MAX]; /* the first error */
} sb_gb_result;

typedef struct sb_gb_options {
    unsigned repetitions; /* >= 1 */
    double min_time_s;    /* > 0: real time each repetition runs at least */
    sb_counters *counters; /* NULL: no counting */
    /* Optional: called as each case's results are complete, in case order. */
    void (*done)(size_t index, const sb_gb_result *r, void *arg);
    void *arg;
} sb_gb_options;

/* Run every case; out has n entries (zeroed here; free with sb_gb_result_free). Returns 0, or
 * -1 with err filled when the harness itself failed (out of memory, an exception inside GB);
 * a case whose callbacks fail is not a harness failure: see out[i].failed. */
int sb_gb_run(const sb_gb_case *cases, size_t n, const sb_gb_options *opt, sb_gb_result *out,
              char *err, size_t err_cap);

void sb_gb_result_free(sb_gb_result *r);

/* The clock behind real_ns_per_op, as one line: GB times with std::chrono's
 * high_resolution_clock when that is steady, else steady_clock (CLOCK_MONOTONIC on Linux). */
const char *sb_gb_timer(void);

/* The Google Benchmark library loaded ("1.7.1", from its file name), or "unknown". */
const char *sb_gb_version(void);

#ifdef __cplusplus
}
#endif

#endif
