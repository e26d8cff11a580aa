/* Order statistics of a sample, the same way everywhere in the suite: quantiles by linear
 * interpolation between order statistics (Hyndman & Fan type 7, as numpy's default and R's),
 * sample standard deviation, coefficient of variation. The analysis recomputes these from
 * samples/ and must find the same numbers. */
#ifndef SB_EXPERIMENTS_STATS_H
#define SB_EXPERIMENTS_STATS_H

#include <stddef.h>

typedef struct sb_stats {
    size_t n;
    double min, max, mean, sd, cv_pct;
    double p25, p50, p75, p95, p99;
} sb_stats;

/* Sorts v in place and fills *out; n == 0 gives n 0 and NaN everywhere else. */
void sb_stats_of(double *v, size_t n, sb_stats *out);

/* The q-quantile (0..1) of sorted v. */
double sb_quantile(const double *v, size_t n, double q);

#endif
