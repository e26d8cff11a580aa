/* The gateway role (transport/gateway.h).
 *
 * Device table: open addressing on the device id. With a keys file every known device is in
 * the table from the start (its handshake key derived once); in no-auth mode a HELLO creates
 * the entry, up to max_devices, so that a flood of invented ids cannot exhaust memory.
 *
 * Loss accounting: for the current and the previous epoch of each device the gateway keeps the
 * number of messages accepted and the highest seq + 1. Their difference is the number of
 * sequence numbers never opened, which is how a crashed broker's loss shows up (the device
 * publishes seqs 0, 1, 2, ... without gaps in each epoch). */
#include "transport/gateway.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "protocol/session.h"
#include "transport/payload.h"
#include "transport/topics.h"
#include "transport/trace.h"

typedef struct epoch_count {
    uint32_t epoch;
    int used;
    uint64_t accepted;
    uint64_t top; /* highest accepted seq + 1 */
} epoch_count;

typedef struct gw_dev {
    char id[SB_DEVICE_ID_MAX + 1];
    uint8_t hs_key[SB_HASH_BYTES];
    uint32_t last_epoch;
    int has_session;
    const sb_suite *suite;
    sb_session sess;
    uint64_t accepted, handshakes, rekeys, echoed, duplicates, mismatched, unverified;
    uint64_t rejected[SB_REASONS];
    uint64_t hs_reject_auth; /* handshake rejects whose MAC failed: wrong PSK or tampering */
    epoch_count ep[2];
    uint64_t missing_closed; /* from epochs older than ep[] */
    uint8_t *seen;           /* bitmap of synthetic message numbers, for duplicates */
    uint64_t seen_bits;
} gw_dev;

struct sb_gateway {
    sb_gateway_config cfg;
    char prefix[SB_PREFIX_MAX + 1];
    char client_id[64];
    sb_mqtt *m;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_dev **slots;
    size_t cap, ndev;
    uint64_t accepted, handshakes, rekeys, echoed, duplicates, mismatched, unverified;
    uint64_t rejected[SB_REASONS];
    uint64_t unknown_device, ignored_topics, device_cap_hits, echo_failures;
    uint64_t reconnects, connection_losses;
    uint64_t bytes_in;
    uint64_t t_first_ns, t_last_ns;
    uint64_t expect; /* the waiter wants a wake-up at this many accepted messages */
    uint8_t *buf;
    size_t buf_cap;
};

/* ---- device table ------------------------------------------------------------------------ */

static uint64_t hash_id(const char *id)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return h;
}

static gw_dev *dev_find(sb_gateway *g, const char *id)
{
    if (!g->cap)
        return NULL;
    for (size_t i = hash_id(id) & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
        if (!g->slots[i])
            return NULL;
        if (strcmp(g->slots[i]->id, id) == 0)
            return g->slots[i];
    }
}

static sb_err dev_insert(sb_gateway *g, gw_dev *d)
{
    if (2 * (g->ndev + 1) > g->cap) {
        size_t ncap = g->cap ? 2 * g->cap : 64;
        gw_dev **ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return SB_ERR_NOMEM;
        for (size_t i = 0; i < g->cap; i++) {
            gw_dev *e = g->slots[i];
            if (!e)
                continue;
            size_t j = hash_id(e->id) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = e;
        }
        free(g->slots);
        g->slots = ns;
        g->cap = ncap;
    }
    size_t j = hash_id(d->id) & (g->cap - 1);
    while (g->slots[j])
        j = (j + 1) & (g->cap - 1);
    g->slots[j] = d;
    g->ndev++;
    return SB_OK;
}

static gw_dev *dev_new(sb_gateway *g, const char *id, const uint8_t *psk)
{
    gw_dev *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    snprintf(d->id, sizeof d->id, "%s", id);
    if (sb_hs_key(g->cfg.be, psk, id, d->hs_key) != SB_OK || dev_insert(g, d) != SB_OK) {
        sb_wipe(d, sizeof *d);
        free(d);
        return NULL;
    }
    return d;
}

static void dev_free(gw_dev *d)
{
    if (d->has_session)
        sb_session_free(&d->sess);
    free(d->seen);
    sb_wipe(d, sizeof *d);
    free(d);
}

static uint64_t dev_missing(const gw_dev *d)
{
    uint64_t m = d->missing_closed;
    for (int i = 0; i < 2; i++)
        if (d->ep[i].used)
            m += d->ep[i].top - d->ep[i].accepted;
    return m;
}

static void count_seq(gw_dev *d, uint32_t epoch, uint64_t seq)
{
    epoch_count *e = NULL;
    for (int i = 0; i < 2; i++)
        if (d->ep[i].used && d->ep[i].epoch == epoch)
            e = &d->ep[i];
    if (!e) {
        /* A new epoch: retire the oldest slot; its gaps can no longer be filled. */
        int old = !d->ep[0].used ? 0 : !d->ep[1].used ? 1 : d->ep[0].epoch < d->ep[1].epoch ? 0 : 1;
        if (d->ep[old].used)
            d->missing_closed += d->ep[old].top - d->ep[old].accepted;
        e = &d->ep[old];
        *e = (epoch_count){.epoch = epoch, .used = 1};
    }
    e->accepted++;
    if (seq + 1 > e->top)
        e->top = seq + 1;
}

/* 1 if synthetic message n was already opened (a duplicate the replay window let through,
 * which would be a bug, or a re-sent message under a new seq). */
static int seen_before(gw_dev *d, uint64_t n)
{
    if (n >= (UINT64_C(1) << 30))
        return 0; /* beyond what we track */
    if (n >= d->seen_bits) {
        uint64_t bits = d->seen_bits ? d->seen_bits : 1024;
        while (bits <= n)
            bits *= 2;
        uint8_t *ns = realloc(d->seen, bits / 8);
        if (!ns)
            return 0;
        memset(ns + d->seen_bits / 8, 0, (bits - d->seen_bits) / 8);
        d->seen = ns;
        d->seen_bits = bits;
    }
    int was = (d->seen[n / 8] >> (n % 8)) & 1;
    d->seen[n / 8] |= (uint8_t)(1u << (n % 8));
    return was;
}

/* ---- message handling (Paho's thread, under g->mu) ----------------------------------------- */

static void reject(sb_gateway *g, gw_dev *d, sb_err why)
{
    int r = sb_reason_index(why);
    if (r < 0)
        r = 9;
    g->rejected[r]++;
    if (d) {
        d->rejected[r]++;
        if (why == SB_ERR_HS_AUTH)
            d->hs_reject_auth++;
    }
}

static int hs_qos(const sb_gateway *g)
{
    return g->cfg.qos > 0 ? g->cfg.qos : 1;
}

static void on_hello(sb_gateway *g, const char *id, const uint8_t *p, size_t len)
{
    gw_dev *d = dev_find(g, id);
    if (!d) {
        if (g->cfg.keys) {
            g->unknown_device++;
            reject(g, NULL, SB_ERR_HANDSHAKE);
            return;
        }
        size_t cap = g->cfg.max_devices ? g->cfg.max_devices : 100000;
        if (g->ndev >= cap || !(d = dev_new(g, id, NULL))) {
            g->device_cap_hits++;
            reject(g, NULL, SB_ERR_HANDSHAKE);
            return;
        }
    }
    uint8_t accept[SB_HS_MAX_BYTES];
    size_t accept_len = 0;
    sb_hs_msg msg;
    sb_keys keys;
    sb_err rc = sb_hs_gateway_answer(g->cfg.be, &g->cfg.policy, d->hs_key, d->last_epoch, p, len,
                                     NULL, accept, &accept_len, &msg, &keys);
    if (rc != SB_OK) {
        reject(g, d, rc);
        return;
    }
    uint64_t now = sb_now_ns();
    if (d->has_session && d->suite != msg.suite) {
        /* A device may change suite at a rekey; the old epoch's keys cannot serve the new
         * suite's session, so the grace period does not carry over. */
        sb_session_free(&d->sess);
        d->has_session = 0;
    }
    if (!d->has_session) {
        sb_session_config sc = {.role = SB_ROLE_GATEWAY,
                                .pad_to = g->cfg.pad_to,
                                .replay_window = g->cfg.replay_window,
                                .grace_ns = g->cfg.grace_ns};
        if (sb_cipher_get(g->cfg.be, msg.suite, &sc.cipher, NULL) != SB_OK ||
            sb_session_init(&d->sess, &sc) != SB_OK) {
            sb_wipe(&keys, sizeof keys);
            reject(g, d, SB_ERR_UNAVAILABLE);
            return;
        }
        d->has_session = 1;
        d->suite = msg.suite;
    }
    rc = sb_session_install(&d->sess, msg.epoch, &keys, now);
    sb_wipe(&keys, sizeof keys);
    if (rc != SB_OK) {
        reject(g, d, SB_ERR_HANDSHAKE);
        return;
    }
    if (d->last_epoch)
        d->rekeys++, g->rekeys++;
    else
        d->handshakes++, g->handshakes++;
    d->last_epoch = msg.epoch;
    char topic[SB_TOPIC_MAX];
    sb_topic_make(topic, sizeof topic, g->prefix, id, SB_TOPIC_HS_ACK);
    sb_mqtt_publish(g->m, topic, accept, accept_len, hs_qos(g), 1);
}

static sb_err grow_buf(sb_gateway *g, size_t need)
{
    if (need <= g->buf_cap)
        return SB_OK;
    uint8_t *nb = realloc(g->buf, need);
    if (!nb)
        return SB_ERR_NOMEM;
    g->buf = nb;
    g->buf_cap = need;
    return SB_OK;
}

static void on_up(sb_gateway *g, const char *id, const char *topic, const uint8_t *p,
                  size_t len)
{
    gw_dev *d = dev_find(g, id);
    if (!d || !d->has_session) {
        if (!d)
            g->unknown_device++;
        reject(g, d, len < SB_HEADER_BYTES ? SB_ERR_SHORT : SB_ERR_EPOCH);
        return;
    }
    if (grow_buf(g, len + 64) != SB_OK)
        return;
    uint64_t now = sb_now_ns();
    size_t pt_len;
    uint32_t epoch;
    uint64_t seq;
    sb_err rc = sb_session_open(&d->sess, topic, p, len, now, g->buf, g->buf_cap, &pt_len, &epoch,
                                &seq);
    if (rc != SB_OK) {
        reject(g, d, rc);
        return;
    }
    if (g->cfg.trace) {
        uint64_t end = sb_now_ns();
        sb_trace_opened(g->cfg.trace, id, epoch, seq, end - now, end);
    }
    g->accepted++;
    d->accepted++;
    g->bytes_in += len;
    if (!g->t_first_ns)
        g->t_first_ns = now;
    g->t_last_ns = now;
    count_seq(d, epoch, seq);
    if (g->cfg.verify && g->cfg.check) {
        if (!g->cfg.check(g->cfg.check_ctx, id, g->buf, pt_len))
            g->mismatched++, d->mismatched++;
    } else if (g->cfg.verify) {
        uint64_t n;
        int ok = sb_payload_check(id, g->buf, pt_len, &n);
        if (ok == 0)
            g->mismatched++, d->mismatched++;
        else if (ok < 0)
            g->unverified++, d->unverified++;
        else if (seen_before(d, n))
            g->duplicates++, d->duplicates++;
    }
    if (g->cfg.echo) {
        uint8_t echo_pt[12];
        sb_put_u32be(echo_pt, epoch);
        sb_put_u64be(echo_pt + 4, seq);
        size_t wl = sb_session_wire_len(&d->sess, sizeof echo_pt);
        uint8_t wire[512];
        size_t out_len;
        char down[SB_TOPIC_MAX];
        sb_topic_make(down, sizeof down, g->prefix, id, SB_TOPIC_DOWN);
        if (wl <= sizeof wire &&
            sb_session_seal(&d->sess, down, echo_pt, sizeof echo_pt, wire, sizeof wire,
                            &out_len) == SB_OK &&
            sb_mqtt_publish(g->m, down, wire, out_len, g->cfg.qos, 0) == SB_OK)
            g->echoed++, d->echoed++;
        else
            g->echo_failures++;
    }
    /* Wake the waiting thread only when it has something to see: a wake-up per message
     * would cost a context switch each and halve the rate the gateway can take. */
    if (g->expect && g->accepted == g->expect)
        pthread_cond_broadcast(&g->cv);
}

static void on_message(void *ctx, const char *topic, const uint8_t *p, size_t len, int dup)
{
    (void)dup;
    sb_gateway *g = ctx;
    char id[SB_DEVICE_ID_MAX + 1];
    pthread_mutex_lock(&g->mu);
    switch (sb_topic_parse(g->prefix, topic, id)) {
    case SB_TOPIC_HS: on_hello(g, id, p, len); break;
    case SB_TOPIC_UP: on_up(g, id, topic, p, len); break;
    default: g->ignored_topics++; break;
    }
    pthread_mutex_unlock(&g->mu);
}

static void on_lost(void *ctx, const char *cause)
{
    (void)cause;
    sb_gateway *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->connection_losses++;
    pthread_mutex_unlock(&g->mu);
}

static void on_reconnected(void *ctx)
{
    sb_gateway *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->reconnects++;
    pthread_mutex_unlock(&g->mu);
}

/* ---- public ------------------------------------------------------------------------------ */

sb_err sb_gateway_start(sb_gateway **out, const sb_gateway_config *cfg, char *err,
                        size_t err_len)
{
    *out = NULL;
    const char *why = sb_prefix_problem(cfg->prefix);
    if (why) {
        snprintf(err, err_len, "%s", why);
        return SB_ERR_ARG;
    }
    sb_gateway *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, err_len, "out of memory");
        return SB_ERR_NOMEM;
    }
    g->cfg = *cfg;
    snprintf(g->prefix, sizeof g->prefix, "%s", cfg->prefix);
    g->cfg.prefix = g->prefix;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    sb_err rc = SB_ERR_NOMEM;
    if (cfg->keys)
        for (size_t i = 0; i < cfg->keys->n; i++)
            if (!dev_new(g, cfg->keys->v[i].id, cfg->keys->v[i].psk)) {
                snprintf(err, err_len, "cannot set up device '%s'", cfg->keys->v[i].id);
                goto fail;
            }
    if (!g->cfg.mqtt.client_id) {
        snprintf(g->client_id, sizeof g->client_id, "sealbench-gw-%ld", (long)getpid());
        g->cfg.mqtt.client_id = g->client_id;
    }
    sb_mqtt_callbacks cb = {.ctx = g, .on_message = on_message, .on_lost = on_lost,
                            .on_reconnected = on_reconnected};
    if ((rc = sb_mqtt_connect(&g->m, &g->cfg.mqtt, &cb, err, err_len)) != SB_OK)
        goto fail;
    char hs[SB_TOPIC_MAX], up[SB_TOPIC_MAX];
    snprintf(hs, sizeof hs, "%s/+/hs", g->prefix);
    snprintf(up, sizeof up, "%s/+/up", g->prefix);
    const char *filters[2] = {hs, up};
    if ((rc = sb_mqtt_subscribe(g->m, filters, 2, hs_qos(g), err, err_len)) != SB_OK)
        goto fail;
    *out = g;
    return SB_OK;
fail:
    sb_gateway_free(g);
    return rc;
}

uint64_t sb_gateway_accepted(sb_gateway *g)
{
    pthread_mutex_lock(&g->mu);
    uint64_t a = g->accepted;
    pthread_mutex_unlock(&g->mu);
    return a;
}

sb_gateway_stop sb_gateway_wait(sb_gateway *g, uint64_t expect, double duration_s,
                                volatile sig_atomic_t *stop)
{
    uint64_t end = duration_s > 0 ? sb_now_ns() + (uint64_t)(duration_s * 1e9) : 0;
    sb_gateway_stop why = SB_GW_STOP_SIGNAL;
    pthread_mutex_lock(&g->mu);
    g->expect = expect;
    for (;;) {
        if (expect && g->accepted >= expect) {
            why = SB_GW_STOP_EXPECT;
            break;
        }
        if (end && sb_now_ns() >= end) {
            why = SB_GW_STOP_DURATION;
            break;
        }
        if (stop && *stop)
            break;
        /* Short waits: signals and the deadline are polled, messages wake us at once. */
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 50 * 1000000;
        if (dl.tv_nsec >= 1000000000)
            dl.tv_sec++, dl.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&g->cv, &g->mu, &dl);
        /* The watchdog may call into Paho, whose callbacks take g->mu. */
        pthread_mutex_unlock(&g->mu);
        sb_mqtt_watch(g->m);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return why;
}

static int by_dev_id(const void *a, const void *b)
{
    return strcmp((*(gw_dev *const *)a)->id, (*(gw_dev *const *)b)->id);
}

void sb_gateway_report_get(sb_gateway *g, sb_gateway_stop why, sb_gateway_report *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&g->mu);
    r->backend = g->cfg.be->name;
    snprintf(r->prefix, sizeof r->prefix, "%s", g->prefix);
    r->psk = g->cfg.keys != NULL;
    r->qos = g->cfg.qos;
    r->tcp_nodelay = !g->cfg.mqtt.nagle;
    r->echo = g->cfg.echo;
    r->verify = g->cfg.verify;
    r->stop = why;
    r->accepted = g->accepted;
    memcpy(r->rejected, g->rejected, sizeof r->rejected);
    r->handshakes = g->handshakes;
    r->rekeys = g->rekeys;
    r->echoed = g->echoed;
    r->echo_failures = g->echo_failures;
    r->duplicates = g->duplicates;
    r->mismatched = g->mismatched;
    r->unverified = g->unverified;
    r->unknown_device = g->unknown_device;
    r->device_cap_hits = g->device_cap_hits;
    r->ignored_topics = g->ignored_topics;
    r->connection_losses = g->connection_losses;
    r->reconnects = g->reconnects;
    r->reconnect_nudges = g->m ? sb_mqtt_nudges(g->m) : 0;
    r->client_rebuilds = g->m ? sb_mqtt_rebuilds(g->m) : 0;
    r->bytes_in = g->bytes_in;
    r->t_first_ns = g->t_first_ns;
    r->t_last_ns = g->t_last_ns;
    gw_dev **list = calloc(g->ndev ? g->ndev : 1, sizeof *list);
    size_t k = 0;
    for (size_t i = 0; i < g->cap; i++)
        if (g->slots[i]) {
            r->missing += dev_missing(g->slots[i]);
            r->device_count += g->slots[i]->last_epoch != 0;
            if (list)
                list[k++] = g->slots[i];
        }
    r->devices = list ? calloc(k ? k : 1, sizeof *r->devices) : NULL;
    r->devices_incomplete = !r->devices;
    if (r->devices) {
        qsort(list, k, sizeof *list, by_dev_id);
        for (size_t i = 0; i < k; i++) {
            const gw_dev *d = list[i];
            int any = d->last_epoch || d->accepted || d->handshakes;
            for (int j = 0; j < SB_REASONS; j++)
                any |= d->rejected[j] != 0;
            if (!any)
                continue; /* a key-file entry that never showed up */
            sb_gateway_device_report *o = &r->devices[r->n_devices++];
            snprintf(o->id, sizeof o->id, "%s", d->id);
            o->accepted = d->accepted;
            memcpy(o->rejected, d->rejected, sizeof o->rejected);
            o->handshakes = d->handshakes;
            o->rekeys = d->rekeys;
            o->handshake_auth_failures = d->hs_reject_auth;
            o->missing = dev_missing(d);
            o->epoch = d->last_epoch;
            o->suite = d->suite ? d->suite->name : "";
            o->duplicates = d->duplicates;
            o->mismatched = d->mismatched;
        }
    }
    free(list);
    pthread_mutex_unlock(&g->mu);
}

void sb_gateway_report_free(sb_gateway_report *r)
{
    free(r->devices);
    r->devices = NULL;
    r->n_devices = 0;
}

void sb_gateway_free(sb_gateway *g)
{
    if (!g)
        return;
    sb_mqtt_close(g->m, 2.0); /* after this no callback can run */
    for (size_t i = 0; i < g->cap; i++)
        if (g->slots[i])
            dev_free(g->slots[i]);
    free(g->slots);
    if (g->buf) {
        sb_wipe(g->buf, g->buf_cap);
        free(g->buf);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}
