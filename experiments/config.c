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
 * [defaults] whichever comes first in the file: plan.c expands it into cells, and
 * config_payload.c parses payload levels (experiments/config_impl.h holds what they share). */
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
#include "experiments/config_impl.h"
#include "protocol/session.h"

const char *const sb_cfg_auth_words[] = {"none", "psk"};           /* index = sb_cell.psk */
const char *const sb_cfg_topology_words[] = {"inproc", "split"};   /* index = sb_topology */
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
     .range = "psk or none", WORDS(sb_cfg_auth_words)},
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
     .list = 1, .range = "inproc or split", WORDS(sb_cfg_topology_words)},
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

/* ---- errors ------------------------------------------------------------------------------ */

void sb_cfg_vfail(ctx *c, sb_err rc, unsigned line, const char *prefix, const char *fmt,
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
void sb_cfg_fail(ctx *c, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_cfg_vfail(c, SB_ERR_PARSE, line, "", fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 5, 6)))
void sb_cfg_key_fail(ctx *c, unsigned line, const section *s, const char *key, const char *fmt,
                     ...)
{
    char prefix[160];
    snprintf(prefix, sizeof prefix, "key '%s' in [%s]: ", key, s->name);
    va_list ap;
    va_start(ap, fmt);
    sb_cfg_vfail(c, SB_ERR_PARSE, line, prefix, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4)))
void sb_cfg_nomem(ctx *c, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_cfg_vfail(c, SB_ERR_NOMEM, line, "out of memory ", fmt, ap);
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

const key_spec *sb_cfg_key_of(enum slot s)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].slot == s)
            return &keys[i];
    return NULL;
}

const char *sb_cfg_key_name_of(enum slot s)
{
    return sb_cfg_key_of(s)->name;
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

/* The registry's kind behind a key type (backend, suite and group keys only). */
static sb_kind registry_kind(enum type t)
{
    return t == T_BACKEND ? SB_KIND_BACKEND : t == T_SUITE ? SB_KIND_SUITE : SB_KIND_GROUP;
}

/* The known backends (built ones), suites or groups, for "unknown ..." messages. */
static void list_names(enum type t, char *out, size_t cap)
{
    out[0] = '\0';
    const void *p;
    for (size_t i = 0; (p = sb_registry_nth(registry_kind(t), i)); i++)
        appendf(out, cap, "%s, ", sb_registry_name(registry_kind(t), p));
    appendf(out, cap, "or all");
}

/* strtoull accepts a sign, leading spaces and an empty number; a config value must be digits. */
const char *sb_cfg_parse_u64(const char *s, uint64_t *out)
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

/* ---- values ------------------------------------------------------------------------------- */

static int level_same(enum type t, level a, level b)
{
    switch (t) {
    case T_REAL: return a.d == b.d;
    case T_UINT:
    case T_WORD: return a.u == b.u;
    case T_PAYLOAD: return sb_cfg_payload_same(a.p, b.p);
    default: return a.p == b.p;
    }
}

/* `all` for backend, suite, group or ops: every value, in registry order (sb_registry_nth:
 * the same `all` as the command line's). */
void sb_cfg_expand_all(const key_spec *k, levels *out)
{
    out->n = 0;
    if (k->type == T_BACKEND || k->type == T_SUITE || k->type == T_GROUP) {
        const void *p;
        while (out->n < SB_CFG_MAX_LEVELS && (p = sb_registry_nth(registry_kind(k->type), out->n)))
            out->v[out->n++].p = p;
    } else {
        for (size_t i = 0; i < k->n_words; i++)
            out->v[out->n++].u = i;
    }
}

/* One level of a key; 0 on success, -1 after sb_cfg_fail(). */
static int parse_level(ctx *c, unsigned line, const section *s, const key_spec *k,
                       const char *item, level *out)
{
    char known[256];
    const char *why;
    switch (k->type) {
    case T_BACKEND:
    case T_SUITE:
    case T_GROUP:
        if ((out->p = sb_registry_find(registry_kind(k->type), item, &why)))
            return 0;
        if (k->type == T_BACKEND && sb_backend_entry_by_name(item)) {
            /* Known but left out of this build: never another backend in its place. */
            sb_cfg_key_fail(c, line, s, k->name, "backend '%s' is %s", item, why);
            return -1;
        }
        list_names(k->type, known, sizeof known);
        sb_cfg_key_fail(c, line, s, k->name, "%s '%s' (known: %s)", why, item, known);
        return -1;
    case T_WORD:
        for (size_t i = 0; i < k->n_words; i++)
            if (strcmp(k->words[i], item) == 0) {
                out->u = i;
                return 0;
            }
        sb_cfg_key_fail(c, line, s, k->name, "unknown %s '%s' (known: %s)", k->list ? "level" : "value",
                 item, k->range);
        return -1;
    case T_PAYLOAD:
        return (out->p = sb_cfg_parse_payload(c, line, s, k, item)) ? 0 : -1;
    case T_UINT:
        if ((why = sb_cfg_parse_u64(item, &out->u)))
            break;
        if (out->u == 0 && k->zero_ok)
            return 0;
        if (out->u < k->min && k->too_small) {
            sb_cfg_key_fail(c, line, s, k->name, "%s '%s' is too small: %s (%s is %s)",
                     k->list ? "level" : "value", item, k->too_small, k->name, k->range);
            return -1;
        }
        if (out->u > k->max && k->too_large) {
            sb_cfg_key_fail(c, line, s, k->name, "%s '%s' is too large: %s (%s is %s)",
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
    sb_cfg_key_fail(c, line, s, k->name, "%s '%s' %s (%s is %s)", k->list ? "level" : "value", item, why,
             k->name, k->range);
    return -1;
}

/* The complete value of key k (continuation lines joined), into section s. */
static void store_value(ctx *c, section *s, const key_spec *k, unsigned line, char *value)
{
    levels *out = &s->v[k->slot];
    value = sb_trim(value);
    if (!*value) {
        sb_cfg_key_fail(c, line, s, k->name, "empty value (give %s, or delete the line for the default)",
                 k->range ? k->range : "a value");
        return;
    }
    if (k->type == T_TEXT || k->type == T_NAME) {
        if (k->type == T_NAME && (!valid_name(value) || strlen(value) > RUN_NAME_MAX)) {
            sb_cfg_key_fail(c, line, s, k->name, "'%s' is not a name: it names the results folder "
                     "(use at most %d letters, digits, '_', '.' and '-')", value, RUN_NAME_MAX);
            return;
        }
        if (!(s->text[k->slot] = strdup(value))) {
            sb_cfg_nomem(c, line, "reading key '%s'", k->name);
            return;
        }
        out->line = line;
        out->sec = s;
        return;
    }
    if (!k->list && strchr(value, ',')) {
        sb_cfg_key_fail(c, line, s, k->name, "takes one value, not a list (to compare several, give each "
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
            sb_cfg_key_fail(c, line, s, k->name, "empty level in the list (remove the extra comma)");
            return;
        }
        if (k->all && strcmp(item, "all") == 0) {
            if (lv.n || next) {
                sb_cfg_key_fail(c, line, s, k->name, "level 'all' must stand alone (it already "
                         "includes every %s)", k->name);
                return;
            }
            sb_cfg_expand_all(k, &lv);
            break;
        }
        if (lv.n == SB_CFG_MAX_LEVELS) {
            sb_cfg_key_fail(c, line, s, k->name, "more than %d levels (split the study)",
                     SB_CFG_MAX_LEVELS);
            return;
        }
        level v;
        if (parse_level(c, line, s, k, item, &v) != 0)
            return;
        for (size_t i = 0; i < lv.n; i++) {
            if (level_same(k->type, lv.v[i], v)) {
                sb_cfg_key_fail(c, line, s, k->name, "duplicate level '%s' (give each level once)", item);
                return;
            }
            if (k->type == T_PAYLOAD &&
                strcmp(((const sb_payload_level *)lv.v[i].p)->label,
                       ((const sb_payload_level *)v.p)->label) == 0) {
                sb_cfg_key_fail(c, line, s, k->name, "level '%s' would share the label '%s' of an "
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

section *sb_cfg_find_kind(const ctx *c, enum sec_kind kind)
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
        sb_cfg_nomem(c, c->line, "reading a section");
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
            sb_cfg_fail(c, c->line, "section [%s]: the study has no name (write [study NAME])", s->name);
            return;
        }
        if (!valid_name(s->study) || strlen(s->study) > STUDY_NAME_MAX) {
            sb_cfg_fail(c, c->line, "section [%s]: study name '%s' is not a name: it prefixes every "
                 "cell id (use at most %d letters, digits, '_', '.' and '-')", s->name, s->study,
                 STUDY_NAME_MAX);
            return;
        }
        for (size_t i = 0; i + 1 < c->n_secs; i++)
            if (c->secs[i]->kind == SEC_STUDY && strcmp(c->secs[i]->study, s->study) == 0) {
                sb_cfg_fail(c, c->line, "section [%s]: study '%s' given twice (first at line %u; study "
                     "names must be unique)", s->name, s->study, c->secs[i]->line);
                return;
            }
        return;
    } else {
        sb_cfg_fail(c, c->line, "unknown section [%s] (known: [run], [defaults], [study NAME], [micro]; "
             "names are case-sensitive)", s->name);
        return;
    }
    for (size_t i = 0; i + 1 < c->n_secs; i++)
        if (c->secs[i]->kind == s->kind) {
            sb_cfg_fail(c, c->line, "section [%s] given twice (first at line %u; merge the two)",
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
        sb_cfg_fail(c, c->line, "line is longer than %d characters, libinih's limit (continue a long "
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
        sb_cfg_fail(c, c->line, "line is indented, so libinih reads it as more of the value of '%s' "
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
        sb_cfg_nomem(c, c->line, "reading key '%s'", c->pend.key->name);
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
        sb_cfg_fail(c, c->line, "key '%s' is outside any section (put it under [run], [defaults], "
             "[study NAME] or [micro])", name);
        return 0;
    }
    if (strcmp(section_name, s->name) != 0) {
        /* Our reading of the header disagrees with libinih's (a libinih other than r55?). */
        sb_cfg_fail(c, c->line, "key '%s': libinih places it in [%s], not [%s] (simplify the section "
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
        sb_cfg_key_fail(c, c->line, s, name, "unknown key (known here: %s)", known);
        return 0;
    }
    /* A key is marked given at its first line, before its value is parsed. */
    if (s->v[k->slot].line) {
        sb_cfg_key_fail(c, c->line, s, name, "given twice (first at line %u; keep one)",
                 s->v[k->slot].line);
        return 0;
    }
    s->v[k->slot].line = c->line;
    s->v[k->slot].sec = s;
    if (!(c->pend.value = strdup(value))) {
        sb_cfg_nomem(c, c->line, "reading key '%s'", name);
        return 0;
    }
    c->pend.active = 1;
    c->pend.key = k;
    c->pend.sec = s;
    c->pend.line = c->line;
    return 1;
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
        sb_cfg_fail(c, line, "syntax error: section header '%.*s' has no closing ']' (write "
             "[section], with any ';' comment after the ']')", n, p);
    else
        sb_cfg_fail(c, line, "syntax error: '%.*s' is neither 'key = value' nor a [section] header "
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
    if (!(out->path = strdup(path)) || sb_cfg_builtin_init(&c) != 0) {
        sb_cfg_nomem(&c, 0, "starting");
        goto done;
    }
    c.text = out->text;
    c.len = len;
    const char *nul = memchr(c.text, '\0', len);
    if (nul) {
        unsigned line = 1;
        for (const char *q = c.text; q < nul; q++)
            line += *q == '\n';
        sb_cfg_fail(&c, line, "the file has a NUL byte (is it a text file?)");
        goto done;
    }

    int ini_rc = ini_parse_stream(read_line, &c, on_key, &c);
    finish_key(&c);
    /* libinih goes on after a line it cannot read and returns the first such line; our own
     * errors stop the reader. Whichever line comes first is the one to report. */
    if (ini_rc > 0 && (!c.have_err || (unsigned)ini_rc < c.err_line))
        syntax_error(&c, (unsigned)ini_rc);
    else if (ini_rc < 0 && !c.have_err)
        sb_cfg_nomem(&c, 0, "in libinih");
    if (!c.have_err)
        sb_cfg_build_plan(&c, out);

done:
    free(c.pend.value);
    for (size_t i = 0; i < c.n_secs; i++)
        section_free(c.secs[i]);
    free(c.secs);
    for (size_t i = 0; i < c.n_pool; i++)
        sb_cfg_payload_free(c.pool[i]);
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
