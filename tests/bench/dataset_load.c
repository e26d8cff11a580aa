/* How fast does the dataset loader read, and in how much memory? Reads FILE through
 * sb_dataset_next (with its description beside it, if any) REPS times and prints, per pass,
 * MB/s and rows/s, then the median pass and the process's peak RSS (VmHWM). Clock:
 * CLOCK_MONOTONIC. tests/bench/datasets.sh runs it on a 100 MB generated file.
 *
 * usage: dataset_load FILE [REPS]   (default 5) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "datasets/dataset.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dataset_load FILE [REPS]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (reps < 1 || reps > 101)
        reps = 5;
    char err[512], beside[4096];
    sb_dataset_desc d;
    sb_dataset_desc_init(&d);
    sb_dataset_desc_beside(argv[1], beside, sizeof beside);
    if (beside[0] && sb_dataset_desc_load(&d, beside, err, sizeof err) != SB_OK) {
        fprintf(stderr, "dataset_load: %s\n", err);
        return 1;
    }
    sb_dataset *ds;
    if (sb_dataset_open(&ds, argv[1], &d, err, sizeof err) != SB_OK) {
        fprintf(stderr, "dataset_load: %s\n", err);
        return 1;
    }
    double mbs[101], rows[101];
    sb_dataset_stats st = {0};
    printf("pass,bytes,rows,seconds,mb_per_s,rows_per_s\n");
    for (int r = 0; r < reps; r++) {
        if (r && sb_dataset_rewind(ds, err, sizeof err) != SB_OK) {
            fprintf(stderr, "dataset_load: %s\n", err);
            return 1;
        }
        uint64_t t0 = sb_now_ns();
        for (;;) {
            sb_record rec;
            int got;
            if (sb_dataset_next(ds, &rec, &got, err, sizeof err) != SB_OK) {
                fprintf(stderr, "dataset_load: %s\n", err);
                return 1;
            }
            if (!got)
                break;
        }
        double s = (double)(sb_now_ns() - t0) / 1e9;
        sb_dataset_get_stats(ds, &st);
        mbs[r] = (double)st.bytes / 1e6 / s;
        rows[r] = (double)st.rows / s;
        printf("%d,%llu,%llu,%.3f,%.1f,%.0f\n", r + 1, (unsigned long long)st.bytes,
               (unsigned long long)st.rows, s, mbs[r], rows[r]);
    }
    qsort(mbs, (size_t)reps, sizeof *mbs, cmp);
    qsort(rows, (size_t)reps, sizeof *rows, cmp);
    fprintf(stderr, "dataset_load: %s: %.1f MB, %llu rows: median %.1f MB/s, %.0f rows/s over %d "
                    "passes; peak RSS %ld kB\n",
            argv[1], (double)st.bytes / 1e6, (unsigned long long)st.rows, mbs[reps / 2],
            rows[reps / 2], reps, vm_hwm_kb());
    sb_dataset_close(ds);
    return 0;
}
