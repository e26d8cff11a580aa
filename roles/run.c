/* The device, gateway and pair roles (roles/roles.h): each turns its spec into the transport's
 * configurations, starts what it needs (a private broker, the trace, the counters), runs, and
 * fills the report. The order of the steps is part of the method: a dataset is loaded before
 * anything connects, counting covers the publish phase alone, and the samples are written
 * after the drain so that they hold only messages that were accounted for. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/util.h"
#include "datasets/player.h"
#include "roles/internal.h"

void role_fail(sb_role_report *r, const char *fmt, ...)
{
    if (r->error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

/* ---- specs ---------------------------------------------------------------------------- */

static void link_init(sb_role_link *l)
{
    memset(l, 0, sizeof *l);
    l->backend = sb_backend_by_name("openssl");
    l->prefix = "sealbench";
}

void sb_device_spec_init(sb_device_spec *s)
{
    memset(s, 0, sizeof *s);
    link_init(&s->link);
    s->devices = 1;
    s->first = 1;
    s->count = 1000;
    s->size = 256;
}

void sb_gateway_spec_init(sb_gateway_spec *s)
{
    memset(s, 0, sizeof *s);
    link_init(&s->link);
}

void sb_pair_spec_init(sb_pair_spec *s)
{
    memset(s, 0, sizeof *s);
    sb_device_spec_init(&s->device);
}

sb_hs_policy sb_backend_policy(const sb_backend *be)
{
    sb_hs_policy p = {0};
    for (unsigned id = 1; id < SB_SUITE_COUNT; id++) {
        const sb_suite *s = sb_suite_by_id(id);
        sb_cipher c;
        if (s && sb_cipher_get(be, s, &c, NULL) == SB_OK)
            p.suites |= 1u << id;
    }
    for (unsigned id = 1; id < SB_GROUP_COUNT; id++) {
        const sb_group *g = sb_group_by_id(id);
        if (g && sb_kex_get(be, g, NULL))
            p.groups |= 1u << id;
    }
    return p;
}

/* ---- what every role does first ------------------------------------------------------- */

/* The resources a role holds, released in one place. */
typedef struct role_env {
    sb_keyfile kf;
    int have_keys;
    sb_broker broker;
    int have_broker;
    const char *uri;
    sb_trace *trace;
} role_env;

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Load the keys, raise the open-file limit (a thousand devices need a thousand sockets, and a
 * private broker inherits the limit), and start a private broker unless the link names one. */
static int role_begin(const sb_role_link *l, int persistence, role_env *e, sb_role_report *r)
{
    char err[512];
    memset(e, 0, sizeof *e);
    if (!l->backend) { /* the default's backend may be left out of this build */
        role_fail(r, "no backend given (or the default one is not built into this binary)");
        return -1;
    }
    if (l->keys_path) {
        if (sb_keyfile_load(&e->kf, l->keys_path, err, sizeof err) != SB_OK) {
            role_fail(r, "%s", err);
            return -1;
        }
        e->have_keys = 1;
    }
    raise_nofile();
    e->uri = l->broker;
    if (!e->uri) {
        sb_broker_opts bo = {.persistence = persistence};
        if (sb_broker_start(&e->broker, &bo, err, sizeof err) != SB_OK) {
            role_fail(r, "%s", err);
            return -1;
        }
        e->have_broker = 1;
        e->uri = e->broker.uri;
    }
    r->has_broker = 1;
    snprintf(r->broker.uri, sizeof r->broker.uri, "%s", e->uri);
    r->broker.is_private = e->have_broker;
    if (e->have_broker)
        snprintf(r->broker.version, sizeof r->broker.version, "%s", e->broker.version);
    return 0;
}

static void role_end(role_env *e)
{
    if (e->have_broker)
        sb_broker_stop(&e->broker);
    sb_trace_free(e->trace);
    if (e->have_keys)
        sb_keyfile_free(&e->kf);
    memset(e, 0, sizeof *e);
}

static sb_mqtt_opts link_mqtt(const sb_role_link *l, const char *uri)
{
    sb_mqtt_opts o = {.uri = uri,
                      .cafile = l->cafile,
                      .certfile = l->cert,
                      .keyfile = l->key,
                      .persistent = l->persistent,
                      .auto_reconnect = l->persistent,
                      .connect_timeout_s = l->connect_timeout_s,
                      .nagle = l->nagle};
    return o;
}

static sb_fleet_config fleet_config(const sb_device_spec *s, const role_env *e, role_dataset *d)
{
    const sb_role_link *l = &s->link;
    sb_fleet_config c = {.be = l->backend,
                         .suite = s->suite,
                         .group = s->group,
                         .keys = e->have_keys ? &e->kf : NULL,
                         .prefix = l->prefix,
                         .devices = s->devices,
                         .first = s->first,
                         .messages = s->count + s->warmup,
                         .size = s->size,
                         .rate_hz = s->rate_hz,
                         .rekey_messages = s->rekey_messages,
                         .rekey_s = s->rekey_s,
                         .qos = l->qos,
                         .echo = l->echo,
                         .pad_to = l->pad,
                         .inflight = s->inflight,
                         .hs_timeout_s = s->hs_timeout_s,
                         .drain_s = s->drain_s,
                         .replay_window = l->replay_window,
                         .grace_ns = (uint64_t)(l->grace_s * 1e9),
                         .mqtt = link_mqtt(l, e->uri)};
    if (d->player) {
        c.source = &d->src;
        c.devices = d->sessions;
        c.messages = s->count_set ? s->count + s->warmup : 0;
    }
    return c;
}

static sb_gateway_config gateway_config(const sb_role_link *l, sb_hs_policy policy,
                                        const role_env *e)
{
    sb_gateway_config c = {.be = l->backend,
                           .policy = policy,
                           .keys = e->have_keys ? &e->kf : NULL,
                           .prefix = l->prefix,
                           .qos = l->qos,
                           .echo = l->echo,
                           .pad_to = l->pad,
                           .replay_window = l->replay_window,
                           .grace_ns = (uint64_t)(l->grace_s * 1e9),
                           .mqtt = link_mqtt(l, e->uri)};
    return c;
}

/* Handshake and publish, counting the publish phase; the fleet's error goes to the report
 * with `who` before it. 1 when every device finished. */
static int fleet_run(sb_fleet *f, const sb_device_spec *s, volatile sig_atomic_t *stop,
                     const char *who, sb_role_report *r)
{
    char err[512];
    role_counting k;
    int ok = sb_fleet_handshake(f, stop, err, sizeof err) == SB_OK;
    role_counting_start(&k, s->counters);
    ok = ok && sb_fleet_publish(f, stop, err, sizeof err) == SB_OK;
    role_counting_stop(&k);
    if (!ok)
        role_fail(r, "%s%s", who, err);
    role_counting_report(&k, &r->counters);
    return ok;
}

/* The report is final: hand it over before the teardown, which waits on libraries and can
 * hang or crash, so that nothing measured is lost. */
static void measured(const sb_role_link *l, sb_role_report *r)
{
    if (l->measured)
        l->measured(l->measured_ctx, r);
}

static void finish(const sb_role_link *l, sb_role_report *r, int ok, volatile sig_atomic_t *stop)
{
    r->interrupted = stop && *stop;
    if (r->interrupted)
        role_fail(r, "interrupted");
    r->ok = ok && !r->interrupted && !r->error[0];
    measured(l, r);
}

/* ---- device --------------------------------------------------------------------------- */

int sb_role_device(const sb_device_spec *s, volatile sig_atomic_t *stop, sb_role_report *r)
{
    memset(r, 0, sizeof *r);
    r->kind = SB_ROLE_KIND_DEVICE;
    char err[512];
    role_env e = {0};
    role_dataset d = {0};
    sb_fleet *f = NULL;
    int ok = 0;
    if (!s->suite || !s->group) {
        role_fail(r, "no suite or group given");
        goto out;
    }
    if (role_dataset_load(s, &d, err, sizeof err)) {
        role_fail(r, "%s", err);
        goto out;
    }
    if (!s->link.broker) {
        role_fail(r, "the device role needs a broker URI");
        goto out;
    }
    if (role_begin(&s->link, 0, &e, r))
        goto out;
    sb_fleet_config fc = fleet_config(s, &e, &d);
    if (role_trace_new(&s->link, &fc, s->warmup, &e.trace, err, sizeof err)) {
        role_fail(r, "%s", err);
        goto out;
    }
    fc.trace = e.trace;
    if (sb_fleet_connect(&f, &fc, err, sizeof err) != SB_OK) {
        role_fail(r, "%s", err);
        goto out;
    }
    ok = fleet_run(f, s, stop, "", r);
    sb_fleet_report_get(f, &r->device);
    r->has_device = 1;
    role_process_report(&r->process);
    role_dataset_report(s, &d, &r->dataset);
    if (role_trace_write(&s->link, e.trace, err, sizeof err)) {
        role_fail(r, "%s", err);
        ok = 0;
    }
out:
    finish(&s->link, r, ok, stop);
    sb_fleet_free(f);
    role_end(&e);
    role_dataset_free(&d);
    return r->ok ? 0 : 1;
}

/* ---- gateway -------------------------------------------------------------------------- */

int sb_role_gateway(const sb_gateway_spec *s, volatile sig_atomic_t *stop, sb_role_report *r)
{
    memset(r, 0, sizeof *r);
    r->kind = SB_ROLE_KIND_GATEWAY;
    char err[512];
    role_env e = {0};
    sb_gateway *g = NULL;
    int ok = 0;
    if (role_begin(&s->link, 0, &e, r))
        goto out;
    if (role_trace_new(&s->link, NULL, 0, &e.trace, err, sizeof err)) {
        role_fail(r, "%s", err);
        goto out;
    }
    sb_gateway_config gc = gateway_config(&s->link, s->policy, &e);
    gc.trace = e.trace;
    gc.verify = s->verify;
    gc.max_devices = s->max_devices;
    if (sb_gateway_start(&g, &gc, err, sizeof err) != SB_OK) {
        role_fail(r, "%s", err);
        goto out;
    }
    if (s->ready)
        s->ready(s->ready_ctx, &r->broker);
    sb_gateway_stop why = sb_gateway_wait(g, s->expect, s->duration_s, stop);
    sb_gateway_report_get(g, why, &r->gateway);
    r->has_gateway = 1;
    role_process_report(&r->process);
    if (e.have_broker)
        role_broker_cpu(&e.broker, &r->broker);
    ok = role_trace_write(&s->link, e.trace, err, sizeof err) == 0;
    if (!ok)
        role_fail(r, "%s", err);
out:
    /* A signal is how a gateway is told to stop: not a failure. */
    r->interrupted = stop && *stop;
    r->ok = ok && !r->error[0];
    measured(&s->link, r);
    sb_gateway_free(g);
    role_end(&e);
    return r->ok ? 0 : 1;
}

/* ---- pair ----------------------------------------------------------------------------- */

typedef struct restart_plan {
    sb_broker *broker;
    const sb_pair_spec *s;
    sb_role_restart *out;
    sb_err rc;
    char err[256];
} restart_plan;

static void maybe_restart(void *ctx, uint64_t published)
{
    restart_plan *p = ctx;
    if (p->out->done || published < p->s->restart_at)
        return;
    p->out->done = 1;
    uint64_t t0 = sb_now_ns();
    p->rc = sb_broker_restart(p->broker, !p->s->restart_kill, p->s->restart_outage_s, p->err,
                              sizeof p->err);
    p->out->took_s = (double)(sb_now_ns() - t0) / 1e9;
    p->out->ok = p->rc == SB_OK;
}

int sb_role_pair(const sb_pair_spec *s, volatile sig_atomic_t *stop, sb_role_report *r)
{
    memset(r, 0, sizeof *r);
    r->kind = SB_ROLE_KIND_PAIR;
    const sb_device_spec *ds = &s->device;
    char err[512];
    role_env e = {0};
    role_dataset d = {0};
    sb_gateway *g = NULL;
    sb_fleet *f = NULL;
    int ok = 0;
    r->restart = (sb_role_restart){.planned = s->restart_at != 0, .at = s->restart_at,
                                   .kill = s->restart_kill, .outage_s = s->restart_outage_s};
    if (!ds->suite || !ds->group) {
        role_fail(r, "no suite or group given");
        r->restart.planned = 0;
        goto out;
    }
    if (role_dataset_load(ds, &d, err, sizeof err)) {
        role_fail(r, "%s", err);
        r->restart.planned = 0;
        goto out;
    }
    if (role_begin(&ds->link, s->broker_persistence, &e, r))
        goto out;
    if (e.have_broker)
        r->broker.config = strdup(sb_broker_config_text(&e.broker));

    sb_fleet_config fc = fleet_config(ds, &e, &d);
    if (role_trace_new(&ds->link, &fc, ds->warmup, &e.trace, err, sizeof err)) {
        role_fail(r, "%s", err);
        goto out;
    }
    fc.trace = e.trace;
    /* The gateway is the device's twin except for its backend and its policy: every real suite
     * and group of its backend, and whatever the devices propose (the null suite included: the
     * baseline must be measurable). */
    sb_role_link gl = ds->link;
    gl.backend = s->gateway_backend ? s->gateway_backend : ds->link.backend;
    sb_hs_policy policy = sb_backend_policy(gl.backend);
    policy.suites |= 1u << ds->suite->id;
    policy.groups |= 1u << ds->group->id;
    sb_gateway_config gc = gateway_config(&gl, policy, &e);
    gc.trace = e.trace;
    gc.verify = !s->no_verify;
    if (d.player) { /* dataset payloads: the gateway checks each is a record of its device */
        gc.check = role_dataset_check;
        gc.check_ctx = &d;
    }
    if (sb_gateway_start(&g, &gc, err, sizeof err) != SB_OK) {
        role_fail(r, "gateway: %s", err);
        goto out;
    }
    restart_plan plan = {.broker = &e.broker, .s = s, .out = &r->restart};
    if (s->restart_at) {
        fc.progress = maybe_restart;
        fc.progress_ctx = &plan;
    }
    if (sb_fleet_connect(&f, &fc, err, sizeof err) != SB_OK) {
        role_fail(r, "device: %s", err);
        goto out;
    }
    ok = fleet_run(f, ds, stop, "device: ", r);
    /* Whatever was published may still be on its way to the gateway. */
    double drain = !ok ? 0.2 : ds->drain_s > 0 ? ds->drain_s : 10.0;
    sb_gateway_stop why = sb_gateway_wait(g, sb_fleet_sent(f), drain, stop);
    sb_gateway_report_get(g, why, &r->gateway);
    r->has_gateway = 1;
    sb_fleet_report_get(f, &r->device);
    r->has_device = 1;
    role_process_report(&r->process);
    if (e.have_broker)
        role_broker_cpu(&e.broker, &r->broker);
    role_dataset_report(ds, &d, &r->dataset);
    if (s->restart_at && (!r->restart.done || !r->restart.ok)) {
        if (r->restart.done)
            role_fail(r, "broker restart failed: %s", plan.err);
        else
            role_fail(r, "the broker restart never happened: fewer than %llu messages were "
                         "published", (unsigned long long)s->restart_at);
        ok = 0;
    }
    /* Samples only of the messages that were accounted for: after the drain. */
    if (role_trace_write(&ds->link, e.trace, err, sizeof err)) {
        role_fail(r, "%s", err);
        ok = 0;
    }
out:
    finish(&ds->link, r, ok, stop);
    sb_fleet_free(f);
    sb_gateway_free(g);
    role_end(&e);
    role_dataset_free(&d);
    return r->ok ? 0 : 1;
}
