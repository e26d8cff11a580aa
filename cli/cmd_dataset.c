/* `sealbench dataset`: work with healthcare datasets. Each subcommand is an sb_command of its
 * own (named "dataset SUB", so that errors and --help read naturally) in the table below; the
 * dispatcher only picks one. To add a subcommand: define it, add it to `subcommands`, and add
 * its line to the help text of sb_cmd_dataset. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/role_opts.h"
#include "datasets/generate.h"

static int run(int argc, char **argv);
static int run_generate(int argc, char **argv);

const sb_command sb_cmd_dataset = {
    .name = "dataset",
    .summary = "work with healthcare datasets (generate, inspect)",
    .help = "usage: sealbench dataset SUBCOMMAND [OPTIONS]\n\n"
            "Subcommands:\n"
            "  generate   write synthetic multi-patient vital signs as CSV, the same bytes for\n"
            "             the same options on every machine\n"
            "  inspect    rows, columns, types, missing values, ranges and payload sizes of a\n"
            "             dataset, and the problems found in it\n\n"
            "'sealbench dataset SUBCOMMAND --help' describes each one's flags.\n",
    .run = run,
};

static const sb_command cmd_generate = {
    .name = "dataset generate",
    .summary = "write synthetic multi-patient vital signs as CSV",
    .help =
        "usage: sealbench dataset generate --out FILE [--patients N] [--hours H | --minutes M]\n"
        "                                  [--rate HZ] [--seed S] [--start TIME] [--missing P]\n"
        "                                  [--events-per-hour E] [--events FILE] [--quiet]\n\n"
        "Writes a CSV of vital signs for N synthetic adult ICU/ward patients, one row per patient\n"
        "per sample, in time order then patient order:\n"
        "  " SB_GEN_CSV_HEADER "\n"
        "Per-patient baselines, slow mean-reverting drift, a circadian rhythm, measurement\n"
        "noise, occasional empty fields and rare clinical events (SpO2 desaturations,\n"
        "tachycardia episodes); datasets/DATACARD.md gives every parameter. The output depends\n"
        "only on the options: the same options give the same bytes on any machine. A summary\n"
        "line (rows, events by kind, missing values) goes to stderr.\n\n"
        "Options:\n"
        "  --out FILE             where to write the CSV ('-': stdout); a regular file is\n"
        "                         written beside and renamed into place when complete\n"
        "  --patients N           1 to 100000 (default 10); ids P0001, P0002, ...\n"
        "  --hours H              length of the recording, up to 4 decimals (default 1)\n"
        "  --minutes M            or in minutes, up to 3 decimals\n"
        "  --rate HZ              samples per second per patient, 0.001 to 100, up to 3\n"
        "                         decimals (default 1)\n"
        "  --seed S               0 to 2^64-1 (default 1)\n"
        "  --start TIME           first timestamp, ISO-8601 UTC (default 2026-01-01T00:00:00Z)\n"
        "  --missing P            probability that a value field is empty (default 0.002)\n"
        "  --events-per-hour E    rate of clinical events per patient, 0 to 60 (default 0.1)\n"
        "  --events FILE          also write the events, one row each (the ground truth)\n"
        "  --quiet                no summary line\n"
        "  --help                 this text\n",
    .run = run_generate,
};

/* The subcommands, in the order the help lists them. */
static const sb_command *const subcommands[] = {
    &cmd_generate,
    &sb_cmd_dataset_inspect, /* cli/dataset_inspect.c */
    NULL,
};

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("dataset", "a subcommand is required");
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        fputs(sb_cmd_dataset.help, stdout);
        return 0;
    }
    for (const sb_command *const *c = subcommands; *c; c++)
        if (strcmp((*c)->name + strlen("dataset "), name) == 0)
            return (*c)->run(argc - 1, argv + 1);
    if (name[0] == '-')
        return cli_usage_error("dataset", "expected a subcommand before '%s'", name);
    return cli_usage_error("dataset", "unknown subcommand '%s'", name);
}

/* ---- generate ---------------------------------------------------------------------------- */

/* An output file: stdout, a non-regular file (a device, a pipe) written in place, or a regular
 * file written under a temporary name and renamed when complete, so that a failed run never
 * leaves a truncated file under the real name. */
typedef struct out_file {
    const char *path;
    char tmp[4096];
    FILE *f;
} out_file;

static int out_open(out_file *o, const char *path)
{
    struct stat st;
    o->path = path;
    o->tmp[0] = 0;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        o->f = fopen(path, "w");
    } else {
        if ((size_t)snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid()) >=
            sizeof o->tmp) {
            errno = ENAMETOOLONG;
            return -1;
        }
        o->f = fopen(o->tmp, "w");
    }
    return o->f ? 0 : -1;
}

/* Close (and on success rename into place); on failure remove the temporary file. */
static int out_close(out_file *o, int ok)
{
    if (!o->f || o->f == stdout)
        return ok ? 0 : -1;
    int rc = fclose(o->f);
    o->f = NULL;
    if (o->tmp[0]) {
        if (ok && rc == 0 && rename(o->tmp, o->path) == 0)
            return 0;
        int e = errno;
        unlink(o->tmp);
        errno = e;
        return -1;
    }
    return ok && rc == 0 ? 0 : -1;
}

enum {
    GEN_OUT = 1, GEN_PATIENTS, GEN_HOURS, GEN_MINUTES, GEN_RATE, GEN_SEED, GEN_START,
    GEN_MISSING, GEN_EVENTS_PER_HOUR, GEN_EVENTS, GEN_QUIET
};

static int run_generate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, GEN_OUT},
        {"patients", required_argument, NULL, GEN_PATIENTS},
        {"hours", required_argument, NULL, GEN_HOURS},
        {"minutes", required_argument, NULL, GEN_MINUTES},
        {"rate", required_argument, NULL, GEN_RATE},
        {"seed", required_argument, NULL, GEN_SEED},
        {"start", required_argument, NULL, GEN_START},
        {"missing", required_argument, NULL, GEN_MISSING},
        {"events-per-hour", required_argument, NULL, GEN_EVENTS_PER_HOUR},
        {"events", required_argument, NULL, GEN_EVENTS},
        {"quiet", no_argument, NULL, GEN_QUIET},
        {"help", no_argument, NULL, 'h'},
        {0}};
    const char *cmd = cmd_generate.name;
    const char *out_path = NULL, *events_path = NULL, *duration_flag = NULL;
    int quiet = 0, c, code = -1;
    uint64_t u;
    sb_gen_opts o;
    sb_gen_opts_init(&o);

    while ((c = cli_getopt(&cmd_generate, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        switch (c) {
        case GEN_OUT: out_path = optarg; break;
        case GEN_EVENTS: events_path = optarg; break;
        case GEN_QUIET: quiet = 1; break;
        case GEN_PATIENTS:
            if (cli_parse_u64(cmd, "--patients", optarg, 1, SB_GEN_MAX_PATIENTS, &u))
                return 2;
            o.patients = (uint32_t)u;
            break;
        case GEN_HOURS:
        case GEN_MINUTES: {
            int hours = c == GEN_HOURS;
            const char *flag = hours ? "--hours" : "--minutes";
            if (duration_flag && strcmp(duration_flag, flag) != 0)
                return cli_usage_error(cmd, "give --hours or --minutes, not both");
            duration_flag = flag;
            /* hours in 1/10000 (0.36 s), minutes in 1/1000 (60 ms): whole milliseconds */
            uint64_t max = hours ? 8784 * 10000ull : 8784 * 60 * 1000ull;
            if (sb_gen_parse_fixed(optarg, hours ? 4 : 3, max, &u) || u == 0)
                return cli_usage_error(cmd, "%s: expected a positive number up to %s, with at "
                                            "most %d decimals, found '%s'",
                                       flag, hours ? "8784" : "527040", hours ? 4 : 3, optarg);
            o.duration_ms = hours ? u * 360 : u * 60;
            break;
        }
        case GEN_RATE:
            if (sb_gen_parse_fixed(optarg, 3, SB_GEN_MAX_RATE_MHZ, &u) || u < SB_GEN_MIN_RATE_MHZ)
                return cli_usage_error(cmd, "--rate: expected samples per second from 0.001 to "
                                            "100, with at most 3 decimals, found '%s'",
                                       optarg);
            o.rate_mhz = (uint32_t)u;
            break;
        case GEN_SEED:
            if (cli_parse_u64(cmd, "--seed", optarg, 0, UINT64_MAX, &o.seed))
                return 2;
            break;
        case GEN_START:
            if (sb_gen_parse_time(optarg, &o.start_ms) || o.start_ms > SB_GEN_MAX_START_MS)
                return cli_usage_error(cmd, "--start: expected an ISO-8601 UTC time from 1970 "
                                            "to 9999 like 2026-01-01T00:00:00Z, found '%s'",
                                       optarg);
            break;
        case GEN_MISSING:
            if (cli_parse_double(cmd, "--missing", optarg, 0, 1, &o.missing))
                return 2;
            break;
        case GEN_EVENTS_PER_HOUR:
            if (cli_parse_double(cmd, "--events-per-hour", optarg, 0, SB_GEN_MAX_EVENTS_PER_HOUR,
                                 &o.events_per_hour))
                return 2;
            break;
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!out_path)
        return cli_usage_error(cmd, "--out FILE is required ('-' for stdout)");
    if (!*out_path)
        return cli_usage_error(cmd, "--out: empty file name");
    if (events_path && (!*events_path || strcmp(events_path, "-") == 0 ||
                        strcmp(events_path, out_path) == 0))
        return cli_usage_error(cmd, "--events: expected a file other than the --out file");
    char err[256];
    if (sb_gen_check(&o, err, sizeof err) != SB_OK)
        return cli_usage_error(cmd, "%s", err);

    out_file out = {0}, ev = {0};
    sb_gen_summary sum;
    int ok = 0;
    if (out_open(&out, out_path) != 0) {
        fprintf(stderr, "sealbench %s: cannot write %s: %s\n", cmd, out_path, strerror(errno));
        return 1;
    }
    if (events_path) {
        if (out_open(&ev, events_path) != 0) {
            fprintf(stderr, "sealbench %s: cannot write %s: %s\n", cmd, events_path,
                    strerror(errno));
            out_close(&out, 0);
            return 1;
        }
        o.events_out = ev.f;
    }
    sb_err rc = sb_gen_write(&o, out.f, &sum, err, sizeof err);
    ok = rc == SB_OK;
    if (!ok)
        fprintf(stderr, "sealbench %s: %s: %s\n", cmd, strstr(err, "events file") ? events_path
                                                                               : out_path, err);
    if (events_path && out_close(&ev, ok) != 0 && ok) {
        fprintf(stderr, "sealbench %s: %s: %s\n", cmd, events_path, strerror(errno));
        ok = 0;
    }
    if (out_close(&out, ok) != 0 && ok) {
        fprintf(stderr, "sealbench %s: %s: %s\n", cmd, out_path, strerror(errno));
        ok = 0;
    }
    if (!ok)
        return 1;
    if (!quiet) {
        char first[25], last[25];
        sb_gen_format_time(sum.first_ms, first);
        sb_gen_format_time(sum.last_ms, last);
        fprintf(stderr,
                "sealbench %s: rows=%llu patients=%u samples_per_patient=%llu first=%s last=%s "
                "bytes=%llu",
                cmd, (unsigned long long)sum.rows, sum.patients,
                (unsigned long long)sum.samples_per_patient, first, last,
                (unsigned long long)sum.bytes);
        for (int k = 0; k < SB_GEN_EV_KINDS; k++)
            fprintf(stderr, " %s=%llu", sb_gen_event_name(k), (unsigned long long)sum.events[k]);
        fprintf(stderr, " missing=%llu fields=%llu\n", (unsigned long long)sum.missing,
                (unsigned long long)sum.fields);
    }
    return 0;
}
