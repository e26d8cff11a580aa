/* The registry: which backends are compiled in, and how a (backend, suite) or (backend, group)
 * pair is resolved to ops or to the reason it is unavailable. */
#include <string.h>

#include "ciphers/cipher.h"
#include "common/util.h"

extern const sb_backend sb_backend_openssl;
extern const sb_backend sb_backend_sodium;
extern const sb_backend sb_backend_mbedtls;

const sb_backend *const sb_backends[] = {
    &sb_backend_openssl,
    &sb_backend_sodium,
    &sb_backend_mbedtls,
    NULL,
};

const sb_backend *sb_backend_by_name(const char *name)
{
    for (const sb_backend *const *be = sb_backends; *be; be++)
        if (strcmp((*be)->name, name) == 0)
            return *be;
    return NULL;
}

/* Like fio's check_engine_ops(): an ops table with a missing hook is refused with a reason
 * rather than crashing at the first seal. */
static const char *aead_ops_incomplete(const sb_aead_ops *ops)
{
    if (!ops->init || !ops->seal || !ops->open || !ops->free)
        return "backend bug: AEAD ops table is missing a function";
    return NULL;
}

sb_err sb_cipher_get(const sb_backend *be, const sb_suite *suite, sb_cipher *out,
                     const char **why)
{
    const char *reason = NULL;
    if (!be || !suite || !out)
        return SB_ERR_ARG;
    if (be->setup && be->setup() != SB_OK) {
        reason = "library initialisation failed";
        goto unavailable;
    }
    const sb_aead_impl *impl = &be->aead[suite->id];
    if (!impl->ops) {
        reason = impl->missing ? impl->missing : "not implemented by this backend";
        goto unavailable;
    }
    if ((reason = aead_ops_incomplete(impl->ops)) != NULL)
        goto unavailable;
    if (impl->available && (reason = impl->available()) != NULL)
        goto unavailable;
    if (impl->ops == &sb_etm_chacha20_hmac_ops && (!be->chacha20_xor || !be->hmac)) {
        reason = "backend lacks raw ChaCha20 or HMAC-SHA256";
        goto unavailable;
    }
    out->backend = be;
    out->suite = suite;
    out->ops = impl->ops;
    return SB_OK;

unavailable:
    if (why)
        *why = reason;
    return SB_ERR_UNAVAILABLE;
}

sb_err sb_cipher_lookup(const char *spec, sb_cipher *out, const char **why)
{
    const char *colon = strchr(spec, ':');
    char name[32];
    if (!colon || (size_t)(colon - spec) >= sizeof name) {
        if (why)
            *why = "expected BACKEND:SUITE, e.g. openssl:aes-128-gcm";
        return SB_ERR_ARG;
    }
    memcpy(name, spec, (size_t)(colon - spec));
    name[colon - spec] = '\0';
    const sb_backend *be = sb_backend_by_name(name);
    const sb_suite *suite = sb_suite_by_name(colon + 1);
    if (!be || !suite) {
        if (why)
            *why = !be ? "unknown backend (see 'sealbench list')" : "unknown suite (see 'sealbench list')";
        return SB_ERR_ARG;
    }
    return sb_cipher_get(be, suite, out, why);
}

const sb_kex_ops *sb_kex_get(const sb_backend *be, const sb_group *group, const char **why)
{
    if (be->setup && be->setup() != SB_OK) {
        if (why)
            *why = "library initialisation failed";
        return NULL;
    }
    const sb_kex_impl *impl = &be->kex[group->id];
    if (!impl->ops || !impl->ops->keygen || !impl->ops->public_key || !impl->ops->derive) {
        if (why)
            *why = impl->missing ? impl->missing : "not implemented by this backend";
        return NULL;
    }
    return impl->ops;
}

sb_err sb_hkdf(const sb_backend *be, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
               size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out,
               size_t out_len)
{
    uint8_t prk[SB_HASH_BYTES];
    sb_err rc = be->hkdf_extract(salt, salt_len, ikm, ikm_len, prk);
    if (rc == SB_OK)
        rc = be->hkdf_expand(prk, info, info_len, out, out_len);
    sb_wipe(prk, sizeof prk);
    return rc;
}

sb_err sb_hmac(const sb_backend *be, const uint8_t *key, size_t key_len, const uint8_t *in,
               size_t n, uint8_t out[SB_HASH_BYTES])
{
    void *st = NULL;
    sb_err rc = be->hmac->init(&st, key, key_len);
    if (rc != SB_OK)
        return rc;
    if ((rc = be->hmac->begin(st)) == SB_OK && (rc = be->hmac->update(st, in, n)) == SB_OK)
        rc = be->hmac->finish(st, out);
    be->hmac->free(st);
    return rc;
}
