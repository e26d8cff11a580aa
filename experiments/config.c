/* Experiment configs: an INI file read with libinih and expanded into the cells the runner
 * measures (experiments/config.h; the format is "Config format" in experiments/README.md).
 *
 * libinih does the lexing. It tells its handler neither the line number (Debian builds it with
 * INI_HANDLER_LINENO 0) nor when a section starts, so the file is fed to ini_parse_stream by
 * our own reader, one physical line per call: the reader counts lines, sees section headers
 * (empty studies, duplicate sections and the line of every section come from there) and knows
 * whether a line is indented, which is how libinih marks a continuation line. The handler keeps
 * the first error and returns 0. A key's value is parsed when the key is complete, that is at
 * the next key, section or end of file, because continuation lines may still add to it.
 *
 * Interpretation happens after the whole file is read, because a study inherits from
 * [defaults] whichever comes first in the file. */
#include "experiments/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#include <ini.h>

#include "datasets/encode.h"
#include "protocol/session.h"

const char *const sb_micro_op_names[SB_MICRO_OPS] = {
    "seal", "open", "forge", "keygen", "ecdh", "handshake", "rekey",
};

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

/* ---- what a config may say --------------------------------------------------------------- */

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

static const char *const auth_words[] = {"none", "psk"};           /* index = sb_cell.psk */
static const char *const topology_words[] = {"inproc", "split"};   /* index = sb_topology */
static const char *const order_words[] = {"sequential", "shuffled"}; /* index = plan.shuffle */
static const char *const onoff_words[] = {"off", "on"};

#define WORDS(w) .words = (w), .n_words = sizeof(w) / sizeof((w)[0])

static const key_spec keys[] = {
    /* [run] */
    {.name = "name", .sections = SEC_RUN, .slot = S_NAME, .type = T_NAME},
    {.name = "description", .sections = SEC_RUN, .slot = S_DESCRIPTION, .type = T_TEXT},
    {.name = "repetitions", .sections = SEC_RUN | SEC_MICRO, .slot = S_REPETITIONS,
     .type = T_UINT, .min = 1, .max = 1000, .range = "1 to 1000"},
    {.name = "seed", .sections = SEC_RUN, .slot = S_SEED, .type = T_UINT, .max = UINT64_MAX,
     .range = "0 to 18446744073709551615"},
    {.name = "order", .sections = SEC_RUN, .slot = S_ORDER, .type = T_WORD,
     .range = "shuffled or sequential", WORDS(order_words)},
    {.name = "tcp_nodelay", .sections = SEC_RUN, .slot = S_NODELAY, .type = T_WORD,
     .range = "on or off", WORDS(onoff_words)},
    {.name = "warmup", .sections = SEC_RUN | SEC_FACTORS, .slot = S_WARMUP, .type = T_UINT,
     .max = 9999999, .range = "0 to 9999999",
     .too_large = "ten million unmeasured messages per device is a run of its own, not a "
                  "warm-up"},
    /* the factors */
    {.name = "backend", .sections = SEC_FACTORS | SEC_MICRO, .slot = S_BACKEND,
     .type = T_BACKEND, .list = 1, .all = 1},
    {.name = "suite", .sections = SEC_FACTORS | SEC_MICRO, .slot = S_SUITE, .type = T_SUITE,
     .list = 1, .all = 1},
    {.name = "group", .sections = SEC_FACTORS | SEC_MICRO, .slot = S_GROUP, .type = T_GROUP,
     .list = 1, .all = 1},
    {.name = "auth", .sections = SEC_FACTORS, .slot = S_AUTH, .type = T_WORD, .list = 1,
     .range = "psk or none", WORDS(auth_words)},
    {.name = "payload", .sections = SEC_FACTORS, .slot = S_PAYLOAD, .type = T_PAYLOAD,
     .list = 1, .min = 1, .max = 1048576,
     .range = "size:BYTES (1 to 1048576) or dataset:PATH:ENCODING (json, csv or cbor)"},
    {.name = "pad", .sections = SEC_FACTORS, .slot = S_PAD, .type = T_UINT, .list = 1,
     .min = 16, .max = 65536, .zero_ok = 1, .range = "0 (none) or 16 to 65536",
     .too_small = "padding to a multiple of fewer than 16 bytes still shows the length to "
                  "within a few bytes, so it hides next to nothing while costing the padding"},
    {.name = "qos", .sections = SEC_FACTORS, .slot = S_QOS, .type = T_UINT, .list = 1,
     .max = 2, .range = "0, 1 or 2"},
    {.name = "rekey", .sections = SEC_FACTORS, .slot = S_REKEY, .type = T_UINT, .list = 1,
     .min = 2, .max = SB_SEQ_LIMIT_DEFAULT, .zero_ok = 1,
     .range = "0 (never) or 2 to 4294967296",
     .too_small = "an epoch of one message is a handshake before every message: the cell would "
                  "time handshakes, which [micro] ops = handshake measures directly",
     .too_large = "a session refuses the 2^32nd message of an epoch, so a longer epoch is "
                  "never reached"},
    {.name = "rate", .sections = SEC_FACTORS, .slot = S_RATE, .type = T_REAL, .list = 1,
     .range = "0 (as fast as possible) or more, in Hz"},
    {.name = "devices", .sections = SEC_FACTORS, .slot = S_DEVICES, .type = T_UINT, .list = 1,
     .min = 1, .max = 10000, .range = "1 to 10000"},
    {.name = "topology", .sections = SEC_FACTORS, .slot = S_TOPOLOGY, .type = T_WORD,
     .list = 1, .range = "inproc or split", WORDS(topology_words)},
    {.name = "messages", .sections = SEC_FACTORS, .slot = S_MESSAGES, .type = T_UINT, .min = 1,
     .max = 1000000000, .range = "1 to 1000000000",
     .too_large = "more than 1e9 measured messages per device is days per cell even "
                  "unthrottled"},
    /* [micro] */
    {.name = "sizes", .sections = SEC_MICRO, .slot = S_SIZES, .type = T_UINT, .list = 1,
     .min = 1, .max = 65536, .range = "1 to 65536"},
    {.name = "ops", .sections = SEC_MICRO, .slot = S_OPS, .type = T_WORD, .list = 1, .all = 1,
     .range = "seal, open, forge, keygen, ecdh, handshake, rekey or all",
     WORDS(sb_micro_op_names)},
    {.name = "min_time", .sections = SEC_MICRO, .slot = S_MIN_TIME, .type = T_REAL, .max = 60,
     .range = "more than 0 and at most 60 (seconds)"},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

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

/* ---- errors ------------------------------------------------------------------------------ */

static void vfail(ctx *c, sb_err rc, unsigned line, const char *prefix, const char *fmt,
                  va_list ap)
{
    c->stop = 1;
    /* An error no line is to blame for (0) sorts after every line. */
    if (c->have_err && (line ? line : UINT_MAX) >= (c->err_line ? c->err_line : UINT_MAX))
        return;
    int n = line ? snprintf(c->err, sizeof c->err, "%s:%u: %s", c->path, line, prefix)
                 : snprintf(c->err, sizeof c->err, "%s: %s", c->path, prefix);
    if (n >= 0 && (size_t)n < sizeof c->err)
        vsnprintf(c->err + n, sizeof c->err - (size_t)n, fmt, ap);
    c->have_err = 1;
    c->err_line = line;
    c->rc = rc;
}

__attribute__((format(printf, 3, 4)))
static void fail(ctx *c, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, SB_ERR_PARSE, line, "", fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 5, 6)))
static void key_fail(ctx *c, unsigned line, const section *s, const char *key, const char *fmt,
                     ...)
{
    char prefix[160];
    snprintf(prefix, sizeof prefix, "key '%s' in [%s]: ", key, s->name);
    va_list ap;
    va_start(ap, fmt);
    vfail(c, SB_ERR_PARSE, line, prefix, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void nomem(ctx *c, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, SB_ERR_NOMEM, line, "out of memory ", fmt, ap);
    va_end(ap);
}

/* ---- small helpers ------------------------------------------------------------------------- */

static int name_char(int ch)
{
    return isalnum(ch) || ch == '_' || ch == '.' || ch == '-';
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!name_char((unsigned char)*s))
            return 0;
    return 1;
}

static const key_spec *key_of(enum slot s)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].slot == s)
            return &keys[i];
    return NULL;
}

static const char *key_name_of(enum slot s)
{
    return key_of(s)->name;
}

/* Append to a string, truncating at cap. */
__attribute__((format(printf, 3, 4)))
static void appendf(char *out, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    if (n + 1 < cap)
        vsnprintf(out + n, cap - n, fmt, ap);
    va_end(ap);
}

/* The keys a section kind takes, for "unknown key" messages. */
static void known_keys(unsigned kind, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].sections & kind)
            appendf(out, cap, "%s%s", out[0] ? ", " : "", keys[i].name);
}

/* The known backends, suites or groups, for "unknown ..." messages. */
static void list_names(enum type t, char *out, size_t cap)
{
    out[0] = '\0';
    if (t == T_BACKEND)
        for (const sb_backend *const *be = sb_backends; *be; be++)
            appendf(out, cap, "%s, ", (*be)->name);
    else if (t == T_SUITE)
        for (unsigned i = 0; i < SB_SUITE_COUNT; i++)
            appendf(out, cap, "%s, ", sb_suite_by_id(i)->name);
    else if (t == T_GROUP)
        for (unsigned i = 1; i < SB_GROUP_COUNT; i++)
            appendf(out, cap, "%s, ", sb_group_by_id(i)->name);
    appendf(out, cap, "or all");
}

/* strtoull accepts a sign, leading spaces and an empty number; a config value must be digits. */
static const char *parse_u64(const char *s, uint64_t *out)
{
    if (*s == '-')
        return "is negative";
    if (!isdigit((unsigned char)*s))
        return "is not a whole number";
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return "is not a whole number";
    if (errno == ERANGE)
        return "is too large";
    *out = v;
    return NULL;
}

/* Decimal only: strtod also takes "inf", "nan" and hex floats, which no config means. */
static const char *parse_real(const char *s, double *out)
{
    if (*s == '-')
        return "is negative";
    if (!isdigit((unsigned char)*s) && *s != '.')
        return "is not a number";
    if (strpbrk(s, "xX"))
        return "is not a decimal number";
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end)
        return "is not a number";
    if (errno == ERANGE || !isfinite(v))
        return "is out of range";
    *out = v;
    return NULL;
}

/* ---- payload levels -------------------------------------------------------------------------- */

static void payload_free(sb_payload_level *p)
{
    if (p) {
        free(p->dataset);
        free(p->encoding);
        free(p);
    }
}

static int payload_same(const sb_payload_level *a, const sb_payload_level *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == SB_PAYLOAD_SIZE)
        return a->size == b->size;
    return strcmp(a->dataset, b->dataset) == 0 && strcmp(a->encoding, b->encoding) == 0;
}

static sb_payload_level *pool_add(ctx *c, sb_payload_level *p)
{
    sb_payload_level **grown = realloc(c->pool, (c->n_pool + 1) * sizeof *grown);
    if (!grown) {
        payload_free(p);
        return NULL;
    }
    c->pool = grown;
    c->pool[c->n_pool++] = p;
    return p;
}

/* Parses one payload level into the pool. Returns it, or NULL after fail(). */
static const sb_payload_level *parse_payload(ctx *c, unsigned line, const section *s,
                                             const key_spec *k, const char *item)
{
    sb_payload_level *p = calloc(1, sizeof *p);
    if (!p) {
        nomem(c, line, "reading a payload level");
        return NULL;
    }
    if (strncmp(item, "size:", 5) == 0) {
        uint64_t v = 0;
        const char *why = parse_u64(item + 5, &v);
        if (!why && (v < k->min || v > k->max))
            why = "is out of range";
        if (why) {
            key_fail(c, line, s, k->name, "level '%s': size '%s' %s (sizes are 1 to 1048576 bytes)",
                     item, item + 5, why);
            goto bad;
        }
        p->kind = SB_PAYLOAD_SIZE;
        p->size = (size_t)v;
        snprintf(p->label, sizeof p->label, "size%zu", p->size);
    } else if (strncmp(item, "dataset:", 8) == 0) {
        const char *path = item + 8, *colon = strrchr(path, ':');
        if (!colon || colon == path || !colon[1]) {
            key_fail(c, line, s, k->name,
                     "level '%s' is not dataset:PATH:ENCODING (e.g. "
                     "dataset:datasets/vitals_small.csv:cbor)", item);
            goto bad;
        }
        if (sb_encoding_parse(colon + 1) < 0) {
            key_fail(c, line, s, k->name, "level '%s': unknown encoding '%s' (known: json, csv, cbor)",
                     item, colon + 1);
            goto bad;
        }
        p->kind = SB_PAYLOAD_DATASET;
        p->dataset = strndup(path, (size_t)(colon - path));
        p->encoding = strdup(colon + 1);
        if (!p->dataset || !p->encoding) {
            nomem(c, line, "reading a payload level");
            goto bad;
        }
        /* Checked now rather than when the cell runs: a typo should not cost the cells before it. */
        struct stat st;
        int fd = open(p->dataset, O_RDONLY | O_CLOEXEC);
        int e = fd < 0 ? errno : fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
        if (fd >= 0)
            close(fd);
        if (e) {
            char cwd[PATH_MAX];
            key_fail(c, line, s, k->name,
                     "dataset file '%s' cannot be read: %s (a relative path starts at the working "
                     "directory, %s)", p->dataset, strerror(e),
                     getcwd(cwd, sizeof cwd) ? cwd : "unknown");
            goto bad;
        }
        /* The label is the base name without its extension; '.' separates the fields of a cell
         * id and other characters may not be safe in file names, so both become '_'. */
        const char *base = strrchr(p->dataset, '/');
        base = base ? base + 1 : p->dataset;
        const char *dot = strrchr(base, '.');
        size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        if (stem + 1 + strlen(p->encoding) >= sizeof p->label) {
            key_fail(c, line, s, k->name,
                     "level '%s': the file name is too long to label cell ids (rename the file "
                     "to at most %zu characters before the extension)", item,
                     sizeof p->label - 2 - strlen(p->encoding));
            goto bad;
        }
        for (size_t i = 0; i < stem; i++)
            p->label[i] = isalnum((unsigned char)base[i]) || base[i] == '-' ? base[i] : '_';
        snprintf(p->label + stem, sizeof p->label - stem, "-%s", p->encoding);
    } else {
        key_fail(c, line, s, k->name, "level '%s' is not size:BYTES or dataset:PATH:ENCODING "
                 "(e.g. size:64, dataset:datasets/vitals_small.csv:cbor)", item);
        goto bad;
    }
    if (!pool_add(c, p)) {
        nomem(c, line, "reading a payload level");
        return NULL;
    }
    return p;
bad:
    payload_free(p);
    return NULL;
}

/* ---- values ------------------------------------------------------------------------------- */

static int level_same(enum type t, level a, level b)
{
    switch (t) {
    case T_REAL: return a.d == b.d;
    case T_UINT:
    case T_WORD: return a.u == b.u;
    case T_PAYLOAD: return payload_same(a.p, b.p);
    default: return a.p == b.p;
    }
}

/* `all` for backend, suite, group or ops: every value, in registry order. */
static void expand_all(const key_spec *k, levels *out)
{
    out->n = 0;
    if (k->type == T_BACKEND)
        for (const sb_backend *const *be = sb_backends; *be && out->n < SB_CFG_MAX_LEVELS; be++)
            out->v[out->n++].p = *be;
    else if (k->type == T_SUITE)
        for (unsigned i = 0; i < SB_SUITE_COUNT; i++)
            out->v[out->n++].p = sb_suite_by_id(i);
    else if (k->type == T_GROUP)
        for (unsigned i = 1; i < SB_GROUP_COUNT; i++)
            out->v[out->n++].p = sb_group_by_id(i);
    else
        for (size_t i = 0; i < k->n_words; i++)
            out->v[out->n++].u = i;
}

/* One level of a key; 0 on success, -1 after fail(). */
static int parse_level(ctx *c, unsigned line, const section *s, const key_spec *k,
                       const char *item, level *out)
{
    char known[256];
    const char *why;
    switch (k->type) {
    case T_BACKEND:
        if ((out->p = sb_backend_by_name(item)))
            return 0;
        list_names(k->type, known, sizeof known);
        key_fail(c, line, s, k->name, "unknown backend '%s' (known: %s)", item, known);
        return -1;
    case T_SUITE:
        if ((out->p = sb_suite_by_name(item)))
            return 0;
        list_names(k->type, known, sizeof known);
        key_fail(c, line, s, k->name, "unknown suite '%s' (known: %s)", item, known);
        return -1;
    case T_GROUP:
        if ((out->p = sb_group_by_name(item)))
            return 0;
        list_names(k->type, known, sizeof known);
        key_fail(c, line, s, k->name, "unknown group '%s' (known: %s)", item, known);
        return -1;
    case T_WORD:
        for (size_t i = 0; i < k->n_words; i++)
            if (strcmp(k->words[i], item) == 0) {
                out->u = i;
                return 0;
            }
        key_fail(c, line, s, k->name, "unknown %s '%s' (known: %s)", k->list ? "level" : "value",
                 item, k->range);
        return -1;
    case T_PAYLOAD:
        return (out->p = parse_payload(c, line, s, k, item)) ? 0 : -1;
    case T_UINT:
        if ((why = parse_u64(item, &out->u)))
            break;
        if (out->u == 0 && k->zero_ok)
            return 0;
        if (out->u < k->min && k->too_small) {
            key_fail(c, line, s, k->name, "%s '%s' is too small: %s (%s is %s)",
                     k->list ? "level" : "value", item, k->too_small, k->name, k->range);
            return -1;
        }
        if (out->u > k->max && k->too_large) {
            key_fail(c, line, s, k->name, "%s '%s' is too large: %s (%s is %s)",
                     k->list ? "level" : "value", item, k->too_large, k->name, k->range);
            return -1;
        }
        if (out->u < k->min || out->u > k->max)
            why = "is out of range";
        if (!why)
            return 0;
        break;
    case T_REAL:
        if ((why = parse_real(item, &out->d)))
            break;
        /* rate: [0, inf); min_time: (0, max]. */
        if (k->max && (out->d <= 0 || out->d > (double)k->max))
            why = "is out of range";
        if (!why)
            return 0;
        break;
    default:
        return -1;
    }
    key_fail(c, line, s, k->name, "%s '%s' %s (%s is %s)", k->list ? "level" : "value", item, why,
             k->name, k->range);
    return -1;
}

/* The complete value of key k (continuation lines joined), into section s. */
static void store_value(ctx *c, section *s, const key_spec *k, unsigned line, char *value)
{
    levels *out = &s->v[k->slot];
    value = sb_trim(value);
    if (!*value) {
        key_fail(c, line, s, k->name, "empty value (give %s, or delete the line for the default)",
                 k->range ? k->range : "a value");
        return;
    }
    if (k->type == T_TEXT || k->type == T_NAME) {
        if (k->type == T_NAME && (!valid_name(value) || strlen(value) > RUN_NAME_MAX)) {
            key_fail(c, line, s, k->name, "'%s' is not a name: it names the results folder "
                     "(use at most %d letters, digits, '_', '.' and '-')", value, RUN_NAME_MAX);
            return;
        }
        if (!(s->text[k->slot] = strdup(value))) {
            nomem(c, line, "reading key '%s'", k->name);
            return;
        }
        out->line = line;
        out->sec = s;
        return;
    }
    if (!k->list && strchr(value, ',')) {
        key_fail(c, line, s, k->name, "takes one value, not a list (to compare several, give each "
                 "its own [study])");
        return;
    }
    levels lv = {.line = line, .sec = s};
    for (char *item = value, *next; item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        item = sb_trim(item);
        if (!*item) {
            key_fail(c, line, s, k->name, "empty level in the list (remove the extra comma)");
            return;
        }
        if (k->all && strcmp(item, "all") == 0) {
            if (lv.n || next) {
                key_fail(c, line, s, k->name, "level 'all' must stand alone (it already "
                         "includes every %s)", k->name);
                return;
            }
            expand_all(k, &lv);
            break;
        }
        if (lv.n == SB_CFG_MAX_LEVELS) {
            key_fail(c, line, s, k->name, "more than %d levels (split the study)",
                     SB_CFG_MAX_LEVELS);
            return;
        }
        level v;
        if (parse_level(c, line, s, k, item, &v) != 0)
            return;
        for (size_t i = 0; i < lv.n; i++) {
            if (level_same(k->type, lv.v[i], v)) {
                key_fail(c, line, s, k->name, "duplicate level '%s' (give each level once)", item);
                return;
            }
            if (k->type == T_PAYLOAD &&
                strcmp(((const sb_payload_level *)lv.v[i].p)->label,
                       ((const sb_payload_level *)v.p)->label) == 0) {
                key_fail(c, line, s, k->name, "level '%s' would share the label '%s' of an "
                         "earlier level in cell ids (rename one of the files)", item,
                         ((const sb_payload_level *)v.p)->label);
                return;
            }
        }
        lv.v[lv.n++] = v;
    }
    *out = lv;
}

/* The key being read is complete: parse it. */
static void finish_key(ctx *c)
{
    if (!c->pend.active)
        return;
    c->pend.active = 0;
    store_value(c, c->pend.sec, c->pend.key, c->pend.line, c->pend.value);
    free(c->pend.value);
    c->pend.value = NULL;
}

/* ---- sections ------------------------------------------------------------------------------ */

static section *find_kind(const ctx *c, enum sec_kind kind)
{
    for (size_t i = 0; i < c->n_secs; i++)
        if (c->secs[i]->kind == kind)
            return c->secs[i];
    return NULL;
}

static void section_free(section *s)
{
    if (!s)
        return;
    free(s->name);
    for (int i = 0; i < S_COUNT; i++)
        free(s->text[i]);
    free(s);
}

/* A "[name]" line; name is as libinih will see it (between '[' and the first ']'). */
static void open_section(ctx *c, const char *name, size_t len)
{
    section *s = calloc(1, sizeof *s);
    section **grown = s ? realloc(c->secs, (c->n_secs + 1) * sizeof *grown) : NULL;
    if (grown)
        c->secs = grown;
    if (!grown || !(s->name = strndup(name, len))) {
        section_free(s);
        nomem(c, c->line, "reading a section");
        return;
    }
    s->line = c->line;
    c->cur = s;
    c->secs[c->n_secs++] = s;

    if (strcmp(s->name, "run") == 0)
        s->kind = SEC_RUN;
    else if (strcmp(s->name, "defaults") == 0)
        s->kind = SEC_DEFAULTS;
    else if (strcmp(s->name, "micro") == 0)
        s->kind = SEC_MICRO;
    else if (strncmp(s->name, "study", 5) == 0 && (!s->name[5] || s->name[5] == ' ')) {
        s->kind = SEC_STUDY;
        s->study = s->name[5] ? s->name + 6 : s->name + 5;
        if (!*s->study) {
            fail(c, c->line, "section [%s]: the study has no name (write [study NAME])", s->name);
            return;
        }
        if (!valid_name(s->study) || strlen(s->study) > STUDY_NAME_MAX) {
            fail(c, c->line, "section [%s]: study name '%s' is not a name: it prefixes every "
                 "cell id (use at most %d letters, digits, '_', '.' and '-')", s->name, s->study,
                 STUDY_NAME_MAX);
            return;
        }
        for (size_t i = 0; i + 1 < c->n_secs; i++)
            if (c->secs[i]->kind == SEC_STUDY && strcmp(c->secs[i]->study, s->study) == 0) {
                fail(c, c->line, "section [%s]: study '%s' given twice (first at line %u; study "
                     "names must be unique)", s->name, s->study, c->secs[i]->line);
                return;
            }
        return;
    } else {
        fail(c, c->line, "unknown section [%s] (known: [run], [defaults], [study NAME], [micro]; "
             "names are case-sensitive)", s->name);
        return;
    }
    for (size_t i = 0; i + 1 < c->n_secs; i++)
        if (c->secs[i]->kind == s->kind) {
            fail(c, c->line, "section [%s] given twice (first at line %u; merge the two)",
                 s->name, c->secs[i]->line);
            return;
        }
}

/* ---- libinih callbacks ---------------------------------------------------------------------- */

/* Look at a line the way libinih r55 will (ini.c, ini_parse_stream) to know what it is. */
static void look_at_line(ctx *c, const char *buf)
{
    const char *t = buf;
    if (c->line == 1 && (unsigned char)t[0] == 0xEF && (unsigned char)t[1] == 0xBB &&
        (unsigned char)t[2] == 0xBF)
        t += 3;
    while (isspace((unsigned char)*t))
        t++;
    c->continuation = 0;
    if (!*t || *t == ';' || *t == '#')
        return;
    /* libinih checks for a continuation before a section header: an indented "[x]" after a
     * key is more of that key's value. */
    if (c->have_prev && t > buf) {
        c->continuation = 1;
        return;
    }
    if (*t != '[')
        return;
    finish_key(c);
    c->have_prev = 0;
    /* The name ends at the first ']'; an inline comment (';' after whitespace) before it makes
     * the line an error for libinih, as does a missing ']'. */
    const char *e = t + 1;
    int was_space = 0;
    while (*e && *e != ']' && !(was_space && *e == ';')) {
        was_space = isspace((unsigned char)*e);
        e++;
    }
    if (*e != ']') {
        c->cur = NULL;
        c->stop = 1; /* libinih reports this line; nothing after it can be trusted */
        return;
    }
    open_section(c, t + 1, (size_t)(e - t - 1));
}

/* fgets for libinih over the file's bytes, counting lines. Lines longer than libinih's buffer
 * are refused: libinih would read the rest as a line of its own. */
static char *read_line(char *buf, int num, void *stream)
{
    ctx *c = stream;
    if (c->stop || c->pos >= c->len || num < 2)
        return NULL;
    const char *p = c->text + c->pos;
    const char *nl = memchr(p, '\n', c->len - c->pos);
    size_t n = nl ? (size_t)(nl - p) + 1 : c->len - c->pos;
    c->line++;
    if (n > (size_t)num - 1) {
        fail(c, c->line, "line is longer than %d characters, libinih's limit (continue a long "
             "list on indented lines under the key)", num - 2);
        return NULL;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    c->pos += n;
    look_at_line(c, buf);
    return buf;
}

/* A continuation line of the pending key. libinih r55 does not strip inline comments from
 * these lines (it does on key lines), so that is done here for consistency. */
static int continue_key(ctx *c, const char *value)
{
    if (strchr(value, '=') || value[0] == '[') {
        fail(c, c->line, "line is indented, so libinih reads it as more of the value of '%s' "
             "(line %u) (remove the indentation)", c->pend.key->name, c->pend.line);
        return 0;
    }
    size_t cut = strlen(value);
    for (size_t i = 1; i < cut; i++)
        if (value[i] == ';' && isspace((unsigned char)value[i - 1])) {
            cut = i;
            break;
        }
    /* In a list each line adds levels, whether or not the line before ends with a comma. */
    size_t old = strlen(c->pend.value);
    while (old && isspace((unsigned char)c->pend.value[old - 1]))
        old--;
    const char *sep = !old ? "" : c->pend.key->list && c->pend.value[old - 1] != ',' ? ", " : " ";
    char *grown = realloc(c->pend.value, old + strlen(sep) + cut + 1);
    if (!grown) {
        nomem(c, c->line, "reading key '%s'", c->pend.key->name);
        return 0;
    }
    c->pend.value = grown;
    snprintf(grown + old, strlen(sep) + cut + 1, "%s%.*s", sep, (int)cut, value);
    return 1;
}

static int on_key(void *user, const char *section_name, const char *name, const char *value)
{
    ctx *c = user;
    if (c->stop)
        return 0;
    if (c->continuation && c->pend.active)
        return continue_key(c, value);
    finish_key(c);
    if (c->stop)
        return 0;
    c->have_prev = 1;
    section *s = c->cur;
    if (!s) {
        fail(c, c->line, "key '%s' is outside any section (put it under [run], [defaults], "
             "[study NAME] or [micro])", name);
        return 0;
    }
    if (strcmp(section_name, s->name) != 0) {
        /* Our reading of the header disagrees with libinih's (a libinih other than r55?). */
        fail(c, c->line, "key '%s': libinih places it in [%s], not [%s] (simplify the section "
             "header)", name, section_name, s->name);
        return 0;
    }
    const key_spec *k = NULL;
    for (size_t i = 0; i < N_KEYS && !k; i++)
        if (strcmp(keys[i].name, name) == 0 && (keys[i].sections & s->kind))
            k = &keys[i];
    if (!k) {
        char known[256];
        known_keys(s->kind, known, sizeof known);
        key_fail(c, c->line, s, name, "unknown key (known here: %s)", known);
        return 0;
    }
    /* A key is marked given at its first line, before its value is parsed. */
    if (s->v[k->slot].line) {
        key_fail(c, c->line, s, name, "given twice (first at line %u; keep one)",
                 s->v[k->slot].line);
        return 0;
    }
    s->v[k->slot].line = c->line;
    s->v[k->slot].sec = s;
    if (!(c->pend.value = strdup(value))) {
        nomem(c, c->line, "reading key '%s'", name);
        return 0;
    }
    c->pend.active = 1;
    c->pend.key = k;
    c->pend.sec = s;
    c->pend.line = c->line;
    return 1;
}

/* ---- expansion -------------------------------------------------------------------------------- */

/* The built-in default of every factor (line 0). */
static int builtin_init(ctx *c)
{
    section *b = &c->builtin;
    b->name = (char *)"built-in defaults";
    for (int s = 0; s < S_COUNT; s++) {
        b->v[s].sec = b;
        b->v[s].n = 1;
    }
    expand_all(key_of(S_BACKEND), &b->v[S_BACKEND]);
    expand_all(key_of(S_SUITE), &b->v[S_SUITE]);
    b->v[S_GROUP].v[0].p = sb_group_by_id(SB_GROUP_X25519);
    b->v[S_AUTH].v[0].u = 1; /* psk */
    sb_payload_level *p = calloc(1, sizeof *p);
    if (!p || !pool_add(c, p))
        return -1;
    p->kind = SB_PAYLOAD_SIZE;
    p->size = 256;
    snprintf(p->label, sizeof p->label, "size%zu", p->size);
    b->v[S_PAYLOAD].v[0].p = p;
    b->v[S_MESSAGES].v[0].u = 1000;
    /* pad, qos, rekey, rate, warmup: 0; devices: 1; topology: inproc. */
    b->v[S_DEVICES].v[0].u = 1;
    return 0;
}

/* The list a study uses for a slot: its own, else [defaults]', else (warmup) [run]'s, else
 * the built-in one. */
static const levels *effective(const ctx *c, const section *study, const section *defaults,
                               const section *run, enum slot s)
{
    if (study && study->v[s].line)
        return &study->v[s];
    if (defaults && defaults->v[s].line)
        return &defaults->v[s];
    if (s == S_WARMUP && run && run->v[s].line)
        return &run->v[s];
    return &c->builtin.v[s];
}

/* The later of two keys (both given somewhere, or the combination could not be wrong). */
__attribute__((format(printf, 6, 7)))
static void combo_fail(ctx *c, const levels *a, enum slot sa, const levels *b, enum slot sb,
                       const char *fmt, ...)
{
    const levels *later = a->line >= b->line ? a : b;
    enum slot ls = later == a ? sa : sb, os = later == a ? sb : sa;
    const levels *other = later == a ? b : a;
    char prefix[256];
    snprintf(prefix, sizeof prefix, "key '%s' in [%s]: with %s at line %u: ", key_name_of(ls),
             later->sec->name, key_name_of(os), other->line);
    va_list ap;
    va_start(ap, fmt);
    vfail(c, SB_ERR_PARSE, later->line, prefix, fmt, ap);
    va_end(ap);
}

/* Combinations the runner cannot measure as asked. */
static void check_combinations(ctx *c, const levels *f[S_COUNT])
{
    const levels *topo = f[S_TOPOLOGY], *dev = f[S_DEVICES], *rate = f[S_RATE];
    for (size_t t = 0; t < topo->n; t++)
        for (size_t d = 0; d < dev->n; d++)
            if (topo->v[t].u == SB_TOPO_SPLIT && dev->v[d].u > SPLIT_MAX_DEVICES) {
                combo_fail(c, topo, S_TOPOLOGY, dev, S_DEVICES,
                           "topology split with %" PRIu64 " devices: split runs a process per "
                           "device and is limited to %d (use topology = inproc, or fewer "
                           "devices)", dev->v[d].u, SPLIT_MAX_DEVICES);
                return;
            }
    for (size_t r = 0; r < rate->n; r++)
        for (size_t d = 0; d < dev->n; d++)
            if (rate->v[r].d > 0 && rate->v[r].d * (double)dev->v[d].u > MAX_OFFERED_RATE) {
                combo_fail(c, rate, S_RATE, dev, S_DEVICES,
                           "rate %g Hz x %" PRIu64 " devices offers %.0f messages/s, more than "
                           "the %.0f one cell can be asked for (lower the rate or the devices)",
                           rate->v[r].d, dev->v[d].u, rate->v[r].d * (double)dev->v[d].u,
                           MAX_OFFERED_RATE);
                return;
            }
}

/* Shortest decimal that reads back as r, with '.' as 'p' (the id's separator) and no '+'. */
static void rate_label(double r, char *out, size_t cap)
{
    char tmp[40];
    if (r == floor(r) && r < 1e15)
        snprintf(tmp, sizeof tmp, "%.0f", r);
    else
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, r);
            if (strtod(tmp, NULL) == r)
                break;
        }
    size_t n = 0;
    for (const char *p = tmp; *p && n + 1 < cap; p++)
        if (*p != '+')
            out[n++] = *p == '.' ? 'p' : *p;
    out[n] = '\0';
}

/* Rough wall time of one repetition of a cell, for "N cells, about M minutes".
 *   setup:    0.8 s (broker session, handshake, process start) + 0.05 s per device
 *   messages: devices x (messages + warmup) / throughput, where throughput is what the fleet
 *             sustains unthrottled: 20000 msg/s at QoS 0, 6000 at QoS 1, 3000 at QoS 2
 *             (figures of the MQTT bench on one host), halved for split (every message crosses
 *             two processes and is echoed); with a rate, rate x devices, capped at that. */
static double cell_estimate_s(const sb_cell *cell)
{
    static const double unthrottled[3] = {20000, 6000, 3000};
    double thr = unthrottled[cell->qos];
    if (cell->topology == SB_TOPO_SPLIT)
        thr /= 2;
    if (cell->rate_hz > 0 && cell->rate_hz * cell->devices < thr)
        thr = cell->rate_hz * cell->devices;
    return 0.8 + 0.05 * cell->devices +
           (double)cell->devices * (double)(cell->messages + cell->warmup) / thr;
}

static int push_payload(sb_plan *p, const sb_payload_level *lv)
{
    for (size_t i = 0; i < p->n_payloads; i++)
        if (payload_same(&p->payloads[i], lv))
            return 0;
    sb_payload_level *grown = realloc(p->payloads, (p->n_payloads + 1) * sizeof *grown);
    if (!grown)
        return -1;
    p->payloads = grown;
    sb_payload_level *d = &p->payloads[p->n_payloads];
    *d = *lv;
    d->dataset = lv->dataset ? strdup(lv->dataset) : NULL;
    d->encoding = lv->encoding ? strdup(lv->encoding) : NULL;
    p->n_payloads++; /* counted before the check so that sb_plan_free frees what was copied */
    return (lv->dataset && !d->dataset) || (lv->encoding && !d->encoding) ? -1 : 0;
}

static const sb_payload_level *plan_payload(const sb_plan *p, const sb_payload_level *lv)
{
    for (size_t i = 0; i < p->n_payloads; i++)
        if (payload_same(&p->payloads[i], lv))
            return &p->payloads[i];
    return NULL;
}

typedef struct study_view {
    const section *sec; /* NULL: the implicit study */
    const char *name;
    unsigned line;
    const levels *f[S_COUNT];
    size_t n_cells;
} study_view;

/* Cells of one study, appended to p->cells / p->dropped in nesting order. */
static void expand_study(ctx *c, sb_plan *p, const study_view *st, const char *study_name)
{
    size_t idx[N_FACTORS] = {0};
    size_t kept_before = p->n_cells;
    size_t dropped_before = p->n_dropped;
    for (size_t done = 0; done < st->n_cells; done++) {
        const level *v[N_FACTORS];
        for (int f = 0; f < N_FACTORS; f++)
            v[f] = &st->f[f]->v[idx[f]];
        const sb_backend *be = v[S_BACKEND]->p;
        const sb_suite *suite = v[S_SUITE]->p;
        const sb_group *group = v[S_GROUP]->p;
        const sb_payload_level *pl = v[S_PAYLOAD]->p;
        char rate[40], id[SB_CELL_ID_MAX + 64];
        rate_label(v[S_RATE]->d, rate, sizeof rate);
        int n = snprintf(id, sizeof id,
                         "%s.%s.%s.%s.%s.%s.pad%" PRIu64 ".qos%" PRIu64 ".rekey%" PRIu64
                         ".rate%s.dev%" PRIu64 ".%s",
                         study_name, be->name, suite->name, group->name,
                         auth_words[v[S_AUTH]->u], pl->label, v[S_PAD]->u, v[S_QOS]->u,
                         v[S_REKEY]->u, rate, v[S_DEVICES]->u, topology_words[v[S_TOPOLOGY]->u]);
        if (n < 0 || n >= SB_CELL_ID_MAX) {
            fail(c, st->line, "study '%s': cell id '%s' is %d characters, more than %d (shorten "
                 "the study name or the dataset file name)", st->name, id, n, SB_CELL_ID_MAX - 1);
            return;
        }

        /* Dropped, never substituted: the reasons come from the backend's own table. */
        const char *why = NULL, *swhy = NULL, *gwhy = NULL;
        sb_cipher cipher;
        int no_suite = sb_cipher_get(be, suite, &cipher, &swhy) != SB_OK;
        int no_group = sb_kex_get(be, group, &gwhy) == NULL;
        char reason[sizeof p->dropped->why];
        if (no_suite || no_group) {
            int r = 0;
            if (no_suite)
                r = snprintf(reason, sizeof reason, "%s lacks suite %s: %s", be->name,
                             suite->name, swhy ? swhy : "unavailable");
            if (r < 0 || (size_t)r >= sizeof reason)
                r = (int)sizeof reason - 1;
            if (no_group)
                snprintf(reason + r, sizeof reason - (size_t)r, "%s%s lacks group %s: %s",
                         r ? "; " : "", be->name, group->name, gwhy ? gwhy : "unavailable");
            why = reason;
        }
        if (why) {
            sb_dropped_cell *d = &p->dropped[p->n_dropped++];
            memcpy(d->id, id, (size_t)n + 1);
            snprintf(d->why, sizeof d->why, "%s", why);
        } else {
            sb_cell *cell = &p->cells[p->n_cells++];
            memcpy(cell->id, id, (size_t)n + 1);
            cell->study = study_name;
            cell->be = be;
            cell->suite = suite;
            cell->group = group;
            cell->psk = (int)v[S_AUTH]->u;
            cell->payload = plan_payload(p, pl);
            cell->pad = (size_t)v[S_PAD]->u;
            cell->qos = (int)v[S_QOS]->u;
            cell->rekey = v[S_REKEY]->u;
            cell->rate_hz = v[S_RATE]->d;
            cell->devices = (unsigned)v[S_DEVICES]->u;
            cell->topology = (sb_topology)v[S_TOPOLOGY]->u;
            cell->messages = st->f[S_MESSAGES]->v[0].u;
            cell->warmup = st->f[S_WARMUP]->v[0].u;
            cell->estimate_s = cell_estimate_s(cell);
        }
        /* Next combination: the last factor varies fastest, as in nested loops. */
        for (int f = N_FACTORS - 1; f >= 0; f--) {
            if (++idx[f] < st->f[f]->n)
                break;
            idx[f] = 0;
        }
    }
    if (p->n_cells == kept_before)
        fail(c, st->line, "study '%s': every cell is dropped, e.g. %s: %s (add a backend that "
             "offers the suite and group, or remove the study)", st->name,
             p->dropped[dropped_before].id, p->dropped[dropped_before].why);
}

/* Microbenchmark cases that can run: (backend, suite, size) per seal/open/forge op and
 * (backend, group) per keygen/ecdh/handshake/rekey op. */
static size_t micro_cases(const sb_micro_plan *m)
{
    size_t aead = 0, kex = 0, aead_ops = 0, kex_ops = 0;
    for (size_t b = 0; b < m->n_backends; b++) {
        sb_cipher cipher;
        for (size_t s = 0; s < m->n_suites; s++)
            aead += sb_cipher_get(m->backends[b], m->suites[s], &cipher, NULL) == SB_OK;
        for (size_t g = 0; g < m->n_groups; g++)
            kex += sb_kex_get(m->backends[b], m->groups[g], NULL) != NULL;
    }
    for (int op = 0; op < SB_MICRO_OPS; op++)
        if (m->ops & (1u << op))
            *(op <= SB_MICRO_FORGE ? &aead_ops : &kex_ops) += 1;
    return aead_ops * aead * m->n_sizes + kex_ops * kex;
}

static void build_micro(ctx *c, const section *s, sb_micro_plan *m)
{
    static const size_t default_sizes[] = {16, 64, 256, 1024, 16384};
    levels all;
    const levels *lv;
    m->enabled = 1;

    lv = s->v[S_BACKEND].line ? &s->v[S_BACKEND] : (expand_all(key_of(S_BACKEND), &all), &all);
    for (size_t i = 0; i < lv->n && i < sizeof m->backends / sizeof m->backends[0]; i++)
        m->backends[m->n_backends++] = lv->v[i].p;
    lv = s->v[S_SUITE].line ? &s->v[S_SUITE] : (expand_all(key_of(S_SUITE), &all), &all);
    for (size_t i = 0; i < lv->n; i++)
        m->suites[m->n_suites++] = lv->v[i].p;
    lv = s->v[S_GROUP].line ? &s->v[S_GROUP] : (expand_all(key_of(S_GROUP), &all), &all);
    for (size_t i = 0; i < lv->n && m->n_groups < SB_GROUP_COUNT; i++)
        m->groups[m->n_groups++] = lv->v[i].p;
    if (s->v[S_SIZES].line)
        for (size_t i = 0; i < s->v[S_SIZES].n; i++)
            m->sizes[m->n_sizes++] = (size_t)s->v[S_SIZES].v[i].u;
    else
        for (size_t i = 0; i < sizeof default_sizes / sizeof default_sizes[0]; i++)
            m->sizes[m->n_sizes++] = default_sizes[i];
    if (s->v[S_OPS].line)
        for (size_t i = 0; i < s->v[S_OPS].n; i++)
            m->ops |= 1u << s->v[S_OPS].v[i].u;
    else
        m->ops = (1u << SB_MICRO_OPS) - 1;
    m->repetitions = s->v[S_REPETITIONS].line ? (unsigned)s->v[S_REPETITIONS].v[0].u : 10;
    m->min_time_s = s->v[S_MIN_TIME].line ? s->v[S_MIN_TIME].v[0].d : 0.05;

    /* Each case: its repetitions of min_time, plus about half again for Google Benchmark's
     * iteration-count probing, plus 0.2 s of setup (keys, buffers, the library). Only cases
     * the backends can run are counted. */
    size_t cases = micro_cases(m);
    if (!cases) {
        fail(c, s->line, "section [micro]: nothing to measure: no selected backend offers the "
             "selected suites (for seal, open, forge) or groups (for the other ops) (widen "
             "backend, suite or group)");
        return;
    }
    m->estimate_s = (double)cases * m->repetitions * m->min_time_s * 1.5 + 0.2 * (double)cases;
}

static void build_plan(ctx *c, sb_plan *p)
{
    const section *run = find_kind(c, SEC_RUN), *defaults = find_kind(c, SEC_DEFAULTS);
    const section *micro = find_kind(c, SEC_MICRO);
    if (!run) {
        fail(c, 0, "no [run] section (add [run] with name = a name for the results folder)");
        return;
    }
    if (!run->text[S_NAME]) {
        fail(c, run->line, "section [run]: key 'name' is missing (add name = a name for the "
             "results folder)");
        return;
    }
    p->name = strdup(run->text[S_NAME]);
    p->description = strdup(run->text[S_DESCRIPTION] ? run->text[S_DESCRIPTION] : "");
    p->repetitions = run->v[S_REPETITIONS].line ? (unsigned)run->v[S_REPETITIONS].v[0].u : 1;
    p->seed = run->v[S_SEED].line ? run->v[S_SEED].v[0].u : 1;
    p->shuffle = run->v[S_ORDER].line ? (int)run->v[S_ORDER].v[0].u : 1;
    p->tcp_nodelay = run->v[S_NODELAY].line ? (int)run->v[S_NODELAY].v[0].u : 1;

    size_t n_studies = 0;
    for (size_t i = 0; i < c->n_secs; i++)
        n_studies += c->secs[i]->kind == SEC_STUDY;
    size_t n_views = n_studies ? n_studies : 1;
    study_view *views = calloc(n_views, sizeof *views);
    p->studies = calloc(n_views, sizeof *p->studies);
    if (!p->name || !p->description || !views || !p->studies) {
        free(views);
        nomem(c, 0, "building the plan");
        return;
    }
    if (n_studies) {
        for (size_t i = 0, j = 0; i < c->n_secs; i++)
            if (c->secs[i]->kind == SEC_STUDY)
                views[j++] = (study_view){c->secs[i], c->secs[i]->study, c->secs[i]->line, {0}, 0};
    } else {
        views[0] = (study_view){NULL, p->name, defaults ? defaults->line : run->line, {0}, 0};
    }

    size_t total = 0;
    for (size_t i = 0; i < n_views && !c->have_err; i++) {
        study_view *st = &views[i];
        for (int s = 0; s < S_COUNT; s++)
            st->f[s] = effective(c, st->sec, defaults, run, (enum slot)s);
        check_combinations(c, st->f);
        if (c->have_err)
            break;
        /* Multiplying stops once past the cap, so the product cannot overflow (lists hold
         * at most 64 levels). */
        st->n_cells = 1;
        for (int f = 0; f < N_FACTORS && st->n_cells <= MAX_CELLS; f++)
            st->n_cells *= st->f[f]->n;
        if (st->n_cells > MAX_CELLS || total + st->n_cells > MAX_CELLS) {
            fail(c, st->line, "study '%s': the plan would have more than %d cells (narrow the "
                 "lists, or split the config)", st->name, MAX_CELLS);
            break;
        }
        total += st->n_cells;
        for (size_t f = 0; f < st->f[S_PAYLOAD]->n && !c->have_err; f++)
            if (push_payload(p, st->f[S_PAYLOAD]->v[f].p) != 0)
                nomem(c, 0, "building the plan");
    }
    if (!c->have_err) {
        p->cells = calloc(total ? total : 1, sizeof *p->cells);
        p->dropped = calloc(total ? total : 1, sizeof *p->dropped);
        if (!p->cells || !p->dropped)
            nomem(c, 0, "for %zu cells", total);
    }
    for (size_t i = 0; i < n_views && !c->have_err; i++) {
        if (!(p->studies[i] = strdup(views[i].name))) {
            nomem(c, 0, "building the plan");
            break;
        }
        p->n_studies++;
        expand_study(c, p, &views[i], p->studies[i]);
    }
    free(views);
    if (c->have_err)
        return;

    for (size_t i = 0; i < p->n_cells; i++)
        p->estimate_s += p->cells[i].estimate_s;
    p->estimate_s *= p->repetitions;
    if (micro) {
        build_micro(c, micro, &p->micro);
        p->estimate_s += p->micro.estimate_s;
    }
}

/* ---- entry points ----------------------------------------------------------------------------- */

static sb_err read_file(const char *path, char **text, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (!f)
        goto io;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *grown = realloc(buf, cap = 2 * cap + 8192);
            if (!grown) {
                fclose(f);
                free(buf);
                snprintf(err, err_len, "%s: out of memory reading the file", path);
                return SB_ERR_NOMEM;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto io;
    fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return SB_OK;
io:;
    int e = errno;
    if (f)
        fclose(f);
    free(buf);
    snprintf(err, err_len, "%s: cannot read the config: %s", path, strerror(e));
    return SB_ERR_IO;
}

/* A line libinih itself refused, described from its text. */
static void syntax_error(ctx *c, unsigned line)
{
    const char *p = c->text;
    for (unsigned l = 1; l < line && (p = strchr(p, '\n')); l++)
        p++;
    if (!p)
        p = "";
    while (*p == ' ' || *p == '\t')
        p++;
    int n = (int)strcspn(p, "\r\n");
    if (*p == '[')
        fail(c, line, "syntax error: section header '%.*s' has no closing ']' (write "
             "[section], with any ';' comment after the ']')", n, p);
    else
        fail(c, line, "syntax error: '%.*s' is neither 'key = value' nor a [section] header "
             "(add '=' or make it a comment with ';' or '#')", n > 60 ? 60 : n, p);
}

sb_err sb_plan_load(const char *path, sb_plan *out, char *err, size_t err_len)
{
    char dummy[1];
    if (!err || !err_len) {
        err = dummy;
        err_len = sizeof dummy;
    }
    err[0] = '\0';
    if (!out)
        return SB_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!path) {
        snprintf(err, err_len, "no config path given");
        return SB_ERR_ARG;
    }

    ctx c = {.path = path};
    size_t len = 0;
    sb_err rc = read_file(path, &out->text, &len, err, err_len);
    if (rc != SB_OK)
        return rc;
    if (!(out->path = strdup(path)) || builtin_init(&c) != 0) {
        nomem(&c, 0, "starting");
        goto done;
    }
    c.text = out->text;
    c.len = len;
    const char *nul = memchr(c.text, '\0', len);
    if (nul) {
        unsigned line = 1;
        for (const char *q = c.text; q < nul; q++)
            line += *q == '\n';
        fail(&c, line, "the file has a NUL byte (is it a text file?)");
        goto done;
    }

    int ini_rc = ini_parse_stream(read_line, &c, on_key, &c);
    finish_key(&c);
    /* libinih goes on after a line it cannot read and returns the first such line; our own
     * errors stop the reader. Whichever line comes first is the one to report. */
    if (ini_rc > 0 && (!c.have_err || (unsigned)ini_rc < c.err_line))
        syntax_error(&c, (unsigned)ini_rc);
    else if (ini_rc < 0 && !c.have_err)
        nomem(&c, 0, "in libinih");
    if (!c.have_err)
        build_plan(&c, out);

done:
    free(c.pend.value);
    for (size_t i = 0; i < c.n_secs; i++)
        section_free(c.secs[i]);
    free(c.secs);
    for (size_t i = 0; i < c.n_pool; i++)
        payload_free(c.pool[i]);
    free(c.pool);
    if (c.have_err) {
        snprintf(err, err_len, "%s", c.err);
        sb_plan_free(out);
        return c.rc;
    }
    /* Shrink the cell arrays to what was kept. */
    sb_cell *cells = realloc(out->cells, (out->n_cells ? out->n_cells : 1) * sizeof *cells);
    if (cells)
        out->cells = cells;
    sb_dropped_cell *dropped =
        realloc(out->dropped, (out->n_dropped ? out->n_dropped : 1) * sizeof *dropped);
    if (dropped)
        out->dropped = dropped;
    return SB_OK;
}

void sb_plan_free(sb_plan *p)
{
    if (!p)
        return;
    free(p->path);
    free(p->text);
    free(p->name);
    free(p->description);
    for (size_t i = 0; i < p->n_studies; i++)
        free(p->studies[i]);
    free(p->studies);
    for (size_t i = 0; i < p->n_payloads; i++) {
        free(p->payloads[i].dataset);
        free(p->payloads[i].encoding);
    }
    free(p->payloads);
    free(p->cells);
    free(p->dropped);
    memset(p, 0, sizeof *p);
}
