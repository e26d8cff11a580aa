/* Protocol tests: every way a sealed message or a handshake can be wrong must be refused, with
 * its own reason, and no rejected message may change the receiver's state.
 *
 * Sessions are joined by real handshakes (tests/support.c) on every backend that offers the
 * suite, so the rejection paths of each library are exercised, not only one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "protocol/handshake.h"
#include "protocol/session.h"
#include "tests/check.h"
#include "tests/support.h"

#define TOPIC "sealbench/dev-0001/up"
#define BUF 4096

static const sb_backend *be_openssl;

/* Seal one message from the device. */
static size_t seal(test_pair *p, const uint8_t *pt, size_t n, uint8_t *wire)
{
    size_t len = 0;
    sb_err rc = sb_session_seal(&p->dev, TOPIC, pt, n, wire, BUF, &len);
    CHECK(rc == SB_OK, "seal: %s", sb_err_str(rc));
    return len;
}

static sb_err gw_open(test_pair *p, const uint8_t *wire, size_t len, uint64_t now)
{
    uint8_t out[BUF];
    size_t out_len;
    return sb_session_open(&p->gw, TOPIC, wire, len, now, out, sizeof out, &out_len, NULL, NULL);
}

/* The receiver state that a reject must leave alone. */
static int window_same(const sb_session *a, const sb_session *b)
{
    return memcmp(&a->rx.window, &b->rx.window, sizeof a->rx.window) == 0 &&
           memcmp(&a->rx_prev.window, &b->rx_prev.window, sizeof a->rx_prev.window) == 0 &&
           a->rx.k.state == b->rx.k.state && a->rx_prev.k.state == b->rx_prev.k.state;
}

/* Expected reason for a single bit flip at (byte, bit) of a message with seq 10 from a
 * receiver that has accepted seq 0..9. */
static sb_err flip_reason_tagged(size_t byte, int bit)
{
    if (byte == 0)
        return bit >= 4 ? SB_ERR_VERSION : bit >= 1 ? SB_ERR_FLAGS : SB_ERR_AUTH;
    if (byte == 1)
        return SB_ERR_SUITE;
    if (byte < 6)
        return SB_ERR_EPOCH;
    if (byte < 14) {
        uint64_t seq = 10 ^ (UINT64_C(1) << ((13 - byte) * 8 + (size_t)bit));
        return seq <= 9 ? SB_ERR_REPLAY : SB_ERR_AUTH;
    }
    return SB_ERR_AUTH;
}


static sb_err flip_reason(const sb_suite *suite, size_t byte, int bit)
{
    sb_err r = flip_reason_tagged(byte, bit);
    /* The null baseline has no tag: what only the tag would catch is accepted, by design. */
    return r == SB_ERR_AUTH && !suite->tag_bytes ? SB_OK : r;
}

static void test_rejects(const test_pair_opts *o)
{
    test_pair p;
    uint8_t pt[200], wire[BUF], bad[BUF];
    const char *tag = o->suite->name;
    if (test_pair_open(&p, o) != SB_OK) {
        CHECK(0, "%s/%s: pair setup", o->gw_be->name, tag);
        return;
    }
    for (int i = 0; i < 10; i++) {
        test_fill(pt, sizeof pt);
        size_t n = seal(&p, pt, sizeof pt, wire);
        CHECK(gw_open(&p, wire, n, 0) == SB_OK, "%s/%s: message %d opens", o->gw_be->name, tag, i);
    }
    test_fill(pt, sizeof pt);
    size_t n = seal(&p, pt, sizeof pt, wire); /* seq 10, not yet delivered */
    sb_session before = p.gw;

    /* Every single-bit flip of header, ciphertext and tag. */
    unsigned flips = 0, right = 0;
    for (size_t byte = 0; byte < n; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, wire, n);
            bad[byte] ^= (uint8_t)(1u << bit);
            sb_err want = flip_reason(o->suite, byte, bit);
            if (want == SB_OK)
                continue;
            sb_err got = gw_open(&p, bad, n, 0);
            flips++;
            right += got == want;
            if (got != want)
                CHECK(got == want, "%s/%s: flip byte %zu bit %d: want %s, got %s", o->gw_be->name,
                      tag, byte, bit, sb_err_name(want), sb_err_name(got));
            if (!window_same(&before, &p.gw)) {
                CHECK(0, "%s/%s: flip byte %zu bit %d changed the receiver state", o->gw_be->name, tag, byte, bit);
                before = p.gw;
            }
        }
    }
    CHECK(flips > 0 && right == flips, "%s/%s: %u of %u bit flips rejected with the right reason",
          o->gw_be->name, tag, right, flips);

    /* Truncation to every shorter length. */
    unsigned wrong = 0;
    for (size_t len = 0; len < n; len++) {
        sb_err want = len < SB_HEADER_BYTES + (size_t)o->suite->tag_bytes ? SB_ERR_SHORT : SB_ERR_AUTH;
        if (!o->suite->tag_bytes && want == SB_ERR_AUTH)
            continue;
        sb_err got = gw_open(&p, wire, len, 0);
        wrong += got != want;
    }
    CHECK(wrong == 0, "%s/%s: %u truncations rejected with the wrong reason", o->gw_be->name, tag, wrong);
    CHECK(window_same(&before, &p.gw), "%s/%s: truncations changed the window", o->gw_be->name, tag);

    /* Wrong topic: the topic is authenticated. */
    if (o->suite->tag_bytes) {
        uint8_t out[BUF];
        size_t out_len;
        sb_err got = sb_session_open(&p.gw, "sealbench/dev-0002/up", wire, n, 0, out, sizeof out, &out_len, NULL, NULL);
        CHECK(got == SB_ERR_AUTH, "%s/%s: other topic: got %s", o->gw_be->name, tag, sb_err_name(got));
    }

    /* The genuine message still opens after all that; its replay does not. */
    CHECK(gw_open(&p, wire, n, 0) == SB_OK, "%s/%s: genuine message after rejects", o->gw_be->name, tag);
    before = p.gw;
    CHECK(gw_open(&p, wire, n, 0) == SB_ERR_REPLAY, "%s/%s: replay", o->gw_be->name, tag);
    CHECK(window_same(&before, &p.gw), "%s/%s: replay changed the window", o->gw_be->name, tag);

    /* Too old: push the window W + 1 past the first message. */
    uint8_t first[BUF];
    p.dev.tx_seq = 0;
    size_t n0 = 0;
    /* Re-sealing seq 0 here is test-only: it reproduces a message that was already delivered. */
    sb_session_seal(&p.dev, TOPIC, pt, sizeof pt, first, BUF, &n0);
    p.dev.tx_seq = 10 + 64 + 1;
    size_t nf = seal(&p, pt, sizeof pt, bad);
    CHECK(gw_open(&p, bad, nf, 0) == SB_OK, "%s/%s: far-ahead message", o->gw_be->name, tag);
    before = p.gw;
    CHECK(gw_open(&p, first, n0, 0) == SB_ERR_TOO_OLD, "%s/%s: too old", o->gw_be->name, tag);
    CHECK(window_same(&before, &p.gw), "%s/%s: too-old changed the window", o->gw_be->name, tag);
    test_pair_close(&p);
}

/* Padding: a message whose padding is malformed, but which is otherwise authentic, is
 * rejected as padding and leaves the window alone. */
static void test_padding(const sb_backend *be, const sb_suite *suite)
{
    test_pair_opts o = {.dev_be = be, .gw_be = be, .suite = suite,
                        .group = sb_group_by_name("x25519"), .pad_to = 32};
    test_pair p;
    uint8_t wire[BUF], pt[40];
    if (test_pair_open(&p, &o) != SB_OK) {
        CHECK(0, "padding pair");
        return;
    }
    for (size_t len = 0; len <= 40; len++) {
        test_fill(pt, len);
        size_t n = seal(&p, pt, len, wire);
        size_t want = SB_HEADER_BYTES + (len + 1 + 31) / 32 * 32 + suite->tag_bytes;
        CHECK(n == want, "%s: padded wire length for %zu bytes: want %zu got %zu", suite->name, len, want, n);
        uint8_t out[BUF];
        size_t out_len = 0;
        sb_err rc = sb_session_open(&p.gw, TOPIC, wire, n, 0, out, sizeof out, &out_len, NULL, NULL);
        CHECK(rc == SB_OK && out_len == len && memcmp(out, pt, len) == 0, "%s: padded round trip %zu", suite->name, len);
    }
    /* A faulty sender: authentic messages with the padded flag whose body is malformed. They
     * can only be made with the AEAD directly, under the device's own send keys. */
    static const struct { const char *what; size_t marker_at; size_t junk_at; } cases[] = {
        {"no 0x80 marker", 0, 0},
        {"a non-zero byte after the marker", 20, 31},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint8_t body[32] = {0}, aad[SB_HEADER_BYTES + sizeof TOPIC - 1], nonce[SB_NONCE_BYTES];
        uint64_t seq = p.dev.tx_seq++;
        if (cases[k].marker_at)
            body[cases[k].marker_at] = 0x80;
        if (cases[k].junk_at)
            body[cases[k].junk_at] = 0x01;
        wire[0] = 0x10 | SB_FLAG_PADDED;
        wire[1] = suite->id;
        sb_put_u32be(wire + 2, p.dev.tx.epoch);
        sb_put_u64be(wire + 6, seq);
        memcpy(aad, wire, SB_HEADER_BYTES);
        memcpy(aad + SB_HEADER_BYTES, TOPIC, sizeof TOPIC - 1);
        memcpy(nonce, p.dev.tx.iv, SB_NONCE_BYTES);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
        sb_err rc = p.dev.cfg.cipher.ops->seal(p.dev.tx.state, nonce, aad, sizeof aad, body,
                                               sizeof body, wire + SB_HEADER_BYTES);
        CHECK(rc == SB_OK, "raw seal");
        sb_session before = p.gw;
        rc = gw_open(&p, wire, SB_HEADER_BYTES + sizeof body + suite->tag_bytes, 0);
        CHECK(rc == SB_ERR_PADDING, "%s/%s: %s: got %s", be->name, suite->name, cases[k].what, sb_err_name(rc));
        CHECK(window_same(&before, &p.gw), "%s/%s: padding reject changed the window", be->name, suite->name);
    }
    test_pair_close(&p);
}

static void test_epochs(const sb_backend *be)
{
    const uint64_t s = 1000000000;
    /* Epochs do not depend on the cipher: AES-256-GCM where the backend offers it here, else
     * ChaCha20-Poly1305 (libsodium 1.0.18 has AES-256-GCM on x86 with AES-NI only). */
    const sb_suite *suite = sb_suite_by_name("aes-256-gcm");
    sb_cipher c;
    if (sb_cipher_get(be, suite, &c, NULL) != SB_OK)
        suite = sb_suite_by_name("chacha20-poly1305");
    test_pair_opts o = {.dev_be = be, .gw_be = be, .suite = suite,
                        .group = sb_group_by_name("x25519"), .grace_ns = s};
    test_pair p;
    uint8_t pt[16] = {1}, old1[BUF], old2[BUF], wire[BUF];
    if (test_pair_open(&p, &o) != SB_OK) {
        CHECK(0, "epoch pair");
        return;
    }
    size_t n1 = seal(&p, pt, sizeof pt, old1);
    size_t n2 = seal(&p, pt, sizeof pt, old2);
    /* Rekey at t = 10 s: epoch 1 messages in flight stay valid until t = 11 s. */
    CHECK(test_pair_rekey(&p, &o, 10 * s) == SB_OK, "rekey");
    size_t n3 = seal(&p, pt, sizeof pt, wire);
    CHECK(wire[5] == 2, "new messages carry epoch 2");
    CHECK(gw_open(&p, wire, n3, 10 * s) == SB_OK, "epoch 2 message opens");
    CHECK(gw_open(&p, old1, n1, 10 * s + s / 2) == SB_OK, "epoch 1 message within the grace period opens");
    CHECK(gw_open(&p, old2, n2, 11 * s) == SB_ERR_EPOCH, "epoch 1 message after the grace period is rejected");
    CHECK(p.gw.rx_prev.k.state == NULL, "expired epoch keys are wiped");
    /* Two rekeys: epoch 1 is gone even within its grace time. */
    CHECK(test_pair_rekey(&p, &o, 20 * s) == SB_OK, "second rekey");
    CHECK(gw_open(&p, old2, n2, 20 * s) == SB_ERR_EPOCH, "an epoch two behind is rejected");
    /* A future epoch has no keys. */
    memcpy(old2 + 2, "\0\0\0\x09", 4);
    CHECK(gw_open(&p, old2, n2, 20 * s) == SB_ERR_EPOCH, "an unknown future epoch is rejected");
    test_pair_close(&p);
}

static void test_seq_limit(const sb_backend *be)
{
    test_pair_opts o = {.dev_be = be, .gw_be = be, .suite = sb_suite_by_name("chacha20-poly1305"),
                        .group = sb_group_by_name("x25519"), .seq_limit = 3};
    test_pair p;
    uint8_t pt[8] = {0}, wire[BUF];
    size_t n = 0;
    if (test_pair_open(&p, &o) != SB_OK) {
        CHECK(0, "seq limit pair");
        return;
    }
    for (int i = 0; i < 3; i++)
        seal(&p, pt, sizeof pt, wire);
    CHECK(sb_session_rekey_due(&p.dev, 1), "rekey is due at the limit");
    sb_err rc = sb_session_seal(&p.dev, TOPIC, pt, sizeof pt, wire, BUF, &n);
    CHECK(rc == SB_ERR_SEQ_EXHAUSTED, "sealing past the limit is refused: got %s", sb_err_name(rc));
    CHECK(p.dev.tx_seq == 3, "a refused seal consumes no sequence number");
    CHECK(test_pair_rekey(&p, &o, 0) == SB_OK, "rekey");
    CHECK(sb_session_seal(&p.dev, TOPIC, pt, sizeof pt, wire, BUF, &n) == SB_OK &&
          sb_get_u64be(wire + 6) == 0 && wire[5] == 2,
          "after a rekey, seq restarts at 0 in the new epoch");
    /* Two seals of the same plaintext never give the same bytes: the nonce moved. */
    uint8_t w2[BUF];
    size_t n2 = 0;
    sb_session_seal(&p.dev, TOPIC, pt, sizeof pt, w2, BUF, &n2);
    CHECK(n == n2 && memcmp(wire + SB_HEADER_BYTES, w2 + SB_HEADER_BYTES, n - SB_HEADER_BYTES) != 0,
          "same plaintext, different ciphertext");
    test_pair_close(&p);
}

static void test_replay_window(void)
{
    sb_replay_window r;
    CHECK(sb_replay_window_init(&r, 0) == SB_ERR_ARG && sb_replay_window_init(&r, SB_REPLAY_MAX_WINDOW + 1) == SB_ERR_ARG,
          "window size bounds");
    unsigned sizes[] = {1, 64, 100, 128, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned w = sizes[k];
        sb_replay_window_init(&r, w);
        CHECK(sb_replay_window_check(&r, 0) == SB_OK && sb_replay_window_check(&r, 12345) == SB_OK, "W=%u: empty window takes anything", w);
        sb_replay_window_mark(&r, 5000);
        CHECK(sb_replay_window_check(&r, 5000) == SB_ERR_REPLAY, "W=%u: H is a replay", w);
        CHECK(w == 1 || sb_replay_window_check(&r, 5000 - w + 1) == SB_OK, "W=%u: lowest in-window seq is new", w);
        CHECK(sb_replay_window_check(&r, 5000 - w) == SB_ERR_TOO_OLD, "W=%u: H-W is too old", w);
        /* A model: mark random seqs and compare with a set. */
        static unsigned char seen[20000];
        memset(seen, 0, sizeof seen);
        seen[5000] = 1;
        uint64_t high = 5000;
        unsigned bad = 0;
        for (int i = 0; i < 5000; i++) {
            uint64_t seq = 4000 + test_rand() % 3000 + (uint64_t)i / 2;
            sb_err want = seq > high ? SB_OK : high - seq >= w ? SB_ERR_TOO_OLD : seen[seq] ? SB_ERR_REPLAY : SB_OK;
            sb_err got = sb_replay_window_check(&r, seq);
            bad += got != want;
            if (got == SB_OK) {
                sb_replay_window_mark(&r, seq);
                seen[seq] = 1;
                high = seq > high ? seq : high;
            }
        }
        CHECK(bad == 0, "W=%u: %u disagreements with the model", w, bad);
    }
}

/* ---- Handshake ---------------------------------------------------------------------------- */

typedef struct hs_case {
    const sb_backend *be;
    const sb_group *group;
    const sb_suite *suite;
    uint8_t hs_key[SB_HASH_BYTES];
    sb_hs_device dev;
} hs_case;

static const sb_hs_policy all = {~0u, ~0u};

static sb_err answer(hs_case *c, const uint8_t *key, uint32_t last, const uint8_t *hello,
                     size_t len, uint8_t *accept, size_t *accept_len)
{
    sb_keys k;
    sb_err rc = sb_hs_gateway_answer(c->be, &all, key, last, hello, len, NULL, accept, accept_len, NULL, &k);
    sb_wipe(&k, sizeof k);
    return rc;
}

static void test_handshake(const sb_backend *be, const sb_group *group)
{
    hs_case c = {.be = be, .group = group, .suite = sb_suite_by_name("aes-256-gcm")};
    uint8_t psk[32], other[32], key2[32], accept[SB_HS_MAX_BYTES], bad[SB_HS_MAX_BYTES];
    size_t alen = 0;
    sb_keys k;
    const char *g = group->name;
    test_fill(psk, sizeof psk);
    memcpy(other, psk, sizeof other);
    other[31] ^= 1;
    sb_hs_key(be, psk, "dev-0001", c.hs_key);
    CHECK(sb_hs_device_start(&c.dev, be, group, c.suite, 7, c.hs_key, NULL) == SB_OK, "%s/%s: HELLO", be->name, g);
    size_t hl = c.dev.hello_len;

    sb_hs_key(be, other, "dev-0001", key2);
    CHECK(answer(&c, key2, 0, c.dev.hello, hl, accept, &alen) == SB_ERR_HS_AUTH, "%s/%s: wrong PSK refused", be->name, g);
    sb_hs_key(be, psk, "dev-0002", key2);
    CHECK(answer(&c, key2, 0, c.dev.hello, hl, accept, &alen) == SB_ERR_HS_AUTH, "%s/%s: PSK bound to the device id", be->name, g);

    /* Every byte of HELLO, tampered. */
    unsigned wrong = 0;
    for (size_t i = 0; i < hl; i++) {
        memcpy(bad, c.dev.hello, hl);
        bad[i] ^= 0x01;
        sb_err want = i < 4 ? SB_ERR_HANDSHAKE : SB_ERR_HS_AUTH;
        /* group 0x01 <-> 0x03 (unknown) or suite 0x02 <-> 0x03 (known): the suite flip yields
         * a valid-looking HELLO that only the MAC catches. */
        if (i == 3)
            want = SB_ERR_HS_AUTH;
        sb_err got = answer(&c, c.hs_key, 0, bad, hl, accept, &alen);
        if (got != want) {
            wrong++;
            CHECK(0, "%s/%s: HELLO byte %zu flipped: want %s got %s", be->name, g, i, sb_err_name(want), sb_err_name(got));
        }
    }
    CHECK(wrong == 0, "%s/%s: tampered HELLOs refused", be->name, g);
    CHECK(answer(&c, c.hs_key, 0, c.dev.hello, hl - 1, accept, &alen) == SB_ERR_HANDSHAKE, "%s/%s: short HELLO", be->name, g);

    /* Stale epoch: the gateway already accepted epoch 7. */
    CHECK(answer(&c, c.hs_key, 7, c.dev.hello, hl, accept, &alen) == SB_ERR_STALE_EPOCH, "%s/%s: replayed HELLO (same epoch)", be->name, g);
    CHECK(answer(&c, c.hs_key, 9, c.dev.hello, hl, accept, &alen) == SB_ERR_STALE_EPOCH, "%s/%s: older epoch", be->name, g);

    /* Policy: a gateway that does not allow the suite refuses. */
    sb_hs_policy only_chacha = {1u << SB_SUITE_CHACHA20_POLY1305, ~0u};
    CHECK(sb_hs_gateway_answer(be, &only_chacha, c.hs_key, 0, c.dev.hello, hl, NULL, accept, &alen, NULL, &k) == SB_ERR_HANDSHAKE,
          "%s/%s: suite outside the policy refused", be->name, g);

    /* A genuine ACCEPT; then each byte tampered is refused by the device, which still takes the
     * genuine one afterwards. */
    CHECK(answer(&c, c.hs_key, 6, c.dev.hello, hl, accept, &alen) == SB_OK, "%s/%s: genuine answer", be->name, g);
    wrong = 0;
    for (size_t i = 0; i < alen; i++) {
        memcpy(bad, accept, alen);
        bad[i] ^= 0x01;
        sb_err got = sb_hs_device_finish(&c.dev, bad, alen, &k);
        wrong += got == SB_OK;
    }
    CHECK(wrong == 0, "%s/%s: %u tampered ACCEPTs taken", be->name, g, wrong);
    /* An ACCEPT for another epoch (validly MACed) is refused too. */
    sb_hs_device other_dev;
    sb_hs_device_start(&other_dev, be, group, c.suite, 8, c.hs_key, NULL);
    uint8_t accept8[SB_HS_MAX_BYTES];
    size_t alen8 = 0;
    answer(&c, c.hs_key, 7, other_dev.hello, other_dev.hello_len, accept8, &alen8);
    CHECK(sb_hs_device_finish(&c.dev, accept8, alen8, &k) != SB_OK, "%s/%s: ACCEPT of another handshake refused", be->name, g);
    sb_hs_device_clear(&other_dev);
    CHECK(sb_hs_device_finish(&c.dev, accept, alen, &k) == SB_OK, "%s/%s: genuine ACCEPT after forgeries", be->name, g);
    sb_wipe(&k, sizeof k);

    /* Invalid public keys, with a valid MAC (a peer that knows the PSK but sends garbage). */
    uint8_t pub[SB_MAX_PUB_BYTES] = {0}, nonce[16] = {0}, hello[SB_HS_MAX_BYTES];
    sb_err want;
    if (group->id == SB_GROUP_X25519) {
        /* u = 0 and u = 1 are of small order: the shared secret would be all zero. */
        want = SB_ERR_ZERO_SHARED;
        for (int u = 0; u < 2; u++) {
            pub[0] = (uint8_t)u;
            sb_hs_build(be, SB_HS_HELLO, group, c.suite, 9, nonce, pub, c.hs_key, NULL, 0, hello);
            sb_err got = answer(&c, c.hs_key, 0, hello, hl, accept, &alen);
            CHECK(got == want, "%s/x25519: u=%d refused as zero shared: got %s", be->name, u, sb_err_name(got));
        }
    } else {
        want = SB_ERR_POINT;
        uint8_t priv[32];
        const sb_kex_ops *kex = sb_kex_get(be, group, NULL);
        kex->keygen(priv, pub);
        sb_wipe(priv, sizeof priv);
        pub[64] ^= 1; /* off the curve */
        sb_hs_build(be, SB_HS_HELLO, group, c.suite, 9, nonce, pub, c.hs_key, NULL, 0, hello);
        sb_err got = answer(&c, c.hs_key, 0, hello, hl, accept, &alen);
        CHECK(got == want, "%s/p256: off-curve point refused: got %s", be->name, sb_err_name(got));
        memset(pub, 0, sizeof pub);
        pub[0] = 4; /* the all-zero coordinates: not on the curve */
        sb_hs_build(be, SB_HS_HELLO, group, c.suite, 9, nonce, pub, c.hs_key, NULL, 0, hello);
        got = answer(&c, c.hs_key, 0, hello, hl, accept, &alen);
        CHECK(got == want, "%s/p256: zero point refused: got %s", be->name, sb_err_name(got));
        pub[0] = 2; /* compressed encodings are not the protocol's */
        sb_hs_build(be, SB_HS_HELLO, group, c.suite, 9, nonce, pub, c.hs_key, NULL, 0, hello);
        got = answer(&c, c.hs_key, 0, hello, hl, accept, &alen);
        CHECK(got == want, "%s/p256: wrong point format refused: got %s", be->name, sb_err_name(got));
    }
    sb_hs_device_clear(&c.dev);
    CHECK(!sb_device_id_valid("") && !sb_device_id_valid("a/b") && !sb_device_id_valid("a+") &&
          sb_device_id_valid("dev-0001_A.b"), "device id rules");
    uint8_t x[32];
    CHECK(sb_hs_key(be, psk, "bad/id", x) == SB_ERR_ARG, "hs_key refuses a bad device id");
}

int main(void)
{
    test_seed("protocol");
    be_openssl = sb_backend_by_name("openssl");
    test_replay_window();
    for (const sb_backend *const *be = sb_backends; *be; be++) {
        for (unsigned id = 0; id < SB_SUITE_COUNT; id++) {
            const sb_suite *suite = sb_suite_by_id(id);
            sb_cipher c;
            if (sb_cipher_get(*be, suite, &c, NULL) != SB_OK)
                continue;
            test_pair_opts o = {.dev_be = be_openssl, .gw_be = *be, .suite = suite,
                                .group = sb_group_by_name("x25519")};
            if (sb_cipher_get(be_openssl, suite, &c, NULL) != SB_OK)
                o.dev_be = *be;
            test_rejects(&o);
            o.pad_to = 64;
            test_rejects(&o);
            if (suite->tag_bytes)
                test_padding(*be, suite);
        }
        test_epochs(*be);
        test_seq_limit(*be);
        for (unsigned g = 1; g < SB_GROUP_COUNT; g++)
            if (sb_kex_get(*be, sb_group_by_id(g), NULL))
                test_handshake(*be, sb_group_by_id(g));
    }
    return check_done("protocol");
}
