/* Experiment configs (experiments/config.c, config_payload.c, plan.c): a full config expanded into
 * exact cells, the built-in defaults, `all`, libinih's quirks as this parser sees them
 * (continuation lines, inline comments, BOM, CRLF), and a table of bad configs, each with the
 * exact start of its message: file, line, key. Fixtures are written to a fresh temporary folder so
 * that the line numbers are those of the text in this file. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ciphers/cipher.h"
#include "experiments/config.h"
#include "tests/check.h"

/* `all` backends in [micro]: every backend this binary was built with, in registry order
 * (however many ciphers/backends.txt and BACKENDS make that). */
static int micro_has_every_backend(const sb_micro_plan *m)
{
    size_t n = 0;
    for (; sb_backends[n]; n++)
        if (n >= m->n_backends || m->backends[n] != sb_backends[n])
            return 0;
    return n == m->n_backends;
}

static char dir[64];

static const char *put(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s: %s", path, strerror(errno));
    if (f) {
        fwrite(text, 1, strlen(text), f);
        fclose(f);
    }
    return path;
}

__attribute__((format(printf, 1, 2)))
static const char *fmt(const char *f, ...)
{
    static char buf[8192];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

static sb_err load(const char *text, sb_plan *p, char *err, size_t cap)
{
    return sb_plan_load(put("cfg.ini", text), p, err, cap);
}

static const sb_cell *cell_by_id(const sb_plan *p, const char *id)
{
    for (size_t i = 0; i < p->n_cells; i++)
        if (strcmp(p->cells[i].id, id) == 0)
            return &p->cells[i];
    return NULL;
}

static int ids_unique(const sb_plan *p)
{
    for (size_t i = 0; i < p->n_cells; i++)
        for (size_t j = i + 1; j < p->n_cells; j++)
            if (strcmp(p->cells[i].id, p->cells[j].id) == 0)
                return 0;
    return 1;
}

/* ---- a full config with two studies ------------------------------------------------------ */

static void full_config(void)
{
    const char *text = fmt(
        "; comments with ; or #\n"                                    /* 1 */
        "# both at the start of a line\n"                              /* 2 */
        "[run]\n"                                                      /* 3 */
        "name = quick                 ; inline comment\n"              /* 4 */
        "description = every backend x suite once, CI smoke run\n"     /* 5 */
        "repetitions = 3\n"                                            /* 6 */
        "seed = 42\n"                                                  /* 7 */
        "order = sequential\n"                                         /* 8 */
        "warmup = 100\n"                                               /* 9 */
        "\n"
        "[defaults]\n"
        "backend = openssl, sodium, mbedtls\n"
        "suite = aes-128-gcm, chacha20-poly1305\n"
        "group = x25519\n"
        "auth = psk\n"
        "payload = dataset:%s/vitals_small.csv:cbor, size:64\n"
        "pad = 0\n"
        "qos = 1\n"
        "rekey = 0\n"
        "rate = 0\n"
        "devices = 1\n"
        "topology = inproc\n"
        "messages = 1000\n"
        "\n"
        "[study payload-size]\n"
        "payload = size:16, size:64,\n"
        "    size:256 ; libinih keeps this comment, the parser drops it\n"
        "    size:1024\n"
        "[study qos]\n"
        "qos = 0, 1, 2\n"
        "rate = 2.5\n"
        "warmup = 7\n"
        "[micro]\n"
        "backend = all\n"
        "suite = aes-128-gcm, chacha20-poly1305\n"
        "group = all\n"
        "sizes = 16, 1024\n"
        "ops = seal, open, handshake\n"
        "repetitions = 10\n"
        "min_time = 0.05\n",
        dir);
    char text_copy[8192];
    snprintf(text_copy, sizeof text_copy, "%s", text);
    sb_plan p;
    char err[512] = "";
    sb_err rc = load(text_copy, &p, err, sizeof err);
    CHECK(rc == SB_OK, "full config: rc %d: %s", rc, err);
    if (rc != SB_OK)
        return;

    CHECK(p.text && strcmp(p.text, text_copy) == 0, "the file's text is kept whole");
    CHECK(strcmp(p.name, "quick") == 0, "name '%s'", p.name);
    CHECK(strcmp(p.description, "every backend x suite once, CI smoke run") == 0,
          "description '%s'", p.description);
    CHECK(p.repetitions == 3 && p.seed == 42 && p.shuffle == 0, "run: reps %u seed %llu shuffle %d",
          p.repetitions, (unsigned long long)p.seed, p.shuffle);
    CHECK(p.n_studies == 2 && strcmp(p.studies[0], "payload-size") == 0 &&
              strcmp(p.studies[1], "qos") == 0, "studies in file order");

    /* payload-size: 3 backends x 2 suites x 4 sizes = 24, sodium's 4 aes-128-gcm dropped;
     * qos: 3 x 2 x 2 payloads x 3 qos = 36, sodium's 6 aes-128-gcm dropped. */
    CHECK(p.n_cells == 50 && p.n_dropped == 10, "cells %zu dropped %zu, want 50 and 10",
          p.n_cells, p.n_dropped);
    CHECK(ids_unique(&p), "cell ids are unique");
    CHECK(p.n_cells > 0 &&
              strcmp(p.cells[0].id, "payload-size.openssl.aes-128-gcm.x25519.psk.size16.pad0.qos1."
                                    "rekey0.rate0.dev1.inproc") == 0,
          "first cell '%s'", p.n_cells ? p.cells[0].id : "");
    /* The nesting puts suite outside payload: the 5th cell is openssl, chacha, size16. */
    CHECK(p.n_cells > 4 &&
              strcmp(p.cells[4].id, "payload-size.openssl.chacha20-poly1305.x25519.psk.size16."
                                    "pad0.qos1.rekey0.rate0.dev1.inproc") == 0,
          "5th cell '%s'", p.n_cells > 4 ? p.cells[4].id : "");
    CHECK(p.n_cells == 50 &&
              strcmp(p.cells[49].id, "qos.mbedtls.chacha20-poly1305.x25519.psk.size64.pad0.qos2."
                                     "rekey0.rate2p5.dev1.inproc") == 0,
          "last cell '%s'", p.n_cells ? p.cells[p.n_cells - 1].id : "");
    const sb_cell *c = cell_by_id(&p, "qos.sodium.chacha20-poly1305.x25519.psk.vitals_small-cbor."
                                      "pad0.qos0.rekey0.rate2p5.dev1.inproc");
    CHECK(c != NULL, "the dataset cell of sodium in study qos");
    if (c) {
        CHECK(strcmp(c->study, "qos") == 0 && c->study == p.studies[1], "study points into the plan");
        CHECK(c->payload && c->payload->kind == SB_PAYLOAD_DATASET &&
                  strcmp(c->payload->encoding, "cbor") == 0 &&
                  strcmp(c->payload->label, "vitals_small-cbor") == 0 &&
                  strstr(c->payload->dataset, "/vitals_small.csv") != NULL,
              "dataset payload level");
        CHECK(c->payload >= p.payloads && c->payload < p.payloads + p.n_payloads,
              "payload points into the plan");
        CHECK(c->psk == 1 && c->qos == 0 && c->rate_hz == 2.5 && c->devices == 1 &&
                  c->topology == SB_TOPO_INPROC && c->messages == 1000 && c->warmup == 7,
              "factor values of the cell");
        /* 0.8 + 0.05 + 1 device x (1000 + 7) / 2.5 Hz */
        CHECK(fabs(c->estimate_s - (0.85 + 1007 / 2.5)) < 1e-9, "estimate %g", c->estimate_s);
    }
    c = cell_by_id(&p, "payload-size.mbedtls.aes-128-gcm.x25519.psk.size1024.pad0.qos1.rekey0."
                       "rate0.dev1.inproc");
    CHECK(c && c->warmup == 100 && c->payload->kind == SB_PAYLOAD_SIZE && c->payload->size == 1024,
          "size:1024 from the continuation line, warm-up from [run]");
    CHECK(c && fabs(c->estimate_s - (0.85 + 1100.0 / 6000)) < 1e-9, "estimate at QoS 1: %g",
          c ? c->estimate_s : 0);
    /* Same factor values in two studies are two cells. */
    CHECK(cell_by_id(&p, "payload-size.openssl.aes-128-gcm.x25519.psk.size64.pad0.qos1.rekey0."
                         "rate0.dev1.inproc") &&
              cell_by_id(&p, "qos.openssl.aes-128-gcm.x25519.psk.size64.pad0.qos1.rekey0."
                             "rate2p5.dev1.inproc"),
          "size64 in both studies");

    /* size16, size64, size256, size1024 and the dataset: size64 is used twice, kept once. */
    CHECK(p.n_payloads == 5, "payload levels %zu, want 5", p.n_payloads);
    size_t sodium_aes = 0;
    for (size_t i = 0; i < p.n_dropped; i++)
        if (strstr(p.dropped[i].id, ".sodium.aes-128-gcm.") && strstr(p.dropped[i].why, "AES-128-GCM"))
            sodium_aes++;
    CHECK(sodium_aes == 10, "every dropped cell is sodium aes-128-gcm with the reason (%zu)",
          sodium_aes);
    CHECK(p.n_dropped && strcmp(p.dropped[0].id, "payload-size.sodium.aes-128-gcm.x25519.psk."
                                                 "size16.pad0.qos1.rekey0.rate0.dev1.inproc") == 0,
          "first dropped '%s'", p.n_dropped ? p.dropped[0].id : "");
    for (size_t i = 0; i < p.n_cells; i++)
        CHECK(strcmp(p.cells[i].be->name, "sodium") != 0 || p.cells[i].suite->id != SB_SUITE_AES_128_GCM,
              "cell %s should have been dropped", p.cells[i].id);

    /* micro: backend = all is every backend built, in registry order. */
    CHECK(p.micro.enabled && micro_has_every_backend(&p.micro) && p.micro.n_suites == 2 &&
              p.micro.n_groups == 2 && p.micro.n_sizes == 2 && p.micro.sizes[1] == 1024,
          "micro lists");
    CHECK(p.micro.ops == (1u << SB_MICRO_SEAL | 1u << SB_MICRO_OPEN | 1u << SB_MICRO_HANDSHAKE),
          "micro ops 0x%x", p.micro.ops);
    CHECK(p.micro.repetitions == 10 && p.micro.min_time_s == 0.05, "micro reps and min_time");
    CHECK(fabs(p.micro.estimate_s - (25 * 10 * 0.05 * 1.5 + 25 * 0.2)) < 1e-9,
          "micro estimate %g", p.micro.estimate_s);
    double sum = 0;
    for (size_t i = 0; i < p.n_cells; i++)
        sum += p.cells[i].estimate_s;
    CHECK(fabs(p.estimate_s - (sum * 3 + p.micro.estimate_s)) < 1e-6, "plan estimate %g",
          p.estimate_s);
    sb_plan_free(&p);
    CHECK(p.cells == NULL && p.text == NULL && p.n_cells == 0, "free leaves the plan empty");
    sb_plan_free(&p); /* twice is harmless */
}

/* ---- defaults, all, and what libinih does with the file -------------------------------------- */

/* 1 when libsodium offers AES-256-GCM on this machine. The counts below are for x86 with AES-NI;
 * libsodium 1.0.18 has no ARM implementation, so on a Raspberry Pi (and under qemu-user) that
 * pair is dropped too: one more dropped cell or case wherever sodium meets aes-256-gcm. */
static int sodium_aes256(void)
{
    sb_cipher c;
    const char *why = NULL;
    return sb_cipher_get(sb_backend_by_name("sodium"), sb_suite_by_name("aes-256-gcm"), &c,
                         &why) == SB_OK;
}

static void nagle_on(void)
{
    sb_plan p;
    char err[512] = "";
    sb_err rc = load("[run]\nname = n\ntcp_nodelay = off\n", &p, err, sizeof err);
    CHECK(rc == SB_OK && p.tcp_nodelay == 0, "tcp_nodelay = off: rc %d, %d: %s", rc,
          rc == SB_OK ? p.tcp_nodelay : -1, err);
    if (rc == SB_OK)
        sb_plan_free(&p);
}

static void builtin_defaults(void)
{
    sb_plan p;
    char err[512] = "";
    sb_err rc = load("[run]\nname = d\n", &p, err, sizeof err);
    CHECK(rc == SB_OK, "defaults: rc %d: %s", rc, err);
    if (rc != SB_OK)
        return;
    /* All backends x all five suites (null included), x25519: sodium aes-128-gcm dropped. */
    const size_t no256 = !sodium_aes256();
    CHECK(p.n_cells == 14 - no256 && p.n_dropped == 1 + no256, "cells %zu dropped %zu", p.n_cells,
          p.n_dropped);
    CHECK(p.n_studies == 1 && strcmp(p.studies[0], "d") == 0, "one study named after the run");
    CHECK(p.repetitions == 1 && p.seed == 1 && p.shuffle == 1 && strcmp(p.description, "") == 0 &&
              !p.micro.enabled && p.tcp_nodelay == 1, "run defaults");
    const sb_cell *c = cell_by_id(&p, "d.openssl.null.x25519.psk.size256.pad0.qos0.rekey0.rate0."
                                      "dev1.inproc");
    CHECK(c != NULL, "the null suite is a cell of its own");
    if (c)
        CHECK(c->suite->id == SB_SUITE_NULL && c->group->id == SB_GROUP_X25519 && c->psk == 1 &&
                  c->payload->size == 256 && c->pad == 0 && c->rekey == 0 && c->rate_hz == 0 &&
                  c->devices == 1 && c->messages == 1000 && c->warmup == 0 &&
                  fabs(c->estimate_s - (0.85 + 1000.0 / 20000)) < 1e-9,
              "built-in levels");
    CHECK(cell_by_id(&p, "d.sodium.null.x25519.psk.size256.pad0.qos0.rekey0.rate0.dev1.inproc"),
          "null is in every backend");
    CHECK(fabs(p.estimate_s - (double)(14 - no256) * (0.85 + 0.05)) < 1e-9, "plan estimate %g",
          p.estimate_s);
    sb_plan_free(&p);

    /* A [micro] section with no keys: everything, at the documented defaults. */
    rc = load("[run]\nname = m\n[micro]\n", &p, err, sizeof err);
    CHECK(rc == SB_OK, "empty micro: %s", err);
    if (rc == SB_OK) {
        CHECK(p.micro.enabled && micro_has_every_backend(&p.micro) &&
                  p.micro.n_suites == SB_SUITE_COUNT &&
                  p.micro.n_groups == 2 && p.micro.n_sizes == 5 && p.micro.sizes[4] == 16384 &&
                  p.micro.ops == (1u << SB_MICRO_OPS) - 1 && p.micro.repetitions == 10 &&
                  p.micro.min_time_s == 0.05,
              "micro defaults");
        /* 14 AEAD pairs x 5 sizes x 3 ops + 5 kex pairs x 4 ops = 230 cases */
        const double cases = 230.0 - 15.0 * (double)no256; /* 5 sizes x 3 ops per pair */
        CHECK(fabs(p.micro.estimate_s - (cases * 10 * 0.05 * 1.5 + cases * 0.2)) < 1e-9,
              "micro estimate %g", p.micro.estimate_s);
    }
    sb_plan_free(&p);
}

static void all_and_overrides(void)
{
    sb_plan p;
    char err[512] = "";
    sb_err rc = load("[run]\n"
                     "name = a\n"
                     "warmup = 5\n"
                     "[defaults]\n"
                     "backend = sodium\n"
                     "suite = all\n"
                     "group = all\n"
                     "warmup = 6\n"
                     "[study empty]\n"
                     "[study over]\n"
                     "backend = all\n"
                     "suite = null\n"
                     "group = p256\n"
                     "pad = 16\n"
                     "rekey = 2\n"
                     "rate = 0.1, 1000000\n"
                     "devices = 1\n"
                     "topology = split\n"
                     "auth = none\n",
                     &p, err, sizeof err);
    CHECK(rc == SB_OK, "all: rc %d: %s", rc, err);
    if (rc != SB_OK)
        return;
    /* empty: sodium x 5 suites x 2 groups = 10; aes-128-gcm (2) and p256 (5) dropped, the
     * pair with both counted once: 4 kept. over: 3 backends x null x p256 x 2 rates = 6, sodium
     * p256 dropped: 4 kept. */
    const size_t no256 = !sodium_aes256(); /* empty: its x25519 cell too */
    CHECK(p.n_cells == 8 - no256 && p.n_dropped == 8 + no256, "cells %zu dropped %zu", p.n_cells,
          p.n_dropped);
    const sb_cell *c = cell_by_id(&p, "empty.sodium.chacha20-poly1305.x25519.psk.size256.pad0.qos0."
                                      "rekey0.rate0.dev1.inproc");
    CHECK(c && c->warmup == 6, "an empty study is [defaults]; [defaults] warmup beats [run]'s");
    int both = 0, p256 = 0;
    for (size_t i = 0; i < p.n_dropped; i++) {
        if (strstr(p.dropped[i].why, "AES-128-GCM") && strstr(p.dropped[i].why, "P-256"))
            both++;
        if (strstr(p.dropped[i].id, ".p256.") && strstr(p.dropped[i].why, "lacks group p256"))
            p256++;
    }
    CHECK(both == 1 && p256 == 7, "drop reasons: both %d p256 %d", both, p256);
    CHECK(cell_by_id(&p, "over.openssl.null.p256.none.size256.pad16.qos0.rekey2.rate0p1.dev1.split") &&
              cell_by_id(&p, "over.mbedtls.null.p256.none.size256.pad16.qos0.rekey2.rate1000000."
                             "dev1.split"),
          "rate labels 0p1 and 1000000");
    c = cell_by_id(&p, "over.openssl.null.p256.none.size256.pad16.qos0.rekey2.rate1000000.dev1.split");
    /* rate x devices = 1e6/s is above what split sustains unthrottled (10000/s at QoS 0). */
    CHECK(c && c->psk == 0 && c->topology == SB_TOPO_SPLIT &&
              fabs(c->estimate_s - (0.85 + 1006.0 / 10000)) < 1e-9,
          "split estimate %g", c ? c->estimate_s : 0);
    sb_plan_free(&p);
}

static void libinih_quirks(void)
{
    sb_plan p;
    char err[512] = "";
    /* A BOM, CRLF line ends, ':' for '=', an empty first line of a list continued below, a
     * key after a blank line and a comment, no newline at the end. */
    sb_err rc = load("\xEF\xBB\xBF[run]\r\n"
                     "name: q\r\n"
                     "[defaults]\r\n"
                     "backend = openssl\r\n"
                     "suite =\r\n"
                     "    aes-128-gcm\r\n"
                     "\r\n"
                     "  ; a comment between continuation lines\r\n"
                     "    chacha20-poly1305,\r\n"
                     "\tnull\r\n"
                     "qos = 2",
                     &p, err, sizeof err);
    CHECK(rc == SB_OK, "quirks: rc %d: %s", rc, err);
    if (rc == SB_OK) {
        CHECK(p.n_cells == 3 && p.cells[2].suite->id == SB_SUITE_NULL && p.cells[0].qos == 2,
              "continued list of 3 suites (%zu cells)", p.n_cells);
        CHECK(strcmp(p.name, "q") == 0, "name '%s'", p.name);
    }
    sb_plan_free(&p);

    /* '#' is a comment only at the start of a line; ';' only after whitespace. */
    rc = load("[run]\nname = q\n[defaults]\nqos = 1 # one\n", &p, err, sizeof err);
    CHECK(rc == SB_ERR_PARSE && strstr(err, ":4: key 'qos' in [defaults]: level '1 # one' is not a whole number"),
          "inline '#': %s", err);
    sb_plan_free(&p);
    rc = load("[run]\nname = q\n[defaults]\nqos = 1;one\n", &p, err, sizeof err);
    CHECK(rc == SB_ERR_PARSE && strstr(err, ":4: key 'qos' in [defaults]: level '1;one' is not a whole number"),
          "';' without a space: %s", err);
    sb_plan_free(&p);
    /* A header's trailing text after ']' is ignored by libinih. */
    rc = load("[run] ; the run\nname = q\n[defaults] trailing\nbackend = openssl\nsuite = null\n",
              &p, err, sizeof err);
    CHECK(rc == SB_OK && p.n_cells == 1, "text after ']': rc %d %s", rc, err);
    sb_plan_free(&p);
}

static void relative_dataset(void)
{
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd) || chdir(dir) != 0) {
        CHECK(0, "chdir %s", dir);
        return;
    }
    mkdir("data", 0755);
    put("data/ward.3.csv", "a\n1\n");
    FILE *f = fopen("rel.ini", "w");
    if (f) {
        fputs("[run]\nname = r\n[defaults]\nbackend = openssl\nsuite = null\n"
              "payload = dataset:data/ward.3.csv:json, dataset:data/ward.3.csv:csv\n", f);
        fclose(f);
    }
    sb_plan p;
    char err[512] = "";
    sb_err rc = sb_plan_load("rel.ini", &p, err, sizeof err);
    CHECK(rc == SB_OK && p.n_cells == 2 && strcmp(p.path, "rel.ini") == 0 &&
              strcmp(p.payloads[0].dataset, "data/ward.3.csv") == 0 &&
              strcmp(p.payloads[0].label, "ward_3-json") == 0,
          "relative dataset path kept as written, '.' in the label made '_': rc %d %s", rc, err);
    CHECK(rc == SB_OK && strcmp(p.cells[1].id, "r.openssl.null.x25519.psk.ward_3-csv.pad0.qos0."
                                               "rekey0.rate0.dev1.inproc") == 0,
          "id '%s'", rc == SB_OK ? p.cells[1].id : "");
    sb_plan_free(&p);
    if (chdir(cwd) != 0)
        CHECK(0, "chdir back");
}

/* The example in experiments/README.md loads (run from the top of the checkout, as
 * tests/run.sh does: its dataset path is relative). */
static void readme_example(void)
{
    FILE *f = fopen("experiments/README.md", "r");
    CHECK(f != NULL, "experiments/README.md: %s (run from the top of the checkout)", strerror(errno));
    if (!f)
        return;
    static char text[4096];
    char line[512];
    size_t n = 0;
    int state = 0; /* 0: before "### Example", 1: before its ```ini, 2: inside, 3: done */
    while (state < 3 && fgets(line, sizeof line, f)) {
        if (state == 0 && strncmp(line, "### Example", 11) == 0)
            state = 1;
        else if (state == 1 && strncmp(line, "```ini", 6) == 0)
            state = 2;
        else if (state == 2 && strncmp(line, "```", 3) == 0)
            state = 3;
        else if (state == 2 && n + strlen(line) < sizeof text)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s", line);
    }
    fclose(f);
    CHECK(state == 3, "README: no ```ini block under ### Example");
    sb_plan p;
    char err[512] = "";
    sb_err rc = sb_plan_load(put("readme.ini", text), &p, err, sizeof err);
    /* payload-size: 3 x 2 x 4 sizes = 24, sodium aes-128-gcm (4) dropped; qos: 3 x 2 x 2
     * payloads x 3 = 36, 6 dropped. */
    CHECK(rc == SB_OK && p.n_cells == 50 && p.n_dropped == 10 && p.micro.enabled,
          "README example: rc %d %s (%zu cells)", rc, err, p.n_cells);
    sb_plan_free(&p);
}

/* ---- bad configs ---------------------------------------------------------------------------- */

/* Lines 1-3; the first line a case adds is line 4. */
#define HEAD "[run]\nname = t\n[defaults]\n"

typedef struct bad_case {
    const char *title;
    const char *text; /* "%s" in it, if any, is the temp folder */
    const char *want; /* the message after the path: ":LINE: ..." (a prefix) */
} bad_case;

static const bad_case bad_cases[] = {
    {"unknown section", HEAD "[foo]\n",
     ":4: unknown section [foo] (known: [run], [defaults], [study NAME], [micro]"},
    {"section names are case-sensitive", "[Run]\nname = t\n", ":1: unknown section [Run]"},
    {"unknown key", HEAD "colour = red\n", ":4: key 'colour' in [defaults]: unknown key (known here: "
     "warmup, backend, suite"},
    {"a [defaults] key in [run]", "[run]\nname = t\nqos = 1\n", ":3: key 'qos' in [run]: unknown key"},
    {"key given twice", HEAD "qos = 1\n\nqos = 2\n",
     ":6: key 'qos' in [defaults]: given twice (first at line 4; keep one)"},
    {"section given twice", HEAD "[defaults]\n",
     ":4: section [defaults] given twice (first at line 3; merge the two)"},
    {"duplicate level", HEAD "qos = 0, 1, 01\n", ":4: key 'qos' in [defaults]: duplicate level '01'"},
    {"duplicate backend", HEAD "backend = openssl, sodium, openssl\n",
     ":4: key 'backend' in [defaults]: duplicate level 'openssl'"},
    {"duplicate rate", HEAD "rate = 1.5, 1.50\n", ":4: key 'rate' in [defaults]: duplicate level '1.50'"},
    {"junk after a number", HEAD "devices = 10x\n",
     ":4: key 'devices' in [defaults]: level '10x' is not a whole number (devices is 1 to 10000)"},
    {"a real for a whole number", HEAD "messages = 1e3\n",
     ":4: key 'messages' in [defaults]: value '1e3' is not a whole number"},
    {"negative", HEAD "pad = -16\n", ":4: key 'pad' in [defaults]: level '-16' is negative"},
    {"negative seed", "[run]\nname = t\nseed = -1\n", ":3: key 'seed' in [run]: value '-1' is negative"},
    {"seed past 2^64", "[run]\nname = t\nseed = 18446744073709551616\n",
     ":3: key 'seed' in [run]: value '18446744073709551616' is too large"},
    {"qos 3", HEAD "qos = 0, 3\n", ":4: key 'qos' in [defaults]: level '3' is out of range (qos is 0, 1 or 2)"},
    {"devices 0", HEAD "devices = 0\n", ":4: key 'devices' in [defaults]: level '0' is out of range (devices is 1 to 10000)"},
    {"devices 10001", HEAD "devices = 10001\n", ":4: key 'devices' in [defaults]: level '10001' is out of range"},
    {"pad too small", HEAD "pad = 8\n", ":4: key 'pad' in [defaults]: level '8' is too small: padding to a "
     "multiple of fewer than 16 bytes"},
    {"pad too large", HEAD "pad = 65537\n", ":4: key 'pad' in [defaults]: level '65537' is out of range "
     "(pad is 0 (none) or 16 to 65536)"},
    {"rekey 1", HEAD "rekey = 1\n", ":4: key 'rekey' in [defaults]: level '1' is too small: an epoch of one "
     "message"},
    {"rekey past the seq limit", HEAD "rekey = 4294967297\n",
     ":4: key 'rekey' in [defaults]: level '4294967297' is too large: a session refuses"},
    {"negative rate", HEAD "rate = -1\n", ":4: key 'rate' in [defaults]: level '-1' is negative"},
    {"rate not a number", HEAD "rate = fast\n", ":4: key 'rate' in [defaults]: level 'fast' is not a number"},
    {"rate 1e999", HEAD "rate = 1e999\n", ":4: key 'rate' in [defaults]: level '1e999' is out of range"},
    {"rate in hex", HEAD "rate = 0x10\n", ":4: key 'rate' in [defaults]: level '0x10' is not a decimal number"},
    {"messages 0", HEAD "messages = 0\n", ":4: key 'messages' in [defaults]: value '0' is out of range (messages is 1 to 1000000000)"},
    {"messages too many", HEAD "messages = 1000000001\n", ":4: key 'messages' in [defaults]: value '1000000001' is too large"},
    {"warmup 1e7", "[run]\nname = t\nwarmup = 10000000\n",
     ":3: key 'warmup' in [run]: value '10000000' is too large: ten million"},
    {"warmup 1e7 in a study", HEAD "[study s]\nwarmup = 10000000\n",
     ":5: key 'warmup' in [study s]: value '10000000' is too large"},
    {"repetitions 0", "[run]\nname = t\nrepetitions = 0\n",
     ":3: key 'repetitions' in [run]: value '0' is out of range (repetitions is 1 to 1000)"},
    {"repetitions 1001", "[run]\nname = t\nrepetitions = 1001\n", ":3: key 'repetitions' in [run]: value '1001' is out of range"},
    {"micro repetitions", "[run]\nname = t\n[micro]\nrepetitions = 1001\n",
     ":4: key 'repetitions' in [micro]: value '1001' is out of range"},
    {"micro size 0", "[run]\nname = t\n[micro]\nsizes = 16, 0\n",
     ":4: key 'sizes' in [micro]: level '0' is out of range (sizes is 1 to 65536)"},
    {"micro size 65537", "[run]\nname = t\n[micro]\nsizes = 65537\n", ":4: key 'sizes' in [micro]: level '65537' is out of range"},
    {"micro min_time 0", "[run]\nname = t\n[micro]\nmin_time = 0\n",
     ":4: key 'min_time' in [micro]: value '0' is out of range (min_time is more than 0 and at most 60"},
    {"micro min_time 61", "[run]\nname = t\n[micro]\nmin_time = 60.5\n", ":4: key 'min_time' in [micro]: value '60.5' is out of range"},
    {"micro unknown op", "[run]\nname = t\n[micro]\nops = seal, sign\n",
     ":4: key 'ops' in [micro]: unknown level 'sign' (known: seal, open, forge, keygen, ecdh, handshake, rekey or all)"},
    {"micro with nothing to run", "[run]\nname = t\n[micro]\nbackend = sodium\nsuite = aes-128-gcm\nops = seal\n",
     ":3: section [micro]: nothing to measure"},
    {"payload size 0", HEAD "payload = size:0\n", ":4: key 'payload' in [defaults]: level 'size:0': size '0' is out of range"},
    {"payload size past 1 MiB", HEAD "payload = size:1048577\n", ":4: key 'payload' in [defaults]: level 'size:1048577': size '1048577' is out of range (sizes are 1 to 1048576 bytes)"},
    {"unknown backend", HEAD "backend = openssl, wolfssl\n",
     ":4: key 'backend' in [defaults]: unknown backend 'wolfssl' (known: "}, /* the list: known_backends() */
    {"unknown suite", HEAD "suite = aes-192-gcm\n",
     ":4: key 'suite' in [defaults]: unknown suite 'aes-192-gcm' (known: null, aes-128-gcm, aes-256-gcm, "
     "chacha20-poly1305, chacha20-hmac-sha256, or all)"},
    {"unknown group", "[run]\nname = t\n[micro]\ngroup = x448\n",
     ":4: key 'group' in [micro]: unknown group 'x448' (known: x25519, p256, or all)"},
    {"unknown auth", HEAD "auth = cert\n", ":4: key 'auth' in [defaults]: unknown level 'cert' (known: psk or none)"},
    {"unknown topology", HEAD "topology = mesh\n", ":4: key 'topology' in [defaults]: unknown level 'mesh' (known: inproc or split)"},
    {"unknown order", "[run]\nname = t\norder = random\n", ":3: key 'order' in [run]: unknown value 'random' (known: shuffled or sequential)"},
    {"tcp_nodelay not on/off", "[run]\nname = t\ntcp_nodelay = yes\n", ":3: key 'tcp_nodelay' in [run]: unknown value 'yes' (known: on or off)"},
    {"tcp_nodelay outside [run]", HEAD "tcp_nodelay = off\n", ":4: key 'tcp_nodelay'"},
    {"'all' with others", HEAD "backend = all, openssl\n", ":4: key 'backend' in [defaults]: level 'all' must stand alone"},
    {"payload without a kind", HEAD "payload = 64\n",
     ":4: key 'payload' in [defaults]: level '64' is not size:BYTES or dataset:PATH:ENCODING"},
    {"payload size without a colon", HEAD "payload = size64\n", ":4: key 'payload' in [defaults]: level 'size64' is not size:BYTES"},
    {"dataset without an encoding", HEAD "payload = dataset:%s/vitals_small.csv\n",
     ":4: key 'payload' in [defaults]: level 'dataset:"},
    {"missing dataset file", HEAD "payload = dataset:%s/nope.csv:json\n",
     ":4: key 'payload' in [defaults]: dataset file '"},
    {"dataset is a folder", HEAD "payload = dataset:%s:json\n", ":4: key 'payload' in [defaults]: dataset file '"},
    {"bad encoding", HEAD "payload = size:64, dataset:%s/vitals_small.csv:xml\n",
     ":4: key 'payload' in [defaults]: level 'dataset:"},
    {"two datasets, one label", HEAD "payload = dataset:%s/vitals_small.csv:cbor, dataset:%s/sub/vitals_small.csv:cbor\n",
     ":4: key 'payload' in [defaults]: level 'dataset:"},
    {"list for messages", HEAD "messages = 100, 1000\n",
     ":4: key 'messages' in [defaults]: takes one value, not a list"},
    {"list for warmup", HEAD "warmup = 0, 10\n", ":4: key 'warmup' in [defaults]: takes one value, not a list"},
    {"empty value", HEAD "qos =\n", ":4: key 'qos' in [defaults]: empty value (give 0, 1 or 2"},
    {"empty level", HEAD "qos = 0,,1\n", ":4: key 'qos' in [defaults]: empty level in the list"},
    {"trailing comma", HEAD "qos = 0, 1,\n", ":4: key 'qos' in [defaults]: empty level in the list"},
    {"study name with a space", HEAD "[study a b]\n", ":4: section [study a b]: study name 'a b' is not a name"},
    {"study name with a slash", HEAD "[study a/b]\n", ":4: section [study a/b]: study name 'a/b' is not a name"},
    {"study without a name", HEAD "[study]\n", ":4: section [study]: the study has no name"},
    {"study name too long", HEAD "[study abcdefghijabcdefghijabcdefghijabcdefghijx]\n",
     ":4: section [study abcdefghijabcdefghijabcdefghijabcdefghijx]: study name"},
    {"study given twice", HEAD "[study a]\nqos = 1\n[study b]\n[study a]\n",
     ":7: section [study a]: study 'a' given twice (first at line 4; study names must be unique)"},
    {"every cell of a study dropped", HEAD "backend = openssl\n[study ok]\n\n[study none]\nbackend = sodium\nsuite = aes-128-gcm\n",
     ":7: study 'none': every cell is dropped, e.g. none.sodium.aes-128-gcm.x25519"},
    {"every cell of the implicit study dropped", HEAD "backend = sodium\ngroup = p256\n",
     ":3: study 't': every cell is dropped"},
    {"split with 2000 devices, devices later", HEAD "topology = split\n[study big]\ndevices = 10, 2000\n",
     ":6: key 'devices' in [study big]: with topology at line 4: topology split with 2000 devices"},
    {"split with 2000 devices, topology later", HEAD "devices = 2000\n[study s]\ntopology = inproc, split\n",
     ":6: key 'topology' in [study s]: with devices at line 4: topology split with 2000 devices"},
    {"rate x devices past 1e6", HEAD "devices = 100, 1000\nrate = 10, 1000.5\n",
     ":5: key 'rate' in [defaults]: with devices at line 4: rate 1000.5 Hz x 1000 devices offers 1000500 messages/s, more than the 1000000"},
    {"line without '='", HEAD "qos = 1\nnoequals\nqos = 2\n",
     ":5: syntax error: 'noequals' is neither 'key = value' nor a [section] header"},
    {"syntax error before a key error", HEAD "noequals\nqos = 3\n", ":4: syntax error: 'noequals'"},
    {"header without ']'", "[run\nname = t\n", ":1: syntax error: section header '[run' has no closing ']'"},
    {"comment inside a header", "[run ; x]\nname = t\n", ":1: syntax error: section header"},
    {"indented key after a key", HEAD "qos = 1\n  devices = 2\n",
     ":5: line is indented, so libinih reads it as more of the value of 'qos' (line 4)"},
    {"indented header after a key", HEAD "qos = 1\n  [study x]\n", ":5: line is indented"},
    {"the earliest error wins", HEAD "qos = 3\n  devices = 2\n", ":4: key 'qos' in [defaults]: level '3'"},
    {"continued list with a bad level", HEAD "qos = 0,\n   9\n", ":4: key 'qos' in [defaults]: level '9'"},
    {"key outside any section", "name = t\n[run]\n", ":1: key 'name' is outside any section"},
    {"missing [run] name", "[defaults]\n\n[run]\ndescription = x\n", ":3: section [run]: key 'name' is missing"},
    {"no [run]", "[defaults]\nqos = 1\n", ": no [run] section"},
    {"bad run name", "[run]\nname = my run\n", ":2: key 'name' in [run]: 'my run' is not a name"},
    {"line too long", HEAD "suite = null, null, null, null, null, null, null, null, null, null, null, null, null, "
     "null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, "
     "null, null, null, null, null\n",
     ":4: line is longer than 198 characters, libinih's limit"},
    /* 3 x 5 x 2 x 2 x 10 x 3 x 10 x 6 = 108000 */
    {"too many cells", HEAD "backend = all\nsuite = all\ngroup = all\nauth = psk, none\n"
     "payload = size:1, size:2, size:3, size:4, size:5, size:6\n"
     "pad = 0, 16, 32, 48, 64, 80, 96, 112, 128, 144\nqos = 0, 1, 2\nrekey = 0, 2, 3, 4, 5, 6, 7, 8, 9, 10\n",
     ":3: study 't': the plan would have more than 100000 cells"},
    {"cell id too long", "[run]\nname = t\n[defaults]\nbackend = openssl\nsuite = chacha20-hmac-sha256\n"
     "[study abcdefghijabcdefghijabcdefghijabcdefghij]\npayload = dataset:%s/"
     "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijab.csv:cbor\n",
     ":6: study 'abcdefghijabcdefghijabcdefghijabcdefghij': cell id '"},
};

static void one_bad(const char *title, const char *text, size_t text_len, const char *want,
                    sb_err want_rc)
{
    char path[256];
    snprintf(path, sizeof path, "%s/bad.ini", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(text, 1, text_len, f);
        fclose(f);
    }
    char expect[1024];
    snprintf(expect, sizeof expect, "%s%s", path, want);
    sb_plan p;
    memset(&p, 0x5a, sizeof p); /* load must clear it */
    char err[512] = "";
    sb_err rc = sb_plan_load(path, &p, err, sizeof err);
    CHECK(rc == want_rc, "%s: rc %d, want %d (%s)", title, rc, want_rc, err);
    CHECK(strncmp(err, expect, strlen(expect)) == 0, "%s:\n      got  '%s'\n      want '%s...'",
          title, err, expect);
    CHECK(p.cells == NULL && p.text == NULL && p.n_cells == 0 && p.studies == NULL &&
              p.payloads == NULL, "%s: the plan is left empty", title);
    sb_plan_free(&p);
}

/* An unknown backend's message names every backend built, then `all`. */
static void known_backends(void)
{
    char path[256], err[512] = "", want[256] = "(known: ";
    snprintf(path, sizeof path, "%s/unknown-backend.ini", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("[run]\nname = t\n[defaults]\nbackend = wolfssl\n", f);
        fclose(f);
    }
    for (const sb_backend *const *be = sb_backends; *be; be++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s, ", (*be)->name);
    snprintf(want + strlen(want), sizeof want - strlen(want), "or all)");
    sb_plan p;
    sb_err rc = sb_plan_load(path, &p, err, sizeof err);
    CHECK(rc != SB_OK && strstr(err, want), "unknown backend: '%s' lacks '%s'", err, want);
    if (rc == SB_OK)
        sb_plan_free(&p);
}

static void bad_configs(void)
{
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0755);
    put("sub/vitals_small.csv", "a\n1\n");
    put("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijab.csv",
        "a\n1\n");
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *b = &bad_cases[i];
        const char *text = strstr(b->text, "%s") ? fmt(b->text, dir, dir) : b->text;
        one_bad(b->title, text, strlen(text), b->want, SB_ERR_PARSE);
    }
    static const char nul[] = HEAD "qos = 1\n\0\n";
    one_bad("NUL byte", nul, sizeof nul - 1, ":5: the file has a NUL byte", SB_ERR_PARSE);

    /* Unreadable: a missing file, and a folder. */
    sb_plan p;
    char err[512] = "", missing[128];
    snprintf(missing, sizeof missing, "%s/none.ini", dir);
    sb_err rc = sb_plan_load(missing, &p, err, sizeof err);
    CHECK(rc == SB_ERR_IO && strstr(err, "none.ini: cannot read the config: No such file"),
          "missing file: rc %d '%s'", rc, err);
    sb_plan_free(&p);
    rc = sb_plan_load(dir, &p, err, sizeof err);
    CHECK(rc == SB_ERR_IO && strstr(err, "Is a directory"), "folder: rc %d '%s'", rc, err);
    sb_plan_free(&p);
    if (geteuid() != 0) { /* root reads anything */
        const char *path = put("locked.ini", "[run]\nname = t\n");
        chmod(path, 0);
        rc = sb_plan_load(path, &p, err, sizeof err);
        CHECK(rc == SB_ERR_IO && strstr(err, "Permission denied"), "mode 0: rc %d '%s'", rc, err);
        sb_plan_free(&p);
    }
    /* NULL err is allowed. */
    rc = sb_plan_load(missing, &p, NULL, 0);
    CHECK(rc == SB_ERR_IO, "NULL err: rc %d", rc);
}

static void remove_tree(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sealbench-config-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    put("vitals_small.csv", "patient_id,timestamp,hr\nP1,2026-01-01T00:00:00Z,72\n");
    full_config();
    builtin_defaults();
    nagle_on();
    all_and_overrides();
    libinih_quirks();
    relative_dataset();
    readme_example();
    bad_configs();
    known_backends();
    remove_tree(dir);
    return check_done("config");
}
