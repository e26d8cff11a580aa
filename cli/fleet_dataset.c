/* --dataset for the device side (device and pair): a CSV dataset opened with its description,
 * encoded into payloads per device (datasets/player.h) and handed to the fleet as its payload
 * source, with the mapping of device sessions to the dataset's device ids in the report. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/role_opts.h"
#include "datasets/dataset.h"
#include "datasets/encode.h"
#include "datasets/player.h"

static uint64_t src_count(void *ctx, unsigned idx)
{
    return sb_player_count(ctx, idx);
}

static const uint8_t *src_get(void *ctx, unsigned idx, uint64_t n, size_t *len, uint64_t *t_ns)
{
    return sb_player_payload(ctx, idx, n, len, t_ns);
}

int cli_fleet_load_dataset(const char *cmd, cli_fleet *f)
{
    if (!f->dataset) {
        if (f->describe || f->speed > 0)
            return cli_usage_error(cmd, "--describe and --speed need --dataset FILE");
        return 0;
    }
    if (f->size_set)
        return cli_usage_error(cmd, "--size is for synthetic payloads; with --dataset the "
                                    "records set the size");
    if (f->speed > 0 && f->rate > 0)
        return cli_usage_error(cmd, "--speed and --rate are two pacings: give one");
    char err[512];
    sb_dataset_desc desc;
    sb_dataset_desc_init(&desc);
    char beside[4096];
    const char *dpath = f->describe;
    if (!dpath) {
        sb_dataset_desc_beside(f->dataset, beside, sizeof beside);
        dpath = beside[0] ? beside : NULL;
    }
    if (dpath && sb_dataset_desc_load(&desc, dpath, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench %s: %s\n", cmd, err);
        return 1;
    }
    if (sb_dataset_open(&f->ds, f->dataset, &desc, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench %s: %s\n", cmd, err);
        return 1;
    }
    sb_player_opts ro = {.encoding = (sb_encoding)f->encoding,
                         .per_device = f->count_set ? f->count + f->warmup : 0,
                         .max_devices = f->devices_set ? (unsigned)f->devices : 0};
    if (sb_player_load(&f->player, f->ds, &ro, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench %s: %s\n", cmd, err);
        return 1;
    }
    sb_player_stats st;
    sb_player_get_stats(f->player, &st);
    f->src = (sb_payload_source){.ctx = f->player, .count = src_count, .get = src_get,
                                 .max_len = st.max_len, .speed = f->speed};
    return 0;
}

int cli_fleet_dataset_check(void *ctx, const char *device_id, const uint8_t *pt, size_t len)
{
    const cli_fleet *f = ctx;
    unsigned first = (unsigned)f->first, k;
    if (strncmp(device_id, "dev-", 4) != 0 || sscanf(device_id + 4, "%u", &k) != 1 || k < first)
        return 0;
    return sb_player_contains(f->player, k - first, pt, len);
}

json_t *cli_fleet_dataset_json(const cli_fleet *f)
{
    if (!f->player)
        return NULL;
    sb_player_stats st;
    sb_player_get_stats(f->player, &st);
    sb_dataset_stats ds;
    sb_dataset_get_stats(f->ds, &ds);
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(f->dataset));
    json_object_set_new(o, "encoding", json_string(sb_encoding_name((sb_encoding)f->encoding)));
    json_object_set_new(o, "pacing", json_string(f->speed > 0 ? "timestamps" : f->rate > 0 ? "rate" : "fast"));
    if (f->speed > 0)
        json_object_set_new(o, "speed", json_real(f->speed));
    json_object_set_new(o, "rows_read", json_integer((json_int_t)ds.rows));
    json_object_set_new(o, "rows_skipped", json_integer((json_int_t)ds.skipped));
    json_object_set_new(o, "records", json_integer((json_int_t)st.records));
    json_object_set_new(o, "payload_bytes", json_integer((json_int_t)st.bytes));
    json_object_set_new(o, "payload_min_bytes", json_integer((json_int_t)st.min_len));
    json_object_set_new(o, "payload_max_bytes", json_integer((json_int_t)st.max_len));
    json_object_set_new(o, "timestamps_backwards", json_integer((json_int_t)st.time_backwards));
    json_object_set_new(o, "span_s", json_real(st.span_s));
    json_t *map = json_object();
    for (unsigned k = 0; k < sb_player_devices(f->player); k++) {
        char id[32];
        sb_device_id((unsigned)f->first + k, id, sizeof id);
        json_object_set_new(map, id, json_string(sb_player_device(f->player, k)));
    }
    json_object_set_new(o, "devices", map);
    return o;
}

void cli_fleet_free(cli_fleet *f)
{
    sb_player_free(f->player);
    f->player = NULL;
    if (f->ds)
        sb_dataset_close(f->ds);
    f->ds = NULL;
}
