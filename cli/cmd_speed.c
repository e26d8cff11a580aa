/* `sealbench speed`: time per seal and per open through the backend interface, for every
 * backend x suite x size, in the manner of SUPERCOP's measure.c: inputs made outside the timed
 * region, many back-to-back calls per sample, several samples, median and quartiles reported,
 * and the clock named. This is the quick cipher-level view; the full microbenchmarks (forgery
 * rejection, key exchange, hardware counters) belong to the experiment runner. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ciphers/cipher.h"
#include "cli/cli.h"
#include "common/stats.h"
#include "common/util.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_speed = {
    .name = "speed",
    .summary = "time seal and open per message for each backend x suite x size",
    .help = "usage: sealbench speed [--backend NAME]... [--suite NAME]... [--sizes N,N,...]\n"
            "                       [--samples N] [--sample-ms MS] [--csv]\n\n"
            "Times the AEAD seal and open of each available backend x suite through the\n"
            "sealbench cipher interface, with a fresh nonce per seal and a 14+topic-byte AAD\n"
            "like a real message. Each sample runs the operation back to back for at least\n"
            "--sample-ms and divides; the median and quartiles of the samples are printed.\n"
            "Clock: clock_gettime(CLOCK_MONOTONIC).\n\n"
            "Options:\n"
            "  --backend NAME   only this backend (repeatable; default all)\n"
            "  --suite NAME     only this suite (repeatable; default all)\n"
            "  --sizes LIST     plaintext sizes in bytes (default 64,256,1024)\n"
            "  --samples N      samples per cell (default 11)\n"
            "  --sample-ms MS   minimum duration of one sample (default 20)\n"
            "  --csv            CSV with units in the column names\n"
            "  --help           this text\n",
    .run = run,
};

#define AAD_BYTES 34 /* header + a "sealbench/dev-0001/up" topic */
#define MAX_SIZES 32
#define MAX_SAMPLES 1001

typedef struct timing {
    double p25, p50, p75;
} timing;

typedef struct cell {
    const sb_cipher *c;
    void *state;
    uint8_t *in, *out, aad[AAD_BYTES], nonce[SB_NONCE_BYTES];
    size_t len;
    uint64_t counter;
} cell;

static sb_err op_seal(cell *x)
{
    /* A fresh nonce per call: a benchmark must not reuse one either. */
    x->counter++;
    memcpy(x->nonce + 4, &x->counter, 8);
    return x->c->ops->seal(x->state, x->nonce, x->aad, AAD_BYTES, x->in, x->len, x->out);
}

static sb_err op_open(cell *x)
{
    return x->c->ops->open(x->state, x->nonce, x->aad, AAD_BYTES, x->out,
                           x->len + x->c->suite->tag_bytes, x->in);
}

static sb_err measure(cell *x, sb_err (*op)(cell *), int samples, double sample_ms, timing *t)
{
    double ns[MAX_SAMPLES];
    uint64_t iters = 1;
    sb_err rc;
    /* Calibrate: grow the batch until one batch lasts the sample time. */
    for (;;) {
        uint64_t t0 = sb_now_ns();
        for (uint64_t i = 0; i < iters; i++)
            if ((rc = op(x)) != SB_OK)
                return rc;
        double el = (double)(sb_now_ns() - t0);
        if (el >= sample_ms * 1e6 || iters > (UINT64_C(1) << 40))
            break;
        iters = el < 1e3 ? iters * 10 : (uint64_t)(iters * (sample_ms * 1e6 * 1.1 / el)) + 1;
    }
    for (int s = 0; s < samples; s++) {
        uint64_t t0 = sb_now_ns();
        for (uint64_t i = 0; i < iters; i++)
            if ((rc = op(x)) != SB_OK)
                return rc;
        ns[s] = (double)(sb_now_ns() - t0) / (double)iters;
    }
    sb_stats st; /* sorts ns */
    sb_stats_of(ns, (size_t)samples, &st);
    t->p25 = st.p25;
    t->p50 = st.p50;
    t->p75 = st.p75;
    return SB_OK;
}

static int parse_sizes(const char *s, size_t *sizes, int *n)
{
    *n = 0;
    while (*s) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || errno || v > (1u << 24) || *n >= MAX_SIZES || (*end && *end != ','))
            return 0;
        sizes[(*n)++] = v;
        s = *end ? end + 1 : end;
    }
    return *n > 0;
}

static int contains(const char *const *list, int n, const char *name)
{
    if (!n)
        return 1;
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'}, {"suite", required_argument, NULL, 's'},
        {"sizes", required_argument, NULL, 'z'},   {"samples", required_argument, NULL, 'n'},
        {"sample-ms", required_argument, NULL, 'm'}, {"csv", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},          {0}};
    const char *backends[8], *suites[8];
    int nb = 0, ns = 0, nsizes = 3, samples = 11, csv = 0, c, code = -1;
    size_t sizes[MAX_SIZES] = {64, 256, 1024};
    double sample_ms = 20;
    char *end;
    while ((c = cli_getopt(&sb_cmd_speed, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        switch (c) {
        case 'b':
            if (!cli_backend_arg("speed", "--backend", optarg, &code))
                return code;
            if (nb < 8) backends[nb++] = optarg;
            break;
        case 's':
            if (!sb_suite_by_name(optarg))
                return cli_usage_error("speed", "unknown suite '%s'", optarg);
            if (ns < 8) suites[ns++] = optarg;
            break;
        case 'z':
            if (!parse_sizes(optarg, sizes, &nsizes))
                return cli_usage_error("speed", "--sizes: expected up to %d comma-separated byte counts (0 to 16777216), found '%s'", MAX_SIZES, optarg);
            break;
        case 'n':
            samples = (int)strtol(optarg, &end, 10);
            if (*end || samples < 1 || samples > MAX_SAMPLES)
                return cli_usage_error("speed", "--samples: expected 1 to %d, found '%s'", MAX_SAMPLES, optarg);
            break;
        case 'm':
            sample_ms = strtod(optarg, &end);
            if (*end || !(sample_ms > 0 && sample_ms <= 10000))
                return cli_usage_error("speed", "--sample-ms: expected a number of milliseconds from 0 to 10000, found '%s'", optarg);
            break;
        case 'c':
            csv = 1;
            break;
        }
    }
    if (optind < argc)
        return cli_usage_error("speed", "unexpected argument '%s'", argv[optind]);

    size_t max = 0;
    for (int i = 0; i < nsizes; i++)
        max = sizes[i] > max ? sizes[i] : max;
    cell x = {0};
    x.in = malloc(max + SB_MAX_TAG_BYTES);
    x.out = malloc(max + SB_MAX_TAG_BYTES);
    if (!x.in || !x.out) {
        fprintf(stderr, "sealbench speed: out of memory\n");
        return 1;
    }
    if (csv)
        puts("backend,suite,bytes,seal_ns_p25,seal_ns_p50,seal_ns_p75,open_ns_p25,open_ns_p50,open_ns_p75,seal_mb_per_s_p50,open_mb_per_s_p50,samples,clock");
    else
        printf("# clock: CLOCK_MONOTONIC; %d samples of >= %g ms per cell; ns per message (median [p25, p75])\n"
               "%-8s %-21s %6s %28s %28s %9s\n",
               samples, sample_ms, "backend", "suite", "bytes", "seal ns", "open ns", "seal MB/s");
    int status = 0;
    for (const sb_backend *const *be = sb_backends; *be; be++) {
        if (!contains(backends, nb, (*be)->name))
            continue;
        for (unsigned id = 0; id < SB_SUITE_COUNT; id++) {
            const sb_suite *suite = sb_suite_by_id(id);
            sb_cipher cipher;
            const char *why = NULL;
            if (!contains(suites, ns, suite->name))
                continue;
            if (sb_cipher_get(*be, suite, &cipher, &why) != SB_OK) {
                if (!csv)
                    printf("%-8s %-21s unavailable: %s\n", (*be)->name, suite->name, why);
                continue;
            }
            uint8_t key[SB_MAX_KEY_BYTES], mac_key[SB_HASH_BYTES];
            x.c = &cipher;
            if ((*be)->random(key, sizeof key) != SB_OK || (*be)->random(mac_key, sizeof mac_key) != SB_OK ||
                (*be)->random(x.nonce, sizeof x.nonce) != SB_OK ||
                cipher.ops->init(&x.state, *be, suite, key, mac_key) != SB_OK) {
                fprintf(stderr, "sealbench speed: %s:%s: could not set up a context\n", (*be)->name, suite->name);
                status = 1;
                continue;
            }
            sb_wipe(key, sizeof key);
            sb_wipe(mac_key, sizeof mac_key);
            for (int i = 0; i < nsizes; i++) {
                timing ts, to;
                sb_err rc;
                x.len = sizes[i];
                (*be)->random(x.in, x.len);
                (*be)->random(x.aad, sizeof x.aad);
                if ((rc = measure(&x, op_seal, samples, sample_ms, &ts)) != SB_OK ||
                    (rc = op_seal(&x)) != SB_OK || /* a valid message for open to verify */
                    (rc = measure(&x, op_open, samples, sample_ms, &to)) != SB_OK) {
                    fprintf(stderr, "sealbench speed: %s:%s at %zu bytes: %s\n", (*be)->name,
                            suite->name, x.len, sb_err_str(rc));
                    status = 1;
                    continue;
                }
                double mbs = ts.p50 > 0 ? x.len / ts.p50 * 1e3 : 0, mbo = to.p50 > 0 ? x.len / to.p50 * 1e3 : 0;
                if (csv)
                    printf("%s,%s,%zu,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%d,CLOCK_MONOTONIC\n",
                           (*be)->name, suite->name, x.len, ts.p25, ts.p50, ts.p75, to.p25, to.p50,
                           to.p75, mbs, mbo, samples);
                else
                    printf("%-8s %-21s %6zu %9.1f [%7.1f, %7.1f] %9.1f [%7.1f, %7.1f] %9.1f\n",
                           (*be)->name, suite->name, x.len, ts.p50, ts.p25, ts.p75, to.p50,
                           to.p25, to.p75, mbs);
                fflush(stdout);
            }
            cipher.ops->free(x.state);
            x.state = NULL;
        }
    }
    free(x.in);
    free(x.out);
    return status;
}
