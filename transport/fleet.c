/* The device role (transport/fleet.h).
 *
 * Threads: the caller's thread seals and publishes; Paho's callback thread takes ACCEPTs,
 * echoes and publish completions. Each device has a mutex of its own for its session and
 * counters, so that one device's callback never waits for another's sealing; the fleet's
 * mutex only carries wake-ups for the caller's thread.
 *
 * Round trips: the send time of each message is kept in a ring indexed by seq; an echo names
 * the (epoch, seq) it answers, and a slot that no longer holds that pair (overwritten after
 * ring-size newer messages) counts as unmatched rather than giving a wrong time. */
#include "transport/fleet.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/stats.h"
#include "common/util.h"
#include "protocol/handshake.h"
#include "protocol/session.h"
#include "transport/payload.h"
#include "transport/topics.h"
#include "transport/trace.h"

#define HS_MAX_TRIES 3
#define TAG_UP 0 /* publish tags: telemetry counts against --inflight, HELLOs do not */
#define TAG_HS 1
/* At QoS 0 only every MARK_EVERY-th publish asks for its completion (see transport/mqtt.h);
 * the ring remembers how many had been published at each marked one. */
#define MARK_EVERY 32

typedef struct rtt_slot {
    uint32_t epoch;
    uint64_t seq;
    uint64_t t_ns; /* 0: empty */
} rtt_slot;

typedef struct dv {
    struct sb_fleet *f;
    unsigned idx;
    char id[SB_DEVICE_ID_MAX + 1];
    char client_id[96];
    char *t_hs, *t_up, *t_ack, *t_down;
    sb_mqtt *m;
    pthread_mutex_t mu;
    uint8_t hs_key[SB_HASH_BYTES];
    /* handshake */
    sb_hs_device hs;
    int hs_pending, hs_tries, hello_due;
    uint32_t hs_epoch, next_epoch;
    uint64_t hs_sent_ns;
    /* session */
    sb_session sess;
    int has_session, ready;
    uint64_t epoch_start_ns, sent_in_epoch;
    /* publishing */
    uint64_t n, outstanding, done_ok, done_fail, next_due_ns, down_since_ns;
    uint64_t limit;              /* messages this device sends */
    uint64_t pt_bytes, wire_bytes; /* sums over what it published */
    uint64_t *marks; /* QoS 0: d->n just after each marked publish; a ring of mark_cap */
    unsigned mark_head, mark_tail, mark_cap;
    /* counters */
    uint64_t handshakes, rekeys, hs_rejects, stray_accepts, echoes, rtt_unmatched;
    uint64_t echo_rejected[SB_REASONS];
    rtt_slot *ring;
    uint64_t ring_mask;
    sb_samples rtt, hs_lat, rk_lat; /* ns; first handshakes and rekeys apart: they cost differently */
    char fatal[400];
} dv;

struct sb_fleet {
    sb_fleet_config cfg;
    char prefix[SB_PREFIX_MAX + 1];
    dv *d;
    unsigned n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t gen;
    int waiting;
    uint8_t *pt, *wire;
    size_t wire_cap, pt_cap;
    uint64_t t_pub_start;     /* when publishing began (timeline pacing) */
    uint64_t t_connect0, t_connect1, t_hs0, t_hs1, t_first_pub, t_last_pub, t_drained;
    long rss_start, rss_connected, rss_handshaken;
    uint64_t losses, reconnects;
    int stopped;
};

/* ---- small helpers ----------------------------------------------------------------------- */

void sb_device_id(unsigned n, char *out, size_t cap)
{
    snprintf(out, cap, "dev-%04u", n);
}

static long status_kb(const char *field)
{
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp)
        return -1;
    char line[256];
    long kb = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, fp))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            kb = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(fp);
    return kb;
}

/* A latency of d, in ns. One that cannot be stored fails the device (a statistic over what
 * happened to fit in memory would not be the one its label names). */
static void push(dv *d, sb_samples *s, uint64_t ns)
{
    if (sb_samples_add(s, (double)ns) != SB_OK && !d->fatal[0])
        snprintf(d->fatal, sizeof d->fatal, "%s: out of memory for a latency sample", d->id);
}

static void wake(sb_fleet *f)
{
    pthread_mutex_lock(&f->mu);
    f->gen++;
    if (f->waiting)
        pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Wait until a callback reports progress after gen, or until deadline_ns. */
static void wait_progress(sb_fleet *f, uint64_t gen, uint64_t deadline_ns)
{
    pthread_mutex_lock(&f->mu);
    f->waiting++;
    while (f->gen == gen) {
        uint64_t now = sb_now_ns();
        if (now >= deadline_ns)
            break;
        uint64_t wait_ns = deadline_ns - now;
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        uint64_t ns = (uint64_t)dl.tv_nsec + wait_ns;
        dl.tv_sec += (time_t)(ns / 1000000000);
        dl.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&f->cv, &f->mu, &dl);
    }
    f->waiting--;
    pthread_mutex_unlock(&f->mu);
}

static uint64_t current_gen(sb_fleet *f)
{
    pthread_mutex_lock(&f->mu);
    uint64_t g = f->gen;
    pthread_mutex_unlock(&f->mu);
    return g;
}

static int hs_qos(const sb_fleet *f)
{
    return f->cfg.qos > 0 ? f->cfg.qos : 1;
}

/* ---- handshakes (under d->mu; HELLOs go out in dev_unlock) ------------------------------------------------------------ */

static void hs_send(dv *d, uint64_t now)
{
    sb_fleet *f = d->f;
    d->hs_epoch = d->next_epoch++;
    sb_err rc = sb_hs_device_start(&d->hs, f->cfg.be, f->cfg.group, f->cfg.suite, d->hs_epoch,
                                   d->hs_key, NULL);
    if (rc != SB_OK) {
        snprintf(d->fatal, sizeof d->fatal, "%s: cannot start a handshake: %s", d->id,
                 sb_err_str(rc));
        return;
    }
    d->hs_pending = 1;
    d->hs_tries++;
    d->hs_sent_ns = now;
    d->hello_due = 1; /* published by dev_unlock, outside the lock */
}

/* Release d->mu, then publish a HELLO that hs_send prepared. Paho runs completion callbacks
 * with its own mutex held, and those take d->mu: calling into Paho while holding d->mu would
 * deadlock, so the caller's thread never does. */
static void dev_unlock(dv *d)
{
    uint8_t hello[SB_HS_MAX_BYTES];
    size_t len = 0;
    if (d->hello_due) {
        len = d->hs.hello_len;
        memcpy(hello, d->hs.hello, len);
        d->hello_due = 0;
    }
    pthread_mutex_unlock(&d->mu);
    if (len && sb_mqtt_publish(d->m, d->t_hs, hello, len, hs_qos(d->f), TAG_HS) != SB_OK) {
        pthread_mutex_lock(&d->mu);
        snprintf(d->fatal, sizeof d->fatal, "%s: cannot publish a HELLO", d->id);
        pthread_mutex_unlock(&d->mu);
    }
}

/* Retry a handshake whose ACCEPT is overdue, with a new epoch and fresh keys. */
static void hs_check_timeout(dv *d, uint64_t now)
{
    sb_fleet *f = d->f;
    double to = f->cfg.hs_timeout_s > 0 ? f->cfg.hs_timeout_s : 5.0;
    if (!d->hs_pending || d->fatal[0] || now - d->hs_sent_ns < (uint64_t)(to * 1e9))
        return;
    sb_hs_device_clear(&d->hs);
    d->hs_pending = 0;
    if (d->hs_tries >= HS_MAX_TRIES) {
        snprintf(d->fatal, sizeof d->fatal,
                 "%s: no valid ACCEPT after %d HELLOs %.0f s apart: is a gateway running on "
                 "this broker with prefix '%s' and this device's key?",
                 d->id, HS_MAX_TRIES, to, f->prefix);
        return;
    }
    hs_send(d, now);
}

static void on_accept(dv *d, const uint8_t *p, size_t len)
{
    sb_fleet *f = d->f;
    if (!d->hs_pending) {
        d->stray_accepts++;
        return;
    }
    sb_keys keys;
    uint32_t epoch = d->hs_epoch;
    sb_err rc = sb_hs_device_finish(&d->hs, p, len, &keys);
    if (rc != SB_OK) {
        d->hs_rejects++; /* a forged or stale ACCEPT; the genuine one may still come */
        return;
    }
    uint64_t now = sb_now_ns();
    if (!d->has_session) {
        sb_session_config sc = {.role = SB_ROLE_DEVICE,
                                .pad_to = f->cfg.pad_to,
                                .replay_window = f->cfg.replay_window,
                                .grace_ns = f->cfg.grace_ns};
        if (sb_cipher_get(f->cfg.be, f->cfg.suite, &sc.cipher, NULL) != SB_OK ||
            sb_session_init(&d->sess, &sc) != SB_OK) {
            sb_wipe(&keys, sizeof keys);
            snprintf(d->fatal, sizeof d->fatal, "%s: cannot set up a %s session", d->id,
                     f->cfg.suite->name);
            return;
        }
        d->has_session = 1;
    }
    rc = sb_session_install(&d->sess, epoch, &keys, now);
    sb_wipe(&keys, sizeof keys);
    if (rc != SB_OK) {
        snprintf(d->fatal, sizeof d->fatal, "%s: cannot install keys: %s", d->id, sb_err_str(rc));
        return;
    }
    push(d, d->ready ? &d->rk_lat : &d->hs_lat, now - d->hs_sent_ns);
    if (d->ready)
        d->rekeys++;
    else
        d->handshakes++;
    d->ready = 1;
    d->hs_pending = 0;
    d->hs_tries = 0;
    d->sent_in_epoch = 0;
    d->epoch_start_ns = now;
}

static void on_echo(dv *d, const uint8_t *p, size_t len)
{
    if (!d->has_session)
        return;
    uint8_t pt[512];
    size_t pt_len;
    uint32_t e;
    uint64_t s;
    uint64_t now = sb_now_ns();
    if (len > sizeof pt) {
        d->echo_rejected[0]++;
        return;
    }
    sb_err rc = sb_session_open(&d->sess, d->t_down, p, len, now, pt, sizeof pt, &pt_len, &e, &s);
    if (rc != SB_OK) {
        int r = sb_reason_index(rc);
        d->echo_rejected[r < 0 ? 9 : r]++;
        return;
    }
    d->echoes++;
    if (pt_len < 12) {
        d->rtt_unmatched++;
        return;
    }
    if (!d->ring) {
        d->rtt_unmatched++;
        return;
    }
    uint32_t up_epoch = sb_get_u32be(pt);
    uint64_t up_seq = sb_get_u64be(pt + 4);
    rtt_slot *sl = &d->ring[up_seq & d->ring_mask];
    if (sl->t_ns && sl->epoch == up_epoch && sl->seq == up_seq) {
        push(d, &d->rtt, now - sl->t_ns);
        sb_trace_echoed(d->f->cfg.trace, d->idx, up_epoch, up_seq, now - sl->t_ns);
        sl->t_ns = 0;
    } else {
        d->rtt_unmatched++;
    }
}

/* ---- Paho callbacks ---------------------------------------------------------------------- */

static void on_message(void *ctx, const char *topic, const uint8_t *p, size_t len, int dup)
{
    (void)dup;
    dv *d = ctx;
    pthread_mutex_lock(&d->mu);
    if (strcmp(topic, d->t_ack) == 0)
        on_accept(d, p, len);
    else if (strcmp(topic, d->t_down) == 0)
        on_echo(d, p, len);
    pthread_mutex_unlock(&d->mu);
    wake(d->f);
}

static void on_published(void *ctx, int tag, int ok)
{
    dv *d = ctx;
    if (tag != TAG_UP)
        return;
    pthread_mutex_lock(&d->mu);
    uint64_t done = 1;
    if (d->f->cfg.qos == 0 && d->mark_tail != d->mark_head) {
        /* Everything up to this mark has been written. */
        uint64_t upto = d->marks[d->mark_tail++ % d->mark_cap];
        uint64_t before = d->n - d->outstanding;
        done = upto > before ? upto - before : 0;
    }
    if (done > d->outstanding)
        done = d->outstanding;
    uint64_t before_out = d->outstanding;
    d->outstanding -= done;
    if (ok)
        d->done_ok += done;
    else
        d->done_fail += done;
    /* Wake the publishing thread only when its window has drained to half (or is empty):
     * it then refills in one burst and sleeps while Paho's send thread writes. Waking it
     * at every completion made the two threads fight over Paho's mutex, so much that a
     * faster sealer (the null suite) published more slowly than AES-GCM. */
    uint64_t half = d->f->cfg.inflight / 2;
    int wake_it = d->outstanding == 0 || (before_out > half && d->outstanding <= half);
    pthread_mutex_unlock(&d->mu);
    if (wake_it)
        wake(d->f);
}

static void on_lost(void *ctx, const char *cause)
{
    (void)cause;
    dv *d = ctx;
    pthread_mutex_lock(&d->f->mu);
    d->f->losses++;
    pthread_mutex_unlock(&d->f->mu);
}

static void on_reconnected(void *ctx)
{
    dv *d = ctx;
    pthread_mutex_lock(&d->f->mu);
    d->f->reconnects++;
    pthread_mutex_unlock(&d->f->mu);
    wake(d->f);
}

/* ---- connect ----------------------------------------------------------------------------- */

static char *topic_dup(const char *prefix, const char *id, sb_topic_kind k)
{
    char t[SB_TOPIC_MAX];
    sb_topic_make(t, sizeof t, prefix, id, k);
    return strdup(t);
}

sb_err sb_fleet_connect(sb_fleet **out, const sb_fleet_config *cfg, char *err, size_t err_len)
{
    *out = NULL;
    const char *why = sb_prefix_problem(cfg->prefix);
    if (why) {
        snprintf(err, err_len, "%s", why);
        return SB_ERR_ARG;
    }
    if (!cfg->devices || !cfg->be || !cfg->suite || !cfg->group) {
        snprintf(err, err_len, "no devices, backend, suite or group");
        return SB_ERR_ARG;
    }
    sb_fleet *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, err_len, "out of memory");
        return SB_ERR_NOMEM;
    }
    f->cfg = *cfg;
    f->rss_start = status_kb("VmRSS");
    snprintf(f->prefix, sizeof f->prefix, "%s", cfg->prefix);
    f->cfg.prefix = f->prefix;
    if (!f->cfg.inflight)
        f->cfg.inflight = 1024;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    sb_err rc = SB_ERR_NOMEM;
    f->d = calloc(cfg->devices, sizeof *f->d);
    if (!f->d) {
        snprintf(err, err_len, "out of memory for %u devices", cfg->devices);
        free(f);
        return SB_ERR_NOMEM;
    }
    /* The sealer's buffers: one plaintext, one wire message, reused for every publish. */
    sb_cipher c;
    const char *unavail = NULL;
    if ((rc = sb_cipher_get(cfg->be, cfg->suite, &c, &unavail)) != SB_OK) {
        snprintf(err, err_len, "%s cannot do %s: %s", cfg->be->name, cfg->suite->name,
                 unavail ? unavail : sb_err_str(rc));
        goto fail_early;
    }
    if (!sb_kex_get(cfg->be, cfg->group, &unavail)) {
        snprintf(err, err_len, "%s cannot do %s: %s", cfg->be->name, cfg->group->name,
                 unavail ? unavail : "unavailable");
        rc = SB_ERR_UNAVAILABLE;
        goto fail_early;
    }
    size_t pad = cfg->pad_to > 1 ? cfg->pad_to : 1;
    size_t most = cfg->source ? cfg->source->max_len : cfg->size;
    f->wire_cap = SB_HEADER_BYTES + most + pad + 1 + c.suite->tag_bytes + 64;
    f->pt_cap = most + 1;
    f->pt = calloc(1, f->pt_cap);
    f->wire = calloc(1, f->wire_cap);
    if (!f->pt || !f->wire) {
        snprintf(err, err_len, "out of memory");
        rc = SB_ERR_NOMEM;
        goto fail_early;
    }
    uint64_t ring = 256; /* more slots than echoes can be outstanding */
    while (ring < 2 * (uint64_t)f->cfg.inflight)
        ring *= 2;
    uint32_t epoch0 = (uint32_t)time(NULL); /* no state across runs: epochs start at Unix time */
    for (unsigned i = 0; i < cfg->devices; i++) {
        dv *d = &f->d[i];
        d->f = f;
        d->idx = i;
        pthread_mutex_init(&d->mu, NULL);
        sb_device_id(cfg->first + i, d->id, sizeof d->id);
        const uint8_t *psk = NULL;
        if (cfg->keys && !(psk = sb_keyfile_find(cfg->keys, d->id))) {
            snprintf(err, err_len,
                     "the keys file has no PSK for device '%s' (it lists %zu devices); add a "
                     "line for it or use fewer --devices",
                     d->id, cfg->keys->n);
            rc = SB_ERR_ARG;
            goto fail;
        }
        if ((rc = sb_hs_key(cfg->be, psk, d->id, d->hs_key)) != SB_OK) {
            snprintf(err, err_len, "%s: cannot derive the handshake key: %s", d->id,
                     sb_err_str(rc));
            goto fail;
        }
        d->next_epoch = epoch0;
        d->t_hs = topic_dup(f->prefix, d->id, SB_TOPIC_HS);
        d->t_up = topic_dup(f->prefix, d->id, SB_TOPIC_UP);
        d->t_ack = topic_dup(f->prefix, d->id, SB_TOPIC_HS_ACK);
        d->t_down = topic_dup(f->prefix, d->id, SB_TOPIC_DOWN);
        /* Memory per device matters with thousands of them: the send-time ring only when
         * echoes are expected, the completion marks only at QoS 0. */
        if (cfg->echo) {
            d->ring = calloc(ring, sizeof *d->ring);
            d->ring_mask = ring - 1;
        }
        d->mark_cap = f->cfg.inflight / MARK_EVERY + 4;
        if (cfg->qos == 0)
            d->marks = calloc(d->mark_cap, sizeof *d->marks);
        if (!d->t_hs || !d->t_up || !d->t_ack || !d->t_down || (cfg->echo && !d->ring) ||
            (cfg->qos == 0 && !d->marks)) {
            snprintf(err, err_len, "out of memory");
            rc = SB_ERR_NOMEM;
            goto fail;
        }
    }
    f->n = cfg->devices;
    f->t_connect0 = sb_now_ns();
    for (unsigned i = 0; i < f->n; i++) {
        dv *d = &f->d[i];
        sb_mqtt_opts mo = f->cfg.mqtt;
        snprintf(d->client_id, sizeof d->client_id, "sb-%ld-%s", (long)getpid(), d->id);
        mo.client_id = d->client_id;
        sb_mqtt_callbacks cb = {.ctx = d, .on_message = on_message, .on_published = on_published,
                                .on_lost = on_lost, .on_reconnected = on_reconnected};
        if ((rc = sb_mqtt_connect_begin(&d->m, &mo, &cb, err, err_len)) != SB_OK)
            goto fail;
    }
    /* All connects are under way; now collect them, then the same for the subscriptions. */
    for (unsigned i = 0; i < f->n; i++)
        if ((rc = sb_mqtt_connect_end(f->d[i].m, err, err_len)) != SB_OK)
            goto fail;
    for (unsigned i = 0; i < f->n; i++) {
        dv *d = &f->d[i];
        const char *filters[2] = {d->t_ack, d->t_down};
        if ((rc = sb_mqtt_subscribe_begin(d->m, filters, f->cfg.echo ? 2 : 1, hs_qos(f), err,
                                          err_len)) != SB_OK)
            goto fail;
    }
    for (unsigned i = 0; i < f->n; i++)
        if ((rc = sb_mqtt_subscribe_end(f->d[i].m, err, err_len)) != SB_OK)
            goto fail;
    f->t_connect1 = sb_now_ns();
    f->rss_connected = status_kb("VmRSS");
    *out = f;
    return SB_OK;
fail:
    f->n = cfg->devices;
    sb_fleet_free(f);
    return rc;
fail_early:
    free(f->pt);
    free(f->wire);
    free(f->d);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    return rc;
}

/* ---- handshake storm --------------------------------------------------------------------- */

/* Under d->mu, in the pass over the devices that a loop makes anyway: copy the first
 * device's fatal error into err. */
static void note_fatal(const dv *d, int *failed, char *err, size_t err_len)
{
    if (!*failed && d->fatal[0]) {
        snprintf(err, err_len, "%s", d->fatal);
        *failed = 1;
    }
}

sb_err sb_fleet_handshake(sb_fleet *f, volatile sig_atomic_t *stop, char *err, size_t err_len)
{
    f->t_hs0 = sb_now_ns();
    for (unsigned i = 0; i < f->n; i++) {
        dv *d = &f->d[i];
        pthread_mutex_lock(&d->mu);
        hs_send(d, sb_now_ns());
        dev_unlock(d);
    }
    for (;;) {
        uint64_t gen = current_gen(f);
        unsigned ready = 0;
        int failed = 0;
        uint64_t now = sb_now_ns();
        for (unsigned i = 0; i < f->n; i++) {
            dv *d = &f->d[i];
            pthread_mutex_lock(&d->mu);
            hs_check_timeout(d, now);
            ready += d->ready;
            note_fatal(d, &failed, err, err_len);
            dev_unlock(d);
        }
        if (failed)
            return SB_ERR_HANDSHAKE;
        if (ready == f->n)
            break;
        if (stop && *stop) {
            f->stopped = 1;
            snprintf(err, err_len, "interrupted during the handshakes (%u of %u devices ready)",
                     ready, f->n);
            return SB_ERR_TIMEOUT;
        }
        wait_progress(f, gen, sb_now_ns() + 50 * 1000000);
    }
    f->t_hs1 = sb_now_ns();
    f->rss_handshaken = status_kb("VmRSS");
    return SB_OK;
}

/* ---- publishing -------------------------------------------------------------------------- */

/* Seal and publish as many messages of d as its window and rate allow. Returns how many went
 * out; *next_ns is lowered to when d wants to run again under a rate. Takes d->mu for the
 * session and counters, and releases it around each publish (see dev_unlock). */
static unsigned pump(dv *d, uint64_t now, uint64_t *next_ns)
{
    sb_fleet *f = d->f;
    const sb_fleet_config *c = &f->cfg;
    unsigned did = 0;
    /* Before d->mu: the watchdog may call into Paho (see dev_unlock). */
    int up = sb_mqtt_watch(d->m);
    pthread_mutex_lock(&d->mu);
    hs_check_timeout(d, now);
    if (d->ready && !d->fatal[0] && !d->hs_pending &&
        ((c->rekey_messages && d->sent_in_epoch >= c->rekey_messages) ||
         (c->rekey_s > 0 && now - d->epoch_start_ns >= (uint64_t)(c->rekey_s * 1e9)) ||
         sb_session_rekey_due(&d->sess, 1024)))
        hs_send(d, now);
    uint64_t period = c->rate_hz > 0 ? (uint64_t)(1e9 / c->rate_hz) : 0;
    /* While a rekey is pending the device keeps sealing under the old epoch (PROTOCOL.md §3),
     * but no epoch carries more than twice --rekey-messages: past that it waits for the
     * ACCEPT, so that "rekey every N" bounds what one key protects. */
    uint64_t epoch_cap = c->rekey_messages ? 2 * c->rekey_messages : UINT64_MAX;
    /* While the connection is down nothing new is queued: Paho's own queue would carry it
     * across a reconnect, but Paho 1.3.11 has a race between its send thread and the lost
     * connection's cleanup that a long queue only widens (see tests/asan.supp). */
    if (up) {
        d->down_since_ns = 0;
    } else if (!d->fatal[0]) {
        /* Without --persistent nothing reconnects; with it, give the broker 30 s to return. */
        if (!d->down_since_ns)
            d->down_since_ns = now;
        if (!c->mqtt.auto_reconnect || now - d->down_since_ns > UINT64_C(30000000000))
            snprintf(d->fatal, sizeof d->fatal,
                     "%s: lost the connection to the broker%s after %llu of %llu messages%s",
                     d->id, c->mqtt.auto_reconnect ? " for 30 s" : "",
                     (unsigned long long)d->n, (unsigned long long)d->limit,
                     c->mqtt.auto_reconnect ? " (Paho's retries did not reach it either)" : "");
    }
    while (up && d->ready && !d->fatal[0] && d->n < d->limit && d->outstanding < c->inflight &&
           d->sent_in_epoch < epoch_cap && did < 64) {
        if (period && now < d->next_due_ns) {
            if (d->next_due_ns < *next_ns)
                *next_ns = d->next_due_ns;
            break;
        }
        const uint8_t *pt = f->pt;
        size_t pt_len = c->size;
        if (c->source) {
            uint64_t t_ns = 0;
            pt = c->source->get(c->source->ctx, d->idx, d->n, &pt_len, &t_ns);
            if (!pt) {
                snprintf(d->fatal, sizeof d->fatal, "%s: the payload source has no message %llu",
                         d->id, (unsigned long long)d->n);
                break;
            }
            if (c->source->speed > 0) { /* the data's own timeline, scaled */
                uint64_t due = f->t_pub_start + (uint64_t)((double)t_ns / c->source->speed);
                if (now < due) {
                    if (due < *next_ns)
                        *next_ns = due;
                    break;
                }
            }
        } else {
            sb_payload_make(d->id, d->n, f->pt, c->size);
        }
        uint64_t seq = d->sess.tx_seq;
        uint32_t epoch = d->sess.tx.epoch;
        size_t wl;
        uint64_t t_seal = sb_now_ns();
        sb_err rc = sb_session_seal(&d->sess, d->t_up, pt, pt_len, f->wire, f->wire_cap, &wl);
        if (rc == SB_ERR_SEQ_EXHAUSTED)
            break; /* the rekey under way will bring a fresh epoch */
        if (rc != SB_OK) {
            snprintf(d->fatal, sizeof d->fatal, "%s: cannot seal: %s", d->id, sb_err_str(rc));
            break;
        }
        uint64_t t = sb_now_ns();
        sb_trace_sealed(c->trace, d->idx, d->n, epoch, seq, t_seal, t - t_seal, pt_len, wl);
        if (d->ring) {
            rtt_slot *sl = &d->ring[seq & d->ring_mask];
            sl->epoch = epoch;
            sl->seq = seq;
            sl->t_ns = t_seal; /* round trips start where one-way latency does */
        }
        d->outstanding++;
        int tag = TAG_UP;
        if (c->qos == 0) {
            /* Mark every MARK_EVERY-th message, the last one, any that fills the window, and
             * any when no mark is pending (so a completion always comes back). */
            int mark = (d->n + 1) % MARK_EVERY == 0 || d->n + 1 == d->limit ||
                       d->outstanding >= c->inflight || d->mark_head == d->mark_tail;
            if (mark && d->mark_head - d->mark_tail < d->mark_cap)
                d->marks[d->mark_head++ % d->mark_cap] = d->n + 1;
            else
                tag = SB_MQTT_SILENT;
        }
        if (!f->t_first_pub)
            f->t_first_pub = t;
        f->t_last_pub = t;
        d->n++;
        d->pt_bytes += pt_len;
        d->wire_bytes += wl;
        d->sent_in_epoch++;
        d->next_due_ns += period;
        did++;
        /* f->wire belongs to this thread alone, so it can be published unlocked. */
        dev_unlock(d);
        sb_err prc = sb_mqtt_publish(d->m, d->t_up, f->wire, wl, c->qos, tag);
        pthread_mutex_lock(&d->mu);
        if (prc != SB_OK) {
            d->outstanding--;
            d->done_fail++;
            snprintf(d->fatal, sizeof d->fatal, "%s: cannot publish (connection lost?)", d->id);
            break;
        }
    }
    dev_unlock(d);
    return did;
}

static int drained(sb_fleet *f)
{
    for (unsigned i = 0; i < f->n; i++) {
        dv *d = &f->d[i];
        pthread_mutex_lock(&d->mu);
        uint64_t rej = 0;
        for (int r = 0; r < SB_REASONS; r++)
            rej += d->echo_rejected[r];
        int busy = !d->fatal[0] && (d->outstanding || d->hs_pending || d->hello_due ||
                                    (f->cfg.echo && d->echoes + rej < d->n));
        pthread_mutex_unlock(&d->mu);
        if (busy)
            return 0;
    }
    return 1;
}

sb_err sb_fleet_publish(sb_fleet *f, volatile sig_atomic_t *stop, char *err, size_t err_len)
{
    const sb_fleet_config *c = &f->cfg;
    uint64_t start = sb_now_ns();
    uint64_t period = c->rate_hz > 0 ? (uint64_t)(1e9 / c->rate_hz) : 0;
    f->t_pub_start = start;
    for (unsigned i = 0; i < f->n; i++) { /* spread the devices over one period */
        dv *d = &f->d[i];
        d->next_due_ns = start + (period / f->n) * i;
        d->limit = c->messages;
        if (c->source) {
            uint64_t has = c->source->count(c->source->ctx, d->idx);
            d->limit = c->messages && c->messages < has ? c->messages : has;
        }
    }
    for (;;) {
        uint64_t gen = current_gen(f);
        uint64_t now = sb_now_ns();
        uint64_t next = now + 20 * 1000000;
        unsigned did = 0, left = 0;
        int failed = 0;
        uint64_t published = 0;
        for (unsigned i = 0; i < f->n; i++) {
            dv *d = &f->d[i];
            did += pump(d, now, &next);
            pthread_mutex_lock(&d->mu);
            left += !d->fatal[0] && d->n < d->limit;
            published += d->n;
            note_fatal(d, &failed, err, err_len);
            pthread_mutex_unlock(&d->mu);
        }
        if (c->progress)
            c->progress(c->progress_ctx, published);
        if (failed)
            return SB_ERR_NET;
        if (!left)
            break;
        if (stop && *stop) {
            f->stopped = 1;
            break;
        }
        if (!did)
            wait_progress(f, gen, next);
    }
    double drain = c->drain_s > 0 ? c->drain_s : 10.0;
    uint64_t end = sb_now_ns() + (uint64_t)(drain * 1e9);
    while (!(stop && *stop) && sb_now_ns() < end) {
        uint64_t gen = current_gen(f);
        if (drained(f))
            break;
        uint64_t now = sb_now_ns();
        for (unsigned i = 0; i < f->n; i++) { /* a rekey may still be in flight */
            pthread_mutex_lock(&f->d[i].mu);
            hs_check_timeout(&f->d[i], now);
            dev_unlock(&f->d[i]);
        }
        wait_progress(f, gen, now + 20 * 1000000);
    }
    f->t_drained = sb_now_ns();
    if (stop && *stop)
        f->stopped = 1;
    return SB_OK;
}

/* ---- report ------------------------------------------------------------------------------ */

uint64_t sb_fleet_sent(sb_fleet *f)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < f->n; i++) {
        pthread_mutex_lock(&f->d[i].mu);
        n += f->d[i].n;
        pthread_mutex_unlock(&f->d[i].mu);
    }
    return n;
}

void sb_fleet_report_get(sb_fleet *f, sb_fleet_report *r)
{
    const sb_fleet_config *c = &f->cfg;
    memset(r, 0, sizeof *r);
    r->backend = c->be->name;
    r->suite = c->suite->name;
    r->group = c->group->name;
    snprintf(r->prefix, sizeof r->prefix, "%s", f->prefix);
    r->psk = c->keys != NULL;
    r->qos = c->qos;
    r->tcp_nodelay = !c->mqtt.nagle;
    r->echo = c->echo;
    r->synthetic = c->source == NULL;
    r->devices = f->n;
    r->messages_per_device = c->messages;
    r->payload_bytes = c->size;
    r->pad_to = c->pad_to;
    r->rate_hz = c->rate_hz;
    if (f->n && f->d[0].has_session && !c->source) {
        r->has_wire_bytes = 1;
        r->wire_bytes = sb_session_wire_len(&f->d[0].sess, c->size);
    }
    int merged = 1;
    for (unsigned i = 0; i < f->n; i++) {
        dv *d = &f->d[i];
        pthread_mutex_lock(&d->mu);
        r->sent += d->n;
        r->plaintext_bytes_sent += d->pt_bytes;
        r->wire_bytes_sent += d->wire_bytes;
        r->published_ok += d->done_ok;
        r->publish_failed += d->done_fail;
        r->handshakes += d->handshakes;
        r->rekeys += d->rekeys;
        r->accept_rejected += d->hs_rejects;
        r->echoes += d->echoes;
        r->rtt_unmatched += d->rtt_unmatched;
        r->devices_ready += d->ready;
        for (int k = 0; k < SB_REASONS; k++)
            r->echo_rejected[k] += d->echo_rejected[k];
        merged &= sb_samples_merge(&r->rtt_ns, &d->rtt) == SB_OK &&
                  sb_samples_merge(&r->handshake_ns, &d->hs_lat) == SB_OK &&
                  sb_samples_merge(&r->rekey_ns, &d->rk_lat) == SB_OK;
        if (d->fatal[0]) {
            r->devices_failed++;
            if (r->n_errors < SB_FLEET_ERRORS_MAX - 1)
                snprintf(r->errors[r->n_errors++], sizeof r->errors[0], "%s", d->fatal);
        }
        pthread_mutex_unlock(&d->mu);
        r->reconnect_nudges += d->m ? sb_mqtt_nudges(d->m) : 0;
        r->client_rebuilds += d->m ? sb_mqtt_rebuilds(d->m) : 0;
    }
    if (!merged) { /* the fleet's latencies would be a part of them: fail instead */
        r->devices_failed = r->devices_failed ? r->devices_failed : 1;
        snprintf(r->errors[r->n_errors++], sizeof r->errors[0],
                 "out of memory merging the devices' latency samples");
    }
    r->connect_ns = f->t_connect1 - f->t_connect0;
    r->handshake_storm_ns = f->t_hs1 > f->t_hs0 ? f->t_hs1 - f->t_hs0 : 0;
    r->t_first_ns = f->t_first_pub;
    r->t_last_ns = f->t_last_pub;
    r->connection_losses = f->losses;
    r->reconnects = f->reconnects;
    r->rss_start_kb = f->rss_start;
    r->rss_connected_kb = f->rss_connected;
    r->rss_handshaken_kb = f->rss_handshaken;
    r->rss_peak_kb = status_kb("VmHWM");
    r->interrupted = f->stopped;
}

void sb_fleet_report_free(sb_fleet_report *r)
{
    sb_samples_free(&r->rtt_ns);
    sb_samples_free(&r->handshake_ns);
    sb_samples_free(&r->rekey_ns);
}

void sb_fleet_free(sb_fleet *f)
{
    if (!f)
        return;
    sb_mqtt **ms = calloc(f->n ? f->n : 1, sizeof *ms);
    for (unsigned i = 0; i < f->n; i++) /* first stop all callbacks, all connections at once */
        if (ms) {
            ms[i] = f->d[i].m;
            f->d[i].m = NULL;
        } else if (f->d[i].m) {
            sb_mqtt_close(f->d[i].m, 1.0);
            f->d[i].m = NULL;
        }
    if (ms)
        sb_mqtt_close_many(ms, f->n, 1.0);
    free(ms);
    for (unsigned i = 0; i < f->n; i++) {
        dv *d = &f->d[i];
        if (d->has_session)
            sb_session_free(&d->sess);
        sb_hs_device_clear(&d->hs);
        free(d->t_hs);
        free(d->t_up);
        free(d->t_ack);
        free(d->t_down);
        free(d->ring);
        free(d->marks);
        sb_samples_free(&d->rtt);
        sb_samples_free(&d->hs_lat);
        sb_samples_free(&d->rk_lat);
        pthread_mutex_destroy(&d->mu);
        sb_wipe(d, sizeof *d);
    }
    free(f->d);
    if (f->pt)
        sb_wipe(f->pt, f->pt_cap);
    free(f->pt);
    free(f->wire);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}
