/* roles/: the roles as library calls, a typed spec in and a typed report out, with a real
 * private Mosquitto the role starts and stops itself; the one serialisation of a report (keys,
 * type-7 statistics of the raw samples, fields present only when they mean something); and the
 * runner's task file, which must come back as it was written and refuse what it does not know. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiments/cell.h"
#include "roles/roles.h"
#include "tests/check.h"

static double jnum(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* ---- the serialisation ------------------------------------------------------------------ */

static void check_report_json(void)
{
    sb_role_report r;
    memset(&r, 0, sizeof r);
    r.kind = SB_ROLE_KIND_DEVICE;
    r.has_device = 1;
    sb_fleet_report *d = &r.device;
    d->backend = "openssl";
    d->suite = "aes-128-gcm";
    d->group = "x25519";
    d->devices = 2;
    d->sent = 11;
    d->t_first_ns = 1000000000;
    d->t_last_ns = 2000000000;
    d->rss_start_kb = 1000;
    d->rss_handshaken_kb = 1100;
    d->echo_rejected[3] = 7;
    /* 1..4 ms, out of order so that a serialiser that sorted them in place would show: type 7
     * gives p50 2.5 ms, p90 3.7 ms. */
    static const double ms[] = {3, 1, 4, 2};
    for (int i = 0; i < 4; i++)
        CHECK(sb_samples_add(&d->handshake_ns, ms[i] * 1e6) == SB_OK, "sample %d", i);
    snprintf(r.broker.uri, sizeof r.broker.uri, "tcp://127.0.0.1:1");
    json_t *o = sb_role_report_json(&r);
    CHECK(jnum(o, "handshake_latency", "p50_ms") == 2.5, "p50 of 1..4 ms: %g",
          jnum(o, "handshake_latency", "p50_ms"));
    CHECK(fabs(jnum(o, "handshake_latency", "p90_ms") - 3.7) < 1e-12, "p90: %g",
          jnum(o, "handshake_latency", "p90_ms"));
    CHECK(jnum(o, "handshake_latency", "count") == 4, "count");
    CHECK(d->handshake_ns.v[0] == 3e6 && d->handshake_ns.v[1] == 1e6 &&
              d->handshake_ns.v[3] == 2e6,
          "serialising leaves the report's samples as they were");
    CHECK(jnum(o, "rtt", "count") == 0 && !json_object_get(json_object_get(o, "rtt"), "p50_us"),
          "no round trips: a count of 0 and no made-up quantiles");
    CHECK(jnum(o, "rss", "per_device_kb") == 50, "(1100 - 1000) kB / 2 devices: %g",
          jnum(o, "rss", "per_device_kb"));
    CHECK(jnum(o, "publish_msgs_per_s", NULL) == 10, "10 intervals in 1 s: %g",
          jnum(o, "publish_msgs_per_s", NULL));
    CHECK(jnum(o, "echo_rejected", sb_reason_names[3]) == 7 &&
              json_object_size(json_object_get(o, "echo_rejected")) == SB_REASONS,
          "every reject reason, by its one name");
    CHECK(!json_object_get(o, "counters"), "counters not asked for: no counters object");
    CHECK(!json_object_get(o, "wire_bytes"), "no per-message wire size unless it is known");
    CHECK(!json_object_get(o, "dataset"), "no dataset object without a dataset");
    CHECK(json_object_size(json_object_get(o, "broker")) == 1, "a device knows only its URI");
    json_decref(o);

    r.counters.wanted = 1;
    snprintf(r.counters.why, sizeof r.counters.why, "no PMU");
    o = sb_role_report_json(&r);
    json_t *k = json_object_get(o, "counters");
    CHECK(json_is_false(json_object_get(k, "available")) &&
              strcmp(json_string_value(json_object_get(k, "why")), "no PMU") == 0 &&
              json_is_null(json_object_get(k, "cycles")),
          "counters asked for but absent: unavailable, why, and null counts (never zeros)");
    json_decref(o);

    /* Pair: the gateway's counters, verify's fields only when it verified. */
    r.kind = SB_ROLE_KIND_PAIR;
    r.has_broker = r.has_gateway = 1;
    r.gateway.backend = "openssl";
    r.gateway.accepted = 5;
    r.gateway.rejected[0] = 2;
    o = sb_role_report_json(&r);
    const char *first = json_object_iter_key(json_object_iter(o));
    CHECK(first && strcmp(first, "broker") == 0, "pair: broker first (%s)", first ? first : "-");
    json_t *g = json_object_get(o, "gateway");
    CHECK(jnum(g, "accepted", NULL) == 5 && jnum(g, "rejected", sb_reason_names[0]) == 2,
          "gateway counts");
    CHECK(!json_object_get(g, "duplicates"), "no duplicates count when nothing was verified");
    json_decref(o);
    r.gateway.verify = 1;
    o = sb_role_report_json(&r);
    CHECK(json_object_get(json_object_get(o, "gateway"), "duplicates") != NULL,
          "duplicates counted when verified");
    json_decref(o);
    sb_role_report_free(&r);
}

/* ---- the roles, called as functions ----------------------------------------------------- */

static void check_pair_call(const char *dir)
{
    sb_pair_spec s;
    sb_pair_spec_init(&s);
    char samples[512];
    snprintf(samples, sizeof samples, "%s/pair.csv", dir);
    s.device.link.samples_path = samples;
    s.device.suite = sb_suite_by_name("chacha20-poly1305");
    s.device.group = sb_group_by_name("x25519");
    s.device.devices = 3;
    s.device.count = 40;
    s.device.warmup = 5;
    s.device.link.qos = 1;
    sb_role_report r;
    int rc = sb_role_pair(&s, NULL, &r);
    CHECK(rc == 0 && r.ok, "pair: %s", r.error);
    CHECK(r.has_device && r.device.sent == 3 * 45, "sent %llu, want 3 x (40 + 5)",
          (unsigned long long)r.device.sent);
    CHECK(r.has_gateway && r.gateway.accepted == 3 * 45, "gateway accepted %llu",
          (unsigned long long)r.gateway.accepted);
    CHECK(r.device.handshake_ns.n == 3, "one handshake latency per device: %zu",
          r.device.handshake_ns.n);
    CHECK(r.broker.is_private && strncmp(r.broker.uri, "tcp://127.0.0.1:", 16) == 0,
          "its own broker on loopback: %s", r.broker.uri);
    CHECK(!r.device.psk && r.device.devices == 3, "auth none, three devices");
    CHECK(access(samples, R_OK) == 0, "its samples were written");
    sb_role_report_free(&r);

    /* A fleet larger than the dataset: its 4 patients round-robin over 6 sessions, each under
     * its own id and session, and the gateway finds every payload a record of the patient
     * its session replays. */
    s.device.dataset = "datasets/vitals_tiny.csv";
    s.device.devices = 6;
    s.device.devices_set = 1;
    s.device.count = 30;
    s.device.count_set = 1;
    s.device.warmup = 0;
    s.device.link.samples_path = NULL;
    rc = sb_role_pair(&s, NULL, &r);
    CHECK(rc == 0 && r.device.devices == 6 && r.dataset.patients == 4,
          "6 sessions over 4 patients: rc %d, %u sessions, %u patients, %s", rc, r.device.devices,
          r.dataset.patients, r.error);
    CHECK(r.device.sent == 6 * 30 && r.gateway.accepted == 6 * 30 && r.gateway.mismatched == 0,
          "every session sent its 30, each payload its patient's: sent %llu accepted %llu "
          "mismatched %llu", (unsigned long long)r.device.sent,
          (unsigned long long)r.gateway.accepted, (unsigned long long)r.gateway.mismatched);
    CHECK(r.dataset.n_devices == 6 && strcmp(r.dataset.device_names[4], "P0001") == 0 &&
              strcmp(r.dataset.device_names[5], "P0002") == 0,
          "dev-0005 replays P0001, dev-0006 P0002");
    sb_role_report_free(&r);
    s.device.dataset = NULL;
    s.device.devices = 3;
    s.device.count = 40;
    s.device.warmup = 5;
    s.device.link.samples_path = samples;

    /* A keys file that is not there: nothing runs, the report says which file. */
    s.device.link.keys_path = "/nonexistent/keys.txt";
    rc = sb_role_pair(&s, NULL, &r);
    CHECK(rc == 1 && !r.ok && strstr(r.error, "/nonexistent/keys.txt"),
          "missing keys file: %s", r.error);
    CHECK(!r.has_device && !r.has_gateway, "nothing measured, nothing reported as measured");
    sb_role_report_free(&r);

    /* A dataset that is not there fails before any broker starts. */
    s.device.link.keys_path = NULL;
    s.device.dataset = "/nonexistent/vitals.csv";
    rc = sb_role_pair(&s, NULL, &r);
    CHECK(rc == 1 && strstr(r.error, "/nonexistent/vitals.csv") && !r.has_broker,
          "missing dataset: %s", r.error);
    sb_role_report_free(&r);

    /* A stop already asked for: the run ends, and says it was interrupted. */
    s.device.dataset = NULL;
    volatile sig_atomic_t stop = SIGINT;
    rc = sb_role_pair(&s, &stop, &r);
    CHECK(rc == 1 && r.interrupted && !r.ok, "interrupted: rc %d, %s", rc, r.error);
    sb_role_report_free(&r);

    sb_device_spec d;
    sb_device_spec_init(&d);
    rc = sb_role_device(&d, NULL, &r);
    CHECK(rc == 1 && strstr(r.error, "suite"), "a device without a suite: %s", r.error);
    sb_role_report_free(&r);
    d.suite = s.device.suite;
    d.group = s.device.group;
    rc = sb_role_device(&d, NULL, &r);
    CHECK(rc == 1 && strstr(r.error, "broker"), "a device without a broker: %s", r.error);
    sb_role_report_free(&r);
    d.link.broker = "tcp://127.0.0.1:1";
    d.link.backend = NULL;
    rc = sb_role_device(&d, NULL, &r);
    CHECK(rc == 1 && strstr(r.error, "backend"), "a device without a backend: %s", r.error);
    sb_role_report_free(&r);
}

/* ---- the runner's task file ------------------------------------------------------------- */

static void check_task(const char *dir)
{
    sb_cell_task t, back;
    memset(&t, 0, sizeof t);
    t.part = SB_PART_GATEWAY;
    snprintf(t.broker, sizeof t.broker, "ssl://broker.example:8883");
    snprintf(t.cafile, sizeof t.cafile, "/etc/ca \"quoted\".pem");
    snprintf(t.prefix, sizeof t.prefix, "sealbench/run/7");
    snprintf(t.backend, sizeof t.backend, "mbedtls");
    snprintf(t.suite, sizeof t.suite, "aes-256-gcm");
    snprintf(t.group, sizeof t.group, "p256");
    snprintf(t.keys, sizeof t.keys, "/tmp/k");
    snprintf(t.dataset, sizeof t.dataset, "datasets/vitals_small.csv");
    snprintf(t.encoding, sizeof t.encoding, "cbor");
    snprintf(t.report, sizeof t.report, "/r/out");
    snprintf(t.samples, sizeof t.samples, "/r/s.csv");
    t.qos = 2;
    t.nagle = 1;
    t.pad = 64;
    t.devices = 100;
    t.messages = UINT64_C(1) << 40;
    t.warmup = 50;
    t.rekey = 100;
    t.rate_hz = 0.1;
    t.size = 0;
    char path[512], err[600];
    snprintf(path, sizeof path, "%s/task.json", dir);
    CHECK(sb_cell_task_write(&t, path, err, sizeof err) == SB_OK, "write: %s", err);
    CHECK(sb_cell_task_read(&back, path, err, sizeof err) == SB_OK, "read: %s", err);
    CHECK(memcmp(&t, &back, sizeof t) == 0, "the task comes back as it was written");

    static const struct { const char *text, *want; } bad[] = {
        {"{\"part\": \"pair\", \"devices\": 10, \"deviecs\": 100}", "deviecs"},
        {"{\"part\": \"pair\", \"devices\": \"100\"}", "devices"},
        {"{\"part\": \"pair\", \"devices\": -1}", "devices"},
        {"{\"part\": \"broker\"}", "part"},
        {"[1, 2]", "not a cell task"},
        {"{\"part\": ", "not a cell task"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        FILE *fp = fopen(path, "w");
        fputs(bad[i].text, fp);
        fclose(fp);
        err[0] = 0;
        CHECK(sb_cell_task_read(&back, path, err, sizeof err) != SB_OK &&
                  strstr(err, bad[i].want) && strstr(err, path),
              "bad task %zu refused naming '%s' and the file: %s", i, bad[i].want, err);
    }
    CHECK(sb_cell_task_read(&back, "/nonexistent/task.json", err, sizeof err) != SB_OK,
          "a missing task");
}

int main(void)
{
    char dir[] = "/tmp/test_roles.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    check_report_json();
    check_task(dir);
    check_pair_call(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done("roles");
}
