/* What the role files share and nobody else needs (roles/roles.h is the interface). */
#ifndef SB_ROLES_INTERNAL_H
#define SB_ROLES_INTERNAL_H

#include "roles/roles.h"
#include "transport/broker.h"
#include "transport/keys.h"
#include "transport/trace.h"

struct sb_dataset;
struct sb_player;

/* ---- roles/dataset.c: --dataset on the device side ---- */

/* A dataset opened with its description and encoded into payloads per patient, handed to the
 * fleet as its payload source. A fleet of more sessions than the dataset has patients replays
 * them round-robin: session k sends the records of patient k mod patients, under its own id,
 * keys and session. */
typedef struct role_dataset {
    struct sb_dataset *ds;
    struct sb_player *player;
    sb_payload_source src;
    unsigned first;
    unsigned sessions, patients;
} role_dataset;

/* Load it (before anything connects, so that a bad file costs nothing); nothing to do without
 * s->dataset. -1 with err on a file that cannot be used. */
int role_dataset_load(const sb_device_spec *s, role_dataset *d, char *err, size_t err_len);
/* The gateway's check that an opened payload is a record of its device (pair). */
int role_dataset_check(void *ctx, const char *device_id, const uint8_t *pt, size_t len);
/* What the replay used and sent. */
void role_dataset_report(const sb_device_spec *s, const role_dataset *d, sb_role_dataset *out);
void role_dataset_free(role_dataset *d);

/* ---- roles/measure.c: counters, process usage, samples ---- */

typedef struct role_counting {
    struct sb_counters *c;
    uint64_t cycles, instructions, ns, t0;
} role_counting;

void role_counting_start(role_counting *k, int wanted);
void role_counting_stop(role_counting *k);
/* Stop, close and describe (nothing when not wanted). */
void role_counting_report(role_counting *k, sb_role_counting *out);

/* This process's CPU time and peak RSS. */
void role_process_report(sb_role_process *out);

/* The private broker's CPU time so far. */
void role_broker_cpu(const sb_broker *b, sb_role_broker *out);

/* The trace link->samples_path asks for, sized for the fleet fc (NULL: the gateway alone), or
 * NULL without one. -1 with err when out of memory. */
int role_trace_new(const sb_role_link *link, const sb_fleet_config *fc, uint64_t warmup,
                   sb_trace **out, char *err, size_t err_len);
/* Write it; -1 with err. */
int role_trace_write(const sb_role_link *link, sb_trace *t, char *err, size_t err_len);

/* ---- roles/run.c ---- */

/* Set r->error once: the first failure is the one to report. */
void role_fail(sb_role_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
