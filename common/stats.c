/* Order statistics (common/stats.h). */
#include "common/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sb_err sb_samples_add(sb_samples *s, double x)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 256;
        double *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return SB_ERR_NOMEM;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = x;
    return SB_OK;
}

sb_err sb_samples_merge(sb_samples *to, const sb_samples *from)
{
    for (size_t i = 0; i < from->n; i++)
        if (sb_samples_add(to, from->v[i]) != SB_OK)
            return SB_ERR_NOMEM;
    return SB_OK;
}

void sb_samples_free(sb_samples *s)
{
    free(s->v);
    *s = (sb_samples){0};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sb_quantile(const double *v, size_t n, double q)
{
    if (!n)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    return i + 1 < n ? v[i] + (pos - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

void sb_stats_of(double *v, size_t n, sb_stats *out)
{
    *out = (sb_stats){.n = n};
    if (!n) {
        out->min = out->max = out->mean = out->sd = out->cv_pct = NAN;
        out->p25 = out->p50 = out->p75 = out->p90 = out->p95 = out->p99 = out->p999 = NAN;
        return;
    }
    qsort(v, n, sizeof *v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    out->mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - out->mean) * (v[i] - out->mean);
    out->sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
    out->cv_pct = out->mean != 0 ? 100 * out->sd / out->mean : NAN;
    out->min = v[0];
    out->max = v[n - 1];
    out->p25 = sb_quantile(v, n, 0.25);
    out->p50 = sb_quantile(v, n, 0.50);
    out->p75 = sb_quantile(v, n, 0.75);
    out->p90 = sb_quantile(v, n, 0.90);
    out->p95 = sb_quantile(v, n, 0.95);
    out->p99 = sb_quantile(v, n, 0.99);
    out->p999 = sb_quantile(v, n, 0.999);
}

sb_err sb_samples_stats(const sb_samples *s, sb_stats *out)
{
    double *v = s->n ? malloc(s->n * sizeof *v) : NULL;
    if (s->n && !v) {
        sb_stats_of(NULL, 0, out);
        out->n = s->n;
        return SB_ERR_NOMEM;
    }
    if (v)
        memcpy(v, s->v, s->n * sizeof *v);
    sb_stats_of(v, s->n, out);
    free(v);
    return SB_OK;
}
