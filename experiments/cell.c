/* One cell x repetition (experiments/cell.h): argv for the children, running them with a
 * timeout, and the cells.csv row from their JSON and samples. */
#include "experiments/cell.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/proc.h"
#include "common/stats.h"
#include "common/util.h"
#include "experiments/results.h"
#include "protocol/handshake.h"

#define MAX_ARGS 96

typedef struct argv_b {
    char *v[MAX_ARGS + 1];
    int n;
} argv_b;

static void add(argv_b *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(argv_b *a, const char *fmt, ...)
{
    if (a->n >= MAX_ARGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&a->v[a->n], fmt, ap) >= 0)
        a->n++;
    va_end(ap);
}

static void argv_free(argv_b *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

/* The flags both roles share: broker, prefix, backend, auth, QoS, padding. */
static void common_args(argv_b *a, const sb_cell_env *env, const sb_cell *c, unsigned order)
{
    add(a, "--broker");
    add(a, "%s", env->broker_uri);
    for (const char *const *t = env->tls_args; t && *t; t++)
        add(a, "%s", *t);
    /* Topics of their own per cell: a late message of one cell can never reach the next. */
    add(a, "--prefix");
    add(a, "sealbench/%s/%u", env->run_id, order);
    add(a, "--backend");
    add(a, "%s", c->be->name);
    if (c->psk) {
        add(a, "--keys");
        add(a, "%s", env->keys_path);
    } else {
        add(a, "--no-auth");
    }
    add(a, "--qos");
    add(a, "%d", c->qos);
    if (env->nagle)
        add(a, "--nagle");
    if (c->pad) {
        add(a, "--pad");
        add(a, "%zu", c->pad);
    }
}

static void device_args(argv_b *a, const sb_cell *c, const char *samples)
{
    add(a, "--suite");
    add(a, "%s", c->suite->name);
    add(a, "--group");
    add(a, "%s", c->group->name);
    add(a, "--devices");
    add(a, "%u", c->devices);
    add(a, "--count");
    add(a, "%llu", (unsigned long long)c->messages);
    add(a, "--warmup");
    add(a, "%llu", (unsigned long long)c->warmup);
    if (c->payload->kind == SB_PAYLOAD_SIZE) {
        add(a, "--size");
        add(a, "%zu", c->payload->size);
    } else {
        add(a, "--dataset");
        add(a, "%s", c->payload->dataset);
        add(a, "--encoding");
        add(a, "%s", c->payload->encoding);
    }
    if (c->rekey) {
        add(a, "--rekey-messages");
        add(a, "%llu", (unsigned long long)c->rekey);
    }
    if (c->rate_hz > 0) {
        add(a, "--rate");
        add(a, "%.17g", c->rate_hz);
    }
    add(a, "--samples");
    add(a, "%s", samples);
    add(a, "--counters");
}

/* ---- children ------------------------------------------------------------------------------ */

/* Start one role: its argv made before, its stdout to out_path (its JSON) and its stderr to
 * the cell's log. The pid is -1 when it cannot be started, with the reason in the log. */
static void spawn(sb_proc *k, const sb_self *self, argv_b *a, const char *out_path,
                  const char *log_path)
{
    a->v[a->n] = NULL;
    const char *path = NULL;
    char **argv = sb_self_argv(self, a->v, &path);
    char err[512] = "out of memory";
    sb_proc_spec spec = {.path = path, .argv = argv, .in = SB_IO_INHERIT, .out = SB_IO_TRUNCATE,
                         .out_path = out_path, .err = SB_IO_APPEND, .err_path = log_path};
    if (!argv || sb_proc_spawn(k, &spec, err, sizeof err) != SB_OK) {
        k->pid = -1;
        FILE *fp = fopen(log_path, "a");
        if (fp) {
            fprintf(fp, "%s\n", err);
            fclose(fp);
        }
    }
    free(argv);
}

/* Wait for k, giving up at deadline (then SIGTERM, and SIGKILL 5 s later) or when *stop is set
 * (SIGINT, so that the child still prints what it measured). 0: exited; -1: timed out or
 * stopped. */
static int reap(sb_proc *k, uint64_t deadline_ns, volatile sig_atomic_t *stop)
{
    sb_proc_wait_opts w = {.deadline_ns = deadline_ns, .term_sig = SIGTERM, .stop = stop,
                           .stop_sig = SIGINT, .grace_s = 5.0};
    return sb_proc_wait(k, &w) == SB_PROC_EXITED ? 0 : -1;
}

/* The child's last words. qemu-user's own "uncaught target signal" line comes after what the
 * program said before it died (glibc's "double free", say), so that earlier line is kept and
 * qemu's is appended. */
static void last_line(const char *path, char *out, size_t cap)
{
    out[0] = 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    char line[600], said[600] = "", emu[600] = "";
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "qemu: ", 6) == 0)
            snprintf(emu, sizeof emu, "%s", line);
        else if (line[0] && strncmp(line, "gateway: ", 9) != 0)
            snprintf(said, sizeof said, "%s", line);
    }
    fclose(fp);
    if (said[0] && emu[0])
        snprintf(out, cap, "%s (%s)", said, emu);
    else
        snprintf(out, cap, "%s", said[0] ? said : emu);
}

static double broker_cpu_s(pid_t pid)
{
    double u, sy;
    return pid && sb_proc_cpu((long)pid, &u, &sy) == 0 ? u + sy : NAN;
}

/* ---- the row ------------------------------------------------------------------------------- */

static void set_num(json_t *row, const char *k, double v)
{
    json_object_set_new(row, k, isfinite(v) ? json_real(v) : json_null());
}

static void set_int(json_t *row, const char *k, long long v)
{
    json_object_set_new(row, k, json_integer(v));
}

static double jnum(json_t *o, const char *path)
{
    /* "a.b.c" */
    char key[64];
    const char *p = path;
    while (o && *p) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        o = json_object_get(o, key);
        p += n + (p[n] == '.');
    }
    return json_is_number(o) ? json_number_value(o) : NAN;
}

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

typedef struct sample_sums {
    sb_samples seal, open, e2e, rtt;
    uint64_t sent, received, duplicated;
    double pt_bytes, wire_bytes, t_first, t_last, pt_received;
} sample_sums;

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
        if (isfinite(f[10]) && f[1] == 0) {
            oom |= sb_samples_add(&s->rtt, f[10]) != SB_OK;
            if (f[6] + f[10] > s->t_last)
                s->t_last = f[6] + f[10];
        }
    }
    fclose(fp);
    if (oom) {
        snprintf(err, err_len, "%.300s: out of memory for its samples: no statistic of a part "
                 "of them is written", path);
        return -1;
    }
    return 0;
}

/* Gateway rows (split): device,epoch,seq,open_ns,t_open_end_ns. Every open, warm-up included:
 * the gateway cannot tell which messages were warm-up. A missing file leaves open as the
 * device's; -1 only when its values cannot all be held. */
static int read_gateway_samples(const char *path, sb_samples *open, char *err, size_t err_len)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
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
    set_num(row, k, st.p50 / div);
    if (p95) {
        snprintf(k, sizeof k, "%s_p95", prefix);
        set_num(row, k, st.p95 / div);
    }
    snprintf(k, sizeof k, "%s_p99", prefix);
    set_num(row, k, st.p99 / div);
    snprintf(k, sizeof k, "%s_mean", prefix);
    set_num(row, k, st.mean / div);
    if (max) {
        snprintf(k, sizeof k, "%s_max", prefix);
        set_num(row, k, st.max / div);
    }
}

static void factors(json_t *row, const sb_cell_env *env, const sb_cell *c, unsigned rep,
                    unsigned order)
{
    json_object_set_new(row, "run_id", json_string(env->run_id));
    json_object_set_new(row, "cell_id", json_string(c->id));
    json_object_set_new(row, "study", json_string(c->study));
    set_int(row, "repetition", rep);
    set_int(row, "run_order", order);
    json_object_set_new(row, "backend", json_string(c->be->name));
    json_object_set_new(row, "suite", json_string(c->suite->name));
    json_object_set_new(row, "group", json_string(c->group->name));
    json_object_set_new(row, "auth", json_string(c->psk ? "psk" : "none"));
    json_object_set_new(row, "payload", json_string(c->payload->label));
    json_object_set_new(row, "encoding", json_string(c->payload->kind == SB_PAYLOAD_SIZE
                                                         ? "synthetic"
                                                         : c->payload->encoding));
    set_int(row, "pad_bytes", (long long)c->pad);
    set_int(row, "qos", c->qos);
    set_int(row, "rekey_messages", (long long)c->rekey);
    set_num(row, "rate_hz", c->rate_hz);
    set_int(row, "devices", c->devices);
    json_object_set_new(row, "topology",
                        json_string(c->topology == SB_TOPO_INPROC ? "inproc" : "split"));
    set_int(row, "messages_per_device", (long long)c->messages);
    set_int(row, "warmup_per_device", (long long)c->warmup);
}

/* Figures from the children's JSON: device is the fleet's object, gateway the gateway's. */
static void from_json(json_t *row, const sb_cell *c, json_t *device, json_t *gateway,
                      json_t *counters, json_t *process)
{
    json_t *rej = json_object_get(gateway, "rejected");
    double total = 0;
    for (int i = 0; i < SB_REASONS; i++) {
        char k[48];
        snprintf(k, sizeof k, "rejected_%s", sb_reason_names[i]);
        double v = jnum(rej, sb_reason_names[i]);
        set_num(row, k, v);
        if (isfinite(v))
            total += v;
    }
    set_num(row, "rejected_total", rej ? total : NAN);
    set_num(row, "handshakes", jnum(device, "handshakes"));
    set_num(row, "handshake_ms_p50", jnum(device, "handshake_latency.p50_ms"));
    set_num(row, "handshake_ms_max", jnum(device, "handshake_latency.max_ms"));
    size_t hs = 2 * sb_hs_len(c->group);
    set_int(row, "handshake_bytes", (long long)hs);
    double rk = jnum(device, "rekeys");
    set_num(row, "rekeys", rk);
    set_num(row, "rekey_ms_p50", jnum(device, "rekey_latency.p50_ms"));
    set_num(row, "rekey_ms_max", jnum(device, "rekey_latency.max_ms"));
    set_num(row, "rekey_bytes_total", rk * (double)hs);
    set_num(row, "device_thread_cpu_s", jnum(process, "main_thread_cpu_s"));
    set_num(row, "rss_per_session_kb", jnum(device, "rss.per_device_kb"));
    /* The counters cover the whole publish phase, warm-up included: divide by all sent. */
    double sent_all = jnum(device, "sent"), pt_all = jnum(device, "plaintext_bytes_sent");
    if (counters && json_is_true(json_object_get(counters, "available"))) {
        double cyc = jnum(counters, "cycles"), ins = jnum(counters, "instructions");
        set_num(row, "cycles_per_msg", sent_all > 0 ? cyc / sent_all : NAN);
        set_num(row, "instructions_per_msg", sent_all > 0 ? ins / sent_all : NAN);
        set_num(row, "cycles_per_byte", pt_all > 0 ? cyc / pt_all : NAN);
        json_object_set_new(row, "counters", json_string("papi"));
    } else {
        json_t *why = json_object_get(counters, "why");
        json_object_set_new(row, "counters",
                            json_string(json_is_string(why) ? json_string_value(why)
                                                            : "counters not reported"));
    }
}

static void from_samples(json_t *row, sample_sums *s, int split)
{
    /* Split roles: the device's file knows a message arrived when its echo came back. */
    if (split)
        s->received = s->rtt.n;
    set_int(row, "messages_sent", (long long)s->sent);
    set_int(row, "messages_received", (long long)s->received);
    set_int(row, "messages_lost", (long long)(s->sent - s->received));
    set_int(row, "messages_duplicated", (long long)s->duplicated);
    put_stats(row, "seal_ns", &s->seal, 1, 0, 0);
    put_stats(row, "open_ns", &s->open, 1, 0, 0);
    if (!split)
        put_stats(row, "e2e_us", &s->e2e, 1e3, 1, 1);
    else
        put_stats(row, "rtt_us", &s->rtt, 1e3, 1, 0);
    double span = s->t_last - s->t_first;
    uint64_t got = split ? s->rtt.n : s->received;
    set_num(row, "throughput_msgs_per_s", span > 0 ? (double)got / (span / 1e9) : NAN);
    set_num(row, "goodput_plaintext_kb_per_s",
            span > 0 && !split ? s->pt_received / 1e3 / (span / 1e9) : NAN);
    if (s->sent) {
        double pt = s->pt_bytes / (double)s->sent, wire = s->wire_bytes / (double)s->sent;
        set_num(row, "plaintext_bytes_mean", pt);
        set_num(row, "wire_bytes_mean", wire);
        set_num(row, "overhead_bytes_mean", wire - pt);
        set_num(row, "overhead_pct", pt > 0 ? 100 * (wire - pt) / pt : NAN);
    }
}

static void sums_free(sample_sums *s)
{
    sb_samples_free(&s->seal);
    sb_samples_free(&s->open);
    sb_samples_free(&s->e2e);
    sb_samples_free(&s->rtt);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void fail(json_t *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(json_t *row, const char *fmt, ...)
{
    char buf[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_object_set_new(row, "status", json_string("failed"));
    json_object_set_new(row, "error", json_string(buf));
}

/* Wait until the gateway says it is subscribed (its stderr line), at most 15 s. */
static int gateway_ready(const char *log, sb_proc *gw)
{
    for (int i = 0; i < 750; i++) {
        FILE *fp = fopen(log, "r");
        char line[600];
        int ready = 0;
        while (fp && fgets(line, sizeof line, fp))
            if (strncmp(line, "gateway: ready", 14) == 0)
                ready = 1;
        if (fp)
            fclose(fp);
        if (ready)
            return 1;
        if (sb_proc_poll(gw))
            return 0;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

json_t *sb_cell_run(const sb_cell_env *env, const sb_cell *c, unsigned rep, unsigned order,
                    json_t **output)
{
    *output = NULL;
    json_t *row = json_object();
    factors(row, env, c, rep, order);
    json_object_set_new(row, "status", json_string("ok"));
    json_object_set_new(row, "error", json_string(""));

    char base[4096], samples[4200], out[4200], log[4200], gsamples[4200], gout[4200];
    snprintf(base, sizeof base, "%s/samples", env->dir);
    mkdir(base, 0777);
    snprintf(samples, sizeof samples, "%s/samples/%s.r%u.csv", env->dir, c->id, rep);
    snprintf(gsamples, sizeof gsamples, "%s/samples/%s.r%u-gateway.csv", env->dir, c->id, rep);
    snprintf(base, sizeof base, "%s/logs", env->dir);
    mkdir(base, 0777);
    snprintf(out, sizeof out, "%s/logs/%s.r%u.out", env->dir, c->id, rep);
    snprintf(gout, sizeof gout, "%s/logs/%s.r%u-gateway.out", env->dir, c->id, rep);
    snprintf(log, sizeof log, "%s/logs/%s.r%u.log", env->dir, c->id, rep);
    remove(log);

    /* Generous: a cell that takes twenty times its estimate is wedged, not slow. */
    double limit_s = 60 + 20 * c->estimate_s;
    double b0 = broker_cpu_s(env->broker_pid);
    uint64_t t0 = sb_now_ns();
    uint64_t deadline = t0 + (uint64_t)(limit_s * 1e9);
    argv_b a = {0}, g = {0};
    sb_proc dev = {.pid = -1, .out_fd = -1}, gw = {.pid = -1, .out_fd = -1};
    int split = c->topology == SB_TOPO_SPLIT;
    int timed_out = 0;

    if (!split) {
        add(&a, "sealbench");
        add(&a, "pair");
        common_args(&a, env, c, order);
        device_args(&a, c, samples);
        spawn(&dev, env->self, &a, out, log);
    } else {
        add(&g, "sealbench");
        add(&g, "gateway");
        common_args(&g, env, c, order);
        add(&g, "--echo");
        /* The gateway's policy: exactly what the cell measures (the null baseline is never
         * accepted unless asked for). */
        add(&g, "--suite");
        add(&g, "%s", c->suite->name);
        add(&g, "--group");
        add(&g, "%s", c->group->name);
        add(&g, "--samples");
        add(&g, "%s", gsamples);
        spawn(&gw, env->self, &g, gout, log);
        if (gw.pid > 0 && gateway_ready(log, &gw)) {
            add(&a, "sealbench");
            add(&a, "device");
            common_args(&a, env, c, order);
            device_args(&a, c, samples);
            add(&a, "--echo");
            spawn(&dev, env->self, &a, out, log);
        }
    }
    if (dev.pid > 0 && reap(&dev, deadline, env->stop) < 0)
        timed_out = 1;
    if (split && gw.pid > 0) {
        sb_proc_signal(&gw, SIGINT); /* it prints its JSON and its samples, then exits */
        reap(&gw, sb_now_ns() + UINT64_C(20000000000), NULL);
    }
    double wall = (double)(sb_now_ns() - t0) / 1e9;
    double b1 = broker_cpu_s(env->broker_pid);
    argv_free(&a);
    argv_free(&g);
    if (env->stop && *env->stop) {
        json_decref(row);
        return NULL;
    }

    set_num(row, "wall_s", wall);
    set_num(row, "broker_cpu_s", b1 - b0);
    if (dev.done) {
        double u = tv_s(dev.ru.ru_utime), s = tv_s(dev.ru.ru_stime);
        set_num(row, "cpu_user_s", u);
        set_num(row, "cpu_sys_s", s);
        set_num(row, "cpu_pct", wall > 0 ? 100 * (u + s) / wall : NAN);
        set_int(row, "peak_rss_kb", dev.ru.ru_maxrss);
    }
    if (split && gw.done) {
        set_num(row, "gateway_cpu_user_s", tv_s(gw.ru.ru_utime));
        set_num(row, "gateway_cpu_sys_s", tv_s(gw.ru.ru_stime));
    }

    json_t *dj = json_load_file(out, 0, NULL);
    json_t *gj = split ? json_load_file(gout, 0, NULL) : NULL;
    json_t *device = split ? dj : json_object_get(dj, "device");
    json_t *gateway = split ? gj : json_object_get(dj, "gateway");
    *output = json_object();
    json_object_set(*output, split ? "device" : "pair", dj ? dj : json_null());
    if (split)
        json_object_set(*output, "gateway", gj ? gj : json_null());

    char why[600], samples_why[600] = "";
    sample_sums s = {0};
    int samples_ok = read_device_samples(samples, &s, samples_why, sizeof samples_why) == 0 &&
                     (!split || read_gateway_samples(gsamples, &s.open, samples_why,
                                                     sizeof samples_why) == 0);
    if (samples_ok)
        from_samples(row, &s, split);
    from_json(row, c, device, gateway, json_object_get(dj, "counters"),
              json_object_get(dj, "process"));
    sums_free(&s);

    int code = dev.done && WIFEXITED(dev.status) ? WEXITSTATUS(dev.status) : -1;
    if (dev.pid <= 0) {
        last_line(log, why, sizeof why);
        fail(row, "the gateway did not come up: %s", why[0] ? why : "no output");
    } else if (timed_out) {
        fail(row, "timed out after %.0f s (about %.1f s expected); stopped", limit_s,
             c->estimate_s);
    } else if (code != 0) {
        last_line(log, why, sizeof why);
        if (dev.done && WIFSIGNALED(dev.status))
            fail(row, "the %s process died of signal %d: %s (its log: logs/%s.r%u.log)",
                 split ? "device" : "pair", WTERMSIG(dev.status), why[0] ? why : "no message",
                 c->id, rep);
        else
            fail(row, "the %s process exited %d: %s", split ? "device" : "pair", code,
                 why[0] ? why : "no message");
    } else if (!dj) {
        fail(row, "no JSON from the %s process (see %s)", split ? "device" : "pair", out);
    } else if (!samples_ok) { /* a row without its statistics must not pass for a measured one */
        fail(row, "%s", samples_why);
    }
    json_decref(dj);
    json_decref(gj);
    return row;
}
