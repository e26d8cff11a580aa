/* The libsodium backend: AES-256-GCM and ChaCha20-Poly1305 (IETF) over libsodium's detached
 * AEAD API, X25519 over crypto_scalarmult, and the primitives the generic constructions need
 * (SHA-256, keyed HMAC-SHA256, HKDF, raw RFC 8439 ChaCha20).
 *
 * Leans on libsodium 1.0.18 as Debian 12 ships it. What it lacks is reported, not faked:
 * there is no AES-128-GCM and no P-256, and AES-256-GCM exists only on x86 CPUs with
 * AES-NI+PCLMUL (ARMv8's crypto extensions are used from 1.0.19 on). 1.0.18 has no HKDF API either, so HKDF is built here from its HMAC.
 * libsodium aborts the process (sodium_misuse) on lengths beyond its limits, so every length
 * is checked here first and refused with SB_ERR_ARG; its -1 returns become sb_err here too. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ciphers/cipher.h"

extern const sb_backend sb_backend_sodium;

/* ---- Library --------------------------------------------------------------------------------- */

static const char *sodium_backend_version(void)
{
    return sodium_version_string();
}

static sb_err sodium_backend_setup(void)
{
    /* 1 means "already initialised", which is what makes repeated calls harmless. */
    return sodium_init() < 0 ? SB_ERR_BACKEND : SB_OK;
}

static sb_err sodium_backend_random(uint8_t *out, size_t n)
{
    if (!out && n)
        return SB_ERR_ARG;
    randombytes_buf(out, n);
    return SB_OK;
}

static sb_err sodium_backend_sha256(const uint8_t *in, size_t n, uint8_t out[SB_HASH_BYTES])
{
    if ((!in && n) || !out)
        return SB_ERR_ARG;
    return crypto_hash_sha256(out, in, n) == 0 ? SB_OK : SB_ERR_BACKEND;
}

/* ---- HMAC-SHA256 ----------------------------------------------------------------------------- */

/* The keyed template holds the inner and outer pads already absorbed, so begin() is a copy and
 * the key is hashed once per context rather than once per message. */
typedef struct sodium_hmac {
    crypto_auth_hmacsha256_state keyed;
    crypto_auth_hmacsha256_state work;
} sodium_hmac;

static void sodium_hmac_free(void *state)
{
    if (!state)
        return;
    sodium_memzero(state, sizeof(sodium_hmac));
    free(state);
}

static sb_err sodium_hmac_init(void **state, const uint8_t *key, size_t key_len)
{
    if (!state || (!key && key_len))
        return SB_ERR_ARG;
    sodium_hmac *h = malloc(sizeof *h);
    if (!h)
        return SB_ERR_NOMEM;
    if (crypto_auth_hmacsha256_init(&h->keyed, key, key_len) != 0) {
        sodium_hmac_free(h);
        return SB_ERR_BACKEND;
    }
    /* Usable at once, even by a caller that skips begin() for its first MAC. */
    h->work = h->keyed;
    *state = h;
    return SB_OK;
}

static sb_err sodium_hmac_begin(void *state)
{
    sodium_hmac *h = state;
    if (!h)
        return SB_ERR_ARG;
    h->work = h->keyed;
    return SB_OK;
}

static sb_err sodium_hmac_update(void *state, const uint8_t *in, size_t n)
{
    sodium_hmac *h = state;
    if (!h || (!in && n))
        return SB_ERR_ARG;
    /* Callers pass (NULL, 0) for empty fields; keep that away from the library. */
    if (n == 0)
        return SB_OK;
    return crypto_auth_hmacsha256_update(&h->work, in, n) == 0 ? SB_OK : SB_ERR_BACKEND;
}

static sb_err sodium_hmac_finish(void *state, uint8_t out[SB_HASH_BYTES])
{
    sodium_hmac *h = state;
    if (!h || !out)
        return SB_ERR_ARG;
    return crypto_auth_hmacsha256_final(&h->work, out) == 0 ? SB_OK : SB_ERR_BACKEND;
}

static const sb_hmac_ops sodium_hmac_ops = {
    .init = sodium_hmac_init,
    .begin = sodium_hmac_begin,
    .update = sodium_hmac_update,
    .finish = sodium_hmac_finish,
    .free = sodium_hmac_free,
};

/* ---- HKDF-SHA256 (RFC 5869) ------------------------------------------------------------------ */

static sb_err sodium_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                                  size_t ikm_len, uint8_t prk[SB_HASH_BYTES])
{
    static const uint8_t zero_salt[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    sb_err rc = SB_ERR_BACKEND;

    if ((!salt && salt_len) || (!ikm && ikm_len) || !prk)
        return SB_ERR_ARG;
    /* RFC 5869 §2.2: an absent salt is HashLen zero bytes. */
    if (salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    if (crypto_auth_hmacsha256_init(&st, salt, salt_len) != 0)
        goto exit;
    if (ikm_len && crypto_auth_hmacsha256_update(&st, ikm, ikm_len) != 0)
        goto exit;
    if (crypto_auth_hmacsha256_final(&st, prk) != 0)
        goto exit;
    rc = SB_OK;

exit:
    /* The state holds the PRK's inner hash and the IKM's tail; both are secret. */
    sodium_memzero(&st, sizeof st);
    if (rc != SB_OK)
        sodium_memzero(prk, SB_HASH_BYTES);
    return rc;
}

static sb_err sodium_hkdf_expand(const uint8_t prk[SB_HASH_BYTES], const uint8_t *info,
                                 size_t info_len, uint8_t *out, size_t out_len)
{
    crypto_auth_hmacsha256_state keyed, st;
    uint8_t t[crypto_auth_hmacsha256_BYTES];
    size_t done = 0;
    sb_err rc = SB_ERR_BACKEND;

    if (!prk || (!info && info_len) || (!out && out_len))
        return SB_ERR_ARG;
    if (out_len > 255 * sizeof t)
        return SB_ERR_ARG;

    /* Key once with the PRK; each block then costs two compressions plus its input. */
    if (crypto_auth_hmacsha256_init(&keyed, prk, SB_HASH_BYTES) != 0)
        goto exit;
    for (unsigned i = 1; done < out_len; i++) {
        uint8_t ctr = (uint8_t)i;
        size_t take = out_len - done < sizeof t ? out_len - done : sizeof t;

        st = keyed;
        if (i > 1 && crypto_auth_hmacsha256_update(&st, t, sizeof t) != 0)
            goto exit;
        if (info_len && crypto_auth_hmacsha256_update(&st, info, info_len) != 0)
            goto exit;
        if (crypto_auth_hmacsha256_update(&st, &ctr, 1) != 0 ||
            crypto_auth_hmacsha256_final(&st, t) != 0)
            goto exit;
        memcpy(out + done, t, take);
        done += take;
    }
    rc = SB_OK;

exit:
    sodium_memzero(&keyed, sizeof keyed);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(t, sizeof t);
    if (rc != SB_OK && out_len)
        sodium_memzero(out, out_len);
    return rc;
}

/* ---- Raw ChaCha20 (RFC 8439) ------------------------------------------------------------------ */

static sb_err sodium_chacha20_xor(const uint8_t key[32], const uint8_t nonce[SB_NONCE_BYTES],
                                  uint32_t counter, const uint8_t *in, size_t n, uint8_t *out)
{
    if (!key || !nonce || ((!in || !out) && n))
        return SB_ERR_ARG;
    /* RFC 8439 has a 32-bit block counter, and libsodium aborts the process (sodium_misuse)
     * on a run that would pass block 2^32 - 1; refuse it here instead. The bound also keeps n
     * under crypto_stream_chacha20_ietf_MESSAGEBYTES_MAX. */
    if ((uint64_t)counter + ((uint64_t)n + 63) / 64 > (uint64_t)1 << 32)
        return SB_ERR_ARG;
    if (n == 0)
        return SB_OK;
    return crypto_stream_chacha20_ietf_xor_ic(out, in, n, nonce, counter, key) == 0
               ? SB_OK
               : SB_ERR_BACKEND;
}

/* ---- AES-256-GCM ----------------------------------------------------------------------------- */

static const char *sodium_aes256gcm_available(const sb_suite *suite)
{
    (void)suite;
    /* The CPU probe runs inside sodium_init(); before it, the answer would always be "no". */
    if (sodium_init() < 0)
        return "libsodium failed to initialise";
    if (!crypto_aead_aes256gcm_is_available())
#if defined(__x86_64__) || defined(__i386__)
        return "libsodium's AES-256-GCM needs AES-NI+PCLMUL, absent on this CPU";
#else
        /* Whatever the CPU offers: libsodium uses ARMv8's AES instructions from 1.0.19 on. */
        return "libsodium before 1.0.19 has AES-256-GCM on x86 (AES-NI+PCLMUL) only";
#endif
    return NULL;
}

static void sodium_aes256gcm_free(void *state)
{
    if (!state)
        return;
    sodium_memzero(state, sizeof(crypto_aead_aes256gcm_state));
    free(state);
}

static sb_err sodium_aes256gcm_init(void **state, const sb_backend *be, const sb_suite *suite,
                                    const uint8_t *key, const uint8_t *mac_key)
{
    void *mem = NULL;

    if (!state || !suite || !key || suite->key_bytes != crypto_aead_aes256gcm_KEYBYTES ||
        suite->tag_bytes != crypto_aead_aes256gcm_ABYTES || suite->mac_key_bytes != 0)
        return SB_ERR_ARG;
    /* Without the instructions, beforenm would die on SIGILL rather than fail. */
    if (sodium_aes256gcm_available(suite) != NULL)
        return SB_ERR_UNAVAILABLE;
    /* The state is SIMD registers spilled to memory and must be 16-byte aligned. posix_memalign
     * rather than sodium_malloc: the latter maps guard pages, too slow for a context per epoch. */
    if (posix_memalign(&mem, 16, sizeof(crypto_aead_aes256gcm_state)) != 0)
        return SB_ERR_NOMEM;
    if (crypto_aead_aes256gcm_beforenm(mem, key) != 0) {
        sodium_aes256gcm_free(mem);
        return SB_ERR_BACKEND;
    }
    *state = mem;
    return SB_OK;
}

static sb_err sodium_aes256gcm_seal(void *state, const uint8_t nonce[SB_NONCE_BYTES],
                                    const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                    size_t in_len, uint8_t *out)
{
    if (!state || !nonce || (!aad && aad_len) || (!in && in_len) || !out)
        return SB_ERR_ARG;
    if (in_len > crypto_aead_aes256gcm_MESSAGEBYTES_MAX)
        return SB_ERR_ARG;
    return crypto_aead_aes256gcm_encrypt_detached_afternm(out, out + in_len, NULL, in, in_len,
                                                          aad, aad_len, NULL, nonce, state) == 0
               ? SB_OK
               : SB_ERR_BACKEND;
}

static sb_err sodium_aes256gcm_open(void *state, const uint8_t nonce[SB_NONCE_BYTES],
                                    const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                    size_t in_len, uint8_t *out)
{
    if (!state || !nonce || (!aad && aad_len) || !in)
        return SB_ERR_ARG;
    if (in_len < crypto_aead_aes256gcm_ABYTES)
        return SB_ERR_ARG;
    size_t ct_len = in_len - crypto_aead_aes256gcm_ABYTES;
    if (ct_len > crypto_aead_aes256gcm_MESSAGEBYTES_MAX || (!out && ct_len))
        return SB_ERR_ARG;
    if (crypto_aead_aes256gcm_decrypt_detached_afternm(out, NULL, in, ct_len, in + ct_len, aad,
                                                       aad_len, nonce, state) != 0) {
        /* libsodium clears it already; our contract does not depend on that. */
        if (ct_len)
            sodium_memzero(out, ct_len);
        return SB_ERR_AUTH;
    }
    return SB_OK;
}

static const sb_aead_ops sodium_aes256gcm_ops = {
    .init = sodium_aes256gcm_init,
    .seal = sodium_aes256gcm_seal,
    .open = sodium_aes256gcm_open,
    .free = sodium_aes256gcm_free,
};

/* ---- ChaCha20-Poly1305 (RFC 8439) ------------------------------------------------------------ */

/* libsodium has no key schedule for this AEAD to precompute, so the context is the key. */
typedef struct sodium_chachapoly {
    uint8_t key[crypto_aead_chacha20poly1305_ietf_KEYBYTES];
} sodium_chachapoly;

static void sodium_chachapoly_free(void *state)
{
    if (!state)
        return;
    sodium_memzero(state, sizeof(sodium_chachapoly));
    free(state);
}

static sb_err sodium_chachapoly_init(void **state, const sb_backend *be, const sb_suite *suite,
                                     const uint8_t *key, const uint8_t *mac_key)
{
    if (!state || !suite || !key ||
        suite->key_bytes != crypto_aead_chacha20poly1305_ietf_KEYBYTES ||
        suite->tag_bytes != crypto_aead_chacha20poly1305_ietf_ABYTES || suite->mac_key_bytes != 0)
        return SB_ERR_ARG;
    sodium_chachapoly *st = malloc(sizeof *st);
    if (!st)
        return SB_ERR_NOMEM;
    memcpy(st->key, key, sizeof st->key);
    *state = st;
    return SB_OK;
}

static sb_err sodium_chachapoly_seal(void *state, const uint8_t nonce[SB_NONCE_BYTES],
                                     const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                     size_t in_len, uint8_t *out)
{
    sodium_chachapoly *st = state;
    if (!st || !nonce || (!aad && aad_len) || (!in && in_len) || !out)
        return SB_ERR_ARG;
    if (in_len > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX)
        return SB_ERR_ARG;
    return crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + in_len, NULL, in, in_len,
                                                              aad, aad_len, NULL, nonce,
                                                              st->key) == 0
               ? SB_OK
               : SB_ERR_BACKEND;
}

static sb_err sodium_chachapoly_open(void *state, const uint8_t nonce[SB_NONCE_BYTES],
                                     const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                     size_t in_len, uint8_t *out)
{
    sodium_chachapoly *st = state;
    if (!st || !nonce || (!aad && aad_len) || !in)
        return SB_ERR_ARG;
    if (in_len < crypto_aead_chacha20poly1305_ietf_ABYTES)
        return SB_ERR_ARG;
    size_t ct_len = in_len - crypto_aead_chacha20poly1305_ietf_ABYTES;
    if (ct_len > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX || (!out && ct_len))
        return SB_ERR_ARG;
    /* The tag is checked before any plaintext is written, so out == in is safe. */
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, in, ct_len, in + ct_len,
                                                           aad, aad_len, nonce, st->key) != 0) {
        if (ct_len)
            sodium_memzero(out, ct_len);
        return SB_ERR_AUTH;
    }
    return SB_OK;
}

static const sb_aead_ops sodium_chachapoly_ops = {
    .init = sodium_chachapoly_init,
    .seal = sodium_chachapoly_seal,
    .open = sodium_chachapoly_open,
    .free = sodium_chachapoly_free,
};

/* ---- X25519 (RFC 7748) ------------------------------------------------------------------------ */

/* Private keys are raw 32-byte strings; libsodium clamps its own copy, as RFC 7748 vectors
 * expect. Every 32-byte string is a valid u-coordinate, so SB_ERR_POINT never arises here. */

static sb_err sodium_x25519_public_key(const uint8_t *priv, uint8_t *pub)
{
    if (!priv || !pub)
        return SB_ERR_ARG;
    /* A clamped scalar times the base point cannot be zero; -1 would be a library fault. */
    if (crypto_scalarmult_curve25519_base(pub, priv) != 0) {
        sodium_memzero(pub, crypto_scalarmult_curve25519_BYTES);
        return SB_ERR_BACKEND;
    }
    return SB_OK;
}

static sb_err sodium_x25519_keygen(uint8_t *priv, uint8_t *pub)
{
    if (!priv || !pub)
        return SB_ERR_ARG;
    randombytes_buf(priv, crypto_scalarmult_curve25519_SCALARBYTES);
    sb_err rc = sodium_x25519_public_key(priv, pub);
    if (rc != SB_OK)
        sodium_memzero(priv, crypto_scalarmult_curve25519_SCALARBYTES);
    return rc;
}

static sb_err sodium_x25519_derive(const uint8_t *priv, const uint8_t *peer_pub, uint8_t *shared)
{
    if (!priv || !peer_pub || !shared)
        return SB_ERR_ARG;
    /* -1 means an all-zero result, i.e. a small-order peer key. The ref10 code refuses such
     * keys before computing and leaves shared unwritten, hence the wipe. */
    if (crypto_scalarmult_curve25519(shared, priv, peer_pub) != 0) {
        sodium_memzero(shared, SB_SHARED_BYTES);
        return SB_ERR_ZERO_SHARED;
    }
    return SB_OK;
}

static const sb_kex_ops sodium_x25519_ops = {
    .keygen = sodium_x25519_keygen,
    .public_key = sodium_x25519_public_key,
    .derive = sodium_x25519_derive,
};

/* ---- The backend ---------------------------------------------------------------------------- */

const sb_backend sb_backend_sodium = {
    .name = "sodium",
    .version = sodium_backend_version,
    .setup = sodium_backend_setup,

    .random = sodium_backend_random,
    .sha256 = sodium_backend_sha256,
    .hmac = &sodium_hmac_ops,
    .hkdf_extract = sodium_hkdf_extract,
    .hkdf_expand = sodium_hkdf_expand,
    .chacha20_xor = sodium_chacha20_xor,

    .aead = {
        [SB_SUITE_NULL] = { .ops = &sb_null_aead_ops },
        [SB_SUITE_AES_128_GCM] = { .missing = "libsodium has no AES-128-GCM" },
        [SB_SUITE_AES_256_GCM] = { .ops = &sodium_aes256gcm_ops,
                                   .available = sodium_aes256gcm_available },
        [SB_SUITE_CHACHA20_POLY1305] = { .ops = &sodium_chachapoly_ops },
        [SB_SUITE_CHACHA20_HMAC_SHA256] = { .ops = &sb_etm_chacha20_hmac_ops },
    },
    /* [0] is no group and stays { NULL, NULL }. */
    .kex = {
        [SB_GROUP_X25519] = { .ops = &sodium_x25519_ops },
        [SB_GROUP_P256] = { .missing = "libsodium has no NIST P-256" },
    },
};
