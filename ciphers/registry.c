/* The registry: which backends are compiled in (the list the Makefile makes from
 * ciphers/backends.txt and BACKENDS, build/<build>/gen/sb_backends.h), and how a (backend,
 * suite) or (backend, group) pair is resolved to ops or to the reason it is unavailable. A
 * backend left out of the build keeps its entry, with no descriptor, so that it can be listed
 * and refused by name instead of vanishing (mbedTLS's FEATURE_UNAVAILABLE). */
#include <string.h>

#include "ciphers/cipher.h"
#include "common/util.h"
#include "sb_backends.h"

/* Each entry of SB_BACKEND_LIST has built = 1 or 0: a built backend is declared, listed in
 * sb_backends and pointed at by its entry; one left out is only named. */
#define SB_DECL_1(name) extern const sb_backend sb_backend_##name;
#define SB_DECL_0(name)
#define SB_ITEM_1(name) &sb_backend_##name,
#define SB_ITEM_0(name)
#define SB_PTR_1(name) &sb_backend_##name
#define SB_PTR_0(name) NULL

#define SB_BACKEND(name, library, soname, built) SB_DECL_##built(name)
SB_BACKEND_LIST
#undef SB_BACKEND

const sb_backend *const sb_backends[] = {
#define SB_BACKEND(name, library, soname, built) SB_ITEM_##built(name)
    SB_BACKEND_LIST
#undef SB_BACKEND
    NULL,
};

const sb_backend_entry sb_backend_entries[] = {
#define SB_BACKEND(name, library, soname, built) {#name, library, soname, SB_PTR_##built(name)},
    SB_BACKEND_LIST
#undef SB_BACKEND
    {NULL, NULL, NULL, NULL},
};

const char sb_backends_built[] = SB_BACKENDS_BUILT;

const char sb_backend_not_built[] =
    "not built into this binary, made with BACKENDS=\"" SB_BACKENDS_BUILT "\" (rebuild with "
    "plain 'make' for every backend, or name this one in BACKENDS)";

const sb_backend_entry *sb_backend_entry_by_name(const char *name)
{
    for (const sb_backend_entry *e = sb_backend_entries; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

const sb_backend *sb_backend_by_name(const char *name)
{
    const sb_backend_entry *e = sb_backend_entry_by_name(name);
    return e ? e->built : NULL;
}

const void *sb_registry_nth(sb_kind kind, size_t i)
{
    switch (kind) {
    case SB_KIND_BACKEND:
        for (size_t n = 0; sb_backends[n]; n++)
            if (n == i)
                return sb_backends[n];
        return NULL;
    case SB_KIND_SUITE: return i < SB_SUITE_COUNT ? sb_suite_by_id((unsigned)i) : NULL;
    case SB_KIND_GROUP: return i + 1 < SB_GROUP_COUNT ? sb_group_by_id((unsigned)i + 1) : NULL;
    }
    return NULL;
}

const char *sb_registry_name(sb_kind kind, const void *item)
{
    switch (kind) {
    case SB_KIND_BACKEND: return ((const sb_backend *)item)->name;
    case SB_KIND_SUITE: return ((const sb_suite *)item)->name;
    case SB_KIND_GROUP: return ((const sb_group *)item)->name;
    }
    return NULL;
}

const void *sb_registry_find(sb_kind kind, const char *name, const char **why)
{
    const void *found = NULL;
    const char *reason = NULL;
    switch (kind) {
    case SB_KIND_BACKEND: {
        const sb_backend_entry *e = sb_backend_entry_by_name(name);
        found = e ? e->built : NULL;
        reason = e ? sb_backend_not_built : "unknown backend";
        break;
    }
    case SB_KIND_SUITE:
        found = sb_suite_by_name(name);
        reason = "unknown suite";
        break;
    case SB_KIND_GROUP:
        found = sb_group_by_name(name);
        reason = "unknown group";
        break;
    }
    if (!found && why)
        *why = reason;
    return found;
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
    if (impl->available && (reason = impl->available(suite)) != NULL)
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
    const sb_backend_entry *e = sb_backend_entry_by_name(name);
    const sb_suite *suite = sb_suite_by_name(colon + 1);
    if (!e || !e->built || !suite) {
        if (why)
            *why = !e          ? "unknown backend (see 'sealbench list')"
                   : !e->built ? sb_backend_not_built
                               : "unknown suite (see 'sealbench list')";
        return SB_ERR_ARG;
    }
    const sb_backend *be = e->built;
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
    const char *reason = NULL;
    if (!impl->ops || !impl->ops->keygen || !impl->ops->public_key || !impl->ops->derive)
        reason = impl->missing ? impl->missing : "not implemented by this backend";
    else if (impl->available)
        reason = impl->available(group);
    if (reason && why)
        *why = reason;
    return reason ? NULL : impl->ops;
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
