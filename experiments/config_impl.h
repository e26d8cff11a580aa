/* Private to experiments/: what the parts of the config reader share. config.c reads the file
 * (its keys, values and sections, through libinih); config_payload.c parses payload levels;
 * plan.c expands what was read into the cells and the [micro] plan (experiments/config.h is
 * the interface). */
#ifndef SB_EXPERIMENTS_CONFIG_IMPL_H
#define SB_EXPERIMENTS_CONFIG_IMPL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "experiments/config.h"

/* A plan is meant to be run: 100000 cells take more than a day even at the 0.85 s setup
 * floor of each, and hold about 30 MB of cells. More is a typo in a list, not an experiment. */
#define MAX_CELLS 100000
/* Study names prefix every cell id, and libinih truncates section names at 49 bytes. */
#define STUDY_NAME_MAX 40
#define RUN_NAME_MAX 64
/* Past this a cell asks more of the fleet than the broker and one host deliver (messages/s). */
#define MAX_OFFERED_RATE 1e6
/* Device and gateway in separate processes: one pair of each per device. */
#define SPLIT_MAX_DEVICES 1000

/* ---- what a config may say (the key table is config.c's) ------------------------------------ */

enum slot {
    /* The factors, in the nesting order of the cells (outermost first). */
    S_BACKEND, S_SUITE, S_GROUP, S_AUTH, S_PAYLOAD, S_PAD, S_QOS, S_REKEY, S_RATE, S_DEVICES,
    S_TOPOLOGY,
    /* One value per study. */
    S_MESSAGES, S_WARMUP,
    /* [run] and [micro]. */
    S_NAME, S_DESCRIPTION, S_REPETITIONS, S_SEED, S_ORDER, S_NODELAY, S_SIZES, S_OPS, S_MIN_TIME,
    S_COUNT
};
#define N_FACTORS (S_TOPOLOGY + 1)

enum sec_kind { SEC_RUN = 1, SEC_DEFAULTS = 2, SEC_STUDY = 4, SEC_MICRO = 8 };
#define SEC_FACTORS (SEC_DEFAULTS | SEC_STUDY)

enum type { T_BACKEND, T_SUITE, T_GROUP, T_WORD, T_PAYLOAD, T_UINT, T_REAL, T_TEXT, T_NAME };

typedef struct key_spec {
    const char *name;
    unsigned sections;         /* enum sec_kind bits */
    enum slot slot;
    enum type type;
    int list;                  /* comma-separated levels; else exactly one value */
    uint64_t min, max;         /* T_UINT bounds; T_REAL: max > 0 makes the range (0, max] */
    int zero_ok;               /* T_UINT: 0 ("off") is allowed below min */
    const char *range;         /* the allowed values in words */
    const char *too_small;     /* why values below min are refused, when not obvious */
    const char *too_large;     /* why values above max are refused, when not obvious */
    const char *const *words;  /* T_WORD: a level is its index */
    size_t n_words;
    int all;                   /* `all` stands for every known value */
} key_spec;

/* The words of the auth and topology keys, indexed as sb_cell.psk and sb_topology. */
extern const char *const sb_cfg_auth_words[2];
extern const char *const sb_cfg_topology_words[2];

/* ---- the file as read ----------------------------------------------------------------------- */

typedef union level {
    uint64_t u;    /* T_UINT, T_WORD (index) */
    double d;      /* T_REAL */
    const void *p; /* backend, suite, group, payload (into the pool) */
} level;

struct section;

typedef struct levels {
    unsigned line; /* of the key; 0: not given here */
    const struct section *sec;
    size_t n;
    level v[SB_CFG_MAX_LEVELS];
} levels;

typedef struct section {
    enum sec_kind kind;
    char *name;     /* between the brackets, as written: "study qos" */
    const char *study; /* SEC_STUDY: the part after "study " */
    unsigned line;
    levels v[S_COUNT];
    char *text[S_COUNT]; /* T_TEXT and T_NAME values */
} section;

typedef struct ctx {
    const char *path;
    const char *text;
    size_t len, pos;
    unsigned line;
    int continuation; /* libinih will treat the current line as more of the previous value */
    int have_prev;    /* mirror of libinih's prev_name: a key since the last section header */
    int stop;         /* the reader returns EOF */

    section **secs;
    size_t n_secs;
    section *cur;
    section builtin;  /* the built-in defaults, line 0 */

    struct {
        int active;
        const key_spec *key;
        section *sec;
        unsigned line;
        char *value;
    } pend;

    sb_payload_level **pool;
    size_t n_pool;

    sb_err rc;
    unsigned err_line; /* with have_err: the earliest error wins, whatever order it was found */
    int have_err;
    char err[512];
} ctx;

/* ---- shared helpers ------------------------------------------------------------------------ */

/* A decimal unsigned integer: NULL, or why it is not one (config.c). */
const char *sb_cfg_parse_u64(const char *s, uint64_t *out);
/* Errors: the earliest line's wins (config.c). */
__attribute__((format(printf, 3, 4)))
void sb_cfg_fail(ctx *c, unsigned line, const char *fmt, ...);
void sb_cfg_vfail(ctx *c, sb_err rc, unsigned line, const char *prefix, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4)))
void sb_cfg_nomem(ctx *c, unsigned line, const char *fmt, ...);
__attribute__((format(printf, 5, 6)))
void sb_cfg_key_fail(ctx *c, unsigned line, const section *s, const char *key, const char *fmt, ...);
const key_spec *sb_cfg_key_of(enum slot s);
const char *sb_cfg_key_name_of(enum slot s);
void sb_cfg_expand_all(const key_spec *k, levels *out);
section *sb_cfg_find_kind(const ctx *c, enum sec_kind kind);
sb_payload_level *sb_cfg_pool_add(ctx *c, sb_payload_level *p);
int sb_cfg_payload_same(const sb_payload_level *a, const sb_payload_level *b);
void sb_cfg_payload_free(sb_payload_level *p);
const sb_payload_level *sb_cfg_parse_payload(ctx *c, unsigned line, const section *s, const key_spec *k, const char *item);
void sb_cfg_build_plan(ctx *c, sb_plan *p);
int sb_cfg_builtin_init(ctx *c);

#endif
