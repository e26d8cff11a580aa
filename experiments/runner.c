/* The experiment runner (experiments/runner.h). */
#include "experiments/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/proc.h"
#include "common/util.h"
#include "experiments/cell.h"
#include "experiments/config.h"
#include "experiments/manifest.h"
#include "experiments/results.h"
#include "transport/broker.h"

/* Where the run says what it does (sb_run_opts.log) and how it is told to stop (.stop): set
 * once by sb_run for its helpers. */
static FILE *g_log;
static volatile sig_atomic_t *g_stop;

/* splitmix64: the shuffle must be the same for the same seed on every machine. */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

typedef struct slot {
    size_t cell;
    unsigned rep;
} slot;

static void fmt_duration(double s, char *out, size_t cap)
{
    if (s < 90)
        snprintf(out, cap, "%.0f s", s);
    else if (s < 5400)
        snprintf(out, cap, "%.1f min", s / 60);
    else
        snprintf(out, cap, "%.1f h", s / 3600);
}

/* PSKs for every device any cell uses, in a private temporary folder (mode 0700): keys are
 * secrets even in a benchmark, so they never go into results/ and are wiped at the end. */
static int make_keys(unsigned devices, char *dir, size_t dcap, char *path, size_t pcap)
{
    snprintf(dir, dcap, "/tmp/sealbench-keys-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, pcap, "%s/keys", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    FILE *fp = fdopen(fd, "w");
    const sb_backend *be = sb_backends[0];
    if (be->setup)
        be->setup();
    int rc = 0;
    for (unsigned i = 1; i <= devices && rc == 0; i++) {
        uint8_t psk[32];
        char hex[65], id[32];
        if (be->random(psk, sizeof psk) != SB_OK)
            rc = -1;
        sb_hex_encode(psk, sizeof psk, hex);
        sb_wipe(psk, sizeof psk);
        snprintf(id, sizeof id, "dev-%04u", i);
        fprintf(fp, "%s %s\n", id, hex);
        sb_wipe(hex, sizeof hex);
    }
    if (fclose(fp) != 0)
        rc = -1;
    return rc;
}

static void remove_keys(const char *dir, const char *path)
{
    /* Overwrite before unlinking: the file held every PSK of the run. */
    FILE *fp = fopen(path, "r+");
    if (fp) {
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        rewind(fp);
        for (long i = 0; i < n; i++)
            fputc(0, fp);
        fclose(fp);
    }
    remove(path);
    rmdir(dir);
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- progress ---------------------------------------------------------------------------- */

typedef struct progress {
    int bar;
    size_t total, done, failed;
    double est_total, est_done;
    uint64_t t0;
    uint64_t last_line_ns;
} progress;

static void progress_show(progress *p, const sb_cell *c, unsigned rep, const char *status)
{
    double el = (double)(sb_now_ns() - p->t0) / 1e9;
    /* Time left: the estimate of what remains, scaled by how the estimate has fared so far. */
    double scale = p->est_done > 0 ? el / p->est_done : 1;
    double left = (p->est_total - p->est_done) * scale;
    if (left < 0)
        left = 0;
    char eta[32], took[32];
    fmt_duration(left, eta, sizeof eta);
    fmt_duration(el, took, sizeof took);
    if (p->bar) {
        int w = 24, filled = p->total ? (int)(w * p->done / p->total) : w;
        char barbuf[64];
        for (int i = 0; i < w; i++)
            barbuf[i] = i < filled ? '#' : '.';
        barbuf[w] = 0;
        fprintf(g_log, "\r\033[K[%s] %zu/%zu cells%s%.0zu%s  %s  %s left  %s r%u", barbuf,
                p->done, p->total, p->failed ? " (" : "", p->failed,
                p->failed ? " failed)" : "", took, eta, c ? c->id : "", rep);
        if (!c)
            fputc('\n', stderr);
    } else if (status) {
        fprintf(g_log, "[%zu/%zu] %s %s r%u (%s elapsed, about %s left)\n", p->done, p->total,
                status, c ? c->id : "", rep, took, eta);
    }
    fflush(stderr);
}

/* ---- the microbenchmarks ------------------------------------------------------------------- */

static void join_names(char *out, size_t cap, const char *const *names, size_t n)
{
    out[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", names[i]);
}

static int run_micro(const sb_plan *p, const sb_self *self, const char *dir)
{
    const sb_micro_plan *m = &p->micro;
    char csv[PATH_MAX], sdir[PATH_MAX], log[PATH_MAX];
    snprintf(csv, sizeof csv, "%s/micro.csv", dir);
    if (file_exists(csv)) {
        fprintf(g_log, "microbenchmarks: done before (%s), kept\n", csv);
        return 0;
    }
    snprintf(sdir, sizeof sdir, "%s/samples/micro", dir);
    mkdir_p(sdir);
    snprintf(log, sizeof log, "%s/logs/micro.log", dir);
    const char *names[16];
    char be[256], su[256], gr[128], sz[1024], ops[256], reps[16], mt[32];
    for (size_t i = 0; i < m->n_backends; i++)
        names[i] = m->backends[i]->name;
    join_names(be, sizeof be, names, m->n_backends);
    for (size_t i = 0; i < m->n_suites; i++)
        names[i] = m->suites[i]->name;
    join_names(su, sizeof su, names, m->n_suites);
    for (size_t i = 0; i < m->n_groups; i++)
        names[i] = m->groups[i]->name;
    join_names(gr, sizeof gr, names, m->n_groups);
    sz[0] = 0;
    for (size_t i = 0; i < m->n_sizes; i++)
        snprintf(sz + strlen(sz), sizeof sz - strlen(sz), "%s%zu", i ? "," : "", m->sizes[i]);
    size_t k = 0;
    for (int i = 0; i < SB_MICRO_OPS; i++)
        if (m->ops & (1u << i))
            names[k++] = sb_micro_op_names[i];
    join_names(ops, sizeof ops, names, k);
    snprintf(reps, sizeof reps, "%u", m->repetitions);
    snprintf(mt, sizeof mt, "%g", m->min_time_s);
    char est[32];
    fmt_duration(m->estimate_s, est, sizeof est);
    fprintf(g_log, "microbenchmarks: %s x %s x %zu sizes, %s; about %s\n", be, su, m->n_sizes,
            ops, est);
    char *argv[] = {"sealbench", "micro", "--backend", be, "--suite", su, "--group", gr,
                    "--sizes", sz, "--ops", ops, "--repetitions", reps, "--min-time", mt,
                    "--out", csv, "--samples", sdir, NULL};
    const char *path = NULL;
    char **full = sb_self_argv(self, argv, &path);
    sb_proc child = {.pid = -1};
    char err[512] = "out of memory";
    sb_proc_spec spec = {.path = path, .argv = full, .err = SB_IO_TRUNCATE, .err_path = log};
    int started = full && sb_proc_spawn(&child, &spec, err, sizeof err) == SB_OK;
    free(full);
    if (started) { /* SIGINT passes on to it: it writes what it measured, then ends */
        sb_proc_wait_opts w = {.stop = g_stop, .stop_sig = SIGINT, .grace_s = 30};
        sb_proc_wait(&child, &w);
    } else {
        fprintf(g_log, "microbenchmarks: %s\n", err);
    }
    int st = child.status;
    if (!started || st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(g_log, "microbenchmarks: failed (see %s)%s\n", log,
                file_exists(csv) ? "; micro.csv has the cases that ran" : "");
        return -1;
    }
    return 0;
}

/* ---- the run ------------------------------------------------------------------------------- */

static int config_matches(const char *dir, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    if (!m)
        return -1;
    json_t *cfg = json_object_get(json_object_get(m, "config"), "text");
    int same = json_is_string(cfg) && strcmp(json_string_value(cfg), text) == 0;
    json_decref(m);
    return same;
}

static void write_manifest(const char *dir, json_t *m)
{
    char path[PATH_MAX], err[256];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text || sb_write_atomic(path, text, strlen(text), err, sizeof err) != SB_OK)
        fprintf(g_log, "sealbench run: %s\n", text ? err : "out of memory");
    free(text);
}

sb_run_status sb_run(const sb_run_opts *o)
{
    static volatile sig_atomic_t never;
    g_log = o->log ? o->log : stderr;
    g_stop = o->stop ? o->stop : &never;
    sb_plan plan;
    char err[1024];
    if (sb_plan_load(o->config, &plan, err, sizeof err) != SB_OK) {
        fprintf(g_log, "sealbench run: %s\n", err);
        sb_plan_free(&plan);
        return SB_RUN_BAD_INPUT;
    }
    size_t runs = plan.n_cells * plan.repetitions;
    char est[32];
    fmt_duration(plan.estimate_s, est, sizeof est);
    fprintf(g_log, "%s: %zu cells x %u repetition%s = %zu runs%s, about %s\n", plan.name,
            plan.n_cells, plan.repetitions, plan.repetitions == 1 ? "" : "s", runs,
            plan.micro.enabled && !o->no_micro ? " plus microbenchmarks" : "", est);
    if (plan.n_dropped) {
        fprintf(g_log, "%zu cell%s dropped (the backend cannot run %s):\n", plan.n_dropped,
                plan.n_dropped == 1 ? "" : "s", plan.n_dropped == 1 ? "it" : "them");
        for (size_t i = 0; i < plan.n_dropped; i++)
            fprintf(g_log, "  %s: %s\n", plan.dropped[i].id, plan.dropped[i].why);
    }
    if (o->dry_run) {
        for (size_t i = 0; i < plan.n_cells; i++)
            fprintf(o->listing ? o->listing : stdout, "%s\t%.1f s\n", plan.cells[i].id,
                    plan.cells[i].estimate_s);
        sb_plan_free(&plan);
        return SB_RUN_PLANNED;
    }

    /* The run folder: new, or the one to resume (same config only). */
    char dir[PATH_MAX - 256], run_id[160];
    sb_self self = {.interpreted = -1};
    if (o->resume) {
        snprintf(dir, sizeof dir, "%s", o->resume);
        int same = config_matches(dir, plan.text);
        if (same < 0 || !same) {
            fprintf(g_log, "sealbench run: --resume %s: %s\n", dir,
                    same < 0 ? "no readable manifest.json there (not a run folder?)"
                             : "the config differs from the one this run began with; start a "
                               "new run instead");
            sb_plan_free(&plan);
            return SB_RUN_BAD_INPUT;
        }
        const char *slash = strrchr(dir, '/');
        snprintf(run_id, sizeof run_id, "%.150s", slash ? slash + 1 : dir);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        if (o->out)
            snprintf(dir, sizeof dir, "%s", o->out);
        else
            snprintf(dir, sizeof dir, "%s/%s-%s", o->results ? o->results : "results", plan.name,
                     stamp);
        const char *slash = strrchr(dir, '/');
        snprintf(run_id, sizeof run_id, "%.150s", slash ? slash + 1 : dir);
        if (file_exists(dir)) {
            fprintf(g_log, "sealbench run: %s exists; a run never writes into an existing "
                            "folder (use --resume %s to complete it, or another --out)\n",
                    dir, dir);
            sb_plan_free(&plan);
            return SB_RUN_BAD_INPUT;
        }
        if (mkdir_p(dir) != 0) {
            fprintf(g_log, "sealbench run: cannot create %s: %s\n", dir, strerror(errno));
            sb_plan_free(&plan);
            return SB_RUN_CANNOT;
        }
    }
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/logs", dir);
    mkdir_p(sub);
    /* The children run this binary, through its emulator when it has one (qemu-user without
     * binfmt_misc: an ARM binary cannot be exec'd directly on the x86 kernel). */
    sb_self_probe(&self);

    /* The broker: ours on loopback unless one is given. */
    sb_broker broker = {0};
    const char *uri = o->broker;
    sb_run_status code = SB_RUN_CANNOT;
    char kdir[64] = "", kpath[128] = "";
    json_t *manifest = NULL, *rows = json_array();
    slot *order = NULL;
    if (!uri) {
        sb_broker_opts bo = {0};
        if (sb_broker_start(&broker, &bo, err, sizeof err) != SB_OK) {
            fprintf(g_log, "sealbench run: cannot start the private broker: %s\n", err);
            goto out;
        }
        uri = broker.uri;
    }
    unsigned maxdev = 1;
    for (size_t i = 0; i < plan.n_cells; i++)
        if (plan.cells[i].devices > maxdev)
            maxdev = plan.cells[i].devices;
    if (make_keys(maxdev, kdir, sizeof kdir, kpath, sizeof kpath) != 0) {
        fprintf(g_log, "sealbench run: cannot write the run's keys file: %s\n", strerror(errno));
        goto out;
    }

    /* Provenance, written before anything is measured and again at the end. */
    const char *datasets[SB_CFG_MAX_LEVELS * 4];
    size_t nd = 0;
    for (size_t i = 0; i < plan.n_payloads && nd < sizeof datasets / sizeof *datasets; i++)
        if (plan.payloads[i].kind == SB_PAYLOAD_DATASET)
            datasets[nd++] = plan.payloads[i].dataset;
    sb_manifest_inputs mi = {.run_id = run_id,
                             .command_line = o->command_line,
                             .config_path = o->config,
                             .config_text = plan.text,
                             .datasets = datasets,
                             .n_datasets = nd,
                             .seed = plan.seed,
                             .broker_uri = uri,
                             .broker_private = !o->broker,
                             .mosquitto_version = o->broker ? NULL : broker.version};
    char mpath[PATH_MAX];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    json_t *previous = o->resume ? json_load_file(mpath, 0, NULL) : NULL;
    manifest = sb_manifest_collect(&mi);
    json_t *pj = json_object();
    json_object_set_new(pj, "cells", json_integer((json_int_t)plan.n_cells));
    json_object_set_new(pj, "repetitions", json_integer(plan.repetitions));
    json_object_set_new(pj, "order", json_string(plan.shuffle ? "shuffled" : "sequential"));
    json_object_set_new(pj, "tcp_nodelay", json_boolean(plan.tcp_nodelay));
    json_object_set_new(pj, "estimate_s", json_real(plan.estimate_s));
    json_t *dropped = json_array();
    for (size_t i = 0; i < plan.n_dropped; i++) {
        json_t *d = json_object();
        json_object_set_new(d, "cell", json_string(plan.dropped[i].id));
        json_object_set_new(d, "why", json_string(plan.dropped[i].why));
        json_array_append_new(dropped, d);
    }
    json_object_set_new(pj, "dropped", dropped);
    json_object_set_new(manifest, "plan", pj);
    if (previous) { /* a resumed run keeps the provenance of each of its sessions */
        json_t *earlier = json_object_get(previous, "sessions");
        json_t *sessions = earlier ? json_copy(earlier) : json_array();
        json_object_del(previous, "sessions");
        json_array_append(sessions, previous);
        json_object_set_new(manifest, "sessions", sessions);
        json_decref(previous);
    }
    write_manifest(dir, manifest);

    if (plan.micro.enabled && !o->no_micro && !*g_stop)
        run_micro(&plan, &self, dir);

    /* The order: every cell x repetition, shuffled with the seed so that drift over the run
     * (thermal, other load) spreads over all cells instead of favouring the early ones. */
    order = calloc(runs ? runs : 1, sizeof *order);
    for (size_t i = 0; i < runs; i++)
        order[i] = (slot){i % plan.n_cells, (unsigned)(i / plan.n_cells) + 1};
    if (plan.shuffle) {
        uint64_t s = plan.seed;
        for (size_t i = runs; i > 1; i--) {
            size_t j = (size_t)(splitmix(&s) % i);
            slot t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
    }
    progress pr = {.bar = o->progress < 0 ? isatty(2) : o->progress, .total = runs,
                   .t0 = sb_now_ns()};
    for (size_t i = 0; i < runs; i++)
        pr.est_total += plan.cells[order[i].cell].estimate_s;
    sb_cell_env env = {.self = &self, .run_id = run_id, .dir = dir, .broker_uri = uri,
                       .broker_pid = o->broker ? 0 : broker.pid, .keys_path = kpath,
                       .cafile = o->cafile, .cert = o->cert, .key = o->key, .nagle = !plan.tcp_nodelay, .stop = g_stop};
    size_t kept = 0;
    for (size_t i = 0; i < runs && !*g_stop; i++) {
        const sb_cell *c = &plan.cells[order[i].cell];
        unsigned rep = order[i].rep;
        json_t *row = sb_record_load(dir, c->id, rep);
        if (row && strcmp(json_string_value(json_object_get(row, "status")), "ok") == 0) {
            kept++; /* finished in an earlier session: never measured again */
            pr.est_total -= c->estimate_s;
            pr.est_done -= c->estimate_s;
        } else {
            json_decref(row);
            if (pr.bar)
                progress_show(&pr, c, rep, NULL);
            json_t *output = NULL;
            row = sb_cell_run(&env, c, rep, (unsigned)i + 1, &output);
            if (!row) { /* interrupted: this one is not finished */
                json_decref(output);
                break;
            }
            if (sb_record_save(dir, c->id, rep, row, output, err, sizeof err) != SB_OK)
                fprintf(g_log, "sealbench run: %s\n", err);
            json_decref(output);
        }
        pr.done++;
        pr.est_done += c->estimate_s;
        int ok = strcmp(json_string_value(json_object_get(row, "status")), "ok") == 0;
        if (!ok) {
            pr.failed++;
            fprintf(g_log, "%s%s r%u failed: %s\n", pr.bar ? "\r\033[K" : "", c->id, rep,
                    json_string_value(json_object_get(row, "error")));
        }
        json_array_append_new(rows, row);
        if (sb_cells_csv_write(dir, rows, err, sizeof err) != SB_OK)
            fprintf(g_log, "sealbench run: %s\n", err);
        progress_show(&pr, c, rep, ok ? "ok" : "FAILED");
    }
    if (pr.bar)
        progress_show(&pr, NULL, 0, NULL);
    sb_manifest_finish(manifest, *g_stop ? "interrupted" : pr.failed ? "failed" : "complete",
                       pr.done - pr.failed, pr.failed);
    write_manifest(dir, manifest);
    fprintf(g_log, "%s: %zu of %zu runs finished (%zu kept from before), %zu failed; results in "
                    "%s/\n",
            plan.name, pr.done - pr.failed, runs, kept, pr.failed, dir);
    if (*g_stop)
        fprintf(g_log, "interrupted: complete it with 'sealbench run %s --resume %s'\n",
                o->config, dir);
    code = *g_stop ? SB_RUN_INTERRUPTED : pr.failed ? SB_RUN_FAILED_CELLS : SB_RUN_COMPLETE;
out:
    free(order);
    json_decref(rows);
    json_decref(manifest);
    if (kpath[0])
        remove_keys(kdir, kpath);
    if (broker.pid || broker.dir[0])
        sb_broker_stop(&broker);
    sb_self_free(&self);
    sb_plan_free(&plan);
    return code;
}
