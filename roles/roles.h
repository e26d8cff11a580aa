/* The three roles of a measurement as library functions: a typed specification in, a typed
 * report out. `sealbench device|gateway|pair` parse their flags into a spec and print the
 * report; the experiment runner's per-cell child (experiments/cell_child.c) fills the same
 * spec from a cell and writes the same report. Nothing here prints, parses options or exits.
 *
 * Layers: cli/ and experiments/ call roles/, which drives transport/ (MQTT, broker, fleet,
 * gateway, trace), datasets/ (payloads from a CSV dataset) and the PAPI counters. */
#ifndef SB_ROLES_ROLES_H
#define SB_ROLES_ROLES_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ciphers/cipher.h"
#include "protocol/handshake.h"
#include "transport/fleet.h"
#include "transport/gateway.h"

struct sb_role_report;
struct sb_role_broker;

/* ---- specifications ------------------------------------------------------------------- */

/* What every role shares: the broker it reaches, its topics, its keys and session settings. */
typedef struct sb_role_link {
    const sb_backend *backend;
    const char *broker;          /* tcp:// or ssl:// URI; NULL: a private broker of its own */
    const char *cafile, *cert, *key; /* ssl:// files, or NULL */
    const char *prefix;          /* topic prefix; NULL: "sealbench" */
    const char *keys_path;       /* pre-shared keys file; NULL: auth=none (32 zero bytes) */
    int qos, echo, persistent, nagle;
    size_t pad;
    double connect_timeout_s;    /* 0: the MQTT layer's default */
    double grace_s;              /* previous epoch valid after a rekey; 0: the default */
    unsigned replay_window;      /* 0: the default */
    const char *samples_path;    /* per-message samples CSV (transport/trace.h), or NULL */
    /* Called once with the final report, before the teardown (which waits on libraries and
     * can hang or crash), so that nothing measured is lost: print or store it here. */
    void (*measured)(void *ctx, const struct sb_role_report *r);
    void *measured_ctx;
} sb_role_link;

/* The device side: a fleet of devices in this process. */
typedef struct sb_device_spec {
    sb_role_link link;
    const sb_suite *suite;
    const sb_group *group;
    unsigned devices, first;     /* how many sessions, first id number */
    int devices_set;             /* with a dataset: `devices` sessions, replaying its first
                                    `devices` patients, or all of them round-robin when it has
                                    fewer; unset: one session per patient */
    uint64_t count;              /* messages per device (dataset: 0 or unset = all it has) */
    int count_set;
    uint64_t warmup;             /* more messages first, marked as warm-up in the samples */
    size_t size;                 /* synthetic plaintext bytes */
    double rate_hz, rekey_s, hs_timeout_s, drain_s; /* 0: unpaced, never, defaults */
    uint64_t rekey_messages;
    unsigned inflight;           /* 0: the fleet's default */
    const char *dataset;         /* CSV dataset instead of synthetic payloads, or NULL */
    const char *describe;        /* its description; NULL: FILE.dataset beside it */
    int encoding;                /* sb_encoding of the records */
    double speed;                /* > 0: paced by the dataset's timestamps, this fast */
    int counters;                /* count cycles and instructions of the publishing thread */
} sb_device_spec;

typedef struct sb_gateway_spec {
    sb_role_link link;
    sb_hs_policy policy;         /* suites and groups it accepts */
    uint64_t expect;             /* stop after this many accepted messages; 0: no limit */
    double duration_s;           /* stop after this long; 0: no limit */
    int verify;                  /* check synthetic payloads and count duplicates */
    size_t max_devices;          /* auth=none: sessions HELLOs may create; 0: the default */
    /* Called once the gateway is subscribed: devices may start. */
    void (*ready)(void *ctx, const struct sb_role_broker *b);
    void *ready_ctx;
} sb_gateway_spec;

/* A private broker (unless link.broker), a gateway and a fleet in one process. */
typedef struct sb_pair_spec {
    sb_device_spec device;
    const sb_backend *gateway_backend; /* NULL: the device's */
    int no_verify;               /* skip the gateway's check of each opened payload */
    int broker_persistence;
    uint64_t restart_at;         /* restart the private broker after this many publishes */
    int restart_kill;            /* SIGKILL instead of a graceful SIGTERM */
    double restart_outage_s;
} sb_pair_spec;

/* Fill in the defaults every role starts from (prefix, backend, one device of 1000 messages
 * of 256 bytes). */
void sb_device_spec_init(sb_device_spec *s);
void sb_gateway_spec_init(sb_gateway_spec *s);
void sb_pair_spec_init(sb_pair_spec *s);

/* Every real suite (not null) and every group the backend can do. */
sb_hs_policy sb_backend_policy(const sb_backend *be);

/* ---- the report ----------------------------------------------------------------------- */

typedef enum sb_role_kind { SB_ROLE_KIND_DEVICE, SB_ROLE_KIND_GATEWAY, SB_ROLE_KIND_PAIR } sb_role_kind;

typedef struct sb_role_broker { /* the broker a role used */
    char uri[256];
    int is_private;
    char version[32];            /* private broker */
    char *config;                /* private broker of `pair`: its configuration (malloc'd) */
    int has_cpu;                 /* private broker: its CPU time at the end */
    double cpu_user_s, cpu_sys_s;
} sb_role_broker;

/* Hardware counters of the publishing thread over the publish phase. */
typedef struct sb_role_counting {
    int wanted, available;
    char library[64], events[128], why[256];
    uint64_t cycles, instructions;
    double wall_s;
} sb_role_counting;

/* This process, from getrusage at the end. */
typedef struct sb_role_process {
    int known;
    double cpu_user_s, cpu_sys_s, main_thread_cpu_s;
    long peak_rss_kb;
} sb_role_process;

/* The dataset the devices replayed. */
typedef struct sb_role_dataset {
    int used;
    char path[1024];
    const char *encoding, *pacing;
    double speed, span_s;
    uint64_t rows_read, rows_skipped, records, payload_bytes, timestamps_backwards;
    size_t payload_min_bytes, payload_max_bytes;
    unsigned first, n_devices;   /* n_devices: sessions */
    unsigned patients;           /* the dataset's devices replayed (sessions round-robin) */
    char **device_names;         /* the dataset's id of device first + k */
} sb_role_dataset;

typedef struct sb_role_restart {
    int planned, done, ok, kill;
    uint64_t at;
    double outage_s, took_s;
} sb_role_restart;

typedef struct sb_role_report { /* what a role measured */
    sb_role_kind kind;
    int ok;                      /* every device finished; no interruption; samples written */
    int interrupted;             /* stopped by a signal */
    char error[600];             /* the first thing that went wrong, one line; "" if none */
    int has_broker, has_device, has_gateway;
    sb_role_broker broker;
    sb_fleet_report device;
    sb_gateway_report gateway;
    sb_role_counting counters;
    sb_role_process process;
    sb_role_dataset dataset;
    sb_role_restart restart;
} sb_role_report;

/* Run a role to its end. stop (may be NULL) is polled: a signal handler sets it. The report
 * says what was measured even when the run failed; free it with sb_role_report_free. Returns
 * 0 when r->ok, else 1. Nothing is printed: r->error says what went wrong. */
int sb_role_device(const sb_device_spec *s, volatile sig_atomic_t *stop, sb_role_report *r);
int sb_role_gateway(const sb_gateway_spec *s, volatile sig_atomic_t *stop, sb_role_report *r);
int sb_role_pair(const sb_pair_spec *s, volatile sig_atomic_t *stop, sb_role_report *r);

/* The report as the one JSON object the commands print and the runner keeps in raw/
 * (the fields are listed in each command's --help and in results/README.md). */
json_t *sb_role_report_json(const sb_role_report *r);

void sb_role_report_free(sb_role_report *r);

#endif
