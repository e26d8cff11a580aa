/* Hardware counters through PAPI (common/counters.h): cycles and instructions retired of
 * the calling thread, or an honest one-line reason why there are none.
 *
 * The library is initialised once per process (pthread_once) with thread support, since PAPI
 * counts per thread and the fleet commands measure a thread of their own. Each sb_counters
 * owns one event set. Whether the set can count is decided in sb_counters_open by adding both
 * events and doing one start/stop: on a VM without a virtual PMU it is PAPI_add_event that
 * fails ("Event does not exist"), although papi_avail still lists the presets from the CPU
 * model's tables, so asking PAPI_query_event alone would give the wrong answer. */
#include "common/counters.h"

#include <papi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb_counters {
    int set;       /* PAPI event set, PAPI_NULL when none */
    int available;
    int running;
    char why[640];
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_ok;
static char lib_version[32] = "unavailable";
static char lib_why[200];

/* PAPI wants an unsigned long thread id; pthread_t is one on glibc, but a wrapper keeps the
 * function pointer type exact instead of casting pthread_self itself. */
static unsigned long thread_id(void)
{
    return (unsigned long)pthread_self();
}

static void lib_init(void)
{
    int v = PAPI_library_init(PAPI_VER_CURRENT);
    if (v != PAPI_VER_CURRENT) {
        /* A positive value is the version of a mismatched shared library; negative is an
         * error code. */
        if (v > 0)
            snprintf(lib_why, sizeof lib_why,
                     "PAPI library version %d.%d.%d.%d does not match the headers built against "
                     "(%d.%d.%d.%d)",
                     PAPI_VERSION_MAJOR(v), PAPI_VERSION_MINOR(v), PAPI_VERSION_REVISION(v),
                     PAPI_VERSION_INCREMENT(v), PAPI_VERSION_MAJOR(PAPI_VERSION),
                     PAPI_VERSION_MINOR(PAPI_VERSION), PAPI_VERSION_REVISION(PAPI_VERSION),
                     PAPI_VERSION_INCREMENT(PAPI_VERSION));
        else
            snprintf(lib_why, sizeof lib_why, "PAPI_library_init failed: %s", PAPI_strerror(v));
        return;
    }
    snprintf(lib_version, sizeof lib_version, "%d.%d.%d.%d", PAPI_VERSION_MAJOR(v),
             PAPI_VERSION_MINOR(v), PAPI_VERSION_REVISION(v), PAPI_VERSION_INCREMENT(v));
    int rc = PAPI_thread_init(thread_id);
    if (rc != PAPI_OK) {
        snprintf(lib_why, sizeof lib_why, "PAPI %s: PAPI_thread_init failed: %s", lib_version,
                 PAPI_strerror(rc));
        return;
    }
    lib_ok = 1;
}

/* -1 when the file cannot be read (not Linux, or /proc not mounted). */
static int perf_event_paranoid(void)
{
    FILE *fp = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int v = -1;
    if (fp) {
        if (fscanf(fp, "%d", &v) != 1)
            v = -1;
        fclose(fp);
    }
    return v;
}

/* The likely causes, from what the machine says about itself; a guess is labelled as such. */
static void diagnose(char *out, size_t cap)
{
    const PAPI_hw_info_t *hw = PAPI_get_hardware_info();
    const PAPI_component_info_t *cmp = PAPI_get_component_info(0);
    int paranoid = perf_event_paranoid();
    char para[80];
    if (paranoid < 0)
        snprintf(para, sizeof para, "perf_event_paranoid unreadable");
    else if (paranoid > 2)
        /* Debian's extra level: above 2 forbids perf_event_open to unprivileged users. */
        snprintf(para, sizeof para, "perf_event_paranoid is %d, which forbids unprivileged counting", paranoid);
    else
        snprintf(para, sizeof para, "perf_event_paranoid is %d", paranoid);
    if (cmp && cmp->disabled)
        snprintf(out, cap, "PAPI component %.40s disabled: %.160s; %s", cmp->name, cmp->disabled_reason, para);
    else if (hw && hw->virtualized)
        snprintf(out, cap, "no hardware counters here: a %.40s VM without a virtual PMU; %s",
                 hw->virtual_vendor_string[0] ? hw->virtual_vendor_string : "virtual", para);
    else
        snprintf(out, cap, "no hardware counters here: a VM without a virtual PMU, or "
                           "perf_event_paranoid too high: %s", para);
}

static void set_unavailable(sb_counters *c, const char *what, int rc)
{
    char cause[320];
    diagnose(cause, sizeof cause);
    snprintf(c->why, sizeof c->why, "PAPI %s: %s: %s (%s)", lib_version, what, PAPI_strerror(rc),
             cause);
    c->available = 0;
}

static void release_set(sb_counters *c)
{
    if (c->set == PAPI_NULL)
        return;
    if (c->running) {
        long long discard[2];
        PAPI_stop(c->set, discard);
        c->running = 0;
    }
    PAPI_cleanup_eventset(c->set);
    PAPI_destroy_eventset(&c->set);
    c->set = PAPI_NULL;
}

sb_counters *sb_counters_open(void)
{
    sb_counters *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->set = PAPI_NULL;
    pthread_once(&lib_once, lib_init);
    if (!lib_ok) {
        snprintf(c->why, sizeof c->why, "%s", lib_why);
        return c;
    }
    static const struct {
        int code;
        const char *name;
    } events[2] = {{PAPI_TOT_CYC, "PAPI_TOT_CYC"}, {PAPI_TOT_INS, "PAPI_TOT_INS"}};
    char what[80];
    int rc = PAPI_register_thread();
    if (rc != PAPI_OK) {
        set_unavailable(c, "PAPI_register_thread failed", rc);
        return c;
    }
    if ((rc = PAPI_create_eventset(&c->set)) != PAPI_OK) {
        c->set = PAPI_NULL;
        set_unavailable(c, "PAPI_create_eventset failed", rc);
        return c;
    }
    for (int i = 0; i < 2; i++)
        if ((rc = PAPI_add_event(c->set, events[i].code)) != PAPI_OK) {
            snprintf(what, sizeof what, "%s cannot be added", events[i].name);
            set_unavailable(c, what, rc);
            release_set(c);
            return c;
        }
    /* Adding can succeed and starting still fail (the kernel refuses perf_event_open at start
     * time, or the events do not fit the counters together): find out now, not mid-run. */
    long long probe[2];
    if ((rc = PAPI_start(c->set)) != PAPI_OK) {
        set_unavailable(c, "PAPI_start failed", rc);
        release_set(c);
        return c;
    }
    if ((rc = PAPI_stop(c->set, probe)) != PAPI_OK) {
        set_unavailable(c, "PAPI_stop failed", rc);
        release_set(c);
        return c;
    }
    c->available = 1;
    c->why[0] = '\0';
    return c;
}

int sb_counters_available(const sb_counters *c)
{
    return c && c->available;
}

const char *sb_counters_why(const sb_counters *c)
{
    return c ? c->why : "no counters: out of memory";
}

void sb_counters_start(sb_counters *c)
{
    if (!c || !c->available)
        return;
    if (c->running) {
        /* A start without a stop: count from here, as the caller asked. */
        int rc = PAPI_reset(c->set);
        if (rc != PAPI_OK) {
            set_unavailable(c, "PAPI_reset failed", rc);
            release_set(c);
        }
        return;
    }
    /* PAPI_start zeroes the counters itself. */
    int rc = PAPI_start(c->set);
    if (rc != PAPI_OK) {
        set_unavailable(c, "PAPI_start failed", rc);
        release_set(c);
        return;
    }
    c->running = 1;
}

void sb_counters_stop(sb_counters *c, uint64_t *cycles, uint64_t *instructions)
{
    if (!c || !c->available || !c->running)
        return;
    long long v[2];
    int rc = PAPI_stop(c->set, v);
    c->running = 0;
    if (rc != PAPI_OK || v[0] < 0 || v[1] < 0) {
        /* Counts of a failed stop are not counts; the caller sees available() turn 0. */
        set_unavailable(c, "PAPI_stop failed", rc != PAPI_OK ? rc : PAPI_EBUG);
        release_set(c);
        return;
    }
    *cycles += (uint64_t)v[0];
    *instructions += (uint64_t)v[1];
}

const char *sb_counters_events(void)
{
    return "PAPI_TOT_CYC,PAPI_TOT_INS";
}

const char *sb_counters_version(void)
{
    pthread_once(&lib_once, lib_init);
    return lib_version;
}

void sb_counters_close(sb_counters *c)
{
    if (!c)
        return;
    if (lib_ok)
        release_set(c);
    free(c);
}
