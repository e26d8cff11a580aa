/* Dataset inspection (see inspect.h): counters per column, a set of device ids, and for each
 * encoding an exact histogram of payload sizes, so the percentiles are exact too. */
#include "datasets/inspect.h"

#include <stdlib.h>
#include <string.h>

#include "datasets/encode.h"

#define MAX_PAYLOAD 65536
#define MAX_PROBLEMS 5

typedef struct colstat {
    uint64_t present, missing;
    int have;
    double min, max;
} colstat;

typedef struct idset {
    char **slot;
    size_t mask, n;
} idset;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static int idset_add(idset *s, const char *id)
{
    if (s->n * 2 >= s->mask) {
        size_t m = s->mask ? s->mask * 2 + 1 : 255;
        char **t = calloc(m + 1, sizeof *t);
        if (!t)
            return -1;
        for (size_t i = 0; s->slot && i <= s->mask; i++)
            if (s->slot[i]) {
                size_t h = hash_str(s->slot[i]) & m;
                while (t[h])
                    h = (h + 1) & m;
                t[h] = s->slot[i];
            }
        free(s->slot);
        s->slot = t;
        s->mask = m;
    }
    size_t h = hash_str(id) & s->mask;
    while (s->slot[h]) {
        if (strcmp(s->slot[h], id) == 0)
            return 0;
        h = (h + 1) & s->mask;
    }
    if (!(s->slot[h] = strdup(id)))
        return -1;
    s->n++;
    return 0;
}

static void idset_free(idset *s)
{
    for (size_t i = 0; s->slot && i <= s->mask; i++)
        free(s->slot[i]);
    free(s->slot);
}

static json_t *size_json(const uint64_t *hist, uint64_t n, uint64_t sum)
{
    json_t *o = json_object();
    if (!n)
        return o;
    static const double qs[] = {0, 0.5, 0.9, 0.99, 1};
    static const char *const names[] = {"min", "p50", "p90", "p99", "max"};
    for (int q = 0; q < 5; q++) {
        uint64_t rank = (uint64_t)(qs[q] * (double)(n - 1)), seen = 0;
        for (size_t len = 0; len <= MAX_PAYLOAD; len++) {
            seen += hist[len];
            if (seen > rank) {
                json_object_set_new(o, names[q], json_integer((json_int_t)len));
                break;
            }
        }
    }
    json_object_set_new(o, "mean", json_real((double)sum / (double)n));
    return o;
}

sb_err sb_dataset_inspect(const char *path, const sb_dataset_desc *d, json_t **out, char *err,
                          size_t err_len)
{
    *out = NULL;
    sb_dataset_desc desc = *d;
    desc.bad_rows = SB_BAD_ROWS_SKIP;
    sb_dataset *ds = NULL;
    sb_err rc = sb_dataset_open(&ds, path, &desc, err, err_len);
    if (rc != SB_OK)
        return rc;
    const sb_dataset_column *cols;
    size_t nc = sb_dataset_columns(ds, &cols);
    colstat *cs = calloc(nc ? nc : 1, sizeof *cs);
    uint64_t *hist = calloc((size_t)SB_ENC_COUNT * (MAX_PAYLOAD + 1), sizeof *hist);
    uint64_t sums[SB_ENC_COUNT] = {0}, too_big[SB_ENC_COUNT] = {0};
    idset ids = {0};
    sb_encode_schema schema;
    sb_encode_schema_of(ds, &schema);
    uint8_t *buf = malloc(MAX_PAYLOAD);
    uint64_t records = 0, with_time = 0, backwards = 0;
    int64_t tmin = 0, tmax = 0, tprev = 0;
    if (!cs || !hist || !buf) {
        rc = SB_ERR_NOMEM;
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    for (;;) {
        sb_record r;
        int got = 0;
        if ((rc = sb_dataset_next(ds, &r, &got, err, err_len)) != SB_OK)
            goto out;
        if (!got)
            break;
        records++;
        if (r.device && idset_add(&ids, r.device) < 0) {
            rc = SB_ERR_NOMEM;
            snprintf(err, err_len, "out of memory");
            goto out;
        }
        if (r.has_time) {
            if (!with_time || r.t_ns < tmin)
                tmin = r.t_ns;
            if (!with_time || r.t_ns > tmax)
                tmax = r.t_ns;
            /* Only meaningful without a device column: with one, rows of different devices
             * may interleave in any order. */
            if (!r.device && with_time && r.t_ns < tprev)
                backwards++;
            tprev = r.t_ns;
            with_time++;
        }
        for (size_t i = 0; i < nc && i < r.n; i++) {
            const sb_value *v = &r.values[i];
            colstat *c = &cs[i];
            if (v->missing) {
                c->missing++;
                continue;
            }
            c->present++;
            double x = cols[i].type == SB_COL_INT ? (double)v->i : v->r;
            if (cols[i].type == SB_COL_INT || cols[i].type == SB_COL_REAL) {
                if (!c->have || x < c->min)
                    c->min = x;
                if (!c->have || x > c->max)
                    c->max = x;
                c->have = 1;
            }
        }
        for (int e = 0; e < SB_ENC_COUNT; e++) {
            size_t len;
            if (sb_encode_record((sb_encoding)e, &schema, &r, buf, MAX_PAYLOAD, &len) != SB_OK) {
                too_big[e]++;
                continue;
            }
            hist[(size_t)e * (MAX_PAYLOAD + 1) + len]++;
            sums[e] += len;
        }
    }

    sb_dataset_stats st;
    sb_dataset_get_stats(ds, &st);
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "bytes", json_integer((json_int_t)st.bytes));
    json_object_set_new(o, "delimiter", json_stringn(&(char){sb_dataset_delimiter(ds)}, 1));
    json_object_set_new(o, "rows", json_integer((json_int_t)st.rows));
    json_object_set_new(o, "records", json_integer((json_int_t)records));
    json_object_set_new(o, "bad_rows", json_integer((json_int_t)st.skipped));
    json_object_set_new(o, "blank_lines", json_integer((json_int_t)st.blank_lines));
    const char *dc = sb_dataset_device_column(ds), *tc = sb_dataset_time_column(ds);
    json_object_set_new(o, "device_column", dc ? json_string(dc) : json_null());
    json_object_set_new(o, "devices", json_integer(dc ? (json_int_t)ids.n : 1));
    json_object_set_new(o, "time_column", tc ? json_string(tc) : json_null());
    if (tc) {
        json_object_set_new(o, "time_format",
                            json_string(sb_time_format_name(sb_dataset_time_format(ds))));
        json_object_set_new(o, "span_s", json_real(with_time ? (double)(tmax - tmin) / 1e9 : 0));
    }
    json_t *ca = json_array();
    for (size_t i = 0; i < nc; i++) {
        json_t *c = json_object();
        json_object_set_new(c, "name", json_string(cols[i].name[0] ? cols[i].name : cols[i].source));
        if (cols[i].name[0] && strcmp(cols[i].name, cols[i].source) != 0)
            json_object_set_new(c, "source", json_string(cols[i].source));
        json_object_set_new(c, "type", json_string(sb_col_type_name(cols[i].type)));
        json_object_set_new(c, "present", json_integer((json_int_t)cs[i].present));
        json_object_set_new(c, "missing", json_integer((json_int_t)cs[i].missing));
        if (cs[i].have && (cols[i].type == SB_COL_INT || cols[i].type == SB_COL_REAL)) {
            json_object_set_new(c, "min", json_real(cs[i].min));
            json_object_set_new(c, "max", json_real(cs[i].max));
        }
        json_array_append_new(ca, c);
    }
    json_object_set_new(o, "columns", ca);
    json_t *pj = json_object();
    for (int e = 0; e < SB_ENC_COUNT; e++) {
        json_t *s = size_json(hist + (size_t)e * (MAX_PAYLOAD + 1), records - too_big[e], sums[e]);
        if (too_big[e])
            json_object_set_new(s, "over_64k", json_integer((json_int_t)too_big[e]));
        json_object_set_new(pj, sb_encoding_name((sb_encoding)e), s);
    }
    json_object_set_new(o, "payload_bytes", pj);
    json_t *probs = json_array();
    if (st.skipped)
        json_array_append_new(probs, json_sprintf("%llu bad rows skipped; the first: %s",
                                                  (unsigned long long)st.skipped,
                                                  st.first_skip_error));
    if (backwards)
        json_array_append_new(probs, json_sprintf("%llu timestamps earlier than the row before "
                                                  "(replay holds them at the previous time)",
                                                  (unsigned long long)backwards));
    for (size_t i = 0; i < nc; i++)
        if (!cs[i].present)
            json_array_append_new(probs, json_sprintf("column \"%s\" is missing in every row",
                                                      cols[i].source));
    json_object_set_new(o, "problems", probs);
    *out = o;
    rc = SB_OK;
out:
    idset_free(&ids);
    free(buf);
    free(hist);
    free(cs);
    sb_dataset_close(ds);
    return rc;
}
