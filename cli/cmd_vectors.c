/* `sealbench vectors FILE.json...`: check protocol test vectors (the format of
 * tests/vectors/README.md) through every backend able to run them.
 *
 * Each vector is replayed step by step from its inputs (PSK, device id, the two ephemeral
 * private keys, the nonces carried in HELLO and ACCEPT), and every intermediate value is
 * compared with the file, so that a mismatch names the first step that differs. Then every
 * message is re-sealed and compared byte for byte, and opened by a gateway session. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ciphers/cipher.h"
#include "cli/cli.h"
#include "common/util.h"
#include "protocol/handshake.h"
#include "protocol/session.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_vectors = {
    .name = "vectors",
    .summary = "check protocol test vectors through every backend",
    .help = "usage: sealbench vectors [--backend NAME] [--verbose] FILE.json...\n\n"
            "For every vector in each file and every backend able to run its suite and group,\n"
            "re-derives hs_key, HELLO, the ECDH result, ACCEPT and the keys of both directions,\n"
            "re-seals every message and compares each value byte for byte, then opens every\n"
            "message as the gateway. Prints one line per backend with counts; the first\n"
            "differing value of a failing vector is shown in full.\n\n"
            "Options:\n"
            "  --backend NAME  only this backend (repeatable)\n"
            "  --verbose       one line per vector and backend\n"
            "  --help          this text\n\n"
            "Exit status: 0 all passed; 1 a mismatch, or a malformed or unreadable file;\n"
            "2 a usage error.\n",
    .run = run,
};

#define MAX_MSG 4096

typedef struct vmsg {
    uint64_t seq;
    const char *topic;
    uint8_t *pt, *wire;
    size_t pt_len, wire_len;
} vmsg;

typedef struct vec {
    const char *file;
    size_t index;
    const sb_suite *suite;
    const sb_group *group;
    const char *device_id;
    uint32_t epoch;
    size_t pad_to;
    int auth_none;
    uint8_t psk[32], dpriv[32], gpriv[32], hs_key[32], shared[32];
    uint8_t hello[SB_HS_MAX_BYTES], accept[SB_HS_MAX_BYTES];
    size_t hello_len, accept_len;
    sb_keys keys;
    size_t nmsg;
    vmsg *msgs;
} vec;

/* ---- Reading, with errors that say file, vector and field -------------------------------- */

typedef struct reader {
    const char *file;
    size_t index;
    int bad;
} reader;

static void field_error(reader *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void field_error(reader *r, const char *field, const char *fmt, ...)
{
    va_list ap;
    if (r->bad++)
        return; /* the first problem of a vector is the useful one */
    fprintf(stderr, "%s: vector %zu: field '%s': ", r->file, r->index, field);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static json_t *get(reader *r, json_t *obj, const char *path, const char *name, json_type type)
{
    json_t *v = json_object_get(obj, name);
    static const char *const type_names[] = {"an object", "an array", "a string", "an integer"};
    int idx = type == JSON_OBJECT ? 0 : type == JSON_ARRAY ? 1 : type == JSON_STRING ? 2 : 3;
    if (!v) {
        field_error(r, path, "missing");
        return NULL;
    }
    if (json_typeof(v) != type) {
        field_error(r, path, "expected %s", type_names[idx]);
        return NULL;
    }
    return v;
}

/* Hex field of exactly want bytes (want > 0) or of any length up to cap (want == 0). */
static size_t get_hex(reader *r, json_t *obj, const char *path, const char *name, uint8_t *out,
                      size_t want, size_t cap)
{
    json_t *v = get(r, obj, path, name, JSON_STRING);
    if (!v)
        return 0;
    const char *s = json_string_value(v);
    size_t len = strlen(s), limit = want ? want : cap;
    if (strspn(s, "0123456789abcdefABCDEF") != len) {
        field_error(r, path, "expected hex digits, found '%c' at character %zu", s[strspn(s, "0123456789abcdefABCDEF")], strspn(s, "0123456789abcdefABCDEF") + 1);
        return 0;
    }
    if (len % 2) {
        field_error(r, path, "expected an even number of hex digits, found %zu", len);
        return 0;
    }
    if ((want && len / 2 != want) || len / 2 > limit) {
        if (want)
            field_error(r, path, "expected %zu bytes of hex, found %zu", want, len / 2);
        else
            field_error(r, path, "expected at most %zu bytes of hex, found %zu", cap, len / 2);
        return 0;
    }
    long n = sb_hex_decode(s, out, limit);
    return (size_t)n;
}

static uint8_t *get_hex_alloc(reader *r, json_t *obj, const char *path, const char *name,
                              size_t *len)
{
    json_t *v = get(r, obj, path, name, JSON_STRING);
    *len = 0;
    if (!v)
        return NULL;
    size_t cap = strlen(json_string_value(v)) / 2 + 1;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return NULL;
    long n = sb_hex_decode(json_string_value(v), buf, cap);
    if (n < 0) {
        field_error(r, path, "expected hex digits, found \"%.40s\"", json_string_value(v));
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

static int get_uint(reader *r, json_t *obj, const char *path, const char *name, uint64_t max,
                    uint64_t *out)
{
    json_t *v = get(r, obj, path, name, JSON_INTEGER);
    if (!v)
        return 0;
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i > max) {
        field_error(r, path, "expected an integer from 0 to %" PRIu64 ", found %" JSON_INTEGER_FORMAT, max, i);
        return 0;
    }
    *out = (uint64_t)i;
    return 1;
}

static void vec_free(vec *v)
{
    for (size_t i = 0; i < v->nmsg; i++) {
        free(v->msgs[i].pt);
        free(v->msgs[i].wire);
    }
    free(v->msgs);
    sb_wipe(v, sizeof *v);
}

static int read_vector(reader *r, json_t *jv, vec *v)
{
    uint64_t n;
    memset(v, 0, sizeof *v);
    v->file = r->file;
    v->index = r->index;
    if (!json_is_object(jv)) {
        field_error(r, "(vector)", "expected an object");
        return 0;
    }
    json_t *s;
    if ((s = get(r, jv, "suite", "suite", JSON_STRING)) &&
        !(v->suite = sb_suite_by_name(json_string_value(s))))
        field_error(r, "suite", "unknown suite \"%s\"", json_string_value(s));
    if ((s = get(r, jv, "group", "group", JSON_STRING)) &&
        !(v->group = sb_group_by_name(json_string_value(s))))
        field_error(r, "group", "unknown group \"%s\"", json_string_value(s));
    if ((s = get(r, jv, "device_id", "device_id", JSON_STRING))) {
        v->device_id = json_string_value(s);
        if (!sb_device_id_valid(v->device_id))
            field_error(r, "device_id", "\"%s\" is not 1-64 characters of A-Z a-z 0-9 _ . -", v->device_id);
    }
    if ((s = get(r, jv, "auth", "auth", JSON_STRING))) {
        const char *a = json_string_value(s);
        if (strcmp(a, "none") && strcmp(a, "psk"))
            field_error(r, "auth", "expected \"psk\" or \"none\", found \"%s\"", a);
        v->auth_none = strcmp(a, "none") == 0;
    }
    if (get_uint(r, jv, "epoch", "epoch", UINT32_MAX, &n))
        v->epoch = (uint32_t)n;
    if (get_uint(r, jv, "pad_to", "pad_to", 65536, &n))
        v->pad_to = (size_t)n;
    get_hex(r, jv, "psk", "psk", v->psk, 32, 0);
    if (v->auth_none && !r->bad && !sb_ct_equal(v->psk, (uint8_t[32]){0}, 32))
        field_error(r, "psk", "auth is \"none\" but the psk is not 32 zero bytes");
    if (r->bad)
        return 0; /* sizes below depend on suite and group */
    size_t hs_len = sb_hs_len(v->group);
    get_hex(r, jv, "device_private", "device_private", v->dpriv, v->group->priv_bytes, 0);
    get_hex(r, jv, "gateway_private", "gateway_private", v->gpriv, v->group->priv_bytes, 0);
    get_hex(r, jv, "hs_key", "hs_key", v->hs_key, 32, 0);
    v->hello_len = get_hex(r, jv, "hello", "hello", v->hello, hs_len, 0);
    v->accept_len = get_hex(r, jv, "accept", "accept", v->accept, hs_len, 0);
    get_hex(r, jv, "shared", "shared", v->shared, SB_SHARED_BYTES, 0);

    json_t *keys = get(r, jv, "keys", "keys", JSON_OBJECT);
    const char *dirs[2] = {"up", "down"};
    for (int d = 0; keys && d < 2; d++) {
        char path[32];
        sb_dir_keys *k = d ? &v->keys.down : &v->keys.up;
        snprintf(path, sizeof path, "keys.%s", dirs[d]);
        json_t *jk = get(r, keys, path, dirs[d], JSON_OBJECT);
        if (!jk)
            break;
        snprintf(path, sizeof path, "keys.%s.key", dirs[d]);
        if (v->suite->key_bytes)
            get_hex(r, jk, path, "key", k->key, v->suite->key_bytes, 0);
        else if (get_hex(r, jk, path, "key", k->key, 0, sizeof k->key))
            field_error(r, path, "expected empty for suite %s", v->suite->name);
        snprintf(path, sizeof path, "keys.%s.iv", dirs[d]);
        get_hex(r, jk, path, "iv", k->iv, SB_NONCE_BYTES, 0);
        snprintf(path, sizeof path, "keys.%s.mac", dirs[d]);
        if (v->suite->mac_key_bytes)
            get_hex(r, jk, path, "mac", k->mac, v->suite->mac_key_bytes, 0);
        else if (get_hex(r, jk, path, "mac", k->mac, 0, sizeof k->mac))
            field_error(r, path, "expected empty for suite %s", v->suite->name);
    }

    json_t *msgs = get(r, jv, "messages", "messages", JSON_ARRAY);
    if (msgs) {
        v->nmsg = json_array_size(msgs);
        v->msgs = calloc(v->nmsg ? v->nmsg : 1, sizeof *v->msgs);
        for (size_t i = 0; v->msgs && i < v->nmsg && !r->bad; i++) {
            char path[64];
            json_t *m = json_array_get(msgs, i);
            vmsg *vm = &v->msgs[i];
            snprintf(path, sizeof path, "messages[%zu]", i);
            if (!json_is_object(m)) {
                field_error(r, path, "expected an object");
                break;
            }
            snprintf(path, sizeof path, "messages[%zu].seq", i);
            get_uint(r, m, path, "seq", UINT64_MAX >> 1, &vm->seq);
            snprintf(path, sizeof path, "messages[%zu].topic", i);
            if ((s = get(r, m, path, "topic", JSON_STRING))) {
                vm->topic = json_string_value(s);
                if (strlen(vm->topic) > SB_TOPIC_MAX)
                    field_error(r, path, "longer than %d bytes", SB_TOPIC_MAX);
            }
            snprintf(path, sizeof path, "messages[%zu].plaintext", i);
            vm->pt = get_hex_alloc(r, m, path, "plaintext", &vm->pt_len);
            snprintf(path, sizeof path, "messages[%zu].wire", i);
            vm->wire = get_hex_alloc(r, m, path, "wire", &vm->wire_len);
            if (vm->pt_len > MAX_MSG)
                field_error(r, path, "plaintext longer than %d bytes", MAX_MSG);
        }
    }
    return !r->bad;
}

/* ---- Checking ------------------------------------------------------------------------------ */

typedef struct tally {
    unsigned passed, failed, skipped, messages;
    const char *skip_why[4]; /* distinct reasons, in the order met */
} tally;

typedef struct check_ctx {
    const vec *v;
    const sb_backend *be;
    int failed;
} check_ctx;

static void show_hex(const char *label, const uint8_t *p, size_t n)
{
    char *hex = malloc(2 * n + 1);
    if (!hex)
        return;
    sb_hex_encode(p, n, hex);
    fprintf(stderr, "    %-8s %s\n", label, hex);
    free(hex);
}

/* Compare one value; the first difference of a vector is shown in full. */
static int same(check_ctx *c, const char *what, const uint8_t *want, size_t want_len,
                const uint8_t *got, size_t got_len)
{
    if (want_len == got_len && memcmp(want, got, want_len) == 0)
        return 1;
    if (!c->failed++) {
        fprintf(stderr, "%s: vector %zu (%s, %s, %s): %s: %s differs\n", c->v->file, c->v->index,
                c->v->suite->name, c->v->group->name, c->v->device_id, c->be->name, what);
        show_hex("expected", want, want_len);
        show_hex("got", got, got_len);
    }
    return 0;
}

static int step_failed(check_ctx *c, const char *what, sb_err rc)
{
    if (!c->failed++)
        fprintf(stderr, "%s: vector %zu (%s, %s, %s): %s: %s failed: %s\n", c->v->file,
                c->v->index, c->v->suite->name, c->v->group->name, c->v->device_id, c->be->name,
                what, sb_err_str(rc));
    return 0;
}

static void compare_keys(check_ctx *c, const char *side, const sb_keys *got)
{
    const sb_suite *s = c->v->suite;
    struct { const char *dir; const sb_dir_keys *want, *have; } d[] = {
        {"up", &c->v->keys.up, &got->up}, {"down", &c->v->keys.down, &got->down}};
    char what[64];
    for (int i = 0; i < 2; i++) {
        snprintf(what, sizeof what, "keys.%s.key (%s)", d[i].dir, side);
        same(c, what, d[i].want->key, s->key_bytes, d[i].have->key, s->key_bytes);
        snprintf(what, sizeof what, "keys.%s.iv (%s)", d[i].dir, side);
        same(c, what, d[i].want->iv, SB_NONCE_BYTES, d[i].have->iv, SB_NONCE_BYTES);
        snprintf(what, sizeof what, "keys.%s.mac (%s)", d[i].dir, side);
        same(c, what, d[i].want->mac, s->mac_key_bytes, d[i].have->mac, s->mac_key_bytes);
    }
}

static void check_messages(check_ctx *c, const sb_cipher *cipher, const sb_keys *dev_keys,
                           const sb_keys *gw_keys, tally *t)
{
    const vec *v = c->v;
    sb_session dev, gw;
    sb_session_config cfg = {.cipher = *cipher, .pad_to = v->pad_to, .role = SB_ROLE_DEVICE};
    /* Room for the largest plaintext, padded, with header and tag. */
    const size_t cap = MAX_MSG + v->pad_to + SB_HEADER_BYTES + SB_MAX_TAG_BYTES;
    uint8_t *wire = malloc(cap), *pt = malloc(cap);
    sb_err rc;
    if (!wire || !pt || (rc = sb_session_init(&dev, &cfg)) != SB_OK) {
        step_failed(c, "session setup", SB_ERR_NOMEM);
        goto out;
    }
    cfg.role = SB_ROLE_GATEWAY;
    sb_session_init(&gw, &cfg);
    /* A window as wide as allowed so that vectors may list sequence numbers in any order. */
    gw.cfg.replay_window = SB_REPLAY_MAX_WINDOW;
    if ((rc = sb_session_install(&dev, v->epoch, dev_keys, 0)) != SB_OK ||
        (rc = sb_session_install(&gw, v->epoch, gw_keys, 0)) != SB_OK) {
        step_failed(c, "installing keys", rc);
        goto sessions;
    }
    for (size_t i = 0; i < v->nmsg; i++) {
        const vmsg *m = &v->msgs[i];
        char what[64];
        size_t wire_len = 0, pt_len = 0;
        uint64_t seq = 0;
        dev.tx_seq = m->seq; /* vectors may start anywhere in the sequence */
        snprintf(what, sizeof what, "messages[%zu] seal", i);
        rc = sb_session_seal(&dev, m->topic, m->pt, m->pt_len, wire, cap, &wire_len);
        if (rc != SB_OK) {
            step_failed(c, what, rc);
            continue;
        }
        snprintf(what, sizeof what, "messages[%zu].wire", i);
        same(c, what, m->wire, m->wire_len, wire, wire_len);
        snprintf(what, sizeof what, "messages[%zu] open", i);
        rc = sb_session_open(&gw, m->topic, m->wire, m->wire_len, 0, pt, cap, &pt_len, NULL, &seq);
        if (rc != SB_OK) {
            step_failed(c, what, rc);
            continue;
        }
        snprintf(what, sizeof what, "messages[%zu].plaintext (opened)", i);
        same(c, what, m->pt, m->pt_len, pt, pt_len);
        t->messages++;
    }
sessions:
    sb_session_free(&dev);
    sb_session_free(&gw);
out:
    free(wire);
    free(pt);
}

static void check_vector(const vec *v, const sb_backend *be, tally *t, int verbose)
{
    check_ctx c = {.v = v, .be = be};
    sb_cipher cipher;
    const char *why = NULL;
    const sb_kex_ops *kex;
    if (sb_cipher_get(be, v->suite, &cipher, &why) != SB_OK ||
        !(kex = sb_kex_get(be, v->group, &why))) {
        t->skipped++;
        for (int i = 0; i < 4; i++) {
            if (t->skip_why[i] && strcmp(t->skip_why[i], why) == 0)
                break;
            if (!t->skip_why[i]) {
                t->skip_why[i] = why;
                break;
            }
        }
        if (verbose)
            printf("  %s vector %zu: %s: skipped: %s\n", v->file, v->index, be->name, why);
        return;
    }
    uint8_t hs_key[32], pub_d[SB_MAX_PUB_BYTES], pub_g[SB_MAX_PUB_BYTES], shared[32];
    uint8_t accept[SB_HS_MAX_BYTES];
    size_t accept_len = 0;
    sb_keys gw_keys, dev_keys;
    sb_hs_device dev;
    sb_hs_ephemeral eph_d, eph_g;
    sb_hs_policy all = {~0u, ~0u};
    sb_err rc;
    const size_t pub_len = v->group->pub_bytes;

    if ((rc = sb_hs_key(be, v->auth_none ? NULL : v->psk, v->device_id, hs_key)) != SB_OK) {
        step_failed(&c, "hs_key", rc);
        goto done;
    }
    same(&c, "hs_key", v->hs_key, 32, hs_key, 32);

    /* Ephemeral values: private keys from the file, nonces from the messages it gives. */
    memcpy(eph_d.nonce, v->hello + SB_HS_HEADER_BYTES, SB_HS_NONCE_BYTES);
    memcpy(eph_d.priv, v->dpriv, sizeof v->dpriv);
    memcpy(eph_g.nonce, v->accept + SB_HS_HEADER_BYTES, SB_HS_NONCE_BYTES);
    memcpy(eph_g.priv, v->gpriv, sizeof v->gpriv);
    if ((rc = kex->public_key(v->dpriv, pub_d)) != SB_OK ||
        (rc = kex->public_key(v->gpriv, pub_g)) != SB_OK) {
        step_failed(&c, "public key from private key", rc);
        goto done;
    }
    memcpy(eph_d.pub, pub_d, pub_len);
    memcpy(eph_g.pub, pub_g, pub_len);

    if ((rc = sb_hs_device_start(&dev, be, v->group, v->suite, v->epoch, hs_key, &eph_d)) != SB_OK) {
        step_failed(&c, "building HELLO", rc);
        goto done;
    }
    same(&c, "hello", v->hello, v->hello_len, dev.hello, dev.hello_len);

    /* The ECDH result from both sides. */
    if ((rc = kex->derive(v->dpriv, pub_g, shared)) != SB_OK)
        step_failed(&c, "ECDH (device side)", rc);
    else
        same(&c, "shared (device side)", v->shared, 32, shared, 32);
    if ((rc = kex->derive(v->gpriv, pub_d, shared)) != SB_OK)
        step_failed(&c, "ECDH (gateway side)", rc);
    else
        same(&c, "shared (gateway side)", v->shared, 32, shared, 32);
    sb_wipe(shared, sizeof shared);

    /* The gateway answers the file's HELLO, so that its checks see the independent bytes. */
    rc = sb_hs_gateway_answer(be, &all, hs_key, 0, v->hello, v->hello_len, &eph_g, accept,
                              &accept_len, NULL, &gw_keys);
    if (rc != SB_OK) {
        step_failed(&c, "gateway answering HELLO", rc);
        sb_hs_device_clear(&dev);
        goto done;
    }
    same(&c, "accept", v->accept, v->accept_len, accept, accept_len);
    compare_keys(&c, "gateway", &gw_keys);

    /* The device takes the file's ACCEPT. */
    if ((rc = sb_hs_device_finish(&dev, v->accept, v->accept_len, &dev_keys)) != SB_OK) {
        step_failed(&c, "device accepting ACCEPT", rc);
        sb_hs_device_clear(&dev);
    } else {
        compare_keys(&c, "device", &dev_keys);
        check_messages(&c, &cipher, &dev_keys, &gw_keys, t);
    }
    sb_wipe(&dev_keys, sizeof dev_keys);
    sb_wipe(&gw_keys, sizeof gw_keys);

done:
    sb_wipe(hs_key, sizeof hs_key);
    sb_wipe(&eph_d, sizeof eph_d);
    sb_wipe(&eph_g, sizeof eph_g);
    if (c.failed)
        t->failed++;
    else
        t->passed++;
    if (verbose)
        printf("  %s vector %zu (%s, %s): %s: %s\n", v->file, v->index, v->suite->name,
               v->group->name, be->name, c.failed ? "FAILED" : "ok");
}

/* Returns 0 if the file was read, -1 if it was malformed. */
static int check_file(const char *path, const sb_backend *const *bes, size_t nbe, tally *tallies,
                      int verbose, size_t *nvec)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line > 0)
            fprintf(stderr, "%s:%d:%d: not valid JSON: %s\n", path, jerr.line, jerr.column, jerr.text);
        else
            fprintf(stderr, "%s: cannot read: %s\n", path, jerr.text);
        return -1;
    }
    json_t *vectors = json_is_object(root) ? json_object_get(root, "vectors") : NULL;
    if (!json_is_array(vectors)) {
        fprintf(stderr, "%s: expected an object with an array \"vectors\" (see tests/vectors/README.md)\n", path);
        json_decref(root);
        return -1;
    }
    int status = 0;
    for (size_t i = 0; i < json_array_size(vectors); i++) {
        reader r = {.file = path, .index = i};
        vec v;
        if (!read_vector(&r, json_array_get(vectors, i), &v)) {
            status = -1;
            vec_free(&v);
            continue;
        }
        (*nvec)++;
        for (size_t b = 0; b < nbe; b++)
            check_vector(&v, bes[b], &tallies[b], verbose);
        vec_free(&v);
    }
    if (json_array_size(vectors) == 0) {
        fprintf(stderr, "%s: \"vectors\" is empty\n", path);
        status = -1;
    }
    json_decref(root);
    return status;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"backend", required_argument, NULL, 'b'},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    const sb_backend *bes[8];
    size_t nbe = 0;
    int verbose = 0, c, code = -1;
    while ((c = cli_getopt(&sb_cmd_vectors, argc, argv, "b:v", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if (c == 'v') {
            verbose = 1;
        } else if (c == 'b') {
            const sb_backend *be = cli_backend_arg("vectors", "--backend", optarg, &code);
            if (!be)
                return code;
            if (nbe < sizeof bes / sizeof bes[0])
                bes[nbe++] = be;
        }
    }
    if (optind >= argc)
        return cli_usage_error("vectors", "no vector file given");
    if (!nbe)
        for (const sb_backend *const *be = sb_backends; *be && nbe < 8; be++)
            bes[nbe++] = *be;

    tally tallies[8] = {0};
    size_t nvec = 0;
    int status = 0;
    for (int i = optind; i < argc; i++)
        if (check_file(argv[i], bes, nbe, tallies, verbose, &nvec) != 0)
            status = 1;
    for (size_t b = 0; b < nbe; b++) {
        tally *t = &tallies[b];
        printf("%-8s %zu vectors: %u passed, %u failed, %u skipped; %u messages re-sealed and opened",
               bes[b]->name, nvec, t->passed, t->failed, t->skipped, t->messages);
        for (int i = 0; i < 4 && t->skip_why[i]; i++)
            printf("%s%s", i ? "; " : " (skipped: ", t->skip_why[i]);
        if (t->skipped)
            putchar(')');
        putchar('\n');
        if (t->failed)
            status = 1;
    }
    return status;
}
