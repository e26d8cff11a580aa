/* The `null` suite: framing without protection, the baseline that isolates what the
 * cryptography costs from what the protocol and transport cost. Every backend points its
 * SB_SUITE_NULL entry here so that the baseline is the same code whichever backend is named. */
#include <string.h>

#include "ciphers/cipher.h"

/* A non-NULL state so that callers treat null like any keyed suite. */
static int null_state;

static sb_err null_init(void **state, const sb_backend *be, const sb_suite *suite,
                        const uint8_t *key, const uint8_t *mac_key)
{
    *state = &null_state;
    return SB_OK;
}

static sb_err null_copy(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    if (in_len && out != in)
        memmove(out, in, in_len);
    return SB_OK;
}

static void null_free(void *state)
{
}

const sb_aead_ops sb_null_aead_ops = {
    .init = null_init,
    .seal = null_copy,
    .open = null_copy,
    .free = null_free,
};
