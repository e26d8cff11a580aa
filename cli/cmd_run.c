/* `sealbench run CONFIG`: the experiment runner (experiments/runner.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "experiments/results.h"
#include "experiments/runner.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_run = {
    .name = "run",
    .summary = "run an experiment config: every cell measured into results/<run-id>/",
    .help =
        "usage: sealbench run CONFIG [--out DIR | --resume DIR] [OPTIONS]\n\n"
        "Reads CONFIG (experiments/configs/*.ini; format in experiments/README.md), says how\n"
        "many cells it has, which it drops (a backend lacking a suite or group) and roughly\n"
        "how long it takes, then starts a private Mosquitto on loopback (unless --broker),\n"
        "runs the [micro] section and every cell x repetition in a shuffled order, each in\n"
        "fresh processes, and writes results/<name>-<UTC time>/: manifest.json (provenance),\n"
        "cells.csv (one row per cell x repetition), micro.csv, samples/ (per message),\n"
        "raw/ (each cell's full output) and logs/. Schema: results/README.md.\n\n"
        "Every finished cell is kept as it finishes; an interrupted run (Ctrl-C) is completed\n"
        "with --resume, which measures only what is missing. Exit: 0 all cells ok, 1 some\n"
        "failed or interrupted, 2 a bad config or option.\n\n"
        "Options:\n"
        "  --results DIR     parent folder of the run folder (default results)\n"
        "  --out DIR         the run folder itself (must not exist)\n"
        "  --resume DIR      complete an interrupted run (same config only)\n"
        "  --broker URI      an external broker instead of the private one (tcp:// or ssl://)\n"
        "  --cafile FILE     ssl://: CA certificate of the broker\n"
        "  --cert FILE       ssl://: client certificate (with --key)\n"
        "  --key FILE        ssl://: client private key\n"
        "  --dry-run         list the cells and their estimates, run nothing\n"
        "  --no-micro        skip the microbenchmarks\n"
        "  --progress MODE   bar, lines, or auto (default: a bar on a terminal)\n"
        "  --schema          print the columns of cells.csv (Markdown) and exit\n"
        "  --help            this text\n",
    .run = run,
};

enum { OPT_RESULTS = 1, OPT_OUT, OPT_RESUME, OPT_BROKER, OPT_CAFILE, OPT_CERT, OPT_KEY,
       OPT_DRY_RUN, OPT_NO_MICRO, OPT_PROGRESS, OPT_SCHEMA };

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"results", required_argument, NULL, OPT_RESULTS},
        {"out", required_argument, NULL, OPT_OUT},
        {"resume", required_argument, NULL, OPT_RESUME},
        {"broker", required_argument, NULL, OPT_BROKER},
        {"cafile", required_argument, NULL, OPT_CAFILE},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"no-micro", no_argument, NULL, OPT_NO_MICRO},
        {"progress", required_argument, NULL, OPT_PROGRESS},
        {"schema", no_argument, NULL, OPT_SCHEMA},
        {"help", no_argument, NULL, 'h'}, {0}};
    sb_run_opts o = {.progress = -1};
    int c, code = -1;
    while ((c = cli_getopt(&sb_cmd_run, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        switch (c) {
        case OPT_RESULTS: o.results = optarg; break;
        case OPT_OUT: o.out = optarg; break;
        case OPT_RESUME: o.resume = optarg; break;
        case OPT_BROKER: o.broker = optarg; break;
        case OPT_CAFILE: o.cafile = optarg; break;
        case OPT_CERT: o.cert = optarg; break;
        case OPT_KEY: o.key = optarg; break;
        case OPT_DRY_RUN: o.dry_run = 1; break;
        case OPT_NO_MICRO: o.no_micro = 1; break;
        case OPT_SCHEMA: sb_cell_schema_markdown(stdout); return 0;
        case OPT_PROGRESS:
            if (strcmp(optarg, "bar") == 0)
                o.progress = 1;
            else if (strcmp(optarg, "lines") == 0)
                o.progress = 0;
            else if (strcmp(optarg, "auto") == 0)
                o.progress = -1;
            else
                return cli_usage_error("run", "--progress: expected bar, lines or auto, found "
                                              "'%s'",
                                       optarg);
            break;
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("run", optind < argc ? "one CONFIG expected, found more"
                                                    : "a CONFIG file is required");
    if (o.out && o.resume)
        return cli_usage_error("run", "--out and --resume exclude each other");
    if ((o.cafile || o.cert || o.key) && !o.broker)
        return cli_usage_error("run", "--cafile, --cert and --key are for an external --broker");
    o.config = argv[optind];
    char line[2048] = "sealbench";
    for (int i = 0; i < argc; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), " %s", argv[i]);
    o.command_line = line;
    /* Ctrl-C or a TERM: the cell running is asked to stop and the run ends resumable. */
    static volatile sig_atomic_t stop;
    cli_catch_stop(&stop);
    o.stop = &stop;
    switch (sb_run(&o)) {
    case SB_RUN_COMPLETE:
    case SB_RUN_PLANNED: return 0;
    case SB_RUN_BAD_INPUT: return 2;
    case SB_RUN_FAILED_CELLS:
    case SB_RUN_INTERRUPTED:
    case SB_RUN_CANNOT:
    default: return 1;
    }
}
