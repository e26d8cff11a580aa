/* The microbenchmark cases (experiments/micro.h): their contexts, the timed batches Google
 * Benchmark drives through experiments/gbench.h, and the CSV and samples files.
 *
 * Leans on the cipher interface for the AEAD and key-exchange cases, on protocol/handshake.h
 * and protocol/session.h for the handshake cases, on common/stats.h for the statistics
 * and on experiments/results.h for atomic file writes. */
#include "experiments/micro.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "experiments/results.h"
#include "protocol/handshake.h"
#include "protocol/session.h"

/* Distinct inputs per timed loop: enough that the loop does not re-read one hot message, few
 * enough that making them stays cheap next to the loop. A power of two for the index mask. */
#define POOL 64
/* Like SUPERCOP's batches: the indirect call and GB's loop test cost ~1 ns, 1% of a 16-byte
 * seal; 16 operations per call bring that down to noise. Key exchange and handshakes take
 * tens of microseconds or more, so one per call. */
#define AEAD_BATCH 16
#define TOPIC "sealbench/dev-0001/up"
#define AAD_BYTES (SB_HEADER_BYTES + sizeof TOPIC - 1)
#define DEVICE_ID "dev-0001"

/* The names are the config's (experiments/config.c), so a config and the CLI agree. */
const char *sb_micro_op_name(sb_micro_op op)
{
    return (unsigned)op < SB_MICRO_OPS ? sb_micro_op_names[op] : "?";
}

static int is_aead_op(sb_micro_op op)
{
    return op == SB_MICRO_SEAL || op == SB_MICRO_OPEN || op == SB_MICRO_FORGE;
}

/* ---- AEAD: seal, open, forge -------------------------------------------------------------- */

typedef struct aead_ctx {
    sb_cipher cipher;
    void *state;
    sb_micro_op op;
    size_t len, tag;
    uint64_t seq;                /* nonce counter: only ever goes up under this key */
    uint8_t iv[SB_NONCE_BYTES];
    uint8_t *pt;                 /* POOL plaintexts of len bytes */
    uint8_t *msg;                /* POOL sealed (open) or tampered (forge) messages */
    uint8_t *out;                /* where the timed calls write */
    uint8_t nonce[POOL][SB_NONCE_BYTES];
    uint8_t aad[POOL][AAD_BYTES];
    unsigned next;
} aead_ctx;

/* The session's construction (PROTOCOL.md §4): the fixed part of the IV, the rest XORed with
 * the 64-bit sequence number. */
static void aead_next_nonce(aead_ctx *x, uint8_t nonce[SB_NONCE_BYTES])
{
    uint8_t s[8];
    sb_put_u64be(s, x->seq++);
    memcpy(nonce, x->iv, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = x->iv[4 + i] ^ s[i];
}

static int aead_seal_batch(void *ctx, uint64_t n, char *err, size_t err_cap)
{
    aead_ctx *x = ctx;
    uint8_t nonce[SB_NONCE_BYTES];
    for (uint64_t i = 0; i < n; i++) {
        unsigned k = x->next++ & (POOL - 1);
        aead_next_nonce(x, nonce);
        sb_err rc = x->cipher.ops->seal(x->state, nonce, x->aad[k], AAD_BYTES, x->pt + k * x->len,
                                        x->len, x->out);
        if (rc != SB_OK) {
            snprintf(err, err_cap, "seal failed: %s", sb_err_str(rc));
            return 1;
        }
    }
    return 0;
}

static int aead_open_batch(void *ctx, uint64_t n, char *err, size_t err_cap)
{
    aead_ctx *x = ctx;
    size_t wire = x->len + x->tag;
    for (uint64_t i = 0; i < n; i++) {
        unsigned k = x->next++ & (POOL - 1);
        sb_err rc = x->cipher.ops->open(x->state, x->nonce[k], x->aad[k], AAD_BYTES,
                                        x->msg + k * wire, wire, x->out);
        if (rc != SB_OK) {
            snprintf(err, err_cap, "open of an authentic message failed: %s", sb_err_str(rc));
            return 1;
        }
    }
    return 0;
}

static int aead_forge_batch(void *ctx, uint64_t n, char *err, size_t err_cap)
{
    aead_ctx *x = ctx;
    size_t wire = x->len + x->tag;
    for (uint64_t i = 0; i < n; i++) {
        unsigned k = x->next++ & (POOL - 1);
        sb_err rc = x->cipher.ops->open(x->state, x->nonce[k], x->aad[k], AAD_BYTES,
                                        x->msg + k * wire, wire, x->out);
        if (rc == SB_OK) {
            snprintf(err, err_cap, "forgery accepted: a message with a flipped tag bit opened "
                                   "without error");
            return 1;
        }
        if (rc != SB_ERR_AUTH) {
            snprintf(err, err_cap, "forgery refused with '%s', not with an authentication "
                                   "failure", sb_err_name(rc));
            return 1;
        }
    }
    return 0;
}

static int aead_prepare(void *ctx, char *err, size_t err_cap)
{
    aead_ctx *x = ctx;
    const sb_backend *be = x->cipher.backend;
    size_t wire = x->len + x->tag;
    sb_err rc = be->random(x->pt, POOL * x->len);
    for (unsigned k = 0; k < POOL && rc == SB_OK; k++) {
        /* A header as the session writes it (version 1, suite, epoch 1, a seq), then the
         * topic: the AAD a real message has, byte for byte in length. */
        uint8_t *a = x->aad[k];
        a[0] = 0x10;
        a[1] = x->cipher.suite->id;
        sb_put_u32be(a + 2, 1);
        sb_put_u64be(a + 6, x->seq);
        memcpy(a + SB_HEADER_BYTES, TOPIC, sizeof TOPIC - 1);
        if (x->op == SB_MICRO_SEAL)
            continue;
        aead_next_nonce(x, x->nonce[k]);
        uint8_t *m = x->msg + k * wire;
        rc = x->cipher.ops->seal(x->state, x->nonce[k], a, AAD_BYTES, x->pt + k * x->len, x->len, m);
        if (rc == SB_OK && x->op == SB_MICRO_FORGE)
            /* A different tag bit in each message, so no one position is all that is tested. */
            m[x->len + k % x->tag] ^= (uint8_t)(1u << (k / x->tag % 8));
    }
    if (rc != SB_OK) {
        snprintf(err, err_cap, "preparing the inputs failed: %s", sb_err_str(rc));
        return 1;
    }
    x->next = 0;
    return 0;
}

static void aead_free(aead_ctx *x)
{
    if (!x)
        return;
    if (x->state)
        x->cipher.ops->free(x->state);
    size_t wire = x->len + x->tag;
    if (x->pt)
        sb_wipe(x->pt, POOL * x->len);
    if (x->msg)
        sb_wipe(x->msg, POOL * wire);
    if (x->out)
        sb_wipe(x->out, wire);
    free(x->pt);
    free(x->msg);
    free(x->out);
    sb_wipe(x, sizeof *x);
    free(x);
}

static sb_err aead_new(const sb_micro_case *c, aead_ctx **out)
{
    aead_ctx *x = calloc(1, sizeof *x);
    uint8_t key[SB_MAX_KEY_BYTES], mac_key[SB_HASH_BYTES];
    sb_err rc = x ? sb_cipher_get(c->be, c->suite, &x->cipher, NULL) : SB_ERR_NOMEM;
    if (rc != SB_OK)
        goto fail;
    x->op = c->op;
    x->len = c->bytes;
    x->tag = c->suite->tag_bytes;
    x->pt = malloc(POOL * x->len);
    x->msg = malloc(POOL * (x->len + x->tag));
    x->out = malloc(x->len + x->tag);
    if (!x->pt || !x->msg || !x->out) {
        rc = SB_ERR_NOMEM;
        goto fail;
    }
    if ((rc = c->be->random(key, sizeof key)) != SB_OK ||
        (rc = c->be->random(mac_key, sizeof mac_key)) != SB_OK ||
        (rc = c->be->random(x->iv, sizeof x->iv)) != SB_OK)
        goto fail;
    rc = x->cipher.ops->init(&x->state, c->be, c->suite, key, mac_key);
    if (rc != SB_OK)
        x->state = NULL;
fail:
    sb_wipe(key, sizeof key);
    sb_wipe(mac_key, sizeof mac_key);
    if (rc != SB_OK) {
        aead_free(x);
        x = NULL;
    }
    *out = x;
    return rc;
}

/* ---- Key exchange: keygen, ecdh ----------------------------------------------------------- */

typedef struct kex_ctx {
    const sb_backend *be;
    const sb_kex_ops *kex;
    uint8_t priv[SB_MAX_PRIV_BYTES], pub[SB_MAX_PUB_BYTES];
    uint8_t peer_pub[SB_MAX_PUB_BYTES];
    uint8_t shared[SB_SHARED_BYTES];
} kex_ctx;

static int kex_keygen_batch(void *ctx, uint64_t n, char *err, size_t err_cap)
{
    kex_ctx *x = ctx;
    for (uint64_t i = 0; i < n; i++) {
        sb_err rc = x->kex->keygen(x->priv, x->pub);
        if (rc != SB_OK) {
            snprintf(err, err_cap, "keygen failed: %s", sb_err_str(rc));
            sb_wipe(x->priv, sizeof x->priv);
            return 1;
        }
    }
    sb_wipe(x->priv, sizeof x->priv);
    return 0;
}

static int kex_ecdh_batch(void *ctx, uint64_t n, char *err, size_t err_cap)
{
    kex_ctx *x = ctx;
    for (uint64_t i = 0; i < n; i++) {
        sb_err rc = x->kex->derive(x->priv, x->peer_pub, x->shared);
        if (rc != SB_OK) {
            snprintf(err, err_cap, "ECDH failed: %s", sb_err_str(rc));
            sb_wipe(x->shared, sizeof x->shared);
            return 1;
        }
    }
    sb_wipe(x->shared, sizeof x->shared);
    return 0;
}

/* A fresh own key pair per timed loop; the peer's key stays fixed for the case. */
static int kex_ecdh_prepare(void *ctx, char *err, size_t err_cap)
{
    kex_ctx *x = ctx;
    sb_err rc = x->kex->keygen(x->priv, x->pub);
    if (rc != SB_OK) {
        snprintf(err, err_cap, "keygen for ECDH failed: %s", sb_err_str(rc));
        return 1;
    }
    return 0;
}

static void kex_free(kex_ctx *x)
{
    if (!x)
        return;
    sb_wipe(x, sizeof *x);
    free(x);
}

static sb_err kex_new(const sb_micro_case *c, kex_ctx **out)
{
    kex_ctx *x = calloc(1, sizeof *x);
    sb_err rc = SB_ERR_NOMEM;
    if (x) {
        x->be = c->be;
        x->kex = sb_kex_get(c->be, c->group, NULL);
        rc = x->kex ? SB_OK : SB_ERR_UNAVAILABLE;
    }
    /* The peer's private key is not needed after its public key exists. */
    if (rc == SB_OK && c->op == SB_MICRO_ECDH && (rc = x->kex->keygen(x->priv, x->peer_pub)) == SB_OK)
        sb_wipe(x->priv, sizeof x->priv);
    if (rc != SB_OK) {
        kex_free(x);
        x = NULL;
    }
    *out = x;
    return rc;
}

/* ---- Handshake and rekey ------------------------------------------------------------------ */

typedef struct hs_ctx {
    const sb_backend *be;
    const sb_group *group;
    sb_cipher cipher;
    sb_hs_policy policy;
    sb_session_config dev_cfg, gw_cfg;
    uint8_t psk[SB_PSK_BYTES];
    /* rekey: live sessions and the hs_keys a live device and gateway keep */
    int established;
    uint32_t epoch;
    uint8_t dev_hs_key[SB_HASH_BYTES], gw_hs_key[SB_HASH_BYTES];
    sb_session dev, gw;
} hs_ctx;

/* HELLO, ACCEPT, and both sides' keys for epoch. */
static sb_err hs_exchange(hs_ctx *x, const uint8_t dev_hs_key[SB_HASH_BYTES],
                          const uint8_t gw_hs_key[SB_HASH_BYTES], uint32_t epoch,
                          uint32_t last_epoch, sb_keys *dev_keys, sb_keys *gw_keys)
{
    sb_hs_device st;
    sb_hs_msg m;
    uint8_t accept[SB_HS_MAX_BYTES];
    size_t accept_len = 0;
    sb_err rc = sb_hs_device_start(&st, x->be, x->group, x->cipher.suite, epoch, dev_hs_key, NULL);
    if (rc != SB_OK)
        return rc;
    rc = sb_hs_gateway_answer(x->be, &x->policy, gw_hs_key, last_epoch, st.hello, st.hello_len,
                              NULL, accept, &accept_len, &m, gw_keys);
    if (rc == SB_OK && (rc = sb_hs_device_finish(&st, accept, accept_len, dev_keys)) != SB_OK)
        sb_wipe(gw_keys, sizeof *gw_keys);
    sb_hs_device_clear(&st);
    return rc;
}

/* The whole first handshake: both hs_keys from the PSK, the exchange, and both sides' keys
 * installed into fresh sessions. The sessions are released at the end, inside the timing: a
 * device that handshakes again tears its old session down too. */
static sb_err hs_first(hs_ctx *x, int check)
{
    uint8_t dk[SB_HASH_BYTES], gk[SB_HASH_BYTES];
    sb_keys kd, kg;
    sb_session sd, sg;
    int sd_live = 0, sg_live = 0;
    sb_err rc = sb_hs_key(x->be, x->psk, DEVICE_ID, dk);
    if (rc == SB_OK)
        rc = sb_hs_key(x->be, x->psk, DEVICE_ID, gk);
    if (rc == SB_OK)
        rc = hs_exchange(x, dk, gk, 1, 0, &kd, &kg);
    sb_wipe(dk, sizeof dk);
    sb_wipe(gk, sizeof gk);
    if (rc != SB_OK)
        return rc;
    if (check && memcmp(&kd, &kg, sizeof kd) != 0)
        rc = SB_ERR_HANDSHAKE;
    if (rc == SB_OK && (rc = sb_session_init(&sd, &x->dev_cfg)) == SB_OK) {
        sd_live = 1;
        rc = sb_session_install(&sd, 1, &kd, sb_now_ns());
    }
    if (rc == SB_OK && (rc = sb_session_init(&sg, &x->gw_cfg)) == SB_OK) {
        sg_live = 1;
        rc = sb_session_install(&sg, 1, &kg, sb_now_ns());
    }
    sb_wipe(&kd, sizeof kd);
    sb_wipe(&kg, sizeof kg);
    if (sd_live)
        sb_session_free(&sd);
    if (sg_live)
        sb_session_free(&sg);
    return rc;
}

static int hs_first_batch(void *ctx, uint64_t n, char *err, size_t err_cap)
{
    hs_ctx *x = ctx;
    for (uint64_t i = 0; i < n; i++) {
        sb_err rc = hs_first(x, 0);
        if (rc != SB_OK) {
            snprintf(err, err_cap, "handshake failed: %s", sb_err_str(rc));
            return 1;
        }
    }
    return 0;
}

static sb_err hs_rekey(hs_ctx *x)
{
    sb_keys kd, kg;
    /* Epochs are 32 bits; at tens of microseconds a rekey, 2^32 of them is over a day of one
     * case, but refuse rather than wrap. */
    if (x->epoch == UINT32_MAX)
        return SB_ERR_STALE_EPOCH;
    uint32_t epoch = x->epoch + 1;
    sb_err rc = hs_exchange(x, x->dev_hs_key, x->gw_hs_key, epoch, x->epoch, &kd, &kg);
    if (rc == SB_OK)
        rc = sb_session_install(&x->dev, epoch, &kd, sb_now_ns());
    if (rc == SB_OK)
        rc = sb_session_install(&x->gw, epoch, &kg, sb_now_ns());
    sb_wipe(&kd, sizeof kd);
    sb_wipe(&kg, sizeof kg);
    if (rc == SB_OK)
        x->epoch = epoch;
    return rc;
}

static int hs_rekey_batch(void *ctx, uint64_t n, char *err, size_t err_cap)
{
    hs_ctx *x = ctx;
    for (uint64_t i = 0; i < n; i++) {
        sb_err rc = hs_rekey(x);
        if (rc != SB_OK) {
            snprintf(err, err_cap, "rekey to epoch %lu failed: %s", (unsigned long)x->epoch + 1,
                     sb_err_str(rc));
            return 1;
        }
    }
    return 0;
}

static void hs_free(hs_ctx *x)
{
    if (!x)
        return;
    if (x->established) {
        sb_session_free(&x->dev);
        sb_session_free(&x->gw);
    }
    sb_wipe(x, sizeof *x);
    free(x);
}

/* Outside the timing: one checked handshake (both sides must agree on every key, or the
 * figures would time a broken exchange), and for rekey the live sessions at epoch 1. */
static sb_err hs_new(const sb_micro_case *c, hs_ctx **out)
{
    hs_ctx *x = calloc(1, sizeof *x);
    sb_err rc = x ? sb_cipher_get(c->be, c->suite, &x->cipher, NULL) : SB_ERR_NOMEM;
    if (rc != SB_OK)
        goto done;
    x->be = c->be;
    x->group = c->group;
    x->policy.suites = 1u << c->suite->id;
    x->policy.groups = 1u << c->group->id;
    x->dev_cfg = (sb_session_config){.cipher = x->cipher, .role = SB_ROLE_DEVICE};
    x->gw_cfg = (sb_session_config){.cipher = x->cipher, .role = SB_ROLE_GATEWAY};
    if ((rc = c->be->random(x->psk, sizeof x->psk)) != SB_OK || (rc = hs_first(x, 1)) != SB_OK)
        goto done;
    if (c->op != SB_MICRO_REKEY)
        goto done;
    sb_keys kd, kg;
    if ((rc = sb_hs_key(x->be, x->psk, DEVICE_ID, x->dev_hs_key)) != SB_OK ||
        (rc = sb_hs_key(x->be, x->psk, DEVICE_ID, x->gw_hs_key)) != SB_OK ||
        (rc = hs_exchange(x, x->dev_hs_key, x->gw_hs_key, 1, 0, &kd, &kg)) != SB_OK)
        goto done;
    if ((rc = sb_session_init(&x->dev, &x->dev_cfg)) == SB_OK &&
        (rc = sb_session_init(&x->gw, &x->gw_cfg)) == SB_OK) {
        x->established = 1;
        if ((rc = sb_session_install(&x->dev, 1, &kd, sb_now_ns())) == SB_OK)
            rc = sb_session_install(&x->gw, 1, &kg, sb_now_ns());
    }
    sb_wipe(&kd, sizeof kd);
    sb_wipe(&kg, sizeof kg);
    x->epoch = 1;
done:
    if (rc != SB_OK) {
        hs_free(x);
        x = NULL;
    }
    *out = x;
    return rc;
}

/* ---- Cases -------------------------------------------------------------------------------- */

const sb_suite *sb_micro_handshake_suite(const sb_micro_plan *plan, const sb_backend *be)
{
    const sb_suite *null_ok = NULL;
    for (size_t i = 0; i < plan->n_suites; i++) {
        sb_cipher c;
        if (sb_cipher_get(be, plan->suites[i], &c, NULL) != SB_OK)
            continue;
        if (plan->suites[i]->id != SB_SUITE_NULL)
            return plan->suites[i];
        null_ok = plan->suites[i];
    }
    return null_ok;
}

static int grow(sb_micro_case **v, size_t *n, size_t *cap)
{
    if (*n < *cap)
        return 1;
    size_t c = *cap ? *cap * 2 : 64;
    sb_micro_case *p = realloc(*v, c * sizeof *p);
    if (!p)
        return 0;
    *v = p;
    *cap = c;
    return 1;
}

static sb_micro_case *add_case(sb_micro_case **v, size_t *n, size_t *cap, sb_micro_op op,
                               const sb_backend *be, const sb_suite *suite,
                               const sb_group *group, size_t bytes)
{
    if (!grow(v, n, cap))
        return NULL;
    sb_micro_case *c = &(*v)[(*n)++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->be = be;
    c->suite = suite;
    c->group = group;
    c->bytes = bytes;
    return c;
}

static void unavailable(sb_micro_case *c, const char *why)
{
    c->status = SB_MICRO_STATUS_UNAVAILABLE;
    snprintf(c->why, sizeof c->why, "%s", why && *why ? why : "unavailable");
}

sb_err sb_micro_cases(const sb_micro_plan *plan, sb_micro_case **out, size_t *n_out)
{
    static const sb_micro_op aead_ops[] = {SB_MICRO_SEAL, SB_MICRO_OPEN, SB_MICRO_FORGE};
    static const sb_micro_op group_ops[] = {SB_MICRO_KEYGEN, SB_MICRO_ECDH, SB_MICRO_HANDSHAKE,
                                            SB_MICRO_REKEY};
    sb_micro_case *v = NULL, *c;
    size_t n = 0, cap = 0;
    *out = NULL;
    *n_out = 0;
    for (size_t b = 0; b < plan->n_backends; b++) {
        const sb_backend *be = plan->backends[b];
        for (size_t s = 0; s < plan->n_suites; s++) {
            const sb_suite *suite = plan->suites[s];
            sb_cipher cipher;
            const char *why = NULL;
            int ok = sb_cipher_get(be, suite, &cipher, &why) == SB_OK;
            for (size_t o = 0; o < sizeof aead_ops / sizeof aead_ops[0]; o++) {
                if (!(plan->ops & 1u << aead_ops[o]))
                    continue;
                for (size_t z = 0; z < plan->n_sizes; z++) {
                    if (!(c = add_case(&v, &n, &cap, aead_ops[o], be, suite, NULL, plan->sizes[z])))
                        goto nomem;
                    if (!ok)
                        unavailable(c, why);
                    else if (aead_ops[o] == SB_MICRO_FORGE && suite->tag_bytes == 0)
                        unavailable(c, "the null suite has no tag: there is nothing to forge");
                }
            }
        }
        const sb_suite *hs_suite = sb_micro_handshake_suite(plan, be);
        for (size_t g = 0; g < plan->n_groups; g++) {
            const sb_group *group = plan->groups[g];
            const char *why = NULL;
            int ok = sb_kex_get(be, group, &why) != NULL;
            for (size_t o = 0; o < sizeof group_ops / sizeof group_ops[0]; o++) {
                sb_micro_op op = group_ops[o];
                int hs = op == SB_MICRO_HANDSHAKE || op == SB_MICRO_REKEY;
                if (!(plan->ops & 1u << op))
                    continue;
                if (!(c = add_case(&v, &n, &cap, op, be, hs ? hs_suite : NULL, group, 0)))
                    goto nomem;
                if (!ok)
                    unavailable(c, why);
                else if (hs && !hs_suite)
                    unavailable(c, "none of the selected suites is available in this backend");
            }
        }
    }
    *out = v;
    *n_out = n;
    return SB_OK;
nomem:
    free(v);
    return SB_ERR_NOMEM;
}

static void case_name(const sb_micro_case *c, char *out, size_t cap)
{
    if (is_aead_op(c->op))
        snprintf(out, cap, "%s/%s/%s/%zu", sb_micro_op_name(c->op), c->be->name, c->suite->name,
                 c->bytes);
    else
        snprintf(out, cap, "%s/%s/%s%s%s", sb_micro_op_name(c->op), c->be->name, c->group->name,
                 c->suite ? "/" : "", c->suite ? c->suite->name : "");
}

static void fail(sb_micro_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(sb_micro_case *c, const char *fmt, ...)
{
    va_list ap;
    c->status = SB_MICRO_STATUS_FAILED;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
}

static void counters_note(sb_micro_case *c, sb_counters *ctr, const char *off)
{
    const char *note;
    if (c->status == SB_MICRO_STATUS_OK && c->gb.counted)
        note = "papi";
    else if (!ctr)
        note = off && *off ? off : "off";
    else if (!sb_counters_available(ctr))
        note = sb_counters_why(ctr);
    else if (c->status == SB_MICRO_STATUS_UNAVAILABLE)
        note = "not measured: the case is unavailable";
    else if (c->status == SB_MICRO_STATUS_FAILED)
        note = "not measured: the case failed";
    else
        note = "not measured: some repetition has no counts";
    snprintf(c->counters, sizeof c->counters, "%s", note);
}

sb_err sb_micro_measure(sb_micro_case *c, const sb_micro_plan *plan, sb_counters *ctr,
                        const char *counters_off, char *err, size_t err_len)
{
    sb_gb_case gc = {0};
    aead_ctx *aead = NULL;
    kex_ctx *kex = NULL;
    hs_ctx *hs = NULL;
    sb_err rc = SB_OK, setup = SB_OK;
    if (c->status == SB_MICRO_STATUS_UNAVAILABLE)
        goto done;
    case_name(c, gc.name, sizeof gc.name);
    switch (c->op) {
    case SB_MICRO_SEAL:
    case SB_MICRO_OPEN:
    case SB_MICRO_FORGE:
        if (c->bytes < 1 || c->bytes > SB_MICRO_MAX_BYTES) {
            setup = SB_ERR_ARG;
            break;
        }
        setup = aead_new(c, &aead);
        gc.ctx = aead;
        gc.prepare = aead_prepare;
        gc.batch = c->op == SB_MICRO_SEAL ? aead_seal_batch
                   : c->op == SB_MICRO_OPEN ? aead_open_batch
                                            : aead_forge_batch;
        gc.batch_ops = AEAD_BATCH;
        break;
    case SB_MICRO_KEYGEN:
    case SB_MICRO_ECDH:
        setup = kex_new(c, &kex);
        gc.ctx = kex;
        gc.batch = c->op == SB_MICRO_KEYGEN ? kex_keygen_batch : kex_ecdh_batch;
        gc.prepare = c->op == SB_MICRO_ECDH ? kex_ecdh_prepare : NULL;
        gc.batch_ops = 1;
        break;
    case SB_MICRO_HANDSHAKE:
    case SB_MICRO_REKEY:
        setup = hs_new(c, &hs);
        gc.ctx = hs;
        gc.batch = c->op == SB_MICRO_HANDSHAKE ? hs_first_batch : hs_rekey_batch;
        gc.batch_ops = 1;
        break;
    default:
        setup = SB_ERR_ARG;
    }
    if (setup != SB_OK) {
        fail(c, "setting up the case failed: %s", sb_err_str(setup));
        goto done;
    }
    sb_gb_options opt = {
        .repetitions = plan->repetitions,
        .min_time_s = plan->min_time_s,
        .counters = ctr,
    };
    if (sb_gb_run(&gc, 1, &opt, &c->gb, err, err_len) != 0) {
        rc = SB_ERR_BACKEND;
        fail(c, "%s", err);
        goto done;
    }
    if (c->gb.failed)
        fail(c, "%s", c->gb.error);
    else if (c->gb.n_reps != plan->repetitions)
        fail(c, "Google Benchmark reported %u of %u repetitions", c->gb.n_reps, plan->repetitions);
done:
    aead_free(aead);
    kex_free(kex);
    hs_free(hs);
    counters_note(c, ctr, counters_off);
    return rc;
}

void sb_micro_cases_free(sb_micro_case *c, size_t n)
{
    if (!c)
        return;
    for (size_t i = 0; i < n; i++)
        sb_gb_result_free(&c[i].gb);
    free(c);
}

/* ---- Summary and output ------------------------------------------------------------------- */

static double median_of(const sb_gb_rep *reps, unsigned n, size_t offset)
{
    double v[n ? n : 1];
    sb_stats st;
    for (unsigned i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&reps[i] + offset, sizeof v[i]);
    sb_stats_of(v, n, &st);
    return st.p50;
}

void sb_micro_summarize(const sb_micro_case *c, sb_micro_summary *s)
{
    unsigned n = c->gb.n_reps;
    double ns[n ? n : 1], iters[n ? n : 1];
    sb_stats st;
    for (unsigned i = 0; i < n; i++) {
        ns[i] = c->gb.reps[i].real_ns_per_op;
        iters[i] = (double)c->gb.reps[i].iterations;
    }
    sb_stats_of(ns, n, &s->ns);
    sb_stats_of(iters, n, &st);
    s->iterations_p50 = st.p50;
    s->cpu_ns_p50 = median_of(c->gb.reps, n, offsetof(sb_gb_rep, cpu_ns_per_op));
    s->cycles_p50 = c->gb.counted ? median_of(c->gb.reps, n, offsetof(sb_gb_rep, cycles_per_op)) : NAN;
    s->instructions_p50 =
        c->gb.counted ? median_of(c->gb.reps, n, offsetof(sb_gb_rep, instructions_per_op)) : NAN;
    s->mb_per_s_p50 = c->bytes && s->ns.p50 > 0 ? (double)c->bytes / s->ns.p50 * 1e3 : NAN;
}

const char sb_micro_csv_header[] =
    "op,backend,suite,group,bytes,status,why,timer,repetitions,iterations,ns_p50,ns_p25,ns_p75,"
    "ns_p99,ns_mean,ns_min,ns_max,cv_pct,mb_per_s_p50,cpu_ns_p50,cycles_per_op,"
    "instructions_per_op,cycles_per_byte,counters";

/* ",value" or "," alone for a figure that does not exist. */
static void csv_num(FILE *fp, const char *fmt, double v)
{
    fputc(',', fp);
    if (isfinite(v))
        fprintf(fp, fmt, v);
}

static const char *status_name(sb_micro_status s)
{
    return s == SB_MICRO_STATUS_OK ? "ok" : s == SB_MICRO_STATUS_UNAVAILABLE ? "unavailable" : "failed";
}

int sb_micro_csv_row(FILE *fp, const sb_micro_case *c)
{
    sb_micro_summary s;
    int figures = c->status == SB_MICRO_STATUS_OK;
    sb_micro_summarize(c, &s);
    fprintf(fp, "%s,%s,%s,%s,%zu,%s,", sb_micro_op_name(c->op), c->be->name,
            c->suite ? c->suite->name : "", c->group ? c->group->name : "", c->bytes,
            status_name(c->status));
    sb_csv_text(fp, c->why);
    fputc(',', fp);
    if (c->status != SB_MICRO_STATUS_UNAVAILABLE)
        sb_csv_text(fp, sb_gb_timer());
    if (c->status == SB_MICRO_STATUS_UNAVAILABLE)
        fputc(',', fp);
    else
        fprintf(fp, ",%u", c->gb.n_reps);
    if (!figures) {
        /* iterations to cycles_per_byte: 14 columns without figures */
        fputs(",,,,,,,,,,,,,,", fp);
    } else {
        csv_num(fp, "%.0f", s.iterations_p50);
        csv_num(fp, "%.2f", s.ns.p50);
        csv_num(fp, "%.2f", s.ns.p25);
        csv_num(fp, "%.2f", s.ns.p75);
        csv_num(fp, "%.2f", s.ns.p99);
        csv_num(fp, "%.2f", s.ns.mean);
        csv_num(fp, "%.2f", s.ns.min);
        csv_num(fp, "%.2f", s.ns.max);
        /* one repetition has no spread to speak of */
        csv_num(fp, "%.2f", s.ns.n > 1 ? s.ns.cv_pct : NAN);
        csv_num(fp, "%.2f", s.mb_per_s_p50);
        csv_num(fp, "%.2f", s.cpu_ns_p50);
        csv_num(fp, "%.1f", s.cycles_p50);
        csv_num(fp, "%.1f", s.instructions_p50);
        csv_num(fp, "%.3f", c->bytes ? s.cycles_p50 / (double)c->bytes : NAN);
    }
    fputc(',', fp);
    sb_csv_text(fp, c->counters);
    fputc('\n', fp);
    return ferror(fp) ? -1 : 0;
}

const char sb_micro_plan_csv_header[] = "op,backend,suite,group,bytes,status,why";

int sb_micro_plan_csv_row(FILE *fp, const sb_micro_case *c)
{
    fprintf(fp, "%s,%s,%s,%s,%zu,%s,", sb_micro_op_name(c->op), c->be->name,
            c->suite ? c->suite->name : "", c->group ? c->group->name : "", c->bytes,
            c->status == SB_MICRO_STATUS_UNAVAILABLE ? "unavailable" : "runnable");
    sb_csv_text(fp, c->why);
    fputc('\n', fp);
    return ferror(fp) ? -1 : 0;
}

sb_err sb_micro_samples_write(const char *dir, const sb_micro_case *c, char *err,
                              size_t err_len)
{
    char path[4096];
    char *text = NULL;
    size_t len = 0;
    if (c->status == SB_MICRO_STATUS_UNAVAILABLE)
        return SB_OK;
    if (is_aead_op(c->op))
        snprintf(path, sizeof path, "%s/micro-%s-%s-%s-%zu.csv", dir, sb_micro_op_name(c->op),
                 c->be->name, c->suite->name, c->bytes);
    else
        snprintf(path, sizeof path, "%s/micro-%s-%s-%s.csv", dir, sb_micro_op_name(c->op),
                 c->be->name, c->group->name);
    FILE *fp = open_memstream(&text, &len);
    if (!fp) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return SB_ERR_NOMEM;
    }
    fputs("repetition,iterations,ns_per_op,cpu_ns_per_op,cycles_per_op,instructions_per_op\n", fp);
    for (unsigned i = 0; i < c->gb.n_reps; i++) {
        const sb_gb_rep *r = &c->gb.reps[i];
        fprintf(fp, "%u,%llu", i + 1, (unsigned long long)r->iterations);
        csv_num(fp, "%.3f", r->real_ns_per_op);
        csv_num(fp, "%.3f", r->cpu_ns_per_op);
        csv_num(fp, "%.2f", r->cycles_per_op);
        csv_num(fp, "%.2f", r->instructions_per_op);
        fputc('\n', fp);
    }
    int bad = ferror(fp);
    fclose(fp);
    sb_err rc = bad ? SB_ERR_NOMEM : sb_write_atomic(path, text, len, err, err_len);
    if (bad)
        snprintf(err, err_len, "%s: out of memory", path);
    free(text);
    return rc;
}
