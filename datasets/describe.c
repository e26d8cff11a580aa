/* Dataset descriptions: the defaults, and the small INI file beside a CSV that says what to
 * send (format in datasets/README.md, "Dataset description"). A hand parser rather than a
 * library, for messages that name the file and line of every mistake and for values such as
 * "delimiter = ;" that an INI library would read as a comment. */
#include "datasets/dataset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void sb_dataset_desc_init(sb_dataset_desc *d)
{
    memset(d, 0, sizeof *d);
    d->bad_rows = SB_BAD_ROWS_STOP;
    d->infer_rows = 10000;
}

void sb_dataset_desc_beside(const char *csv_path, char *out, size_t cap)
{
    if (cap == 0) return;
    out[0] = '\0';
    const char *slash = strrchr(csv_path, '/');
    const char *dot = strrchr(slash ? slash + 1 : csv_path, '.');
    size_t stem = dot && dot != (slash ? slash + 1 : csv_path) ? (size_t)(dot - csv_path)
                                                                : strlen(csv_path);
    int n = snprintf(out, cap, "%.*s.dataset", (int)stem, csv_path);
    if (n < 0 || (size_t)n >= cap || access(out, F_OK) != 0) out[0] = '\0';
}

/* ---- the parser ------------------------------------------------------------------------------ */

typedef struct ctx {
    const char *path;
    unsigned line;
    char *err;
    size_t err_len;
} ctx;

static sb_err bad(const ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static sb_err bad(const ctx *c, const char *fmt, ...)
{
    if (c->err && c->err_len) {
        int n = snprintf(c->err, c->err_len, "%s:%u: ", c->path, c->line);
        if (n > 0 && (size_t)n < c->err_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->err_len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return SB_ERR_PARSE;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Cut a comment: ';' or '#' after a blank, but never the first character of the value, so
 * that "delimiter = ;" keeps its semicolon. A value in double quotes is taken as it is. */
static int cut_value(char *v, char **out)
{
    v = trim(v);
    if (*v == '"') {
        char *end = strchr(v + 1, '"');
        if (!end) return -1;
        *end = '\0';
        char *rest = trim(end + 1);
        if (*rest && *rest != ';' && *rest != '#') return -1;
        *out = v + 1;
        return 0;
    }
    for (char *p = v + 1; *v && *p; p++)
        if ((*p == ';' || *p == '#') && (p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            break;
        }
    *out = trim(v);
    return 0;
}

static int copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static const char *const dataset_keys[] = {"delimiter", "header",  "missing",  "time",
                                           "time_format", "device", "bad_rows", "infer_rows"};
#define N_KEYS (sizeof dataset_keys / sizeof *dataset_keys)

static sb_err dataset_key(const ctx *c, sb_dataset_desc *d, const char *key, char *val)
{
    if (strcmp(key, "delimiter") == 0) {
        if (strcmp(val, ",") == 0 || strcmp(val, "comma") == 0) d->delimiter = ',';
        else if (strcmp(val, ";") == 0 || strcmp(val, "semicolon") == 0) d->delimiter = ';';
        else if (strcmp(val, "tab") == 0 || strcmp(val, "\\t") == 0 || strcmp(val, "\t") == 0)
            d->delimiter = '\t';
        else if (strcmp(val, "auto") == 0) d->delimiter = 0;
        else return bad(c, "delimiter: expected , ; tab or auto, found \"%s\"", val);
    } else if (strcmp(key, "header") == 0) {
        if (!strcasecmp(val, "yes") || !strcasecmp(val, "true") || !strcmp(val, "1")) d->no_header = 0;
        else if (!strcasecmp(val, "no") || !strcasecmp(val, "false") || !strcmp(val, "0")) d->no_header = 1;
        else return bad(c, "header: expected yes or no, found \"%s\"", val);
    } else if (strcmp(key, "missing") == 0) {
        d->n_missing = 0;
        for (char *save = NULL, *tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *m = trim(tok);
            if (!*m) continue;
            if (d->n_missing >= SB_DATASET_MAX_MISSING)
                return bad(c, "missing: more than %d markers", SB_DATASET_MAX_MISSING);
            if (copy_name(d->missing[d->n_missing], sizeof d->missing[0], m))
                return bad(c, "missing: marker \"%s\" is longer than %zu bytes", m,
                           sizeof d->missing[0] - 1);
            d->n_missing++;
        }
    } else if (strcmp(key, "time") == 0 || strcmp(key, "device") == 0) {
        char *dst = key[0] == 't' ? d->time_column : d->device_column;
        if (copy_name(dst, sizeof d->time_column, val))
            return bad(c, "%s: column name longer than %zu bytes", key, sizeof d->time_column - 1);
    } else if (strcmp(key, "time_format") == 0) {
        int f = sb_time_format_parse(val);
        if (f < 0)
            return bad(c, "time_format: expected auto, iso8601, epoch_s, epoch_ms, relative_s or "
                          "us_12h, found \"%s\"", val);
        d->time_format = (sb_time_format)f;
    } else if (strcmp(key, "bad_rows") == 0) {
        if (strcmp(val, "stop") == 0) d->bad_rows = SB_BAD_ROWS_STOP;
        else if (strcmp(val, "skip") == 0) d->bad_rows = SB_BAD_ROWS_SKIP;
        else return bad(c, "bad_rows: expected stop or skip, found \"%s\"", val);
    } else if (strcmp(key, "infer_rows") == 0) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(val, &end, 10);
        if (!*val || *end || errno || n == 0 || val[0] == '-')
            return bad(c, "infer_rows: expected a positive whole number, found \"%s\"", val);
        d->infer_rows = n;
    }
    return SB_OK;
}

/* source = [name][:type[:time_format]] */
static sb_err column_line(const ctx *c, sb_dataset_desc *d, const char *source, char *val)
{
    if (d->n_columns >= SB_DATASET_MAX_COLUMNS)
        return bad(c, "more than %d columns in [columns]", SB_DATASET_MAX_COLUMNS);
    for (size_t k = 0; k < d->n_columns; k++)
        if (strcmp(d->columns[k].source, source) == 0)
            return bad(c, "column \"%s\" is listed twice in [columns]", source);
    sb_dataset_column *col = &d->columns[d->n_columns];
    memset(col, 0, sizeof *col);
    if (copy_name(col->source, sizeof col->source, source))
        return bad(c, "column name \"%.40s...\" is longer than %zu bytes", source,
                   sizeof col->source - 1);
    char *type = strchr(val, ':'), *fmt = NULL;
    if (type) {
        *type++ = '\0';
        type = trim(type);
        if ((fmt = strchr(type, ':'))) {
            *fmt++ = '\0';
            fmt = trim(fmt);
            trim(type);
        }
    }
    char *name = trim(val);
    if (copy_name(col->name, sizeof col->name, *name ? name : source))
        return bad(c, "column \"%s\": name longer than %zu bytes", source, sizeof col->name - 1);
    if (type && *type) {
        int t = sb_col_type_parse(type);
        if (t < 0)
            return bad(c, "column \"%s\": unknown type \"%s\"; expected int, real, text, time or "
                          "auto", source, type);
        col->type = (sb_col_type)t;
    }
    if (fmt) {
        int f = sb_time_format_parse(fmt);
        if (col->type != SB_COL_TIME)
            return bad(c, "column \"%s\": a time format is for type time, not \"%s\"", source,
                       sb_col_type_name(col->type));
        if (f < 0)
            return bad(c, "column \"%s\": unknown time format \"%s\"; expected auto, iso8601, "
                          "epoch_s, epoch_ms, relative_s or us_12h", source, fmt);
        col->time_format = (sb_time_format)f;
    }
    for (size_t k = 0; k < d->n_columns; k++)
        if (strcmp(d->columns[k].name, col->name) == 0)
            return bad(c, "column \"%s\" is sent as \"%s\", like column \"%s\"", source,
                       col->name, d->columns[k].source);
    d->n_columns++;
    return SB_OK;
}

sb_err sb_dataset_desc_load(sb_dataset_desc *d, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (err && err_len) snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return SB_ERR_IO;
    }
    ctx c = {path, 0, err, err_len};
    enum { NONE, DATASET, COLUMNS } section = NONE;
    unsigned key_line[N_KEYS] = {0};
    int columns_seen = 0;
    char *buf = NULL;
    size_t cap = 0;
    sb_err rc = SB_OK;
    while (rc == SB_OK && getline(&buf, &cap, f) >= 0) {
        c.line++;
        char *s = buf;
        if (c.line == 1 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3;
        s = trim(s);
        if (!*s || *s == ';' || *s == '#') continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (!end) {
                rc = bad(&c, "expected a section name in brackets, found \"%s\"", s);
                break;
            }
            *end = '\0';
            char *rest = trim(end + 1);
            if (*rest && *rest != ';' && *rest != '#') {
                rc = bad(&c, "unexpected \"%s\" after [%s]", rest, trim(s + 1));
                break;
            }
            char *name = trim(s + 1);
            if (strcmp(name, "dataset") == 0) {
                section = DATASET;
            } else if (strcmp(name, "columns") == 0) {
                section = COLUMNS;
                if (columns_seen++) {
                    rc = bad(&c, "a second [columns] section");
                    break;
                }
                d->n_columns = 0; /* the file's list replaces any other */
            } else {
                rc = bad(&c, "unknown section [%s]; expected [dataset] or [columns]", name);
            }
            continue;
        }
        char *eq = strchr(s, '='), *val = NULL;
        if (eq) *eq = '\0';
        char *key = trim(s);
        if (eq && cut_value(eq + 1, &val)) {
            rc = bad(&c, "\"%s\": unterminated quoted value", key);
            break;
        }
        if (section == NONE) {
            rc = bad(&c, "\"%s\" outside a section; expected [dataset] or [columns] first", key);
        } else if (section == DATASET) {
            size_t k = 0;
            while (k < N_KEYS && strcmp(key, dataset_keys[k]) != 0) k++;
            if (k == N_KEYS) {
                rc = bad(&c, "unknown key \"%s\" in [dataset] (known: delimiter, header, missing, "
                             "time, time_format, device, bad_rows, infer_rows)", key);
            } else if (!eq) {
                rc = bad(&c, "expected %s = value", key);
            } else if (key_line[k]) {
                rc = bad(&c, "\"%s\" is set twice (first on line %u)", key, key_line[k]);
            } else {
                key_line[k] = c.line;
                rc = dataset_key(&c, d, key, val);
            }
        } else {
            if (!*key) rc = bad(&c, "expected source = name[:type] in [columns]");
            else rc = column_line(&c, d, key, val ? val : (char[]){""});
        }
    }
    if (rc == SB_OK && ferror(f)) {
        if (err && err_len) snprintf(err, err_len, "%s: read error: %s", path, strerror(errno));
        rc = SB_ERR_IO;
    }
    free(buf);
    fclose(f);
    return rc;
}
