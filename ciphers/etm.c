/* chacha20-hmac-sha256 (PROTOCOL.md §4): RFC 8439 ChaCha20 from block counter 0, then
 * HMAC-SHA256 over aad || ct || u64le(len(aad)) || u64le(len(ct)).
 *
 * The composition is written once, here, over a backend's raw ChaCha20 and keyed HMAC, so that
 * every backend measures its own primitives through the same construction. The length block
 * makes the aad/ct boundary unambiguous, as in the RFC 8439 Poly1305 input. */
#include <stdlib.h>
#include <string.h>

#include "ciphers/cipher.h"
#include "common/util.h"

typedef struct etm_state {
    const sb_backend *be;
    void *mac;       /* keyed HMAC state of be */
    uint8_t key[32]; /* ChaCha20 key */
} etm_state;

static void etm_free(void *state)
{
    etm_state *st = state;
    if (!st)
        return;
    if (st->mac)
        st->be->hmac->free(st->mac);
    sb_wipe(st, sizeof *st);
    free(st);
}

static sb_err etm_init(void **state, const sb_backend *be, const sb_suite *suite,
                       const uint8_t *key, const uint8_t *mac_key)
{
    if (!be->chacha20_xor || !be->hmac)
        return SB_ERR_UNAVAILABLE;
    etm_state *st = calloc(1, sizeof *st);
    if (!st)
        return SB_ERR_NOMEM;
    st->be = be;
    memcpy(st->key, key, sizeof st->key);
    sb_err rc = be->hmac->init(&st->mac, mac_key, suite->mac_key_bytes);
    if (rc != SB_OK) {
        etm_free(st);
        return rc;
    }
    *state = st;
    return SB_OK;
}

static sb_err etm_mac(etm_state *st, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                      size_t ct_len, uint8_t tag[SB_HASH_BYTES])
{
    const sb_hmac_ops *h = st->be->hmac;
    uint8_t lens[16];
    sb_put_u64le(lens, aad_len);
    sb_put_u64le(lens + 8, ct_len);
    sb_err rc;
    if ((rc = h->begin(st->mac)) != SB_OK || (rc = h->update(st->mac, aad, aad_len)) != SB_OK ||
        (rc = h->update(st->mac, ct, ct_len)) != SB_OK ||
        (rc = h->update(st->mac, lens, sizeof lens)) != SB_OK)
        return rc;
    return h->finish(st->mac, tag);
}

static sb_err etm_seal(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    etm_state *st = state;
    sb_err rc = st->be->chacha20_xor(st->key, nonce, 0, in, in_len, out);
    if (rc != SB_OK)
        return rc;
    return etm_mac(st, aad, aad_len, out, in_len, out + in_len);
}

static sb_err etm_open(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    etm_state *st = state;
    uint8_t tag[SB_HASH_BYTES];
    if (in_len < SB_HASH_BYTES)
        return SB_ERR_ARG;
    size_t ct_len = in_len - SB_HASH_BYTES;
    /* Verify before decrypting: nothing derived from a forged ciphertext is ever produced. */
    sb_err rc = etm_mac(st, aad, aad_len, in, ct_len, tag);
    if (rc == SB_OK && !sb_ct_equal(tag, in + ct_len, SB_HASH_BYTES))
        rc = SB_ERR_AUTH;
    sb_wipe(tag, sizeof tag);
    if (rc == SB_OK)
        rc = st->be->chacha20_xor(st->key, nonce, 0, in, ct_len, out);
    if (rc != SB_OK)
        sb_wipe(out, ct_len);
    return rc;
}

const sb_aead_ops sb_etm_chacha20_hmac_ops = {
    .init = etm_init,
    .seal = etm_seal,
    .open = etm_open,
    .free = etm_free,
};
