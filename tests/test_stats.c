/* common/stats: the one quantile definition (type 7) against values worked out by hand from
 * Hyndman & Fan's formula (R's quantile(type = 7), numpy's default), not by another program;
 * the summary statistics; and the sample container, which must say when it cannot grow
 * instead of dropping a value (checked in a child whose address space is capped). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/stats.h"
#include "tests/check.h"

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

static void check_quantiles(void)
{
    /* h = (n - 1) q + 1 (1-based); Q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]). */
    const double four[] = {1, 2, 3, 4};
    static const struct { double q, want; } k4[] = {
        {0, 1}, {0.25, 1.75}, {0.5, 2.5}, {0.75, 3.25}, {0.9, 3.7}, {1, 4}};
    for (size_t i = 0; i < sizeof k4 / sizeof *k4; i++)
        CHECK(near(sb_quantile(four, 4, k4[i].q), k4[i].want), "{1,2,3,4} q=%g: %g, want %g",
              k4[i].q, sb_quantile(four, 4, k4[i].q), k4[i].want);

    /* 1..100: p99 is 99.01 (nearest rank would say 99 or 100), p50 50.5, p999 99.901. */
    double hundred[100];
    for (int i = 0; i < 100; i++)
        hundred[i] = i + 1;
    CHECK(near(sb_quantile(hundred, 100, 0.99), 99.01), "1..100 p99: %g", sb_quantile(hundred, 100, 0.99));
    CHECK(near(sb_quantile(hundred, 100, 0.5), 50.5), "1..100 p50: %g", sb_quantile(hundred, 100, 0.5));
    CHECK(near(sb_quantile(hundred, 100, 0.999), 99.901), "1..100 p999: %g",
          sb_quantile(hundred, 100, 0.999));

    const double one[] = {7};
    CHECK(sb_quantile(one, 1, 0) == 7 && sb_quantile(one, 1, 0.5) == 7 && sb_quantile(one, 1, 1) == 7,
          "a single value is every quantile");
    CHECK(isnan(sb_quantile(one, 0, 0.5)), "no values: NaN");
}

static void check_summary(void)
{
    double v[] = {4, 1, 3, 2, 10}; /* unsorted on purpose: sb_stats_of sorts */
    sb_stats st;
    sb_stats_of(v, 5, &st);
    CHECK(st.n == 5 && st.min == 1 && st.max == 10, "n/min/max: %zu %g %g", st.n, st.min, st.max);
    CHECK(v[0] == 1 && v[4] == 10, "sorted in place");
    CHECK(near(st.mean, 4), "mean %g", st.mean);
    /* sum of squares about 4: 9+4+1+0+36 = 50; sample sd = sqrt(50/4). */
    CHECK(near(st.sd, sqrt(12.5)), "sample sd %g", st.sd);
    CHECK(near(st.cv_pct, 100 * sqrt(12.5) / 4), "cv %g", st.cv_pct);
    CHECK(near(st.p50, 3) && near(st.p25, 2) && near(st.p75, 4) && near(st.p95, 8.8) &&
              near(st.p99, 9.76),
          "quartiles and tails %g %g %g %g %g", st.p25, st.p50, st.p75, st.p95, st.p99);
    sb_stats_of(v, 0, &st);
    CHECK(st.n == 0 && isnan(st.mean) && isnan(st.p50) && isnan(st.sd), "empty: NaN");

    /* A sample kept as it is (a report's): the same figures, its order untouched. Sorted
     * {1,2,3,4,10}: p90 at h = 4.6 is 4 + 0.6 x 6 = 7.6; p999 at h = 4.996 is 9.976. */
    sb_samples keep = {0};
    static const double in[] = {4, 1, 3, 2, 10};
    for (int i = 0; i < 5; i++)
        sb_samples_add(&keep, in[i]);
    CHECK(sb_samples_stats(&keep, &st) == SB_OK && near(st.p50, 3) && near(st.p90, 7.6) &&
              near(st.p999, 9.976) && st.max == 10,
          "stats of a kept sample: p50 %g p90 %g p999 %g", st.p50, st.p90, st.p999);
    CHECK(memcmp(keep.v, in, sizeof in) == 0, "the kept sample is not reordered");
    sb_samples_free(&keep);
    CHECK(sb_samples_stats(&keep, &st) == SB_OK && st.n == 0 && isnan(st.p90), "empty: NaN");
}

static void check_samples(void)
{
    sb_samples a = {0}, b = {0};
    int ok = 1;
    for (int i = 0; i < 100000; i++)
        ok &= sb_samples_add(&a, i) == SB_OK;
    CHECK(ok && a.n == 100000 && a.v[0] == 0 && a.v[99999] == 99999, "100000 values kept in order");
    for (int i = 0; i < 3; i++)
        sb_samples_add(&b, -i);
    CHECK(sb_samples_merge(&b, &a) == SB_OK && b.n == 100003 && b.v[2] == -2 && b.v[3] == 0 &&
              b.v[100002] == 99999,
          "merge appends");
    sb_samples_free(&a);
    sb_samples_free(&b);
    CHECK(a.v == NULL && a.n == 0 && a.cap == 0, "free leaves an empty container");
}

/* In a child with its address space capped: add until the container cannot grow. It must say
 * SB_ERR_NOMEM, keep what it held, and keep taking values once memory is back (freed). */
static void check_out_of_memory(void)
{
#if defined(__SANITIZE_ADDRESS__)
    SKIP("the out-of-memory check: AddressSanitizer reserves more address space than the cap");
#else
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {.rlim_cur = 256u << 20, .rlim_max = 256u << 20};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(10);
        sb_samples s = {0};
        sb_err rc = SB_OK;
        uint64_t added = 0;
        /* 2^26 doubles (512 MiB) pass the 256 MiB cap; qemu-user ignores RLIMIT_AS (it would
         * bind the emulator's own memory), and the bound keeps it from taking the machine's. */
        while (added < (1ull << 26) && (rc = sb_samples_add(&s, (double)added)) == SB_OK)
            added++;
        if (rc != SB_ERR_NOMEM)
            _exit(13); /* the cap did not bite */
        if (s.n != added || s.v[added - 1] != (double)(added - 1) || s.v[0] != 0)
            _exit(12); /* a value was lost or changed */
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 13) {
        SKIP("the out-of-memory check: the address-space cap was not enforced (qemu-user "
             "ignores RLIMIT_AS)");
        return;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "capped child: exit %d (10 setrlimit failed, 12 values lost)",
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
#endif
}

int main(void)
{
    check_quantiles();
    check_summary();
    check_samples();
    check_out_of_memory();
    return check_done("stats");
}
