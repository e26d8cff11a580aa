/* One MQTT connection over Paho's asynchronous C client (MQTTAsync).
 *
 * Why the asynchronous API: one process carries many device sessions, each with a connection
 * of its own, and publishing must not wait for each acknowledgement. Paho runs every
 * callback of every client in the process on one receive thread, so callbacks of different
 * connections never run at the same time; they do run concurrently with the caller's thread.
 *
 * This is the only file that includes a Paho header: Paho's return codes become sb_err here,
 * with Paho's (or the TLS library's) own explanation kept as text for the one-line errors.
 * tcp:// and ssl:// URIs both work (the library is Paho's TLS build, paho-mqtt3as). */
#ifndef SB_TRANSPORT_MQTT_H
#define SB_TRANSPORT_MQTT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct sb_mqtt sb_mqtt;

typedef struct sb_mqtt_callbacks {
    void *ctx;
    /* A message arrived. The payload is only valid during the call. dup: the broker says it
     * may be a redelivery. */
    void (*on_message)(void *ctx, const char *topic, const uint8_t *payload, size_t len, int dup);
    /* A publish finished: written to the socket (QoS 0), acknowledged (QoS 1 and 2), or failed
     * (ok == 0). tag is the one given to sb_mqtt_publish. */
    void (*on_published)(void *ctx, int tag, int ok);
    /* The connection was lost (cause may be NULL) or, with auto_reconnect, re-established. */
    void (*on_lost)(void *ctx, const char *cause);
    void (*on_reconnected)(void *ctx);
} sb_mqtt_callbacks;

typedef struct sb_mqtt_opts {
    const char *uri;        /* tcp://host:port or ssl://host:port */
    const char *client_id;
    const char *cafile;     /* ssl://: CA certificate(s) to verify the broker with */
    const char *certfile;   /* ssl://: our certificate, for mutual TLS */
    const char *keyfile;    /* ssl://: our private key */
    int persistent;         /* keep the session (subscriptions, QoS 1/2 state) across reconnects */
    int auto_reconnect;     /* reconnect after a lost connection, buffering publishes meanwhile */
    int keepalive_s;        /* 0: 30 s */
    double connect_timeout_s; /* 0: 5 s */
    /* Keep Nagle's algorithm on, as Paho leaves it; by default the process's MQTT sockets get
     * TCP_NODELAY (why: transport/mqtt.c). */
    int nagle;
} sb_mqtt_opts;

/* Create a client and connect; returns when connected or failed. On failure *out is NULL and
 * err gets one line ("cannot connect to tcp://127.0.0.1:1: connection refused"). */
sb_err sb_mqtt_connect(sb_mqtt **out, const sb_mqtt_opts *opts, const sb_mqtt_callbacks *cb,
                       char *err, size_t err_len);

/* The same in two steps, so that many connections can be opened at once: Paho's receive
 * thread takes up to a second to notice each new socket, so connecting a thousand devices one
 * after the other takes many minutes. After a failed _end the caller closes m. */
sb_err sb_mqtt_connect_begin(sb_mqtt **out, const sb_mqtt_opts *opts,
                             const sb_mqtt_callbacks *cb, char *err, size_t err_len);
sb_err sb_mqtt_connect_end(sb_mqtt *m, char *err, size_t err_len);

/* Subscribe to n topic filters at qos and wait for the broker's SUBACK; or in two steps. */
sb_err sb_mqtt_subscribe(sb_mqtt *m, const char *const *filters, int n, int qos, char *err,
                         size_t err_len);
sb_err sb_mqtt_subscribe_begin(sb_mqtt *m, const char *const *filters, int n, int qos,
                               char *err, size_t err_len);
sb_err sb_mqtt_subscribe_end(sb_mqtt *m, char *err, size_t err_len);

/* Queue a publish; on_published reports its end with tag (0 or 1, the caller's choice: e.g.
 * telemetry and handshakes), or not at all with SB_MQTT_SILENT. Paho copies the payload.
 * Why silent publishes: a completion callback costs Paho's send thread about as much as the
 * write itself, and at QoS 0 the publishes of one connection complete in order, so a caller
 * that only needs to bound its queue can ask for every k-th completion. */
#define SB_MQTT_SILENT (-1)
sb_err sb_mqtt_publish(sb_mqtt *m, const char *topic, const void *payload, size_t len, int qos,
                       int tag);

/* 1 while connected. */
int sb_mqtt_is_connected(sb_mqtt *m);

/* Call every so often, holding no lock that a callback takes. With auto_reconnect, once the
 * connection has been down for 5 s it asks Paho to retry at once (every 5 s) and trusts Paho's
 * own view of the connection over a possibly missed callback. Returns 1 if connected. */
int sb_mqtt_watch(sb_mqtt *m);
/* How many times sb_mqtt_watch had to ask Paho to retry. */
unsigned sb_mqtt_nudges(sb_mqtt *m);
/* How many times sb_mqtt_watch replaced a client that the broker kept closing at once (Paho
 * resending a publish it had freed: "rebuilding a poisoned client" in transport/mqtt.c); the
 * publishes the old client still owed were reported failed through on_published. */
unsigned sb_mqtt_rebuilds(sb_mqtt *m);

/* Disconnect (waiting up to timeout_s for queued publishes to go out) and free. NULL is a
 * no-op. */
void sb_mqtt_close(sb_mqtt *m, double timeout_s);

/* Close n connections at once (entries may be NULL; all are set to NULL). */
void sb_mqtt_close_many(sb_mqtt **ms, size_t n, double timeout_s);

/* The Paho library version, e.g. "1.3.11". */
const char *sb_mqtt_version(void);

#endif
