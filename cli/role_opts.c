/* Shared flags of the gateway, device and pair commands (cli/role_opts.h). */
#include "cli/role_opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "datasets/encode.h"
#include "datasets/player.h"
#include "protocol/replay.h"
#include "transport/topics.h"

void cli_role_init(cli_role *r, const char *cmd)
{
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    r->prefix = "sealbench";
    r->backend = "openssl";
}

int cli_parse_u64(const char *cmd, const char *flag, const char *s, uint64_t min, uint64_t max,
                  uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v < min || v > max)
        return cli_usage_error(cmd, "%s: expected a whole number from %llu to %llu, found '%s'",
                               flag, (unsigned long long)min, (unsigned long long)max, s);
    *out = v;
    return 0;
}

int cli_parse_double(const char *cmd, const char *flag, const char *s, double min, double max,
                     double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < min || v > max)
        return cli_usage_error(cmd, "%s: expected a number from %g to %g, found '%s'", flag, min,
                               max, s);
    *out = v;
    return 0;
}

int cli_role_option(cli_role *r, int c, const char *arg)
{
    uint64_t u;
    int rc;
    switch (c) {
    case OPT_BROKER: r->broker = arg; return 0;
    case OPT_CAFILE: r->cafile = arg; return 0;
    case OPT_CERT: r->cert = arg; return 0;
    case OPT_KEY: r->key = arg; return 0;
    case OPT_PREFIX: r->prefix = arg; return 0;
    case OPT_BACKEND: r->backend = arg; return 0;
    case OPT_SUITE: r->suite = arg; return 0;
    case OPT_GROUP: r->group = arg; return 0;
    case OPT_KEYS: r->keys = arg; return 0;
    case OPT_NO_AUTH: r->no_auth = 1; return 0;
    case OPT_ECHO: r->echo = 1; return 0;
    case OPT_PERSISTENT: r->persistent = 1; return 0;
    case OPT_NAGLE: r->nagle = 1; return 0;
    case OPT_PAD:
        if ((rc = cli_parse_u64(r->cmd, "--pad", arg, 0, 4096, &u)))
            return rc;
        r->pad = (size_t)u;
        return 0;
    case OPT_QOS:
        if ((rc = cli_parse_u64(r->cmd, "--qos", arg, 0, 2, &u)))
            return rc;
        r->qos = (int)u;
        return 0;
    case OPT_REPLAY_WINDOW:
        if ((rc = cli_parse_u64(r->cmd, "--replay-window", arg, 1, SB_REPLAY_MAX_WINDOW, &u)))
            return rc;
        r->replay_window = (unsigned)u;
        return 0;
    case OPT_CONNECT_TIMEOUT:
        return cli_parse_double(r->cmd, "--connect-timeout", arg, 0.1, 3600, &r->connect_timeout_s);
    case OPT_GRACE:
        return cli_parse_double(r->cmd, "--grace", arg, 0.001, 86400, &r->grace_s);
    case OPT_SAMPLES: r->samples = arg; return 0;
    default:
        return 1;
    }
}

/* Parse a comma list of suite names into a bit mask; *first gets the first one. */
static int suite_list(cli_role *r, const char *list, int multi, unsigned *mask,
                      const sb_suite **first)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
        const sb_suite *s = sb_suite_by_name(t);
        if (!s)
            return cli_usage_error(r->cmd, "--suite: unknown suite '%s' (see 'sealbench list')",
                                   t);
        sb_cipher c;
        const char *why = NULL;
        if (sb_cipher_get(r->be, s, &c, &why) != SB_OK) {
            fprintf(stderr, "sealbench %s: %s cannot do %s: %s\n", r->cmd, r->be->name, s->name,
                    why ? why : "unavailable");
            return 1;
        }
        *mask |= 1u << s->id;
        if (!*first)
            *first = s;
    }
    if (n == 0 || (n > 1 && !multi))
        return cli_usage_error(r->cmd, "--suite: expected %s, found '%s'",
                               multi ? "one or more suite names separated by commas"
                                     : "one suite name",
                               list);
    return 0;
}

static int group_list(cli_role *r, const char *list, int multi, unsigned *mask,
                      const sb_group **first)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
        const sb_group *g = sb_group_by_name(t);
        if (!g)
            return cli_usage_error(r->cmd, "--group: unknown group '%s' (x25519 or p256)", t);
        const char *why = NULL;
        if (!sb_kex_get(r->be, g, &why)) {
            fprintf(stderr, "sealbench %s: %s cannot do %s: %s\n", r->cmd, r->be->name, g->name,
                    why ? why : "unavailable");
            return 1;
        }
        *mask |= 1u << g->id;
        if (!*first)
            *first = g;
    }
    if (n == 0 || (n > 1 && !multi))
        return cli_usage_error(r->cmd, "--group: expected %s, found '%s'",
                               multi ? "group names separated by commas" : "one group name",
                               list);
    return 0;
}

sb_hs_policy cli_backend_policy(const sb_backend *be)
{
    sb_hs_policy p = {0};
    for (unsigned id = 1; id < 16; id++) {
        const sb_suite *s = sb_suite_by_id(id);
        sb_cipher c;
        if (s && sb_cipher_get(be, s, &c, NULL) == SB_OK)
            p.suites |= 1u << id;
    }
    for (unsigned id = 1; id < 8; id++) {
        const sb_group *g = sb_group_by_id(id);
        if (g && sb_kex_get(be, g, NULL))
            p.groups |= 1u << id;
    }
    return p;
}

int cli_role_finish(cli_role *r, int multi)
{
    int rc;
    if (!(r->be = sb_backend_by_name(r->backend)))
        return cli_usage_error(r->cmd, "--backend: unknown backend '%s' (see 'sealbench list')",
                               r->backend);
    const char *why = sb_prefix_problem(r->prefix);
    if (why)
        return cli_usage_error(r->cmd, "--prefix '%s': %s", r->prefix, why);
    if (r->keys && r->no_auth)
        return cli_usage_error(r->cmd, "--keys and --no-auth exclude each other");
    if (!r->keys && !r->no_auth)
        return cli_usage_error(r->cmd, "give --keys FILE (make one with 'sealbench keys') or "
                                       "--no-auth for the unauthenticated mode");
    if (!!r->cert != !!r->key)
        return cli_usage_error(r->cmd, "mutual TLS needs both --cert and --key");
    if ((r->cafile || r->cert) && r->broker && strncmp(r->broker, "ssl://", 6) != 0)
        return cli_usage_error(r->cmd, "--cafile/--cert/--key need an ssl:// broker, not '%s'",
                               r->broker);
    if (r->broker && strncmp(r->broker, "tcp://", 6) != 0 && strncmp(r->broker, "ssl://", 6) != 0)
        return cli_usage_error(r->cmd, "--broker: expected tcp://HOST:PORT or ssl://HOST:PORT, "
                                       "found '%s'",
                               r->broker);
    if (r->suite) {
        if ((rc = suite_list(r, r->suite, multi, &r->policy.suites, &r->suite_d)))
            return rc;
    } else {
        /* Default: the device proposes aes-128-gcm where the backend has it (libsodium does
         * not, so its first real suite); the gateway accepts everything its backend offers. */
        r->policy.suites = cli_backend_policy(r->be).suites;
        for (unsigned id = 1; id < 16 && !r->suite_d; id++)
            if (r->policy.suites & (1u << id))
                r->suite_d = sb_suite_by_id(id);
    }
    if (r->group) {
        if ((rc = group_list(r, r->group, multi, &r->policy.groups, &r->group_d)))
            return rc;
    } else {
        r->policy.groups = cli_backend_policy(r->be).groups;
        for (unsigned id = 1; id < 8 && !r->group_d; id++)
            if (r->policy.groups & (1u << id))
                r->group_d = sb_group_by_id(id);
    }
    if (r->keys) {
        char err[512];
        if (sb_keyfile_load(&r->kf, r->keys, err, sizeof err) != SB_OK) {
            fprintf(stderr, "sealbench %s: %s\n", r->cmd, err);
            return 1;
        }
        r->have_keys = 1;
    }
    if (r->no_auth)
        fprintf(stderr, "sealbench %s: auth=none: no pre-shared key, the handshake is open to a "
                        "man in the middle\n",
                r->cmd);
    return 0;
}

sb_mqtt_opts cli_role_mqtt(const cli_role *r, const char *uri)
{
    sb_mqtt_opts o = {.uri = uri,
                      .cafile = r->cafile,
                      .certfile = r->cert,
                      .keyfile = r->key,
                      .persistent = r->persistent,
                      .auto_reconnect = r->persistent,
                      .connect_timeout_s = r->connect_timeout_s,
                      .nagle = r->nagle};
    return o;
}

void cli_role_free(cli_role *r)
{
    if (r->have_keys)
        sb_keyfile_free(&r->kf);
    r->have_keys = 0;
}

void cli_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static volatile sig_atomic_t *stop_flag;

static void on_stop(int sig)
{
    if (stop_flag)
        *stop_flag = sig;
}

void cli_catch_stop(volatile sig_atomic_t *flag)
{
    stop_flag = flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void cli_fleet_init(cli_fleet *f)
{
    memset(f, 0, sizeof *f);
    f->devices = 1;
    f->first = 1;
    f->count = 1000;
    f->size = 256;
}

int cli_fleet_option(const char *cmd, cli_fleet *f, int c, const char *arg)
{
    switch (c) {
    case OPT_DEVICES:
        f->devices_set = 1;
        return cli_parse_u64(cmd, "--devices", arg, 1, 100000, &f->devices);
    case OPT_FIRST: return cli_parse_u64(cmd, "--first", arg, 0, 100000000, &f->first);
    case OPT_COUNT:
        f->count_set = 1;
        return cli_parse_u64(cmd, "--count", arg, 0, UINT64_C(1) << 40, &f->count);
    case OPT_SIZE:
        f->size_set = 1;
        return cli_parse_u64(cmd, "--size", arg, 0, 16 << 20, &f->size);
    case OPT_DATASET: f->dataset = arg; return 0;
    case OPT_DESCRIBE: f->describe = arg; return 0;
    case OPT_ENCODING:
        if ((f->encoding = sb_encoding_parse(arg)) < 0)
            return cli_usage_error(cmd, "--encoding: expected json, csv or cbor, found '%s'", arg);
        return 0;
    case OPT_SPEED: return cli_parse_double(cmd, "--speed", arg, 1e-6, 1e9, &f->speed);
    case OPT_RATE: return cli_parse_double(cmd, "--rate", arg, 0.001, 1e7, &f->rate);
    case OPT_REKEY_MESSAGES:
        return cli_parse_u64(cmd, "--rekey-messages", arg, 1, UINT64_C(1) << 32, &f->rekey_messages);
    case OPT_REKEY_SECONDS:
        return cli_parse_double(cmd, "--rekey-seconds", arg, 0.001, 1e7, &f->rekey_s);
    case OPT_INFLIGHT: return cli_parse_u64(cmd, "--inflight", arg, 1, 65535, &f->inflight);
    case OPT_HS_TIMEOUT:
        return cli_parse_double(cmd, "--hs-timeout", arg, 0.01, 3600, &f->hs_timeout_s);
    case OPT_DRAIN: return cli_parse_double(cmd, "--drain", arg, 0, 3600, &f->drain_s);
    case OPT_WARMUP: return cli_parse_u64(cmd, "--warmup", arg, 0, UINT64_C(1) << 32, &f->warmup);
    case OPT_COUNTERS: f->counters = 1; return 0;
    default: return 1;
    }
}

sb_fleet_config cli_fleet_config(const cli_role *r, cli_fleet *f, const char *uri)
{
    sb_fleet_config c = {.be = r->be,
                         .suite = r->suite_d,
                         .group = r->group_d,
                         .keys = r->have_keys ? &r->kf : NULL,
                         .prefix = r->prefix,
                         .devices = (unsigned)f->devices,
                         .first = (unsigned)f->first,
                         .messages = f->count + f->warmup,
                         .size = (size_t)f->size,
                         .rate_hz = f->rate,
                         .rekey_messages = f->rekey_messages,
                         .rekey_s = f->rekey_s,
                         .qos = r->qos,
                         .echo = r->echo,
                         .pad_to = r->pad,
                         .inflight = (unsigned)f->inflight,
                         .hs_timeout_s = f->hs_timeout_s,
                         .drain_s = f->drain_s,
                         .replay_window = r->replay_window,
                         .grace_ns = (uint64_t)(r->grace_s * 1e9),
                         .mqtt = cli_role_mqtt(r, uri)};
    if (f->player) {
        c.source = &f->src;
        c.devices = sb_player_devices(f->player);
        c.messages = f->count_set ? f->count + f->warmup : 0;
    }
    return c;
}

sb_gateway_config cli_gateway_config(const cli_role *r, const char *uri)
{
    sb_gateway_config c = {.be = r->be,
                           .policy = r->policy,
                           .keys = r->have_keys ? &r->kf : NULL,
                           .prefix = r->prefix,
                           .qos = r->qos,
                           .echo = r->echo,
                           .pad_to = r->pad,
                           .replay_window = r->replay_window,
                           .grace_ns = (uint64_t)(r->grace_s * 1e9),
                           .mqtt = cli_role_mqtt(r, uri)};
    return c;
}

int cli_role_begin(const cli_role *r, volatile sig_atomic_t *stop, int persistence,
                   sb_broker *b, const char **uri)
{
    cli_catch_stop(stop);
    cli_raise_nofile();
    memset(b, 0, sizeof *b);
    *uri = r->broker;
    if (*uri)
        return 0;
    char err[512];
    sb_broker_opts bo = {.persistence = persistence};
    if (sb_broker_start(b, &bo, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench %s: %s\n", r->cmd, err);
        return 1;
    }
    *uri = b->uri;
    return 0;
}
