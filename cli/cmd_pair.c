/* `sealbench pair`: a private broker, a gateway and a fleet of devices in one process, for
 * experiments and tests that need one command to produce one record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/measure.h"
#include "cli/role_opts.h"
#include "common/util.h"
#include "transport/broker.h"
#include "transport/fleet.h"
#include "transport/gateway.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_pair = {
    .name = "pair",
    .summary = "run a broker, a gateway and devices in one process",
    .help =
        "usage: sealbench pair (--keys FILE | --no-auth) [OPTIONS]\n\n"
        "Starts a private Mosquitto (unless --broker), a gateway and --devices devices in this\n"
        "process, runs the devices to the end, waits for the gateway to open what arrives, and\n"
        "prints {\"broker\": ..., \"gateway\": ..., \"device\": ...} as one JSON object (the\n"
        "objects of 'sealbench gateway' and 'sealbench device'). Exits 0 if every device\n"
        "finished.\n\n"
        "Options:\n" CLI_ROLE_HELP
        "  --suite NAME         suite the devices propose (the gateway accepts all it has)\n"
        "  --group NAME         group the devices propose\n"
        "  --gateway-backend B  the gateway's backend, when it differs from --backend\n"
        "  --no-verify          skip the gateway's check of each opened payload (synthetic: its\n"
        "                       bytes and number; --dataset: that it is a record of its device)\n"
        "  --broker-persistence keep the private broker's sessions and messages on disk\n"
        "  --restart-broker-at N  restart the private broker once N messages were published\n"
        "  --restart-mode M     graceful (default; SIGTERM, persistence saved) or kill (SIGKILL)\n"
        "  --restart-outage S   keep the broker down S seconds before it starts again (default 0)\n"
        CLI_FLEET_HELP
        "  --help               this text\n",
    .run = run,
};

enum { OPT_GW_BACKEND = OPT_FLEET_LAST + 1, OPT_NO_VERIFY, OPT_BROKER_PERSIST, OPT_RESTART_AT,
       OPT_RESTART_MODE, OPT_RESTART_OUTAGE };

typedef struct restart_plan {
    sb_broker *broker;
    uint64_t at;
    int graceful, done;
    double outage_s;
    sb_err rc;
    char err[256];
    uint64_t took_ns;
} restart_plan;

static void maybe_restart(void *ctx, uint64_t published)
{
    restart_plan *p = ctx;
    if (p->done || !p->at || published < p->at)
        return;
    p->done = 1;
    uint64_t t0 = sb_now_ns();
    p->rc = sb_broker_restart(p->broker, p->graceful, p->outage_s, p->err, sizeof p->err);
    p->took_ns = sb_now_ns() - t0;
    if (p->rc != SB_OK)
        fprintf(stderr, "sealbench pair: broker restart failed: %s\n", p->err);
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_ROLE_LONGOPTS, CLI_FLEET_LONGOPTS,
        {"gateway-backend", required_argument, NULL, OPT_GW_BACKEND},
        {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
        {"broker-persistence", no_argument, NULL, OPT_BROKER_PERSIST},
        {"restart-broker-at", required_argument, NULL, OPT_RESTART_AT},
        {"restart-mode", required_argument, NULL, OPT_RESTART_MODE},
        {"restart-outage", required_argument, NULL, OPT_RESTART_OUTAGE},
        {"help", no_argument, NULL, 'h'}, {0}};
    cli_role r, gr;
    cli_fleet fl;
    cli_role_init(&r, "pair");
    cli_fleet_init(&fl);
    const char *gw_backend = NULL;
    int verify = 1, persistence = 0, c, code = -1, rc;
    restart_plan plan = {.graceful = 1};
    while ((c = cli_getopt(&sb_cmd_pair, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if ((rc = cli_role_option(&r, c, optarg)) == 0)
            continue;
        if (rc == 2)
            return 2;
        if ((rc = cli_fleet_option("pair", &fl, c, optarg)) == 0)
            continue;
        if (rc == 2)
            return 2;
        switch (c) {
        case OPT_GW_BACKEND: gw_backend = optarg; break;
        case OPT_NO_VERIFY: verify = 0; break;
        case OPT_BROKER_PERSIST: persistence = 1; break;
        case OPT_RESTART_AT:
            if (cli_parse_u64("pair", "--restart-broker-at", optarg, 1, UINT64_MAX, &plan.at))
                return 2;
            break;
        case OPT_RESTART_OUTAGE:
            if (cli_parse_double("pair", "--restart-outage", optarg, 0, 3600, &plan.outage_s))
                return 2;
            break;
        case OPT_RESTART_MODE:
            if (strcmp(optarg, "graceful") == 0)
                plan.graceful = 1;
            else if (strcmp(optarg, "kill") == 0)
                plan.graceful = 0;
            else
                return cli_usage_error("pair", "--restart-mode: expected graceful or kill, "
                                               "found '%s'",
                                       optarg);
            break;
        }
    }
    if (optind < argc)
        return cli_usage_error("pair", "unexpected argument '%s'", argv[optind]);
    if (plan.at && r.broker)
        return cli_usage_error("pair", "--restart-broker-at needs the private broker, not --broker");
    if ((rc = cli_role_finish(&r, 0)))
        return rc;
    if ((rc = cli_fleet_load_dataset("pair", &fl))) {
        cli_fleet_free(&fl);
        cli_role_free(&r);
        return rc;
    }
    /* The gateway's flags are the device's, except its backend and its policy: every real
     * suite and group of its backend, and whatever the devices propose (the null suite
     * included: the baseline must be measurable). */
    gr = r;
    gr.backend = gw_backend ? gw_backend : r.backend;
    if (!(gr.be = sb_backend_by_name(gr.backend))) {
        cli_role_free(&r);
        return cli_usage_error("pair", "--gateway-backend: unknown backend '%s'", gr.backend);
    }
    gr.policy = cli_backend_policy(gr.be);
    gr.policy.suites |= 1u << r.suite_d->id;
    gr.policy.groups |= 1u << r.group_d->id;

    volatile sig_atomic_t stop = 0;
    sb_broker broker;
    char err[512];
    const char *uri;
    int exit_code = 1;
    sb_gateway *g = NULL;
    sb_fleet *f = NULL;
    sb_trace *trace = NULL;
    json_t *out = json_object();
    if (cli_role_begin(&r, &stop, persistence, &broker, &uri))
        goto done;
    json_t *bj = json_object();
    json_object_set_new(bj, "uri", json_string(uri));
    json_object_set_new(bj, "private", json_boolean(!r.broker));
    if (!r.broker) {
        json_object_set_new(bj, "version", json_string(broker.version));
        json_object_set_new(bj, "config", json_string(sb_broker_config_text(&broker)));
    }
    json_object_set_new(bj, "paho", json_string(sb_mqtt_version()));
    json_object_set_new(out, "broker", bj);

    sb_fleet_config fc = cli_fleet_config(&r, &fl, uri);
    int tfail = 0;
    trace = cli_trace_new(&r, &fc, fl.warmup, &tfail);
    if (tfail)
        goto done;
    fc.trace = trace;
    sb_gateway_config gc = cli_gateway_config(&gr, uri);
    gc.trace = trace;
    gc.verify = verify;
    if (fl.player) { /* dataset payloads: the gateway checks each is a record of its device */
        gc.check = cli_fleet_dataset_check;
        gc.check_ctx = &fl;
    }
    if (sb_gateway_start(&g, &gc, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench pair: gateway: %s\n", err);
        goto done;
    }
    plan.broker = &broker;
    if (plan.at) {
        fc.progress = maybe_restart;
        fc.progress_ctx = &plan;
    }
    if (sb_fleet_connect(&f, &fc, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench pair: device: %s\n", err);
        goto done;
    }
    cli_counting k;
    int ok = sb_fleet_handshake(f, &stop, err, sizeof err) == SB_OK;
    cli_counting_start(&k, fl.counters);
    ok = ok && sb_fleet_publish(f, &stop, err, sizeof err) == SB_OK;
    cli_counting_stop(&k);
    if (!ok)
        fprintf(stderr, "sealbench pair: device: %s\n", err);
    /* Whatever was published may still be on its way to the gateway. */
    double drain = !ok ? 0.2 : fl.drain_s > 0 ? fl.drain_s : 10.0;
    sb_gateway_stop why = sb_gateway_wait(g, sb_fleet_sent(f), drain, &stop);
    json_object_set_new(out, "gateway", sb_gateway_json(g, why));
    json_object_set_new(out, "device", sb_fleet_json(f));
    json_t *kj = cli_counting_json(&k);
    if (kj)
        json_object_set_new(out, "counters", kj);
    json_object_set_new(out, "process", cli_process_json());
    json_t *bcpu = !r.broker && broker.pid ? cli_pid_cpu_json((long)broker.pid) : NULL;
    if (bcpu)
        json_object_set_new(json_object_get(out, "broker"), "cpu", bcpu);
    json_t *dj = cli_fleet_dataset_json(&fl);
    if (dj)
        json_object_set_new(out, "dataset", dj);
    if (plan.at) {
        json_t *rj = json_object();
        json_object_set_new(rj, "at", json_integer((json_int_t)plan.at));
        json_object_set_new(rj, "mode", json_string(plan.graceful ? "graceful" : "kill"));
        json_object_set_new(rj, "outage_s", json_real(plan.outage_s));
        json_object_set_new(rj, "done", json_boolean(plan.done));
        json_object_set_new(rj, "ok", json_boolean(plan.done && plan.rc == SB_OK));
        json_object_set_new(rj, "took_s", json_real((double)plan.took_ns / 1e9));
        json_object_set_new(out, "restart", rj);
        if (!plan.done || plan.rc != SB_OK)
            ok = 0;
    }
    /* Samples only of the messages that were accounted for: after the drain. */
    if (cli_trace_write(&r, trace))
        ok = 0;
    if (ok && !stop)
        exit_code = 0;
done:
    json_dumpf(out, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    fflush(stdout); /* before the teardown, so that nothing measured can be lost */
    json_decref(out);
    sb_fleet_free(f);
    sb_gateway_free(g);
    if (broker.pid || broker.dir[0])
        sb_broker_stop(&broker);
    sb_trace_free(trace);
    cli_fleet_free(&fl);
    cli_role_free(&r);
    return exit_code;
}
