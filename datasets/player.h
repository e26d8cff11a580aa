/* A dataset made ready for replay as telemetry: every record encoded once, before the timed
 * run, and filed under its device.
 *
 * Encoding ahead keeps the encoder's cost out of what the run measures (sealing, the client,
 * the broker) and lets every device session send from its own part of the file at once, which
 * a single pass over a file grouped by patient could not do. The price is memory for the
 * payloads that will be sent (not for the file): a cap turns an oversized replay into a clear
 * error that suggests --count. One device session per distinct value of the device column, in
 * order of first appearance; without a device column the whole file is one device. */
#ifndef SB_DATASETS_PLAYER_H
#define SB_DATASETS_PLAYER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "datasets/dataset.h"
#include "datasets/encode.h"

typedef struct sb_player_opts {
    sb_encoding encoding;
    uint64_t per_device;  /* keep at most this many records per device; 0: all */
    unsigned max_devices; /* keep the first this many devices; 0: all */
    size_t mem_cap;       /* bytes of payloads held at most; 0: 1 GiB */
} sb_player_opts;

typedef struct sb_player sb_player;

/* Read ds from its current position to the end (bad rows as its description says). */
sb_err sb_player_load(sb_player **out, sb_dataset *ds, const sb_player_opts *o, char *err,
                      size_t err_len);

unsigned sb_player_devices(const sb_player *r);
/* The device column's value for device k ("" without a device column). */
const char *sb_player_device(const sb_player *r, unsigned k);
uint64_t sb_player_count(const sb_player *r, unsigned k);
/* Payload n of device k, and its time since the device's first record in ns (0 without a
 * time column; never decreasing: a timestamp earlier than the one before is held at it and
 * counted in time_backwards). */
const uint8_t *sb_player_payload(const sb_player *r, unsigned k, uint64_t n, size_t *len,
                                 uint64_t *t_ns);
/* 1 if p is one of device k's payloads (what a receiver can check without sequence numbers). */
int sb_player_contains(const sb_player *r, unsigned k, const uint8_t *p, size_t len);

typedef struct sb_player_stats {
    uint64_t records, bytes, time_backwards;
    size_t min_len, max_len;
    uint64_t dropped_devices; /* devices beyond max_devices */
    double span_s;            /* longest device timeline, first to last record */
} sb_player_stats;
void sb_player_get_stats(const sb_player *r, sb_player_stats *st);

void sb_player_free(sb_player *r);

#endif
