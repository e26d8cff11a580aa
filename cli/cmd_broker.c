/* `sealbench broker`: run a private Mosquitto broker until SIGINT or SIGTERM, for split-role
 * runs (gateway and devices in separate processes) and for inspecting what the suite runs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/role_opts.h"
#include "transport/broker.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_broker = {
    .name = "broker",
    .summary = "run a private Mosquitto broker on 127.0.0.1 until interrupted",
    .help = "usage: sealbench broker [--port N] [--persistence] [--print-config]\n"
            "                        [--tls-cert F --tls-key F [--tls-cafile F] [--require-cert]]\n\n"
            "Starts Mosquitto on 127.0.0.1 with a generated configuration (TCP_NODELAY on, no\n"
            "queue limits, persistence off unless asked) in a private folder, waits until it\n"
            "accepts connections, and prints 'uri tcp://127.0.0.1:PORT' ('uri ssl://...' with\n"
            "TLS), 'pid N', 'version V' and 'dir PATH', one per line. Stops the broker and\n"
            "removes the folder on SIGINT, SIGTERM or SIGHUP; the broker also dies if sealbench\n"
            "is killed.\n\n"
            "Options:\n"
            "  --port N         listen on N instead of a free port\n"
            "  --persistence    keep sessions and queued messages across broker restarts\n"
            "  --print-config   also print the generated mosquitto.conf\n"
            "  --tls-cert F     make the listener TLS (v1.2 or later) with this certificate (PEM)\n"
            "  --tls-key F      the certificate's private key (PEM); needed with --tls-cert\n"
            "  --tls-cafile F   CA certificate(s) that client certificates must chain to\n"
            "  --require-cert   refuse clients without such a certificate (needs --tls-cafile)\n"
            "  --help           this text\n\n"
            "The TLS files must exist and be readable; the configuration names them by absolute\n"
            "path. The binary is $SEALBENCH_MOSQUITTO, else /usr/sbin/mosquitto, else 'mosquitto'.\n",
    .run = run,
};

static volatile sig_atomic_t stop_requested;

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"port", required_argument, NULL, 'p'},
                                             {"persistence", no_argument, NULL, 's'},
                                             {"print-config", no_argument, NULL, 'c'},
                                             {"tls-cafile", required_argument, NULL, 'A'},
                                             {"tls-cert", required_argument, NULL, 'C'},
                                             {"tls-key", required_argument, NULL, 'K'},
                                             {"require-cert", no_argument, NULL, 'R'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    sb_broker_opts opts = {0};
    int print_config = 0, c, code = -1;
    char *end;
    while ((c = cli_getopt(&sb_cmd_broker, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if (c == 'p') {
            long port = strtol(optarg, &end, 10);
            if (*end || port < 1 || port > 65535)
                return cli_usage_error("broker", "--port: expected 1 to 65535, found '%s'", optarg);
            opts.port = (int)port;
        } else if (c == 's') {
            opts.persistence = 1;
        } else if (c == 'c') {
            print_config = 1;
        } else if (c == 'A') {
            opts.tls_cafile = optarg;
        } else if (c == 'C') {
            opts.tls_certfile = optarg;
        } else if (c == 'K') {
            opts.tls_keyfile = optarg;
        } else if (c == 'R') {
            opts.tls_require_cert = 1;
        }
    }
    if (optind < argc)
        return cli_usage_error("broker", "unexpected argument '%s'", argv[optind]);
    /* The same rules sb_broker_start() enforces, reported as usage errors with the flags' names. */
    if (opts.tls_certfile && !opts.tls_keyfile)
        return cli_usage_error("broker", "--tls-cert needs --tls-key");
    if (opts.tls_keyfile && !opts.tls_certfile)
        return cli_usage_error("broker", "--tls-key needs --tls-cert");
    if (opts.tls_cafile && !opts.tls_certfile)
        return cli_usage_error("broker", "--tls-cafile needs --tls-cert and --tls-key");
    if (opts.tls_require_cert && !opts.tls_cafile)
        return cli_usage_error("broker", "--require-cert needs --tls-cafile");

    /* Our handlers first: the broker module leaves a program's own handlers in place. */
    cli_catch_stop(&stop_requested);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);

    sb_broker b;
    char err[512];
    if (sb_broker_start(&b, &opts, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench broker: %s\n", err);
        return 1;
    }
    printf("uri %s\npid %d\nversion %s\ndir %s\n", b.uri, (int)b.pid, b.version, b.dir);
    if (print_config)
        fputs(sb_broker_config_text(&b), stdout);
    fflush(stdout);
    /* Sleep until a stop signal; sigsuspend closes the race between the check and the wait. */
    while (!stop_requested)
        sigsuspend(&old);
    sb_broker_stop(&b);
    return 0;
}
