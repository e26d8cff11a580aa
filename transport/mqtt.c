/* The Paho MQTTAsync adapter (transport/mqtt.h). Blocking steps (connect, subscribe,
 * disconnect) wait on a condition variable that Paho's callbacks signal, with a deadline, so
 * that an unreachable broker is an error and never a hang. */
#include "transport/mqtt.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

/* What Paho's callbacks get as their context: the client, through the link of one Paho handle.
 * A rebuild (see "rebuilding a poisoned client") retires the old handle's link, so that its
 * late callbacks are ignored, and gives the new handle a new one. Links are freed with the
 * dead clients, once Paho's threads have stopped. */
struct link {
    struct sb_mqtt *m;
    int retired;
    struct pub_ctx { struct link *l; int tag; } pub[2];
    struct link *next_dead;
};

struct sb_mqtt {
    MQTTAsync h;
    struct link *link;
    /* Held for reading around every use of h from the caller's threads, for writing while a
     * rebuild replaces h. Paho's callbacks do not take it (a rebuild first waits for them). */
    pthread_rwlock_t hlock;
    sb_mqtt_callbacks cb;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int op_done, op_ok, op_code; /* the one blocking operation in progress */
    char op_msg[200];
    char op_what[256];
    char tls_err[200];
    int connected;
    struct timespec down_since; /* when the connection was lost; tv_sec 0 while up */
    struct timespec last_nudge;
    unsigned nudges;
    int auto_reconnect;
    char uri[256];
    double timeout_s;
    int tls;
    /* Rebuilding: what the handle was made with, the completions it still owes per tag, and
     * how many connections in a row the broker closed at once. */
    char *client_id, *cafile, *certfile, *keyfile;
    int persistent, keepalive_s;
    atomic_uint pending[2]; /* atomic: counted on every publish and completion */
    struct timespec up_since;
    unsigned short_lives, rebuilds;
    int lost;                 /* a connection was lost and none came back since */
    int poisoned;
    struct sb_mqtt *next_live; /* g_live: the connected clients of this process */
    /* Closing: set before MQTTAsync_destroy, after which our callbacks return at once; active
     * counts the callbacks running now (see enter()). */
    int closing, active, nagle;
    struct sb_mqtt *next_dead; /* g_dead: closed, kept until Paho's threads have stopped */
    /* What this client subscribed to, renewed after every reconnect (see on_connected). */
    char *subs[8];
    int subs_qos[8], n_subs;
};

/* Paho 1.3.11 does not interrupt its receive thread's select() when a new connection starts,
 * so a client that connects while another of this process is already connected and idle
 * waits up to a second per step of the connect for that select() to time out: 2.1 s per
 * connect, measured (the bug is eclipse-paho/paho.mqtt.c#1430, fixed upstream in 2026).
 * The workaround makes traffic arrive on a connected client's socket: an empty QoS 1 publish
 * to a topic nobody subscribes to, whose PUBACK wakes the select() so that it picks up the
 * new socket at once. */
static pthread_mutex_t g_live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sb_mqtt *g_live;
#define WAKE_TOPIC "sealbench-wake"

static void live_add(struct sb_mqtt *m)
{
    pthread_mutex_lock(&g_live_mu);
    m->next_live = g_live;
    g_live = m;
    pthread_mutex_unlock(&g_live_mu);
}

static void live_remove(struct sb_mqtt *m)
{
    pthread_mutex_lock(&g_live_mu);
    for (struct sb_mqtt **p = &g_live; *p; p = &(*p)->next_live)
        if (*p == m) {
            *p = m->next_live;
            break;
        }
    pthread_mutex_unlock(&g_live_mu);
}

static void wake_paho(const struct sb_mqtt *except)
{
    pthread_mutex_lock(&g_live_mu);
    for (struct sb_mqtt *o = g_live; o; o = o->next_live) {
        /* A client being rebuilt is skipped: its rebuild takes g_live_mu under its hlock. */
        if (o == except || !o->connected || pthread_rwlock_tryrdlock(&o->hlock) != 0)
            continue;
        int sent = MQTTAsync_send(o->h, WAKE_TOPIC, 0, "", 1, 0, NULL) == MQTTASYNC_SUCCESS;
        pthread_rwlock_unlock(&o->hlock);
        if (sent)
            break;
    }
    pthread_mutex_unlock(&g_live_mu);
}

/* ---- callbacks that outlive a close ------------------------------------------------------ *
 *
 * Paho calls our callbacks with its own mutex released, so MQTTAsync_destroy can return while
 * a callback it had already started is still running, or about to take m->mu: a late
 * disconnect completion, a message that arrived during the close. Freeing m (or the caller's
 * context) then would be a use after free; glibc aborts on a mutex in freed memory. So each
 * callback enters through enter(), a close waits for the running ones and marks m closing,
 * and m itself is freed only once the last client of the process is destroyed, when Paho has
 * stopped its threads (MQTTAsync_destroy of the last client waits for them). */
static struct sb_mqtt *g_dead;
static unsigned g_clients; /* created and not yet destroyed; under g_live_mu */

static struct link *g_dead_links;

/* 1 if the callback may go on (then leave() must follow); 0 if m is closing, or if the
 * callback comes from a handle that a rebuild replaced. */
static int enter(struct link *l)
{
    sb_mqtt *m = l->m;
    pthread_mutex_lock(&m->mu);
    int ok = !m->closing && !l->retired;
    if (ok)
        m->active++;
    pthread_mutex_unlock(&m->mu);
    return ok;
}

/* Set *flag (m->closing, or a link's retired) under m->mu, so that no callback enters from
 * now on, and wait for those already inside: their ctx may be freed or replaced after this. */
static void shut_callbacks(sb_mqtt *m, int *flag)
{
    pthread_mutex_lock(&m->mu);
    *flag = 1;
    while (m->active > 0)
        pthread_cond_wait(&m->cv, &m->mu);
    pthread_mutex_unlock(&m->mu);
}

static void leave(sb_mqtt *m)
{
    pthread_mutex_lock(&m->mu);
    if (--m->active == 0)
        pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void really_free(sb_mqtt *m)
{
    for (int i = 0; i < m->n_subs; i++)
        free(m->subs[i]);
    free(m->link);
    free(m->client_id);
    free(m->cafile);
    free(m->certfile);
    free(m->keyfile);
    pthread_rwlock_destroy(&m->hlock);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}

/* ---- Nagle ------------------------------------------------------------------------------- *
 *
 * Paho 1.3.11 leaves Nagle's algorithm on for its sockets and has no option to turn it off.
 * With Nagle on, a client that writes twice without reading in between (the gateway's PUBACK
 * of a HELLO, then its ACCEPT; a QoS 2 publisher's PUBREL, then its next PUBLISH) has its
 * second packet held until the broker acknowledges the first, and Linux delays that
 * acknowledgement by up to 40 ms: a first handshake over loopback took 44-51 ms, of which
 * 0.7 ms was cryptography, and 1.7-5.6 ms with TCP_NODELAY (`sealbench pair --qos 2 --count
 * 200 --rate 200`, with and without --nagle, three runs each).
 * What we measure is the cost of the encryption, so by default every connected TCP socket of
 * the process gets TCP_NODELAY as soon as a client has connected (a scan of /proc/self/fd: in
 * the device, gateway and pair processes those are all MQTT client sockets). The broker's side
 * has it from set_tcp_nodelay (transport/broker.c). --nagle keeps Paho's default, to measure
 * a stock client; the result says which. */
static atomic_int g_nodelay_due;

static void nodelay_scan(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return;
    int self = dirfd(dir);
    struct dirent *e;
    while ((e = readdir(dir))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        struct stat st;
        if (*end || end == e->d_name || fd == self || fstat((int)fd, &st) != 0 ||
            !S_ISSOCK(st.st_mode))
            continue;
        int v = 0, dom = 0;
        socklen_t l = sizeof v, dl = sizeof dom;
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &v, &l) != 0 || v != SOCK_STREAM ||
            getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) != 0 ||
            (dom != AF_INET && dom != AF_INET6) ||
            getpeername((int)fd, (struct sockaddr *)&peer, &pl) != 0)
            continue;
        l = sizeof v;
        if (getsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &v, &l) == 0 && !v) {
            int one = 1;
            setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
    }
    closedir(dir);
}

/* Called before each publish and subscribe: a scan when a client connected since the last one
 * (a reconnect storm of many clients costs one scan per publish, not one per client). A client
 * that keeps Nagle never scans: the processes of a run use one setting for all their clients. */
static void nodelay_if_due(const sb_mqtt *m)
{
    if (!m->nagle && atomic_load_explicit(&g_nodelay_due, memory_order_relaxed) &&
        atomic_exchange(&g_nodelay_due, 0))
        nodelay_scan();
}

/* ---- waiting for one operation ----------------------------------------------------------- */

static void op_begin(sb_mqtt *m)
{
    pthread_mutex_lock(&m->mu);
    m->op_done = 0;
    m->op_ok = 0;
    m->op_code = 0;
    m->op_msg[0] = 0;
    pthread_mutex_unlock(&m->mu);
}

static void op_end(sb_mqtt *m, int ok, int code, const char *msg)
{
    pthread_mutex_lock(&m->mu);
    m->op_done = 1;
    m->op_ok = ok;
    m->op_code = code;
    if (msg)
        snprintf(m->op_msg, sizeof m->op_msg, "%s", msg);
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

/* 1 if the operation finished before the deadline. */
static int op_wait(sb_mqtt *m, double timeout_s)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    long long ns = dl.tv_nsec + (long long)(timeout_s * 1e9);
    dl.tv_sec += (time_t)(ns / 1000000000);
    dl.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&m->mu);
    int rc = 0;
    while (!m->op_done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&m->cv, &m->mu, &dl);
    int done = m->op_done;
    pthread_mutex_unlock(&m->mu);
    return done;
}

static void on_op_success(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    op_end(ctx, 1, 0, NULL);
}

static void on_op_failure(void *ctx, MQTTAsync_failureData *r)
{
    op_end(ctx, 0, r ? r->code : MQTTASYNC_FAILURE, r ? r->message : NULL);
}

/* ---- Paho callbacks ---------------------------------------------------------------------- */

static int on_arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
    struct link *l = ctx;
    sb_mqtt *m = l->m;
    if (!enter(l)) {
        MQTTAsync_freeMessage(&msg);
        MQTTAsync_free(topic);
        return 1;
    }
    char buf[1024];
    const char *t = topic;
    /* topic_len is 0 when the topic is NUL-terminated; otherwise it may contain a NUL. */
    if (topic_len > 0) {
        size_t n = (size_t)topic_len < sizeof buf - 1 ? (size_t)topic_len : sizeof buf - 1;
        memcpy(buf, topic, n);
        buf[n] = 0;
        t = buf;
    }
    if (m->cb.on_message)
        m->cb.on_message(m->cb.ctx, t, msg->payload, (size_t)msg->payloadlen, msg->dup);
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    leave(m);
    return 1;
}

static double since_s(const struct timespec *t, const struct timespec *now)
{
    return (double)(now->tv_sec - t->tv_sec) + (double)(now->tv_nsec - t->tv_nsec) / 1e9;
}

/* A connection that the broker closes this soon after it was made, SB_MQTT_SHORT_LIVES times
 * in a row, is taken for a poisoned client (see "rebuilding a poisoned client"). A lost
 * connection with no on_connected since the previous loss counts as short too: on a loaded
 * machine our nudge (MQTTAsync_reconnect) can meet Paho's own retry, the two sockets of one
 * client id take the session from each other at the broker, and their losses interleave with
 * no completed connect between them (seen 1 in 9 runs of the poisoned-client test three at a
 * time: 16 to 26 losses in 30 s and no rebuild, before this). */
#define SB_MQTT_SHORT_S 1.0
#define SB_MQTT_SHORT_LIVES 3

static void on_connection_lost(void *ctx, char *cause)
{
    struct link *l = ctx;
    sb_mqtt *m = l->m;
    if (!enter(l))
        return;
    pthread_mutex_lock(&m->mu);
    m->connected = 0;
    clock_gettime(CLOCK_MONOTONIC, &m->down_since);
    int never_up = m->lost; /* this loss follows another with no connect between them */
    m->lost = 1;
    if (never_up || (m->up_since.tv_sec && since_s(&m->up_since, &m->down_since) < SB_MQTT_SHORT_S)) {
        if (++m->short_lives >= SB_MQTT_SHORT_LIVES)
            m->poisoned = 1;
    } else {
        m->short_lives = 0;
    }
    pthread_mutex_unlock(&m->mu);
    if (m->cb.on_lost)
        m->cb.on_lost(m->cb.ctx, cause);
    leave(m);
}

static void on_connected(void *ctx, char *cause)
{
    (void)cause;
    struct link *l = ctx;
    sb_mqtt *m = l->m;
    if (!enter(l))
        return;
    pthread_mutex_lock(&m->mu);
    /* A reconnect is a connect after a lost connection, not any connect after the first: Paho
     * may call this for the first connect after sb_mqtt_connect_end has already marked the
     * client connected, which once counted it as a reconnect in about one run in four (137 of
     * the 474 runs of results/reference/x86_64 report reconnects, device or gateway, with no
     * connection lost). */
    int again = m->lost;
    m->lost = 0;
    m->connected = 1;
    m->down_since.tv_sec = 0;
    clock_gettime(CLOCK_MONOTONIC, &m->up_since);
    pthread_mutex_unlock(&m->mu);
    /* Subscribe again after a reconnect, persistent session or not: a broker that crashed
     * before saving its state comes back without this client's subscriptions, and Paho's
     * automatic reconnect does not tell whether the session survived. Subscribing twice is
     * harmless. Asynchronous: this runs on Paho's thread, which must not wait for itself. */
    /* A new socket after a reconnect (the first connect's is seen to in sb_mqtt_connect_end:
     * Paho may call this before or after the connect's own completion). */
    if (again && !m->nagle)
        atomic_store(&g_nodelay_due, 1);
    if (again && m->n_subs)
        MQTTAsync_subscribeMany(m->h, m->n_subs, m->subs, m->subs_qos, NULL);
    if (again && m->cb.on_reconnected)
        m->cb.on_reconnected(m->cb.ctx);
    leave(m);
}

static void pub_done(struct pub_ctx *p, int ok)
{
    sb_mqtt *m = p->l->m;
    if (!enter(p->l))
        return;
    /* Only the current handle's completions get here (enter), and each was counted. */
    atomic_fetch_sub(&m->pending[p->tag], 1);
    if (m->cb.on_published)
        m->cb.on_published(m->cb.ctx, p->tag, ok);
    leave(m);
}

static void on_pub_ok(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    pub_done(ctx, 1);
}

static void on_pub_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    pub_done(ctx, 0);
}

/* The TLS library's own words, so that a bad certificate reads as one. */
static int on_tls_error(const char *str, size_t len, void *u)
{
    sb_mqtt *m = u;
    pthread_mutex_lock(&m->mu);
    if (!m->tls_err[0]) {
        size_t n = len < sizeof m->tls_err - 1 ? len : sizeof m->tls_err - 1;
        memcpy(m->tls_err, str, n);
        m->tls_err[n] = 0;
        while (n && (m->tls_err[n - 1] == '\n' || m->tls_err[n - 1] == '\r'))
            m->tls_err[--n] = 0;
    }
    pthread_mutex_unlock(&m->mu);
    return 0;
}

/* ---- public ------------------------------------------------------------------------------ */

static sb_err translate(int rc)
{
    switch (rc) {
    case MQTTASYNC_SUCCESS: return SB_OK;
    case MQTTASYNC_NULL_PARAMETER:
    case MQTTASYNC_BAD_STRUCTURE:
    case MQTTASYNC_BAD_QOS:
    case MQTTASYNC_BAD_PROTOCOL:
    case MQTTASYNC_BAD_MQTT_OPTION:
    case MQTTASYNC_WRONG_MQTT_VERSION:
    case MQTTASYNC_SSL_NOT_SUPPORTED:
        return SB_ERR_ARG;
    default:
        return SB_ERR_NET;
    }
}

static const char *paho_reason(int rc)
{
    const char *s = MQTTAsync_strerror(rc);
    return s ? s : "failure";
}

/* After an MQTTAsync_destroy: when it was the process's last client, Paho's threads have
 * stopped and nothing can call back now, so the closed clients and retired links are freed. */
static void client_destroyed(void)
{
    pthread_mutex_lock(&g_live_mu);
    sb_mqtt *dead = NULL;
    struct link *links = NULL;
    if (--g_clients == 0) {
        dead = g_dead;
        g_dead = NULL;
        links = g_dead_links;
        g_dead_links = NULL;
    }
    pthread_mutex_unlock(&g_live_mu);
    while (dead) {
        sb_mqtt *next = dead->next_dead;
        really_free(dead);
        dead = next;
    }
    while (links) {
        struct link *next = links->next_dead;
        free(links);
        links = next;
    }
}

static void free_handle(sb_mqtt *m)
{
    live_remove(m);
    if (!m->h) { /* Paho never had it */
        really_free(m);
        return;
    }
    shut_callbacks(m, &m->closing);
    MQTTAsync_destroy(&m->h);
    pthread_mutex_lock(&g_live_mu);
    m->next_dead = g_dead;
    g_dead = m;
    pthread_mutex_unlock(&g_live_mu);
    client_destroyed();
}

/* A Paho handle for m, from the options m keeps, with a fresh link for its callbacks, and its
 * connect started (onSuccess/onFailure end m's blocking operation). On failure m->h is NULL. */
static int handle_open(sb_mqtt *m)
{
    struct link *l = calloc(1, sizeof *l);
    if (!l)
        return MQTTASYNC_FAILURE;
    l->m = m;
    for (int i = 0; i < 2; i++)
        l->pub[i] = (struct pub_ctx){l, i};
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    /* Paho counts every queued command against maxBufferedMessages (default 100), connected
     * or not; our callers bound what they queue themselves (the device's --inflight). */
    co.maxBufferedMessages = 1 << 24;
    co.deleteOldestMessages = 0;
    /* Publishes made while the broker is away are queued and sent on reconnection. */
    co.sendWhileDisconnected = m->auto_reconnect;
    int rc = MQTTAsync_createWithOptions(&m->h, m->uri, m->client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        m->h = NULL;
        free(l);
        return rc;
    }
    pthread_mutex_lock(&g_live_mu);
    g_clients++;
    pthread_mutex_unlock(&g_live_mu);
    m->link = l;
    MQTTAsync_setCallbacks(m->h, l, on_connection_lost, on_arrived, NULL);
    MQTTAsync_setConnected(m->h, l, on_connected);

    MQTTAsync_connectOptions conn = MQTTAsync_connectOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    conn.keepAliveInterval = m->keepalive_s;
    conn.cleansession = !m->persistent;
    conn.connectTimeout = (int)(m->timeout_s + 0.999);
    conn.automaticReconnect = m->auto_reconnect;
    conn.minRetryInterval = 1;
    conn.maxRetryInterval = 2;
    conn.onSuccess = on_op_success;
    conn.onFailure = on_op_failure;
    conn.context = m;
    if (m->tls) {
        ssl.trustStore = m->cafile;
        ssl.keyStore = m->certfile;
        ssl.privateKey = m->keyfile;
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1; /* the broker's certificate must name the host we asked for */
        ssl.ssl_error_cb = on_tls_error;
        ssl.ssl_error_context = m;
        conn.ssl = &ssl;
    }
    return MQTTAsync_connect(m->h, &conn);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

sb_err sb_mqtt_connect_begin(sb_mqtt **out, const sb_mqtt_opts *opts,
                             const sb_mqtt_callbacks *cb, char *err, size_t err_len)
{
    *out = NULL;
    if (!opts || !opts->uri || !opts->client_id) {
        snprintf(err, err_len, "no broker URI or client id");
        return SB_ERR_ARG;
    }
    int tls = strncmp(opts->uri, "ssl://", 6) == 0 || strncmp(opts->uri, "mqtts://", 8) == 0;
    if (!tls && strncmp(opts->uri, "tcp://", 6) != 0 && strncmp(opts->uri, "mqtt://", 7) != 0) {
        snprintf(err, err_len, "broker URI '%s' must start with tcp:// or ssl://", opts->uri);
        return SB_ERR_ARG;
    }
    if (!tls && (opts->cafile || opts->certfile || opts->keyfile)) {
        snprintf(err, err_len, "--cafile/--cert/--key need an ssl:// broker URI, not '%s'",
                 opts->uri);
        return SB_ERR_ARG;
    }
    if (!!opts->certfile != !!opts->keyfile) {
        snprintf(err, err_len, "mutual TLS needs both --cert and --key");
        return SB_ERR_ARG;
    }

    /* Paho formats a trace line for its in-memory trace buffer at every step unless told
     * that only errors matter; the formatting alone cost the gateway a tenth of its rate. */
    MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
    sb_mqtt *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, err_len, "out of memory");
        return SB_ERR_NOMEM;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    pthread_rwlock_init(&m->hlock, NULL);
    if (cb)
        m->cb = *cb;
    snprintf(m->uri, sizeof m->uri, "%s", opts->uri);
    m->client_id = strdup(opts->client_id);
    m->cafile = dup_or_null(opts->cafile);
    m->certfile = dup_or_null(opts->certfile);
    m->keyfile = dup_or_null(opts->keyfile);
    if (!m->client_id || (opts->cafile && !m->cafile) || (opts->certfile && !m->certfile) ||
        (opts->keyfile && !m->keyfile)) {
        snprintf(err, err_len, "out of memory");
        free_handle(m);
        return SB_ERR_NOMEM;
    }
    m->auto_reconnect = opts->auto_reconnect;
    m->persistent = opts->persistent;
    m->keepalive_s = opts->keepalive_s > 0 ? opts->keepalive_s : 30;
    m->nagle = opts->nagle;
    m->timeout_s = opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 5.0;
    m->tls = tls;
    op_begin(m);
    int rc = handle_open(m);
    if (rc != MQTTASYNC_SUCCESS) {
        if (m->h)
            snprintf(err, err_len, "cannot connect to %s: %s", opts->uri, paho_reason(rc));
        else
            snprintf(err, err_len, "cannot use broker URI '%s': %s", opts->uri,
                     paho_reason(rc));
        free_handle(m);
        return translate(rc);
    }
    wake_paho(m);
    *out = m;
    return SB_OK;
}

/* OpenSSL's error strings end in a source path; keep the reason. */
static void tls_reason(const char *raw, char *out, size_t cap)
{
    const char *p = strstr(raw, "certificate verify failed");
    if (p) {
        snprintf(out, cap, "the broker's certificate did not verify against the CA file "
                           "(certificate verify failed)");
        return;
    }
    snprintf(out, cap, "%s", raw);
    char *src = strstr(out, ":../");
    if (src)
        *src = 0;
}

sb_err sb_mqtt_connect_end(sb_mqtt *m, char *err, size_t err_len)
{
    /* Wake Paho's select() again while the connect is pending: the first wake may come before
     * Paho's send thread has even opened the socket. */
    int done = 0;
    for (double waited = 0; !done && waited < m->timeout_s + 1.0; waited += 0.02)
        if (!(done = op_wait(m, 0.02)))
            wake_paho(m);
    if (!done) {
        snprintf(err, err_len, "cannot connect to %s: no answer within %.0f s", m->uri,
                 m->timeout_s);
        return SB_ERR_TIMEOUT;
    }
    if (!m->op_ok) {
        char why[480];
        if (m->tls_err[0]) {
            char r[240];
            tls_reason(m->tls_err, r, sizeof r);
            snprintf(why, sizeof why, "TLS: %s", r);
        } else if (m->op_code > 0) { /* a CONNACK return code: the broker answered but said no */
            snprintf(why, sizeof why, "the broker refused the connection (CONNACK code %d%s)",
                     m->op_code, m->op_code == 5 ? ": not authorised" : "");
        } else if (m->tls) {
            snprintf(why, sizeof why, "%s; the broker closed the TLS connection (is a client "
                                      "certificate required, or is --cert from another CA?)",
                     m->op_msg[0] ? m->op_msg : paho_reason(m->op_code));
        } else if (m->op_msg[0]) {
            snprintf(why, sizeof why, "%s%s", m->op_msg,
                     strstr(m->op_msg, "connect") ? " (is a broker listening there, and is it "
                                                    "plain TCP rather than TLS?)"
                                                  : "");
        } else {
            snprintf(why, sizeof why, "%s",
                     m->op_code == MQTTASYNC_FAILURE ? "connection refused or broker unreachable"
                                                    : paho_reason(m->op_code));
        }
        snprintf(err, err_len, "cannot connect to %s: %s", m->uri, why);
        return SB_ERR_NET;
    }
    pthread_mutex_lock(&m->mu);
    m->connected = 1;
    pthread_mutex_unlock(&m->mu);
    live_add(m);
    if (!m->nagle)
        atomic_store(&g_nodelay_due, 1);
    return SB_OK;
}

sb_err sb_mqtt_connect(sb_mqtt **out, const sb_mqtt_opts *opts, const sb_mqtt_callbacks *cb,
                       char *err, size_t err_len)
{
    sb_err rc = sb_mqtt_connect_begin(out, opts, cb, err, err_len);
    if (rc != SB_OK)
        return rc;
    if ((rc = sb_mqtt_connect_end(*out, err, err_len)) != SB_OK) {
        sb_mqtt_close(*out, 0);
        *out = NULL;
    }
    return rc;
}

sb_err sb_mqtt_subscribe_begin(sb_mqtt *m, const char *const *filters, int n, int qos,
                               char *err, size_t err_len)
{
    int qoss[8];
    if (n < 1 || n > 8 || qos < 0 || qos > 2) {
        snprintf(err, err_len, "bad subscription request");
        return SB_ERR_ARG;
    }
    for (int i = 0; i < n; i++)
        qoss[i] = qos;
    for (int i = 0; i < n && m->n_subs < 8; i++) {
        char *copy = strdup(filters[i]);
        if (copy) {
            m->subs[m->n_subs] = copy;
            m->subs_qos[m->n_subs++] = qos;
        }
    }
    snprintf(m->op_what, sizeof m->op_what, "%s", filters[0]);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_op_success;
    ro.onFailure = on_op_failure;
    ro.context = m;
    nodelay_if_due(m);
    op_begin(m);
    pthread_rwlock_rdlock(&m->hlock);
    int rc = m->h ? MQTTAsync_subscribeMany(m->h, n, (char *const *)filters, qoss, &ro)
                  : MQTTASYNC_DISCONNECTED;
    pthread_rwlock_unlock(&m->hlock);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, err_len, "cannot subscribe to %s: %s", filters[0], paho_reason(rc));
        return translate(rc);
    }
    return SB_OK;
}

sb_err sb_mqtt_subscribe_end(sb_mqtt *m, char *err, size_t err_len)
{
    if (!op_wait(m, 10.0)) {
        snprintf(err, err_len, "cannot subscribe to %s: no SUBACK within 10 s", m->op_what);
        return SB_ERR_TIMEOUT;
    }
    if (!m->op_ok) {
        snprintf(err, err_len, "the broker refused the subscription to %s", m->op_what);
        return SB_ERR_NET;
    }
    return SB_OK;
}

sb_err sb_mqtt_subscribe(sb_mqtt *m, const char *const *filters, int n, int qos, char *err,
                         size_t err_len)
{
    sb_err rc = sb_mqtt_subscribe_begin(m, filters, n, qos, err, err_len);
    return rc != SB_OK ? rc : sb_mqtt_subscribe_end(m, err, err_len);
}

sb_err sb_mqtt_publish(sb_mqtt *m, const char *topic, const void *payload, size_t len, int qos,
                       int tag)
{
    if (len > 268435455u || qos < 0 || qos > 2 || tag < SB_MQTT_SILENT || tag > 1)
        return SB_ERR_ARG;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    pthread_rwlock_rdlock(&m->hlock);
    if (!m->h) { /* a rebuild could not make a new handle */
        pthread_rwlock_unlock(&m->hlock);
        return SB_ERR_NET;
    }
    if (tag != SB_MQTT_SILENT) {
        ro.onSuccess = on_pub_ok;
        ro.onFailure = on_pub_fail;
        ro.context = &m->link->pub[tag];
        atomic_fetch_add(&m->pending[tag], 1);
    }
    nodelay_if_due(m);
    int rc = MQTTAsync_send(m->h, topic, (int)len, payload, qos, 0, &ro);
    if (rc != MQTTASYNC_SUCCESS && tag != SB_MQTT_SILENT)
        atomic_fetch_sub(&m->pending[tag], 1); /* refused at once: no completion will come */
    pthread_rwlock_unlock(&m->hlock);
    return translate(rc);
}

int sb_mqtt_is_connected(sb_mqtt *m)
{
    pthread_mutex_lock(&m->mu);
    int c = m->connected;
    pthread_mutex_unlock(&m->mu);
    return c;
}

/* Paho retries a lost connection every 1-2 s by itself (minRetryInterval/maxRetryInterval
 * above). Once, on a loaded CI machine, a device whose broker was killed mid-run never came
 * back within 30 s while its gateway did; we could not reproduce it. So past SB_MQTT_NUDGE_S
 * of silence the watchdog asks Paho to retry now (MQTTAsync_reconnect) and takes Paho's own
 * view of the connection, in case a callback was lost; both are counted in the report. */
#define SB_MQTT_NUDGE_S 5.0

/* ---- rebuilding a poisoned client ------------------------------------------------------ *
 *
 * Paho 1.3.11 (and Debian's 1.3.12) can free a queued publish on its receive thread, while
 * cleaning up after a lost connection, that its send thread still holds (tests/asan.supp; its
 * trace then says "Failed to remove heap item"). On the next connect it sends that publish
 * again from freed memory: Mosquitto logs "disconnected due to malformed packet" and closes
 * the connection, Paho reconnects and sends it again, for ever. Seen 2 times in 50 runs of
 * `pair --qos 1 --persistent --restart-mode kill`, three at a time: the device's window of
 * unacknowledged publishes never emptied and it sent nothing more. Such a client cannot be
 * mended, only replaced: after SB_MQTT_SHORT_LIVES connections in a row that the broker
 * closed within SB_MQTT_SHORT_S, the watchdog destroys the Paho handle and makes a new one
 * with the same options and client id. The publishes the old handle still owed a completion
 * are reported failed (the caller counts them; a receiver counts what never came as missing),
 * and rebuilds are counted in the report. */
static void rebuild(sb_mqtt *m)
{
    struct link *old = m->link;
    shut_callbacks(m, &old->retired);

    pthread_rwlock_wrlock(&m->hlock);
    MQTTAsync_destroy(&m->h);
    pthread_mutex_lock(&g_live_mu);
    old->next_dead = g_dead_links;
    g_dead_links = old;
    pthread_mutex_unlock(&g_live_mu);
    m->link = NULL;
    client_destroyed();
    pthread_mutex_lock(&m->mu);
    /* No publisher (hlock) and no callback of the old handle (retired) can touch these now. */
    unsigned owed[2] = {atomic_exchange(&m->pending[0], 0), atomic_exchange(&m->pending[1], 0)};
    m->connected = 0;
    m->poisoned = 0;
    m->short_lives = 0;
    m->up_since.tv_sec = 0;
    m->rebuilds++;
    pthread_mutex_unlock(&m->mu);
    /* The connect completes asynchronously: on_connected marks the client up and subscribes
     * again. If it fails, the watchdog's nudges retry it (MQTTAsync_reconnect). */
    int rc = handle_open(m);
    pthread_rwlock_unlock(&m->hlock);
    if (rc == MQTTASYNC_SUCCESS)
        wake_paho(m);
    for (int tag = 0; tag < 2; tag++)
        for (unsigned i = 0; i < owed[tag]; i++)
            if (m->cb.on_published)
                m->cb.on_published(m->cb.ctx, tag, 0);
}

int sb_mqtt_watch(sb_mqtt *m)
{
    struct timespec now;
    pthread_mutex_lock(&m->mu);
    int poisoned = m->poisoned && m->auto_reconnect && !m->closing;
    pthread_mutex_unlock(&m->mu);
    if (poisoned)
        rebuild(m);
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&m->mu);
    int up = m->connected;
    int due = !up && m->auto_reconnect && m->down_since.tv_sec &&
              since_s(&m->down_since, &now) > SB_MQTT_NUDGE_S &&
              since_s(&m->last_nudge, &now) > SB_MQTT_NUDGE_S;
    if (due) {
        m->last_nudge = now;
        m->nudges++;
    }
    pthread_mutex_unlock(&m->mu);
    if (!due)
        return up;
    /* Paho's calls take its global mutex, under which it runs our callbacks, which take m->mu:
     * so m->mu is not held here. */
    pthread_rwlock_rdlock(&m->hlock);
    /* A rebuilt handle whose first connect failed retries too: Paho's automatic reconnect
     * covers any handle that was asked to connect (shouldBeConnected). */
    int paho_up = m->h && MQTTAsync_isConnected(m->h);
    if (!paho_up && m->h)
        MQTTAsync_reconnect(m->h);
    pthread_rwlock_unlock(&m->hlock);
    if (paho_up) {
        pthread_mutex_lock(&m->mu);
        m->connected = 1;
        m->down_since.tv_sec = 0;
        pthread_mutex_unlock(&m->mu);
        return 1;
    }
    return 0;
}

unsigned sb_mqtt_rebuilds(sb_mqtt *m)
{
    pthread_mutex_lock(&m->mu);
    unsigned n = m->rebuilds;
    pthread_mutex_unlock(&m->mu);
    return n;
}

unsigned sb_mqtt_nudges(sb_mqtt *m)
{
    pthread_mutex_lock(&m->mu);
    unsigned n = m->nudges;
    pthread_mutex_unlock(&m->mu);
    return n;
}

static int disconnect_begin(sb_mqtt *m, double timeout_s)
{
    if (!m->h || !MQTTAsync_isConnected(m->h))
        return 0;
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = (int)(timeout_s * 1000);
    d.onSuccess = on_op_success;
    d.onFailure = on_op_failure;
    d.context = m;
    op_begin(m);
    return MQTTAsync_disconnect(m->h, &d) == MQTTASYNC_SUCCESS;
}

void sb_mqtt_close(sb_mqtt *m, double timeout_s)
{
    sb_mqtt_close_many(&m, 1, timeout_s);
}

void sb_mqtt_close_many(sb_mqtt **ms, size_t n, double timeout_s)
{
    uint8_t *waiting = calloc(n ? n : 1, 1);
    for (size_t i = 0; i < n; i++)
        if (ms[i] && disconnect_begin(ms[i], timeout_s) && waiting)
            waiting[i] = 1;
    for (size_t i = 0; i < n; i++) {
        if (!ms[i])
            continue;
        if (!waiting || waiting[i])
            op_wait(ms[i], timeout_s + 1.0);
        free_handle(ms[i]);
        ms[i] = NULL;
    }
    free(waiting);
}

const char *sb_mqtt_version(void)
{
    static char version[32];
    if (!version[0]) {
        MQTTAsync_nameValue *info = MQTTAsync_getVersionInfo();
        for (; info && info->name; info++)
            if (strcmp(info->name, "Version") == 0)
                snprintf(version, sizeof version, "%s", info->value);
        if (!version[0])
            snprintf(version, sizeof version, "unknown");
    }
    return version;
}
