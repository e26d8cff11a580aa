/* Replay: encode every record once and file it under its device (see replay.h). Each device
 * keeps its payloads in one growing arena with an offset table, and a small open-addressing
 * table of payload hashes so that a receiver in the same process can check what it opened. */
#include "datasets/player.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rdev {
    char *id;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    uint64_t *off;     /* n+1 offsets into arena */
    uint64_t *t_ns;    /* per payload, since the first */
    uint64_t n, cap;
    int64_t t_first, t_prev;
    int has_first;
    struct hslot { uint64_t h, idx; } *hashes; /* open addressing, h 0 = empty */
    uint64_t hash_mask;
} rdev;

struct sb_player {
    rdev *d;
    unsigned n, cap;
    /* device id -> index */
    unsigned *slots;
    size_t slot_mask;
    sb_player_stats st;
};

static uint64_t fnv1a(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h ? h : 1;
}

static sb_err grow(void **p, size_t elem, uint64_t *cap, uint64_t need)
{
    if (need <= *cap)
        return SB_OK;
    uint64_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return SB_ERR_NOMEM;
    *p = q;
    *cap = c;
    return SB_OK;
}

/* The index of device id, adding it if new; -1 when out of memory, -2 when over max. */
static long device_index(sb_player *r, const char *id, unsigned max)
{
    if ((size_t)r->n * 2 >= r->slot_mask) { /* rehash at half full */
        size_t m = r->slot_mask ? (r->slot_mask + 1) * 2 - 1 : 255;
        unsigned *s = malloc((m + 1) * sizeof *s);
        if (!s)
            return -1;
        for (size_t i = 0; i <= m; i++)
            s[i] = UINT32_MAX;
        for (unsigned k = 0; k < r->n; k++) {
            size_t h = fnv1a(r->d[k].id, strlen(r->d[k].id)) & m;
            while (s[h] != UINT32_MAX)
                h = (h + 1) & m;
            s[h] = k;
        }
        free(r->slots);
        r->slots = s;
        r->slot_mask = m;
    }
    size_t h = fnv1a(id, strlen(id)) & r->slot_mask;
    while (r->slots[h] != UINT32_MAX) {
        if (strcmp(r->d[r->slots[h]].id, id) == 0)
            return r->slots[h];
        h = (h + 1) & r->slot_mask;
    }
    if (max && r->n >= max)
        return -2;
    if (r->n == r->cap) {
        unsigned c = r->cap ? r->cap * 2 : 16;
        rdev *d = realloc(r->d, c * sizeof *d);
        if (!d)
            return -1;
        r->d = d;
        r->cap = c;
    }
    rdev *d = &r->d[r->n];
    memset(d, 0, sizeof *d);
    if (!(d->id = strdup(id)))
        return -1;
    r->slots[h] = r->n;
    return r->n++;
}

static sb_err add_payload(rdev *d, const uint8_t *p, size_t len, const sb_record *rec,
                          sb_player_stats *st)
{
    uint64_t acap = d->arena_cap;
    if (grow((void **)&d->arena, 1, &acap, d->arena_len + len) != SB_OK)
        return SB_ERR_NOMEM;
    d->arena_cap = acap;
    /* off and t_ns grow together: they share d->cap. */
    uint64_t c_off = d->cap, c_t = d->cap;
    if (grow((void **)&d->off, sizeof *d->off, &c_off, d->n + 2) != SB_OK ||
        grow((void **)&d->t_ns, sizeof *d->t_ns, &c_t, d->n + 2) != SB_OK)
        return SB_ERR_NOMEM;
    d->cap = c_off;
    memcpy(d->arena + d->arena_len, p, len);
    d->off[d->n] = d->arena_len;
    d->arena_len += len;
    d->off[d->n + 1] = d->arena_len;
    uint64_t t = 0;
    if (rec->has_time) {
        if (!d->has_first) {
            d->t_first = d->t_prev = rec->t_ns;
            d->has_first = 1;
        }
        int64_t now = rec->t_ns;
        if (now < d->t_prev) {
            st->time_backwards++;
            now = d->t_prev;
        }
        d->t_prev = now;
        t = (uint64_t)(now - d->t_first);
    } else if (d->n) {
        t = d->t_ns[d->n - 1];
    }
    d->t_ns[d->n++] = t;
    return SB_OK;
}

static sb_err build_hashes(rdev *d)
{
    uint64_t m = 15;
    while (m + 1 < d->n * 2)
        m = m * 2 + 1;
    d->hashes = calloc(m + 1, sizeof *d->hashes);
    if (!d->hashes)
        return SB_ERR_NOMEM;
    d->hash_mask = m;
    for (uint64_t i = 0; i < d->n; i++) {
        uint64_t h = fnv1a(d->arena + d->off[i], d->off[i + 1] - d->off[i]);
        uint64_t s = h & m;
        while (d->hashes[s].h)
            s = (s + 1) & m;
        d->hashes[s] = (struct hslot){h, i};
    }
    return SB_OK;
}

sb_err sb_player_load(sb_player **out, sb_dataset *ds, const sb_player_opts *o, char *err,
                      size_t err_len)
{
    *out = NULL;
    sb_player *r = calloc(1, sizeof *r);
    if (!r)
        return SB_ERR_NOMEM;
    sb_encode_schema schema;
    sb_encode_schema_of(ds, &schema);
    size_t cap = o->mem_cap ? o->mem_cap : (size_t)1 << 30;
    uint8_t buf[65536];
    sb_err rc = SB_OK;
    r->st.min_len = SIZE_MAX;
    for (;;) {
        sb_record rec;
        int got = 0;
        if ((rc = sb_dataset_next(ds, &rec, &got, err, err_len)) != SB_OK)
            goto fail;
        if (!got)
            break;
        long k = device_index(r, rec.device ? rec.device : "", o->max_devices);
        if (k == -2) {
            r->st.dropped_devices++; /* counts records of dropped devices */
            continue;
        }
        if (k < 0) {
            rc = SB_ERR_NOMEM;
            snprintf(err, err_len, "out of memory filing devices");
            goto fail;
        }
        rdev *d = &r->d[k];
        if (o->per_device && d->n >= o->per_device)
            continue;
        size_t len;
        if ((rc = sb_encode_record(o->encoding, &schema, &rec, buf, sizeof buf, &len)) != SB_OK) {
            snprintf(err, err_len, "%s:%llu: the record does not fit a %zu-byte %s payload",
                     sb_dataset_path(ds), (unsigned long long)rec.line, sizeof buf,
                     sb_encoding_name(o->encoding));
            goto fail;
        }
        if (r->st.bytes + len > cap) {
            rc = SB_ERR_NOMEM;
            snprintf(err, err_len,
                     "%s:%llu: replaying the whole file would hold more than %zu MiB of %s "
                     "payloads; send fewer records per device (--count) or fewer devices",
                     sb_dataset_path(ds), (unsigned long long)rec.line, cap >> 20,
                     sb_encoding_name(o->encoding));
            goto fail;
        }
        if ((rc = add_payload(d, buf, len, &rec, &r->st)) != SB_OK) {
            snprintf(err, err_len, "out of memory after %llu payloads",
                     (unsigned long long)r->st.records);
            goto fail;
        }
        r->st.records++;
        r->st.bytes += len;
        if (len < r->st.min_len)
            r->st.min_len = len;
        if (len > r->st.max_len)
            r->st.max_len = len;
    }
    if (!r->st.records) {
        rc = SB_ERR_PARSE;
        snprintf(err, err_len, "%s: no records to replay", sb_dataset_path(ds));
        goto fail;
    }
    for (unsigned k = 0; k < r->n; k++) {
        if ((rc = build_hashes(&r->d[k])) != SB_OK) {
            snprintf(err, err_len, "out of memory");
            goto fail;
        }
        double s = r->d[k].n ? (double)r->d[k].t_ns[r->d[k].n - 1] / 1e9 : 0;
        if (s > r->st.span_s)
            r->st.span_s = s;
    }
    *out = r;
    return SB_OK;
fail:
    sb_player_free(r);
    return rc;
}

unsigned sb_player_devices(const sb_player *r)
{
    return r->n;
}

const char *sb_player_device(const sb_player *r, unsigned k)
{
    return k < r->n ? r->d[k].id : "";
}

uint64_t sb_player_count(const sb_player *r, unsigned k)
{
    return k < r->n ? r->d[k].n : 0;
}

const uint8_t *sb_player_payload(const sb_player *r, unsigned k, uint64_t n, size_t *len,
                                 uint64_t *t_ns)
{
    if (k >= r->n || n >= r->d[k].n)
        return NULL;
    const rdev *d = &r->d[k];
    *len = d->off[n + 1] - d->off[n];
    if (t_ns)
        *t_ns = d->t_ns[n];
    return d->arena + d->off[n];
}

int sb_player_contains(const sb_player *r, unsigned k, const uint8_t *p, size_t len)
{
    if (k >= r->n || !r->d[k].hashes)
        return 0;
    const rdev *d = &r->d[k];
    uint64_t h = fnv1a(p, len);
    for (uint64_t s = h & d->hash_mask; d->hashes[s].h; s = (s + 1) & d->hash_mask) {
        uint64_t i = d->hashes[s].idx;
        if (d->hashes[s].h == h && d->off[i + 1] - d->off[i] == len &&
            memcmp(d->arena + d->off[i], p, len) == 0)
            return 1;
    }
    return 0;
}

void sb_player_get_stats(const sb_player *r, sb_player_stats *st)
{
    *st = r->st;
    if (!st->records)
        st->min_len = 0;
}

void sb_player_free(sb_player *r)
{
    if (!r)
        return;
    for (unsigned k = 0; k < r->n; k++) {
        free(r->d[k].id);
        free(r->d[k].arena);
        free(r->d[k].off);
        free(r->d[k].t_ns);
        free(r->d[k].hashes);
    }
    free(r->d);
    free(r->slots);
    free(r);
}
