/* The PSK-authenticated ephemeral ECDH handshake and key schedule of PROTOCOL.md §3.
 *
 *   device                                   gateway
 *   HELLO  = 01 01 group suite epoch nonce_d pub_d mac_d  -->
 *                                         <--  ACCEPT = 01 02 group suite epoch nonce_g pub_g mac_g
 *
 * The functions are layered so that test vectors can drive every step with fixed ephemeral
 * values: sb_hs_build / sb_hs_parse / sb_hs_verify work on bytes, sb_key_schedule derives the
 * session keys, and the sb_hs_device_* / sb_hs_gateway_answer calls combine them with fresh
 * randomness the way a live peer does. Every secret (ephemeral private keys, the ECDH result,
 * the PRK) is wiped before these functions return. */
#ifndef SB_PROTOCOL_HANDSHAKE_H
#define SB_PROTOCOL_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "ciphers/cipher.h"

#define SB_PROTOCOL_VERSION 0x01
#define SB_HS_HELLO 0x01
#define SB_HS_ACCEPT 0x02
#define SB_HS_NONCE_BYTES 16
#define SB_HS_HEADER_BYTES 8 /* version, type, group, suite, u32be epoch */
#define SB_HS_MAC_BYTES 32
#define SB_HS_MAX_BYTES (SB_HS_HEADER_BYTES + SB_HS_NONCE_BYTES + SB_MAX_PUB_BYTES + SB_HS_MAC_BYTES)
#define SB_PSK_BYTES 32
#define SB_DEVICE_ID_MAX 64

/* Length of a HELLO or ACCEPT for a group. */
size_t sb_hs_len(const sb_group *group);

/* 1 if id is a valid device id (1 to 64 bytes of A-Z a-z 0-9 _ . -). */
int sb_device_id_valid(const char *id);

/* hs_key = HKDF(salt "sealbench v1 hs", IKM psk, info device_id, 32). psk NULL: no-auth mode,
 * 32 zero bytes. */
sb_err sb_hs_key(const sb_backend *be, const uint8_t *psk, const char *device_id,
                 uint8_t hs_key[SB_HASH_BYTES]);

/* The ephemeral inputs of one side of one handshake. */
typedef struct sb_hs_ephemeral {
    uint8_t nonce[SB_HS_NONCE_BYTES];
    uint8_t priv[SB_MAX_PRIV_BYTES];
    uint8_t pub[SB_MAX_PUB_BYTES];
} sb_hs_ephemeral;

/* Fresh nonce and key pair from be's CSPRNG. */
sb_err sb_hs_ephemeral_new(const sb_backend *be, const sb_group *group, sb_hs_ephemeral *eph);

/* Serialise a HELLO (hello == NULL) or an ACCEPT (hello is the HELLO it answers, whose bytes
 * its MAC covers) into out, sb_hs_len(group) bytes. */
sb_err sb_hs_build(const sb_backend *be, uint8_t type, const sb_group *group,
                   const sb_suite *suite, uint32_t epoch, const uint8_t *nonce,
                   const uint8_t *pub, const uint8_t hs_key[SB_HASH_BYTES],
                   const uint8_t *hello, size_t hello_len, uint8_t *out);

typedef struct sb_hs_msg {
    uint8_t type;
    const sb_group *group;
    const sb_suite *suite;
    uint32_t epoch;
    const uint8_t *nonce; /* points into the message */
    const uint8_t *pub;
    const uint8_t *mac;
} sb_hs_msg;

/* Structural checks: version, the expected type, a known group and suite, and a length that
 * fits the group. SB_ERR_HANDSHAKE otherwise. No MAC check. */
sb_err sb_hs_parse(const uint8_t *msg, size_t len, uint8_t expect_type, sb_hs_msg *out);

/* Verify the MAC of a parsed message in constant time; SB_ERR_HS_AUTH if it does not match. */
sb_err sb_hs_verify(const sb_backend *be, const uint8_t hs_key[SB_HASH_BYTES],
                    const uint8_t *msg, size_t len, const uint8_t *hello, size_t hello_len);

/* Keys for one direction. */
typedef struct sb_dir_keys {
    uint8_t key[SB_MAX_KEY_BYTES];
    uint8_t iv[SB_NONCE_BYTES];
    uint8_t mac[SB_HASH_BYTES];
} sb_dir_keys;

typedef struct sb_keys {
    sb_dir_keys up, down;
} sb_keys;

/* th = SHA-256(HELLO || ACCEPT); prk = Extract(hs_key, shared); the six Expand outputs. Wipes
 * prk. The caller wipes shared and, after installing them, the keys (sb_wipe). */
sb_err sb_key_schedule(const sb_backend *be, const sb_suite *suite,
                       const uint8_t shared[SB_SHARED_BYTES],
                       const uint8_t hs_key[SB_HASH_BYTES], const uint8_t *hello,
                       size_t hello_len, const uint8_t *accept, size_t accept_len,
                       sb_keys *keys);

/* ---- Peers ------------------------------------------------------------------------------- */

/* A device between sending HELLO and receiving ACCEPT. */
typedef struct sb_hs_device {
    const sb_backend *be;
    const sb_group *group;
    const sb_suite *suite;
    uint32_t epoch;
    uint8_t hs_key[SB_HASH_BYTES];
    sb_hs_ephemeral eph;
    uint8_t hello[SB_HS_MAX_BYTES];
    size_t hello_len;
} sb_hs_device;

/* Start a handshake: ephemeral values from eph if given (test vectors), else fresh. Writes the
 * HELLO to st->hello. */
sb_err sb_hs_device_start(sb_hs_device *st, const sb_backend *be, const sb_group *group,
                          const sb_suite *suite, uint32_t epoch,
                          const uint8_t hs_key[SB_HASH_BYTES], const sb_hs_ephemeral *eph);

/* Check an ACCEPT (same group, suite and epoch, valid MAC) and derive the keys. The state is
 * wiped whatever the outcome, except on a reject, after which the device may still take the
 * genuine ACCEPT (a forged one must not end the handshake). */
sb_err sb_hs_device_finish(sb_hs_device *st, const uint8_t *accept, size_t accept_len,
                           sb_keys *keys);

/* Wipe a device handshake state (abandoned handshakes). */
void sb_hs_device_clear(sb_hs_device *st);

/* What a gateway accepts: bit (1 << id) set for each allowed suite and group. */
typedef struct sb_hs_policy {
    unsigned suites;
    unsigned groups;
} sb_hs_policy;

/* Answer a HELLO: parse, check the policy, verify mac_d, require epoch > last_epoch, then make
 * the ACCEPT (ephemeral values from eph if given, else fresh) and derive the keys. On success
 * *msg holds the HELLO's parsed fields (group, suite, epoch). Nothing is written to accept or
 * keys on a reject. */
sb_err sb_hs_gateway_answer(const sb_backend *be, const sb_hs_policy *policy,
                            const uint8_t hs_key[SB_HASH_BYTES], uint32_t last_epoch,
                            const uint8_t *hello, size_t hello_len,
                            const sb_hs_ephemeral *eph, uint8_t *accept, size_t *accept_len,
                            sb_hs_msg *msg, sb_keys *keys);

#endif
