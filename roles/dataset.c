/* --dataset on the device side (roles/internal.h): a CSV dataset opened with its description,
 * encoded into payloads per device (datasets/player.h) and handed to the fleet as its payload
 * source, with the mapping of device sessions to the dataset's device ids in the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "datasets/encode.h"
#include "datasets/player.h"
#include "roles/internal.h"

static uint64_t src_count(void *ctx, unsigned idx)
{
    const role_dataset *d = ctx;
    return sb_player_count(d->player, idx % d->patients);
}

static const uint8_t *src_get(void *ctx, unsigned idx, uint64_t n, size_t *len, uint64_t *t_ns)
{
    const role_dataset *d = ctx;
    return sb_player_payload(d->player, idx % d->patients, n, len, t_ns);
}

int role_dataset_load(const sb_device_spec *s, role_dataset *d, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    d->first = s->first;
    if (!s->dataset)
        return 0;
    sb_dataset_desc desc;
    sb_dataset_desc_init(&desc);
    char beside[4096];
    const char *dpath = s->describe;
    if (!dpath) {
        sb_dataset_desc_beside(s->dataset, beside, sizeof beside);
        dpath = beside[0] ? beside : NULL;
    }
    if (dpath && sb_dataset_desc_load(&desc, dpath, err, err_len) != SB_OK)
        return -1;
    if (sb_dataset_open(&d->ds, s->dataset, &desc, err, err_len) != SB_OK)
        return -1;
    sb_player_opts ro = {.encoding = (sb_encoding)s->encoding,
                         .per_device = s->count_set ? s->count + s->warmup : 0,
                         .max_devices = s->devices_set ? s->devices : 0};
    if (sb_player_load(&d->player, d->ds, &ro, err, err_len) != SB_OK)
        return -1;
    d->patients = sb_player_devices(d->player);
    if (!d->patients) {
        snprintf(err, err_len, "%s: no records to replay", s->dataset);
        return -1;
    }
    d->sessions = s->devices_set ? s->devices : d->patients;
    sb_player_stats st;
    sb_player_get_stats(d->player, &st);
    d->src = (sb_payload_source){.ctx = d, .count = src_count, .get = src_get,
                                 .max_len = st.max_len, .speed = s->speed};
    return 0;
}

int role_dataset_check(void *ctx, const char *device_id, const uint8_t *pt, size_t len)
{
    const role_dataset *d = ctx;
    unsigned k;
    if (strncmp(device_id, "dev-", 4) != 0 || sscanf(device_id + 4, "%u", &k) != 1 ||
        k < d->first)
        return 0;
    return k - d->first < d->sessions &&
           sb_player_contains(d->player, (k - d->first) % d->patients, pt, len);
}

void role_dataset_report(const sb_device_spec *s, const role_dataset *d, sb_role_dataset *out)
{
    memset(out, 0, sizeof *out);
    if (!d->player)
        return;
    sb_player_stats st;
    sb_player_get_stats(d->player, &st);
    sb_dataset_stats ds;
    sb_dataset_get_stats(d->ds, &ds);
    out->used = 1;
    snprintf(out->path, sizeof out->path, "%s", s->dataset);
    out->encoding = sb_encoding_name((sb_encoding)s->encoding);
    out->pacing = s->speed > 0 ? "timestamps" : s->rate_hz > 0 ? "rate" : "fast";
    out->speed = s->speed;
    out->rows_read = ds.rows;
    out->rows_skipped = ds.skipped;
    out->records = st.records;
    out->payload_bytes = st.bytes;
    out->payload_min_bytes = st.min_len;
    out->payload_max_bytes = st.max_len;
    out->timestamps_backwards = st.time_backwards;
    out->span_s = st.span_s;
    out->first = d->first;
    out->patients = d->patients;
    unsigned n = d->sessions;
    out->device_names = calloc(n ? n : 1, sizeof *out->device_names);
    if (!out->device_names)
        return; /* the map is left out; the counts stand */
    for (unsigned k = 0; k < n; k++) {
        const char *name = sb_player_device(d->player, k % d->patients);
        out->device_names[k] = strdup(name ? name : "");
    }
    out->n_devices = n;
}

void role_dataset_free(role_dataset *d)
{
    sb_player_free(d->player);
    d->player = NULL;
    if (d->ds)
        sb_dataset_close(d->ds);
    d->ds = NULL;
}
