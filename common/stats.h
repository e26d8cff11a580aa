/* Samples and their order statistics, the one definition of each in the suite (C and Python):
 * quantiles by linear interpolation between order statistics (Hyndman & Fan type 7, numpy's
 * default and R's), sample standard deviation, coefficient of variation. The analysis
 * recomputes these from samples/ and must find the same numbers; results/README.md says so. */
#ifndef SB_COMMON_STATS_H
#define SB_COMMON_STATS_H

#include <stddef.h>

#include "common/err.h"

/* A growable sample. A value that cannot be stored is never dropped quietly: sb_samples_add
 * says SB_ERR_NOMEM, and the caller fails the measurement. */
typedef struct sb_samples {
    double *v;
    size_t n, cap;
} sb_samples;

sb_err sb_samples_add(sb_samples *s, double x);
/* Appends every value of from. */
sb_err sb_samples_merge(sb_samples *to, const sb_samples *from);
void sb_samples_free(sb_samples *s);

typedef struct sb_stats {
    size_t n;
    double min, max, mean, sd, cv_pct;
    double p25, p50, p75, p90, p95, p99, p999;
} sb_stats;

/* Sorts v in place and fills *out; n == 0 gives n 0 and NaN everywhere else. */
void sb_stats_of(double *v, size_t n, sb_stats *out);

/* The same of a sample that must stay as it is (a report's): sorts a copy. SB_ERR_NOMEM, with
 * NaN everywhere but n, when the copy cannot be made. */
sb_err sb_samples_stats(const sb_samples *s, sb_stats *out);

/* The q-quantile (0..1) of sorted v. */
double sb_quantile(const double *v, size_t n, double q);

#endif
