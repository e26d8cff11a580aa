/* Record encoders: JSON and CSV by hand (they are a few rules), CBOR through libcbor's
 * buffer encoders, which write into the caller's memory. See encode.h for the formats. */
#include "datasets/encode.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cbor.h>

static const char *const enc_names[SB_ENC_COUNT] = {"json", "csv", "cbor"};

const char *sb_encoding_name(sb_encoding e)
{
    return (unsigned)e < SB_ENC_COUNT ? enc_names[e] : "?";
}

int sb_encoding_parse(const char *s)
{
    for (int i = 0; i < SB_ENC_COUNT; i++)
        if (strcmp(s, enc_names[i]) == 0)
            return i;
    return -1;
}

static const char *key_of(const sb_dataset_column *c)
{
    return c->name[0] ? c->name : c->source;
}

/* ---- a bounded writer -------------------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int full;
} wbuf;

static void put(wbuf *w, const void *s, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void putc_(wbuf *w, char c)
{
    put(w, &c, 1);
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return 0;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

static void json_string(wbuf *w, const char *s, size_t n)
{
    putc_(w, '"');
    size_t run = 0; /* bytes that need no escape, copied in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        put(w, esc, strlen(esc));
    }
    put(w, s + run, n - run);
    putc_(w, '"');
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double. */
static void json_double(wbuf *w, double x)
{
    char b[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, x);
        if (strtod(b, NULL) == x)
            break;
    }
    put(w, b, strlen(b));
}

static void json_value(wbuf *w, sb_col_type t, const sb_value *v)
{
    if ((t == SB_COL_INT || t == SB_COL_REAL || t == SB_COL_TIME) &&
        is_json_number(v->text, v->text_len)) {
        put(w, v->text, v->text_len);
    } else if (t == SB_COL_INT) {
        char b[24];
        snprintf(b, sizeof b, "%lld", (long long)v->i);
        put(w, b, strlen(b));
    } else if (t == SB_COL_REAL) {
        json_double(w, v->r);
    } else {
        json_string(w, v->text, v->text_len);
    }
}

static void json_key(wbuf *w, int *first, const char *k)
{
    if (!*first)
        putc_(w, ',');
    *first = 0;
    json_string(w, k, strlen(k));
    putc_(w, ':');
}

static void enc_json(wbuf *w, const sb_encode_schema *s, const sb_record *r,
                     const sb_value *time_text)
{
    int first = 1;
    putc_(w, '{');
    if (s->device_key && r->device) {
        json_key(w, &first, s->device_key);
        json_string(w, r->device, strlen(r->device));
    }
    if (s->time_key && r->has_time) {
        json_key(w, &first, s->time_key);
        json_value(w, SB_COL_TIME, time_text);
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->values[i].missing)
            continue;
        json_key(w, &first, key_of(&s->cols[i]));
        json_value(w, s->cols[i].type, &r->values[i]);
    }
    putc_(w, '}');
}

/* ---- CSV --------------------------------------------------------------------------------- */

static void csv_field(wbuf *w, const char *s, size_t n)
{
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
        !memchr(s, '\r', n)) {
        put(w, s, n);
        return;
    }
    putc_(w, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            putc_(w, '"');
        putc_(w, s[i]);
    }
    putc_(w, '"');
}

static void enc_csv(wbuf *w, const sb_encode_schema *s, const sb_record *r,
                    const sb_value *time_text)
{
    int first = 1;
    if (s->device_key) {
        if (r->device)
            csv_field(w, r->device, strlen(r->device));
        first = 0;
    }
    if (s->time_key) {
        if (!first)
            putc_(w, ',');
        if (r->has_time && time_text)
            csv_field(w, time_text->text, time_text->text_len);
        first = 0;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (!first)
            putc_(w, ',');
        first = 0;
        if (!r->values[i].missing)
            csv_field(w, r->values[i].text, r->values[i].text_len);
    }
}

/* ---- CBOR -------------------------------------------------------------------------------- */

static void cb_put(wbuf *w, size_t (*fn)(uint64_t, unsigned char *, size_t), uint64_t x)
{
    if (w->full)
        return;
    size_t n = fn(x, w->p + w->len, w->cap - w->len);
    if (!n)
        w->full = 1;
    w->len += n;
}

/* libcbor's string, array and map heads take their length as a size_t, not a uint64_t: called
 * through cb_put's pointer type they would get their arguments in the wrong registers where the
 * two differ (32-bit ARM). */
static void cb_len(wbuf *w, size_t (*fn)(size_t, unsigned char *, size_t), size_t len)
{
    if (w->full)
        return;
    size_t n = fn(len, w->p + w->len, w->cap - w->len);
    if (!n)
        w->full = 1;
    w->len += n;
}

static void cb_int(wbuf *w, int64_t x)
{
    if (x >= 0)
        cb_put(w, cbor_encode_uint, (uint64_t)x);
    else
        cb_put(w, cbor_encode_negint, (uint64_t)(-(x + 1)));
}

static void cb_text(wbuf *w, const char *s, size_t n)
{
    cb_len(w, cbor_encode_string_start, n);
    put(w, s, n);
}

/* A decimal written in the file as [-]digits[.digits][e[+-]digits] becomes mantissa and base-10
 * exponent, exactly; 0 if it does not fit in 18 digits. */
static int decimal_parts(const char *s, size_t n, int64_t *mant, int64_t *exp10)
{
    size_t i = 0;
    int neg = 0, digits = 0, frac = 0, seen = 0;
    uint64_t m = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (m || s[i] != '0')
                digits++;
            if (digits > 18)
                return 0;
            m = m * 10 + (uint64_t)(s[i] - '0');
            frac += seen;
        } else if (s[i] == '.' && !seen) {
            seen = 1;
        } else {
            break;
        }
    }
    int64_t e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        if (i == n)
            return 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            e = e * 10 + (s[i] - '0');
            if (e > 100000)
                return 0;
        }
        if (eneg)
            e = -e;
    }
    if (i != n)
        return 0;
    e -= frac;
    while (m && m % 10 == 0 && frac > 0) { /* 36.60 is 366e-1, not 3660e-2 */
        m /= 10;
        e++;
        frac--;
    }
    *mant = neg ? -(int64_t)m : (int64_t)m;
    *exp10 = e;
    return 1;
}

static void cb_value(wbuf *w, sb_col_type t, const sb_value *v)
{
    int64_t mant, e;
    switch (t) {
    case SB_COL_INT: cb_int(w, v->i); return;
    case SB_COL_TIME: cb_int(w, v->i >= 0 ? v->i / 1000000 : -((-v->i + 999999) / 1000000)); return;
    case SB_COL_REAL:
        if (decimal_parts(v->text, v->text_len, &mant, &e)) {
            if (e == 0) {
                cb_int(w, mant);
            } else { /* RFC 8949 §3.4.4: tag 4 [exponent, mantissa] */
                cb_put(w, cbor_encode_tag, 4);
                cb_len(w, cbor_encode_array_start, 2);
                cb_int(w, e);
                cb_int(w, mant);
            }
        } else {
            if (!w->full) {
                size_t n = cbor_encode_double(v->r, w->p + w->len, w->cap - w->len);
                w->full |= n == 0;
                w->len += n;
            }
        }
        return;
    default: cb_text(w, v->text, v->text_len); return;
    }
}

static void enc_cbor(wbuf *w, const sb_encode_schema *s, const sb_record *r, const sb_value *tv)
{
    size_t pairs = (s->device_key && r->device) + (s->time_key && r->has_time);
    for (size_t i = 0; i < r->n; i++)
        pairs += !r->values[i].missing;
    cb_len(w, cbor_encode_map_start, pairs);
    if (s->device_key && r->device) {
        cb_int(w, SB_CBOR_KEY_DEVICE);
        cb_text(w, r->device, strlen(r->device));
    }
    if (s->time_key && r->has_time) {
        cb_int(w, SB_CBOR_KEY_TIME);
        cb_value(w, SB_COL_TIME, tv);
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->values[i].missing)
            continue;
        cb_int(w, SB_CBOR_KEY_FIRST_COLUMN + (int64_t)i);
        cb_value(w, s->cols[i].type, &r->values[i]);
    }
}

/* ---- public ------------------------------------------------------------------------------ */

void sb_encode_schema_of(const sb_dataset *ds, sb_encode_schema *s)
{
    s->device_key = sb_dataset_device_column(ds);
    s->time_key = sb_dataset_time_column(ds);
    s->n = sb_dataset_columns(ds, &s->cols);
}

sb_err sb_encode_record(sb_encoding e, const sb_encode_schema *s, const sb_record *rec,
                        uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    if (!s || !rec || (rec->n && !s->cols) || rec->n != s->n || (unsigned)e >= SB_ENC_COUNT)
        return SB_ERR_ARG;
    wbuf w = {out, 0, cap, 0};
    /* The timestamp as the file wrote it, for json and csv; its value in ns for cbor. */
    sb_value tv = {.i = rec->t_ns, .text = rec->time_text ? rec->time_text : "",
                   .text_len = rec->time_text ? strlen(rec->time_text) : 0};
    switch (e) {
    case SB_ENC_JSON: enc_json(&w, s, rec, &tv); break;
    case SB_ENC_CSV: enc_csv(&w, s, rec, &tv); break;
    default: enc_cbor(&w, s, rec, &tv); break;
    }
    if (w.full)
        return SB_ERR_ARG;
    *len = w.len;
    return SB_OK;
}
