/* `sealbench cell TASK` (experiments/cell.h): one child of a cell x repetition. It turns the
 * task into a role's spec, runs the role, and from the role's typed report and the samples file
 * it wrote computes the cells.csv columns it measured. The columns are computed from the
 * samples as written, so that the row and the kept samples cannot disagree. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/stats.h"
#include "datasets/encode.h"
#include "experiments/cell.h"
#include "experiments/results.h"
#include "protocol/handshake.h"
#include "roles/roles.h"

/* ---- the task as a role's spec ----------------------------------------------------------- */

static const char *or_null(const char *s)
{
    return s[0] ? s : NULL;
}

static int link_of(const sb_cell_task *t, sb_role_link *l, char *err, size_t err_len)
{
    if (!(l->backend = sb_backend_by_name(t->backend))) {
        snprintf(err, err_len, "unknown backend '%s'", t->backend);
        return -1;
    }
    l->broker = t->broker;
    l->cafile = or_null(t->cafile);
    l->cert = or_null(t->cert);
    l->key = or_null(t->key);
    l->prefix = t->prefix;
    l->keys_path = or_null(t->keys);
    l->qos = t->qos;
    l->nagle = t->nagle;
    l->pad = (size_t)t->pad;
    l->samples_path = or_null(t->samples);
    /* The split topology measures round trips: the gateway echoes, the device waits for them. */
    l->echo = t->part != SB_PART_PAIR;
    return 0;
}

static int device_of(const sb_cell_task *t, sb_device_spec *s, char *err, size_t err_len)
{
    sb_device_spec_init(s);
    if (link_of(t, &s->link, err, err_len))
        return -1;
    if (!(s->suite = sb_suite_by_name(t->suite)) || !(s->group = sb_group_by_name(t->group))) {
        snprintf(err, err_len, "unknown suite '%s' or group '%s'", t->suite, t->group);
        return -1;
    }
    s->devices = (unsigned)t->devices;
    s->devices_set = 1;
    s->count = t->messages;
    s->count_set = 1;
    s->warmup = t->warmup;
    s->rekey_messages = t->rekey;
    s->rate_hz = t->rate_hz;
    s->counters = 1;
    if (t->dataset[0]) {
        s->dataset = t->dataset;
        if ((s->encoding = sb_encoding_parse(t->encoding)) < 0) {
            snprintf(err, err_len, "unknown encoding '%s'", t->encoding);
            return -1;
        }
    } else {
        s->size = (size_t)t->size;
    }
    return 0;
}

/* ---- the columns from the samples -------------------------------------------------------- */

/* Split one CSV line of numbers in place; empty fields become NaN. */
static int fields(char *line, double *f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *end = p + strcspn(p, ",\r\n");
        char c = *end;
        *end = 0;
        f[n++] = *p ? strtod(p, NULL) : NAN;
        if (c != ',')
            break;
        p = end + 1;
    }
    return n;
}

/* What ran, per device, for the checks against what was asked (realised()). */
typedef struct device_run {
    char id[32];
    uint64_t n;                /* measured messages */
    double t_first, t_last;    /* their seal starts, ns */
} device_run;

typedef struct sample_sums {
    sb_samples seal, open, e2e, rtt;
    uint64_t sent, received, duplicated;
    double pt_bytes, wire_bytes, t_first, t_last, pt_received;
    double pt_min, pt_max;     /* plaintext bytes of one measured message */
    device_run cur;            /* the device whose rows are being read */
    unsigned devices;          /* devices with measured messages */
    uint64_t n_min, n_max;     /* measured messages of one device */
    double rate_min, rate_max; /* one device's mean rate over its measured messages, Hz */
} sample_sums;

/* The samples file lists each device's rows together (transport/trace.c). */
static void device_end(sample_sums *s)
{
    device_run *d = &s->cur;
    if (!d->id[0])
        return;
    s->n_min = s->devices && s->n_min < d->n ? s->n_min : d->n;
    s->n_max = s->devices && s->n_max > d->n ? s->n_max : d->n;
    if (d->n >= 2 && d->t_last > d->t_first) {
        double hz = (double)(d->n - 1) / ((d->t_last - d->t_first) / 1e9);
        s->rate_min = isnan(s->rate_min) || hz < s->rate_min ? hz : s->rate_min;
        s->rate_max = isnan(s->rate_max) || hz > s->rate_max ? hz : s->rate_max;
    }
    s->devices++;
    memset(d, 0, sizeof *d);
}

/* Device rows: device,n,warmup,epoch,seq,plaintext_bytes,wire_bytes,t_seal_ns,seal_ns,
 * open_ns,e2e_ns,rtt_ns,opens (transport/trace.c). */
static int read_device_samples(const char *path, sample_sums *s, char *err, size_t err_len)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, err_len, "no samples file %.300s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    double f[13];
    s->t_first = INFINITY;
    s->t_last = -INFINITY;
    s->pt_min = INFINITY;
    s->pt_max = -INFINITY;
    s->rate_min = s->rate_max = NAN;
    if (!fgets(line, sizeof line, fp) || strncmp(line, "device,n,warmup,", 16) != 0) {
        fclose(fp);
        snprintf(err, err_len, "%.300s: not a device samples file", path);
        return -1;
    }
    int oom = 0;
    while (!oom && fgets(line, sizeof line, fp)) {
        char *comma = strchr(line, ','); /* skip the device id */
        if (!comma || fields(comma + 1, f, 12) != 12)
            continue;
        if (f[1] != 0) /* warm-up */
            continue;
        size_t idlen = (size_t)(comma - line);
        if (idlen >= sizeof s->cur.id || strncmp(s->cur.id, line, idlen) != 0 ||
            s->cur.id[idlen]) {
            device_end(s);
            snprintf(s->cur.id, sizeof s->cur.id, "%.*s", (int)idlen, line);
            s->cur.t_first = f[6];
        }
        s->cur.n++;
        s->cur.t_last = f[6];
        s->pt_min = fmin(s->pt_min, f[4]);
        s->pt_max = fmax(s->pt_max, f[4]);
        s->sent++;
        s->pt_bytes += f[4];
        s->wire_bytes += f[5];
        oom |= sb_samples_add(&s->seal, f[7]) != SB_OK;
        if (s->t_first > f[6])
            s->t_first = f[6];
        if (f[11] >= 1) {
            s->received++;
            s->pt_received += f[4];
            if (f[11] > 1)
                s->duplicated++;
            oom |= sb_samples_add(&s->open, f[8]) != SB_OK;
            oom |= sb_samples_add(&s->e2e, f[9]) != SB_OK;
            if (f[6] + f[9] > s->t_last)
                s->t_last = f[6] + f[9];
        }
        if (isfinite(f[10])) {
            oom |= sb_samples_add(&s->rtt, f[10]) != SB_OK;
            if (f[6] + f[10] > s->t_last)
                s->t_last = f[6] + f[10];
        }
    }
    fclose(fp);
    device_end(s);
    if (oom) {
        snprintf(err, err_len, "%.300s: out of memory for its samples: no statistic of a part "
                 "of them is written", path);
        return -1;
    }
    return 0;
}

/* Gateway rows (split): device,epoch,seq,open_ns,t_open_end_ns. Every open, warm-up included:
 * the gateway cannot tell which messages were warm-up. */
static int read_gateway_samples(const char *path, sb_samples *open, char *err, size_t err_len)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, err_len, "no samples file %.300s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    double f[4];
    int oom = 0;
    if (fgets(line, sizeof line, fp))
        while (!oom && fgets(line, sizeof line, fp)) {
            char *comma = strchr(line, ',');
            if (comma && fields(comma + 1, f, 4) == 4)
                oom = sb_samples_add(open, f[2]) != SB_OK;
        }
    fclose(fp);
    if (oom)
        snprintf(err, err_len, "%.300s: out of memory for its samples", path);
    return oom ? -1 : 0;
}

static void put_stats(json_t *row, const char *prefix, sb_samples *x, double div, int p95, int max)
{
    sb_stats st;
    sb_stats_of(x->v, x->n, &st);
    char k[64];
    snprintf(k, sizeof k, "%s_p50", prefix);
    sb_row_num(row, k, st.p50 / div);
    if (p95) {
        snprintf(k, sizeof k, "%s_p95", prefix);
        sb_row_num(row, k, st.p95 / div);
    }
    snprintf(k, sizeof k, "%s_p99", prefix);
    sb_row_num(row, k, st.p99 / div);
    snprintf(k, sizeof k, "%s_mean", prefix);
    sb_row_num(row, k, st.mean / div);
    if (max) {
        snprintf(k, sizeof k, "%s_max", prefix);
        sb_row_num(row, k, st.max / div);
    }
}

/* The device side's columns from its samples. Split: a message arrived when its echo came
 * back, and the opens are the gateway's (its own columns). */
static void from_samples(json_t *row, sample_sums *s, int split)
{
    if (split)
        s->received = s->rtt.n;
    sb_row_int(row, "messages_sent", (long long)s->sent);
    sb_row_int(row, "messages_received", (long long)s->received);
    sb_row_int(row, "messages_lost", (long long)(s->sent - s->received));
    sb_row_int(row, "messages_duplicated", (long long)s->duplicated);
    put_stats(row, "seal_ns", &s->seal, 1, 0, 0);
    if (!split) {
        put_stats(row, "open_ns", &s->open, 1, 0, 0);
        put_stats(row, "e2e_us", &s->e2e, 1e3, 1, 1);
    } else {
        put_stats(row, "rtt_us", &s->rtt, 1e3, 1, 0);
    }
    double span = s->t_last - s->t_first;
    sb_row_num(row, "throughput_msgs_per_s", span > 0 ? (double)s->received / (span / 1e9) : NAN);
    sb_row_num(row, "goodput_plaintext_kb_per_s",
            span > 0 && !split ? s->pt_received / 1e3 / (span / 1e9) : NAN);
    if (s->sent) {
        double pt = s->pt_bytes / (double)s->sent, wire = s->wire_bytes / (double)s->sent;
        sb_row_num(row, "plaintext_bytes_mean", pt);
        sb_row_num(row, "wire_bytes_mean", wire);
        sb_row_num(row, "overhead_bytes_mean", wire - pt);
        sb_row_num(row, "overhead_pct", pt > 0 ? 100 * (wire - pt) / pt : NAN);
    }
}

/* ---- what ran against what was asked ----------------------------------------------------- */

/* A rate this far from the one asked fails the cell. */
#define RATE_TOLERANCE 0.10

/* Every factor the samples can tell, against the task: devices, measured messages per device,
 * synthetic payload bytes, the rate. A difference sets err: one line naming the factor, what
 * was asked and what ran. (Rekey intervals: not yet; an epoch may still carry up to 2N.) */
static void realised(const sb_cell_task *t, const sb_role_report *r, const sample_sums *s,
                    char *err, size_t err_len)
{
    if (r->device.devices != t->devices) {
        snprintf(err, err_len, "devices: asked %llu, ran %u", (unsigned long long)t->devices,
                 r->device.devices);
        return;
    }
    if (s->devices != t->devices || s->n_min != t->messages || s->n_max != t->messages) {
        snprintf(err, err_len, "messages_per_device: asked %llu, realised %llu to %llu over %u "
                 "of %llu devices%s", (unsigned long long)t->messages,
                 (unsigned long long)(s->devices == t->devices ? s->n_min : 0),
                 (unsigned long long)s->n_max, s->devices, (unsigned long long)t->devices,
                 t->dataset[0] ? " (the dataset holds fewer records for some patients: ask for "
                                 "fewer messages, or use a longer dataset)" : "");
        return;
    }
    if (!t->dataset[0] && (s->pt_min != (double)t->size || s->pt_max != (double)t->size)) {
        snprintf(err, err_len, "payload bytes: asked %llu, realised %.0f to %.0f",
                 (unsigned long long)t->size, s->pt_min, s->pt_max);
        return;
    }
    if (t->rate_hz > 0 && !isnan(s->rate_min) &&
        (s->rate_min < t->rate_hz * (1 - RATE_TOLERANCE) ||
         s->rate_max > t->rate_hz * (1 + RATE_TOLERANCE))) {
        snprintf(err, err_len, "rate_hz: asked %g, realised %.3g to %.3g per device (more than "
                 "%.0f%% off: the publisher could not keep to its schedule)", t->rate_hz,
                 s->rate_min, s->rate_max, 100 * RATE_TOLERANCE);
        return;
    }
}

/* ---- the columns from the report --------------------------------------------------------- */

/* A repetition runs on one steady connection per client: no study injects faults, so a lost
 * connection fails it (a gateway that lost its connection without reconnecting would
 * otherwise leave an ok row with messages lost): err gets why, unless it holds an error. */
static void connections(json_t *row, const char *who, uint64_t losses, uint64_t reconnects,
                       int has, char *err, size_t err_len)
{
    char k[64];
    snprintf(k, sizeof k, "%s_connection_losses", who);
    sb_row_num(row, k, has ? (double)losses : NAN);
    snprintf(k, sizeof k, "%s_reconnects", who);
    sb_row_num(row, k, has ? (double)reconnects : NAN);
    if (has && losses && !err[0]) {
        snprintf(err, err_len, "the %s lost its MQTT connection %llu time%s (%llu reconnect%s): "
                 "a repetition must run on a steady connection", who,
                 (unsigned long long)losses, losses == 1 ? "" : "s",
                 (unsigned long long)reconnects, reconnects == 1 ? "" : "s");
    }
}

static void gateway_columns(json_t *row, const sb_role_report *r)
{
    double total = 0;
    for (int i = 0; i < SB_REASONS; i++) {
        char k[48];
        snprintf(k, sizeof k, "rejected_%s", sb_reason_names[i]);
        sb_row_num(row, k, r->has_gateway ? (double)r->gateway.rejected[i] : NAN);
        total += (double)r->gateway.rejected[i];
    }
    sb_row_num(row, "rejected_total", r->has_gateway ? total : NAN);
}

static void device_columns(json_t *row, const sb_cell_task *t, const sb_role_report *r)
{
    const sb_fleet_report *d = &r->device;
    int has = r->has_device;
    sb_stats hs_st, rk_st; /* NaN when out of memory: an empty cell, never a part's figure */
    sb_samples_stats(&d->handshake_ns, &hs_st);
    sb_samples_stats(&d->rekey_ns, &rk_st);
    sb_row_num(row, "handshakes", has ? (double)d->handshakes : NAN);
    sb_row_num(row, "handshake_ms_p50", has ? hs_st.p50 / 1e6 : NAN);
    sb_row_num(row, "handshake_ms_max", has ? hs_st.max / 1e6 : NAN);
    const sb_group *g = sb_group_by_name(t->group);
    size_t hs = g ? 2 * sb_hs_len(g) : 0;
    sb_row_int(row, "handshake_bytes", (long long)hs);
    sb_row_num(row, "rekeys", has ? (double)d->rekeys : NAN);
    sb_row_num(row, "rekey_ms_p50", has ? rk_st.p50 / 1e6 : NAN);
    sb_row_num(row, "rekey_ms_max", has ? rk_st.max / 1e6 : NAN);
    sb_row_num(row, "rekey_bytes_total", has ? (double)d->rekeys * (double)hs : NAN);
    sb_row_num(row, "device_thread_cpu_s",
            has && r->process.known ? r->process.main_thread_cpu_s : NAN);
    sb_row_num(row, "rss_per_session_kb",
            has && d->devices && d->rss_handshaken_kb > 0
                ? (double)(d->rss_handshaken_kb - d->rss_start_kb) / d->devices
                : NAN);
    /* The counters cover the whole publish phase, warm-up included: divide by all sent. */
    const sb_role_counting *k = &r->counters;
    if (has && k->wanted && k->available) {
        double sent = (double)d->sent, pt = (double)d->plaintext_bytes_sent;
        sb_row_num(row, "cycles_per_msg", sent > 0 ? (double)k->cycles / sent : NAN);
        sb_row_num(row, "instructions_per_msg", sent > 0 ? (double)k->instructions / sent : NAN);
        sb_row_num(row, "cycles_per_byte", pt > 0 ? (double)k->cycles / pt : NAN);
        json_object_set_new(row, "counters", json_string("papi"));
    } else {
        json_object_set_new(row, "counters",
                            json_string(k->wanted ? k->why : "counters not reported"));
    }
}

/* ---- the child --------------------------------------------------------------------------- */

/* The report is final (before the role's teardown): keep it, make the columns, print them. */
static void measured(void *ctx, const sb_role_report *r)
{
    const sb_cell_task *t = ctx;
    if (r->error[0])
        fprintf(stderr, "sealbench %s: %s\n", sb_cell_part_name(t->part), r->error);
    json_t *rep = sb_role_report_json(r);
    if (json_dump_file(rep, t->report, JSON_COMPACT) != 0)
        fprintf(stderr, "sealbench %s: cannot write its report %s\n", sb_cell_part_name(t->part),
                t->report);
    json_decref(rep);

    json_t *row = json_object();
    char why[600] = "", samples_why[600] = "";
    if (t->part != SB_PART_DEVICE)
        connections(row, "gateway", r->gateway.connection_losses, r->gateway.reconnects,
                    r->has_gateway, why, sizeof why);
    if (t->part != SB_PART_GATEWAY)
        connections(row, "device", r->device.connection_losses, r->device.reconnects,
                    r->has_device, why, sizeof why);
    if (t->part == SB_PART_GATEWAY) {
        sb_samples open = {0};
        gateway_columns(row, r);
        if (r->has_gateway &&
            read_gateway_samples(t->samples, &open, samples_why, sizeof samples_why) == 0)
            put_stats(row, "open_ns", &open, 1, 0, 0);
        sb_samples_free(&open);
    } else {
        sample_sums s = {0};
        int split = t->part == SB_PART_DEVICE;
        if (!split)
            gateway_columns(row, r);
        device_columns(row, t, r);
        if (r->has_device &&
            read_device_samples(t->samples, &s, samples_why, sizeof samples_why) == 0) {
            from_samples(row, &s, split);
            /* a row must not claim what did not run */
            realised(t, r, &s, samples_why, sizeof samples_why);
        }
        if (r->dataset.used)
            sb_row_int(row, "patients", r->dataset.patients);
        sb_samples_free(&s.seal);
        sb_samples_free(&s.open);
        sb_samples_free(&s.e2e);
        sb_samples_free(&s.rtt);
    }
    if (samples_why[0] && !why[0]) /* the first thing that went wrong */
        snprintf(why, sizeof why, "%s", samples_why);
    /* A row without its statistics, or of a cell that did not run as asked, must not pass for
     * a measured one. */
    json_t *out = json_pack("{s:o, s:s}", "columns", row, "error", why);
    json_dumpf(out, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(out);
}

static void ready(void *ctx, const sb_role_broker *b)
{
    fputs("ready\n", stdout);
    fflush(stdout);
}

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    stop_flag = sig;
}

int sb_cell_child(const char *task_path)
{
    char err[600];
    sb_cell_task t;
    if (sb_cell_task_read(&t, task_path, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench cell: %s\n", err);
        return 2;
    }
    /* The runner stops a gateway with SIGINT, and a wedged child with SIGTERM. */
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sb_role_report r;
    int rc = 1;
    if (t.part == SB_PART_GATEWAY) {
        sb_gateway_spec s;
        sb_gateway_spec_init(&s);
        const sb_suite *su = sb_suite_by_name(t.suite);
        const sb_group *gr = sb_group_by_name(t.group);
        if (link_of(&t, &s.link, err, sizeof err) || !su || !gr) {
            fprintf(stderr, "sealbench cell: %s: %s\n", task_path,
                    su && gr ? err : "unknown suite or group");
            return 2;
        }
        /* Its policy is exactly what the cell measures: the null baseline is never accepted
         * unless asked for. */
        s.policy.suites = 1u << su->id;
        s.policy.groups = 1u << gr->id;
        s.ready = ready;
        s.link.measured = measured;
        s.link.measured_ctx = &t;
        rc = sb_role_gateway(&s, &stop_flag, &r);
    } else {
        sb_pair_spec s;
        sb_pair_spec_init(&s);
        if (device_of(&t, &s.device, err, sizeof err)) {
            fprintf(stderr, "sealbench cell: %s: %s\n", task_path, err);
            return 2;
        }
        s.device.link.measured = measured;
        s.device.link.measured_ctx = &t;
        rc = t.part == SB_PART_PAIR ? sb_role_pair(&s, &stop_flag, &r)
                                    : sb_role_device(&s.device, &stop_flag, &r);
    }
    sb_role_report_free(&r);
    return rc;
}
