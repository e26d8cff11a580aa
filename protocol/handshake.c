/* Handshake and key schedule (protocol/handshake.h, PROTOCOL.md §3). Backend-neutral: every
 * primitive comes through the sb_backend given, so any library can play either role. */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "protocol/handshake.h"

size_t sb_hs_len(const sb_group *group)
{
    return SB_HS_HEADER_BYTES + SB_HS_NONCE_BYTES + group->pub_bytes + SB_HS_MAC_BYTES;
}

int sb_device_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > SB_DEVICE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

sb_err sb_hs_key(const sb_backend *be, const uint8_t *psk, const char *device_id,
                 uint8_t hs_key[SB_HASH_BYTES])
{
    static const uint8_t no_psk[SB_PSK_BYTES];
    static const char salt[] = "sealbench v1 hs";
    if (!sb_device_id_valid(device_id))
        return SB_ERR_ARG;
    return sb_hkdf(be, (const uint8_t *)salt, sizeof salt - 1, psk ? psk : no_psk, SB_PSK_BYTES,
                   (const uint8_t *)device_id, strlen(device_id), hs_key, SB_HASH_BYTES);
}

sb_err sb_hs_ephemeral_new(const sb_backend *be, const sb_group *group, sb_hs_ephemeral *eph)
{
    const char *why = NULL;
    const sb_kex_ops *kex = sb_kex_get(be, group, &why);
    if (!kex)
        return SB_ERR_UNAVAILABLE;
    sb_err rc = be->random(eph->nonce, sizeof eph->nonce);
    if (rc == SB_OK)
        rc = kex->keygen(eph->priv, eph->pub);
    if (rc != SB_OK)
        sb_wipe(eph, sizeof *eph);
    return rc;
}

/* mac = HMAC(hs_key, [hello] || msg[0 .. body_len)) */
static sb_err hs_mac(const sb_backend *be, const uint8_t hs_key[SB_HASH_BYTES],
                     const uint8_t *hello, size_t hello_len, const uint8_t *msg, size_t body_len,
                     uint8_t mac[SB_HASH_BYTES])
{
    void *st = NULL;
    sb_err rc = be->hmac->init(&st, hs_key, SB_HASH_BYTES);
    if (rc != SB_OK)
        return rc;
    if ((rc = be->hmac->begin(st)) == SB_OK && (!hello || (rc = be->hmac->update(st, hello, hello_len)) == SB_OK) &&
        (rc = be->hmac->update(st, msg, body_len)) == SB_OK)
        rc = be->hmac->finish(st, mac);
    be->hmac->free(st);
    return rc;
}

sb_err sb_hs_build(const sb_backend *be, uint8_t type, const sb_group *group,
                   const sb_suite *suite, uint32_t epoch, const uint8_t *nonce,
                   const uint8_t *pub, const uint8_t hs_key[SB_HASH_BYTES],
                   const uint8_t *hello, size_t hello_len, uint8_t *out)
{
    if ((type == SB_HS_ACCEPT) != (hello != NULL))
        return SB_ERR_ARG;
    uint8_t *p = out;
    *p++ = SB_PROTOCOL_VERSION;
    *p++ = type;
    *p++ = group->id;
    *p++ = suite->id;
    sb_put_u32be(p, epoch);
    p += 4;
    memcpy(p, nonce, SB_HS_NONCE_BYTES);
    p += SB_HS_NONCE_BYTES;
    memcpy(p, pub, group->pub_bytes);
    p += group->pub_bytes;
    return hs_mac(be, hs_key, hello, hello_len, out, (size_t)(p - out), p);
}

sb_err sb_hs_parse(const uint8_t *msg, size_t len, uint8_t expect_type, sb_hs_msg *out)
{
    if (len < SB_HS_HEADER_BYTES || msg[0] != SB_PROTOCOL_VERSION || msg[1] != expect_type)
        return SB_ERR_HANDSHAKE;
    const sb_group *group = sb_group_by_id(msg[2]);
    const sb_suite *suite = sb_suite_by_id(msg[3]);
    if (!group || !suite || len != sb_hs_len(group))
        return SB_ERR_HANDSHAKE;
    out->type = msg[1];
    out->group = group;
    out->suite = suite;
    out->epoch = sb_get_u32be(msg + 4);
    out->nonce = msg + SB_HS_HEADER_BYTES;
    out->pub = out->nonce + SB_HS_NONCE_BYTES;
    out->mac = out->pub + group->pub_bytes;
    return SB_OK;
}

sb_err sb_hs_verify(const sb_backend *be, const uint8_t hs_key[SB_HASH_BYTES],
                    const uint8_t *msg, size_t len, const uint8_t *hello, size_t hello_len)
{
    uint8_t mac[SB_HASH_BYTES];
    if (len < SB_HS_MAC_BYTES)
        return SB_ERR_HANDSHAKE;
    sb_err rc = hs_mac(be, hs_key, hello, hello_len, msg, len - SB_HS_MAC_BYTES, mac);
    if (rc == SB_OK && !sb_ct_equal(mac, msg + len - SB_HS_MAC_BYTES, SB_HS_MAC_BYTES))
        rc = SB_ERR_HS_AUTH;
    sb_wipe(mac, sizeof mac);
    return rc;
}

/* info = "sealbench v1 " || dir || " " || what || th */
static sb_err expand_label(const sb_backend *be, const uint8_t prk[SB_HASH_BYTES],
                           const char *dir, const char *what, const uint8_t th[SB_HASH_BYTES],
                           uint8_t *out, size_t out_len)
{
    uint8_t info[64];
    int n = snprintf((char *)info, sizeof info, "sealbench v1 %s %s", dir, what);
    memcpy(info + n, th, SB_HASH_BYTES);
    return be->hkdf_expand(prk, info, (size_t)n + SB_HASH_BYTES, out, out_len);
}

sb_err sb_key_schedule(const sb_backend *be, const sb_suite *suite,
                       const uint8_t shared[SB_SHARED_BYTES],
                       const uint8_t hs_key[SB_HASH_BYTES], const uint8_t *hello,
                       size_t hello_len, const uint8_t *accept, size_t accept_len,
                       sb_keys *keys)
{
    uint8_t transcript[2 * SB_HS_MAX_BYTES], th[SB_HASH_BYTES], prk[SB_HASH_BYTES];
    sb_err rc;
    if (hello_len > SB_HS_MAX_BYTES || accept_len > SB_HS_MAX_BYTES)
        return SB_ERR_ARG;
    memcpy(transcript, hello, hello_len);
    memcpy(transcript + hello_len, accept, accept_len);
    memset(keys, 0, sizeof *keys);
    if ((rc = be->sha256(transcript, hello_len + accept_len, th)) != SB_OK ||
        (rc = be->hkdf_extract(hs_key, SB_HASH_BYTES, shared, SB_SHARED_BYTES, prk)) != SB_OK)
        goto out;
    struct { const char *name; sb_dir_keys *k; } dirs[] = {{"up", &keys->up}, {"down", &keys->down}};
    for (int i = 0; i < 2 && rc == SB_OK; i++) {
        if (suite->key_bytes)
            rc = expand_label(be, prk, dirs[i].name, "key", th, dirs[i].k->key, suite->key_bytes);
        if (rc == SB_OK)
            rc = expand_label(be, prk, dirs[i].name, "iv", th, dirs[i].k->iv, SB_NONCE_BYTES);
        if (rc == SB_OK && suite->mac_key_bytes)
            rc = expand_label(be, prk, dirs[i].name, "mac", th, dirs[i].k->mac, suite->mac_key_bytes);
    }
out:
    sb_wipe(prk, sizeof prk);
    if (rc != SB_OK)
        sb_wipe(keys, sizeof *keys);
    return rc;
}

/* ECDH then the key schedule; wipes the shared secret. */
static sb_err derive_keys(const sb_backend *be, const sb_kex_ops *kex, const sb_suite *suite,
                          const uint8_t *priv, const uint8_t *peer_pub,
                          const uint8_t hs_key[SB_HASH_BYTES], const uint8_t *hello,
                          size_t hello_len, const uint8_t *accept, size_t accept_len,
                          sb_keys *keys)
{
    uint8_t shared[SB_SHARED_BYTES];
    sb_err rc = kex->derive(priv, peer_pub, shared);
    if (rc == SB_OK)
        rc = sb_key_schedule(be, suite, shared, hs_key, hello, hello_len, accept, accept_len, keys);
    sb_wipe(shared, sizeof shared);
    return rc;
}

sb_err sb_hs_device_start(sb_hs_device *st, const sb_backend *be, const sb_group *group,
                          const sb_suite *suite, uint32_t epoch,
                          const uint8_t hs_key[SB_HASH_BYTES], const sb_hs_ephemeral *eph)
{
    memset(st, 0, sizeof *st);
    st->be = be;
    st->group = group;
    st->suite = suite;
    st->epoch = epoch;
    memcpy(st->hs_key, hs_key, SB_HASH_BYTES);
    sb_err rc = eph ? SB_OK : sb_hs_ephemeral_new(be, group, &st->eph);
    if (eph)
        st->eph = *eph;
    if (rc == SB_OK)
        rc = sb_hs_build(be, SB_HS_HELLO, group, suite, epoch, st->eph.nonce, st->eph.pub,
                         hs_key, NULL, 0, st->hello);
    if (rc != SB_OK) {
        sb_hs_device_clear(st);
        return rc;
    }
    st->hello_len = sb_hs_len(group);
    return SB_OK;
}

void sb_hs_device_clear(sb_hs_device *st)
{
    sb_wipe(st, sizeof *st);
}

sb_err sb_hs_device_finish(sb_hs_device *st, const uint8_t *accept, size_t accept_len,
                           sb_keys *keys)
{
    sb_hs_msg m;
    const char *why = NULL;
    const sb_kex_ops *kex = sb_kex_get(st->be, st->group, &why);
    if (!kex)
        return SB_ERR_UNAVAILABLE;
    sb_err rc = sb_hs_parse(accept, accept_len, SB_HS_ACCEPT, &m);
    if (rc != SB_OK)
        return rc;
    if (m.group != st->group || m.suite != st->suite || m.epoch != st->epoch)
        return SB_ERR_HANDSHAKE;
    if ((rc = sb_hs_verify(st->be, st->hs_key, accept, accept_len, st->hello, st->hello_len)) != SB_OK)
        return rc;
    /* Authentic from here: whatever ECDH says, this handshake is over. */
    rc = derive_keys(st->be, kex, st->suite, st->eph.priv, m.pub, st->hs_key, st->hello,
                     st->hello_len, accept, accept_len, keys);
    sb_hs_device_clear(st);
    return rc;
}

sb_err sb_hs_gateway_answer(const sb_backend *be, const sb_hs_policy *policy,
                            const uint8_t hs_key[SB_HASH_BYTES], uint32_t last_epoch,
                            const uint8_t *hello, size_t hello_len,
                            const sb_hs_ephemeral *eph, uint8_t *accept, size_t *accept_len,
                            sb_hs_msg *msg, sb_keys *keys)
{
    sb_hs_ephemeral mine;
    sb_hs_msg m;
    const char *why = NULL;
    sb_err rc = sb_hs_parse(hello, hello_len, SB_HS_HELLO, &m);
    if (rc != SB_OK)
        return rc;
    if (!(policy->groups & 1u << m.group->id) || !(policy->suites & 1u << m.suite->id))
        return SB_ERR_HANDSHAKE;
    const sb_kex_ops *kex = sb_kex_get(be, m.group, &why);
    if (!kex)
        return SB_ERR_HANDSHAKE;
    if ((rc = sb_hs_verify(be, hs_key, hello, hello_len, NULL, 0)) != SB_OK)
        return rc;
    /* Only an authentic HELLO may move the epoch; checked after the MAC so that a forger
     * learns nothing about the gateway's epoch state. */
    if (m.epoch <= last_epoch)
        return SB_ERR_STALE_EPOCH;
    if (eph)
        mine = *eph;
    else if ((rc = sb_hs_ephemeral_new(be, m.group, &mine)) != SB_OK)
        return rc;
    uint8_t out[SB_HS_MAX_BYTES];
    size_t out_len = sb_hs_len(m.group);
    rc = sb_hs_build(be, SB_HS_ACCEPT, m.group, m.suite, m.epoch, mine.nonce, mine.pub, hs_key,
                     hello, hello_len, out);
    if (rc == SB_OK)
        rc = derive_keys(be, kex, m.suite, mine.priv, m.pub, hs_key, hello, hello_len, out,
                         out_len, keys);
    sb_wipe(&mine, sizeof mine);
    if (rc != SB_OK)
        return rc;
    memcpy(accept, out, out_len);
    *accept_len = out_len;
    if (msg)
        *msg = m;
    return SB_OK;
}
