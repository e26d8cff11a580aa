/* `sealbench gateway`: answer handshakes and open sealed telemetry until --expect messages,
 * --duration seconds or a signal, then print the counters as one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/measure.h"
#include "cli/role_opts.h"
#include "common/util.h"
#include "transport/broker.h"
#include "transport/gateway.h"

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
    cli_role_init(&r, "gateway");
    uint64_t expect = 0, max_devices = 0;
    double duration = 0;
    int verify = 0, c, code = -1, rc;
    while ((c = cli_getopt(&sb_cmd_gateway, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if ((rc = cli_role_option(&r, c, optarg)) == 0)
            continue;
        if (rc == 2)
            return 2;
        switch (c) {
        case OPT_EXPECT:
            if (cli_parse_u64("gateway", "--expect", optarg, 1, UINT64_MAX, &expect))
                return 2;
            break;
        case OPT_DURATION:
            if (cli_parse_double("gateway", "--duration", optarg, 0.001, 1e7, &duration))
                return 2;
            break;
        case OPT_VERIFY: verify = 1; break;
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

    volatile sig_atomic_t stop = 0;
    sb_broker broker;
    char err[512];
    const char *uri;
    int exit_code = 1;
    sb_gateway *g = NULL;
    sb_trace *trace = NULL;
    if (cli_role_begin(&r, &stop, 0, &broker, &uri))
        goto out;
    if (!r.broker)
        fprintf(stderr, "gateway: private broker %s (mosquitto %s)\n", uri, broker.version);
    int tfail = 0;
    trace = cli_trace_new(&r, NULL, 0, &tfail);
    if (tfail)
        goto out;
    sb_gateway_config gc = cli_gateway_config(&r, uri);
    gc.trace = trace;
    gc.verify = verify;
    gc.max_devices = (size_t)max_devices;
    if (sb_gateway_start(&g, &gc, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench gateway: %s\n", err);
        goto out;
    }
    fprintf(stderr, "gateway: ready on %s (prefix %s, auth %s, backend %s)\n", uri, r.prefix,
            r.have_keys ? "psk" : "none", r.be->name);
    fflush(stderr);
    sb_gateway_stop why = sb_gateway_wait(g, expect, duration, &stop);
    json_t *o = sb_gateway_json(g, why);
    json_t *b = json_object();
    json_object_set_new(b, "uri", json_string(uri));
    json_object_set_new(b, "private", json_boolean(!r.broker));
    if (!r.broker)
        json_object_set_new(b, "version", json_string(broker.version));
    json_object_set_new(o, "broker", b);
    json_object_set_new(o, "paho", json_string(sb_mqtt_version()));
    json_object_set_new(o, "process", cli_process_json());
    if (!r.broker && broker.pid) {
        json_t *bcpu = cli_pid_cpu_json((long)broker.pid);
        if (bcpu)
            json_object_set_new(b, "cpu", bcpu);
    }
    json_dumpf(o, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(o);
    exit_code = cli_trace_write(&r, trace);
out:
    sb_gateway_free(g);
    sb_trace_free(trace);
    if (broker.pid)
        sb_broker_stop(&broker);
    cli_role_free(&r);
    return exit_code;
}
