/* One cell x repetition of an experiment: the child processes that measure it (`sealbench
 * pair` for the in-process topology; `sealbench gateway --echo` and `sealbench device` for the
 * split one), and the row of cells.csv computed from their output and per-message samples.
 *
 * Each repetition runs in fresh processes: a crash or a wedged MQTT client costs that cell
 * alone, memory and CPU figures belong to it alone (wait4), and nothing of one cell's state
 * (allocator, caches of the libraries, MQTT sessions) carries into the next. */
#ifndef SB_EXPERIMENTS_CELL_H
#define SB_EXPERIMENTS_CELL_H

#include <signal.h>
#include <sys/types.h>

#include <jansson.h>

#include "experiments/config.h"
#include "experiments/manifest.h"

typedef struct sb_cell_env {
    const sb_self *self;     /* the sealbench binary the children run (through its emulator) */
    const char *run_id;
    const char *dir;         /* results/<run_id> */
    const char *broker_uri;
    pid_t broker_pid;        /* the private broker, for its CPU time; 0 for an external one */
    const char *keys_path;   /* PSKs for dev-0001... (auth = psk) */
    const char *const *tls_args; /* --cafile F --cert F --key F for an external TLS broker */
    int nagle;               /* [run] tcp_nodelay = off: the children get --nagle */
    volatile sig_atomic_t *stop;
} sb_cell_env;

/* Run one repetition. Returns its row (keys are sb_cell_columns names; status ok or failed
 * with error) and sets *output to the children's JSON ({"pair": ...} or {"gateway": ...,
 * "device": ...}), or NULL. Returns NULL only when interrupted through env->stop: then
 * nothing is to be kept. */
json_t *sb_cell_run(const sb_cell_env *env, const sb_cell *c, unsigned rep, unsigned order,
                    json_t **output);

#endif
