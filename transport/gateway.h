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

#include "ciphers/cipher.h"
#include "protocol/handshake.h"
#include "transport/keys.h"
#include "transport/mqtt.h"
#include "transport/topics.h"

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

/* What one device did at the gateway. */
typedef struct sb_gateway_device_report {
    char id[SB_DEVICE_ID_MAX + 1];
    uint64_t accepted, rejected[SB_REASONS], handshakes, rekeys, handshake_auth_failures;
    uint64_t missing, duplicates, mismatched;
    uint32_t epoch;
    const char *suite; /* "" before its first handshake */
} sb_gateway_device_report;

/* The gateway's counters as plain values, serialised by roles/report.c (`sealbench gateway
 * --help` lists the fields). */
typedef struct sb_gateway_report {
    const char *backend;
    char prefix[SB_PREFIX_MAX + 1];
    int psk, qos, tcp_nodelay, echo, verify;
    sb_gateway_stop stop;
    uint64_t accepted, rejected[SB_REASONS], handshakes, rekeys, echoed, echo_failures, missing;
    uint64_t duplicates, mismatched, unverified; /* with verify */
    uint64_t unknown_device, device_cap_hits, ignored_topics;
    uint64_t connection_losses, reconnects, reconnect_nudges, client_rebuilds, bytes_in;
    uint64_t t_first_ns, t_last_ns; /* CLOCK_MONOTONIC, first and last accepted */
    size_t device_count;            /* devices with a session */
    size_t n_devices;               /* devices[]: every device seen, by id */
    sb_gateway_device_report *devices;
    int devices_incomplete;         /* out of memory for devices[]: the totals stand alone */
} sb_gateway_report;

/* Fill r; free with sb_gateway_report_free. why: how sb_gateway_wait ended. */
void sb_gateway_report_get(sb_gateway *g, sb_gateway_stop why, sb_gateway_report *r);
void sb_gateway_report_free(sb_gateway_report *r);

/* Disconnect, wipe every key and free. NULL is a no-op. */
void sb_gateway_free(sb_gateway *g);

/* The reject reasons (SB_REASONS, sb_reason_names, sb_reason_index) are common/err.h's. */

#endif
