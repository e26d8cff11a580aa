/* `sealbench pair`: a private broker, a gateway and a fleet of devices in one process, for
 * experiments and tests that need one command to produce one record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/role_opts.h"
#include "roles/roles.h"

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
    cli_role r;
    sb_pair_spec s;
    cli_role_init(&r, "pair");
    sb_pair_spec_init(&s);
    const char *gw_backend = NULL;
    int c, code = -1, rc;
    while ((c = cli_getopt(&sb_cmd_pair, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if ((rc = cli_role_option(&r, c, optarg)) == 0)
            continue;
        if (rc == 2)
            return 2;
        if ((rc = cli_fleet_option(&r, &s.device, c, optarg)) == 0)
            continue;
        if (rc == 2)
            return 2;
        switch (c) {
        case OPT_GW_BACKEND: gw_backend = optarg; break;
        case OPT_NO_VERIFY: s.no_verify = 1; break;
        case OPT_BROKER_PERSIST: s.broker_persistence = 1; break;
        case OPT_RESTART_AT:
            if (cli_parse_u64("pair", "--restart-broker-at", optarg, 1, UINT64_MAX, &s.restart_at))
                return 2;
            break;
        case OPT_RESTART_OUTAGE:
            if (cli_parse_double("pair", "--restart-outage", optarg, 0, 3600,
                                 &s.restart_outage_s))
                return 2;
            break;
        case OPT_RESTART_MODE:
            if (strcmp(optarg, "graceful") == 0)
                s.restart_kill = 0;
            else if (strcmp(optarg, "kill") == 0)
                s.restart_kill = 1;
            else
                return cli_usage_error("pair", "--restart-mode: expected graceful or kill, "
                                               "found '%s'",
                                       optarg);
            break;
        }
    }
    if (optind < argc)
        return cli_usage_error("pair", "unexpected argument '%s'", argv[optind]);
    if (s.restart_at && r.link.broker)
        return cli_usage_error("pair", "--restart-broker-at needs the private broker, not --broker");
    if ((rc = cli_role_finish(&r, 0)) || (rc = cli_fleet_finish(&r, &s.device)))
        return rc;
    if (gw_backend &&
        !(s.gateway_backend = cli_backend_arg("pair", "--gateway-backend", gw_backend, &rc)))
        return rc;
    volatile sig_atomic_t stop = 0;
    cli_catch_stop(&stop);
    s.device.link.measured = cli_print_report;
    s.device.link.measured_ctx = (void *)"pair";
    sb_role_report rep;
    int exit_code = sb_role_pair(&s, &stop, &rep);
    sb_role_report_free(&rep);
    return exit_code;
}
