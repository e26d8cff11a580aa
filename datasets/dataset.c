/* A dataset: the CSV reader (csv.c) under a description (describe.c). Open reads the header,
 * finds the described columns, infers what the description leaves open (infer.c) from the
 * first rows, and rewinds; next turns each row into a typed record (value.c), or a bad row
 * that stops the read or is skipped and counted. Records point into the reader's buffers:
 * nothing is allocated per row. */
#include "datasets/dataset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/csv.h"
#include "datasets/infer.h"

#define NAME_CAP 128
#define N_DEFAULT_MISSING 3

static const char *const default_missing[N_DEFAULT_MISSING] = {"NA", "NaN", "null"};

struct sb_dataset {
    char *path;
    sb_dataset_desc desc;
    sb_csv *csv;

    size_t n_fields;        /* per row, as in the header */
    uint64_t header_line;
    char (*names)[NAME_CAP]; /* the header's names (c1, c2, ... without one) */

    size_t n_cols;          /* sent */
    sb_dataset_column cols[SB_DATASET_MAX_COLUMNS];
    size_t src[SB_DATASET_MAX_COLUMNS]; /* their fields */
    long time_idx, dev_idx;  /* fields, or -1 */
    long time_slot;          /* the time column among the sent ones, or -1 */
    sb_time_format time_fmt;
    sb_value *values;

    /* Missing markers beyond the empty field; a byte table of their first bytes keeps the
     * common case (a digit) to one lookup. */
    size_t n_miss;
    const char *miss[N_DEFAULT_MISSING + SB_DATASET_MAX_MISSING];
    size_t miss_len[N_DEFAULT_MISSING + SB_DATASET_MAX_MISSING];
    unsigned char miss_first[256];

    sb_dataset_stats st;
};


static inline int is_missing(const sb_dataset *ds, const char *p, size_t len)
{
    if (len == 0) return 1;
    if (!ds->miss_first[(unsigned char)p[0]]) return 0;
    for (size_t k = 0; k < ds->n_miss; k++)
        if (len == ds->miss_len[k] && memcmp(p, ds->miss[k], len) == 0) return 1;
    return 0;
}

/* A field for a message: at most 60 bytes (cut on a character), control bytes and quotes
 * escaped, so that the message stays on one line. */
static void quote_found(char *out, size_t cap, const char *p, size_t len)
{
    size_t o = 0, i = 0;
    out[o++] = '"';
    for (; i < len && i < 60 && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
        else if (c == '\n') o += (size_t)snprintf(out + o, cap - o, "\\n");
        else if (c == '\r') o += (size_t)snprintf(out + o, cap - o, "\\r");
        else if (c == '\t') o += (size_t)snprintf(out + o, cap - o, "\\t");
        else if (c < 0x20 || c == 0x7F) o += (size_t)snprintf(out + o, cap - o, "\\x%02X", c);
        else out[o++] = (char)c;
    }
    if (i < len) {
        while (o > 1 && ((unsigned char)out[o - 1] & 0xC0) == 0x80) o--; /* continuation bytes */
        if (o > 1 && (unsigned char)out[o - 1] >= 0xC0) o--;                 /* a lead byte */
        snprintf(out + o, cap - o, "...\"");
    } else {
        snprintf(out + o, cap - o, "\"");
    }
}

/* ---- opening ------------------------------------------------------------------------------- */

static long find_field(const sb_dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->n_fields; i++)
        if (strcmp(ds->names[i], name) == 0) return (long)i;
    return -1;
}

/* "path: what "name" is not in the header, which has: "a", "b", ..." */
static void unknown_column(const sb_dataset *ds, const char *what, const char *name, char *err,
                           size_t n)
{
    if (!err || n == 0) return;
    int k = snprintf(err, n, "%s: %s \"%s\" is not in the header, which has:", ds->path, what, name);
    size_t o = k > 0 ? (size_t)k : 0;
    for (size_t i = 0; i < ds->n_fields && o < n; i++) {
        if (o + strlen(ds->names[i]) + 8 >= n) {
            snprintf(err + o, n - o, " ...");
            return;
        }
        k = snprintf(err + o, n - o, "%s \"%s\"", i ? "," : "", ds->names[i]);
        o += k > 0 ? (size_t)k : 0;
    }
}

static int cmp_names(const void *a, const void *b, void *names)
{
    const char (*nm)[NAME_CAP] = names;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(nm[i], nm[j]);
    return c ? c : (i > j) - (i < j);
}

static sb_err read_header(sb_dataset *ds, char *err, size_t n)
{
    sb_csv_row row;
    int got;
    sb_err rc = sb_csv_next(ds->csv, &row, &got, err, n);
    if (rc) return rc;
    if (!got) {
        sb_csv_errf(err, n, "%s: the file %s; expected a header row and data rows", ds->path,
                sb_csv_blank_lines(ds->csv) ? "holds only blank lines" : "is empty");
        return SB_ERR_PARSE;
    }
    ds->n_fields = row.n;
    ds->header_line = row.line;
    ds->names = calloc(row.n, sizeof *ds->names);
    size_t *order = calloc(row.n, sizeof *order);
    if (!ds->names || !order) {
        free(order);
        sb_csv_errf(err, n, "%s: out of memory", ds->path);
        return SB_ERR_NOMEM;
    }
    for (size_t i = 0; i < row.n; i++) {
        const char *p = row.f[i].p;
        size_t len = row.f[i].len;
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (ds->desc.no_header || len == 0) {
            snprintf(ds->names[i], NAME_CAP, "c%zu", i + 1);
        } else if (len >= NAME_CAP) {
            sb_csv_errf(err, n, "%s:%llu: the name of column %zu is longer than %d bytes", ds->path,
                    (unsigned long long)row.line, i + 1, NAME_CAP - 1);
            free(order);
            return SB_ERR_PARSE;
        } else {
            memcpy(ds->names[i], p, len);
        }
        order[i] = i;
    }
    /* Duplicates: sorted by name then position, the pair whose later column comes first. */
    qsort_r(order, row.n, sizeof *order, cmp_names, ds->names);
    size_t first = 0, second = 0;
    for (size_t k = 1; k < row.n; k++)
        if (strcmp(ds->names[order[k - 1]], ds->names[order[k]]) == 0 &&
            (second == 0 || order[k] < second))
            first = order[k - 1], second = order[k];
    free(order);
    if (second) {
        sb_csv_errf(err, n, "%s:%llu: duplicate column name \"%s\" in the header (columns %zu and %zu)",
                ds->path, (unsigned long long)row.line, ds->names[first], first + 1, second + 1);
        return SB_ERR_PARSE;
    }
    return SB_OK;
}

/* Which fields are sent, under which names and declared types. */
static sb_err resolve_columns(sb_dataset *ds, char *err, size_t n)
{
    const sb_dataset_desc *d = &ds->desc;
    ds->time_idx = ds->dev_idx = ds->time_slot = -1;
    if (d->time_column[0] && (ds->time_idx = find_field(ds, d->time_column)) < 0) {
        unknown_column(ds, "time column", d->time_column, err, n);
        return SB_ERR_PARSE;
    }
    if (d->device_column[0] && (ds->dev_idx = find_field(ds, d->device_column)) < 0) {
        unknown_column(ds, "device column", d->device_column, err, n);
        return SB_ERR_PARSE;
    }
    if (d->n_columns == 0) {
        for (size_t i = 0; i < ds->n_fields; i++) {
            if ((long)i == ds->time_idx || (long)i == ds->dev_idx) continue;
            if (ds->n_cols == SB_DATASET_MAX_COLUMNS) {
                sb_csv_errf(err, n, "%s: more than %d columns to send; list the ones to send in "
                        "[columns] of a description", ds->path, SB_DATASET_MAX_COLUMNS);
                return SB_ERR_PARSE;
            }
            sb_dataset_column *c = &ds->cols[ds->n_cols];
            memset(c, 0, sizeof *c);
            memcpy(c->source, ds->names[i], sizeof c->source);
            memcpy(c->name, ds->names[i], sizeof c->name);
            ds->src[ds->n_cols++] = i;
        }
    } else {
        for (size_t k = 0; k < d->n_columns; k++) {
            long i = find_field(ds, d->columns[k].source);
            if (i < 0) {
                unknown_column(ds, "column", d->columns[k].source, err, n);
                return SB_ERR_PARSE;
            }
            sb_dataset_column *c = &ds->cols[ds->n_cols];
            *c = d->columns[k];
            if (!c->name[0]) memcpy(c->name, c->source, sizeof c->name);
            ds->src[ds->n_cols++] = (size_t)i;
        }
    }
    for (size_t k = 0; k < ds->n_cols; k++) {
        if (ds->cols[k].type != SB_COL_TIME) ds->cols[k].time_format = SB_TIME_AUTO;
        if ((long)ds->src[k] == ds->time_idx) {
            ds->time_slot = (long)k;
            if (ds->cols[k].type == SB_COL_AUTO) ds->cols[k].type = SB_COL_TIME;
            /* One format for the time column: time_format, else the one given in [columns]. */
            if (ds->cols[k].type == SB_COL_TIME && ds->desc.time_format == SB_TIME_AUTO)
                ds->desc.time_format = ds->cols[k].time_format;
            if (ds->cols[k].type == SB_COL_TIME) ds->cols[k].time_format = ds->desc.time_format;
        }
    }
    return SB_OK;
}

static sb_err time_undetected(const sb_dataset *ds, const sb_infer *inf, const char *what,
                              const char *name, char *err, size_t n)
{
    if (inf->values == 0) {
        sb_csv_errf(err, n, "%s: %s \"%s\" has no values in the first %llu rows; expected timestamps, "
                "or declare the format (time_format)", ds->path, what, name,
                (unsigned long long)(inf->missing));
    } else {
        char found[128];
        quote_found(found, sizeof found, inf->bad_text, strlen(inf->bad_text));
        sb_csv_errf(err, n, "%s:%llu: %s \"%s\": expected a timestamp (ISO-8601, M/D/YYYY h:mm:ss "
                "AM/PM, or seconds), found %s", ds->path, (unsigned long long)inf->bad_line,
                what, name, found);
    }
    return SB_ERR_PARSE;
}

/* Read up to infer_rows rows for the types and time formats left open, and check that there
 * is at least one data row. */
static sb_err infer(sb_dataset *ds, char *err, size_t n)
{
    size_t nc = ds->n_cols;
    sb_infer *inf = calloc(nc + 1, sizeof *inf); /* one per sent column, then the time column */
    int *need = calloc(nc + 1, sizeof *need);
    if (!inf || !need) {
        free(inf);
        free(need);
        sb_csv_errf(err, n, "%s: out of memory", ds->path);
        return SB_ERR_NOMEM;
    }
    int any = 0;
    for (size_t k = 0; k < nc; k++) {
        const sb_dataset_column *c = &ds->cols[k];
        need[k] = c->type == SB_COL_AUTO ||
                  (c->type == SB_COL_TIME && c->time_format == SB_TIME_AUTO && (long)k != ds->time_slot);
        sb_infer_init(&inf[k], c->type == SB_COL_TIME);
        any |= need[k];
    }
    need[nc] = ds->time_idx >= 0 && ds->desc.time_format == SB_TIME_AUTO;
    sb_infer_init(&inf[nc], 1);
    any |= need[nc];

    sb_err rc;
    uint64_t rows = 0;
    while (rows < ds->desc.infer_rows && (any || rows == 0)) {
        sb_csv_row row;
        int got;
        if ((rc = sb_csv_next(ds->csv, &row, &got, err, n))) goto out;
        if (!got) break;
        rows++;
        if (row.n != ds->n_fields) continue; /* reported when read for real */
        for (size_t k = 0; k <= nc; k++) {
            if (!need[k]) continue;
            const sb_csv_field *f = &row.f[k < nc ? ds->src[k] : (size_t)ds->time_idx];
            sb_infer_add(&inf[k], f->p, f->len, is_missing(ds, f->p, f->len), row.line);
        }
    }
    rc = SB_ERR_PARSE;
    if (rows == 0) {
        sb_csv_errf(err, n, "%s: has a header (line %llu) but no data rows", ds->path,
                (unsigned long long)ds->header_line);
        goto out;
    }
    if (need[nc]) {
        ds->time_fmt = sb_infer_time_format(&inf[nc]);
        if (ds->time_fmt == SB_TIME_AUTO) {
            time_undetected(ds, &inf[nc], "time column", ds->desc.time_column, err, n);
            goto out;
        }
        if (ds->time_slot >= 0 && ds->cols[ds->time_slot].type == SB_COL_TIME)
            ds->cols[ds->time_slot].time_format = ds->time_fmt;
    }
    for (size_t k = 0; k < nc; k++) {
        sb_dataset_column *c = &ds->cols[k];
        if (!need[k]) continue;
        if (c->type == SB_COL_AUTO) {
            c->type = sb_infer_type(&inf[k]);
        } else if ((c->time_format = sb_infer_time_format(&inf[k])) == SB_TIME_AUTO) {
            time_undetected(ds, &inf[k], "column", c->source, err, n);
            goto out;
        }
    }
    rc = SB_OK;
out:
    free(inf);
    free(need);
    return rc;
}

sb_err sb_dataset_open(sb_dataset **out, const char *path, const sb_dataset_desc *d, char *err,
                       size_t err_len)
{
    *out = NULL;
    sb_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->path = strdup(path))) {
        free(ds);
        sb_csv_errf(err, err_len, "%s: out of memory", path);
        return SB_ERR_NOMEM;
    }
    if (d) ds->desc = *d;
    else sb_dataset_desc_init(&ds->desc);
    sb_dataset_desc *dd = &ds->desc;
    sb_err rc = SB_ERR_ARG;
    if (dd->n_columns > SB_DATASET_MAX_COLUMNS || dd->n_missing < 0 ||
        dd->n_missing > SB_DATASET_MAX_MISSING) {
        sb_csv_errf(err, err_len, "%s: description out of range (columns or missing markers)", path);
        goto fail;
    }
    if (dd->infer_rows == 0) dd->infer_rows = 10000;
    for (size_t k = 0; k < N_DEFAULT_MISSING + (size_t)dd->n_missing; k++) {
        const char *m = k < N_DEFAULT_MISSING ? default_missing[k] : dd->missing[k - N_DEFAULT_MISSING];
        size_t len = strnlen(m, sizeof dd->missing[0] - 1);
        if (len == 0) continue;
        ds->miss[ds->n_miss] = m;
        ds->miss_len[ds->n_miss++] = len;
        ds->miss_first[(unsigned char)m[0]] = 1;
    }
    if ((rc = sb_csv_open(&ds->csv, path, dd->delimiter, err, err_len)) ||
        (rc = read_header(ds, err, err_len)) || (rc = resolve_columns(ds, err, err_len)))
        goto fail;
    if (dd->no_header && (rc = sb_csv_rewind(ds->csv, err, err_len))) goto fail;
    ds->time_fmt = dd->time_format;
    if ((rc = infer(ds, err, err_len)) || (rc = sb_dataset_rewind(ds, err, err_len))) goto fail;
    if (!(ds->values = calloc(ds->n_cols ? ds->n_cols : 1, sizeof *ds->values))) {
        sb_csv_errf(err, err_len, "%s: out of memory", path);
        rc = SB_ERR_NOMEM;
        goto fail;
    }
    *out = ds;
    return SB_OK;
fail:
    sb_dataset_close(ds);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------- */

static int bad_value(const sb_dataset *ds, const sb_csv_row *row, size_t field, const char *want,
                     char *msg, size_t n)
{
    char found[128];
    quote_found(found, sizeof found, row->f[field].p, row->f[field].len);
    snprintf(msg, n, "%s:%llu: column \"%s\": expected %s, found %s", ds->path,
             (unsigned long long)row->line, ds->names[field], want, found);
    return -1;
}

/* The row as a record, or -1 with the reason in msg. */
static int build(sb_dataset *ds, const sb_csv_row *row, sb_record *rec, char *msg, size_t n)
{
    if (row->n != ds->n_fields) {
        snprintf(msg, n, "%s:%llu: expected %zu fields as in the %s, found %zu", ds->path,
                 (unsigned long long)row->line, ds->n_fields,
                 ds->desc.no_header ? "first row" : "header", row->n);
        return -1;
    }
    for (size_t k = 0; k < ds->n_cols; k++) {
        const sb_csv_field *f = &row->f[ds->src[k]];
        sb_value *v = &ds->values[k];
        sb_col_type t = ds->cols[k].type;
        int miss = is_missing(ds, f->p, f->len);
        if (miss || t == SB_COL_TEXT) {
            v->missing = miss;
            v->i = 0;
            v->r = 0.0;
            v->text = f->p;
            v->text_len = f->len;
            continue;
        }
        const char *want;
        if (sb_value_parse(t, ds->cols[k].time_format, f->p, f->len, v, &want) != SB_OK)
            return bad_value(ds, row, ds->src[k], want, msg, n);
    }
    rec->device = NULL;
    if (ds->dev_idx >= 0) {
        const sb_csv_field *f = &row->f[ds->dev_idx];
        if (is_missing(ds, f->p, f->len))
            return bad_value(ds, row, (size_t)ds->dev_idx, "a device id", msg, n);
        rec->device = f->p;
    }
    rec->has_time = 0;
    rec->t_ns = 0;
    rec->time_text = NULL;
    if (ds->time_slot >= 0 && ds->cols[ds->time_slot].type == SB_COL_TIME) {
        const sb_value *v = &ds->values[ds->time_slot];
        rec->has_time = !v->missing;
        rec->t_ns = v->i;
    } else if (ds->time_idx >= 0) {
        const sb_csv_field *f = &row->f[ds->time_idx];
        if (!is_missing(ds, f->p, f->len)) {
            sb_value v;
            const char *want;
            if (sb_value_parse(SB_COL_TIME, ds->time_fmt, f->p, f->len, &v, &want) != SB_OK)
                return bad_value(ds, row, (size_t)ds->time_idx, want, msg, n);
            rec->has_time = 1;
            rec->t_ns = v.i;
        }
    }
    if (rec->has_time) rec->time_text = row->f[ds->time_idx].p;
    rec->line = row->line;
    rec->n = ds->n_cols;
    rec->values = ds->values;
    return 0;
}

sb_err sb_dataset_next(sb_dataset *ds, sb_record *rec, int *got, char *err, size_t err_len)
{
    *got = 0;
    for (;;) {
        sb_csv_row row;
        int g;
        sb_err rc = sb_csv_next(ds->csv, &row, &g, err, err_len);
        if (rc || !g) return rc;
        ds->st.rows++;
        char msg[512];
        if (build(ds, &row, rec, msg, sizeof msg) == 0) {
            rec->index = ds->st.records++;
            *got = 1;
            return SB_OK;
        }
        if (ds->desc.bad_rows == SB_BAD_ROWS_STOP) {
            sb_csv_errf(err, err_len, "%s", msg);
            return SB_ERR_PARSE;
        }
        if (ds->st.skipped++ == 0) { /* cut to fit, as a message may be longer */
            size_t len = strnlen(msg, sizeof ds->st.first_skip_error - 1);
            memcpy(ds->st.first_skip_error, msg, len);
            ds->st.first_skip_error[len] = '\0';
        }
    }
}

sb_err sb_dataset_rewind(sb_dataset *ds, char *err, size_t err_len)
{
    memset(&ds->st, 0, sizeof ds->st);
    sb_err rc = sb_csv_rewind(ds->csv, err, err_len);
    if (rc || ds->desc.no_header) return rc;
    sb_csv_row row;
    int got;
    return sb_csv_next(ds->csv, &row, &got, err, err_len); /* the header, read at open */
}

size_t sb_dataset_columns(const sb_dataset *ds, const sb_dataset_column **cols)
{
    *cols = ds->cols;
    return ds->n_cols;
}

sb_time_format sb_dataset_time_format(const sb_dataset *ds) { return ds->time_fmt; }
char sb_dataset_delimiter(const sb_dataset *ds) { return sb_csv_delimiter(ds->csv); }
const char *sb_dataset_path(const sb_dataset *ds) { return ds->path; }

const char *sb_dataset_device_column(const sb_dataset *ds)
{
    return ds->dev_idx >= 0 ? ds->names[ds->dev_idx] : NULL;
}

const char *sb_dataset_time_column(const sb_dataset *ds)
{
    return ds->time_idx >= 0 ? ds->names[ds->time_idx] : NULL;
}

void sb_dataset_get_stats(const sb_dataset *ds, sb_dataset_stats *st)
{
    *st = ds->st;
    st->blank_lines = sb_csv_blank_lines(ds->csv);
    st->bytes = sb_csv_bytes(ds->csv);
}

void sb_dataset_close(sb_dataset *ds)
{
    if (!ds) return;
    sb_csv_close(ds->csv);
    free(ds->names);
    free(ds->values);
    free(ds->path);
    free(ds);
}
