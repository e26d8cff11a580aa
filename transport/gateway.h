/* The gateway role: one MQTT connection subscribed to P/+/hs and P/+/up that answers
 * handshakes, opens sealed messages, optionally echoes them on P/D/down, and counts what
 * happened per device.
 *
 * Messages are handled on Paho's callback thread; the caller's thread waits for a stopping
 * condition and then reads the counters (sb_gateway_json). */
#ifndef SB_TRANSPORT_GATEWAY_H
#define SB_TRANSPORT_GATEWAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ciphers/cipher.h"
#include "protocol/handshake.h"
#include "transport/keys.h"
#include "transport/mqtt.h"

typedef struct sb_gateway_config {
    const sb_backend *be;
    sb_hs_policy policy;      /* suites and groups the gateway accepts */
    const sb_keyfile *keys;   /* NULL: no-auth mode (PSK of 32 zero bytes, auth=none) */
    const char *prefix;
    int qos;                  /* subscription and echo QoS; handshakes use at least 1 */
    int echo;                 /* answer each opened message on P/D/down */
    int verify;               /* check synthetic payloads (transport/payload.h) */
    /* With verify: check payloads with this instead (e.g. against a dataset replay in the same
     * process): 1 genuine, 0 not. Duplicates are then left to the replay window. */
    int (*check)(void *ctx, const char *device_id, const uint8_t *pt, size_t len);
    void *check_ctx;
    size_t pad_to;            /* padding of echoes */
    unsigned replay_window;   /* 0: 64 */
    uint64_t grace_ns;        /* 0: 5 s */
    size_t max_devices;       /* no-auth: sessions a stranger's HELLOs may create; 0: 100000 */
    sb_mqtt_opts mqtt;        /* uri, TLS files, persistent; client_id is filled in if NULL */
    struct sb_trace *trace;   /* NULL: no per-message samples (transport/trace.h) */
} sb_gateway_config;

typedef struct sb_gateway sb_gateway;

/* Connect and subscribe. err gets one line on failure. */
sb_err sb_gateway_start(sb_gateway **out, const sb_gateway_config *cfg, char *err,
                        size_t err_len);

typedef enum sb_gateway_stop {
    SB_GW_STOP_EXPECT,   /* --expect messages were accepted */
    SB_GW_STOP_DURATION, /* --duration passed */
    SB_GW_STOP_SIGNAL,   /* *stop became non-zero */
} sb_gateway_stop;

/* Wait until expect messages were accepted (0: no limit), duration_s passed (0: no limit) or
 * *stop is set (may be NULL). */
sb_gateway_stop sb_gateway_wait(sb_gateway *g, uint64_t expect, double duration_s,
                                volatile sig_atomic_t *stop);

/* Messages accepted so far. */
uint64_t sb_gateway_accepted(sb_gateway *g);

/* The counters as one JSON object (see `sealbench gateway --help`). */
json_t *sb_gateway_json(sb_gateway *g, sb_gateway_stop why);

/* Disconnect, wipe every key and free. NULL is a no-op. */
void sb_gateway_free(sb_gateway *g);

/* The reject reasons (SB_REASONS, sb_reason_names, sb_reason_index) are common/err.h's. */

#endif
