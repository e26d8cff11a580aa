/* The Mbed TLS backend: sealbench's primitives, AEADs and key exchanges on libmbedcrypto 2.28.
 *
 * It leans on the 2.28 module APIs (the *_ret hash names, mbedtls_gcm_*, mbedtls_chachapoly_*,
 * mbedtls_ecp_* and mbedtls_ecdh_compute_shared), on one process-wide CTR_DRBG seeded from
 * mbedtls_entropy, and on the generic constructions of ciphers/null.c and ciphers/etm.c for the
 * NULL and ChaCha20+HMAC suites. MBEDTLS_ERR_* codes stop here: err_from_mbedtls() and the few
 * call sites where a code means something specific (a bad tag, a bad peer point) turn them into
 * sb_err.
 *
 * Mbed TLS treats X25519 as a general Montgomery curve rather than as RFC 7748's function, so
 * the RFC's rules are applied here: scalars are clamped before mbedtls_ecp_mul sees them (it
 * refuses unclamped ones), the u-coordinate's top bit is masked, both are little-endian, and
 * the library's up-front refusal of small-order points is reported as the all-zero result. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/chacha20.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "ciphers/cipher.h"
#include "common/err.h"
#include "common/util.h"

/* Fail at build time, with the reason, rather than at run time with a hole in the table. */
#if !defined(MBEDTLS_CTR_DRBG_C) || !defined(MBEDTLS_ENTROPY_C) || !defined(MBEDTLS_SHA256_C) || \
    !defined(MBEDTLS_MD_C) || !defined(MBEDTLS_HKDF_C) || !defined(MBEDTLS_CHACHA20_C) ||        \
    !defined(MBEDTLS_CHACHAPOLY_C) || !defined(MBEDTLS_GCM_C) || !defined(MBEDTLS_AES_C) ||      \
    !defined(MBEDTLS_ECDH_C) || !defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED) ||                  \
    !defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
#error "ciphers/mbedtls.c: an Mbed TLS module it needs (see the condition above) is disabled"
#endif

/* gcm.h says decryption may not be done in place, but the built-in implementation reads each
 * ciphertext byte before writing the plaintext byte (Mbed-TLS/mbedtls#6646; fixed in the docs by
 * PR #7977, and ssl_msg.c itself decrypts in place). An _ALT implementation promises only what
 * the header says, so refuse to build against one rather than corrupt in-place opens. */
#if defined(MBEDTLS_GCM_ALT)
#error "ciphers/mbedtls.c opens GCM in place, which MBEDTLS_GCM_ALT implementations need not allow"
#endif

#define AEAD_TAG_BYTES 16
#define X25519_BYTES 32
#define P256_SCALAR_BYTES 32
#define P256_POINT_BYTES 65

/* ---- Errors ---------------------------------------------------------------------------------- */

/* The codes that mean the same thing wherever they come from. Call sites that give a code a
 * specific meaning (an invalid peer key, a small-order result) test for it before calling this. */
static sb_err err_from_mbedtls(int rc)
{
    switch (rc) {
    case 0:
        return SB_OK;
    case MBEDTLS_ERR_GCM_AUTH_FAILED:
    case MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED:
        return SB_ERR_AUTH;
    case MBEDTLS_ERR_MPI_ALLOC_FAILED:
    case MBEDTLS_ERR_ECP_ALLOC_FAILED:
    case MBEDTLS_ERR_MD_ALLOC_FAILED:
    case MBEDTLS_ERR_CIPHER_ALLOC_FAILED:
        return SB_ERR_NOMEM;
    case MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED:
    case MBEDTLS_ERR_ENTROPY_SOURCE_FAILED:
    case MBEDTLS_ERR_ENTROPY_NO_SOURCES_DEFINED:
    case MBEDTLS_ERR_ENTROPY_NO_STRONG_SOURCE:
    case MBEDTLS_ERR_ECP_RANDOM_FAILED:
        return SB_ERR_RANDOM;
    case MBEDTLS_ERR_GCM_BAD_INPUT:
    case MBEDTLS_ERR_CHACHA20_BAD_INPUT_DATA:
    case MBEDTLS_ERR_HKDF_BAD_INPUT_DATA:
    case MBEDTLS_ERR_MD_BAD_INPUT_DATA:
    case MBEDTLS_ERR_CIPHER_BAD_INPUT_DATA:
    case MBEDTLS_ERR_SHA256_BAD_INPUT_DATA:
    case MBEDTLS_ERR_MPI_BAD_INPUT_DATA:
    case MBEDTLS_ERR_ECP_BAD_INPUT_DATA:
        return SB_ERR_ARG;
    default:
        return SB_ERR_BACKEND;
    }
}

/* ---- Library identity and the process-wide DRBG ---------------------------------------------- */

static pthread_once_t version_once = PTHREAD_ONCE_INIT;
static char version_buf[18]; /* "x.y.z" needs 9; room for two-digit parts */

static void version_fill(void)
{
    mbedtls_version_get_string(version_buf);
}

static const char *mbed_version(void)
{
    pthread_once(&version_once, version_fill);
    return version_buf;
}

/* One DRBG for the process, as the other backends have one CSPRNG: seeding costs an entropy
 * poll, which has no place in a timed handshake. The mutex does not rely on the library being
 * built with MBEDTLS_THREADING_C. */
static pthread_once_t drbg_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t drbg_lock = PTHREAD_MUTEX_INITIALIZER;
static mbedtls_entropy_context drbg_entropy;
static mbedtls_ctr_drbg_context drbg;
static int drbg_seed_rc = MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;

static void drbg_seed(void)
{
    static const unsigned char pers[] = "sealbench";

    mbedtls_entropy_init(&drbg_entropy);
    mbedtls_ctr_drbg_init(&drbg);
    drbg_seed_rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &drbg_entropy, pers,
                                         sizeof pers - 1);
}

static sb_err mbed_setup(void)
{
    pthread_once(&drbg_once, drbg_seed);
    return drbg_seed_rc == 0 ? SB_OK : SB_ERR_RANDOM;
}

/* Shaped as Mbed TLS's f_rng so that the ECP code can draw its blinding values from the same
 * DRBG. Seeds on first use because kex ops may run before anyone calls setup(). */
static int drbg_fill(void *unused, unsigned char *out, size_t n)
{
    int rc = 0;

    if (mbed_setup() != SB_OK)
        return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
    pthread_mutex_lock(&drbg_lock);
    while (n > 0 && rc == 0) {
        size_t chunk = n < MBEDTLS_CTR_DRBG_MAX_REQUEST ? n : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        rc = mbedtls_ctr_drbg_random(&drbg, out, chunk);
        out += chunk;
        n -= chunk;
    }
    pthread_mutex_unlock(&drbg_lock);
    return rc;
}

static sb_err mbed_random(uint8_t *out, size_t n)
{
    if (n > 0 && out == NULL)
        return SB_ERR_ARG;
    /* Any DRBG failure, whatever its code, is a CSPRNG failure to the caller. */
    return drbg_fill(NULL, out, n) == 0 ? SB_OK : SB_ERR_RANDOM;
}

/* ---- Hashing --------------------------------------------------------------------------------- */

static sb_err mbed_sha256(const uint8_t *in, size_t n, uint8_t out[SB_HASH_BYTES])
{
    return err_from_mbedtls(mbedtls_sha256_ret(in, n, out, 0));
}

static const mbedtls_md_info_t *sha256_info(void)
{
    return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
}

static void hmac_free(void *state)
{
    if (state == NULL)
        return;
    mbedtls_md_free(state); /* zeroizes the padded key blocks */
    free(state);
}

static sb_err hmac_init(void **state, const uint8_t *key, size_t key_len)
{
    mbedtls_md_context_t *ctx;
    int rc;

    if (state == NULL || (key == NULL && key_len > 0))
        return SB_ERR_ARG;
    *state = NULL;
    ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return SB_ERR_NOMEM;
    mbedtls_md_init(ctx);
    rc = mbedtls_md_setup(ctx, sha256_info(), 1);
    if (rc == 0)
        rc = mbedtls_md_hmac_starts(ctx, key, key_len);
    if (rc != 0) {
        hmac_free(ctx);
        return err_from_mbedtls(rc);
    }
    *state = ctx;
    return SB_OK;
}

/* hmac_reset restarts from the stored inner pad, so the key schedule of init is paid once. */
static sb_err hmac_begin(void *state)
{
    return err_from_mbedtls(mbedtls_md_hmac_reset(state));
}

static sb_err hmac_update(void *state, const uint8_t *in, size_t n)
{
    return err_from_mbedtls(mbedtls_md_hmac_update(state, in, n));
}

static sb_err hmac_finish(void *state, uint8_t out[SB_HASH_BYTES])
{
    return err_from_mbedtls(mbedtls_md_hmac_finish(state, out));
}

static const sb_hmac_ops mbed_hmac = {
    .init = hmac_init,
    .begin = hmac_begin,
    .update = hmac_update,
    .finish = hmac_finish,
    .free = hmac_free,
};

static sb_err mbed_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                                size_t ikm_len, uint8_t prk[SB_HASH_BYTES])
{
    return err_from_mbedtls(mbedtls_hkdf_extract(sha256_info(), salt, salt_len, ikm, ikm_len, prk));
}

static sb_err mbed_hkdf_expand(const uint8_t prk[SB_HASH_BYTES], const uint8_t *info,
                               size_t info_len, uint8_t *out, size_t out_len)
{
    if (out == NULL || (info == NULL && info_len > 0))
        return SB_ERR_ARG;
    return err_from_mbedtls(
        mbedtls_hkdf_expand(sha256_info(), prk, SB_HASH_BYTES, info, info_len, out, out_len));
}

/* ---- ChaCha20 -------------------------------------------------------------------------------- */

static sb_err mbed_chacha20_xor(const uint8_t key[32], const uint8_t nonce[SB_NONCE_BYTES],
                                uint32_t counter, const uint8_t *in, size_t n, uint8_t *out)
{
    /* Mbed TLS lets the 32-bit block counter wrap silently, and other libraries carry it into
     * the nonce or refuse; refuse here too so that no backend produces a keystream the others
     * would not. */
    uint64_t blocks_left = ((uint64_t)1 << 32) - counter;
    if ((uint64_t)n > blocks_left * 64)
        return SB_ERR_ARG;
    return err_from_mbedtls(mbedtls_chacha20_crypt(key, nonce, counter, n, in, out));
}

/* ---- AES-GCM --------------------------------------------------------------------------------- */

/* One ops table for both AES key sizes, as cipher_wrap's gcm_aes_info does: the size comes
 * from the suite at init. */
static sb_err gcm_init(void **state, const sb_backend *be, const sb_suite *suite,
                       const uint8_t *key, const uint8_t *mac_key)
{
    mbedtls_gcm_context *ctx;
    int rc;

    if (state == NULL || suite == NULL || key == NULL || suite->tag_bytes != AEAD_TAG_BYTES ||
        (suite->key_bytes != 16 && suite->key_bytes != 32))
        return SB_ERR_ARG;
    *state = NULL;
    ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return SB_ERR_NOMEM;
    mbedtls_gcm_init(ctx);
    rc = mbedtls_gcm_setkey(ctx, MBEDTLS_CIPHER_ID_AES, key, (unsigned)suite->key_bytes * 8);
    if (rc != 0) {
        mbedtls_gcm_free(ctx);
        free(ctx);
        return err_from_mbedtls(rc);
    }
    *state = ctx;
    return SB_OK;
}

static sb_err gcm_seal(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    return err_from_mbedtls(mbedtls_gcm_crypt_and_tag(state, MBEDTLS_GCM_ENCRYPT, in_len, nonce,
                                                      SB_NONCE_BYTES, aad, aad_len, in, out,
                                                      AEAD_TAG_BYTES, out + in_len));
}

static sb_err gcm_open(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    size_t ct_len;
    int rc;

    if (in_len < AEAD_TAG_BYTES)
        return SB_ERR_ARG;
    ct_len = in_len - AEAD_TAG_BYTES;
    /* The tag sits after the ciphertext, beyond what is written, so in == out cannot clobber it
     * before it is checked. auth_decrypt compares it in constant time. */
    rc = mbedtls_gcm_auth_decrypt(state, ct_len, nonce, SB_NONCE_BYTES, aad, aad_len,
                                  in + ct_len, AEAD_TAG_BYTES, in, out);
    if (rc != 0) {
        /* Mbed TLS zeroizes on a bad tag already; wipe anyway, and on every other failure. */
        sb_wipe(out, ct_len);
        return err_from_mbedtls(rc);
    }
    return SB_OK;
}

static void gcm_free(void *state)
{
    if (state == NULL)
        return;
    mbedtls_gcm_free(state); /* zeroizes the AES key schedule and the GHASH table */
    free(state);
}

static const sb_aead_ops mbed_gcm = {
    .init = gcm_init,
    .seal = gcm_seal,
    .open = gcm_open,
    .free = gcm_free,
};

/* ---- ChaCha20-Poly1305 ----------------------------------------------------------------------- */

static sb_err chachapoly_init(void **state, const sb_backend *be, const sb_suite *suite,
                              const uint8_t *key, const uint8_t *mac_key)
{
    mbedtls_chachapoly_context *ctx;
    int rc;

    if (state == NULL || suite == NULL || key == NULL || suite->key_bytes != 32 ||
        suite->tag_bytes != AEAD_TAG_BYTES)
        return SB_ERR_ARG;
    *state = NULL;
    ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return SB_ERR_NOMEM;
    mbedtls_chachapoly_init(ctx);
    rc = mbedtls_chachapoly_setkey(ctx, key);
    if (rc != 0) {
        mbedtls_chachapoly_free(ctx);
        free(ctx);
        return err_from_mbedtls(rc);
    }
    *state = ctx;
    return SB_OK;
}

/* In place is allowed: chacha20.h requires input and output to be equal or disjoint, and the
 * decrypt path feeds each ciphertext chunk to Poly1305 before it is overwritten. */
static sb_err chachapoly_seal(void *state, const uint8_t nonce[SB_NONCE_BYTES],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in,
                              size_t in_len, uint8_t *out)
{
    return err_from_mbedtls(mbedtls_chachapoly_encrypt_and_tag(state, in_len, nonce, aad, aad_len,
                                                               in, out, out + in_len));
}

static sb_err chachapoly_open(void *state, const uint8_t nonce[SB_NONCE_BYTES],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in,
                              size_t in_len, uint8_t *out)
{
    size_t ct_len;
    int rc;

    if (in_len < AEAD_TAG_BYTES)
        return SB_ERR_ARG;
    ct_len = in_len - AEAD_TAG_BYTES;
    rc = mbedtls_chachapoly_auth_decrypt(state, ct_len, nonce, aad, aad_len, in + ct_len, in,
                                         out);
    if (rc != 0) {
        sb_wipe(out, ct_len);
        return err_from_mbedtls(rc);
    }
    return SB_OK;
}

static void chachapoly_free(void *state)
{
    if (state == NULL)
        return;
    mbedtls_chachapoly_free(state); /* zeroizes the key and the Poly1305 state */
    free(state);
}

static const sb_aead_ops mbed_chachapoly = {
    .init = chachapoly_init,
    .seal = chachapoly_seal,
    .open = chachapoly_open,
    .free = chachapoly_free,
};

/* ---- X25519 ---------------------------------------------------------------------------------- */

/* RFC 7748 §5 decodes the scalar with bits 0-2 and 255 cleared and bit 254 set. Mbed TLS does
 * not clamp: mbedtls_ecp_mul rejects any scalar that fails mbedtls_ecp_check_privkey, which
 * demands exactly that shape. So clamp a copy; the caller's bytes (a test vector's, say) may
 * not be clamped. The bytes are little-endian, hence read_binary_le. */
static int x25519_load_scalar(mbedtls_mpi *d, const uint8_t *priv)
{
    uint8_t k[X25519_BYTES];
    int rc;

    memcpy(k, priv, sizeof k);
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    rc = mbedtls_mpi_read_binary_le(d, k, sizeof k);
    sb_wipe(k, sizeof k);
    return rc;
}

static sb_err x25519_public_key(const uint8_t *priv, uint8_t *pub)
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
    mbedtls_ecp_point q;
    int rc;

    if (priv == NULL || pub == NULL)
        return SB_ERR_ARG;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_ecp_point_init(&q);

    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519);
    if (rc == 0)
        rc = x25519_load_scalar(&d, priv);
    if (rc == 0)
        rc = mbedtls_ecp_mul(&grp, &q, &d, &grp.G, drbg_fill, NULL);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary_le(&q.X, pub, X25519_BYTES);

    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    return err_from_mbedtls(rc);
}

static sb_err x25519_keygen(uint8_t *priv, uint8_t *pub)
{
    sb_err err;

    if (priv == NULL || pub == NULL)
        return SB_ERR_ARG;
    err = mbed_random(priv, X25519_BYTES);
    if (err == SB_OK)
        err = x25519_public_key(priv, pub);
    if (err != SB_OK)
        sb_wipe(priv, X25519_BYTES);
    return err;
}

static sb_err x25519_derive(const uint8_t *priv, const uint8_t *peer_pub, uint8_t *shared)
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d, z;
    mbedtls_ecp_point q;
    uint8_t u[X25519_BYTES];
    uint8_t acc = 0;
    sb_err err = SB_ERR_BACKEND;
    int rc;

    if (priv == NULL || peer_pub == NULL || shared == NULL)
        return SB_ERR_ARG;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&z);
    mbedtls_ecp_point_init(&q);

    /* RFC 7748 §5: the receiver MUST mask the top bit of the u-coordinate. Values in [p, 2^255)
     * are accepted and reduced by the field arithmetic, as the RFC asks. */
    memcpy(u, peer_pub, sizeof u);
    u[31] &= 127;

    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519);
    if (rc == 0)
        rc = x25519_load_scalar(&d, priv);
    if (rc == 0)
        rc = mbedtls_mpi_read_binary_le(&q.X, u, sizeof u);
    if (rc == 0)
        rc = mbedtls_mpi_lset(&q.Z, 1);
    if (rc != 0) {
        err = err_from_mbedtls(rc);
        goto exit;
    }

    /* RFC 7748 lets any u through and has the caller test the output for zero; Mbed TLS 2.28
     * refuses the inputs that would give it instead. check_pubkey on Curve25519 rejects exactly
     * the u < 2^255 that are of small order (0, 1, p-1, p, p+1 and the two order-8 points) and
     * nothing else that can reach it after the mask, so its refusal is the all-zero case. Asking
     * here, before the multiplication, keeps that apart from the multiplication's own errors. */
    if (mbedtls_ecp_check_pubkey(&grp, &q) != 0) {
        err = SB_ERR_ZERO_SHARED;
        goto exit;
    }
    rc = mbedtls_ecdh_compute_shared(&grp, &z, &q, &d, drbg_fill, NULL);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary_le(&z, shared, SB_SHARED_BYTES);
    if (rc != 0) {
        err = err_from_mbedtls(rc);
        goto exit;
    }

    /* A backstop in case the library's list ever misses a point: OR-accumulate, so that no
     * branch depends on the secret bytes before the verdict. */
    for (size_t i = 0; i < SB_SHARED_BYTES; i++)
        acc |= shared[i];
    err = acc == 0 ? SB_ERR_ZERO_SHARED : SB_OK;

exit:
    if (err != SB_OK)
        sb_wipe(shared, SB_SHARED_BYTES);
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&z);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    return err;
}

static const sb_kex_ops mbed_x25519 = {
    .keygen = x25519_keygen,
    .public_key = x25519_public_key,
    .derive = x25519_derive,
};

/* ---- P-256 ----------------------------------------------------------------------------------- */

static int p256_write_public(const mbedtls_ecp_group *grp, const mbedtls_ecp_point *q,
                             uint8_t *pub)
{
    size_t olen = 0;
    int rc = mbedtls_ecp_point_write_binary(grp, q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub,
                                            P256_POINT_BYTES);
    if (rc == 0 && olen != P256_POINT_BYTES)
        rc = MBEDTLS_ERR_ECP_BAD_INPUT_DATA; /* the point at infinity; cannot happen for d·G */
    return rc;
}

static sb_err p256_public_key(const uint8_t *priv, uint8_t *pub)
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
    mbedtls_ecp_point q;
    sb_err err;
    int rc;

    if (priv == NULL || pub == NULL)
        return SB_ERR_ARG;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_ecp_point_init(&q);

    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc == 0)
        rc = mbedtls_mpi_read_binary(&d, priv, P256_SCALAR_BYTES);
    if (rc != 0) {
        err = err_from_mbedtls(rc);
        goto exit;
    }
    if (mbedtls_ecp_check_privkey(&grp, &d) != 0) { /* 0 or >= n */
        err = SB_ERR_ARG;
        goto exit;
    }
    rc = mbedtls_ecp_mul(&grp, &q, &d, &grp.G, drbg_fill, NULL);
    if (rc == 0)
        rc = p256_write_public(&grp, &q, pub);
    err = err_from_mbedtls(rc);

exit:
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    return err;
}

static sb_err p256_keygen(uint8_t *priv, uint8_t *pub)
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
    mbedtls_ecp_point q;
    int rc;

    if (priv == NULL || pub == NULL)
        return SB_ERR_ARG;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_ecp_point_init(&q);

    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc == 0)
        rc = mbedtls_ecp_gen_keypair(&grp, &d, &q, drbg_fill, NULL);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary(&d, priv, P256_SCALAR_BYTES);
    if (rc == 0)
        rc = p256_write_public(&grp, &q, pub);
    if (rc != 0)
        sb_wipe(priv, P256_SCALAR_BYTES);

    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    return err_from_mbedtls(rc);
}

static sb_err p256_derive(const uint8_t *priv, const uint8_t *peer_pub, uint8_t *shared)
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d, z;
    mbedtls_ecp_point q;
    sb_err err;
    int rc;

    if (priv == NULL || peer_pub == NULL || shared == NULL)
        return SB_ERR_ARG;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&z);
    mbedtls_ecp_point_init(&q);

    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc != 0) {
        err = err_from_mbedtls(rc);
        goto exit;
    }
    /* read_binary refuses a wrong format byte (compressed points are unsupported in 2.28, and
     * the wire carries only uncompressed ones) but not an off-curve point; check_pubkey does
     * the curve equation and the coordinate ranges. Either failure is the peer's fault. */
    if (mbedtls_ecp_point_read_binary(&grp, &q, peer_pub, P256_POINT_BYTES) != 0 ||
        mbedtls_ecp_check_pubkey(&grp, &q) != 0) {
        err = SB_ERR_POINT;
        goto exit;
    }
    rc = mbedtls_mpi_read_binary(&d, priv, P256_SCALAR_BYTES);
    if (rc != 0) {
        err = err_from_mbedtls(rc);
        goto exit;
    }
    if (mbedtls_ecp_check_privkey(&grp, &d) != 0) {
        err = SB_ERR_ARG;
        goto exit;
    }
    /* The DRBG feeds the coordinate blinding that guards the scalar multiplication. */
    rc = mbedtls_ecdh_compute_shared(&grp, &z, &q, &d, drbg_fill, NULL);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary(&z, shared, SB_SHARED_BYTES);
    err = err_from_mbedtls(rc);

exit:
    if (err != SB_OK)
        sb_wipe(shared, SB_SHARED_BYTES);
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&z);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    return err;
}

static const sb_kex_ops mbed_p256 = {
    .keygen = p256_keygen,
    .public_key = p256_public_key,
    .derive = p256_derive,
};

/* ---- The backend ----------------------------------------------------------------------------- */

const sb_backend sb_backend_mbedtls = {
    .name = "mbedtls",
    .version = mbed_version,
    .setup = mbed_setup,
    .random = mbed_random,
    .sha256 = mbed_sha256,
    .hmac = &mbed_hmac,
    .hkdf_extract = mbed_hkdf_extract,
    .hkdf_expand = mbed_hkdf_expand,
    .chacha20_xor = mbed_chacha20_xor,
    .aead = {
        [SB_SUITE_NULL] = {.ops = &sb_null_aead_ops},
        [SB_SUITE_AES_128_GCM] = {.ops = &mbed_gcm},
        [SB_SUITE_AES_256_GCM] = {.ops = &mbed_gcm},
        [SB_SUITE_CHACHA20_POLY1305] = {.ops = &mbed_chachapoly},
        [SB_SUITE_CHACHA20_HMAC_SHA256] = {.ops = &sb_etm_chacha20_hmac_ops},
    },
    .kex = {
        [0] = {NULL, NULL},
        [SB_GROUP_X25519] = {.ops = &mbed_x25519},
        [SB_GROUP_P256] = {.ops = &mbed_p256},
    },
};
