/* `sealbench gateway`: answer handshakes and open sealed telemetry until --expect messages,
 * --duration seconds or a signal, then print the counters as one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/role_opts.h"
#include "roles/roles.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_gateway = {
    .name = "gateway",
    .summary = "answer handshakes and open sealed telemetry over MQTT",
    .help =
        "usage: sealbench gateway (--keys FILE | --no-auth) [--broker URI] [OPTIONS]\n\n"
        "Subscribes to P/+/hs and P/+/up, answers each valid HELLO with an ACCEPT, opens every\n"
        "sealed message and counts, per device, what was accepted and what was rejected and\n"
        "why. Runs until --expect messages were accepted, --duration seconds passed, or\n"
        "SIGINT/SIGTERM, then prints one JSON object on stdout and exits 0.\n\n"
        "Without --broker it starts a private Mosquitto on 127.0.0.1 and says where on stderr.\n"
        "'gateway: ready on URI' on stderr means it is subscribed and devices may start.\n\n"
        "Options:\n" CLI_ROLE_HELP
        "  --suite LIST         suites to accept, comma separated (default: all the backend has)\n"
        "  --group LIST         groups to accept (default: all the backend has)\n"
        "  --expect N           stop after N accepted messages\n"
        "  --duration S         stop after S seconds\n"
        "  --verify             check that each opened payload is the synthetic message the\n"
        "                       device sealed, and count duplicates\n"
        "  --max-devices N      --no-auth: most devices HELLOs may create (default 100000)\n"
        "  --help               this text\n\n"
        "Output: accepted, rejected {short, version, flags, suite, epoch, replay, too_old, auth,\n"
        "padding, handshake}, handshakes, rekeys, echoed, missing (sequence numbers never\n"
        "opened), duplicates/mismatched (--verify), msgs_per_s, t_first_ns/t_last_ns\n"
        "(CLOCK_MONOTONIC), device_count and devices {id: the same counters}. auth is 'psk' or\n"
        "'none'.\n",
    .run = run,
};

enum { OPT_EXPECT = OPT_ROLE_LAST + 1, OPT_DURATION, OPT_VERIFY, OPT_MAX_DEVICES };

/* Subscribed: say so on stderr, the line scripts wait for. */
static void ready(void *ctx, const sb_role_broker *b)
{
    const sb_gateway_spec *s = ctx;
    if (b->is_private)
        fprintf(stderr, "gateway: private broker %s (mosquitto %s)\n", b->uri, b->version);
    fprintf(stderr, "gateway: ready on %s (prefix %s, auth %s, backend %s)\n", b->uri,
            s->link.prefix, s->link.keys_path ? "psk" : "none", s->link.backend->name);
    fflush(stderr);
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_ROLE_LONGOPTS,
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"max-devices", required_argument, NULL, OPT_MAX_DEVICES},
        {"help", no_argument, NULL, 'h'},
        {0}};
    cli_role r;
    sb_gateway_spec s;
    cli_role_init(&r, "gateway");
    sb_gateway_spec_init(&s);
    uint64_t max_devices = 0;
    int c, code = -1, rc;
    while ((c = cli_getopt(&sb_cmd_gateway, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if ((rc = cli_role_option(&r, c, optarg)) == 0)
            continue;
        if (rc == 2)
            return 2;
        switch (c) {
        case OPT_EXPECT:
            if (cli_parse_u64("gateway", "--expect", optarg, 1, UINT64_MAX, &s.expect))
                return 2;
            break;
        case OPT_DURATION:
            if (cli_parse_double("gateway", "--duration", optarg, 0.001, 1e7, &s.duration_s))
                return 2;
            break;
        case OPT_VERIFY: s.verify = 1; break;
        case OPT_MAX_DEVICES:
            if (cli_parse_u64("gateway", "--max-devices", optarg, 1, 10000000, &max_devices))
                return 2;
            break;
        }
    }
    if (optind < argc)
        return cli_usage_error("gateway", "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_role_finish(&r, 1)))
        return rc;
    s.link = r.link;
    s.policy = r.policy;
    s.max_devices = (size_t)max_devices;
    s.ready = ready;
    s.ready_ctx = &s;
    s.link.measured = cli_print_report;
    s.link.measured_ctx = (void *)"gateway";
    volatile sig_atomic_t stop = 0;
    cli_catch_stop(&stop);
    sb_role_report rep;
    int exit_code = sb_role_gateway(&s, &stop, &rep);
    sb_role_report_free(&rep);
    return exit_code;
}
