/* Known-answer tests: the standard vectors of tests/kat/ through every backend.
 *
 * Each data file is a list of stanzas (`[title]` then `name = value` lines; the format is written
 * at the top of every file). One reader loads them all; one runner per file kind puts each vector
 * through every backend of sb_backends[] that offers the primitive, so that a vector added to a
 * file is checked against every library at once, and a library added to the registry meets every
 * vector. Tampered copies (`expect = ...`) sit beside the good vectors and must be refused.
 *
 * A failure names the data file, the stanza's line and title, and the backend. Usage:
 * test_kat [DIR] (default tests/kat). Leans on ciphers/cipher.h and tests/check.h only. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ciphers/cipher.h"
#include "common/err.h"
#include "common/util.h"
#include "tests/check.h"

/* ---- The stanza reader ------------------------------------------------------------------- */

#define KAT_MAX_FIELDS 12

typedef struct kat_field {
    char *name;
    char *value;
} kat_field;

typedef struct kat_stanza {
    const char *file; /* file name for messages, e.g. "aead.txt" */
    unsigned line;    /* line of the [title] */
    char *title;
    kat_field fields[KAT_MAX_FIELDS];
    size_t n_fields;
} kat_stanza;

typedef struct kat_file {
    const char *name;
    kat_stanza *stanzas;
    size_t n, cap;
} kat_file;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "test_kat: out of memory\n");
        exit(2);
    }
    return d;
}

static void kat_free(kat_file *kf)
{
    for (size_t i = 0; i < kf->n; i++) {
        kat_stanza *st = &kf->stanzas[i];
        free(st->title);
        for (size_t j = 0; j < st->n_fields; j++) {
            free(st->fields[j].name);
            free(st->fields[j].value);
        }
    }
    free(kf->stanzas);
    memset(kf, 0, sizeof *kf);
}

/* Load dir/name. Every malformed line is a failed check naming file:line; the well-formed
 * stanzas are kept so that one bad line does not hide the other vectors. */
static void kat_load(const char *dir, const char *name, kat_file *kf)
{
    char path[4096];
    memset(kf, 0, sizeof *kf);
    kf->name = name;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "%s: cannot open: %s", path, strerror(errno));
    if (!f)
        return;

    char *buf = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    kat_stanza *cur = NULL;
    bool after_bad_title = false; /* its fields are dropped without a message each */
    while (getline(&buf, &cap, f) != -1) {
        lineno++;
        char *s = trim(buf);
        if (*s == '\0' || *s == '#')
            continue;
        if (*s == '[') {
            size_t n = strlen(s);
            char *title = NULL;
            if (n >= 2 && s[n - 1] == ']') {
                s[n - 1] = '\0';
                title = trim(s + 1);
            }
            if (!title || *title == '\0') {
                CHECK(0, "%s:%u: malformed title: want [some title]; its stanza is skipped",
                      name, lineno);
                cur = NULL;
                after_bad_title = true;
                continue;
            }
            after_bad_title = false;
            for (size_t i = 0; i < kf->n; i++)
                CHECK(strcmp(kf->stanzas[i].title, title) != 0,
                      "%s:%u: title [%s] already used at line %u", name, lineno, title,
                      kf->stanzas[i].line);
            if (kf->n == kf->cap) {
                kf->cap = kf->cap ? 2 * kf->cap : 32;
                kf->stanzas = realloc(kf->stanzas, kf->cap * sizeof *kf->stanzas);
                if (!kf->stanzas) {
                    fprintf(stderr, "test_kat: out of memory\n");
                    exit(2);
                }
            }
            cur = &kf->stanzas[kf->n++];
            memset(cur, 0, sizeof *cur);
            cur->file = name;
            cur->line = lineno;
            cur->title = xstrdup(title);
            continue;
        }
        if (after_bad_title)
            continue;
        char *eq = strchr(s, '=');
        if (!cur || !eq) {
            CHECK(0, "%s:%u: malformed: %s", name, lineno,
                  !eq ? "want 'name = value'" : "a field before the first [title]");
            continue;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        bool dup = false;
        for (size_t j = 0; j < cur->n_fields; j++)
            dup |= strcmp(cur->fields[j].name, key) == 0;
        if (*key == '\0' || dup || cur->n_fields == KAT_MAX_FIELDS) {
            CHECK(0, "%s:%u: malformed: %s", name, lineno,
                  *key == '\0' ? "empty field name"
                  : dup        ? "field given twice in one stanza"
                               : "too many fields in one stanza");
            continue;
        }
        cur->fields[cur->n_fields].name = xstrdup(key);
        cur->fields[cur->n_fields].value = xstrdup(value);
        cur->n_fields++;
    }
    CHECK(!ferror(f), "%s: read error", path);
    free(buf);
    fclose(f);
}

static const char *kat_get(const kat_stanza *st, const char *name)
{
    for (size_t i = 0; i < st->n_fields; i++)
        if (strcmp(st->fields[i].name, name) == 0)
            return st->fields[i].value;
    return NULL;
}

/* Refuse fields a runner does not know: a misspelt `nonec =` must not silently vanish. */
static bool kat_fields_known(const kat_stanza *st, const char *const *known)
{
    bool ok = true;
    for (size_t i = 0; i < st->n_fields; i++) {
        bool found = false;
        for (const char *const *k = known; *k; k++)
            found |= strcmp(st->fields[i].name, *k) == 0;
        CHECK(found, "%s:%u [%s]: unknown field '%s'", st->file, st->line, st->title,
              st->fields[i].name);
        ok &= found;
    }
    return ok;
}

/* A decoded hex field. p is never NULL (an empty value gets a 1-byte allocation), so that
 * backends never see NULL with a zero length. */
typedef struct kat_bytes {
    uint8_t *p;
    size_t n;
} kat_bytes;

static void bytes_free(kat_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

/* 1: present and decoded; 0: absent (b empty); -1: malformed (reported). */
static int kat_hex(const kat_stanza *st, const char *name, kat_bytes *b)
{
    const char *v = kat_get(st, name);
    size_t cap = v ? strlen(v) / 2 : 0;
    b->p = malloc(cap ? cap : 1);
    b->n = 0;
    if (!b->p) {
        fprintf(stderr, "test_kat: out of memory\n");
        exit(2);
    }
    if (!v)
        return 0;
    long n = sb_hex_decode(v, b->p, cap);
    CHECK(n >= 0, "%s:%u [%s]: field '%s' is not hex", st->file, st->line, st->title, name);
    if (n < 0)
        return -1;
    b->n = (size_t)n;
    return 1;
}

/* A required hex field, optionally of a fixed length (want_len < 0: any length). */
static bool kat_need_hex(const kat_stanza *st, const char *name, long want_len, kat_bytes *b)
{
    int rc = kat_hex(st, name, b);
    CHECK(rc != 0, "%s:%u [%s]: missing field '%s'", st->file, st->line, st->title, name);
    if (rc != 1)
        return false;
    CHECK(want_len < 0 || b->n == (size_t)want_len, "%s:%u [%s]: '%s' is %zu bytes, want %ld",
          st->file, st->line, st->title, name, b->n, want_len);
    return want_len < 0 || b->n == (size_t)want_len;
}

/* A decimal field in [lo, hi]. 1: present and valid; 0: absent; -1: malformed (reported). */
static int kat_uint(const kat_stanza *st, const char *name, unsigned long lo, unsigned long hi,
                    unsigned long *out)
{
    const char *v = kat_get(st, name);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    bool ok = *v >= '0' && *v <= '9' && *end == '\0' && errno == 0 && x >= lo && x <= hi;
    CHECK(ok, "%s:%u [%s]: '%s = %s' is not a decimal in [%lu, %lu]", st->file, st->line,
          st->title, name, v, lo, hi);
    *out = x;
    return ok ? 1 : -1;
}

/* `expect`: NULL when absent; otherwise one of allowed, or a reported failure (returns ""). */
static const char *kat_expect(const kat_stanza *st, const char *const *allowed)
{
    const char *v = kat_get(st, "expect");
    if (!v)
        return NULL;
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(v, *a) == 0)
            return v;
    CHECK(0, "%s:%u [%s]: 'expect = %s' is not valid in this file", st->file, st->line,
          st->title, v);
    return "";
}

/* ---- Per-backend bookkeeping -------------------------------------------------------------- */

#define MAX_BACKENDS 8

/* What a backend can be asked to do, for the coverage check. */
enum {
    COV_SHA256,
    COV_HMAC,
    COV_HKDF,
    COV_CHACHA20,
    COV_AEAD,                        /* + suite id */
    COV_KEX = COV_AEAD + SB_SUITE_COUNT, /* + group id */
    COV_COUNT = COV_KEX + SB_GROUP_COUNT
};

static size_t n_backends;
static unsigned vectors_run[MAX_BACKENDS], vectors_failed[MAX_BACKENDS];
static unsigned coverage[MAX_BACKENDS][COV_COUNT];
static bool skip_said[MAX_BACKENDS][COV_COUNT];

/* "aead.txt:12 [title] openssl", the prefix of every message about one run of one vector. */
static char ctx[512];

static void vector_begin(const kat_stanza *st, size_t bi, unsigned *failed_before)
{
    snprintf(ctx, sizeof ctx, "%s:%u [%s] %s", st->file, st->line, st->title,
             sb_backends[bi]->name);
    *failed_before = check_failed;
}

static void vector_end(size_t bi, int cov, unsigned failed_before)
{
    vectors_run[bi]++;
    coverage[bi][cov]++;
    if (check_failed != failed_before)
        vectors_failed[bi]++;
}

static void say_skip(size_t bi, int cov, const char *what, const char *why)
{
    if (skip_said[bi][cov])
        return;
    skip_said[bi][cov] = true;
    printf("skip %s:%s: %s\n", sb_backends[bi]->name, what, why ? why : "(no reason given)");
}

/* Hex of at most 64 bytes, for messages; two rotating buffers so that one message can show
 * "want" and "got". */
static const char *hexs(const uint8_t *p, size_t n)
{
    static char bufs[2][64 * 2 + 8];
    static int which;
    char *b = bufs[which ^= 1];
    size_t shown = n > 64 ? 64 : n;
    sb_hex_encode(p, shown, b);
    if (shown < n)
        strcat(b, "...");
    return b;
}

static void check_bytes(const char *what, const uint8_t *got, const uint8_t *want, size_t n)
{
    bool same = n == 0 || memcmp(got, want, n) == 0;
    CHECK(same, "%s: %s differs\n    want %s\n    got  %s", ctx, what, hexs(want, n),
          hexs(got, n));
}

static bool all_equal(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* Output buffers get a guard zone after the expected length; a backend writing past it (the
 * tag into an open's output, say) is caught. */
#define GUARD 16
#define FILL 0xAA

static uint8_t *guarded(size_t n)
{
    uint8_t *p = malloc(n + GUARD);
    if (!p) {
        fprintf(stderr, "test_kat: out of memory\n");
        exit(2);
    }
    memset(p, FILL, n + GUARD);
    return p;
}

static void check_guard(const char *what, const uint8_t *p, size_t n)
{
    CHECK(all_equal(p + n, GUARD, FILL), "%s: %s wrote past its %zu output bytes", ctx, what, n);
}

/* ---- AEAD ---------------------------------------------------------------------------------- */

typedef struct aead_vec {
    const kat_stanza *st;
    const sb_suite *suite;
    kat_bytes key, mac_key, nonce, aad, pt, ct, tag;
    bool must_fail;
} aead_vec;

static void aead_run_good(const sb_aead_ops *ops, void *state, const aead_vec *v)
{
    size_t n = v->pt.n, tl = v->tag.n;
    uint8_t *want = guarded(n + tl);
    memcpy(want, v->ct.p, n);
    memcpy(want + n, v->tag.p, tl);

    uint8_t *out = guarded(n + tl);
    sb_err rc = ops->seal(state, v->nonce.p, v->aad.p, v->aad.n, v->pt.p, n, out);
    CHECK(rc == SB_OK, "%s: seal returned %s", ctx, sb_err_name(rc));
    if (rc == SB_OK) {
        check_bytes("seal: ct || tag", out, want, n + tl);
        check_guard("seal", out, n + tl);
    }

    /* In place: the plaintext sits where ct || tag will go. */
    memset(out, FILL, n + tl + GUARD);
    memcpy(out, v->pt.p, n);
    rc = ops->seal(state, v->nonce.p, v->aad.p, v->aad.n, out, n, out);
    CHECK(rc == SB_OK, "%s: in-place seal returned %s", ctx, sb_err_name(rc));
    if (rc == SB_OK) {
        check_bytes("in-place seal: ct || tag", out, want, n + tl);
        check_guard("in-place seal", out, n + tl);
    }

    memset(out, FILL, n + tl + GUARD);
    rc = ops->open(state, v->nonce.p, v->aad.p, v->aad.n, want, n + tl, out);
    CHECK(rc == SB_OK, "%s: open returned %s", ctx, sb_err_name(rc));
    if (rc == SB_OK) {
        check_bytes("open: pt", out, v->pt.p, n);
        check_guard("open", out, n);
    }

    memset(out, FILL, n + tl + GUARD);
    memcpy(out, want, n + tl);
    rc = ops->open(state, v->nonce.p, v->aad.p, v->aad.n, out, n + tl, out);
    CHECK(rc == SB_OK, "%s: in-place open returned %s", ctx, sb_err_name(rc));
    if (rc == SB_OK)
        check_bytes("in-place open: pt", out, v->pt.p, n);

    free(out);
    free(want);
}

static void aead_run_bad(const sb_aead_ops *ops, void *state, const aead_vec *v)
{
    size_t n = v->ct.n, tl = v->tag.n;
    uint8_t *in = guarded(n + tl);
    memcpy(in, v->ct.p, n);
    memcpy(in + n, v->tag.p, tl);

    /* Fail closed: whatever open wrote before it knew, the output is wiped. */
    uint8_t *out = guarded(n);
    sb_err rc = ops->open(state, v->nonce.p, v->aad.p, v->aad.n, in, n + tl, out);
    CHECK(rc == SB_ERR_AUTH, "%s: open of a tampered message returned %s, want auth", ctx,
          sb_err_name(rc));
    CHECK(all_equal(out, n, 0), "%s: output not wiped after a failed open: %s", ctx,
          hexs(out, n));
    check_guard("failed open", out, n);

    rc = ops->open(state, v->nonce.p, v->aad.p, v->aad.n, in, n + tl, in);
    CHECK(rc == SB_ERR_AUTH, "%s: in-place open of a tampered message returned %s, want auth",
          ctx, sb_err_name(rc));
    CHECK(all_equal(in, n, 0), "%s: buffer not wiped after a failed in-place open: %s", ctx,
          hexs(in, n));

    free(out);
    free(in);
}

static void aead_run(const char *dir)
{
    static const char *const known[] = {"suite", "key", "mac_key", "nonce", "aad", "pt",
                                        "ct",    "tag", "expect",  NULL};
    static const char *const expects[] = {"fail", NULL};
    kat_file kf;
    kat_load(dir, "aead.txt", &kf);

    for (size_t i = 0; i < kf.n; i++) {
        const kat_stanza *st = &kf.stanzas[i];
        aead_vec v = {.st = st};
        const char *suite_name = kat_get(st, "suite");
        const char *expect = kat_expect(st, expects);
        bool ok = kat_fields_known(st, known) && (!expect || *expect);
        v.suite = suite_name ? sb_suite_by_name(suite_name) : NULL;
        CHECK(v.suite != NULL, "%s:%u [%s]: missing or unknown suite '%s'", st->file, st->line,
              st->title, suite_name ? suite_name : "");
        if (!v.suite)
            continue;
        v.must_fail = expect != NULL;
        ok &= kat_need_hex(st, "key", v.suite->key_bytes, &v.key);
        if (v.suite->mac_key_bytes) {
            ok &= kat_need_hex(st, "mac_key", v.suite->mac_key_bytes, &v.mac_key);
        } else if (kat_get(st, "mac_key")) {
            CHECK(0, "%s:%u [%s]: mac_key given for a suite without one", st->file, st->line,
                  st->title);
            ok = false;
        }
        ok &= kat_need_hex(st, "nonce", SB_NONCE_BYTES, &v.nonce);
        ok &= kat_need_hex(st, "aad", -1, &v.aad);
        ok &= kat_need_hex(st, "ct", -1, &v.ct);
        ok &= kat_need_hex(st, "tag", v.suite->tag_bytes, &v.tag);
        if (v.must_fail) {
            CHECK(kat_get(st, "pt") == NULL, "%s:%u [%s]: a tampered case has no pt", st->file,
                  st->line, st->title);
        } else if (kat_need_hex(st, "pt", -1, &v.pt)) {
            CHECK(v.pt.n == v.ct.n, "%s:%u [%s]: pt and ct lengths differ", st->file, st->line,
                  st->title);
            ok &= v.pt.n == v.ct.n;
        } else {
            ok = false;
        }

        for (size_t bi = 0; ok && bi < n_backends; bi++) {
            const sb_backend *be = sb_backends[bi];
            sb_cipher c;
            const char *why = NULL;
            sb_err rc = sb_cipher_get(be, v.suite, &c, &why);
            if (rc == SB_ERR_UNAVAILABLE) {
                say_skip(bi, COV_AEAD + v.suite->id, v.suite->name, why);
                continue;
            }
            unsigned before;
            vector_begin(st, bi, &before);
            CHECK(rc == SB_OK, "%s: sb_cipher_get returned %s", ctx, sb_err_name(rc));
            void *state = NULL;
            if (rc == SB_OK) {
                rc = c.ops->init(&state, be, v.suite, v.key.p,
                                 v.suite->mac_key_bytes ? v.mac_key.p : NULL);
                CHECK(rc == SB_OK, "%s: init returned %s", ctx, sb_err_name(rc));
            }
            if (rc == SB_OK) {
                if (v.must_fail)
                    aead_run_bad(c.ops, state, &v);
                else
                    aead_run_good(c.ops, state, &v);
                c.ops->free(state);
            }
            vector_end(bi, COV_AEAD + v.suite->id, before);
        }
        bytes_free(&v.key);
        bytes_free(&v.mac_key);
        bytes_free(&v.nonce);
        bytes_free(&v.aad);
        bytes_free(&v.pt);
        bytes_free(&v.ct);
        bytes_free(&v.tag);
    }
    kat_free(&kf);
}

/* ---- ChaCha20 ------------------------------------------------------------------------------ */

static void chacha20_run(const char *dir)
{
    static const char *const known[] = {"key", "nonce", "counter", "pt", "ct", NULL};
    kat_file kf;
    kat_load(dir, "chacha20.txt", &kf);

    for (size_t i = 0; i < kf.n; i++) {
        const kat_stanza *st = &kf.stanzas[i];
        kat_bytes key, nonce, pt, ct;
        unsigned long counter = 0;
        bool ok = kat_fields_known(st, known);
        ok &= kat_need_hex(st, "key", 32, &key);
        ok &= kat_need_hex(st, "nonce", SB_NONCE_BYTES, &nonce);
        ok &= kat_need_hex(st, "pt", -1, &pt);
        ok &= kat_need_hex(st, "ct", -1, &ct);
        int crc = kat_uint(st, "counter", 0, UINT32_MAX, &counter);
        CHECK(crc != 0, "%s:%u [%s]: missing field 'counter'", st->file, st->line, st->title);
        ok &= crc == 1;
        if (ok && pt.n != ct.n) {
            CHECK(0, "%s:%u [%s]: pt and ct lengths differ", st->file, st->line, st->title);
            ok = false;
        }
        /* The split call below needs counter + 1 to exist. */
        bool split = pt.n > 64 && counter < UINT32_MAX;

        for (size_t bi = 0; ok && bi < n_backends; bi++) {
            const sb_backend *be = sb_backends[bi];
            if (!be->chacha20_xor) {
                say_skip(bi, COV_CHACHA20, "chacha20", "no raw ChaCha20 (chacha20_xor is NULL)");
                continue;
            }
            unsigned before;
            vector_begin(st, bi, &before);
            uint32_t c32 = (uint32_t)counter;
            uint8_t *out = guarded(pt.n);
            sb_err rc = be->chacha20_xor(key.p, nonce.p, c32, pt.p, pt.n, out);
            CHECK(rc == SB_OK, "%s: chacha20_xor returned %s", ctx, sb_err_name(rc));
            check_bytes("encrypt", out, ct.p, ct.n);
            check_guard("encrypt", out, ct.n);

            memcpy(out, ct.p, ct.n);
            rc = be->chacha20_xor(key.p, nonce.p, c32, out, ct.n, out);
            CHECK(rc == SB_OK, "%s: in-place chacha20_xor returned %s", ctx, sb_err_name(rc));
            check_bytes("in-place decrypt", out, pt.p, pt.n);

            if (split) {
                memset(out, FILL, pt.n + GUARD);
                rc = be->chacha20_xor(key.p, nonce.p, c32, pt.p, 64, out);
                if (rc == SB_OK)
                    rc = be->chacha20_xor(key.p, nonce.p, c32 + 1, pt.p + 64, pt.n - 64,
                                          out + 64);
                CHECK(rc == SB_OK, "%s: split chacha20_xor returned %s", ctx, sb_err_name(rc));
                check_bytes("encrypt in two calls (64 bytes, then counter + 1)", out, ct.p,
                            ct.n);
            }
            free(out);
            vector_end(bi, COV_CHACHA20, before);
        }
        bytes_free(&key);
        bytes_free(&nonce);
        bytes_free(&pt);
        bytes_free(&ct);
    }
    kat_free(&kf);
}

/* ---- HMAC-SHA256 --------------------------------------------------------------------------- */

static void hmac_run(const char *dir)
{
    static const char *const known[] = {"key", "data", "mac", "truncate", "expect", NULL};
    static const char *const expects[] = {"fail", NULL};
    kat_file kf;
    kat_load(dir, "hmac.txt", &kf);

    for (size_t i = 0; i < kf.n; i++) {
        const kat_stanza *st = &kf.stanzas[i];
        kat_bytes key, data, mac;
        unsigned long trunc = SB_HASH_BYTES;
        const char *expect = kat_expect(st, expects);
        bool ok = kat_fields_known(st, known) && (!expect || *expect);
        ok &= kat_uint(st, "truncate", 1, SB_HASH_BYTES, &trunc) >= 0;
        ok &= kat_need_hex(st, "key", -1, &key);
        ok &= kat_need_hex(st, "data", -1, &data);
        ok &= kat_need_hex(st, "mac", (long)trunc, &mac);
        bool must_fail = expect != NULL;

        for (size_t bi = 0; ok && bi < n_backends; bi++) {
            const sb_backend *be = sb_backends[bi];
            if (!be->hmac) {
                say_skip(bi, COV_HMAC, "hmac-sha256", "no HMAC-SHA256 (hmac is NULL)");
                continue;
            }
            unsigned before;
            vector_begin(st, bi, &before);
            uint8_t one[SB_HASH_BYTES], parts[SB_HASH_BYTES], again[SB_HASH_BYTES];
            sb_err rc = sb_hmac(be, key.p, key.n, data.p, data.n, one);
            CHECK(rc == SB_OK, "%s: sb_hmac returned %s", ctx, sb_err_name(rc));
            if (must_fail) {
                CHECK(rc != SB_OK || memcmp(one, mac.p, trunc) != 0,
                      "%s: a changed input gave the listed MAC", ctx);
            } else if (rc == SB_OK) {
                check_bytes("one-shot MAC", one, mac.p, trunc);

                /* The keyed state: two updates, then a second MAC after begin() again. */
                void *h = NULL;
                size_t half = data.n / 2;
                rc = be->hmac->init(&h, key.p, key.n);
                CHECK(rc == SB_OK, "%s: hmac init returned %s", ctx, sb_err_name(rc));
                if (rc == SB_OK) {
                    if ((rc = be->hmac->begin(h)) == SB_OK &&
                        (rc = be->hmac->update(h, data.p, half)) == SB_OK &&
                        (rc = be->hmac->update(h, data.p + half, data.n - half)) == SB_OK)
                        rc = be->hmac->finish(h, parts);
                    CHECK(rc == SB_OK, "%s: hmac in two updates returned %s", ctx,
                          sb_err_name(rc));
                    if (rc == SB_OK)
                        check_bytes("MAC in two updates", parts, one, SB_HASH_BYTES);
                    if ((rc = be->hmac->begin(h)) == SB_OK &&
                        (rc = be->hmac->update(h, data.p, data.n)) == SB_OK)
                        rc = be->hmac->finish(h, again);
                    CHECK(rc == SB_OK, "%s: hmac after a second begin returned %s", ctx,
                          sb_err_name(rc));
                    if (rc == SB_OK)
                        check_bytes("MAC after a second begin on the same key", again, one,
                                    SB_HASH_BYTES);
                    be->hmac->free(h);
                }
            }
            vector_end(bi, COV_HMAC, before);
        }
        bytes_free(&key);
        bytes_free(&data);
        bytes_free(&mac);
    }
    kat_free(&kf);
}

/* ---- HKDF-SHA256 --------------------------------------------------------------------------- */

static void hkdf_run(const char *dir)
{
    static const char *const known[] = {"ikm", "salt", "info", "L", "prk", "okm", NULL};
    kat_file kf;
    kat_load(dir, "hkdf.txt", &kf);

    for (size_t i = 0; i < kf.n; i++) {
        const kat_stanza *st = &kf.stanzas[i];
        kat_bytes ikm, salt, info, prk, okm;
        unsigned long len = 0;
        bool ok = kat_fields_known(st, known);
        ok &= kat_need_hex(st, "ikm", -1, &ikm);
        ok &= kat_need_hex(st, "salt", -1, &salt);
        ok &= kat_need_hex(st, "info", -1, &info);
        ok &= kat_need_hex(st, "prk", SB_HASH_BYTES, &prk);
        int lrc = kat_uint(st, "L", 1, 255 * SB_HASH_BYTES, &len);
        CHECK(lrc != 0, "%s:%u [%s]: missing field 'L'", st->file, st->line, st->title);
        ok &= lrc == 1 && kat_need_hex(st, "okm", (long)len, &okm);
        if (lrc != 1)
            okm = (kat_bytes){0};

        for (size_t bi = 0; ok && bi < n_backends; bi++) {
            const sb_backend *be = sb_backends[bi];
            if (!be->hkdf_extract || !be->hkdf_expand) {
                say_skip(bi, COV_HKDF, "hkdf-sha256", "no HKDF (hkdf_extract/expand is NULL)");
                continue;
            }
            unsigned before;
            vector_begin(st, bi, &before);
            uint8_t got_prk[SB_HASH_BYTES];
            sb_err rc = be->hkdf_extract(salt.p, salt.n, ikm.p, ikm.n, got_prk);
            CHECK(rc == SB_OK, "%s: hkdf_extract returned %s", ctx, sb_err_name(rc));
            if (rc == SB_OK)
                check_bytes("extract: prk", got_prk, prk.p, SB_HASH_BYTES);

            uint8_t *out = guarded(len);
            rc = be->hkdf_expand(prk.p, info.p, info.n, out, len);
            CHECK(rc == SB_OK, "%s: hkdf_expand returned %s", ctx, sb_err_name(rc));
            if (rc == SB_OK) {
                check_bytes("expand: okm", out, okm.p, len);
                check_guard("expand", out, len);
            }
            memset(out, FILL, len + GUARD);
            rc = sb_hkdf(be, salt.p, salt.n, ikm.p, ikm.n, info.p, info.n, out, len);
            CHECK(rc == SB_OK, "%s: sb_hkdf returned %s", ctx, sb_err_name(rc));
            if (rc == SB_OK)
                check_bytes("sb_hkdf: okm", out, okm.p, len);
            free(out);
            vector_end(bi, COV_HKDF, before);
        }
        bytes_free(&ikm);
        bytes_free(&salt);
        bytes_free(&info);
        bytes_free(&prk);
        bytes_free(&okm);
    }
    kat_free(&kf);
}

/* ---- SHA-256 ------------------------------------------------------------------------------- */

static void sha256_run(const char *dir)
{
    static const char *const known[] = {"msg", "digest", NULL};
    kat_file kf;
    kat_load(dir, "sha256.txt", &kf);

    for (size_t i = 0; i < kf.n; i++) {
        const kat_stanza *st = &kf.stanzas[i];
        kat_bytes msg, digest;
        bool ok = kat_fields_known(st, known);
        ok &= kat_need_hex(st, "msg", -1, &msg);
        ok &= kat_need_hex(st, "digest", SB_HASH_BYTES, &digest);

        for (size_t bi = 0; ok && bi < n_backends; bi++) {
            const sb_backend *be = sb_backends[bi];
            if (!be->sha256) {
                say_skip(bi, COV_SHA256, "sha256", "no SHA-256 (sha256 is NULL)");
                continue;
            }
            unsigned before;
            vector_begin(st, bi, &before);
            uint8_t got[SB_HASH_BYTES];
            sb_err rc = be->sha256(msg.p, msg.n, got);
            CHECK(rc == SB_OK, "%s: sha256 returned %s", ctx, sb_err_name(rc));
            if (rc == SB_OK)
                check_bytes("digest", got, digest.p, SB_HASH_BYTES);
            vector_end(bi, COV_SHA256, before);
        }
        bytes_free(&msg);
        bytes_free(&digest);
    }
    kat_free(&kf);
}

/* ---- Key exchange -------------------------------------------------------------------------- */

static void kex_run(const char *dir, const char *file, const sb_group *group)
{
    static const char *const known[] = {"priv", "pub", "peer_pub", "shared", "expect", NULL};
    static const char *const expects[] = {"zero_shared", "bad_point", NULL};
    kat_file kf;
    kat_load(dir, file, &kf);

    for (size_t i = 0; i < kf.n; i++) {
        const kat_stanza *st = &kf.stanzas[i];
        kat_bytes priv, pub, peer, shared;
        const char *expect = kat_expect(st, expects);
        bool ok = kat_fields_known(st, known) && (!expect || *expect);
        ok &= kat_need_hex(st, "priv", group->priv_bytes, &priv);
        ok &= kat_need_hex(st, "peer_pub", group->pub_bytes, &peer);
        int has_pub = kat_hex(st, "pub", &pub);
        CHECK(has_pub != 1 || pub.n == group->pub_bytes, "%s:%u [%s]: 'pub' is %zu bytes, want %u",
              st->file, st->line, st->title, pub.n, group->pub_bytes);
        ok &= has_pub == 0 || (has_pub == 1 && pub.n == group->pub_bytes);
        if (!expect) {
            ok &= kat_need_hex(st, "shared", SB_SHARED_BYTES, &shared);
        } else {
            shared = (kat_bytes){0};
            CHECK(kat_get(st, "shared") == NULL, "%s:%u [%s]: a refused case has no shared",
                  st->file, st->line, st->title);
        }
        sb_err want_err = !expect ? SB_OK
                          : strcmp(expect, "zero_shared") == 0 ? SB_ERR_ZERO_SHARED
                                                               : SB_ERR_POINT;

        for (size_t bi = 0; ok && bi < n_backends; bi++) {
            const sb_backend *be = sb_backends[bi];
            const char *why = NULL;
            const sb_kex_ops *ops = sb_kex_get(be, group, &why);
            if (!ops) {
                say_skip(bi, COV_KEX + group->id, group->name, why);
                continue;
            }
            unsigned before;
            vector_begin(st, bi, &before);
            if (has_pub == 1) {
                uint8_t *got = guarded(group->pub_bytes);
                sb_err rc = ops->public_key(priv.p, got);
                CHECK(rc == SB_OK, "%s: public_key returned %s", ctx, sb_err_name(rc));
                if (rc == SB_OK) {
                    check_bytes("public key", got, pub.p, group->pub_bytes);
                    check_guard("public_key", got, group->pub_bytes);
                }
                free(got);
            }
            uint8_t *got = guarded(SB_SHARED_BYTES);
            sb_err rc = ops->derive(priv.p, peer.p, got);
            CHECK(rc == want_err, "%s: derive returned %s, want %s", ctx, sb_err_name(rc),
                  sb_err_name(want_err));
            if (rc == SB_OK && want_err == SB_OK) {
                check_bytes("shared secret", got, shared.p, SB_SHARED_BYTES);
                check_guard("derive", got, SB_SHARED_BYTES);
            }
            free(got);
            vector_end(bi, COV_KEX + group->id, before);
        }
        bytes_free(&priv);
        bytes_free(&pub);
        bytes_free(&peer);
        bytes_free(&shared);
    }
    kat_free(&kf);
}

/* ---- Coverage and the report --------------------------------------------------------------- */

/* Every primitive a backend offers must have met at least one vector: a data file that lost its
 * vectors, or a suite added without any, fails here instead of passing by having run nothing. */
static void check_coverage(void)
{
    for (size_t bi = 0; bi < n_backends; bi++) {
        const sb_backend *be = sb_backends[bi];
        const char *name = be->name;
        if (be->sha256)
            CHECK(coverage[bi][COV_SHA256] > 0, "%s offers SHA-256 but ran no sha256.txt vector",
                  name);
        if (be->hmac)
            CHECK(coverage[bi][COV_HMAC] > 0, "%s offers HMAC but ran no hmac.txt vector", name);
        if (be->hkdf_extract && be->hkdf_expand)
            CHECK(coverage[bi][COV_HKDF] > 0, "%s offers HKDF but ran no hkdf.txt vector", name);
        if (be->chacha20_xor)
            CHECK(coverage[bi][COV_CHACHA20] > 0,
                  "%s offers raw ChaCha20 but ran no chacha20.txt vector", name);
        for (unsigned id = 0; id < SB_SUITE_COUNT; id++) {
            const sb_suite *suite = sb_suite_by_id(id);
            sb_cipher c;
            if (suite && sb_cipher_get(be, suite, &c, NULL) == SB_OK)
                CHECK(coverage[bi][COV_AEAD + id] > 0,
                      "%s offers %s but ran no aead.txt vector of it", name, suite->name);
        }
        for (unsigned id = 1; id < SB_GROUP_COUNT; id++) {
            const sb_group *group = sb_group_by_id(id);
            if (group && sb_kex_get(be, group, NULL))
                CHECK(coverage[bi][COV_KEX + id] > 0, "%s offers %s but ran no vector of it",
                      name, group->name);
        }
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/kat";

    while (sb_backends[n_backends])
        n_backends++;
    CHECK(n_backends > 0 && n_backends <= MAX_BACKENDS, "%zu backends registered, want 1..%d",
          n_backends, MAX_BACKENDS);
    if (n_backends > MAX_BACKENDS)
        n_backends = MAX_BACKENDS;

    aead_run(dir);
    chacha20_run(dir);
    hmac_run(dir);
    hkdf_run(dir);
    sha256_run(dir);
    const sb_group *x25519 = sb_group_by_name("x25519"), *p256 = sb_group_by_name("p256");
    CHECK(x25519 && p256, "groups x25519 and p256 must be known to ciphers/suites.c");
    if (x25519)
        kex_run(dir, "x25519.txt", x25519);
    if (p256)
        kex_run(dir, "p256.txt", p256);
    check_coverage();

    for (size_t bi = 0; bi < n_backends; bi++) {
        if (vectors_failed[bi])
            printf("%s: %u vectors ok, %u failed\n", sb_backends[bi]->name,
                   vectors_run[bi] - vectors_failed[bi], vectors_failed[bi]);
        else
            printf("%s: %u vectors ok\n", sb_backends[bi]->name, vectors_run[bi]);
    }
    return check_done("kat");
}
