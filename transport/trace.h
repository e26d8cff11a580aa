/* Per-message measurements of a run: when each message was sealed and how long that took on
 * the device, how long its opening took on the gateway and when that ended, and its round trip
 * when the gateway echoes. These are the raw samples behind every latency statistic
 * (results/<run>/samples/), kept so that any statistic can be recomputed later.
 *
 * One clock (sb_now_ns, CLOCK_MONOTONIC) on both sides: with device and gateway in one process
 * (`pair`), gateway open end minus device seal start is the one-way end-to-end latency. With
 * the roles in separate processes only the round trip is meaningful, and each side writes its
 * own file.
 *
 * Threads: the device side is written by the device's publishing thread (and by its message
 * callback for echoes, under the device's lock, which the publishing thread also holds while
 * sealing); the gateway side by the gateway's message callback. The two meet only when the
 * file is written, after the run. */
#ifndef SB_TRANSPORT_TRACE_H
#define SB_TRANSPORT_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct sb_trace sb_trace;

/* Room for per_device messages from each of devices devices numbered first, first+1, ...
 * (dev-0001 is 1); the first warmup messages of each device are marked as warm-up. NULL when
 * out of memory. */
sb_trace *sb_trace_new(unsigned devices, unsigned first, uint64_t per_device, uint64_t warmup);

/* Device idx (0-based) sealed its message n as (epoch, seq), starting at t_start_ns and taking
 * seal_ns. Messages past per_device are not recorded. */
void sb_trace_sealed(sb_trace *t, unsigned idx, uint64_t n, uint32_t epoch, uint64_t seq,
                     uint64_t t_start_ns, uint64_t seal_ns, size_t pt_len, size_t wire_len);

/* Device idx received the echo of (epoch, seq) rtt_ns after sealing it. */
void sb_trace_echoed(sb_trace *t, unsigned idx, uint32_t epoch, uint64_t seq, uint64_t rtt_ns);

/* The gateway opened (epoch, seq) of device_id ("dev-0007") in open_ns, ending at t_end_ns. */
void sb_trace_opened(sb_trace *t, const char *device_id, uint32_t epoch, uint64_t seq,
                     uint64_t open_ns, uint64_t t_end_ns);

/* Write the samples as CSV (schema in results/README.md), FILE.tmp then renamed. Device rows
 * when the device side was traced (joined with the gateway's opens); otherwise the gateway's
 * opens alone. */
sb_err sb_trace_write(sb_trace *t, const char *path, char *err, size_t err_len);

void sb_trace_free(sb_trace *t);

#endif
