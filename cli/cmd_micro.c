/* `sealbench micro`: the microbenchmarks of experiments/micro.h from the command line, one CSV
 * row per case. The flags build the same plan a config's [micro] section does, so that the
 * runner and this command measure alike. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "experiments/micro.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_micro = {
    .name = "micro",
    .summary = "microbenchmarks of seal, open, forge, key exchange and handshakes",
    .help =
        "usage: sealbench micro [--backend B]... [--suite S]... [--group G]... [--sizes LIST]\n"
        "                       [--ops LIST] [--repetitions N] [--min-time S] [--out FILE]\n"
        "                       [--samples DIR] [--no-counters] [--list] [--verbose]\n\n"
        "Times single operations through the sealbench interfaces with Google Benchmark and,\n"
        "where the machine has hardware counters, counts cycles and instructions with PAPI:\n"
        "  seal, open   one AEAD call, AAD = 14-byte header + a device topic, a fresh\n"
        "               counter nonce per seal; inputs are a pool of 64 distinct random\n"
        "               messages made outside the timed region\n"
        "  forge        open of a message with one tag bit flipped: must fail as 'auth'\n"
        "               every time, or the case fails (null has no tag: unavailable)\n"
        "  keygen       a fresh key pair; ecdh: one ECDH with a fixed valid peer key\n"
        "  handshake    the whole first handshake in memory, both sides: hs_key from the\n"
        "               PSK, HELLO, ACCEPT, key schedule, sessions set up (and released)\n"
        "  rekey        the same exchange for the next epoch over live sessions\n"
        "handshake and rekey run under the first selected suite the backend offers, null\n"
        "only if it is the only one (the suite column says which). A backend that lacks a\n"
        "suite or group gives a row with status 'unavailable' and the reason.\n\n"
        "Each case runs --repetitions times; Google Benchmark sizes every repetition to at\n"
        "least --min-time seconds of real time, and the statistics are over the per-\n"
        "repetition ns per operation (quantiles by linear interpolation, cv = sample\n"
        "standard deviation / mean). Clock: Google Benchmark's real time,\n"
        "std::chrono::steady_clock (CLOCK_MONOTONIC), named in the timer column.\n\n"
        "Options (repeatable ones also take comma lists; 'all' selects everything):\n"
        "  --backend B      a backend this binary was built with (default all of them;\n"
        "                   'sealbench list' names every backend, built or not)\n"
        "  --suite S        a suite of 'sealbench list' (default all: null is the baseline)\n"
        "  --group G        a group of 'sealbench list' (default all)\n"
        "  --sizes LIST     plaintext bytes, 1 to 65536 (default\n"
        "                   16,32,48,64,96,128,192,256,384,512,1024,2048,4096,16384)\n"
        "  --ops LIST       seal,open,forge,keygen,ecdh,handshake,rekey (default all)\n"
        "  --repetitions N  repetitions per case, 1 to 1000 (default 10)\n"
        "  --min-time S     seconds per repetition, > 0 and <= 60 (default 0.05)\n"
        "  --out FILE       write the CSV to FILE (via FILE.tmp and a rename), not stdout\n"
        "  --samples DIR    also one CSV per case with each repetition's figures:\n"
        "                   DIR/micro-<op>-<backend>-<suite|group>[-<bytes>].csv with\n"
        "                   repetition,iterations,ns_per_op,cpu_ns_per_op,cycles_per_op,\n"
        "                   instructions_per_op (DIR is created if missing)\n"
        "  --no-counters    do not use PAPI\n"
        "  --list           print the cases (op,backend,suite,group,bytes,status,why), run none\n"
        "  --verbose        a progress line per case on stderr (default: only on a terminal)\n"
        "  --help           this text\n\n"
        "Columns: op,backend,suite,group,bytes,status,why,timer,repetitions,iterations,\n"
        "ns_p50,ns_p25,ns_p75,ns_p99,ns_mean,ns_min,ns_max,cv_pct,mb_per_s_p50,cpu_ns_p50,\n"
        "cycles_per_op,instructions_per_op,cycles_per_byte,counters\n"
        "  status ok, unavailable or failed (why says why); suite empty for keygen and ecdh,\n"
        "  group empty for seal, open and forge, bytes 0 for the non-AEAD ops;\n"
        "  iterations: operations timed per repetition (median); mb_per_s_p50: bytes /\n"
        "  ns_p50 in 10^6 bytes per second; cpu_ns_p50: the thread's CPU time; cycles and\n"
        "  instructions: medians over the repetitions, empty without counters; counters:\n"
        "  'papi' when measured, else why not.\n\n"
        "SIGINT or SIGTERM stops the run after the current case; --out FILE then stays\n"
        "unwritten (a result file exists only when complete).\n\n"
        "Exit status: 0; 1 if a case failed, a file could not be written or the run was\n"
        "stopped; 2 usage.\n",
    .run = run,
};

#define MAX_LIST 64

static const size_t default_sizes[] = {16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024, 2048, 4096, 16384};

/* Split a comma list and hand each item to add. Returns -1 when all went in, else the usage
 * error's exit status after naming the flag and the item at fault (problem: "unknown
 * backend", ...). */
static int each_item(const char *flag, const char *list, int (*add)(sb_micro_plan *, const char *),
                     sb_micro_plan *p, const char *problem, const char *known)
{
    char item[128];
    const char *s = list;
    for (;;) {
        size_t n = strcspn(s, ",");
        if (n == 0)
            return cli_usage_error("micro", "%s: empty item in '%s'", flag, list);
        if (n >= sizeof item)
            return cli_usage_error("micro", "%s: %s '%.40s...'%s%s", flag, problem, s,
                                   *known ? " " : "", known);
        memcpy(item, s, n);
        item[n] = '\0';
        if (!add(p, item)) {
            if (strcmp(flag, "--backend") == 0 && sb_backend_entry_by_name(item))
                return cli_usage_error("micro", "%s: backend '%s' is %s", flag, item,
                                       sb_backend_not_built);
            return cli_usage_error("micro", "%s: %s '%s'%s%s", flag, problem, item,
                                   *known ? " " : "", known);
        }
        if (!s[n])
            return -1;
        s += n + 1;
    }
}

/* Returns from the calling function: 1 once item is in the array arr (n in use), appended if
 * it was not; 0 when the array is full. */
#define RETURN_ADDED_ONCE(arr, n, item)                                                      \
    do {                                                                                     \
        size_t i_ = 0;                                                                       \
        while (i_ < (n) && (const void *)(arr)[i_] != (item))                                \
            i_++;                                                                            \
        if (i_ < (n))                                                                        \
            return 1;                                                                        \
        if ((n) >= sizeof(arr) / sizeof((arr)[0]))                                           \
            return 0;                                                                        \
        (arr)[(n)++] = (item);                                                               \
        return 1;                                                                            \
    } while (0)

static int add_item(sb_micro_plan *p, sb_kind kind, const void *item)
{
    switch (kind) {
    case SB_KIND_BACKEND: RETURN_ADDED_ONCE(p->backends, p->n_backends, item);
    case SB_KIND_SUITE: RETURN_ADDED_ONCE(p->suites, p->n_suites, item);
    case SB_KIND_GROUP: RETURN_ADDED_ONCE(p->groups, p->n_groups, item);
    }
    return 0;
}

/* A backend, suite or group by name, or every one for `all` (sb_registry_nth: the same `all`
 * as a config's). A backend left out of this build is refused, as an unknown name is. */
static int add_named(sb_micro_plan *p, sb_kind kind, const char *name)
{
    const void *item;
    if (strcmp(name, "all") != 0)
        return (item = sb_registry_find(kind, name, NULL)) && add_item(p, kind, item);
    for (size_t i = 0; (item = sb_registry_nth(kind, i)); i++)
        if (!add_item(p, kind, item))
            return 0;
    return 1;
}

/* "(known: a, b, all)", from the registry (built backends only). */
static const char *known_names(sb_kind kind, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "(known:");
    const void *item;
    for (size_t i = 0; n < cap && (item = sb_registry_nth(kind, i)); i++)
        n += (size_t)snprintf(out + n, cap - n, " %s,", sb_registry_name(kind, item));
    if (n < cap)
        snprintf(out + n, cap - n, " all)");
    return out;
}

static int add_backend(sb_micro_plan *p, const char *name)
{
    return add_named(p, SB_KIND_BACKEND, name);
}

static int add_suite(sb_micro_plan *p, const char *name)
{
    return add_named(p, SB_KIND_SUITE, name);
}

static int add_group(sb_micro_plan *p, const char *name)
{
    return add_named(p, SB_KIND_GROUP, name);
}

static int add_size(sb_micro_plan *p, const char *text)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (end == text || *end || errno || text[0] == '-' || v < 1 || v > SB_MICRO_MAX_BYTES)
        return 0;
    for (size_t i = 0; i < p->n_sizes; i++)
        if (p->sizes[i] == v)
            return 1;
    if (p->n_sizes >= MAX_LIST)
        return 0;
    p->sizes[p->n_sizes++] = v;
    return 1;
}

static int add_op(sb_micro_plan *p, const char *name)
{
    if (strcmp(name, "all") == 0) {
        p->ops = (1u << SB_MICRO_OPS) - 1;
        return 1;
    }
    for (int op = 0; op < SB_MICRO_OPS; op++)
        if (strcmp(name, sb_micro_op_name((sb_micro_op)op)) == 0) {
            p->ops |= 1u << op;
            return 1;
        }
    return 0;
}

static void case_label(const sb_micro_case *c, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s %s %s%s%s", sb_micro_op_name(c->op), c->be->name,
                     c->suite ? c->suite->name : "", c->suite && c->group ? " " : "",
                     c->group ? c->group->name : "");
    if (c->bytes && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " %zu B", c->bytes);
}

static void progress(const sb_micro_case *c, size_t i, size_t n)
{
    char what[160];
    case_label(c, what, sizeof what);
    if (c->status == SB_MICRO_STATUS_OK) {
        sb_micro_summary s;
        sb_micro_summarize(c, &s);
        fprintf(stderr, "sealbench micro: [%zu/%zu] %s: %.1f ns/op (p50 of %zu, cv %.1f%%)\n",
                i + 1, n, what, s.ns.p50, s.ns.n, s.ns.n > 1 ? s.ns.cv_pct : 0.0);
    } else {
        fprintf(stderr, "sealbench micro: [%zu/%zu] %s: %s: %s\n", i + 1, n, what,
                c->status == SB_MICRO_STATUS_FAILED ? "FAILED" : "unavailable", c->why);
    }
}

/* A stop request ends the run between two cases. Nothing is renamed into place then: a
 * result file exists only when complete, which is what the runner's --resume trusts. */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    stop_requested = sig;
}

static int list_cases(const sb_micro_case *cases, size_t n)
{
    printf("%s\n", sb_micro_plan_csv_header);
    for (size_t i = 0; i < n; i++)
        sb_micro_plan_csv_row(stdout, &cases[i]);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

static int run(int argc, char **argv)
{
    enum { O_BACKEND = 'b', O_SUITE = 's', O_GROUP = 'g', O_SIZES = 'z', O_OPS = 'o',
           O_REPS = 'r', O_MIN = 'm', O_OUT = 'O', O_SAMPLES = 'S', O_NOCTR = 'n',
           O_LIST = 'l', O_VERBOSE = 'v' };
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, O_BACKEND},
        {"suite", required_argument, NULL, O_SUITE},
        {"group", required_argument, NULL, O_GROUP},
        {"sizes", required_argument, NULL, O_SIZES},
        {"ops", required_argument, NULL, O_OPS},
        {"repetitions", required_argument, NULL, O_REPS},
        {"min-time", required_argument, NULL, O_MIN},
        {"out", required_argument, NULL, O_OUT},
        {"samples", required_argument, NULL, O_SAMPLES},
        {"no-counters", no_argument, NULL, O_NOCTR},
        {"list", no_argument, NULL, O_LIST},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"help", no_argument, NULL, 'h'},
        {0}};
    sb_micro_plan plan = {.enabled = 1, .repetitions = 10, .min_time_s = 0.05};
    const char *out_path = NULL, *samples = NULL;
    int no_counters = 0, list = 0, verbose = 0, sizes_given = 0, c, code = -1;
    char *end, known[256];
    while ((c = cli_getopt(&sb_cmd_micro, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        switch (c) {
        case O_BACKEND:
            code = each_item("--backend", optarg, add_backend, &plan, "unknown backend",
                             known_names(SB_KIND_BACKEND, known, sizeof known));
            break;
        case O_SUITE:
            code = each_item("--suite", optarg, add_suite, &plan, "unknown suite",
                             known_names(SB_KIND_SUITE, known, sizeof known));
            break;
        case O_GROUP:
            code = each_item("--group", optarg, add_group, &plan, "unknown group",
                             known_names(SB_KIND_GROUP, known, sizeof known));
            break;
        case O_SIZES:
            if (!sizes_given)
                plan.n_sizes = 0; /* the flag replaces the default list */
            sizes_given = 1;
            code = each_item("--sizes", optarg, add_size, &plan, "expected plaintext sizes "
                             "from 1 to 65536 bytes (at most 64 of them), found",
                             "");
            break;
        case O_OPS:
            code = each_item("--ops", optarg, add_op, &plan, "unknown operation",
                             "(known: seal, open, forge, keygen, ecdh, handshake, rekey, all)");
            break;
        case O_REPS: {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || v < 1 || v > 1000)
                return cli_usage_error("micro", "--repetitions: expected 1 to 1000, found '%s'", optarg);
            plan.repetitions = (unsigned)v;
            break;
        }
        case O_MIN:
            errno = 0;
            plan.min_time_s = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(plan.min_time_s > 0 && plan.min_time_s <= 60))
                return cli_usage_error("micro", "--min-time: expected seconds above 0, up to 60, found '%s'", optarg);
            break;
        case O_OUT:
            if (!*optarg)
                return cli_usage_error("micro", "--out: expected a file name, found ''");
            out_path = optarg;
            break;
        case O_SAMPLES:
            if (!*optarg)
                return cli_usage_error("micro", "--samples: expected a directory, found ''");
            samples = optarg;
            break;
        case O_NOCTR:
            no_counters = 1;
            break;
        case O_LIST:
            list = 1;
            break;
        case O_VERBOSE:
            verbose = 1;
            break;
        }
        if (code >= 0)
            return code;
    }
    if (optind < argc)
        return cli_usage_error("micro", "unexpected argument '%s'", argv[optind]);
    if (!plan.n_backends)
        add_backend(&plan, "all");
    if (!plan.n_suites)
        add_suite(&plan, "all");
    if (!plan.n_groups)
        add_group(&plan, "all");
    if (!sizes_given)
        for (size_t i = 0; i < sizeof default_sizes / sizeof default_sizes[0]; i++)
            plan.sizes[plan.n_sizes++] = default_sizes[i];
    if (!plan.ops)
        plan.ops = (1u << SB_MICRO_OPS) - 1;

    sb_micro_case *cases = NULL;
    size_t n = 0;
    if (sb_micro_cases(&plan, &cases, &n) != SB_OK) {
        fprintf(stderr, "sealbench micro: out of memory\n");
        return 1;
    }
    if (list) {
        int rc = list_cases(cases, n);
        sb_micro_cases_free(cases, n);
        return rc;
    }

    /* Files first: a run of many minutes should not end in a path that cannot be written. */
    int status = 0;
    FILE *out = stdout;
    char tmp[4200];
    sb_counters *ctr = NULL;
    if (out_path) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp", out_path) >= (int)sizeof tmp) {
            fprintf(stderr, "sealbench micro: --out: file name too long\n");
            status = 1;
            goto done;
        }
        if (!(out = fopen(tmp, "w"))) {
            fprintf(stderr, "sealbench micro: --out: cannot create '%s': %s\n", tmp, strerror(errno));
            out = NULL;
            status = 1;
            goto done;
        }
    }
    if (samples && mkdir(samples, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "sealbench micro: --samples: cannot create directory '%s': %s\n", samples,
                strerror(errno));
        status = 1;
        goto done;
    }
    struct stat sd;
    if (samples && (stat(samples, &sd) != 0 || !S_ISDIR(sd.st_mode))) {
        fprintf(stderr, "sealbench micro: --samples: '%s' is not a directory\n", samples);
        status = 1;
        goto done;
    }
    if (!no_counters) {
        if (!(ctr = sb_counters_open())) {
            fprintf(stderr, "sealbench micro: out of memory\n");
            status = 1;
            goto done;
        }
        if (!sb_counters_available(ctr))
            fprintf(stderr, "sealbench micro: note: no hardware counters, the cycle columns stay empty: %s\n",
                    sb_counters_why(ctr));
    }

    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    verbose = verbose || isatty(STDERR_FILENO);
    fprintf(out, "%s\n", sb_micro_csv_header);
    for (size_t i = 0; i < n; i++) {
        char err[512] = "";
        if (stop_requested) {
            fprintf(stderr, "sealbench micro: stopped by signal %d after %zu of %zu cases; %s\n",
                    (int)stop_requested, i, n,
                    out_path ? "no result file written" : "the CSV above is incomplete");
            status = 1;
            goto done;
        }
        sb_micro_case *k = &cases[i];
        if (sb_micro_measure(k, &plan, ctr, "off (--no-counters)", err, sizeof err) != SB_OK) {
            fprintf(stderr, "sealbench micro: %s\n", err);
            status = 1;
        }
        if (verbose)
            progress(k, i, n);
        else if (k->status == SB_MICRO_STATUS_FAILED) {
            char what[160];
            case_label(k, what, sizeof what);
            fprintf(stderr, "sealbench micro: %s: FAILED: %s\n", what, k->why);
        }
        if (k->status == SB_MICRO_STATUS_FAILED)
            status = 1;
        if (sb_micro_csv_row(out, k) != 0 || fflush(out) != 0) {
            fprintf(stderr, "sealbench micro: %s: %s\n", out_path ? tmp : "stdout", strerror(errno));
            status = 1;
            goto done;
        }
        if (samples && sb_micro_samples_write(samples, k, err, sizeof err) != SB_OK) {
            fprintf(stderr, "sealbench micro: --samples: %s\n", err);
            status = 1;
            goto done;
        }
        /* Figures are in the row and the samples file: release them as we go. */
        sb_gb_result_free(&k->gb);
    }
    if (out_path) {
        int bad_close = fclose(out) != 0;
        out = NULL;
        if (bad_close || rename(tmp, out_path) != 0) {
            fprintf(stderr, "sealbench micro: --out: cannot write '%s': %s\n", out_path, strerror(errno));
            remove(tmp);
            status = 1;
        }
    }
done:
    if (out && out != stdout) {
        fclose(out);
        remove(tmp); /* never leave half a result behind */
    }
    sb_counters_close(ctr);
    sb_micro_cases_free(cases, n);
    return status;
}
