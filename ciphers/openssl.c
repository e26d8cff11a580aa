/* The OpenSSL 3 backend: AEADs through EVP, HMAC through EVP_MAC, HKDF through EVP_KDF, X25519
 * through EVP_PKEY and P-256 ECDH through the EC_POINT arithmetic.
 *
 * Algorithms are fetched once (setup) rather than per call, because implicit fetching in
 * OpenSSL 3 costs a provider lookup per EVP_*Init and would be measured as cipher cost. AEAD
 * contexts are keyed once in init; seal and open only set the nonce, as a TLS record layer does.
 * OpenSSL error queues are drained at this boundary; callers only ever see sb_err. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ciphers/cipher.h"
#include "common/util.h"

#define WHY_BYTES 192

/* What setup fetched, and why each fetch that failed did: a suite or group is offered only when
 * its own fetch succeeded (and, for a suite, the key schedule's), with that reason otherwise. */
static struct {
    pthread_once_t once;
    EVP_CIPHER *aead[SB_SUITE_COUNT];
    char aead_why[SB_SUITE_COUNT][WHY_BYTES];
    EVP_CIPHER *chacha20;
    char chacha20_why[WHY_BYTES];
    EVP_MD *sha256;
    EVP_MAC *hmac;
    EVP_KDF *hkdf;
    char schedule_why[WHY_BYTES]; /* the first of SHA-256, HMAC and HKDF that failed */
    EVP_KEYMGMT *x25519;
    char x25519_why[WHY_BYTES];
    EC_GROUP *p256;
    char p256_why[WHY_BYTES];
    char random_why[WHY_BYTES]; /* the DRBG, which every key pair and handshake draws from */
} ossl = {.once = PTHREAD_ONCE_INIT};

/* The EVP names of the AEAD suites' ciphers. */
static const char *const aead_names[SB_SUITE_COUNT] = {
    [SB_SUITE_AES_128_GCM] = "AES-128-GCM",
    [SB_SUITE_AES_256_GCM] = "AES-256-GCM",
    [SB_SUITE_CHACHA20_POLY1305] = "ChaCha20-Poly1305",
};

/* Every failure path goes through here: the error queue is per thread and would otherwise
 * leak an old error into the next, unrelated, check. */
static sb_err fail(sb_err rc)
{
    ERR_clear_error();
    return rc;
}

/* When got is NULL and why is still empty: "call(name) failed: OpenSSL's reason". */
static void fetch_check(const void *got, char *why, const char *call, const char *name)
{
    if (got || why[0])
        return;
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(why, WHY_BYTES, "%s(%s) failed: %s", call, name,
             reason ? reason : "OpenSSL gave no reason");
    ERR_clear_error();
}

static void ossl_setup_once(void)
{
    for (unsigned id = 0; id < SB_SUITE_COUNT; id++) {
        if (!aead_names[id])
            continue;
        ossl.aead[id] = EVP_CIPHER_fetch(NULL, aead_names[id], NULL);
        fetch_check(ossl.aead[id], ossl.aead_why[id], "EVP_CIPHER_fetch", aead_names[id]);
    }
    ossl.chacha20 = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL);
    fetch_check(ossl.chacha20, ossl.chacha20_why, "EVP_CIPHER_fetch", "ChaCha20");
    ossl.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    fetch_check(ossl.sha256, ossl.schedule_why, "EVP_MD_fetch", "SHA256");
    ossl.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    fetch_check(ossl.hmac, ossl.schedule_why, "EVP_MAC_fetch", "HMAC");
    ossl.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    fetch_check(ossl.hkdf, ossl.schedule_why, "EVP_KDF_fetch", "HKDF");
    ossl.x25519 = EVP_KEYMGMT_fetch(NULL, "X25519", NULL);
    fetch_check(ossl.x25519, ossl.x25519_why, "EVP_KEYMGMT_fetch", "X25519");
    ossl.p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    fetch_check(ossl.p256, ossl.p256_why, "EC_GROUP_new_by_curve_name", "prime256v1");
    uint8_t probe;
    fetch_check(RAND_bytes(&probe, 1) == 1 ? &probe : NULL, ossl.random_why, "RAND_bytes",
                "1 byte");
    ERR_clear_error();
}

/* Setup only fetches; what failed shows per primitive, suite and group, not as a dead backend. */
static sb_err ossl_setup(void)
{
    pthread_once(&ossl.once, ossl_setup_once);
    return SB_OK;
}

/* A suite: its own cipher's fetch (the AEAD, or raw ChaCha20 for encrypt-then-MAC), then the
 * key schedule's (SHA-256, HMAC and HKDF: every suite's session keys come from them), then the
 * DRBG (the handshake's nonces). */
static const char *ossl_suite_available(const sb_suite *suite)
{
    ossl_setup();
    const char *own = suite->id == SB_SUITE_CHACHA20_HMAC_SHA256 ? ossl.chacha20_why
                                                                 : ossl.aead_why[suite->id];
    const char *why = own[0] ? own : ossl.schedule_why[0] ? ossl.schedule_why : ossl.random_why;
    return why[0] ? why : NULL;
}

/* A group: its own fetch, then the DRBG its key pairs come from. */
static const char *ossl_group_available(const sb_group *group)
{
    ossl_setup();
    const char *own = group->id == SB_GROUP_X25519 ? ossl.x25519_why : ossl.p256_why;
    const char *why = own[0] ? own : ossl.random_why;
    return why[0] ? why : NULL;
}

static const char *ossl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION_STRING);
}

static sb_err ossl_random(uint8_t *out, size_t n)
{
    /* RAND_bytes takes an int length. */
    while (n) {
        int chunk = n > (1u << 30) ? 1 << 30 : (int)n;
        if (RAND_bytes(out, chunk) != 1)
            return fail(SB_ERR_RANDOM);
        out += chunk;
        n -= (size_t)chunk;
    }
    return SB_OK;
}

static sb_err ossl_sha256(const uint8_t *in, size_t n, uint8_t out[SB_HASH_BYTES])
{
    if (ossl_setup() != SB_OK || !ossl.sha256)
        return SB_ERR_BACKEND;
    return EVP_Digest(in, n, out, NULL, ossl.sha256, NULL) == 1 ? SB_OK : fail(SB_ERR_BACKEND);
}

/* ---- HMAC ---------------------------------------------------------------------------------- */

static void hmac_free(void *state)
{
    EVP_MAC_CTX_free(state); /* cleanses the key */
}

static sb_err hmac_init(void **state, const uint8_t *key, size_t key_len)
{
    if (ossl_setup() != SB_OK || !ossl.hmac)
        return SB_ERR_BACKEND;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(ossl.hmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    /* OpenSSL refuses a NULL key even when empty (RFC 2104 allows a zero-length key). */
    static const uint8_t empty[1];
    if (!ctx || EVP_MAC_init(ctx, key_len ? key : empty, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return fail(ctx ? SB_ERR_BACKEND : SB_ERR_NOMEM);
    }
    *state = ctx;
    return SB_OK;
}

static sb_err hmac_begin(void *state)
{
    /* A NULL key re-initialises with the key already set, without re-hashing it. */
    return EVP_MAC_init(state, NULL, 0, NULL) == 1 ? SB_OK : fail(SB_ERR_BACKEND);
}

static sb_err hmac_update(void *state, const uint8_t *in, size_t n)
{
    return EVP_MAC_update(state, in, n) == 1 ? SB_OK : fail(SB_ERR_BACKEND);
}

static sb_err hmac_finish(void *state, uint8_t out[SB_HASH_BYTES])
{
    size_t len = 0;
    if (EVP_MAC_final(state, out, &len, SB_HASH_BYTES) != 1 || len != SB_HASH_BYTES)
        return fail(SB_ERR_BACKEND);
    return SB_OK;
}

static const sb_hmac_ops ossl_hmac = {
    .init = hmac_init,
    .begin = hmac_begin,
    .update = hmac_update,
    .finish = hmac_finish,
    .free = hmac_free,
};

/* ---- HKDF ------------------------------------------------------------------------------------ */

static sb_err hkdf_run(int mode, const uint8_t *salt, size_t salt_len, const uint8_t *key,
                       size_t key_len, const uint8_t *info, size_t info_len, uint8_t *out,
                       size_t out_len)
{
    if (ossl_setup() != SB_OK || !ossl.hkdf)
        return SB_ERR_BACKEND;
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(ossl.hkdf);
    if (!ctx)
        return fail(SB_ERR_NOMEM);
    OSSL_PARAM params[6], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
    if (salt_len)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info_len)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(ctx, out, out_len, params);
    EVP_KDF_CTX_free(ctx);
    return ok == 1 ? SB_OK : fail(SB_ERR_BACKEND);
}

static sb_err ossl_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                                size_t ikm_len, uint8_t prk[SB_HASH_BYTES])
{
    return hkdf_run(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, salt_len, ikm, ikm_len, NULL, 0, prk,
                    SB_HASH_BYTES);
}

static sb_err ossl_hkdf_expand(const uint8_t prk[SB_HASH_BYTES], const uint8_t *info,
                               size_t info_len, uint8_t *out, size_t out_len)
{
    if (out_len > 255 * SB_HASH_BYTES)
        return SB_ERR_ARG;
    return hkdf_run(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk, SB_HASH_BYTES, info, info_len,
                    out, out_len);
}

/* ---- ChaCha20 ---------------------------------------------------------------------------------- */

static pthread_key_t chacha_key;
static pthread_once_t chacha_key_once = PTHREAD_ONCE_INIT;

static void chacha_ctx_free(void *ctx)
{
    EVP_CIPHER_CTX_free(ctx);
}

static void chacha_key_make(void)
{
    pthread_key_create(&chacha_key, chacha_ctx_free);
}

static sb_err ossl_chacha20_xor(const uint8_t key[32], const uint8_t nonce[SB_NONCE_BYTES],
                                uint32_t counter, const uint8_t *in, size_t n, uint8_t *out)
{
    /* OpenSSL's ChaCha20 IV is the 32-bit block counter (little-endian) then the nonce. One
     * context per thread, re-keyed per call: allocating one per message would be measured.
     * A thread-specific key frees it when the thread ends (Paho's threads end with their
     * clients). */
    static const uint8_t zero_key[32];
    uint8_t iv[16];
    int len = 0;
    if (ossl_setup() != SB_OK || !ossl.chacha20)
        return SB_ERR_BACKEND;
    pthread_once(&chacha_key_once, chacha_key_make);
    EVP_CIPHER_CTX *ctx = pthread_getspecific(chacha_key);
    if (!ctx) {
        if (!(ctx = EVP_CIPHER_CTX_new()))
            return fail(SB_ERR_NOMEM);
        if (pthread_setspecific(chacha_key, ctx) != 0) {
            EVP_CIPHER_CTX_free(ctx);
            return fail(SB_ERR_NOMEM);
        }
    }
    iv[0] = (uint8_t)counter; iv[1] = (uint8_t)(counter >> 8);
    iv[2] = (uint8_t)(counter >> 16); iv[3] = (uint8_t)(counter >> 24);
    memcpy(iv + 4, nonce, SB_NONCE_BYTES);
    sb_err rc = SB_OK;
    if (EVP_EncryptInit_ex2(ctx, ossl.chacha20, key, iv, NULL) != 1)
        rc = SB_ERR_BACKEND;
    while (rc == SB_OK && n) {
        int chunk = n > (1u << 30) ? 1 << 30 : (int)n;
        if (EVP_EncryptUpdate(ctx, out, &len, in, chunk) != 1)
            rc = SB_ERR_BACKEND;
        in += chunk; out += chunk; n -= (size_t)chunk;
    }
    /* Leave no key in the cached context. */
    EVP_EncryptInit_ex2(ctx, ossl.chacha20, zero_key, iv, NULL);
    return rc == SB_OK ? SB_OK : fail(rc);
}

/* ---- AEAD: AES-GCM and ChaCha20-Poly1305 share the EVP AEAD calls -------------------------------- */

typedef struct aead_state {
    EVP_CIPHER_CTX *ctx;
    uint8_t tag_bytes;
} aead_state;

static void aead_free(void *state)
{
    aead_state *st = state;
    if (!st)
        return;
    EVP_CIPHER_CTX_free(st->ctx); /* cleanses the key schedule */
    free(st);
}

static sb_err aead_init(void **state, const sb_backend *be, const sb_suite *suite,
                        const uint8_t *key, const uint8_t *mac_key)
{
    if (ossl_setup() != SB_OK || !ossl.aead[suite->id])
        return SB_ERR_UNAVAILABLE;
    aead_state *st = calloc(1, sizeof *st);
    if (!st || !(st->ctx = EVP_CIPHER_CTX_new())) {
        free(st);
        return fail(SB_ERR_NOMEM);
    }
    st->tag_bytes = suite->tag_bytes;
    /* Key once; both suites default to a 96-bit IV, which is what the protocol uses. */
    if (EVP_CipherInit_ex2(st->ctx, ossl.aead[suite->id], key, NULL, 1, NULL) != 1) {
        aead_free(st);
        return fail(SB_ERR_BACKEND);
    }
    *state = st;
    return SB_OK;
}

/* EVP takes int lengths; the protocol's messages are far smaller, but refuse rather than wrap. */
static int len_ok(size_t a, size_t b)
{
    return a <= (size_t)INT32_MAX && b <= (size_t)INT32_MAX;
}

static sb_err aead_seal(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    aead_state *st = state;
    int len = 0;
    if (!len_ok(aad_len, in_len))
        return SB_ERR_ARG;
    if (EVP_CipherInit_ex2(st->ctx, NULL, NULL, nonce, 1, NULL) != 1 ||
        (aad_len && EVP_EncryptUpdate(st->ctx, NULL, &len, aad, (int)aad_len) != 1) ||
        (in_len && EVP_EncryptUpdate(st->ctx, out, &len, in, (int)in_len) != 1) ||
        EVP_EncryptFinal_ex(st->ctx, out + in_len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_AEAD_GET_TAG, st->tag_bytes, out + in_len) != 1)
        return fail(SB_ERR_BACKEND);
    return SB_OK;
}

static sb_err aead_open(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    aead_state *st = state;
    uint8_t tag[16];
    int len = 0;
    if (in_len < st->tag_bytes || !len_ok(aad_len, in_len))
        return SB_ERR_ARG;
    size_t ct_len = in_len - st->tag_bytes;
    /* Copy the tag first: with out == in, decryption would overwrite nothing of it, but the
     * copy keeps the code correct whatever the caller's buffer layout. */
    memcpy(tag, in + ct_len, st->tag_bytes);
    if (EVP_CipherInit_ex2(st->ctx, NULL, NULL, nonce, 0, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_AEAD_SET_TAG, st->tag_bytes, tag) != 1 ||
        (aad_len && EVP_DecryptUpdate(st->ctx, NULL, &len, aad, (int)aad_len) != 1) ||
        (ct_len && EVP_DecryptUpdate(st->ctx, out, &len, in, (int)ct_len) != 1)) {
        sb_wipe(out, ct_len);
        return fail(SB_ERR_BACKEND);
    }
    /* The final call compares tags in constant time (CRYPTO_memcmp). */
    if (EVP_DecryptFinal_ex(st->ctx, out + ct_len, &len) != 1) {
        sb_wipe(out, ct_len);
        return fail(SB_ERR_AUTH);
    }
    return SB_OK;
}

static const sb_aead_ops ossl_aead = {
    .init = aead_init,
    .seal = aead_seal,
    .open = aead_open,
    .free = aead_free,
};

/* ---- X25519 -------------------------------------------------------------------------------------- */

static sb_err x25519_public_key(const uint8_t *priv, uint8_t *pub)
{
    size_t len = 32;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32;
    EVP_PKEY_free(k);
    return ok ? SB_OK : fail(SB_ERR_BACKEND);
}

static sb_err x25519_keygen(uint8_t *priv, uint8_t *pub)
{
    if (RAND_priv_bytes(priv, 32) != 1)
        return fail(SB_ERR_RANDOM);
    return x25519_public_key(priv, pub);
}

static sb_err x25519_derive(const uint8_t *priv, const uint8_t *peer_pub, uint8_t *shared)
{
    EVP_PKEY *own = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, 32);
    EVP_PKEY_CTX *ctx = own ? EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL) : NULL;
    size_t len = SB_SHARED_BYTES;
    sb_err rc = SB_ERR_BACKEND;
    if (ctx && peer && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1) {
        /* Every 32-byte string is a valid X25519 public key, so the only way derive fails
         * once set up is OpenSSL's refusal of an all-zero result (RFC 7748 §6.1). */
        rc = EVP_PKEY_derive(ctx, shared, &len) == 1 && len == SB_SHARED_BYTES
                 ? SB_OK
                 : SB_ERR_ZERO_SHARED;
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(own); /* cleanses the private key */
    EVP_PKEY_free(peer);
    if (rc != SB_OK)
        sb_wipe(shared, SB_SHARED_BYTES);
    return rc == SB_OK ? SB_OK : fail(rc);
}

static const sb_kex_ops ossl_x25519 = {
    .keygen = x25519_keygen,
    .public_key = x25519_public_key,
    .derive = x25519_derive,
};

/* ---- P-256 --------------------------------------------------------------------------------------- */

/* Load a big-endian private scalar, refusing 0 and values >= n rather than reducing them. */
static BIGNUM *p256_scalar(const uint8_t *priv)
{
    BIGNUM *d = BN_secure_new();
    if (!d || !BN_bin2bn(priv, 32, d) || BN_is_zero(d) ||
        BN_cmp(d, EC_GROUP_get0_order(ossl.p256)) >= 0) {
        BN_clear_free(d);
        return NULL;
    }
    BN_set_flags(d, BN_FLG_CONSTTIME);
    return d;
}

static sb_err p256_mul_encode(const BIGNUM *d, const EC_POINT *base, uint8_t *out, int x_only)
{
    EC_POINT *r = EC_POINT_new(ossl.p256);
    BN_CTX *bn = BN_CTX_secure_new();
    BIGNUM *x = BN_new();
    sb_err rc = SB_ERR_BACKEND;
    if (!r || !bn || !x)
        goto out;
    if (EC_POINT_mul(ossl.p256, r, base ? NULL : d, base, base ? d : NULL, bn) != 1 ||
        EC_POINT_is_at_infinity(ossl.p256, r))
        goto out;
    if (x_only) {
        if (EC_POINT_get_affine_coordinates(ossl.p256, r, x, NULL, bn) != 1 ||
            BN_bn2binpad(x, out, SB_SHARED_BYTES) != SB_SHARED_BYTES)
            goto out;
    } else if (EC_POINT_point2oct(ossl.p256, r, POINT_CONVERSION_UNCOMPRESSED, out, 65, bn) != 65) {
        goto out;
    }
    rc = SB_OK;
out:
    EC_POINT_clear_free(r);
    BN_CTX_free(bn);
    BN_clear_free(x);
    return rc == SB_OK ? SB_OK : fail(rc);
}

static sb_err p256_public_key(const uint8_t *priv, uint8_t *pub)
{
    if (ossl_setup() != SB_OK || !ossl.p256)
        return SB_ERR_BACKEND;
    BIGNUM *d = p256_scalar(priv);
    if (!d)
        return fail(SB_ERR_ARG);
    sb_err rc = p256_mul_encode(d, NULL, pub, 0);
    BN_clear_free(d);
    return rc;
}

static sb_err p256_keygen(uint8_t *priv, uint8_t *pub)
{
    if (ossl_setup() != SB_OK || !ossl.p256)
        return SB_ERR_BACKEND;
    /* Rejection sampling: the chance of a retry is about 2^-32. */
    for (int tries = 0; tries < 64; tries++) {
        if (RAND_priv_bytes(priv, 32) != 1)
            return fail(SB_ERR_RANDOM);
        sb_err rc = p256_public_key(priv, pub);
        if (rc != SB_ERR_ARG)
            return rc;
    }
    return SB_ERR_RANDOM;
}

static sb_err p256_derive(const uint8_t *priv, const uint8_t *peer_pub, uint8_t *shared)
{
    if (ossl_setup() != SB_OK || !ossl.p256)
        return SB_ERR_BACKEND;
    EC_POINT *peer = EC_POINT_new(ossl.p256);
    BIGNUM *d = NULL;
    sb_err rc;
    /* oct2point checks the encoding and that the point lies on the curve; P-256 has cofactor
     * 1, so any on-curve point other than infinity is in the prime-order group. */
    if (!peer || peer_pub[0] != 0x04 ||
        EC_POINT_oct2point(ossl.p256, peer, peer_pub, 65, NULL) != 1 ||
        EC_POINT_is_at_infinity(ossl.p256, peer)) {
        rc = SB_ERR_POINT;
    } else if (!(d = p256_scalar(priv))) {
        rc = SB_ERR_ARG;
    } else {
        rc = p256_mul_encode(d, peer, shared, 1);
    }
    EC_POINT_free(peer);
    BN_clear_free(d);
    return rc == SB_OK ? SB_OK : fail(rc);
}

static const sb_kex_ops ossl_p256 = {
    .keygen = p256_keygen,
    .public_key = p256_public_key,
    .derive = p256_derive,
};

/* ---- Descriptor ------------------------------------------------------------------------------------- */

const sb_backend sb_backend_openssl = {
    .name = "openssl",
    .version = ossl_version,
    .setup = ossl_setup,
    .random = ossl_random,
    .sha256 = ossl_sha256,
    .hmac = &ossl_hmac,
    .hkdf_extract = ossl_hkdf_extract,
    .hkdf_expand = ossl_hkdf_expand,
    .chacha20_xor = ossl_chacha20_xor,
    .aead = {
        [SB_SUITE_NULL] = {.ops = &sb_null_aead_ops, .available = ossl_suite_available},
        [SB_SUITE_AES_128_GCM] = {.ops = &ossl_aead, .available = ossl_suite_available},
        [SB_SUITE_AES_256_GCM] = {.ops = &ossl_aead, .available = ossl_suite_available},
        [SB_SUITE_CHACHA20_POLY1305] = {.ops = &ossl_aead, .available = ossl_suite_available},
        [SB_SUITE_CHACHA20_HMAC_SHA256] = {.ops = &sb_etm_chacha20_hmac_ops,
                                           .available = ossl_suite_available},
    },
    .kex = {
        [SB_GROUP_X25519] = {.ops = &ossl_x25519, .available = ossl_group_available},
        [SB_GROUP_P256] = {.ops = &ossl_p256, .available = ossl_group_available},
    },
};
