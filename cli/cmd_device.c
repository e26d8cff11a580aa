/* `sealbench device`: one or many devices that handshake, publish sealed telemetry, rekey on
 * schedule and measure round trips, then print one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/measure.h"
#include "cli/role_opts.h"
#include "transport/fleet.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_device = {
    .name = "device",
    .summary = "connect N devices that handshake and publish sealed telemetry",
    .help =
        "usage: sealbench device --broker URI (--keys FILE | --no-auth) [OPTIONS]\n\n"
        "Connects --devices devices (ids dev-0001, dev-0002, ...; each its own MQTT connection\n"
        "and PSK from --keys), handshakes them all at once, then each publishes --count sealed\n"
        "messages on P/D/up, rekeying on schedule. With --echo it matches the gateway's echoes\n"
        "and reports round-trip times. Prints one JSON object on stdout; exits 0 if every\n"
        "device finished, 1 otherwise (the JSON still reports what was measured).\n\n"
        "Options:\n" CLI_ROLE_HELP
        "  --suite NAME         suite to propose (default aes-128-gcm, or the backend's first)\n"
        "  --group NAME         x25519 (default) or p256\n" CLI_FLEET_HELP
        "  --help               this text\n\n"
        "Payloads are synthetic (message number, then pseudo-random bytes a gateway can check\n"
        "with --verify). Output: sent, published_ok, publish_failed, handshakes, rekeys,\n"
        "echoes, rtt {count, mean_us, p50_us, p90_us, p99_us, p999_us, max_us},\n"
        "handshake_latency and rekey_latency (ms), handshake_storm_s, publish_msgs_per_s, wire_bytes, rss (kB),\n"
        "errors.\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_ROLE_LONGOPTS, CLI_FLEET_LONGOPTS,
                                             {"help", no_argument, NULL, 'h'}, {0}};
    cli_role r;
    cli_fleet fl;
    cli_role_init(&r, "device");
    cli_fleet_init(&fl);
    int c, code = -1, rc;
    while ((c = cli_getopt(&sb_cmd_device, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if ((rc = cli_role_option(&r, c, optarg)) == 0)
            continue;
        if (rc == 2)
            return 2;
        if ((rc = cli_fleet_option("device", &fl, c, optarg)) == 2)
            return 2;
    }
    if (optind < argc)
        return cli_usage_error("device", "unexpected argument '%s'", argv[optind]);
    if (!r.broker)
        return cli_usage_error("device", "--broker URI is required (the gateway prints its "
                                         "broker; or run 'sealbench pair' for both in one process)");
    if ((rc = cli_role_finish(&r, 0)))
        return rc;
    if ((rc = cli_fleet_load_dataset("device", &fl))) {
        cli_fleet_free(&fl);
        cli_role_free(&r);
        return rc;
    }

    volatile sig_atomic_t stop = 0;
    sb_broker unused; /* --broker is required, so no private broker is started */
    const char *uri;
    cli_role_begin(&r, &stop, 0, &unused, &uri);
    char err[512];
    sb_fleet_config fc = cli_fleet_config(&r, &fl, uri);
    sb_fleet *f = NULL;
    int exit_code = 1, tfail = 0;
    sb_trace *trace = cli_trace_new(&r, &fc, fl.warmup, &tfail);
    if (tfail)
        goto out;
    fc.trace = trace;
    if (sb_fleet_connect(&f, &fc, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench device: %s\n", err);
        goto out;
    }
    cli_counting k = {0};
    int ok = sb_fleet_handshake(f, &stop, err, sizeof err) == SB_OK;
    cli_counting_start(&k, fl.counters);
    ok = ok && sb_fleet_publish(f, &stop, err, sizeof err) == SB_OK;
    cli_counting_stop(&k);
    if (!ok)
        fprintf(stderr, "sealbench device: %s\n", err);
    else if (!stop)
        exit_code = 0;
    json_t *o = sb_fleet_json(f);
    json_t *kj = cli_counting_json(&k);
    if (kj)
        json_object_set_new(o, "counters", kj);
    json_object_set_new(o, "process", cli_process_json());
    if (cli_trace_write(&r, trace))
        exit_code = 1;
    json_t *b = json_object();
    json_object_set_new(b, "uri", json_string(uri));
    json_object_set_new(o, "broker", b);
    json_object_set_new(o, "paho", json_string(sb_mqtt_version()));
    json_t *dj = cli_fleet_dataset_json(&fl);
    if (dj)
        json_object_set_new(o, "dataset", dj);
    json_dumpf(o, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    fflush(stdout); /* before the teardown, so that nothing measured can be lost */
    json_decref(o);
out:
    sb_fleet_free(f);
    sb_trace_free(trace);
    cli_fleet_free(&fl);
    cli_role_free(&r);
    return exit_code;
}
