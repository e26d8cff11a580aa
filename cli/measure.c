/* --samples and --counters for the roles (cli/measure.h). */
#include "cli/measure.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"
#include "experiments/counters.h"

sb_trace *cli_trace_new(const cli_role *r, const sb_fleet_config *fc, uint64_t warmup,
                        int *failed)
{
    if (!r->samples)
        return NULL;
    unsigned devices = fc ? fc->devices : 0, first = fc ? fc->first : 0;
    uint64_t per = fc ? fc->messages : 0;
    if (fc && fc->source) /* a dataset: as many as the longest device has, or --count */
        for (unsigned i = 0; i < devices; i++) {
            uint64_t n = fc->source->count(fc->source->ctx, i);
            if (!fc->messages && n > per)
                per = n;
        }
    sb_trace *t = sb_trace_new(devices, first, per, warmup);
    if (!t) {
        fprintf(stderr, "sealbench %s: --samples: no memory for %u devices x %llu messages\n",
                r->cmd, devices, (unsigned long long)per);
        *failed = 1;
    }
    return t;
}

int cli_trace_write(const cli_role *r, sb_trace *t)
{
    char err[512];
    if (!t)
        return 0;
    if (sb_trace_write(t, r->samples, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench %s: --samples: %s\n", r->cmd, err);
        return 1;
    }
    return 0;
}

void cli_counting_start(cli_counting *k, int wanted)
{
    *k = (cli_counting){0};
    if (!wanted)
        return;
    k->c = sb_counters_open();
    k->t0 = sb_now_ns();
    sb_counters_start(k->c);
}

void cli_counting_stop(cli_counting *k)
{
    if (!k->c || !k->t0)
        return;
    sb_counters_stop(k->c, &k->cycles, &k->instructions);
    k->ns = sb_now_ns() - k->t0;
    k->t0 = 0;
}

json_t *cli_counting_json(cli_counting *k)
{
    if (!k->c)
        return NULL;
    cli_counting_stop(k);
    json_t *o = json_object();
    int ok = sb_counters_available(k->c);
    json_object_set_new(o, "available", json_boolean(ok));
    json_object_set_new(o, "library", json_string(sb_counters_version()));
    json_object_set_new(o, "events", json_string(sb_counters_events()));
    json_object_set_new(o, "scope", json_string("the devices' publishing thread (sealing and "
                                                "handing messages to Paho), publish phase"));
    json_object_set_new(o, "why", ok ? json_null() : json_string(sb_counters_why(k->c)));
    json_object_set_new(o, "cycles", ok ? json_integer((json_int_t)k->cycles) : json_null());
    json_object_set_new(o, "instructions",
                        ok ? json_integer((json_int_t)k->instructions) : json_null());
    json_object_set_new(o, "wall_s", json_real((double)k->ns / 1e9));
    sb_counters_close(k->c);
    k->c = NULL;
    return o;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

json_t *cli_process_json(void)
{
    struct rusage ru, th;
    json_t *o = json_object();
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        json_object_set_new(o, "cpu_user_s", json_real(tv_s(ru.ru_utime)));
        json_object_set_new(o, "cpu_sys_s", json_real(tv_s(ru.ru_stime)));
        json_object_set_new(o, "peak_rss_kb", json_integer(ru.ru_maxrss));
    }
    if (getrusage(RUSAGE_THREAD, &th) == 0)
        json_object_set_new(o, "main_thread_cpu_s",
                            json_real(tv_s(th.ru_utime) + tv_s(th.ru_stime)));
    return o;
}

json_t *cli_pid_cpu_json(long pid)
{
    double u, sy;
    if (sb_proc_cpu(pid, &u, &sy) != 0)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "cpu_user_s", json_real(u));
    json_object_set_new(o, "cpu_sys_s", json_real(sy));
    return o;
}
