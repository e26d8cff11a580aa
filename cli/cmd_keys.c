/* `sealbench keys`: make a keys file with fresh random pre-shared keys. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/role_opts.h"
#include "common/util.h"
#include "transport/fleet.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_keys = {
    .name = "keys",
    .summary = "print a keys file with fresh random PSKs for N devices",
    .help = "usage: sealbench keys --devices N [--first K] [--backend NAME]\n\n"
            "Prints 'dev-0001 <64 hex digits>' lines (devices K to K+N-1, default K=1), each PSK\n"
            "32 bytes from the backend's CSPRNG (default openssl). Give the same file to the\n"
            "gateway and the devices with --keys. Keep it private: the keys authenticate the\n"
            "handshakes.\n\n"
            "Options:\n"
            "  --devices N   how many devices\n"
            "  --first K     number of the first device (default 1)\n"
            "  --backend B   whose random generator to use\n"
            "  --help        this text\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"devices", required_argument, NULL, 'n'},
                                             {"first", required_argument, NULL, 'f'},
                                             {"backend", required_argument, NULL, 'b'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    uint64_t n = 0, first = 1;
    const char *backend = "openssl";
    int c, code = -1;
    while ((c = cli_getopt(&sb_cmd_keys, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if (c == 'n' && cli_parse_u64("keys", "--devices", optarg, 1, 1000000, &n))
            return 2;
        if (c == 'f' && cli_parse_u64("keys", "--first", optarg, 0, 100000000, &first))
            return 2;
        if (c == 'b')
            backend = optarg;
    }
    if (optind < argc)
        return cli_usage_error("keys", "unexpected argument '%s'", argv[optind]);
    if (!n)
        return cli_usage_error("keys", "--devices N is required");
    int code_be = 2;
    const sb_backend *be = cli_backend_arg("keys", "--backend", backend, &code_be);
    if (!be)
        return code_be;
    if (be->setup && be->setup() != SB_OK) {
        fprintf(stderr, "sealbench keys: %s cannot be initialised\n", be->name);
        return 1;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint8_t psk[SB_PSK_BYTES];
        char hex[2 * SB_PSK_BYTES + 1], id[32];
        if (be->random(psk, sizeof psk) != SB_OK) {
            fprintf(stderr, "sealbench keys: the random generator of %s failed\n", be->name);
            return 1;
        }
        sb_hex_encode(psk, sizeof psk, hex);
        sb_device_id((unsigned)(first + i), id, sizeof id);
        printf("%s %s\n", id, hex);
        sb_wipe(psk, sizeof psk);
        sb_wipe(hex, sizeof hex);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
