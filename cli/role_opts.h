/* The flags that `gateway`, `device` and `pair` share (--broker, TLS files, --prefix,
 * --backend, --suite, --group, --keys/--no-auth, --pad, --qos, --echo, ...) and their checks,
 * so that the three commands read and report them the same way. */
#ifndef SB_CLI_ROLE_OPTS_H
#define SB_CLI_ROLE_OPTS_H

#include <getopt.h>
#include <signal.h>
#include <stdint.h>

#include "ciphers/cipher.h"
#include "protocol/handshake.h"
#include "roles/roles.h"

enum {
    OPT_BROKER = 1000, OPT_CAFILE, OPT_CERT, OPT_KEY, OPT_PREFIX, OPT_BACKEND, OPT_SUITE,
    OPT_GROUP, OPT_KEYS, OPT_NO_AUTH, OPT_PAD, OPT_QOS, OPT_ECHO, OPT_PERSISTENT,
    OPT_CONNECT_TIMEOUT, OPT_REPLAY_WINDOW, OPT_GRACE, OPT_SAMPLES, OPT_NAGLE,
    OPT_ROLE_LAST
};

#define CLI_ROLE_LONGOPTS                                                                       \
    {"broker", required_argument, NULL, OPT_BROKER},                                            \
    {"cafile", required_argument, NULL, OPT_CAFILE},                                            \
    {"cert", required_argument, NULL, OPT_CERT}, {"key", required_argument, NULL, OPT_KEY},    \
    {"prefix", required_argument, NULL, OPT_PREFIX},                                            \
    {"backend", required_argument, NULL, OPT_BACKEND},                                          \
    {"suite", required_argument, NULL, OPT_SUITE},                                              \
    {"group", required_argument, NULL, OPT_GROUP},                                              \
    {"keys", required_argument, NULL, OPT_KEYS}, {"no-auth", no_argument, NULL, OPT_NO_AUTH},  \
    {"pad", required_argument, NULL, OPT_PAD}, {"qos", required_argument, NULL, OPT_QOS},      \
    {"echo", no_argument, NULL, OPT_ECHO}, {"persistent", no_argument, NULL, OPT_PERSISTENT},  \
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},                          \
    {"replay-window", required_argument, NULL, OPT_REPLAY_WINDOW},                              \
    {"grace", required_argument, NULL, OPT_GRACE},                                              \
    {"samples", required_argument, NULL, OPT_SAMPLES},                                          \
    {"nagle", no_argument, NULL, OPT_NAGLE}

/* The help lines of the shared flags. */
#define CLI_ROLE_HELP                                                                           \
    "  --broker URI         tcp://host:port or ssl://host:port (TLS)\n"                         \
    "  --cafile FILE        ssl://: CA certificate to verify the broker with\n"                \
    "  --cert FILE          ssl://: client certificate, for mutual TLS (with --key)\n"         \
    "  --key FILE           ssl://: client private key\n"                                       \
    "  --prefix P           topic prefix (default sealbench): topics P/D/hs, P/D/up, ...\n"    \
    "  --backend NAME       openssl, sodium or mbedtls (default openssl)\n"                 \
    "  --keys FILE          pre-shared keys, one 'device_id psk_hex' per line\n"               \
    "  --no-auth            no PSK (32 zero bytes): open to a man in the middle; every\n"      \
    "                       result says auth=none\n"                                            \
    "  --pad N              pad message bodies to a multiple of N bytes (default 0: none)\n"   \
    "  --qos 0|1|2          MQTT QoS of telemetry and echoes (default 0; handshakes use >= 1)\n" \
    "  --echo               gateway: echo each opened message; device: measure round trips\n"  \
    "  --persistent         persistent MQTT sessions (clean session off), reconnecting and\n"  \
    "                       buffering across a broker restart\n"                               \
    "  --connect-timeout S  give up connecting after S seconds (default 5)\n"                  \
    "  --replay-window W    replay window, 1 to 4096 (default 64)\n"                           \
    "  --grace S            seconds the previous epoch stays valid after a rekey (default 5)\n" \
    "  --samples FILE       write one CSV row per message (seal, open, latency; results/README)\n" \
    "  --nagle              leave Nagle's algorithm on, as Paho does (default: TCP_NODELAY,\n"  \
    "                       so that no packet waits up to 40 ms for a delayed ACK)\n"

typedef struct cli_role {
    const char *cmd;
    const char *backend, *suite, *group; /* as given */
    int no_auth, size_set;
    sb_role_link link;       /* everything else the flags say, and the backend once resolved */
    /* resolved by cli_role_finish */
    const sb_suite *suite_d; /* first of --suite */
    const sb_group *group_d; /* first of --group */
    sb_hs_policy policy;     /* every --suite / --group listed, or all the backend offers */
} cli_role;

void cli_role_init(cli_role *r, const char *cmd);

/* Take option c if it is one of the shared ones: returns 0 if taken, 1 if not ours, 2 after
 * printing a usage error. */
int cli_role_option(cli_role *r, int c, const char *arg);

/* Check the flags together and resolve names. multi: --suite and --group may be comma lists
 * (the gateway's policy). Returns 0, or the exit code after printing the error (2 usage, 1 a
 * backend that cannot do what was asked). */
int cli_role_finish(cli_role *r, int multi);

/* The device-side flags (device and pair commands). */
enum {
    OPT_DEVICES = OPT_ROLE_LAST + 20, OPT_FIRST, OPT_COUNT, OPT_SIZE, OPT_RATE, OPT_REKEY_MESSAGES,
    OPT_REKEY_SECONDS, OPT_INFLIGHT, OPT_HS_TIMEOUT, OPT_DRAIN, OPT_DATASET, OPT_DESCRIBE,
    OPT_ENCODING, OPT_SPEED, OPT_WARMUP, OPT_COUNTERS, OPT_FLEET_LAST
};

#define CLI_FLEET_LONGOPTS                                                                      \
    {"devices", required_argument, NULL, OPT_DEVICES},                                          \
    {"first", required_argument, NULL, OPT_FIRST},                                              \
    {"count", required_argument, NULL, OPT_COUNT}, {"size", required_argument, NULL, OPT_SIZE}, \
    {"rate", required_argument, NULL, OPT_RATE},                                                \
    {"rekey-messages", required_argument, NULL, OPT_REKEY_MESSAGES},                            \
    {"rekey-seconds", required_argument, NULL, OPT_REKEY_SECONDS},                              \
    {"inflight", required_argument, NULL, OPT_INFLIGHT},                                        \
    {"hs-timeout", required_argument, NULL, OPT_HS_TIMEOUT},                                    \
    {"drain", required_argument, NULL, OPT_DRAIN},                                              \
    {"dataset", required_argument, NULL, OPT_DATASET},                                          \
    {"describe", required_argument, NULL, OPT_DESCRIBE},                                        \
    {"encoding", required_argument, NULL, OPT_ENCODING},                                        \
    {"speed", required_argument, NULL, OPT_SPEED},                                              \
    {"warmup", required_argument, NULL, OPT_WARMUP},                                            \
    {"counters", no_argument, NULL, OPT_COUNTERS}

#define CLI_FLEET_HELP                                                                          \
    "  --devices N          devices in this process, ids dev-0001... (default 1)\n"           \
    "  --first K            number of the first device id (default 1)\n"                      \
    "  --count N            messages per device (default 1000)\n"                             \
    "  --size BYTES         plaintext bytes per message (default 256)\n"                      \
    "  --rate HZ            messages per second per device (default: as fast as possible)\n"  \
    "  --rekey-messages N   new handshake after N messages in an epoch; sealing goes on under\n" \
    "                       the old epoch until the ACCEPT, up to 2N, then waits for it\n"    \
    "  --rekey-seconds S    new handshake every S seconds\n"                                   \
    "  --inflight N         publishes per device not yet finished (default 1024)\n"            \
    "  --hs-timeout S       resend a HELLO after S seconds without ACCEPT, 3 tries (default 5)\n" \
    "  --drain S            wait at most S seconds for acknowledgements and echoes (default 10)\n" \
    "  --dataset FILE       send the records of a CSV dataset instead of synthetic payloads:\n" \
    "                       one device per value of its device column (dev-0001 is the first\n" \
    "                       seen), all its records unless --count; --devices N: N sessions,\n"  \
    "                       the first N patients, or all of them round-robin when it has fewer\n" \
    "                       (session k sends patient k mod P under its own id and keys)\n"      \
    "  --describe FILE      the dataset's description (default: FILE.dataset beside the CSV)\n" \
    "  --encoding E         payload encoding of records: json (default), csv or cbor\n"      \
    "  --speed X            pace by the dataset's timestamps, X times real time (default: as\n" \
    "                       fast as possible, or --rate)\n"                                     \
    "  --warmup N           send N more messages per device first, marked as warm-up in\n"   \
    "                       --samples (default 0)\n"                                          \
    "  --counters           count cycles and instructions (PAPI) of the publishing thread;\n" \
    "                       where the machine has none, say why\n"

/* Take option c if it is one of the device-side ones, into s (as cli_role_option). */
int cli_fleet_option(cli_role *r, sb_device_spec *s, int c, const char *arg);

/* The device side's flags checked together, with r's (after cli_role_finish) copied into
 * s->link, suite and group: 0, or 2 after printing the usage error. */
int cli_fleet_finish(const cli_role *r, sb_device_spec *s);

/* Number parsers that print a usage error naming the flag: return 0 or 2. */
int cli_parse_u64(const char *cmd, const char *flag, const char *s, uint64_t min, uint64_t max,
                  uint64_t *out);
int cli_parse_double(const char *cmd, const char *flag, const char *s, double min, double max,
                     double *out);

/* Print a role's report as one JSON line on stdout, flushed (sb_role_link.measured: the CLI
 * prints before the teardown). ctx is the command name; its error, if any, goes to stderr. */
void cli_print_report(void *ctx, const sb_role_report *r);

#endif
