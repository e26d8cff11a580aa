/* The experiment runner behind `sealbench run` and `make experiments`: read a config, say what
 * it will do and roughly how long it takes, start the private broker (or use the one given),
 * run the microbenchmarks and then every cell x repetition in a shuffled, interleaved order,
 * and leave results/<run-id>/ with manifest.json, cells.csv, micro.csv, samples/ and raw/.
 *
 * Nothing finished is lost or overwritten: every cell x repetition is stored as it finishes,
 * an interrupted run (Ctrl-C, a crash, a reboot) can be completed with --resume, and a new run
 * never writes into an existing folder. */
#ifndef SB_EXPERIMENTS_RUNNER_H
#define SB_EXPERIMENTS_RUNNER_H

#include <signal.h>
#include <stdio.h>

typedef struct sb_run_opts {
    const char *config;       /* the .ini */
    const char *results;      /* parent folder of the run folder (default "results") */
    const char *out;          /* the run folder itself, instead of results/<run-id> */
    const char *resume;       /* an existing run folder to complete */
    const char *broker;       /* external broker URI; NULL: the private one */
    const char *cafile, *cert, *key; /* its TLS files */
    int dry_run;              /* plan only: list the cells and the estimate */
    int no_micro;             /* skip the [micro] section */
    int progress;             /* 1 bar on a terminal, 0 lines, -1 decide from isatty */
    const char *command_line; /* for the manifest */
    volatile sig_atomic_t *stop; /* set (by the caller's signal handler) to stop: what is
                                    running is asked to stop, and the run ends resumable */
    FILE *log;                /* where the run says what it does; NULL: stderr */
    FILE *listing;            /* dry_run's list of cells; NULL: stdout */
} sb_run_opts;

typedef enum sb_run_status {
    SB_RUN_COMPLETE,     /* every cell x repetition measured */
    SB_RUN_FAILED_CELLS, /* the run went through, some cells failed (each says why) */
    SB_RUN_INTERRUPTED,  /* *stop was set: complete it with resume */
    SB_RUN_CANNOT,       /* the run could not start or go on (folder, broker, keys) */
    SB_RUN_BAD_INPUT,    /* a bad config or option: nothing ran */
    SB_RUN_PLANNED,      /* dry_run: the plan was listed */
} sb_run_status;

sb_run_status sb_run(const sb_run_opts *o);

#endif
