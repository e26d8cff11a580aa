/* Shared flags of the gateway, device and pair commands (cli/role_opts.h). */
#include "cli/role_opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "datasets/encode.h"
#include "protocol/replay.h"
#include "transport/topics.h"

void cli_role_init(cli_role *r, const char *cmd)
{
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    r->backend = "openssl";
    r->link.prefix = "sealbench";
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
    sb_role_link *l = &r->link;
    switch (c) {
    case OPT_BROKER: l->broker = arg; return 0;
    case OPT_CAFILE: l->cafile = arg; return 0;
    case OPT_CERT: l->cert = arg; return 0;
    case OPT_KEY: l->key = arg; return 0;
    case OPT_PREFIX: l->prefix = arg; return 0;
    case OPT_BACKEND: r->backend = arg; return 0;
    case OPT_SUITE: r->suite = arg; return 0;
    case OPT_GROUP: r->group = arg; return 0;
    case OPT_KEYS: l->keys_path = arg; return 0;
    case OPT_NO_AUTH: r->no_auth = 1; return 0;
    case OPT_ECHO: l->echo = 1; return 0;
    case OPT_PERSISTENT: l->persistent = 1; return 0;
    case OPT_NAGLE: l->nagle = 1; return 0;
    case OPT_PAD:
        if ((rc = cli_parse_u64(r->cmd, "--pad", arg, 0, 4096, &u)))
            return rc;
        l->pad = (size_t)u;
        return 0;
    case OPT_QOS:
        if ((rc = cli_parse_u64(r->cmd, "--qos", arg, 0, 2, &u)))
            return rc;
        l->qos = (int)u;
        return 0;
    case OPT_REPLAY_WINDOW:
        if ((rc = cli_parse_u64(r->cmd, "--replay-window", arg, 1, SB_REPLAY_MAX_WINDOW, &u)))
            return rc;
        l->replay_window = (unsigned)u;
        return 0;
    case OPT_CONNECT_TIMEOUT:
        return cli_parse_double(r->cmd, "--connect-timeout", arg, 0.1, 3600, &l->connect_timeout_s);
    case OPT_GRACE:
        return cli_parse_double(r->cmd, "--grace", arg, 0.001, 86400, &l->grace_s);
    case OPT_SAMPLES: l->samples_path = arg; return 0;
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
        if (sb_cipher_get(r->link.backend, s, &c, &why) != SB_OK) {
            fprintf(stderr, "sealbench %s: %s cannot do %s: %s\n", r->cmd, r->link.backend->name, s->name,
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
        if (!sb_kex_get(r->link.backend, g, &why)) {
            fprintf(stderr, "sealbench %s: %s cannot do %s: %s\n", r->cmd, r->link.backend->name, g->name,
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

int cli_role_finish(cli_role *r, int multi)
{
    int rc;
    const sb_role_link *l = &r->link;
    if (!(r->link.backend = cli_backend_arg(r->cmd, "--backend", r->backend, &rc)))
        return rc;
    const char *why = sb_prefix_problem(l->prefix);
    if (why)
        return cli_usage_error(r->cmd, "--prefix '%s': %s", l->prefix, why);
    if (l->keys_path && r->no_auth)
        return cli_usage_error(r->cmd, "--keys and --no-auth exclude each other");
    if (!l->keys_path && !r->no_auth)
        return cli_usage_error(r->cmd, "give --keys FILE (make one with 'sealbench keys') or "
                                       "--no-auth for the unauthenticated mode");
    if (!!l->cert != !!l->key)
        return cli_usage_error(r->cmd, "mutual TLS needs both --cert and --key");
    if ((l->cafile || l->cert) && l->broker && strncmp(l->broker, "ssl://", 6) != 0)
        return cli_usage_error(r->cmd, "--cafile/--cert/--key need an ssl:// broker, not '%s'",
                               l->broker);
    if (l->broker && strncmp(l->broker, "tcp://", 6) != 0 && strncmp(l->broker, "ssl://", 6) != 0)
        return cli_usage_error(r->cmd, "--broker: expected tcp://HOST:PORT or ssl://HOST:PORT, "
                                       "found '%s'",
                               l->broker);
    if (r->suite) {
        if ((rc = suite_list(r, r->suite, multi, &r->policy.suites, &r->suite_d)))
            return rc;
    } else {
        /* Default: the device proposes aes-128-gcm where the backend has it (libsodium does
         * not, so its first real suite); the gateway accepts everything its backend offers. */
        r->policy.suites = sb_backend_policy(r->link.backend).suites;
        for (unsigned id = 1; id < SB_SUITE_COUNT && !r->suite_d; id++)
            if (r->policy.suites & (1u << id))
                r->suite_d = sb_suite_by_id(id);
    }
    if (r->group) {
        if ((rc = group_list(r, r->group, multi, &r->policy.groups, &r->group_d)))
            return rc;
    } else {
        r->policy.groups = sb_backend_policy(r->link.backend).groups;
        for (unsigned id = 1; id < SB_GROUP_COUNT && !r->group_d; id++)
            if (r->policy.groups & (1u << id))
                r->group_d = sb_group_by_id(id);
    }
    if (r->no_auth)
        fprintf(stderr, "sealbench %s: auth=none: no pre-shared key, the handshake is open to a "
                        "man in the middle\n",
                r->cmd);
    return 0;
}

int cli_fleet_option(cli_role *r, sb_device_spec *s, int c, const char *arg)
{
    const char *cmd = r->cmd;
    uint64_t u;
    int rc;
    switch (c) {
    case OPT_DEVICES:
        s->devices_set = 1;
        if ((rc = cli_parse_u64(cmd, "--devices", arg, 1, 100000, &u)))
            return rc;
        s->devices = (unsigned)u;
        return 0;
    case OPT_FIRST:
        if ((rc = cli_parse_u64(cmd, "--first", arg, 0, 100000000, &u)))
            return rc;
        s->first = (unsigned)u;
        return 0;
    case OPT_COUNT:
        s->count_set = 1;
        return cli_parse_u64(cmd, "--count", arg, 0, UINT64_C(1) << 40, &s->count);
    case OPT_SIZE:
        r->size_set = 1;
        if ((rc = cli_parse_u64(cmd, "--size", arg, 0, 16 << 20, &u)))
            return rc;
        s->size = (size_t)u;
        return 0;
    case OPT_DATASET: s->dataset = arg; return 0;
    case OPT_DESCRIBE: s->describe = arg; return 0;
    case OPT_ENCODING:
        if ((s->encoding = sb_encoding_parse(arg)) < 0)
            return cli_usage_error(cmd, "--encoding: expected json, csv or cbor, found '%s'", arg);
        return 0;
    case OPT_SPEED: return cli_parse_double(cmd, "--speed", arg, 1e-6, 1e9, &s->speed);
    case OPT_RATE: return cli_parse_double(cmd, "--rate", arg, 0.001, 1e7, &s->rate_hz);
    case OPT_REKEY_MESSAGES:
        return cli_parse_u64(cmd, "--rekey-messages", arg, 1, UINT64_C(1) << 32, &s->rekey_messages);
    case OPT_REKEY_SECONDS:
        return cli_parse_double(cmd, "--rekey-seconds", arg, 0.001, 1e7, &s->rekey_s);
    case OPT_INFLIGHT:
        if ((rc = cli_parse_u64(cmd, "--inflight", arg, 1, 65535, &u)))
            return rc;
        s->inflight = (unsigned)u;
        return 0;
    case OPT_HS_TIMEOUT:
        return cli_parse_double(cmd, "--hs-timeout", arg, 0.01, 3600, &s->hs_timeout_s);
    case OPT_DRAIN: return cli_parse_double(cmd, "--drain", arg, 0, 3600, &s->drain_s);
    case OPT_WARMUP: return cli_parse_u64(cmd, "--warmup", arg, 0, UINT64_C(1) << 32, &s->warmup);
    case OPT_COUNTERS: s->counters = 1; return 0;
    default: return 1;
    }
}

int cli_fleet_finish(const cli_role *r, sb_device_spec *s)
{
    const char *cmd = r->cmd;
    s->link = r->link;
    s->suite = r->suite_d;
    s->group = r->group_d;
    if (!s->dataset) {
        if (s->describe || s->speed > 0)
            return cli_usage_error(cmd, "--describe and --speed need --dataset FILE");
        return 0;
    }
    if (r->size_set)
        return cli_usage_error(cmd, "--size is for synthetic payloads; with --dataset the "
                                    "records set the size");
    if (s->speed > 0 && s->rate_hz > 0)
        return cli_usage_error(cmd, "--speed and --rate are two pacings: give one");
    return 0;
}

void cli_print_report(void *ctx, const sb_role_report *r)
{
    const char *cmd = ctx;
    if (r->error[0])
        fprintf(stderr, "sealbench %s: %s\n", cmd, r->error);
    /* The device and the gateway say nothing on stdout until they measured something; pair
     * always prints its object (the broker, at least, when it started). */
    if (r->kind == SB_ROLE_KIND_PAIR || r->has_device || r->has_gateway) {
        json_t *o = sb_role_report_json(r);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    fflush(stdout);
}
