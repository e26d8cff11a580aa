/* Experiment configs (the .ini files of experiments/configs/, read with libinih): the factors of a study and
 * their levels, expanded into the cells the runner measures.
 *
 * A config has a [run] section (name, repetitions, seed, order, warmup), a [defaults] section
 * with one list of levels per factor, one or more [study NAME] sections that override some of
 * those lists, and an optional [micro] section for the microbenchmarks. Each study contributes
 * the cross product of its lists; cells a backend cannot run (a suite or group it lacks) are
 * dropped and listed with the reason, never substituted. The format is in experiments/README.md.
 *
 * Every error names the file, the line and the key: "quick.ini:12: key 'qos' in [defaults]:
 * level '3' is out of range (qos is 0, 1 or 2)". */
#ifndef SB_EXPERIMENTS_CONFIG_H
#define SB_EXPERIMENTS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ciphers/cipher.h"
#include "common/err.h"

#define SB_CELL_ID_MAX 200
#define SB_CFG_MAX_LEVELS 64

typedef enum sb_payload_kind { SB_PAYLOAD_SIZE, SB_PAYLOAD_DATASET } sb_payload_kind;

/* One level of the payload factor: "size:64" (synthetic, 64 bytes) or
 * "dataset:datasets/vitals_small.csv:cbor" (the records of a CSV dataset in an encoding). */
typedef struct sb_payload_level {
    sb_payload_kind kind;
    size_t size;      /* SB_PAYLOAD_SIZE */
    char *dataset;    /* SB_PAYLOAD_DATASET: path as written (relative to the working directory) */
    char *encoding;   /* json, csv or cbor */
    char label[96];   /* "size64" or "vitals_small-cbor": as it appears in cell ids */
} sb_payload_level;

typedef enum sb_topology {
    SB_TOPO_INPROC, /* device and gateway in one process: one-way latency on one clock */
    SB_TOPO_SPLIT   /* device and gateway in separate processes (hosts): round trips by echo */
} sb_topology;

typedef struct sb_cell {
    char id[SB_CELL_ID_MAX]; /* unique in the plan, usable as a file name */
    const char *study;       /* points into the plan */
    const sb_backend *be;
    const sb_suite *suite;
    const sb_group *group;
    int psk;                 /* auth: 1 psk, 0 none */
    const sb_payload_level *payload; /* points into the plan */
    size_t pad;              /* pad bodies to a multiple of this; 0: none */
    int qos;
    uint64_t rekey;          /* messages per epoch; 0: never */
    double rate_hz;          /* per device; 0: as fast as possible */
    unsigned devices;
    sb_topology topology;
    uint64_t messages;       /* measured messages per device (a dataset may have fewer) */
    uint64_t warmup;         /* per device, sent before the measured ones */
    double estimate_s;       /* rough wall time of one repetition (model in plan.c) */
} sb_cell;

/* A cell a backend cannot run: "sodium lacks suite aes-128-gcm: libsodium has no AES-128-GCM". */
typedef struct sb_dropped_cell {
    char id[SB_CELL_ID_MAX];
    char why[160];
} sb_dropped_cell;

/* Microbenchmark operations (bit i = 1 << op). */
typedef enum sb_micro_op {
    SB_MICRO_SEAL, SB_MICRO_OPEN, SB_MICRO_FORGE, SB_MICRO_KEYGEN, SB_MICRO_ECDH,
    SB_MICRO_HANDSHAKE, SB_MICRO_REKEY, SB_MICRO_OPS
} sb_micro_op;
extern const char *const sb_micro_op_names[SB_MICRO_OPS];

typedef struct sb_micro_plan {
    int enabled;                 /* a [micro] section was given */
    const sb_backend *backends[8];
    size_t n_backends;
    const sb_suite *suites[SB_SUITE_COUNT];
    size_t n_suites;
    const sb_group *groups[SB_GROUP_COUNT];
    size_t n_groups;
    size_t sizes[SB_CFG_MAX_LEVELS];
    size_t n_sizes;
    unsigned ops;                /* bit mask of sb_micro_op */
    unsigned repetitions;        /* Google Benchmark repetitions */
    double min_time_s;           /* per repetition */
    double estimate_s;           /* over the cases the backends can run */
} sb_micro_plan;

typedef struct sb_plan {
    char *path;        /* as given */
    char *text;        /* the file's bytes */
    char *name;        /* [run] name */
    char *description; /* [run] description, may be empty */
    unsigned repetitions;
    uint64_t seed;
    int shuffle;       /* [run] order = shuffled (default) or sequential */
    int tcp_nodelay;   /* [run] tcp_nodelay = on (default) or off: Nagle on MQTT sockets */
    char **studies;    /* names, in file order */
    size_t n_studies;
    sb_payload_level *payloads; /* every payload level used */
    size_t n_payloads;
    sb_cell *cells;    /* in file order: study, then the factors' nested loops (backend
                        * outermost, then suite, group, auth, payload, pad, qos, rekey, rate,
                        * devices, topology) */
    size_t n_cells;
    sb_dropped_cell *dropped; /* in the same order */
    size_t n_dropped;
    sb_micro_plan micro;
    double estimate_s; /* every cell x repetition plus the microbenchmarks */
} sb_plan;

/* Read and expand a config. On failure err holds one line and *out is left empty (safe to
 * free): "FILE:LINE: key 'K' in [SECTION]: what is wrong (what to do)" for a key,
 * "FILE:LINE: section [S]: ..." or "FILE:LINE: study 'S': ..." for a section (its header's
 * line), "FILE:LINE: syntax error: ..." for a line libinih refused, and "FILE: ..." when no line
 * is to blame (no [run] section). SB_ERR_IO: unreadable file; SB_ERR_NOMEM; SB_ERR_PARSE:
 * everything else. Dataset paths are checked against the working directory. */
sb_err sb_plan_load(const char *path, sb_plan *out, char *err, size_t err_len);

void sb_plan_free(sb_plan *p);

#endif
