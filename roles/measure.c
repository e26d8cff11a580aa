/* Counters, process usage and per-message samples for the roles (roles/internal.h). */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "common/counters.h"
#include "common/proc.h"
#include "common/util.h"
#include "roles/internal.h"

int role_trace_new(const sb_role_link *link, const sb_fleet_config *fc, uint64_t warmup,
                   sb_trace **out, char *err, size_t err_len)
{
    *out = NULL;
    if (!link->samples_path)
        return 0;
    unsigned devices = fc ? fc->devices : 0, first = fc ? fc->first : 0;
    uint64_t per = fc ? fc->messages : 0;
    if (fc && fc->source) /* a dataset: as many as the longest device has, or the count */
        for (unsigned i = 0; i < devices; i++) {
            uint64_t n = fc->source->count(fc->source->ctx, i);
            if (!fc->messages && n > per)
                per = n;
        }
    if (!(*out = sb_trace_new(devices, first, per, warmup))) {
        snprintf(err, err_len, "--samples: no memory for %u devices x %llu messages", devices,
                 (unsigned long long)per);
        return -1;
    }
    return 0;
}

int role_trace_write(const sb_role_link *link, sb_trace *t, char *err, size_t err_len)
{
    char why[512];
    if (!t)
        return 0;
    if (sb_trace_write(t, link->samples_path, why, sizeof why) != SB_OK) {
        snprintf(err, err_len, "--samples: %s", why);
        return -1;
    }
    return 0;
}

void role_counting_start(role_counting *k, int wanted)
{
    *k = (role_counting){0};
    if (!wanted)
        return;
    k->c = sb_counters_open();
    k->t0 = sb_now_ns();
    sb_counters_start(k->c);
}

void role_counting_stop(role_counting *k)
{
    if (!k->c || !k->t0)
        return;
    sb_counters_stop(k->c, &k->cycles, &k->instructions);
    k->ns = sb_now_ns() - k->t0;
    k->t0 = 0;
}

void role_counting_report(role_counting *k, sb_role_counting *out)
{
    memset(out, 0, sizeof *out);
    if (!k->c)
        return;
    role_counting_stop(k);
    out->wanted = 1;
    out->available = sb_counters_available(k->c);
    snprintf(out->library, sizeof out->library, "%s", sb_counters_version());
    snprintf(out->events, sizeof out->events, "%s", sb_counters_events());
    snprintf(out->why, sizeof out->why, "%s", out->available ? "" : sb_counters_why(k->c));
    out->cycles = k->cycles;
    out->instructions = k->instructions;
    out->wall_s = (double)k->ns / 1e9;
    sb_counters_close(k->c);
    k->c = NULL;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void role_process_report(sb_role_process *out)
{
    struct rusage ru, th;
    memset(out, 0, sizeof *out);
    if (getrusage(RUSAGE_SELF, &ru) == 0 && getrusage(RUSAGE_THREAD, &th) == 0) {
        out->known = 1;
        out->cpu_user_s = tv_s(ru.ru_utime);
        out->cpu_sys_s = tv_s(ru.ru_stime);
        out->peak_rss_kb = ru.ru_maxrss;
        out->main_thread_cpu_s = tv_s(th.ru_utime) + tv_s(th.ru_stime);
    }
}

void role_broker_cpu(const sb_broker *b, sb_role_broker *out)
{
    double u, sy;
    if (b->pid && sb_proc_cpu((long)b->pid, &u, &sy) == 0) {
        out->has_cpu = 1;
        out->cpu_user_s = u;
        out->cpu_sys_s = sy;
    }
}
