/* Cross-backend interoperability: whatever one library seals, every other library opens.
 *
 * Two levels, both driven by the seeded generator of tests/support.h (the seed is printed;
 * SEALBENCH_SEED repeats a run):
 *
 *   cipher level    for every suite, fresh random keys, nonces, AAD and plaintexts of every length
 *                   from 0 to 300 and then on a stride up to 2048: each backend seals, the sealed
 *                   bytes of all backends must be identical (the AEADs are deterministic given
 *                   key and nonce), and every ordered pair (A seals, B opens) must give the
 *                   plaintext back; a tampered copy must be refused and leave no plaintext.
 *   protocol level  for every group and suite, a device on backend A and a gateway on backend B
 *                   joined by a real handshake exchange telemetry and echoes, unpadded and padded,
 *                   then rekey and go on in the new epoch.
 *
 * Pairs include A == B: when (A, A) and (B, B) pass and only (A, B) fails, the fault is in how
 * the two libraries agree, not in either alone. Leans on ciphers/cipher.h, protocol/session.h,
 * tests/support.h and tests/check.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ciphers/cipher.h"
#include "common/util.h"
#include "protocol/handshake.h"
#include "protocol/session.h"
#include "tests/check.h"
#include "tests/support.h"

#define MAX_BACKENDS 8

/* Cipher level: every length up to DENSE_LEN, then every STRIDE_LEN-th up to MAX_LEN, and MAX_LEN
 * itself. A prime stride walks through every residue modulo the 16- and 64-byte blocks. */
#define DENSE_LEN 300
#define STRIDE_LEN 7
#define MAX_LEN 2048
#define MAX_AAD 64
#define SLACK 64 /* canary bytes after every output, to catch writes past the documented length */
#define CANARY 0xa5

/* Protocol level. */
#define UP_MESSAGES 200
#define ECHO_EVERY 4 /* 200 / 4 = 50 echoes */
#define MAX_PT 1024
#define PAD 64
#define IN_FLIGHT 3          /* up messages sealed before a rekey and delivered after it */
#define EPOCH2_MESSAGES 20
#define WIRE_CAP (SB_HEADER_BYTES + MAX_PT + PAD + SB_MAX_TAG_BYTES)

static const char topic_up[] = "sealbench/dev-0001/up";
static const char topic_down[] = "sealbench/dev-0001/down";

static size_t n_backends;

typedef struct suite_tally {
    unsigned cipher_pairs, cross_pairs, protocol_pairs;
    unsigned long cipher_messages, protocol_messages;
} suite_tally;

static int all_equal(const uint8_t *p, size_t n, uint8_t value)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != value)
            return 0;
    return 1;
}

/* Say once per (backend, suite) and (backend, group) why a backend sits out. */
static void skip_once(unsigned char *said, const sb_backend *be, const char *what, const char *why)
{
    if (*said)
        return;
    *said = 1;
    printf("interop: skipping %s for %s: %s\n", be->name, what, why ? why : "(no reason given)");
}

static unsigned char said_suite[MAX_BACKENDS][SB_SUITE_COUNT];
static unsigned char said_group[MAX_BACKENDS][SB_GROUP_COUNT];

/* The backends offering suite (and group, if not NULL), in registry order. */
static size_t offering(const sb_suite *suite, const sb_group *group, const sb_backend **out,
                       sb_cipher *ciphers)
{
    size_t n = 0;
    for (size_t i = 0; i < n_backends; i++) {
        const sb_backend *be = sb_backends[i];
        const char *why = NULL;
        sb_cipher c;
        if (sb_cipher_get(be, suite, &c, &why) != SB_OK) {
            skip_once(&said_suite[i][suite->id], be, suite->name, why);
            continue;
        }
        if (group && !sb_kex_get(be, group, &why)) {
            skip_once(&said_group[i][group->id], be, group->name, why);
            continue;
        }
        if (ciphers)
            ciphers[n] = c;
        out[n++] = be;
    }
    return n;
}

/* ---- Cipher level ---------------------------------------------------------------------------- */

typedef struct cipher_bufs {
    uint8_t key[SB_MAX_KEY_BYTES], mac_key[SB_HASH_BYTES], nonce[SB_NONCE_BYTES];
    uint8_t aad[MAX_AAD], pt[MAX_LEN];
    uint8_t sealed[MAX_BACKENDS][MAX_LEN + SB_MAX_TAG_BYTES + SLACK];
    uint8_t work[MAX_LEN + SB_MAX_TAG_BYTES + SLACK];
    uint8_t opened[MAX_LEN + SB_MAX_TAG_BYTES + SLACK];
} cipher_bufs;

/* One length: every backend seals the same inputs, every ordered pair opens. */
static void cipher_one_length(const sb_suite *suite, const sb_cipher *ciphers, size_t n,
                              size_t len, cipher_bufs *b, suite_tally *t)
{
    void *state[MAX_BACKENDS] = {0};
    const size_t tag = suite->tag_bytes, sealed_len = len + tag;
    const size_t aad_len = (size_t)(test_rand() % (MAX_AAD + 1));
    test_fill(b->key, sizeof b->key);
    test_fill(b->mac_key, sizeof b->mac_key);
    test_fill(b->nonce, sizeof b->nonce);
    test_fill(b->aad, aad_len);
    test_fill(b->pt, len);

    for (size_t i = 0; i < n; i++) {
        const sb_cipher *c = &ciphers[i];
        const char *be = c->backend->name;
        sb_err rc = c->ops->init(&state[i], c->backend, suite, b->key, b->mac_key);
        CHECK(rc == SB_OK && state[i], "%s %s: init: %s", be, suite->name, sb_err_str(rc));
        if (rc != SB_OK || !state[i]) {
            state[i] = NULL;
            continue;
        }
        uint8_t *out = b->sealed[i];
        memset(out, CANARY, sealed_len + SLACK);
        rc = c->ops->seal(state[i], b->nonce, b->aad, aad_len, b->pt, len, out);
        CHECK(rc == SB_OK, "%s %s len %zu: seal: %s", be, suite->name, len, sb_err_str(rc));
        CHECK(all_equal(out + sealed_len, SLACK, CANARY),
              "%s %s len %zu: seal wrote past %zu bytes (plaintext + %zu-byte tag)", be,
              suite->name, len, sealed_len, tag);
        if (suite->id == SB_SUITE_NULL)
            CHECK(memcmp(out, b->pt, len) == 0, "%s null len %zu: seal is not a copy", be, len);
        else if (len >= 8)
            CHECK(memcmp(out, b->pt, len) != 0, "%s %s len %zu: ciphertext equals plaintext",
                  be, suite->name, len);

        /* In place (out == in) must give the same bytes as out of place. */
        memcpy(b->work, b->pt, len);
        memset(b->work + len, CANARY, tag + SLACK);
        rc = c->ops->seal(state[i], b->nonce, b->aad, aad_len, b->work, len, b->work);
        CHECK(rc == SB_OK && memcmp(b->work, out, sealed_len) == 0,
              "%s %s len %zu: in-place seal differs from out-of-place seal (%s)", be,
              suite->name, len, sb_err_str(rc));

        /* Deterministic given key and nonce: every library writes the same bytes. */
        if (i > 0 && state[0])
            CHECK(memcmp(out, b->sealed[0], sealed_len) == 0,
                  "%s %s len %zu aad %zu: sealed bytes differ from %s's", be, suite->name, len,
                  aad_len, ciphers[0].backend->name);
    }

    for (size_t a = 0; a < n; a++) {
        for (size_t o = 0; o < n; o++) {
            if (!state[a] || !state[o])
                continue;
            const sb_cipher *c = &ciphers[o];
            const char *sa = ciphers[a].backend->name, *so = c->backend->name;
            memset(b->opened, CANARY, len + SLACK);
            sb_err rc = c->ops->open(state[o], b->nonce, b->aad, aad_len, b->sealed[a],
                                     sealed_len, b->opened);
            CHECK(rc == SB_OK, "%s %s len %zu aad %zu: sealed by %s, open: %s", so, suite->name,
                  len, aad_len, sa, sb_err_str(rc));
            CHECK(rc == SB_OK && memcmp(b->opened, b->pt, len) == 0,
                  "%s %s len %zu: sealed by %s, opened plaintext differs", so, suite->name, len, sa);
            CHECK(all_equal(b->opened + len, SLACK, CANARY),
                  "%s %s len %zu: open wrote past the plaintext length", so, suite->name, len);
            t->cipher_messages++;

            /* In place: the receive buffer usually is the message buffer. */
            memcpy(b->work, b->sealed[a], sealed_len);
            rc = c->ops->open(state[o], b->nonce, b->aad, aad_len, b->work, sealed_len, b->work);
            CHECK(rc == SB_OK && memcmp(b->work, b->pt, len) == 0,
                  "%s %s len %zu: sealed by %s, in-place open failed or differs (%s)", so,
                  suite->name, len, sa, sb_err_str(rc));

            if (suite->id == SB_SUITE_NULL)
                continue;
            /* One flipped bit, in the message, the AAD or the nonce, must be refused, and no
             * plaintext may come out: the buffer stays as it was or is wiped. */
            uint8_t nonce[SB_NONCE_BYTES], aad[MAX_AAD];
            memcpy(nonce, b->nonce, sizeof nonce);
            memcpy(aad, b->aad, aad_len);
            memcpy(b->work, b->sealed[a], sealed_len);
            /* chacha20-hmac-sha256 MACs aad || ct but not the nonce (PROTOCOL.md §4): the
             * session binds the nonce through the seq in the header, which is in the AAD. So
             * for that suite a flipped nonce is not the cipher's to catch. */
            unsigned where = (unsigned)(test_rand() % (suite->mac_key_bytes ? 2 : 3));
            uint64_t r = test_rand();
            const char *what;
            if (where == 1 && aad_len) {
                aad[r % aad_len] ^= (uint8_t)(1u << (r >> 32) % 8);
                what = "AAD";
            } else if (where == 2) {
                nonce[r % SB_NONCE_BYTES] ^= (uint8_t)(1u << (r >> 32) % 8);
                what = "nonce";
            } else {
                b->work[r % sealed_len] ^= (uint8_t)(1u << (r >> 32) % 8);
                what = "message";
            }
            memset(b->opened, 0, len + SLACK);
            rc = c->ops->open(state[o], nonce, aad, aad_len, b->work, sealed_len, b->opened);
            CHECK(rc == SB_ERR_AUTH, "%s %s len %zu: sealed by %s, %s bit flipped: expected "
                  "auth, got %s", so, suite->name, len, sa, what, sb_err_str(rc));
            CHECK(all_equal(b->opened, len + SLACK, 0),
                  "%s %s len %zu: a refused open left bytes in the output", so, suite->name, len);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (state[i])
            ciphers[i].ops->free(state[i]);
}

static void cipher_level(const sb_suite *suite, cipher_bufs *b, suite_tally *t)
{
    const sb_backend *bes[MAX_BACKENDS];
    sb_cipher ciphers[MAX_BACKENDS];
    size_t n = offering(suite, NULL, bes, ciphers);
    t->cipher_pairs = (unsigned)(n * n);
    t->cross_pairs = (unsigned)(n * (n - (n > 0)));
    if (n < 2)
        printf("interop %s: fewer than two backends, no cross-backend pair\n", suite->name);
    for (size_t len = 0; len <= MAX_LEN;) {
        cipher_one_length(suite, ciphers, n, len, b, t);
        if (len == MAX_LEN)
            break;
        len = len < DENSE_LEN ? len + 1 : len + STRIDE_LEN > MAX_LEN ? MAX_LEN : len + STRIDE_LEN;
    }
}

/* ---- Protocol level -------------------------------------------------------------------------- */

typedef struct proto_ctx {
    const test_pair_opts *o;
    const char *label; /* "x25519 aes-128-gcm openssl->sodium pad 64" */
    uint8_t pt[MAX_PT], wire[WIRE_CAP], out[WIRE_CAP];
    unsigned long messages;
} proto_ctx;

static size_t expected_wire(const test_pair_opts *o, size_t len)
{
    size_t body = o->pad_to ? (len + 1 + o->pad_to - 1) / o->pad_to * o->pad_to : len;
    return SB_HEADER_BYTES + body + o->suite->tag_bytes;
}

/* Seal pt (x->pt, len) on from and check the wire format; returns the wire length or 0. */
static size_t seal_checked(proto_ctx *x, sb_session *from, const char *topic, size_t len,
                           uint32_t epoch, uint64_t seq)
{
    size_t wire_len = 0;
    sb_err rc = sb_session_seal(from, topic, x->pt, len, x->wire, sizeof x->wire, &wire_len);
    CHECK(rc == SB_OK, "%s: seal %zu bytes on %s: %s", x->label, len, topic, sb_err_str(rc));
    if (rc != SB_OK)
        return 0;
    size_t want = expected_wire(x->o, len);
    CHECK(wire_len == want && wire_len == sb_session_wire_len(from, len),
          "%s: %zu-byte plaintext: wire length %zu, expected %zu", x->label, len, wire_len, want);
    uint8_t b0 = (uint8_t)(0x10 | (x->o->pad_to ? SB_FLAG_PADDED : 0));
    CHECK(x->wire[0] == b0 && x->wire[1] == x->o->suite->id &&
              sb_get_u32be(x->wire + 2) == epoch && sb_get_u64be(x->wire + 6) == seq,
          "%s: header %02x %02x epoch %u seq %llu, expected %02x %02x epoch %u seq %llu",
          x->label, x->wire[0], x->wire[1], (unsigned)sb_get_u32be(x->wire + 2),
          (unsigned long long)sb_get_u64be(x->wire + 6), b0, x->o->suite->id, (unsigned)epoch,
          (unsigned long long)seq);
    return wire_len;
}

/* Open what seal_checked left in x->wire and compare with x->pt. */
static void open_checked(proto_ctx *x, sb_session *to, const char *topic, size_t wire_len,
                         size_t len, uint64_t now_ns, uint32_t epoch, uint64_t seq)
{
    size_t out_len = 0;
    uint32_t got_epoch = 0;
    uint64_t got_seq = ~(uint64_t)0;
    sb_err rc = sb_session_open(to, topic, x->wire, wire_len, now_ns, x->out, sizeof x->out,
                                &out_len, &got_epoch, &got_seq);
    CHECK(rc == SB_OK, "%s: open on %s (epoch %u seq %llu, %zu bytes): %s", x->label, topic,
          (unsigned)epoch, (unsigned long long)seq, len, sb_err_str(rc));
    if (rc != SB_OK)
        return;
    CHECK(out_len == len && memcmp(x->out, x->pt, len) == 0,
          "%s: on %s seq %llu: opened %zu bytes, sent %zu, or the bytes differ", x->label,
          topic, (unsigned long long)seq, out_len, len);
    CHECK(got_epoch == epoch && got_seq == seq, "%s: on %s: opened epoch %u seq %llu, "
          "expected epoch %u seq %llu", x->label, topic, (unsigned)got_epoch,
          (unsigned long long)got_seq, (unsigned)epoch, (unsigned long long)seq);
    x->messages++;
}

/* up messages device -> gateway with an echo gateway -> device after every ECHO_EVERY-th. */
static void exchange(proto_ctx *x, test_pair *p, unsigned up, uint64_t now_ns)
{
    uint64_t down_seq = p->gw.tx_seq;
    for (unsigned i = 0; i < up; i++) {
        uint64_t seq = p->dev.tx_seq;
        size_t len = (size_t)(test_rand() % (MAX_PT + 1));
        test_fill(x->pt, len);
        size_t wire_len = seal_checked(x, &p->dev, topic_up, len, p->epoch, seq);
        if (wire_len)
            open_checked(x, &p->gw, topic_up, wire_len, len, now_ns, p->epoch, seq);
        if (i % ECHO_EVERY != ECHO_EVERY - 1)
            continue;
        /* The echo carries the epoch and seq it answers (PROTOCOL.md §5), then filler. */
        len = 12 + (size_t)(test_rand() % (MAX_PT - 12 + 1));
        test_fill(x->pt, len);
        sb_put_u32be(x->pt, p->epoch);
        sb_put_u64be(x->pt + 4, seq);
        wire_len = seal_checked(x, &p->gw, topic_down, len, p->epoch, down_seq);
        if (wire_len)
            open_checked(x, &p->dev, topic_down, wire_len, len, now_ns, p->epoch, down_seq);
        down_seq++;
    }
}

static void protocol_pair(const test_pair_opts *o, suite_tally *t)
{
    static proto_ctx x;
    char label[128];
    test_pair p;
    snprintf(label, sizeof label, "%s %s %s->%s pad %zu", o->group->name, o->suite->name,
             o->dev_be->name, o->gw_be->name, o->pad_to);
    x.o = o;
    x.label = label;
    x.messages = 0;

    sb_err rc = test_pair_open(&p, o);
    CHECK(rc == SB_OK, "%s: handshake: %s", label, sb_err_str(rc));
    if (rc != SB_OK) {
        test_pair_close(&p);
        return;
    }
    exchange(&x, &p, UP_MESSAGES, 0);

    /* Sealed under epoch 1 but still in flight when epoch 2 is installed: the gateway keeps the
     * old receive keys for the grace period. */
    size_t len[IN_FLIGHT], wire_len[IN_FLIGHT];
    uint8_t pts[IN_FLIGHT][MAX_PT], wires[IN_FLIGHT][WIRE_CAP];
    uint64_t seq0 = p.dev.tx_seq;
    for (unsigned i = 0; i < IN_FLIGHT; i++) {
        len[i] = (size_t)(test_rand() % (MAX_PT + 1));
        test_fill(x.pt, len[i]);
        memcpy(pts[i], x.pt, len[i]);
        wire_len[i] = seal_checked(&x, &p.dev, topic_up, len[i], 1, seq0 + i);
        memcpy(wires[i], x.wire, wire_len[i]);
    }

    const uint64_t rekey_ns = 1000;
    rc = test_pair_rekey(&p, o, rekey_ns);
    CHECK(rc == SB_OK && p.epoch == 2, "%s: rekey: %s (epoch %u)", label, sb_err_str(rc),
          (unsigned)p.epoch);
    if (rc == SB_OK) {
        for (unsigned i = 0; i < IN_FLIGHT; i++) {
            if (!wire_len[i])
                continue;
            memcpy(x.pt, pts[i], len[i]);
            memcpy(x.wire, wires[i], wire_len[i]);
            open_checked(&x, &p.gw, topic_up, wire_len[i], len[i], rekey_ns + 1, 1, seq0 + i);
        }
        CHECK(p.dev.tx_seq == 0 && p.gw.tx_seq == 0, "%s: seq did not restart at 0 in epoch 2",
              label);
        exchange(&x, &p, EPOCH2_MESSAGES, rekey_ns + 2);
    }
    test_pair_close(&p);
    t->protocol_messages += x.messages;
}

static void protocol_level(const sb_suite *suite, suite_tally *t)
{
    for (unsigned g = 1; g < SB_GROUP_COUNT; g++) {
        const sb_group *group = sb_group_by_id(g);
        const sb_backend *bes[MAX_BACKENDS];
        size_t n = offering(suite, group, bes, NULL);
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++) {
                for (size_t pad = 0; pad <= PAD; pad += PAD) {
                    test_pair_opts o = {.dev_be = bes[a], .gw_be = bes[b], .suite = suite,
                                        .group = group, .pad_to = pad};
                    protocol_pair(&o, t);
                }
                t->protocol_pairs++;
            }
    }
}

int main(void)
{
    static cipher_bufs bufs;
    test_seed("interop");
    while (sb_backends[n_backends])
        n_backends++;
    if (n_backends > MAX_BACKENDS) {
        fprintf(stderr, "interop: %zu backends, raise MAX_BACKENDS\n", n_backends);
        return 2;
    }
    for (unsigned s = SB_SUITE_NULL; s < SB_SUITE_COUNT; s++) {
        const sb_suite *suite = sb_suite_by_id(s);
        suite_tally t = {0};
        CHECK(suite != NULL, "no descriptor for suite id %u", s);
        if (!suite)
            continue;
        cipher_level(suite, &bufs, &t);
        protocol_level(suite, &t);
        printf("interop %s: %u backend pairs (%u cross-backend), %lu messages (%lu cipher-level, "
               "%lu in sessions over %u backend pairs)\n",
               suite->name, t.cipher_pairs, t.cross_pairs,
               t.cipher_messages + t.protocol_messages, t.cipher_messages, t.protocol_messages,
               t.protocol_pairs);
    }
    return check_done("interop");
}
