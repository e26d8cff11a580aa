/* The one serialisation of a role's report (roles/roles.h): the JSON the commands print and
 * the runner keeps. Its fields are a published interface (each command's --help,
 * results/README.md, the analysis): names and nesting change only with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/stats.h"
#include "common/util.h"
#include "roles/roles.h"

static void set_int(json_t *o, const char *k, uint64_t v)
{
    json_object_set_new(o, k, json_integer((json_int_t)v));
}

static void set_real(json_t *o, const char *k, double v)
{
    json_object_set_new(o, k, json_real(v));
}

static void set_bool(json_t *o, const char *k, int v)
{
    json_object_set_new(o, k, json_boolean(v));
}

static void set_str(json_t *o, const char *k, const char *v)
{
    json_object_set_new(o, k, json_string(v));
}

static json_t *reasons_json(const uint64_t *r)
{
    json_t *o = json_object();
    for (int i = 0; i < SB_REASONS; i++)
        set_int(o, sb_reason_names[i], r[i]);
    return o;
}

/* Count, mean and quantiles of ns samples (common/stats.h: type 7, like every number of the
 * suite) in the unit that div and unit give. The report stays as it was. */
static json_t *stats_json(const sb_samples *s, double div, const char *unit)
{
    json_t *o = json_object();
    set_int(o, "count", s->n);
    if (!s->n)
        return o;
    sb_stats st;
    if (sb_samples_stats(s, &st) != SB_OK) { /* no statistic of a part: the count alone */
        set_str(o, "error", "out of memory for the statistics");
        return o;
    }
    const struct { const char *name; double v; } qs[] = {
        {"min", st.min}, {"p50", st.p50}, {"p90", st.p90}, {"p99", st.p99}, {"p999", st.p999},
        {"max", st.max}};
    char key[32];
    snprintf(key, sizeof key, "mean_%s", unit);
    set_real(o, key, st.mean / div);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        snprintf(key, sizeof key, "%s_%s", qs[i].name, unit);
        set_real(o, key, qs[i].v / div);
    }
    return o;
}

static json_t *fleet_json(const sb_fleet_report *f)
{
    json_t *o = json_object();
    set_str(o, "role", "device");
    set_str(o, "auth", f->psk ? "psk" : "none");
    set_str(o, "backend", f->backend);
    set_str(o, "suite", f->suite);
    set_str(o, "group", f->group);
    set_str(o, "prefix", f->prefix);
    set_int(o, "qos", (uint64_t)f->qos);
    set_bool(o, "tcp_nodelay", f->tcp_nodelay);
    set_int(o, "devices", f->devices);
    set_int(o, "devices_ready", f->devices_ready);
    set_int(o, "devices_failed", f->devices_failed);
    set_int(o, "messages_per_device", f->messages_per_device);
    set_str(o, "payload", f->synthetic ? "synthetic" : "source");
    set_int(o, "payload_bytes", f->payload_bytes);
    /* What was sealed and what went on the wire, summed: overhead per message for variable
     * payloads is (wire_bytes_sent - plaintext_bytes_sent) / sent. */
    set_int(o, "plaintext_bytes_sent", f->plaintext_bytes_sent);
    set_int(o, "wire_bytes_sent", f->wire_bytes_sent);
    if (f->has_wire_bytes)
        set_int(o, "wire_bytes", f->wire_bytes);
    set_int(o, "pad_to", f->pad_to);
    set_real(o, "rate_hz", f->rate_hz);
    set_int(o, "sent", f->sent);
    set_int(o, "published_ok", f->published_ok);
    set_int(o, "publish_failed", f->publish_failed);
    set_int(o, "handshakes", f->handshakes);
    set_int(o, "rekeys", f->rekeys);
    set_int(o, "accept_rejected", f->accept_rejected);
    set_bool(o, "echo", f->echo);
    set_int(o, "echoes", f->echoes);
    json_object_set_new(o, "echo_rejected", reasons_json(f->echo_rejected));
    set_int(o, "rtt_unmatched", f->rtt_unmatched);
    json_object_set_new(o, "rtt", stats_json(&f->rtt_ns, 1e3, "us"));
    json_object_set_new(o, "handshake_latency", stats_json(&f->handshake_ns, 1e6, "ms"));
    json_object_set_new(o, "rekey_latency", stats_json(&f->rekey_ns, 1e6, "ms"));
    set_real(o, "connect_s", (double)f->connect_ns / 1e9);
    set_real(o, "handshake_storm_s", (double)f->handshake_storm_ns / 1e9);
    set_int(o, "t_first_ns", f->t_first_ns);
    set_int(o, "t_last_ns", f->t_last_ns);
    double span = f->t_last_ns > f->t_first_ns ? (double)(f->t_last_ns - f->t_first_ns) / 1e9 : 0;
    set_real(o, "publish_msgs_per_s", span > 0 ? (double)(f->sent - 1) / span : 0.0);
    set_int(o, "connection_losses", f->connection_losses);
    set_int(o, "reconnects", f->reconnects);
    set_int(o, "reconnect_nudges", f->reconnect_nudges);
    set_int(o, "client_rebuilds", f->client_rebuilds);
    json_t *mem = json_object();
    json_object_set_new(mem, "start_kb", json_integer(f->rss_start_kb));
    json_object_set_new(mem, "connected_kb", json_integer(f->rss_connected_kb));
    json_object_set_new(mem, "handshaken_kb", json_integer(f->rss_handshaken_kb));
    json_object_set_new(mem, "peak_kb", json_integer(f->rss_peak_kb));
    if (f->devices && f->rss_handshaken_kb > 0)
        set_real(mem, "per_device_kb",
                 (double)(f->rss_handshaken_kb - f->rss_start_kb) / f->devices);
    json_object_set_new(o, "rss", mem);
    set_bool(o, "interrupted", f->interrupted);
    json_t *errors = json_array();
    for (unsigned i = 0; i < f->n_errors; i++)
        json_array_append_new(errors, json_string(f->errors[i]));
    json_object_set_new(o, "errors", errors);
    return o;
}

static json_t *gateway_json(const sb_gateway_report *g)
{
    static const char *stops[] = {"expect", "duration", "signal"};
    json_t *o = json_object();
    set_str(o, "role", "gateway");
    set_str(o, "auth", g->psk ? "psk" : "none");
    set_str(o, "backend", g->backend);
    set_str(o, "prefix", g->prefix);
    set_int(o, "qos", (uint64_t)g->qos);
    set_bool(o, "tcp_nodelay", g->tcp_nodelay);
    set_bool(o, "echo", g->echo);
    set_str(o, "stop", stops[g->stop]);
    set_int(o, "accepted", g->accepted);
    json_object_set_new(o, "rejected", reasons_json(g->rejected));
    set_int(o, "handshakes", g->handshakes);
    set_int(o, "rekeys", g->rekeys);
    set_int(o, "echoed", g->echoed);
    set_int(o, "echo_failures", g->echo_failures);
    set_int(o, "missing", g->missing);
    if (g->verify) {
        set_int(o, "duplicates", g->duplicates);
        set_int(o, "mismatched", g->mismatched);
        set_int(o, "unverified", g->unverified);
    }
    set_int(o, "unknown_device", g->unknown_device);
    set_int(o, "device_cap_hits", g->device_cap_hits);
    set_int(o, "ignored_topics", g->ignored_topics);
    set_int(o, "connection_losses", g->connection_losses);
    set_int(o, "reconnects", g->reconnects);
    set_int(o, "reconnect_nudges", g->reconnect_nudges);
    set_int(o, "client_rebuilds", g->client_rebuilds);
    set_int(o, "bytes_in", g->bytes_in);
    set_int(o, "t_first_ns", g->t_first_ns);
    set_int(o, "t_last_ns", g->t_last_ns);
    double span = g->t_last_ns > g->t_first_ns ? (double)(g->t_last_ns - g->t_first_ns) / 1e9 : 0;
    set_real(o, "msgs_per_s", span > 0 ? (double)(g->accepted - 1) / span : 0.0);
    set_int(o, "device_count", g->device_count);
    json_t *devs = json_object();
    for (size_t i = 0; i < g->n_devices; i++) {
        const sb_gateway_device_report *d = &g->devices[i];
        json_t *dj = json_object();
        set_int(dj, "accepted", d->accepted);
        json_object_set_new(dj, "rejected", reasons_json(d->rejected));
        set_int(dj, "handshakes", d->handshakes);
        set_int(dj, "rekeys", d->rekeys);
        set_int(dj, "handshake_auth_failures", d->handshake_auth_failures);
        set_int(dj, "missing", d->missing);
        set_int(dj, "epoch", d->epoch);
        set_str(dj, "suite", d->suite);
        if (g->verify) {
            set_int(dj, "duplicates", d->duplicates);
            set_int(dj, "mismatched", d->mismatched);
        }
        json_object_set_new(devs, d->id, dj);
    }
    json_object_set_new(o, "devices", devs);
    return o;
}

static json_t *cpu_json(const sb_role_broker *b)
{
    json_t *o = json_object();
    set_real(o, "cpu_user_s", b->cpu_user_s);
    set_real(o, "cpu_sys_s", b->cpu_sys_s);
    return o;
}

/* The broker as each role has always described it: the device knows only its URI; the
 * gateway adds whether it is its own; pair adds the configuration and Paho's version. */
static json_t *broker_json(const sb_role_report *r)
{
    const sb_role_broker *b = &r->broker;
    json_t *o = json_object();
    set_str(o, "uri", b->uri);
    if (r->kind == SB_ROLE_KIND_DEVICE)
        return o;
    set_bool(o, "private", b->is_private);
    if (b->is_private)
        set_str(o, "version", b->version);
    if (r->kind == SB_ROLE_KIND_PAIR) {
        if (b->config)
            set_str(o, "config", b->config);
        set_str(o, "paho", sb_mqtt_version());
    }
    if (b->has_cpu)
        json_object_set_new(o, "cpu", cpu_json(b));
    return o;
}

static json_t *counting_json(const sb_role_counting *k)
{
    json_t *o = json_object();
    set_bool(o, "available", k->available);
    set_str(o, "library", k->library);
    set_str(o, "events", k->events);
    set_str(o, "scope", "the devices' publishing thread (sealing and handing messages to Paho), "
                        "publish phase");
    json_object_set_new(o, "why", k->available ? json_null() : json_string(k->why));
    json_object_set_new(o, "cycles",
                        k->available ? json_integer((json_int_t)k->cycles) : json_null());
    json_object_set_new(o, "instructions",
                        k->available ? json_integer((json_int_t)k->instructions) : json_null());
    set_real(o, "wall_s", k->wall_s);
    return o;
}

static json_t *process_json(const sb_role_process *p)
{
    json_t *o = json_object();
    if (!p->known)
        return o;
    set_real(o, "cpu_user_s", p->cpu_user_s);
    set_real(o, "cpu_sys_s", p->cpu_sys_s);
    json_object_set_new(o, "peak_rss_kb", json_integer(p->peak_rss_kb));
    set_real(o, "main_thread_cpu_s", p->main_thread_cpu_s);
    return o;
}

static json_t *dataset_json(const sb_role_dataset *d)
{
    json_t *o = json_object();
    set_str(o, "path", d->path);
    set_str(o, "encoding", d->encoding);
    set_str(o, "pacing", d->pacing);
    if (d->speed > 0)
        set_real(o, "speed", d->speed);
    set_int(o, "rows_read", d->rows_read);
    set_int(o, "rows_skipped", d->rows_skipped);
    set_int(o, "records", d->records);
    set_int(o, "payload_bytes", d->payload_bytes);
    set_int(o, "payload_min_bytes", d->payload_min_bytes);
    set_int(o, "payload_max_bytes", d->payload_max_bytes);
    set_int(o, "timestamps_backwards", d->timestamps_backwards);
    set_real(o, "span_s", d->span_s);
    set_int(o, "patients", d->patients);
    json_t *map = json_object();
    for (unsigned k = 0; k < d->n_devices; k++) {
        char id[32];
        sb_device_id(d->first + k, id, sizeof id);
        set_str(map, id, d->device_names[k] ? d->device_names[k] : "");
    }
    json_object_set_new(o, "devices", map);
    return o;
}

static json_t *restart_json(const sb_role_restart *p)
{
    json_t *o = json_object();
    set_int(o, "at", p->at);
    set_str(o, "mode", p->kill ? "kill" : "graceful");
    set_real(o, "outage_s", p->outage_s);
    set_bool(o, "done", p->done);
    set_bool(o, "ok", p->ok);
    set_real(o, "took_s", p->took_s);
    return o;
}

json_t *sb_role_report_json(const sb_role_report *r)
{
    json_t *o;
    switch (r->kind) {
    case SB_ROLE_KIND_DEVICE:
        o = r->has_device ? fleet_json(&r->device) : json_object();
        if (r->counters.wanted)
            json_object_set_new(o, "counters", counting_json(&r->counters));
        json_object_set_new(o, "process", process_json(&r->process));
        json_object_set_new(o, "broker", broker_json(r));
        set_str(o, "paho", sb_mqtt_version());
        if (r->dataset.used)
            json_object_set_new(o, "dataset", dataset_json(&r->dataset));
        return o;
    case SB_ROLE_KIND_GATEWAY:
        o = r->has_gateway ? gateway_json(&r->gateway) : json_object();
        if (r->has_broker)
            json_object_set_new(o, "broker", broker_json(r));
        set_str(o, "paho", sb_mqtt_version());
        json_object_set_new(o, "process", process_json(&r->process));
        return o;
    case SB_ROLE_KIND_PAIR:
    default:
        o = json_object();
        if (r->has_broker)
            json_object_set_new(o, "broker", broker_json(r));
        if (r->has_gateway)
            json_object_set_new(o, "gateway", gateway_json(&r->gateway));
        if (r->has_device)
            json_object_set_new(o, "device", fleet_json(&r->device));
        if (r->has_device && r->counters.wanted)
            json_object_set_new(o, "counters", counting_json(&r->counters));
        if (r->has_device)
            json_object_set_new(o, "process", process_json(&r->process));
        if (r->has_device && r->dataset.used)
            json_object_set_new(o, "dataset", dataset_json(&r->dataset));
        if (r->restart.planned)
            json_object_set_new(o, "restart", restart_json(&r->restart));
        return o;
    }
}

void sb_role_report_free(sb_role_report *r)
{
    sb_fleet_report_free(&r->device);
    sb_gateway_report_free(&r->gateway);
    free(r->broker.config);
    r->broker.config = NULL;
    for (unsigned k = 0; k < r->dataset.n_devices; k++)
        free(r->dataset.device_names[k]);
    free(r->dataset.device_names);
    r->dataset.device_names = NULL;
    r->dataset.n_devices = 0;
}
