/* `sealbench device`: one or many devices that handshake, publish sealed telemetry, rekey on
 * schedule and measure round trips, then print one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/role_opts.h"
#include "roles/roles.h"

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
    sb_device_spec s;
    cli_role_init(&r, "device");
    sb_device_spec_init(&s);
    int c, code = -1, rc;
    while ((c = cli_getopt(&sb_cmd_device, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if ((rc = cli_role_option(&r, c, optarg)) == 0)
            continue;
        if (rc == 2)
            return 2;
        if ((rc = cli_fleet_option(&r, &s, c, optarg)) == 2)
            return 2;
    }
    if (optind < argc)
        return cli_usage_error("device", "unexpected argument '%s'", argv[optind]);
    if (!r.link.broker)
        return cli_usage_error("device", "--broker URI is required (the gateway prints its "
                                         "broker; or run 'sealbench pair' for both in one process)");
    if ((rc = cli_role_finish(&r, 0)) || (rc = cli_fleet_finish(&r, &s)))
        return rc;
    volatile sig_atomic_t stop = 0;
    cli_catch_stop(&stop);
    s.link.measured = cli_print_report;
    s.link.measured_ctx = (void *)"device";
    sb_role_report rep;
    int exit_code = sb_role_device(&s, &stop, &rep);
    sb_role_report_free(&rep);
    return exit_code;
}
