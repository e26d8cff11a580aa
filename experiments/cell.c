/* One cell x repetition (experiments/cell.h): the children's tasks, running them with a
 * timeout, and the cells.csv row from their columns and what the runner sees of them. */
#include "experiments/cell.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/err.h"
#include "common/proc.h"
#include "common/util.h"
#include "experiments/results.h"

/* The task of one child: the cell's settings, its topics, and where its outputs go. */
static void task_of(const sb_cell_env *env, const sb_cell *c, unsigned order, sb_cell_part part,
                    const char *report, const char *samples, sb_cell_task *t)
{
    memset(t, 0, sizeof *t);
    t->part = part;
    snprintf(t->broker, sizeof t->broker, "%s", env->broker_uri);
    snprintf(t->cafile, sizeof t->cafile, "%s", env->cafile ? env->cafile : "");
    snprintf(t->cert, sizeof t->cert, "%s", env->cert ? env->cert : "");
    snprintf(t->key, sizeof t->key, "%s", env->key ? env->key : "");
    /* Topics of their own per cell: a late message of one cell can never reach the next. */
    snprintf(t->prefix, sizeof t->prefix, "sealbench/%s/%u", env->run_id, order);
    snprintf(t->backend, sizeof t->backend, "%s", c->be->name);
    snprintf(t->suite, sizeof t->suite, "%s", c->suite->name);
    snprintf(t->group, sizeof t->group, "%s", c->group->name);
    snprintf(t->keys, sizeof t->keys, "%s", c->psk ? env->keys_path : "");
    t->qos = c->qos;
    t->nagle = env->nagle;
    t->pad = c->pad;
    t->devices = c->devices;
    t->messages = c->messages;
    t->warmup = c->warmup;
    t->rekey = c->rekey;
    t->rate_hz = c->rate_hz;
    if (c->payload->kind == SB_PAYLOAD_SIZE) {
        t->size = c->payload->size;
    } else {
        snprintf(t->dataset, sizeof t->dataset, "%s", c->payload->dataset);
        snprintf(t->encoding, sizeof t->encoding, "%s", c->payload->encoding);
    }
    snprintf(t->report, sizeof t->report, "%s", report);
    snprintf(t->samples, sizeof t->samples, "%s", samples);
}

/* ---- children ------------------------------------------------------------------------------ */

/* Write the task and start `sealbench cell TASK`, its stdout a pipe (its columns) and its
 * stderr the cell's log. The pid is -1 when it cannot be started, with the reason in the log. */
static void spawn(sb_proc *k, const sb_self *self, const sb_cell_task *t, const char *task_path,
                  const char *log_path)
{
    char err[512] = "out of memory";
    char *args[] = {"sealbench", "cell", (char *)task_path, NULL};
    const char *path = NULL;
    char **argv = NULL;
    k->pid = -1;
    if (sb_cell_task_write(t, task_path, err, sizeof err) == SB_OK &&
        (argv = sb_self_argv(self, args, &path)) != NULL) {
        sb_proc_spec spec = {.path = path, .argv = argv, .in = SB_IO_INHERIT, .out = SB_IO_PIPE,
                             .err = SB_IO_APPEND, .err_path = log_path};
        if (sb_proc_spawn(k, &spec, err, sizeof err) == SB_OK)
            err[0] = 0;
    }
    if (err[0]) {
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
static int reap(sb_proc *k, uint64_t deadline_ns, volatile sig_atomic_t *stop, char *out,
                size_t cap)
{
    sb_proc_wait_opts w = {.deadline_ns = deadline_ns, .term_sig = SIGTERM, .stop = stop,
                           .stop_sig = SIGINT, .grace_s = 5.0, .out = out, .cap = cap};
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
        else if (line[0])
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

static void factors(json_t *row, const sb_cell_env *env, const sb_cell *c, unsigned rep,
                    unsigned order)
{
    json_object_set_new(row, "run_id", json_string(env->run_id));
    json_object_set_new(row, "cell_id", json_string(c->id));
    json_object_set_new(row, "study", json_string(c->study));
    sb_row_int(row, "repetition", rep);
    sb_row_int(row, "run_order", order);
    json_object_set_new(row, "backend", json_string(c->be->name));
    json_object_set_new(row, "suite", json_string(c->suite->name));
    json_object_set_new(row, "group", json_string(c->group->name));
    json_object_set_new(row, "auth", json_string(c->psk ? "psk" : "none"));
    json_object_set_new(row, "payload", json_string(c->payload->label));
    json_object_set_new(row, "encoding", json_string(c->payload->kind == SB_PAYLOAD_SIZE
                                                         ? "synthetic"
                                                         : c->payload->encoding));
    sb_row_int(row, "pad_bytes", (long long)c->pad);
    sb_row_int(row, "qos", c->qos);
    sb_row_int(row, "rekey_messages", (long long)c->rekey);
    sb_row_num(row, "rate_hz", c->rate_hz);
    sb_row_int(row, "devices", c->devices);
    json_object_set_new(row, "topology",
                        json_string(c->topology == SB_TOPO_INPROC ? "inproc" : "split"));
    sb_row_int(row, "messages_per_device", (long long)c->messages);
    sb_row_int(row, "warmup_per_device", (long long)c->warmup);
}

/* A child's columns ({"columns": {...}, "error": "..."} on its stdout) into the row. -1 when
 * it printed none; *why gets its error (samples, a factor that did not run as asked, a lost
 * connection) unless it holds one already. */
static int take_columns(json_t *row, const char *printed, char *why, size_t why_len)
{
    json_t *o = json_loads(printed, JSON_DISABLE_EOF_CHECK, NULL);
    json_t *cols = json_object_get(o, "columns");
    json_t *serr = json_object_get(o, "error");
    int rc = -1;
    if (json_is_object(cols)) {
        json_object_update(row, cols);
        if (json_is_string(serr) && json_string_value(serr)[0] && !why[0])
            snprintf(why, why_len, "%s", json_string_value(serr));
        rc = 0;
    }
    json_decref(o);
    return rc;
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

json_t *sb_cell_run(const sb_cell_env *env, const sb_cell *c, unsigned rep, unsigned order,
                    json_t **output)
{
    *output = NULL;
    json_t *row = json_object();
    factors(row, env, c, rep, order);
    json_object_set_new(row, "status", json_string("ok"));
    json_object_set_new(row, "error", json_string(""));

    char base[4096], samples[4200], out[4200], log[4200], gsamples[4200], gout[4200];
    char task[4200], gtask[4200];
    snprintf(base, sizeof base, "%s/samples", env->dir);
    mkdir(base, 0777);
    snprintf(samples, sizeof samples, "%s/samples/%s.r%u.csv", env->dir, c->id, rep);
    snprintf(gsamples, sizeof gsamples, "%s/samples/%s.r%u-gateway.csv", env->dir, c->id, rep);
    snprintf(base, sizeof base, "%s/logs", env->dir);
    mkdir(base, 0777);
    snprintf(out, sizeof out, "%s/logs/%s.r%u.out", env->dir, c->id, rep);
    snprintf(gout, sizeof gout, "%s/logs/%s.r%u-gateway.out", env->dir, c->id, rep);
    snprintf(log, sizeof log, "%s/logs/%s.r%u.log", env->dir, c->id, rep);
    snprintf(task, sizeof task, "%s/logs/%s.r%u.task.json", env->dir, c->id, rep);
    snprintf(gtask, sizeof gtask, "%s/logs/%s.r%u-gateway.task.json", env->dir, c->id, rep);
    remove(log);
    remove(out);
    remove(gout);

    /* Generous: a cell that takes twenty times its estimate is wedged, not slow. */
    double limit_s = 60 + 20 * c->estimate_s;
    double b0 = broker_cpu_s(env->broker_pid);
    uint64_t t0 = sb_now_ns();
    uint64_t deadline = t0 + (uint64_t)(limit_s * 1e9);
    sb_proc dev = {.pid = -1, .out_fd = -1}, gw = {.pid = -1, .out_fd = -1};
    int split = c->topology == SB_TOPO_SPLIT;
    int timed_out = 0, gw_up = !split;
    sb_cell_task t;
    /* What each child prints: its columns, one JSON object of a few kB. */
    char dev_cols[65536] = "", gw_cols[65536] = "";

    if (split) {
        task_of(env, c, order, SB_PART_GATEWAY, gout, gsamples, &t);
        spawn(&gw, env->self, &t, gtask, log);
        char line[64];
        /* At most 15 s to subscribe. */
        gw_up = gw.pid > 0 && sb_proc_read_line(&gw, line, sizeof line,
                                                sb_now_ns() + UINT64_C(15000000000)) &&
                strcmp(line, "ready") == 0;
    }
    if (gw_up) {
        task_of(env, c, order, split ? SB_PART_DEVICE : SB_PART_PAIR, out, samples, &t);
        spawn(&dev, env->self, &t, task, log);
    }
    if (dev.pid > 0 && reap(&dev, deadline, env->stop, dev_cols, sizeof dev_cols) < 0)
        timed_out = 1;
    if (split && gw.pid > 0) {
        sb_proc_signal(&gw, SIGINT); /* it writes its report and samples, then exits */
        reap(&gw, sb_now_ns() + UINT64_C(20000000000), NULL, gw_cols, sizeof gw_cols);
    }
    double wall = (double)(sb_now_ns() - t0) / 1e9;
    double b1 = broker_cpu_s(env->broker_pid);
    if (env->stop && *env->stop) {
        json_decref(row);
        return NULL;
    }

    sb_row_num(row, "wall_s", wall);
    sb_row_num(row, "broker_cpu_s", b1 - b0);
    if (dev.done) {
        double u = tv_s(dev.ru.ru_utime), s = tv_s(dev.ru.ru_stime);
        sb_row_num(row, "cpu_user_s", u);
        sb_row_num(row, "cpu_sys_s", s);
        sb_row_num(row, "cpu_pct", wall > 0 ? 100 * (u + s) / wall : NAN);
        sb_row_int(row, "peak_rss_kb", dev.ru.ru_maxrss);
    }
    if (split && gw.done) {
        sb_row_num(row, "gateway_cpu_user_s", tv_s(gw.ru.ru_utime));
        sb_row_num(row, "gateway_cpu_sys_s", tv_s(gw.ru.ru_stime));
    }

    /* The reports as the children wrote them, kept in raw/ as they are. */
    json_t *dj = json_load_file(out, 0, NULL);
    json_t *gj = split ? json_load_file(gout, 0, NULL) : NULL;
    *output = json_object();
    json_object_set(*output, split ? "device" : "pair", dj ? dj : json_null());
    if (split)
        json_object_set(*output, "gateway", gj ? gj : json_null());

    char why[600], samples_why[600] = "";
    int have_cols = dev.pid > 0 && take_columns(row, dev_cols, samples_why,
                                                sizeof samples_why) == 0;
    int have_gw_cols = !split || (gw.pid > 0 && take_columns(row, gw_cols, samples_why,
                                                             sizeof samples_why) == 0);

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
    } else if (!dj || !have_cols) {
        fail(row, "no report from the %s process (see %s)", split ? "device" : "pair", out);
    } else if (!have_gw_cols) {
        last_line(log, why, sizeof why);
        fail(row, "no report from the gateway process: %s", why[0] ? why : "no message");
    } else if (samples_why[0]) { /* a row without its statistics must not pass for a measured one */
        fail(row, "%s", samples_why);
    }
    json_decref(dj);
    json_decref(gj);
    return row;
}
