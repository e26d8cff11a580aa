/* One cell x repetition of an experiment: the child processes that measure it, and the row of
 * cells.csv they make.
 *
 * The runner writes each child a task (sb_cell_task, in logs/<cell>.r<N>[-gateway].task.json)
 * and starts `sealbench cell TASK`. The child fills the role's spec from the task, calls the
 * role (roles/roles.h: pair for the in-process topology; a gateway that echoes and a device for
 * the split one), writes the role's report (logs/<cell>.r<N>.out) and samples (samples/), and prints the
 * columns it measured as one JSON object on stdout; the runner adds what only it can see (wall
 * time, the child's CPU and memory from wait4, the broker's CPU) and the failure, if any. A
 * split cell's gateway prints one line "ready" first, once it is subscribed.
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
#include "common/err.h"
#include "experiments/manifest.h"

typedef struct sb_cell_env {
    const sb_self *self;     /* the sealbench binary the children run (through its emulator) */
    const char *run_id;
    const char *dir;         /* results/<run_id> */
    const char *broker_uri;
    pid_t broker_pid;        /* the private broker, for its CPU time; 0 for an external one */
    const char *keys_path;   /* PSKs for dev-0001... (auth = psk) */
    const char *cafile, *cert, *key; /* an external TLS broker's files, or NULL */
    int nagle;               /* [run] tcp_nodelay = off: Nagle's algorithm left on */
    volatile sig_atomic_t *stop;
} sb_cell_env;

/* Run one repetition. Returns its row (keys are sb_cell_columns names; status ok or failed
 * with error) and sets *output to the children's JSON ({"pair": ...} or {"gateway": ...,
 * "device": ...}), or NULL. Returns NULL only when interrupted through env->stop: then
 * nothing is to be kept. */
json_t *sb_cell_run(const sb_cell_env *env, const sb_cell *c, unsigned rep, unsigned order,
                    json_t **output);

/* What one child of a cell runs. */
typedef enum sb_cell_part { SB_PART_PAIR, SB_PART_GATEWAY, SB_PART_DEVICE } sb_cell_part;

#define SB_TASK_PATH_MAX 1024

typedef struct sb_cell_task {
    sb_cell_part part;
    char broker[256];
    char cafile[SB_TASK_PATH_MAX], cert[SB_TASK_PATH_MAX], key[SB_TASK_PATH_MAX]; /* or "" */
    char prefix[256];
    char backend[32], suite[32], group[32];
    char keys[SB_TASK_PATH_MAX];     /* pre-shared keys; "": auth=none */
    int qos, nagle;
    uint64_t pad;
    /* the device side (pair and device) */
    uint64_t devices, messages, warmup, rekey;
    double rate_hz;
    uint64_t size;                   /* synthetic payload bytes, when dataset is "" */
    char dataset[SB_TASK_PATH_MAX], encoding[16];
    /* where its outputs go */
    char report[SB_TASK_PATH_MAX], samples[SB_TASK_PATH_MAX];
} sb_cell_task;

/* "pair", "gateway" or "device": the role a part runs, as tasks and messages name it. */
const char *sb_cell_part_name(sb_cell_part p);

/* The task as a JSON file, and back. Reading refuses a key it does not know or a value of the
 * wrong type, naming it. */
sb_err sb_cell_task_write(const sb_cell_task *t, const char *path, char *err, size_t err_len);
sb_err sb_cell_task_read(sb_cell_task *t, const char *path, char *err, size_t err_len);

/* `sealbench cell TASK`: run the task; returns the exit code (0 measured in full; 1 failed,
 * with the reason on stderr; 2 a task that cannot be read). */
int sb_cell_child(const char *task_path);

#endif
