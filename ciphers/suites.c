/* The suites and groups of PROTOCOL.md §1: what each algorithm is, independent of who
 * implements it. Tables are indexed by wire id. */
#include <string.h>

#include "ciphers/cipher.h"

static const sb_suite suites[SB_SUITE_COUNT] = {
    [SB_SUITE_NULL] = {"null", SB_SUITE_NULL, 0, 0, 0,
                       "framing only, no protection (baseline)"},
    [SB_SUITE_AES_128_GCM] = {"aes-128-gcm", SB_SUITE_AES_128_GCM, 16, 0, 16,
                              "AES-GCM, 96-bit nonce (SP 800-38D)"},
    [SB_SUITE_AES_256_GCM] = {"aes-256-gcm", SB_SUITE_AES_256_GCM, 32, 0, 16,
                              "AES-GCM, 96-bit nonce (SP 800-38D)"},
    [SB_SUITE_CHACHA20_POLY1305] = {"chacha20-poly1305", SB_SUITE_CHACHA20_POLY1305, 32, 0, 16,
                                    "RFC 8439 AEAD"},
    [SB_SUITE_CHACHA20_HMAC_SHA256] = {"chacha20-hmac-sha256", SB_SUITE_CHACHA20_HMAC_SHA256, 32,
                                       32, 32, "ChaCha20 then HMAC-SHA256 (encrypt-then-MAC)"},
};

static const sb_group groups[SB_GROUP_COUNT] = {
    [SB_GROUP_X25519] = {"x25519", SB_GROUP_X25519, 32, 32},
    [SB_GROUP_P256] = {"p256", SB_GROUP_P256, 32, 65},
};

const sb_suite *sb_suite_by_id(unsigned id)
{
    return id < SB_SUITE_COUNT ? &suites[id] : NULL;
}

const sb_suite *sb_suite_by_name(const char *name)
{
    for (unsigned i = 0; i < SB_SUITE_COUNT; i++)
        if (strcmp(suites[i].name, name) == 0)
            return &suites[i];
    return NULL;
}

const sb_group *sb_group_by_id(unsigned id)
{
    return id > 0 && id < SB_GROUP_COUNT ? &groups[id] : NULL;
}

const sb_group *sb_group_by_name(const char *name)
{
    for (unsigned i = 1; i < SB_GROUP_COUNT; i++)
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    return NULL;
}
