/* The device role: a fleet of one or many devices in one process, each with its own MQTT
 * connection, handshake, sealed session and counters, driven by the caller's thread.
 *
 * A run has three phases, kept apart so that each can be measured: connect (every device opens
 * its connection and subscribes to P/D/hs/ack and P/D/down), handshake (every device sends a
 * HELLO at once: the "handshake storm"), then publish (each device seals and publishes its
 * messages, rekeying on schedule, and matches the gateway's echoes to measure round trips). */
#ifndef SB_TRANSPORT_FLEET_H
#define SB_TRANSPORT_FLEET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ciphers/cipher.h"
#include "common/stats.h"
#include "transport/keys.h"
#include "transport/mqtt.h"
#include "transport/topics.h"

/* Where payloads come from when they are not synthetic (transport/payload.h): the dataset
 * player (datasets/player.h) or anything else that can hand out message n of device idx. */
typedef struct sb_payload_source {
    void *ctx;
    uint64_t (*count)(void *ctx, unsigned idx); /* messages device idx has */
    /* Message n of device idx (valid until the next call) and its time in ns since the
     * device's first message. */
    const uint8_t *(*get)(void *ctx, unsigned idx, uint64_t n, size_t *len, uint64_t *t_ns);
    size_t max_len;  /* longest payload */
    double speed;    /* > 0: send message n at start + t_ns / speed (the data's own pacing) */
} sb_payload_source;

typedef struct sb_fleet_config {
    const sb_backend *be;
    const sb_suite *suite;
    const sb_group *group;
    const sb_keyfile *keys;   /* NULL: no-auth (auth=none) */
    const char *prefix;
    unsigned devices;         /* how many */
    unsigned first;           /* number of the first device id (dev-0001 is 1) */
    uint64_t messages;        /* per device (with a source: at most; 0 = all it has) */
    size_t size;              /* plaintext bytes per message (synthetic payloads) */
    double rate_hz;           /* per device; 0: as fast as possible */
    uint64_t rekey_messages;  /* 0: never by count */
    double rekey_s;           /* 0: never by time */
    int qos;
    int echo;                 /* expect echoes and measure round trips */
    size_t pad_to;
    unsigned inflight;        /* publishes not yet finished, per device; 0: 1024 */
    double hs_timeout_s;      /* 0: 5 s; then a new HELLO, at most 3 times */
    double drain_s;           /* wait for acknowledgements and echoes; 0: 10 s */
    unsigned replay_window;
    uint64_t grace_ns;
    sb_mqtt_opts mqtt;        /* uri, TLS files, persistent; client ids are made per device */
    const sb_payload_source *source; /* NULL: synthetic payloads of `size` bytes */
    struct sb_trace *trace;   /* NULL: no per-message samples (transport/trace.h) */
    /* Called by the publish loop after every round over the devices with the messages
     * published so far (experiments hook broker restarts here). */
    void (*progress)(void *ctx, uint64_t published);
    void *progress_ctx;
} sb_fleet_config;

typedef struct sb_fleet sb_fleet;

/* Connect every device. err gets one line on failure (nothing is left connected). */
sb_err sb_fleet_connect(sb_fleet **out, const sb_fleet_config *cfg, char *err, size_t err_len);

/* Handshake every device at once and wait until all have keys. */
sb_err sb_fleet_handshake(sb_fleet *f, volatile sig_atomic_t *stop, char *err, size_t err_len);

/* Publish the messages, then wait (drain_s at most) for acknowledgements and echoes. */
sb_err sb_fleet_publish(sb_fleet *f, volatile sig_atomic_t *stop, char *err, size_t err_len);

/* Messages published so far, over all devices (what a gateway in the same process should
 * end up accepting). */
uint64_t sb_fleet_sent(sb_fleet *f);

/* What the fleet did, as plain values: what it was asked (echoed from its configuration, so
 * that a report stands on its own), its counts, the raw latency samples, its timings and
 * memory. roles/report.c serialises it (`sealbench device --help` lists the fields). */
#define SB_FLEET_ERRORS_MAX 11 /* the first ten devices' errors, and one of the fleet's own */

typedef struct sb_fleet_report {
    /* what it ran */
    const char *backend, *suite, *group; /* descriptor names: static */
    char prefix[SB_PREFIX_MAX + 1];
    int psk, qos, tcp_nodelay, echo;
    int synthetic;             /* synthetic payloads, else a payload source (a dataset) */
    unsigned devices;
    uint64_t messages_per_device, payload_bytes, pad_to;
    double rate_hz;
    int has_wire_bytes;        /* synthetic payloads: the wire size of one message */
    uint64_t wire_bytes;
    /* what happened */
    unsigned devices_ready, devices_failed;
    uint64_t sent, published_ok, publish_failed, handshakes, rekeys, accept_rejected;
    uint64_t echoes, rtt_unmatched, echo_rejected[SB_REASONS];
    uint64_t plaintext_bytes_sent, wire_bytes_sent;
    sb_samples rtt_ns, handshake_ns, rekey_ns; /* every device's, merged */
    uint64_t connect_ns, handshake_storm_ns, t_first_ns, t_last_ns; /* CLOCK_MONOTONIC */
    uint64_t connection_losses, reconnects, reconnect_nudges, client_rebuilds;
    long rss_start_kb, rss_connected_kb, rss_handshaken_kb, rss_peak_kb; /* -1: unknown */
    int interrupted;
    unsigned n_errors;
    char errors[SB_FLEET_ERRORS_MAX][400];
} sb_fleet_report;

/* Fill r (which owns its samples: free with sb_fleet_report_free). Samples that cannot all be
 * merged fail the fleet (devices_failed, an error) rather than leave a part of them. */
void sb_fleet_report_get(sb_fleet *f, sb_fleet_report *r);
void sb_fleet_report_free(sb_fleet_report *r);

/* Disconnect every device, wipe keys, free. NULL is a no-op. */
void sb_fleet_free(sb_fleet *f);

/* The device id of number n ("dev-0001"). */
void sb_device_id(unsigned n, char *out, size_t cap);

#endif
